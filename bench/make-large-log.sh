#!/usr/bin/env bash
# make-large-log.sh OUT [MB] - build a large Postfix log for the replay benchmark.
#
# Repeats the dev1 sample log with its dates shifted by one more week each time
# (tests/tools/logconv.py --shift-days 0, 7, 14, ...), concatenated in time order,
# until OUT holds MB megabytes (default 150; 1 MB = 1000000 bytes). The last copy
# is cut at a line boundary so OUT is just under MB. Long runs cross Dec -> Jan
# (yearless syslog timestamps, as in real logs).
#
# Environment:
#   DEV1          sample log (default: <repo>/../shared/eval/dev1/maillog.gz)
#   LOGCONV_OPTS  extra logconv.py options for every copy, e.g. "--ts iso"
#   PYTHON        python interpreter (default python3)
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || $1 == -h || $1 == --help ]]; then
    sed -n '2,13s/^# \{0,1\}//p' "$0"
    exit 2
fi
OUT=$1
MB=${2:-150}
[[ $MB =~ ^[0-9]+$ && $MB -gt 0 ]] || { echo "make-large-log.sh: MB must be a positive integer" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEV1=${DEV1:-$ROOT/../shared/eval/dev1/maillog.gz}
PYTHON=${PYTHON:-python3}
LOGCONV=$ROOT/tests/tools/logconv.py
[[ -r $DEV1 ]] || { echo "make-large-log.sh: cannot read DEV1=$DEV1" >&2; exit 1; }

target=$((MB * 1000000))
tmp=$OUT.tmp.$$
trap 'rm -f "$tmp"' EXIT
: > "$tmp"
week=0
# shellcheck disable=SC2086  # LOGCONV_OPTS is a word list on purpose
while (( $(stat -c %s "$tmp") < target )); do
    "$PYTHON" "$LOGCONV" ${LOGCONV_OPTS:-} --shift-days $((7 * week)) "$DEV1" >> "$tmp"
    week=$((week + 1))
done
# cut to the target size at a line boundary
"$PYTHON" - "$tmp" "$target" <<'EOF'
import os, sys
path, target = sys.argv[1], int(sys.argv[2])
if os.path.getsize(path) > target:
    with open(path, "r+b") as f:
        f.seek(max(0, target - 65536))
        chunk = f.read(65536 if target >= 65536 else target)
        cut = chunk.rfind(b"\n")
        f.truncate(max(0, target - len(chunk)) + cut + 1 if cut >= 0 else target)
EOF
mv "$tmp" "$OUT"
trap - EXIT
lines=$(wc -l < "$OUT")
echo "make-large-log.sh: wrote $OUT: $(stat -c %s "$OUT") bytes, $lines lines, $week week(s) of dev1" >&2
