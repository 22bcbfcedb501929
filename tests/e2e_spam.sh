#!/bin/bash
# e2e_spam.sh HIJACKD - outgoing spam verdicts live: a real Postfix 3.7 + Dovecot (tests/harness),
# a real rspamd 3.4 (tests/scan_test.py --exec-rspamd: loopback, no Redis) and hijackd's milter
# with spam_scanner and the BUILT-IN rules. alice sends GTUBE through submission with real SMTP
# AUTH: each message is refused at its end with spam_reject_text; the first brings the outgoing
# spam prompt into her own mailbox (hijackd -> sendmail -> the same Postfix -> her Maildir); the
# 3rd in the hour locks her (spam_lock_1h), the lock's alert reaches the postmaster's mailbox and
# her next, clean, message is refused at RCPT; bob's clean mail to outside goes, scanned and
# counted for nothing; replay of the run's Postfix log (its milter-reject lines) reaches the same
# lock. Then the same with a real spamd (SpamAssassin 4.0, SPAMC/1.5 SYMBOLS) as the scanner and a
# fresh state: bob's three GTUBE messages are refused and lock him. TAP plan "1..N", "ok ..." / "not ok ..." lines; exit status = number of
# failures. Needs root, rspamd and swaks (scripts/deps.sh test installs them).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
plan 14 # the check lines below
HJ=$(readlink -f "$1")
MS="$ROOT/tests/harness/mailstack.sh"
D=$(mktemp -d /tmp/hijackd-e2es.XXXXXX); chmod 0755 "$D"
read -r MPORT RPORT PPORT SPORT <<<"$(free_ports 4)"
HJPID="" RSPID="" SPID=""
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
cleanup() {
	[ -n "$HJPID" ] && kill -KILL "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null
	[ -n "$RSPID" ] && kill -TERM -- "-$RSPID" 2>/dev/null && wait "$RSPID" 2>/dev/null
	[ -n "$SPID" ] && kill -TERM -- "-$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	"$MS" down "$D/ms" >/dev/null 2>&1
	[ "$FAIL" = 0 ] && rm -rf "$D"
}
trap cleanup EXIT
send() { # user to [extra swaks args]
	local u=$1 to=$2; shift 2
	swaks --server 127.0.0.1:3587 --auth PLAIN --auth-user "$u@example.test" --auth-password "secret-$u" \
		--from "$u@example.test" --to "$to" --header "Subject: e2e spam" "$@" 2>&1
}
accepted() { grep -q '^<-  250 2.0.0 Ok: queued' <<<"$1"; }
spam_refused() { grep -q '^<-  354' <<<"$1" && grep -q '^<\*\* 550 5\.7\.1 Message judged as spam' <<<"$1"; }
refused_rcpt() { ! grep -q '^<-  354' <<<"$1" && grep -q '^<\*\* 550 5\.7\.1 Sending from your account is blocked' <<<"$1"; }
mailbox_has() { # user pattern: a message in the user's Maildir matches, within 20 s
	for _ in $(seq 200); do
		grep -qls -- "$2" "$D/ms/mail/example.test/$1/new/"* 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

rspamd_up "$RPORT" "$D/rspamd.out" || { ko "rspamd answered /ping on 127.0.0.1:$RPORT"; cat "$D/rspamd.out"; exit 1; }
MILTER=inet:127.0.0.1:$MPORT MILTER_DEFAULT_ACTION=accept "$MS" up "$D/ms" >"$D/ms.out" 2>&1 ||
	{ ko "mail stack up"; cat "$D/ms.out"; exit 1; }
"$HJ" -f -o http_listen= -o log_follow= -o state_dir="$D/state" -o policy_listen=127.0.0.1:$PPORT \
	-o milter_listen=127.0.0.1:$MPORT -o spam_scanner="rspamd:http://127.0.0.1:$RPORT" \
	-o spam_scan_timeout=10s -o local_domains=example.test -o alert_to=postmaster@example.test \
	-o postfix_config_dir="$D/ms/postfix" >>"$D/hijackd.log" 2>&1 &
HJPID=$!
for _ in $(seq 50); do grep -q started: "$D/hijackd.log" 2>/dev/null && break; sleep 0.1; done

refused=0
for i in 1 2 3; do
	out=$(send alice "r$i@remote.test" --body "$GTUBE")
	if spam_refused "$out"; then refused=$((refused + 1)); else echo "$out" | tail -4 | sed 's/^/#   /'; fi
done
check "GTUBE through the real Postfix, judged by the real rspamd: 3 of 3 refused at their end with spam_reject_text ($refused)" \
	test "$refused" = 3
check "the outgoing spam prompt is in alice's own mailbox (through the real Postfix)" \
	mailbox_has alice "^Subject: Mail sent from your account alice@example.test looked like spam"
check "  ... naming the message's subject" mailbox_has alice "^    Subject: e2e spam"
n_prompts=$(grep -ls "looked like spam" "$D/ms/mail/example.test/alice/new/"* 2>/dev/null | wc -l)
check "one prompt for three spam messages in an hour ($n_prompts)" test "$n_prompts" = 1
check "the 3rd locked her (spam_lock_1h): the alert is in the postmaster's mailbox" \
	mailbox_has postmaster "locked (spam_lock_1h)"
check "her next, clean, message is refused at RCPT" refused_rcpt "$(send alice "clean@remote.test" --body "hello")"
check "locked, alice still receives mail (bob -> alice accepted and in her Maildir)" \
	eval 'accepted "$(send bob alice@example.test --body "still there?" --header "Subject: for alice")" && mailbox_has alice "^Subject: for alice"'
check "bob's clean mail to outside goes (scanned, counted for nothing)" accepted "$(send bob "b@remote.test" --body "hello, see you")"
check "the lock's evidence: rspamd's GTUBE through the milter" \
	grep -q '"action":"lock","rule":"spam_lock_1h".*"service":"milter","content":{"verdict":"spam".*GTUBE' "$D/hijackd.log"
n=$(grep -c 'spam verdict {"class":"spam"' "$D/hijackd.log")
b=$(grep -c 'spam verdict {"class":"clean".*"account":"bob@example.test"' "$D/hijackd.log")
check "one verdict line per scanned message (spam $n, bob clean $b)" test "$n" = 3 -a "$b" = 1
got=$("$HJ" replay --json --year "$(date +%Y)" "$D/ms/maillog" 2>/dev/null | grep '"action":"lock"')
check "replay of the run's Postfix log reaches the same lock (its milter-reject lines: spam_lock_1h, alice)" \
	grep -q '"account":"alice@example.test","action":"lock","rule":"spam_lock_1h"' <<<"$got"

# the same with spamd: hijackd restarted on the same milter port with a fresh state
kill -TERM "$HJPID" 2>/dev/null; wait "$HJPID" 2>/dev/null; HJPID=""
sd=(spamd --listen=127.0.0.1:$SPORT --allowed-ips=127.0.0.1 -x --syslog=stderr --max-children=2 --min-children=1 -L)
[ "$(id -u)" = 0 ] && sd=(spamd -u nobody -g nogroup "${sd[@]:1}")
setsid "${sd[@]}" >"$D/spamd.out" 2>&1 </dev/null &
SPID=$!
for _ in $(seq 600); do spamc -d 127.0.0.1 -p "$SPORT" -K >/dev/null 2>&1 && break; sleep 0.1; done
"$HJ" -f -o http_listen= -o log_follow= -o state_dir="$D/state2" -o policy_listen=127.0.0.1:$PPORT \
	-o milter_listen=127.0.0.1:$MPORT -o spam_scanner="spamd:127.0.0.1:$SPORT" \
	-o spam_scan_timeout=10s -o local_domains=example.test -o sendmail_path=/bin/true >>"$D/hijackd2.log" 2>&1 &
HJPID=$!
for _ in $(seq 50); do grep -q started: "$D/hijackd2.log" 2>/dev/null && break; sleep 0.1; done
refused=0
for i in 1 2 3; do spam_refused "$(send bob "s$i@remote.test" --body "$GTUBE")" && refused=$((refused + 1)); done
check "spamd as the scanner: bob's 3 GTUBE messages refused at their end ($refused)" test "$refused" = 3
check "  ... the 3rd locked him (spam_lock_1h, spamd's GTUBE in the evidence)" \
	grep -q '"account":"bob@example.test","action":"lock","rule":"spam_lock_1h".*"content":{"verdict":"spam".*GTUBE' "$D/hijackd2.log"
check "  ... and his next, clean, message is refused at RCPT" refused_rcpt "$(send bob "clean@remote.test" --body "hello")"
[ "$FAIL" = 0 ] || { echo "# hijackd log:"; tail -20 "$D/hijackd.log" "$D/hijackd2.log" | sed 's/^/#   /'; }
finish
exit "$FAIL"
