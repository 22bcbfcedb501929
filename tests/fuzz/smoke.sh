#!/bin/sh
# tests/fuzz/smoke.sh BUILD SECONDS NAME... - run each libFuzzer harness BUILD/fuzz_NAME for
# SECONDS over its committed corpus tests/fuzz/corpus/NAME (read only: what it finds goes to a
# scratch folder, removed after). Prints one "ok"/"not ok" line per harness with its execs and
# coverage, exits 1 when any harness crashed, leaked, hung (-timeout=10 s an input) or blew its
# memory (-rss_limit_mb=2048). A crash's reproducer is kept as BUILD/fuzz-crash-NAME-*.
set -u
build=$1 secs=$2
shift 2
here=$(dirname "$0")
failed=0
for name in "$@"; do
	bin=$build/fuzz_$name corpus=$here/corpus/$name
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/hj-fuzz-$name.XXXXXX")
	log=$build/fuzz-smoke-$name.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-crash-$name-" "$scratch" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		echo "ok - fuzz_$name: ${execs:-?} execs in ${secs}s, ${cov:-no coverage line}"
	else
		echo "not ok - fuzz_$name: exit $rc (see $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/#   /'
		failed=1
	fi
	rm -rf "$scratch"
done
exit $failed
