# lib.sh - the check lines of the suite's shell scripts, shared (see tests/README.md).
#
#   . "$ROOT/tests/lib.sh"    sourced by tests/run.sh, tests/tsan.sh, tests/e2e_*.sh,
#                             tests/tools/test_logconv.sh
#   LIB_STYLE=STYLE           how ok / ko print (set before the first check; default tap):
#       tap        "ok      WHAT"   / "not ok  WHAT"    TAP, tallied by run.sh (the e2e scripts)
#       numbered   "ok N - WHAT"    / "not ok N - WHAT" TAP with the check's number (e2e_queue.sh)
#       suite      "ok      WHAT"   / "FAILED  WHAT"    the suite's own lines (run.sh)
#       quiet      nothing          / "FAIL: WHAT"      only failures show (test_logconv.sh)
#   plan N                    "1..N", the TAP plan: first, before any check
#   ok WHAT / ko WHAT         a pass / a failure: counts it, prints its line
#   check WHAT CMD...         ok WHAT if CMD exits 0, else ko WHAT. With LIB_OUT=FILE, CMD's
#                             output goes to FILE and a failure shows its first 20 lines, each
#                             indented by LIB_INDENT (8 spaces unless set); without, CMD's output
#                             goes where the script's does
#   skip WHAT                 "SKIPPED WHAT": a check that cannot run here, never a pass
#   finish                    "N passed, N failed"
#   tally CMD...              run CMD, a script printing a TAP plan and ok / not ok lines (its
#                             output shown, "# SKIP" counted as skipped); dying early, running
#                             short of its plan or exiting non-zero without a "not ok" fails.
#                             Its output is kept in LIB_TALLY (default $LIB_OUT.tally)
#   free_ports N              N distinct free loopback TCP ports, on one line
#   free_port                 one free loopback TCP port
#
# Counters, for the script's exit status and cleanup: PASS, FAIL, SKIP and N (ok + ko so far).
# Bash only (the scripts are bash); sets no shell options.

PASS=0 FAIL=0 SKIP=0 N=0
LIB_STYLE=${LIB_STYLE:-tap} LIB_OUT=${LIB_OUT:-} LIB_INDENT=${LIB_INDENT:-"        "}

# lib_line RESULT WHAT - print a check's line in LIB_STYLE (RESULT: ok or ko)
lib_line() {
	case "$LIB_STYLE/$1" in
	tap/ok | suite/ok) echo "ok      $2" ;;
	tap/ko) echo "not ok  $2" ;;
	numbered/ok) echo "ok $N - $2" ;;
	numbered/ko) echo "not ok $N - $2" ;;
	suite/ko) echo "FAILED  $2" ;;
	quiet/ok) ;;
	quiet/ko) echo "FAIL: $2" ;;
	*) echo "lib.sh: no style '$LIB_STYLE'" >&2; return 2 ;;
	esac
}

plan() { echo "1..$1"; }
ok() { N=$((N + 1)) PASS=$((PASS + 1)); lib_line ok "$*"; }
ko() { N=$((N + 1)) FAIL=$((FAIL + 1)); lib_line ko "$*"; }
skip() { SKIP=$((SKIP + 1)); echo "SKIPPED $*"; }
finish() { echo "$PASS passed, $FAIL failed"; }

check() {
	local what=$1
	shift
	if [ -z "$LIB_OUT" ]; then
		if "$@"; then ok "$what"; else ko "$what"; fi
	elif "$@" >"$LIB_OUT" 2>&1; then
		ok "$what"
	else
		ko "$what"
		head -20 "$LIB_OUT" | sed "s/^/$LIB_INDENT/"
	fi
}

tally() {
	local f=${LIB_TALLY:-${LIB_OUT:-/tmp/lib-tally.$$}.tally}
	"$@" >"$f" 2>&1
	local rc=$? bad good skipped plan ran
	cat "$f"
	bad=$(grep -c '^not ok ' "$f")
	skipped=$(grep -c '^ok .*# SKIP' "$f")
	good=$(($(grep -c '^ok ' "$f") - skipped))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$f" | head -1)
	ran=$((good + bad + skipped))
	PASS=$((PASS + good)) FAIL=$((FAIL + bad)) SKIP=$((SKIP + skipped))
	if [ -z "$plan" ]; then ko "$*: no TAP plan (1..N)"
	elif [ "$ran" != "$plan" ]; then ko "$*: ran $ran of its $plan planned checks"; fi
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then ko "$* exited $rc"; fi
}

free_ports() {
	python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}
free_port() { free_ports 1; }

# rspamd_up PORT OUT - a real rspamd on 127.0.0.1:PORT in a session of its own (tests/scan_test.py
# --exec-rspamd: its recipe, DBDIR kept), its output to OUT; sets RSPID (stop it with
# kill -TERM -- -$RSPID); returns 0 once it answers /ping, 1 if not within 90 s
rspamd_up() {
	setsid python3 "$(dirname "${BASH_SOURCE[0]}")/scan_test.py" --exec-rspamd "$1" >"$2" 2>&1 &
	RSPID=$!
	for _ in $(seq 900); do
		python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
			"http://127.0.0.1:$1/ping" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stack_init NAME - an e2e script over tests/harness (the real Postfix + Dovecot) with the build
# in $B: sets MS (the harness), D (a fresh folder /tmp/hijackd-e2e-NAME.*, mode 0755 for the
# stack's users), PF (its Postfix configuration), HJ and CTL (the programs), HJPID (the daemon
# the script starts, "" until then); at exit stops that daemon and the stack, and removes D
# unless a check failed
stack_init() {
	MS="$(dirname "${BASH_SOURCE[0]}")/harness/mailstack.sh"
	D=$(mktemp -d "/tmp/hijackd-e2e-$1.XXXXXX"); chmod 0755 "$D"
	PF="$D/ms/postfix"
	HJ=$(readlink -f "$B/hijackd") CTL=$(readlink -f "$B/hijackctl")
	HJPID=""
	trap stack_cleanup EXIT
}
stack_cleanup() {
	[ -n "$HJPID" ] && kill "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null
	"$MS" down "$D/ms" >/dev/null 2>&1
	if [ "$FAIL" = 0 ]; then rm -rf "$D"; else echo "# work files kept in $D"; fi
}
