#!/bin/bash
# run.sh BUILD [--no-e2e] - the whole hijackd test suite against the programs in BUILD/.
#
#   layers          each folder of src/ includes only headers of the layers below it
#   engine purity   the engine objects use only the libc symbols src/engine/ALLOWED_SYMBOLS allows
#                   and define no writable static data
#   unit            every BUILD/tests/test_* (cmocka, TAP output: one result per test)
#   golden          tests/golden/NAME.log -> NAME.expected decisions (NAME.conf or the built-in config)
#   fixture         the real Postfix 3.7 log in tests/fixtures/postfix37: events seen = traffic sent
#   bad input       empty, missing, binary, 10 MB line, truncated gzip, cut transactions, bad configs
#   configuration   hijackd config round trips, -o, docs/SETTINGS.md current with the table
#   admin           control socket (root and unprivileged callers), hijackctl, HTTP API tokens and
#                   errors, /metrics, restart survival, the dashboard in Chromium (tests/browser)
#   equivalence     examples/mdaemon.conf vs ../shared/eval/naive_baseline.py on dev1 and on its
#                   ISO / postlog / Postfix 3.4 / long-queue-ID rewrites (skipped without ../shared)
#   daemon          the policy service black-box: decisions, kill -9, concurrency, hostile input,
#                   5,000 idle connections, a dead store, SIGHUP, second instance, purges on a
#                   worker, reply-to-unlock tokens (tests/daemon_test.py)
#   milter          the milter front end black-box: negotiation, counting at the end of the
#                   message, a lock refused at RCPT, once per queue ID with the policy service,
#                   hostile peers (tests/milter_test.py)
#   scanners        the rspamd/spamd client (src/scan/) against a real rspamd and spamd started on
#                   loopback and fake scanners: verdicts, timeout, refused, breaker, limits, hostile
#                   replies (tests/scan_test.py; skipped where an engine is not installed); rspamd's
#                   metadata_exporter pushing verdicts to hijackd's /api/verdict (tests/exporter_test.py)
#   e2e             a fresh log from the real Postfix + Dovecot (tests/harness), replayed; and the
#                   daemon live in front of that Postfix (tests/e2e_policy.sh), and live detection
#                   from its policy requests and its log (tests/e2e_detect.sh), queue forensics
#                   (tests/e2e_queue.sh), a rule's hold and its release (tests/e2e_hold.sh),
#                   alerts, notices, reply-to-unlock, webhooks; the milter
#                   behind that Postfix, alone and with the policy service (tests/e2e_milter.sh), and
#                   as the only front end of a real Sendmail 8.17 (tests/e2e_sendmail.sh);
#                   outgoing spam verdicts from a real rspamd through that milter: the prompt in
#                   the user's mailbox, the lock at the 3rd (tests/e2e_spam.sh), and the same
#                   through that Sendmail (tests/e2e_sendmail_spam.sh) (root only; --no-e2e skips
#                   them)
#   fuzzing         each libFuzzer harness of tests/fuzz/ FUZZ_SECONDS (5) over its committed
#                   corpus under ASan + UBSan, no crash, leak or hang (make fuzz-smoke;
#                   skipped without clang, or with HJ_NO_FUZZ=1)
#   dev1 results    the README's figures for the built-in default on ../shared/eval/dev1, scored
#                   with ../shared/eval/score.py (skipped without ../shared)
# Prints one line per check and ends with "N passed, N failed, N skipped"; exit status 0 only if
# none failed. A check that cannot run here (no ../shared, not root, --no-e2e) is counted as
# skipped and named, never as passed. Scripts that print ok / not ok lines must print a TAP plan
# (1..N) first: a script that dies halfway, or runs fewer checks than it planned, fails.
set -u
B=${1:-build}
E2E=1; [ "${2:-}" = --no-e2e ] && E2E=0
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT" || exit 2
HJ="$B/hijackd"
SHARED=${HIJACKD_SHARED:-$ROOT/../shared}
T=$(mktemp -d /tmp/hijackd-tests.XXXXXX)
trap 'rm -rf "$T"' EXIT
export TZ=UTC
# ok / ko / check / skip (tests/lib.sh): "ok      ..." / "FAILED  ..."; a failed check shows its output
LIB_STYLE=suite LIB_OUT=$T/out
. "$ROOT/tests/lib.sh"
section() { echo; echo "== $*"; }
replay() { "$HJ" replay --no-progress "$@"; }

