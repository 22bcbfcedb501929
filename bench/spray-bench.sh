#!/usr/bin/env bash
# spray-bench.sh [BUILD] - a password spray of invented names, through `hijackd replay`.
#
# N (default 1000000) "SASL LOGIN authentication failed: ..., sasl_username=uNNNNNNN@..." lines,
# each a new name, 20 a second of log time, from CLIENTS client addresses (default: two runs,
# 1000 addresses, then a new address per line: CLIENTS=0). Prints per run: clients, peak RSS
# (kB, /usr/bin/time), seconds, and replay's "Entities at the end" line (what the caps did).
# The baseline (dev1's week) is printed first. Numbers go to docs/PERFORMANCE.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
N=${N:-1000000}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
run() { # label logfile
	/usr/bin/time -f '%M %e' -o "$TMP/time" "$BUILD/hijackd" replay --no-progress "$2" >"$TMP/out.txt"
	read -r rss secs <"$TMP/time"
	printf '%-24s peak_rss_kb=%s seconds=%s\n    %s\n' "$1" "$rss" "$secs" \
		"$(grep '^Entities at the end' "$TMP/out.txt" || echo '(no entity line)')"
}
zcat "$ROOT/../shared/eval/dev1/maillog.gz" >"$TMP/dev1.log"
run "baseline (dev1 week)" "$TMP/dev1.log"
for clients in ${CLIENTS:-1000 0}; do
	python3 - "$N" "$clients" >"$TMP/spray.log" <<'PY'
import sys, time
n, clients = int(sys.argv[1]), int(sys.argv[2])
t0 = time.mktime((2026, 11, 2, 0, 0, 0, 0, 0, -1))
w = sys.stdout.write
for i in range(n):
    ts = time.strftime("%b %d %H:%M:%S", time.localtime(t0 + i // 20))
    k = i % clients if clients else i
    ip = "%d.%d.%d.%d" % (11 + (k >> 24) % 200, (k >> 16) & 255, (k >> 8) & 255, k & 255)
    w("%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication "
      "failed: (reason unavailable), sasl_username=u%07d@example.com\n" % (ts, 1000 + i % 30000, ip, i))
PY
	run "spray clients=${clients:-per-line}" "$TMP/spray.log"
done
