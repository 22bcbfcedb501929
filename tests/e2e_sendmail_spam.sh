#!/bin/bash
# e2e_sendmail_spam.sh HIJACKD - outgoing spam verdicts through a real Sendmail 8.17 (tests/sendmail)
# with hijackd's milter as its only front end: the scenario of tests/e2e_spam.sh without Postfix.
# A real rspamd 3.4 (tests/scan_test.py --exec-rspamd: loopback, no Redis), spam_scanner and the
# BUILT-IN rules. alice sends GTUBE with SMTP AUTH: each message is refused at its end with
# spam_reject_text; the 3rd in the hour locks her (spam_lock_1h) and her next, clean, message is
# refused at RCPT; bob's clean mail goes, scanned and counted for nothing. hijackd's own mail (the
# spam prompt to alice, the lock's alert) goes through sendmail_path, here a stub that appends its
# arguments and the message to DIR/outbox (the system's /usr/sbin/sendmail is Postfix's). At the end
# everything the script started is stopped, and that is checked. TAP plan "1..N"; exit status =
# number of failures. Needs root; skips where Sendmail's packages or rspamd cannot be had.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
CHECKS=(
	"Sendmail + milter + the real rspamd: alice's 3 GTUBE messages refused at their end (550 5.7.1 Message judged as spam)"
	"none of them reached Sendmail's sink"
	"the 3rd locked her: her next, clean, message is refused at RCPT"
	"bob's clean mail accepted and delivered"
	"the lock's decision: rule spam_lock_1h, rspamd's GTUBE verdict, through the milter"
	"one verdict line per scanned message"
	"exactly one spam prompt, to alice@example.test, through sendmail_path"
	"the lock's alert to the postmaster through sendmail_path"
	"everything started is stopped (hijackd, rspamd, Sendmail)"
)
plan ${#CHECKS[@]}
skip_all() { local c; for c in "${CHECKS[@]}"; do echo "ok      $c # SKIP $1"; SKIP=$((SKIP + 1)); done; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root (Sendmail runs in its own namespaces)"
command -v rspamd >/dev/null || skip_all "no rspamd (scripts/deps.sh test installs it)"
HJ=$(readlink -f "$1")
SMH="$ROOT/tests/sendmail/sendmail.sh"
SEND="$ROOT/tests/sendmail/send.py"
"$SMH" fetch >/dev/null 2>&1
[ $? = 3 ] && skip_all "Sendmail packages not available"
D=$(mktemp -d /tmp/hijackd-e2ess.XXXXXX); chmod 0755 "$D"
eval "$("$SMH" env "$D/sm")" # PORT (Sendmail), MPORT (the milter)
read -r RPORT PPORT <<<"$(free_ports 2)"
HJPID="" RSPID=""
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
stop_all() {
	[ -n "$HJPID" ] && kill -KILL "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null
	[ -n "$RSPID" ] && kill -TERM -- "-$RSPID" 2>/dev/null && wait "$RSPID" 2>/dev/null
	"$SMH" down "$D/sm" >/dev/null 2>&1
}
cleanup() { stop_all; [ "$FAIL" = 0 ] && rm -rf "$D"; }
trap cleanup EXIT
send() { "$SEND" "$PORT" "$1@example.test" "$2" "$1@example.test" "secret-$1"; } # user to (SEND_BODY)
code() { sed -n 's/.*"'"$2"'": \[\([0-9]*\),.*/\1/p' <<<"$1"; }
# outbox_count RCPT PATTERN: the stub's records whose last argument is RCPT and whose message matches
outbox_count() {
	awk -v rcpt="$1" -v pat="$2" '
		function end() { if (to && hit) n++ }
		/^=== sendmail / { end(); to = ($NF == rcpt); hit = 0; next }
		$0 ~ pat { hit = 1 }
		END { end(); print n + 0 }' "$D/outbox" 2>/dev/null || echo 0
}
wait_outbox() { # RCPT PATTERN: at least one such record, within 20 s
	for _ in $(seq 200); do [ "$(outbox_count "$1" "$2")" -ge 1 ] && return 0; sleep 0.1; done
	return 1
}

# hijackd's sendmail_path: one record per call ("=== sendmail ARGS", the message), appended under a
# lock so that the prompt and the alert, if sent at once, never interleave
cat >"$D/sendmail-stub" <<'EOF'
#!/bin/sh
exec 9>>"$(dirname "$0")/outbox"
flock 9 || exit 75
{ printf '=== sendmail'; printf ' %s' "$@"; printf '\n'; cat; printf '\n'; } >&9
EOF
chmod 0755 "$D/sendmail-stub"

rspamd_up "$RPORT" "$D/rspamd.out" || { ko "rspamd answered /ping on 127.0.0.1:$RPORT"; sed 's/^/#   /' "$D/rspamd.out"; exit 1; }
"$HJ" -f -o http_listen= -o log_follow= -o state_dir="$D/state" -o policy_listen=127.0.0.1:"$PPORT" \
	-o milter_listen=127.0.0.1:"$MPORT" -o spam_scanner="rspamd:http://127.0.0.1:$RPORT" \
	-o spam_scan_timeout=10s -o local_domains=example.test -o alert_to=postmaster@example.test \
	-o sendmail_path="$D/sendmail-stub" >>"$D/hijackd.log" 2>&1 &
HJPID=$!
started=0
for _ in $(seq 50); do grep -q started: "$D/hijackd.log" 2>/dev/null && { started=1; break; }; sleep 0.1; done
[ "$started" = 1 ] || { ko "hijackd started"; sed 's/^/#   /' "$D/hijackd.log"; exit 1; }
PORT=$PORT MPORT=$MPORT "$SMH" up "$D/sm" >"$D/up.out" 2>&1 || { ko "Sendmail up"; sed 's/^/#   /' "$D/up.out"; exit 1; }

refused=0 last=""
for i in 1 2 3; do
	out=$(SEND_BODY=$GTUBE send alice "r$i@remote.test")
	if [ "$(code "$out" data)" = 550 ] && grep -q '5\.7\.1 Message judged as spam' <<<"$out"; then
		refused=$((refused + 1))
	else last=$out; fi
done
check "${CHECKS[0]} ($refused of 3${last:+; ${last:0:200}})" test "$refused" = 3
n_gtube=$(grep -l -- "$GTUBE" "$D/sm/sink/"msg.* 2>/dev/null | wc -l)
check "${CHECKS[1]} ($n_gtube there)" test "$n_gtube" = 0
out=$(send alice clean@remote.test)
check "${CHECKS[2]}: ${out:0:200}" eval '[ "$(code "$out" rcpt)" = 550 ] && grep -q "5\.7\.1 .*Sending from your account is blocked" <<<"$out"'
out=$(SEND_BODY="hello, see you" send bob b@remote.test)
# Sendmail delivers in the background: wait for the sink (up to 20 s on a loaded machine)
for _ in $(seq 200); do grep -qs "^X-Sink-Rcpt: b@remote.test" "$D/sm/sink/"msg.* && break; sleep 0.1; done
check "${CHECKS[3]}: ${out:0:160}" eval '[ "$(code "$out" data)" = 250 ] &&
	grep -qs "^X-Sink-Rcpt: b@remote.test" "$D/sm/sink/"msg.*'
check "${CHECKS[4]}" grep -q \
	'"account":"alice@example.test","action":"lock","rule":"spam_lock_1h".*"service":"milter","content":{"verdict":"spam".*GTUBE' \
	"$D/hijackd.log"
n=$(grep -c 'spam verdict {"class":"spam".*"account":"alice@example.test"' "$D/hijackd.log")
b=$(grep -c 'spam verdict {"class":"clean".*"account":"bob@example.test"' "$D/hijackd.log")
all=$(grep -c 'spam verdict {' "$D/hijackd.log")
check "${CHECKS[5]} (alice spam $n, bob clean $b, all $all)" test "$n" = 3 -a "$b" = 1 -a "$all" = 4
PROMPT='^Subject: Mail sent from your account alice@example.test looked like spam'
ALERT='locked \(spam_lock_1h\)'
wait_outbox postmaster@example.test "$ALERT"
wait_outbox alice@example.test "$PROMPT"
sleep 1 # a second prompt, if one were coming, has had its time
p_alice=$(outbox_count alice@example.test "$PROMPT")
p_all=$(grep -c 'looked like spam' "$D/outbox" 2>/dev/null)
calls=$(grep -c '^=== sendmail ' "$D/outbox" 2>/dev/null)
check "${CHECKS[6]} (to alice $p_alice, 'looked like spam' lines $p_all, sendmail calls $calls)" \
	test "$p_alice" = 1 -a "$p_all" = 1
check "${CHECKS[7]} ($(outbox_count postmaster@example.test "$ALERT"))" \
	test "$(outbox_count postmaster@example.test "$ALERT")" = 1

stop_all
left=""
for _ in $(seq 100); do
	left=$( { [ -n "$HJPID" ] && kill -0 "$HJPID" 2>/dev/null && echo "hijackd $HJPID"
		pgrep -s "$RSPID" | sed 's/^/rspamd-session /'
		pgrep -f -- "$D" | sed 's/^/cmdline-names-dir /'
		"$SMH" status "$D/sm" >/dev/null 2>&1 && echo "sendmail"; } | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.1
done
check "${CHECKS[8]}${left:+: left $left}" test -z "$left"
if [ "$FAIL" != 0 ]; then
	echo "# hijackd log:"; tail -20 "$D/hijackd.log" | sed 's/^/#   /'
	echo "# outbox:"; sed 's/^/#   /' "$D/outbox" 2>/dev/null | head -60
	echo "# work files kept in $D"
fi
finish
exit "$FAIL"