section "layers and engine purity"
check "each folder of src/ includes only the layers below it (scripts/check-layers)" make -s check-layers
check "engine library: only the libc symbols src/engine/ALLOWED_SYMBOLS allows, no writable static data" make -s BUILD="$B" check-engine-pure

section "unit tests (cmocka)"
# every tests/unit/test_*.c must have its binary, and each binary must run the plan it prints
n_bin=0
for src in tests/unit/test_*.c; do
	t="$B/tests/$(basename "$src" .c)"
	if [ ! -x "$t" ]; then ko "$(basename "$t"): no binary in $B/tests"; continue; fi
	n_bin=$((n_bin + 1))
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$T/tap" 2>&1; rc=$?
	n_ok=$(grep -c '^ok ' "$T/tap"); n_bad=$(grep -c '^not ok ' "$T/tap")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$T/tap" | head -1)
	PASS=$((PASS + n_ok)); FAIL=$((FAIL + n_bad))
	if [ "$n_bad" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$n_ok" -eq 0 ] || [ "${plan:-x}" != $((n_ok + n_bad)) ]; then
		echo "FAILED  $(basename "$t"): $n_ok passed, $n_bad failed of ${plan:-no} planned (exit $rc)"; grep -v '^ok ' "$T/tap" | head -30 | sed 's/^/        /'
		[ "$n_bad" -eq 0 ] && FAIL=$((FAIL + 1))
	else
		echo "ok      $(basename "$t"): $n_ok tests"
	fi
done
[ "$n_bin" -gt 0 ] || ko "no unit test binaries ran"

section "golden decisions"
# per scenario: replay exits 0 with nothing on stderr; the key fields gen.py predicted from the
# scenario (NAME.predict) match; the whole decisions match the reviewed NAME.expected
for log in tests/golden/*.log; do
	n=$(basename "$log" .log); conf=tests/golden/$n.conf
	if [ -f "$conf" ]; then replay --json --year 2026 -c "$conf" "$log"; else replay --json --year 2026 "$log"; fi >"$T/$n.got" 2>"$T/$n.err"
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$T/$n.err" ]; then ok "golden $n: replay exits 0, stderr empty"
	else ko "golden $n: replay exit $rc"; head -5 "$T/$n.err" | sed 's/^/        /'; fi
	check "golden $n: ts, account, action, rule, count as gen.py predicts" python3 tests/check_golden.py "tests/golden/$n.predict" "$T/$n.got"
	if diff -u "tests/golden/$n.expected" "$T/$n.got" >"$T/out"; then ok "golden $n: decisions as reviewed"; else ko "golden $n: decisions as reviewed"; head -20 "$T/out" | sed 's/^/        /'; fi
done
(cd tests/golden && python3 gen.py --check) >"$T/gen.out" 2>&1 &&
	ok "gen.py writes the committed logs and predictions" || { ko "gen.py writes the committed logs and predictions"; head -5 "$T/gen.out"; }
if replay -c examples/mdaemon.conf tests/golden/bcc_blast.log --year 2026 | grep -q 'lock     carol@example.com  rule mdaemon_rcpt_500_30m: recipients 550 > 500 in 30m'; then
	ok "human report shows the decision with its evidence"; else ko "human report shows the decision with its evidence"; fi

section "real Postfix 3.7 log (tests/fixtures/postfix37)"
replay --json --stats "$T/fx.json" tests/fixtures/postfix37/maillog >/dev/null
check "events seen match the traffic sent" python3 tests/check_fixture.py "$T/fx.json" tests/fixtures/postfix37/expected.txt
gzip -c tests/fixtures/postfix37/maillog >"$T/fx.gz"
replay --json --stats "$T/fxgz.json" "$T/fx.gz" >/dev/null
check "the same log gzip-compressed reads the same" cmp "$T/fx.json" "$T/fxgz.json"
replay --json --stats "$T/fxin.json" - <tests/fixtures/postfix37/maillog >/dev/null
check "the same log on stdin reads the same" cmp "$T/fx.json" "$T/fxin.json"

section "spam verdicts in a log (tests/fixtures/replay: the real Postfix of e2e_spam.sh)"
replay --json --year 2026 --stats "$T/sm.json" tests/fixtures/replay/spam-milter.log >"$T/sm.got" 2>/dev/null
check "hijackd's milter: its verdict lines and Postfix's milter-reject, each queue ID once: the lock at the 3rd" \
	python3 tests/check_spam_replay.py "$T/sm.got" "$T/sm.json" milter 3 0
replay --json --year 2026 --stats "$T/se.json" tests/fixtures/replay/spam-exporter.log >"$T/se.got" 2>/dev/null
check "rspamd as the milter: the exporter's verdict lines (one repeated, two not readable), rspamd's own reject text not counted" \
	python3 tests/check_spam_replay.py "$T/se.got" "$T/se.json" rspamd 0 2
grep -v 'hijackd\[' tests/fixtures/replay/spam-milter.log >"$T/sm-pf.log"
replay --json --year 2026 "$T/sm-pf.log" 2>/dev/null | grep -q '"action":"lock","rule":"spam_lock_1h".*"queue_id":"D3750A74097".*"content":{"verdict":"spam"}' &&
	ok "Postfix's lines alone (hijackd logging elsewhere): the same lock from the milter-reject lines, no score" ||
	ko "Postfix's lines alone: no spam_lock_1h at D3750A74097"

section "bad input"
expect_rc() { # want_rc what command...
	local want=$1 what=$2; shift 2
	"$@" >"$T/bo" 2>"$T/be"; local rc=$?
	if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else ko "$what: exit $rc, want $want"; head -5 "$T/be" | sed 's/^/        /'; fi
}
: >"$T/empty.log"
expect_rc 0 "empty file" replay --json "$T/empty.log"
expect_rc 1 "missing file" replay --json "$T/does-not-exist.log"
grep -q 'does-not-exist.log: No such file or directory' "$T/be" && ok "missing file is named with the reason" || ko "missing file message: $(cat "$T/be")"
expect_rc 1 "missing file among good ones still reports" replay "$T/does-not-exist.log" tests/fixtures/postfix37/maillog
grep -q 'Postfix lines understood *174' "$T/bo" && ok "  ... and the good file was read" || ko "good file after a missing one not read"
head -c 2000000 /dev/urandom >"$T/garbage.bin"
expect_rc 0 "binary garbage" replay --json --stats "$T/g.json" "$T/garbage.bin"
python3 -c "import json,sys; d=json.load(open('$T/g.json')); sys.exit(0 if d['garbled']+d['overlong']+d['empty']+d['other'] == d['lines'] > 0 else 1)" && ok "  ... every garbage line counted and skipped" || ko "garbage lines not all counted"
{ head -50 tests/fixtures/postfix37/maillog; head -c 10485760 /dev/zero | tr '\0' 'x'; echo; tail -n +51 tests/fixtures/postfix37/maillog; } >"$T/longline.log"
expect_rc 0 "a 10 MB line" replay --json --stats "$T/ll.json" "$T/longline.log"
python3 -c "import json,sys; d=json.load(open('$T/ll.json')); sys.exit(0 if d['overlong'] == 1 and d['understood'] == 174 else 1)" && ok "  ... skipped as overlong, every other line read" || ko "10 MB line handling: $(cat "$T/ll.json")"
awk '{ print substr($0, 1, int(length($0) / 2)) }' tests/fixtures/postfix37/maillog >"$T/trunc.log"
expect_rc 0 "every line truncated in the middle" replay --json --stats "$T/tr.json" "$T/trunc.log"
for i in 1 2 3 4 5 6 7 8; do cat tests/fixtures/postfix37/maillog; done | gzip -c >"$T/big.gz"
head -c $(($(wc -c <"$T/big.gz") / 2)) "$T/big.gz" >"$T/cut.gz"
expect_rc 1 "truncated gzip" replay --json "$T/cut.gz"
grep -q 'read error' "$T/be" && ok "  ... reported as a read error" || ko "truncated gzip message: $(cat "$T/be")"
head -20 tests/fixtures/postfix37/maillog >"$T/mid.log"
expect_rc 0 "log ending mid-transaction" replay --stats "$T/mid.json" "$T/mid.log"
grep -q 'Messages unfinished at the end: [1-9]' "$T/bo" && ok "  ... unfinished messages reported" || ko "unfinished messages not reported"
# a quoted sender holding ">, size=1, nrcpt=1 " must not hide the message's 600 recipients
printf 'rule rcpt_500_30m = metric=recipients window=30m limit=500 action=lock\n' >"$T/rcpt500.conf"
expect_rc 0 "qmgr line with a quoted sender holding \", nrcpt=1\" (tests/fixtures/qmgr_quoted_sender.log)" replay --json --year 2026 -c "$T/rcpt500.conf" tests/fixtures/qmgr_quoted_sender.log
grep -q '"action":"lock","rule":"rcpt_500_30m".*"count":600' "$T/bo" && ok "  ... its 600 recipients counted (size= and nrcpt= read from the end): locked" || ko "spoofed qmgr counts: $(head -c 300 "$T/bo")"
expect_rc 2 "no file given" replay --json
expect_rc 2 "unknown option" replay --bogus x
printf 'own_networks = 10.0.0.0/8\nbogus_setting = 1\n' >"$T/bad1.conf"
expect_rc 3 "unknown setting" replay -c "$T/bad1.conf" "$T/empty.log"
grep -q "bad1.conf:2: unknown setting \"bogus_setting\"" "$T/be" && ok "  ... named with file:line" || ko "unknown setting message: $(cat "$T/be")"
printf '# rules\n\nrule r1 = metric=messages window=1h limit=5 action=lock\nrule r2 = metric=nonsense window=1h\n  limit=5 action=warn\n' >"$T/bad2.conf"
expect_rc 3 "bad rule" replay -c "$T/bad2.conf" "$T/empty.log"
grep -q 'bad2.conf:4: bad value for metric: "nonsense"' "$T/be" && ok "  ... named with file:line" || ko "bad rule message: $(cat "$T/be")"
printf 'own_networks = 10.0.0.0/33\n' >"$T/bad3.conf"
expect_rc 3 "bad network" replay -c "$T/bad3.conf" "$T/empty.log"
grep -q 'bad3.conf:1: bad network "10.0.0.0/33"' "$T/be" && ok "  ... named with file:line" || ko "bad network message: $(cat "$T/be")"
printf 'rule r = metric=messages window=1h limit=5 action=lock\noverride a@b.c = nosuch.limit=3\n' >"$T/bad4.conf"
expect_rc 3 "override of a missing rule" replay -c "$T/bad4.conf" "$T/empty.log"
grep -q 'bad4.conf:2: override: no rule named "nosuch"' "$T/be" && ok "  ... named with file:line" || ko "override message: $(cat "$T/be")"
expect_rc 3 "missing configuration file" replay -c "$T/nonexistent.conf" "$T/empty.log"
expect_rc 3 "bad -o" replay -o 'queue_id_lifetime=soon' "$T/empty.log"
grep -q -- '-o:1: bad duration "soon"' "$T/be" && ok "  ... named as -o" || ko "-o message: $(cat "$T/be")"
printf 'signal_window = 1h\nscore_weights = novel_network=3, nosuch=2\n' >"$T/bad6.conf"
expect_rc 3 "bad signal weight" replay -c "$T/bad6.conf" "$T/empty.log"
grep -q 'bad6.conf:2: bad weight "nosuch"' "$T/be" && ok "  ... named with file:line" || ko "bad weight message: $(cat "$T/be")"
printf 'rule s = metric=score window=1h limit=5 action=warn scope=ip\n' >"$T/bad7.conf"
expect_rc 3 "a score rule on client IPs" replay -c "$T/bad7.conf" "$T/empty.log"
grep -q 'bad7.conf:1: rule s: metric score judges accounts' "$T/be" && ok "  ... named with file:line" || ko "score scope message: $(cat "$T/be")"

section "configuration"
# the round trip must print a real configuration (its settings and rules), and load it back
"$HJ" config >"$T/c1.conf"; rc1=$?
"$HJ" config -c "$T/c1.conf" >"$T/c2.conf"; rc2=$?
check "hijackd config prints the settings and rules (exit $rc1)" \
	bash -c "[ $rc1 = 0 ] && grep -q '^policy_listen = ' '$T/c1.conf' && grep -q '^store_error_action = ' '$T/c1.conf' && grep -q '^rule [a-z_0-9]* = metric=' '$T/c1.conf'"
check "  ... and that output loads back to the same configuration (exit $rc2)" \
	bash -c "[ $rc2 = 0 ] && [ -s '$T/c2.conf' ] && diff <(tail -n +2 '$T/c1.conf') <(tail -n +2 '$T/c2.conf')"
# the settings reference is generated from the table: the committed one must be current
"$HJ" config --reference >"$T/SETTINGS.md"
check "docs/SETTINGS.md is what hijackd config --reference prints (else regenerate it)" \
	diff -u docs/SETTINGS.md "$T/SETTINGS.md"
"$HJ" config -c examples/mdaemon.conf -o 'rule mdaemon_rcpt_500_30m = metric=recipients window=30m limit=100 action=lock' >"$T/c3.conf"
check "-o replaces a rule of the file" \
	bash -c "[ \$(grep -c '^rule mdaemon_rcpt_500_30m = ' '$T/c3.conf') = 1 ] && grep -Eq '^rule mdaemon_rcpt_500_30m = .* limit=100( |\$)' '$T/c3.conf'"
replay --json --year 2026 -c tests/golden/bcc_blast.conf tests/golden/bcc_blast.log >"$T/noex.jsonl" &&
	replay --json --year 2026 -c tests/golden/bcc_blast.conf -o 'exempt=carol@*' tests/golden/bcc_blast.log >"$T/ex.jsonl"
rc=$?
check "-o exempt= silences an account (carol locked without it, nothing with it; exit $rc)" \
	bash -c "[ $rc = 0 ] && grep -q '\"account\":\"carol@example.com\",\"action\":\"lock\"' '$T/noex.jsonl' && [ ! -s '$T/ex.jsonl' ]"

section "test tools"
check "tests/tools/logconv.py (the log rewriter the equivalence checks use)" tests/tools/test_logconv.sh
# (inside a mutation run one text is mutated on purpose: that run must be caught by the others)
if [ -n "${HJ_MUTATION:-}" ]; then skip "tests/mutate.sh --check (inside a mutation run, where one text is changed on purpose)"
else check "every mutation of tests/mutate.sh still applies exactly once (the table has not rotted)" tests/mutate.sh --check; fi

section "equivalence with the MDaemon anchor (examples/mdaemon.conf vs naive_baseline.py)"
EQUIV="dev1-syslog dev1-iso+01:00 dev1-postlog dev1-3.4-longids-interleaved dev1-shifted-across-new-year"
if [ -f "$SHARED/eval/dev1/maillog.gz" ] && [ -f "$SHARED/eval/naive_baseline.py" ]; then
	zcat "$SHARED/eval/dev1/maillog.gz" >"$T/dev1.log"
	# the baseline reads dev1 as it is; every rewrite of it must give our same first locks
	python3 "$SHARED/eval/naive_baseline.py" --year 2026 "$T/dev1.log" >"$T/naive.jsonl"
	equiv() { # name log [baseline output]
		replay --json --year 2026 -c examples/mdaemon.conf "$2" >"$T/$1.ours"
		check "first locks as the baseline, to the second: $1" python3 tests/check_equiv.py "$T/$1.ours" "${3:-$T/naive.jsonl}"
	}
	equiv dev1-syslog "$T/dev1.log"
	python3 tests/tools/logconv.py --ts iso --tz-offset +01:00 "$T/dev1.log" >"$T/iso.log" && equiv dev1-iso+01:00 "$T/iso.log"
	python3 tests/tools/logconv.py --ts postlog "$T/dev1.log" >"$T/postlog.log" && equiv dev1-postlog "$T/postlog.log"
	python3 tests/tools/logconv.py --postfix 3.4 --long-queue-ids --syslog-name postfix-out --interleave "$T/dev1.log" >"$T/v34.log" && equiv dev1-3.4-longids-interleaved "$T/v34.log"
	python3 tests/tools/logconv.py --shift-days 57 "$T/dev1.log" >"$T/newyear.log" &&
		python3 "$SHARED/eval/naive_baseline.py" --year 2026 "$T/newyear.log" >"$T/newyear.naive" &&
		equiv dev1-shifted-across-new-year "$T/newyear.log" "$T/newyear.naive"
else
	for e in $EQUIV; do skip "first locks as the baseline: $e ($SHARED/eval not found)"; done
fi

section "the README's dev1 results for the built-in default (../shared/eval/score.py)"
# the figures are read from the README itself: the code block after "On the labelled week"
README_DEV1=$(awk '/^On the labelled week `..\/shared\/eval\/dev1`, the default gives:/ { f = 1; next }
	f && /^```$/ { if (in_block) exit; in_block = 1; next } in_block { printf "%s ", $0 }' README.md | tr -s ' ' | sed 's/ $//')
dev1_score() { # name log [score.py options]: the summary line must be the README's
	local n=$1 log=$2; shift 2
	replay --json "$log" >"$T/$n.dec" 2>"$T/$n.err" || { ko "dev1 results ($n): replay failed"; return; }
	python3 "$SHARED/eval/score.py" --truth "$SHARED/eval/dev1/truth.json" --maillog "$log" \
		--decisions "$T/$n.dec" --quiet "$@" >"$T/$n.score" 2>&1
	local got; got=$(tail -n 1 "$T/$n.score" | tr -s ' ')
	if [ -n "$README_DEV1" ] && [ "$got" = "$README_DEV1" ]; then ok "dev1 results ($n) as the README says: $got"
	else ko "dev1 results ($n): README says \"$README_DEV1\", scored \"$got\""; fi
}
if [ -f "$SHARED/eval/dev1/truth.json" ] && [ -f "$T/dev1.log" ]; then
	dev1_score syslog "$T/dev1.log"
	dev1_score iso+01:00 "$T/iso.log" --ts-mode absolute
	dev1_score 3.4-longids "$T/v34.log"
else
	for e in syslog iso+01:00 3.4-longids; do skip "dev1 results ($e) as the README says ($SHARED/eval not found)"; done
fi

section "the daemon: policy service black-box (tests/daemon_test.py)"
tally timeout 300 python3 tests/daemon_test.py "$HJ"

section "the daemon: milter front end black-box (tests/milter_test.py)"
tally timeout 300 python3 tests/milter_test.py "$HJ"

section "the anti-spam scanner client against a real rspamd and spamd and fake scanners (tests/scan_test.py)"
tally timeout 300 python3 tests/scan_test.py "$B"
section "rspamd's metadata_exporter pushing its verdicts to hijackd, live (tests/exporter_test.py)"
tally timeout 300 python3 tests/exporter_test.py "$HJ"

section "the admin surface: control socket, hijackctl, HTTP API, /metrics, dashboard (tests/admin_test.py)"
# the browser (Chromium + Playwright) runs once, in the e2e pass
if [ "$E2E" = 1 ]; then HJ_SCREENSHOT="$T/dashboard.png" tally timeout 600 python3 tests/admin_test.py "$B"
else HJ_NO_BROWSER=1 tally timeout 300 python3 tests/admin_test.py "$B"; fi
tally timeout 120 python3 tests/ctl_fake_daemon.py --check "$B/hijackctl"
# the audit trail of 300,000 rows: admin reads newest first with a LIMIT, the policy path not held
check "an audit trail of 300,000 rows: /api/decisions?limit=50 and /api/history each < 300 ms, no policy answer behind them > 200 ms (bench/audit-bench.py --check)" timeout 180 python3 bench/audit-bench.py "$B" 300000 --check

section "fuzzing: each harness of tests/fuzz/ a few seconds under ASan + UBSan (make fuzz-smoke)"
FUZZ_NAMES=$(sed -n 's/^FUZZ_NAMES = //p' Makefile)
if [ -n "${HJ_NO_FUZZ:-}" ] || ! command -v clang >/dev/null; then
	why="no clang"; [ -n "${HJ_NO_FUZZ:-}" ] && why="HJ_NO_FUZZ is set"
	for f in $FUZZ_NAMES; do skip "fuzz_$f ($why)"; done
elif ! make -s fuzz >"$T/fuzz.build" 2>&1; then
	ko "make fuzz builds the harnesses"; tail -20 "$T/fuzz.build" | sed 's/^/        /'
else
	tests/fuzz/smoke.sh build-fuzz "${FUZZ_SECONDS:-5}" $FUZZ_NAMES >"$T/fuzz.out" 2>&1
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		"not ok - "*) ko "${l#not ok - }" ;;
		*) echo "        $l" ;;
		esac
	done <"$T/fuzz.out"
	[ "$(grep -c '^ok - ' "$T/fuzz.out")" = "$(echo $FUZZ_NAMES | wc -w)" ] || ko "fuzz-smoke ran every harness"
fi

section "real Postfix + Dovecot, live (tests/harness)"
if [ "$E2E" = 1 ] && [ "$(id -u)" = 0 ]; then
	if FIXTURE_OUT="$T/live" tests/fixtures/postfix37/make-fixture.sh >"$T/live.out" 2>&1; then
		ok "real Postfix run: the log matches the traffic sent"
		replay --json --stats "$T/live.json" "$T/live/maillog" >/dev/null
		check "events seen in a fresh real Postfix log match the traffic sent" python3 tests/check_fixture.py "$T/live.json" "$T/live/expected.txt"
	else
		ko "real Postfix run"; tail -20 "$T/live.out" | sed 's/^/        /'
	fi
	tally timeout 300 tests/e2e_policy.sh "$HJ"
	tally timeout 300 tests/e2e_detect.sh "$HJ"
	tally timeout 300 tests/e2e_queue.sh "$B"
	tally timeout 300 tests/e2e_hold.sh "$B"
	tally timeout 300 tests/e2e_notify.sh "$B"
	tally timeout 300 tests/e2e_milter.sh "$HJ"
	tally timeout 300 tests/e2e_sendmail.sh "$HJ"
	tally timeout 300 tests/e2e_spam.sh "$HJ"
	tally timeout 300 tests/e2e_sendmail_spam.sh "$HJ"
else
	why="needs root"; [ "$E2E" = 0 ] && why="--no-e2e: the real Postfix + Dovecot run in the first pass only"
	for e in "real Postfix run" e2e_policy.sh e2e_detect.sh e2e_queue.sh e2e_hold.sh e2e_notify.sh e2e_milter.sh e2e_sendmail.sh e2e_spam.sh e2e_sendmail_spam.sh; do skip "$e ($why)"; done
fi

echo
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
