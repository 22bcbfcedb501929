#!/bin/bash
# bench/notify-bench.sh - does a dead webhook slow the policy answers?
#
# Starts hijackd twice on a memory store: without a webhook, and with one whose receiver accepts
# connections and never answers (webhook_timeout=5s). Each time, ACCOUNTS fresh accounts send
# MESSAGES messages each over one policy connection, so that every account is locked on the way
# (one incident, one webhook POST each), and each answer is timed (tests/tools/policy_latency.py).
# Prints p50 / p99 / max per run; RUNS runs alternate the two.
#   RUNS=3 ACCOUNTS=200 MESSAGES=10 bench/notify-bench.sh [BUILD]
set -u
B=$(readlink -f "${1:-build}")
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
RUNS=${RUNS:-3} ACCOUNTS=${ACCOUNTS:-200} MESSAGES=${MESSAGES:-10}
D=$(mktemp -d /tmp/hijackd-notify-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
python3 "$ROOT/tests/tools/hook_receiver.py" dead "$D/dead.port" /dev/null & RECV=$!
trap 'kill $RECV 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 50); do [ -s "$D/dead.port" ] && break; sleep 0.1; done
run() { # name [url]
	local p; p=$(free_port); rm -rf "$D/st"
	"$B/hijackd" -f -o http_listen= -o state_dir="$D/st" -o store=memory: -o policy_listen=127.0.0.1:$p \
		-o sendmail_path=/bin/true -o postqueue_path=/bin/true -o webhook_timeout=5s -o webhook_on=lock \
		${2:+-o webhook_urls=$2} -o 'rule burst_lock = metric=recipients window=1h limit=45 action=lock' \
		>"$D/log" 2>&1 & local pid=$!
	for _ in $(seq 50); do grep -q "started:" "$D/log" && break; sleep 0.1; done
	printf '%-14s %s\n' "$1" "$(python3 "$ROOT/tests/tools/policy_latency.py" "$p" "$ACCOUNTS" "$MESSAGES")"
	kill "$pid"; wait "$pid" 2>/dev/null
}
for i in $(seq "$RUNS"); do
	run no-webhook
	run dead-webhook "http://127.0.0.1:$(cat "$D/dead.port")/hook"
done
