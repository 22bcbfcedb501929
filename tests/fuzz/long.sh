#!/bin/sh
# long.sh - one long fuzzing run of a harness: at least MIN_EXECS executions and at least
# MIN_SECONDS seconds, whichever comes later (issue "Hold against the hostile internet").
#
# usage: tests/fuzz/long.sh NAME [WORKDIR]
#   build-fuzz/fuzz_NAME must exist (make fuzz). The committed corpus tests/fuzz/corpus/NAME is
#   copied to WORKDIR/NAME (default /tmp/fuzz-long) and libFuzzer writes its finds there; a
#   crash or leak leaves its input in WORKDIR/NAME-artifacts/. The summary line at the end
#   ("NAME execs=N seconds=S cov=A->B crashes=K") is what docs/FUZZING.md reports. Merging
#   the finds back is a separate step (docs/FUZZING.md, "Commands").
set -u
name=$1
work=${2:-/tmp/fuzz-long}
min_execs=${MIN_EXECS:-10000000}
min_seconds=${MIN_SECONDS:-1800}
bin=build-fuzz/fuzz_$name
[ -x "$bin" ] || { echo "long.sh: $bin missing (make fuzz)" >&2; exit 2; }
mkdir -p "$work/$name" "$work/$name-artifacts"
cp -n tests/fuzz/corpus/"$name"/* "$work/$name/" 2>/dev/null
execs=0; start=$(date +%s); round=0; crashes=0; cov0=; cov1=
while :; do
	now=$(date +%s); spent=$((now - start))
	[ "$execs" -ge "$min_execs" ] && [ "$spent" -ge "$min_seconds" ] && break
	left_t=$((min_seconds - spent)); [ "$left_t" -lt 60 ] && left_t=60
	left_r=$((min_execs - execs)); [ "$left_r" -lt 100000 ] && left_r=100000
	round=$((round + 1)); log=$work/$name.round$round.log
	"$bin" -max_total_time="$left_t" -runs="$left_r" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$name-artifacts/" "$work/$name" \
		>"$log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=$((execs + ${n:-0}))
	c=$(grep -o 'cov: [0-9]*' "$log" | head -1 | cut -d' ' -f2)
	[ -z "$cov0" ] && cov0=$c
	cov1=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$rc" -ne 0 ]; then
		crashes=$((crashes + 1))
		echo "long.sh: $name round $round exited $rc (see $log)" >&2
		break
	fi
done
echo "$name execs=$execs seconds=$(($(date +%s) - start)) rounds=$round cov=$cov0->$cov1 crashes=$crashes"
[ "$crashes" -eq 0 ]
