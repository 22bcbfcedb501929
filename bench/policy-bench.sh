#!/usr/bin/env bash
# policy-bench.sh - the policy service benchmark: hijackd against the DUNNO floor (and postfwd2).
#
# Uses ../shared/bench/policybench.c (the Postfix policy load generator: N threads, one persistent
# connection each, one request at a time, as Postfix smtpd) and ../shared/bench/dunno_policy.c (the
# protocol's floor: answers DUNNO, does nothing). Everything runs on 127.0.0.1, in one run:
#   throughput: END-OF-MESSAGE mode, c = 1, 8, 32, 1000, RUNS alternating runs of SECS s each, against
#     hijackd (SQLite store, examples/mdaemon.conf), the floor (1 thread), and postfwd2 when installed
#     (Debian package postfwd, the ruleset of ../shared/bench/peer-configs/postfwd.cf);
#   correctness: -u 5 -n 3000 at c = 8 and 32 against hijackd: every user must be refused and no user
#     may get more than 500 recipients accepted (no over-admission under concurrency).
# Prints medians (req/s, p50, p99 in microseconds) and the ratio to the floor; targets: at c = 8
# hijackd >= 70 % of the floor's req/s with p99 <= 1 ms.
# Environment: RUNS (3), SECS (5), SHARED (../shared), HIJACKD (build/hijackd); HIJACKD_BEFORE: another
# hijackd binary (e.g. main's before a change) run as the peer "before" in the same run, same config.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
HIJACKD=${HIJACKD:-$ROOT/build/hijackd}
RUNS=${RUNS:-3} SECS=${SECS:-5}
W=$(mktemp -d /tmp/hijackd-pbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

gcc -O2 -pthread -o "$W/policybench" "$SHARED/bench/policybench.c" -lm
gcc -O2 -pthread -o "$W/dunno_policy" "$SHARED/bench/dunno_policy.c"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

P_FLOOR=$(free_port); "$W/dunno_policy" -p "$P_FLOOR" >/dev/null 2>&1 & PIDS+=($!)
P_HJ=$(free_port)
"$HIJACKD" -f -c "$ROOT/examples/mdaemon.conf" -o state_dir="$W/state" -o policy_listen=127.0.0.1:$P_HJ \
	>"$W/hijackd.log" 2>&1 & PIDS+=($!)
PEERS="hijackd:$P_HJ floor:$P_FLOOR"
if [ -n "${HIJACKD_BEFORE:-}" ]; then
	P_BEFORE=$(free_port)
	"$HIJACKD_BEFORE" -f -c "$ROOT/examples/mdaemon.conf" -o state_dir="$W/state-before" \
		-o policy_listen=127.0.0.1:$P_BEFORE -o http_listen= >"$W/before.log" 2>&1 & PIDS+=($!)
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
echo "policy benchmark: END-OF-MESSAGE mode, $RUNS x ${SECS}s per point, $(nproc) cores, $(date -u +%F)"
printf '%-9s %5s %10s %8s %8s %9s\n' peer conc "req/s" "p50 us" "p99 us" "vs floor"
for c in 1 8 32 1000; do
	for r in $(seq "$RUNS"); do
		for p in $PEERS; do
			"$W/policybench" -p "${p#*:}" -c "$c" -d "$SECS" -x "r$r-c$c" >"$W/${p%%:*}.$c.$r" 2>&1 || true
		done
	done
	floor=$(cat "$W"/floor."$c".* | sed -n 's/.*rps=\([0-9.]*\).*/\1/p' | median)
	for p in $PEERS; do
		n=${p%%:*}
		rps=$(cat "$W/$n.$c".* | sed -n 's/.*rps=\([0-9.]*\).*/\1/p' | median)
		p50=$(cat "$W/$n.$c".* | sed -n 's/.*p50=\([0-9]*\).*/\1/p' | median)
		p99=$(cat "$W/$n.$c".* | sed -n 's/.*p99=\([0-9]*\).*/\1/p' | median)
		printf '%-9s %5s %10.0f %8s %8s %8.0f%%\n' "$n" "$c" "$rps" "$p50" "$p99" "$(echo "100 * $rps / $floor" | bc -l)"
	done
done
echo
echo "correctness (hijackd, examples/mdaemon.conf: lock after 500 recipients in 30 min; -u 5 -n 3000):"
for c in 8 32; do
	"$W/policybench" -p "$P_HJ" -c "$c" -u 5 -n 3000 -x "corr$c" >"$W/corr.$c" 2>&1 || true
	printf '  c=%-3s %s | %s\n' "$c" "$(grep -o 'users_refused=[0-9]*' "$W/corr.$c")" \
		"$(grep -o 'max_accepted_rcpts_any_user=[0-9]*' "$W/corr.$c")"
done
echo "hijackd peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/${PIDS[1]}/status")"
