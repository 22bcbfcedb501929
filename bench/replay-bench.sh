#!/usr/bin/env bash
# replay-bench.sh [LOG] - the hijackd replay benchmark.
#
# Times `hijackd replay --json LOG > FILE` against `grep -c sasl_username LOG > FILE`
# (grep's output goes to a file: GNU grep stops at the first match when its output
# is /dev/null). After one warm-up run of each, RUNS (default 5) runs of each
# alternate (hijackd, grep, hijackd, grep, ...). Prints the median wall time of
# each, the median of the per-pair ratios hijackd/grep, and hijackd's peak RSS
# (max over the runs of /usr/bin/time's %M; Debian package "time"), with the targets:
# ratio <= 5x, RSS <= 64 MiB.
#
# Without LOG, /tmp/hijackd-bench-150M.log is used, built first with
# bench/make-large-log.sh if it does not exist.
#
# Environment:
#   HIJACKD  binary to time (default <repo>/build/hijackd); it is run as
#            "$HIJACKD replay --json LOG" with TZ=UTC
#   RUNS     timed runs of each command (default 5)
#   OUT      hijackd's output file (default /tmp/hijackd-bench.out; grep's is OUT.grep)
#
# Exit status: 0 both targets met, 1 a target missed, 2 usage or run error.
set -euo pipefail

if [[ $# -gt 1 || ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,23s/^# \{0,1\}//p' "$0"
    exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HIJACKD=${HIJACKD:-$ROOT/build/hijackd}
RUNS=${RUNS:-5}
OUT=${OUT:-/tmp/hijackd-bench.out}
LOG=${1:-}

if [[ -z $LOG ]]; then
    LOG=/tmp/hijackd-bench-150M.log
    if [[ ! -s $LOG ]]; then
        echo "replay-bench.sh: building $LOG ..." >&2
        "$ROOT/bench/make-large-log.sh" "$LOG" 150
    fi
fi
[[ -r $LOG ]] || { echo "replay-bench.sh: cannot read $LOG" >&2; exit 2; }
[[ -x $HIJACKD ]] || { echo "replay-bench.sh: no executable $HIJACKD (build it first, or set HIJACKD)" >&2; exit 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || { echo "replay-bench.sh: RUNS must be >= 1" >&2; exit 2; }

exec python3 - "$HIJACKD" "$LOG" "$RUNS" "$OUT" <<'EOF'
import os, statistics, subprocess, sys, time

hijackd, log, runs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
grepout = out + ".grep"
env = dict(os.environ, TZ="UTC", LC_ALL="C")
HJ = [hijackd, "replay", "--json", log]
GR = ["grep", "-c", "sasl_username", log]


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
tfile = out + ".time"


def run(cmd, outfile, ok=(0,)):
    """Run cmd with stdout to outfile; return (wall seconds, peak RSS KiB).

    Peak RSS comes from GNU time's %M: ru_maxrss read by this python process
    through wait4 would never be below python's own RSS, because the kernel
    carries the parent's high-water mark across the vfork+exec."""
    full = [TIME, "-f", "%e %M", "-o", tfile] + cmd if TIME else cmd
    with open(outfile, "wb") as f:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=f, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in ok:
        print("replay-bench.sh: %s exited with %d" % (" ".join(cmd), p.returncode),
              file=sys.stderr)
        sys.exit(2)
    rss = ru.ru_maxrss
    if TIME:
        with open(tfile) as t:
            rss = int(t.read().split()[-1])
    return wall, rss


size = os.path.getsize(log)
print("log: %s (%.1f MB)" % (log, size / 1e6))
print("hijackd: %s" % hijackd)
if not TIME:
    print("note: /usr/bin/time missing (apt-get install time); peak RSS falls back to"
          " wait4 and is never below python's own RSS (~10-15 MiB)")
print("warm-up ...", flush=True)
run(GR, grepout, ok=(0, 1))
run(HJ, out)
hj, gr = [], []
for i in range(runs):
    hj.append(run(HJ, out))
    gr.append(run(GR, grepout, ok=(0, 1)))
    print("  run %d: hijackd %.3f s (%.1f MiB RSS), grep %.3f s, ratio %.2fx"
          % (i + 1, hj[-1][0], hj[-1][1] / 1024, gr[-1][0], hj[-1][0] / gr[-1][0]),
          flush=True)

hj_med = statistics.median(w for w, _ in hj)
gr_med = statistics.median(w for w, _ in gr)
ratio = statistics.median(h[0] / g[0] for h, g in zip(hj, gr))
rss_mb = max(r for _, r in hj) / 1024
with open(out, "rb") as f:
    decisions = sum(1 for _ in f)
with open(grepout) as f:
    sasl = f.read().strip()
ok_ratio, ok_rss = ratio <= 5.0, rss_mb <= 64.0
print("hijackd replay --json : median %.3f s  (%.1f MB/s, %d output lines)"
      % (hj_med, size / 1e6 / hj_med, decisions))
print("grep -c sasl_username : median %.3f s  (%.1f MB/s, count %s)"
      % (gr_med, size / 1e6 / gr_med, sasl))
print("ratio hijackd/grep    : median %.2fx   target <= 5x    %s"
      % (ratio, "OK" if ok_ratio else "MISSED"))
print("hijackd peak RSS      : %.1f MiB     target <= 64 MiB  %s"
      % (rss_mb, "OK" if ok_rss else "MISSED"))
sys.exit(0 if ok_ratio and ok_rss else 1)
EOF
