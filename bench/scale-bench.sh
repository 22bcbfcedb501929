#!/usr/bin/env bash
# scale-bench.sh - one daemon with ACCOUNTS (100000) active accounts with learned profiles:
# its memory, and how fast /api/status and /metrics answer (issue "Hold against the hostile
# internet", "Scale with bounded memory"; numbers in docs/PERFORMANCE.md).
#
# Starts build/hijackd (the built-in configuration, SQLite store in a scratch state_dir, no
# alerts) on 127.0.0.1 free ports, sends MESSAGES (5 per account) END-OF-MESSAGE requests with
# ../shared/bench/policybench (-u ACCOUNTS, uniform, 1-5 recipients, c = 8), then prints:
# VmRSS and VmHWM, the accounts /api/status reports, and for /api/status and /metrics the
# median and max of 20 timed GETs (curl's time_total), with a policy request's latency taken
# while /metrics is fetched in a loop; then it restarts the daemon on the same state and prints
# the start time (to the policy port answering) and VmRSS after the load from the store.
# Environment: ACCOUNTS, MESSAGES, HIJACKD (build/hijackd), SHARED (../shared).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
HIJACKD=${HIJACKD:-$ROOT/build/hijackd}
ACCOUNTS=${ACCOUNTS:-100000}
MESSAGES=${MESSAGES:-$((ACCOUNTS * 5))}
W=$(mktemp -d /tmp/hijackd-scale.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
gcc -O2 -pthread -o "$W/policybench" "$SHARED/bench/policybench.c" -lm
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PP=$(free_port) HP=$(free_port)
TOKEN=scale-bench-token-0123456789
start() {
	local t0
	t0=$(date +%s.%N)
	"$HIJACKD" -f -o state_dir="$W/state" -o policy_listen=127.0.0.1:"$PP" \
		-o http_listen=127.0.0.1:"$HP" -o http_token_read="$TOKEN" -o alert_to= \
		-o sendmail_path=/bin/true -o postqueue_path=/bin/true >>"$W/hijackd.log" 2>&1 &
	PID=$!
	for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PP") 2>/dev/null && break; sleep 0.05; done
	echo "start to policy port answering: $(echo "$(date +%s.%N) - $t0" | bc) s"
}
mem() { grep -E '^(VmRSS|VmHWM)' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
timed() { # path: median and max of 20 GETs, in ms
	for _ in $(seq 20); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
			"http://127.0.0.1:$HP$1"
	done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms\n", a[int((NR+1)/2)]*1000, a[NR]*1000}'
}
start
echo "baseline: $(mem)"
"$W/policybench" -p "$PP" -c 8 -u "$ACCOUNTS" -n "$MESSAGES" -r 1-5 -d 600 >"$W/load.txt"
grep -E 'req/s|p99' "$W/load.txt" | head -3
sleep 3 # a flush
echo "after $MESSAGES messages of $ACCOUNTS accounts: $(mem)"
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/api/status"; echo
echo "/api/status: $(timed /api/status)"
echo "/metrics:    $(timed /metrics)"
( while :; do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/metrics"; done ) &
LOOP=$!
"$W/policybench" -p "$PP" -c 1 -u "$ACCOUNTS" -n 2000 -r 1-5 -x probe >"$W/probe.txt"
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true
echo "policy latency while /metrics is fetched in a loop: $(grep -E 'p50|p99' "$W/probe.txt" | head -2 | tr '\n' ' ')"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
du -sh "$W/state" | cut -f1 | sed 's/^/state_dir after the stop: /'
start
echo "after the restart: $(mem)"
