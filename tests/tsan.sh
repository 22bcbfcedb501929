#!/bin/bash
# tests/tsan.sh [BUILD] - the daemon's threads under ThreadSanitizer (make tsan-test; a pass of
# scripts/test). Builds BUILD (default build-tsan) with TSAN=1, then runs what starts threads:
#
#   unit     the threaded unit tests: test_spool, test_webhook, test_mailer (the spool's writer
#            and worker against its caller)
#   daemon   tests/daemon_test.py, tests/admin_test.py (no browser): the event loop against the
#            mail, webhook and purge spools' writers and workers (alerts, digests, notices,
#            webhooks, lock_purge_queue, /metrics reading their counters, SIGHUP reopening and
#            SIGTERM closing them during a hung POST: daemon_test's test_workers_busy)
#
# Every program runs with TSAN_OPTIONS halt_on_error=1 exitcode=66 and log_path in a scratch
# folder: any report, from any process (the daemon, hijackctl, a unit test), is a failure named
# with its first lines, whether or not the test that started it noticed. One suppression,
# tests/tsan.supp, with its reason: libevent's epoll_ctl on a closed descriptor number
# (tests/README.md says when one is allowed).
# Where TSan cannot run (no compiler support, or a kernel whose address-space layout its runtime
# refuses), every check is printed as SKIPPED and counted as skipped, never as passed.
# Ends with "N passed, N failed, N skipped"; exit status 0 only if none failed.
set -u
B=${1:-build-tsan}
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT" || exit 2
T=$(mktemp -d /tmp/hijackd-tsan.XXXXXX)
trap 'rm -rf "$T"' EXIT
export TZ=UTC
LIB_STYLE=suite LIB_OUT=$T/out
. "$ROOT/tests/lib.sh"
UNITS="test_spool test_webhook test_mailer"
DAEMON_TESTS="tests/daemon_test.py tests/admin_test.py"
mkdir -p "$T/reports"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$T/reports/tsan suppressions=$ROOT/tests/tsan.supp"

all_skipped() { # why
	for u in $UNITS; do skip "$u under ThreadSanitizer ($1)"; done
	for d in $DAEMON_TESTS; do skip "$d under ThreadSanitizer ($1)"; done
	echo
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	exit 0
}

# can it run here: a racy two-thread program must build, run, and be reported
CC=${CC:-cc}
printf '%s\n' '#include <pthread.h>' 'static int x;' \
	'static void *f(void *a) { (void)a; x++; return 0; }' \
	'int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); x++; pthread_join(t, 0); return 0; }' >"$T/probe.c"
if ! "$CC" -fsanitize=thread -g -O1 "$T/probe.c" -o "$T/probe" -lpthread >"$T/probe.out" 2>&1; then
	all_skipped "$CC cannot build with -fsanitize=thread: $(head -1 "$T/probe.out")"
fi
TSAN_OPTIONS="exitcode=66" "$T/probe" >"$T/probe.out" 2>&1; rc=$?
if [ "$rc" != 66 ] || ! grep -q 'ThreadSanitizer: data race' "$T/probe.out"; then
	all_skipped "its runtime does not run here (exit $rc): $(grep -m1 -E 'FATAL|ERROR' "$T/probe.out")"
fi

echo "== build: make TSAN=1 BUILD=$B"
check "hijackd, hijackctl and the unit tests build with -fsanitize=thread" \
	make -s -j2 BUILD="$B" TSAN=1 WERROR=1 all tests
[ "$FAIL" = 0 ] || { echo; echo "$PASS passed, $FAIL failed, $SKIP skipped"; exit 1; }

# reports - each ThreadSanitizer report written since the last call is a failure after WHAT
n_reports=0
reports() {
	local f
	for f in "$T"/reports/tsan.*; do
		[ -e "$f" ] || continue
		n_reports=$((n_reports + 1))
		ko "ThreadSanitizer report after $1 ($(basename "$f")): $(grep -m1 'WARNING: ThreadSanitizer' "$f")"
		grep -E '^ +#[0-9]|^  (Read|Write|Previous|Location|Mutex|Thread)' "$f" | head -16 | sed 's/^/        /'
		mv "$f" "$B/tsan-report-$n_reports.txt"
	done
}

echo
echo "== the threaded unit tests"
for u in $UNITS; do
	check "$u: every test passes" env CMOCKA_MESSAGE_OUTPUT=TAP "$B/tests/$u"
	reports "$u"
done

echo
echo "== the daemon tests"
tally timeout 600 python3 tests/daemon_test.py "$B/hijackd"
reports tests/daemon_test.py
HJ_NO_BROWSER=1 tally timeout 300 python3 tests/admin_test.py "$B"
reports tests/admin_test.py
[ "$n_reports" = 0 ] && ok "no ThreadSanitizer report from any process" ||
	echo "        (the reports are kept as $B/tsan-report-*.txt)"

echo
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
