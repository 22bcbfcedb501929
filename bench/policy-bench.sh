#!/usr/bin/env bash
# policy-bench.sh - the policy service benchmark: hijackd against the DUNNO floor (and postfwd2).
#
# Uses ../shared/bench/policybench.c (the Postfix policy load generator: N threads, one persistent
# connection each, one request at a time, as Postfix smtpd) and ../shared/bench/dunno_policy.c (the
# protocol's floor: answers DUNNO, does nothing). Everything runs on 127.0.0.1, in one run:
#   throughput: END-OF-MESSAGE mode (1-5 recipients a message), c = CONCS (1 8 32 1000), RUNS
#     alternating runs of SECS s each, against hijackd (SQLite store, examples/mdaemon.conf: lock
#     after 500 recipients in 30 min; alerts on, the default alert_to=postmaster), the floor
#     (1 thread), and postfwd2 when installed (Debian package postfwd, the ruleset of
#     ../shared/bench/peer-configs/postfwd.cf), once per MODE:
#       storm:  STORM_USERS (500) new user names in every run, so every run locks its users again
#               (a lock storm: 500 locks, incidents and alerts a run, at any speed that gets
#               through 83,000 requests a run);
#       steady: the same STEADY_USERS (100000) users in every run; none ever reaches the limit, so
#               no lock, no incident: the policy answers alone;
#   correctness: -u 5 -n 3000 at c = 8 and 32 against hijackd: every user must be refused and no user
#     may get more than 500 recipients accepted (no over-admission under concurrency).
# Alerts go to SENDMAIL: by default a stand-in in the work folder that reads the mail and exits 0,
# as a local MTA that accepts it (Postfix's sendmail fails where Postfix is not configured, and a
# failing sendmail is retried: another load); postqueue_path is a stand-in that lists an empty
# queue. SENDMAIL=/usr/sbin/sendmail POSTQUEUE=/usr/sbin/postqueue use the real ones. The mails each
# peer handed to sendmail are counted.
# Prints medians (req/s, p50, p99 in microseconds, locks a run) and the ratio to the floor;
# targets: at c = 8 hijackd >= 70 % of the floor's req/s with p99 <= 1 ms, in a storm.
# Environment: RUNS (3), SECS (5), MODES ("storm steady"), CONCS ("1 8 32 1000"), SHARED
# (../shared), HIJACKD (build/hijackd), HIJACKD_OPTS (more "-o name=value" for both hijackds, e.g.
# "-o alert_to=" for no alerts); HIJACKD_BEFORE: another hijackd binary (e.g. main's before a
# change) run as the peer "before" in the same run, same config, its runs interleaved.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
HIJACKD=${HIJACKD:-$ROOT/build/hijackd}
RUNS=${RUNS:-3} SECS=${SECS:-5} MODES=${MODES:-storm steady} CONCS=${CONCS:-1 8 32 1000}
STORM_USERS=${STORM_USERS:-500} STEADY_USERS=${STEADY_USERS:-100000}
read -r -a HJ_OPTS <<<"${HIJACKD_OPTS:-}"
W=$(mktemp -d /tmp/hijackd-pbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

gcc -O2 -pthread -o "$W/policybench" "$SHARED/bench/policybench.c" -lm
gcc -O2 -pthread -o "$W/dunno_policy" "$SHARED/bench/dunno_policy.c"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# start_hijackd NAME BINARY PORT [-o ...]: one hijackd peer, its own state and sendmail stand-in
start_hijackd() {
	local n=$1 bin=$2 port=$3 sm pq
	shift 3
	mkdir -p "$W/bin-$n"
	sm=${SENDMAIL:-$W/bin-$n/sendmail} pq=${POSTQUEUE:-$W/bin-$n/postqueue}
	printf '#!/bin/sh\ncat >/dev/null && echo >>"%s"\n' "$W/$n.mails" >"$W/bin-$n/sendmail"
	printf '#!/bin/sh\nexit 0\n' >"$W/bin-$n/postqueue"
	chmod +x "$W/bin-$n/sendmail" "$W/bin-$n/postqueue"
	: >"$W/$n.mails"
	"$bin" -f -c "$ROOT/examples/mdaemon.conf" -o state_dir="$W/state-$n" \
		-o policy_listen=127.0.0.1:"$port" -o sendmail_path="$sm" -o postqueue_path="$pq" \
		"$@" ${HJ_OPTS[@]+"${HJ_OPTS[@]}"} >"$W/$n.log" 2>&1 &
	PIDS+=($!)
}
P_FLOOR=$(free_port); "$W/dunno_policy" -p "$P_FLOOR" >/dev/null 2>&1 & PIDS+=($!)
P_HJ=$(free_port)
start_hijackd hijackd "$HIJACKD" "$P_HJ"
HJ_PID=${PIDS[-1]}
PEERS="hijackd:$P_HJ floor:$P_FLOOR"
if [ -n "${HIJACKD_BEFORE:-}" ]; then
	P_BEFORE=$(free_port)
	start_hijackd before "$HIJACKD_BEFORE" "$P_BEFORE" -o http_listen=
	PEERS="$PEERS before:$P_BEFORE"
fi
if command -v postfwd2 >/dev/null; then
	P_PF=$(free_port)
	postfwd2 -f "$SHARED/bench/peer-configs/postfwd.cf" --server_socket "tcp:127.0.0.1:$P_PF" \
		--cache_proto unix --cache_port "$W/pf-cache.sock" --pidfile "$W/pf.pid" -u nobody -g nogroup \
		--summary=600 --cache=600 --cache-rdomain-only --cache-no-size --nodns >"$W/postfwd.log" 2>&1 || true
	wait_port "$P_PF" && PEERS="$PEERS postfwd2:$P_PF" && PIDS+=("$(cat "$W/pf.pid")")
fi
for p in $PEERS; do wait_port "${p#*:}" || { echo "${p%%:*} did not start" >&2; exit 2; }; done

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { cat "$@" | sed -n "s/.*$FIELD=\([0-9.]*\).*/\1/p" | median; }
echo "policy benchmark: END-OF-MESSAGE mode, $RUNS x ${SECS}s per point, $(nproc) cores, $(date -u +%F)"
echo "hijackd: examples/mdaemon.conf, alerts to ${SENDMAIL:-a sendmail stand-in}${HIJACKD_OPTS:+, $HIJACKD_OPTS}"
for mode in $MODES; do
	case $mode in
	storm) echo "storm: $STORM_USERS new users every run (each run locks them again)" ;;
	steady) echo "steady: the same $STEADY_USERS users every run (never locked)" ;;
	*) echo "unknown mode $mode (storm, steady)" >&2; exit 2 ;;
	esac
	printf '%-9s %5s %10s %8s %8s %9s %6s\n' peer conc "req/s" "p50 us" "p99 us" "vs floor" locks
	for c in $CONCS; do
		for r in $(seq "$RUNS"); do
			for p in $PEERS; do
				if [ "$mode" = storm ]; then set -- -u "$STORM_USERS" -x "r$r-c$c"; else set -- -u "$STEADY_USERS" -x steady; fi
				"$W/policybench" -p "${p#*:}" -c "$c" -d "$SECS" "$@" >"$W/${p%%:*}.$mode.$c.$r" 2>&1 || true
			done
		done
		floor=$(FIELD=rps field "$W"/floor."$mode.$c".*)
		for p in $PEERS; do
			n=${p%%:*}
			printf '%-9s %5s %10.0f %8s %8s %8.0f%% %6s\n' "$n" "$c" "$(FIELD=rps field "$W/$n.$mode.$c".*)" \
				"$(FIELD=p50 field "$W/$n.$mode.$c".*)" "$(FIELD=p99 field "$W/$n.$mode.$c".*)" \
				"$(echo "100 * $(FIELD=rps field "$W/$n.$mode.$c".*) / $floor" | bc -l)" \
				"$(FIELD=users_refused field "$W/$n.$mode.$c".*)"
		done
	done
	for p in $PEERS; do
		[ -f "$W/${p%%:*}.mails" ] && printf '%s: %s mails handed to sendmail so far; ' "${p%%:*}" "$(wc -l <"$W/${p%%:*}.mails")"
	done
	echo
	echo
done
echo "correctness (hijackd, examples/mdaemon.conf: lock after 500 recipients in 30 min; -u 5 -n 3000):"
for c in 8 32; do
	"$W/policybench" -p "$P_HJ" -c "$c" -u 5 -n 3000 -x "corr$c" >"$W/corr.$c" 2>&1 || true
	printf '  c=%-3s %s | %s\n' "$c" "$(grep -o 'users_refused=[0-9]*' "$W/corr.$c")" \
		"$(grep -o 'max_accepted_rcpts_any_user=[0-9]*' "$W/corr.$c")"
done
echo "hijackd peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$HJ_PID/status")"
