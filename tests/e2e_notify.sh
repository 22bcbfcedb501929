#!/bin/bash
# e2e_notify.sh BUILD - notices and unlock flows with the real Postfix 3.7 + Dovecot (tests/harness).
#
# hijackd is the policy service of the submission port, follows the Postfix log, sends its mail
# through Postfix's own sendmail (-C the test instance), and the README's reply-to-unlock wiring is
# in place: hijackd-unlock@example.test goes through a pipe(8) service to "hijackctl mail-unlock",
# run as nobody.
#   - alice blasts: locked at her 2nd message; exactly one alert reaches the postmaster's Maildir,
#     exactly one notice reaches alice's, one webhook POST reaches a local receiver;
#   - the postmaster's own authenticated mail, the same two messages that locked alice, is never
#     counted (hijackctl show: no such account, or every counter at 0), while alice's were;
#   - replies to the alert: a wrong token, the right token from another address, an expired token
#     (made with the daemon's key) change nothing; the right one from the postmaster unlocks, and
#     alice sends again; the same token after a new lock does not unlock (used). Each verdict is
#     the daemon's log line about that very reply (read after the reply was sent, waited for);
#   - bob is locked by a rule with unlock_after=6s, is unlocked automatically, and his next lock is
#     escalated (no automatic unlock);
#   - a storm of locks beyond alert_max gives one digest, not a mail per lock;
#   - the alerts themselves are never counted against any account;
#   - with a dead webhook receiver the policy answers are as fast as without one, measured in the
#     same run: the answers that lock within 1 ms (median), p99 within 5 ms, none over 1 s.
# Prints the TAP plan "1..N", then "ok ..." / "not ok ..." lines; exit status = number of failures.
# Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
plan 49 # the check lines below
B=$(readlink -f "$1")
MS="$ROOT/tests/harness/mailstack.sh"
D=$(mktemp -d /tmp/hijackd-e2e-notify.XXXXXX); chmod 0755 "$D"
read -r PORT HTTP < <(free_ports 2)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	"$MS" down "$D/ms" >/dev/null 2>&1
	[ "$FAIL" = 0 ] && rm -rf "$D"
}
trap cleanup EXIT
MB="$D/ms/mail/example.test"
count() { find "$1" -type f 2>/dev/null | wc -l; }
wait_count() { # dir n seconds: until dir holds n files
	for _ in $(seq $(($3 * 10))); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1
}
logged() { # pattern [seconds]
	for _ in $(seq $((${2:-10} * 10))); do grep -q "$1" "$D/hijackd.log" && return 0; sleep 0.1; done; return 1
}
mark() { # the number of complete lines in hijackd's log now (waits out a line being written)
	for _ in $(seq 20); do [ -z "$(tail -c1 "$D/hijackd.log")" ] && break; sleep 0.05; done
	wc -l <"$D/hijackd.log"
}
sub() { # user to... : one message from an outside address, authenticated
	local u=$1; shift
	local to; to=$(IFS=,; echo "$*")
	swaks --server 127.0.0.1:3587 --xclient "ADDR=203.0.113.66 NAME=[UNAVAILABLE]" --auth LOGIN \
		--auth-user "$u@example.test" --auth-password "secret-$u" --from "$u@example.test" --to "$to" \
		--header "Subject: hello" --body "same text" 2>&1
}
queued() { grep -q '^<-  250 2.0.0 Ok: queued' <<<"$1"; }
rejected() { grep -q '^<\*\* 5[0-9][0-9] 5\.7\.1 ' <<<"$1"; }
reply() { # from token : a reply to the alert, through the MX, to the unlock address
	swaks --server 127.0.0.1:3525 --from "$1" --to hijackd-unlock@example.test \
		--header "Subject: Re: [hijackd] alice@example.test locked" \
		--body "$(printf 'unlock it please\n\n> token:\n>    %s\n' "$2")" >/dev/null 2>&1
}
answer() { # from token : send a reply; ANSWER = hijackd's verdict on it, the first line about a reply
	# from that address logged after this one was sent ("" if none within 30 s)
	local m; m=$(mark)
	reply "$1" "$2"
	ANSWER=""
	for _ in $(seq 300); do
		ANSWER=$(tail -n +$((m + 1)) "$D/hijackd.log" | grep -m1 -F "unlock reply from $1")
		[ -n "$ANSWER" ] && return 0
		sleep 0.1
	done
}
said() { grep -qF "$1" <<<"$ANSWER"; }
quiet() { "$@" >/dev/null; }
state_of() { $CTL --json show "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state","?"))' 2>/dev/null; }

# hijackctl for the pipe runs as nobody: a copy it may execute, and (as the README says) a control
# socket in a directory it may reach, while state_dir stays private (0750, as hijackd makes it)
mkdir -p "$D/bin" "$D/run"; chmod 0755 "$D/run"
cp "$B/hijackctl" "$D/bin/hijackctl"; chmod 0755 "$D/bin" "$D/bin/hijackctl"
CTL="$D/bin/hijackctl -o control_socket=$D/run/control.sock"
python3 "$ROOT/tests/tools/hook_receiver.py" ok "$D/hook.port" "$D/hooks.jsonl" & PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$D/hook.port" ] && break; sleep 0.1; done
HOOK=$(cat "$D/hook.port")

export UNLOCK_PIPE="$D/bin/hijackctl -o control_socket=$D/run/control.sock mail-unlock --sender \${sender}"
POLICY=inet:127.0.0.1:$PORT POLICY_STAGES="rcpt eod" POLICY_DEFAULT_ACTION=DUNNO "$MS" up "$D/ms" >"$D/ms.out" 2>&1 ||
	{ ko "mail stack up"; cat "$D/ms.out"; exit 1; }
"$B/hijackd" -f -o http_listen=127.0.0.1:$HTTP -o state_dir="$D/state" -o control_socket="$D/run/control.sock" \
	-o policy_listen=127.0.0.1:$PORT \
	-o log_follow="$D/ms/maillog" -o local_domains=example.test -o postfix_config_dir="$D/ms/postfix" \
	-o alert_to=postmaster@example.test -o alert_from=postmaster@example.test \
	-o alert_max=4 -o alert_interval=20s \
	-o unlock_address=hijackd-unlock@example.test -o unlock_admins=postmaster@example.test \
	-o user_notice_rules=burst_lock,auto_lock -o admin_contact=helpdesk@example.test \
	-o webhook_urls="http://127.0.0.1:$HOOK/hook" -o webhook_on=lock \
	-o 'reject_text=5.7.1 {account} is locked by {rule} ({until}): ask {contact}' \
	-o 'rule burst_lock = metric=recipients window=1h limit=5 action=lock' \
	-o 'rule auto_lock = metric=recipients window=1h limit=5 action=lock unlock_after=6s' \
	-o 'override alice@example.test = auto_lock=off' -o 'override bob@example.test = burst_lock=off' \
	>"$D/hijackd.log" 2>&1 & PIDS="$PIDS $!"
logged "started:" 5 || { ko "hijackd started"; cat "$D/hijackd.log"; exit 1; }

# ---- a lock: one alert, one notice, one webhook
check "alice's first message (3 recipients) is queued" queued "$(sub alice v1@remote.test v2@remote.test v3@remote.test)"
out=$(sub alice v4@remote.test v5@remote.test v6@remote.test)
check "her second is rejected: 6 recipients > 5 locks her (burst_lock)" rejected "$out"
check "  ... with the reply_text template filled in" grep -q '5.7.1 .*alice@example.test is locked by burst_lock (an admin unlocks it): ask helpdesk@example.test' <<<"$out"
check "an alert reaches the postmaster's Maildir" wait_count "$MB/postmaster/new" 1 20
check "a notice reaches alice's Maildir" wait_count "$MB/alice/new" 1 20
check "the webhook receiver gets the incident" wait_count "$D/hooks.jsonl" 1 10
sleep 3 # anything more would have come by now
check "exactly one alert" test "$(count "$MB/postmaster/new")" = 1
check "exactly one notice" test "$(count "$MB/alice/new")" = 1
check "exactly one webhook POST" test "$(wc -l <"$D/hooks.jsonl")" = 1
ALERT=$(cat "$MB"/postmaster/new/*)
NOTICE=$(cat "$MB"/alice/new/*)
check "the alert names the account, the rule and the evidence" grep -q 'rule burst_lock: recipients was 6 in the last 1h, over the limit of 5' <<<"$ALERT"
check "  ... the client address" grep -q 'came from unknown \[203.0.113.66\]' <<<"$ALERT"
check "  ... sample recipients (from the policy requests)" grep -q 'recent recipients: .*v4@remote.test' <<<"$ALERT"
check "  ... what is queued for the account (postqueue ran)" \
	grep -qE "^  (nothing \(the whole queue holds [0-9]+ messages\)|[0-9]+ messages to [0-9]+ recipients)" \
	<<<"$(grep -A1 "In Postfix's queue for this account" <<<"$ALERT")"
check "  ... the exact unlock and purge commands" grep -q "hijackctl queue purge --yes -- 'alice@example.test'" <<<"$ALERT"
check "  ... Reply-To is the unlock address" grep -q '^Reply-To: hijackd-unlock@example.test' <<<"$ALERT"
check "the notice tells alice what to do, with the contact" grep -q 'Contact helpdesk@example.test' <<<"$NOTICE"
check "  ... its subject from the template" grep -q '^Subject: Sending from your mail account alice@example.test is locked' <<<"$NOTICE"
check "the webhook is the incident as JSON (account, action, rule, decision; no unlock token: webhook_include_token = no)" python3 - "$D/hooks.jsonl" <<'PY'
import json, sys
h = json.loads(open(sys.argv[1]).readline())
b = json.loads(h["body"])
assert h["path"] == "/hook" and h["headers"]["Content-Type"] == "application/json", h
assert b["account"] == "alice@example.test" and b["action"] == "lock" and b["rule"] == "burst_lock", b
assert b["decision"]["count"] == 6 and "token" not in b and b["summary"], b
PY

# ---- the postmaster's own authenticated mail is never counted (README, "Never counted, by design")
# the same two messages that locked alice, with real AUTH as postmaster@example.test, through the
# submission port and the policy service; counted, the second would lock it (burst_lock: 6 > 5)
check "the postmaster's authenticated mail like alice's 1st (3 recipients) is queued" \
	queued "$(sub postmaster v1@remote.test v2@remote.test v3@remote.test)"
check "  ... and like her 2nd, which locked her (6 recipients in all), is queued too" \
	queued "$(sub postmaster v4@remote.test v5@remote.test v6@remote.test)"
uncounted() { # account: hijackd counted nothing against it; hijackctl show says it has seen no
	# mail from it, or (once the log follower has read its logins) shows it with every counter at 0
	local out rc; out=$($CTL --json show "$1" 2>&1); rc=$?
	[ "$rc" = 1 ] && [ "$out" = "hijackctl: show: no such account: hijackd has seen no mail from it (404)" ] && return 0
	python3 - "$rc" "$out" <<'PY' 2>/dev/null || { echo "        hijackctl show $1: exit $rc: ${out:0:600}"; return 1; }
import json, sys
assert sys.argv[1] == "0"
r = json.loads(sys.argv[2])
assert r["state"] == "ok" and r["decisions"] == [], r
assert (r["totals"]["messages"], r["totals"]["recipients"]) == (0, 0), r["totals"]
assert r["counters"] and all(c["count"] == 0 for c in r["counters"]), r["counters"]
PY
}
check "  ... hijackd counted none of it (hijackctl show postmaster@example.test)" uncounted postmaster@example.test
check "  ... while alice's were: hijackctl show alice@example.test counts her 6 recipients for burst_lock" \
	python3 -c 'import json,sys; r=[c for c in json.loads(sys.argv[1])["counters"] if c["rule"] == "burst_lock"]; assert r and r[0]["count"] == 6, r' \
	"$($CTL --json show alice@example.test 2>&1)"

# ---- reply to unlock
TOKEN=$(grep -o 'HJU1-[0-9]*-[0-9]*-[0-9a-f]\{32\}' <<<"$ALERT" | head -1)
check "the alert carries an unlock token" test -n "$TOKEN"
WRONG=$(sed 's/.$/0/' <<<"$TOKEN"); [ "$WRONG" = "$TOKEN" ] && WRONG=$(sed 's/.$/1/' <<<"$TOKEN")
answer postmaster@example.test "$WRONG"
check "a reply with a wrong token is refused and logged" said "unlock reply from postmaster@example.test refused: no open incident"
answer bob@example.test "$TOKEN"
check "the right token from another address is refused and logged" said "unlock reply from bob@example.test refused: the reply is not from an address in unlock_admins"
since=$(cut -d- -f2 <<<"$TOKEN")
EXPIRED=$(python3 - "$D/state/unlock.key" "$since" <<'PY'
import hashlib, hmac, sys
key = open(sys.argv[1], "rb").read(); since = int(sys.argv[2]); exp = since + 1
mac = hmac.new(key, ("HJU1\nalice@example.test\n%d\n%d" % (since, exp)).encode(), hashlib.sha256).hexdigest()[:32]
print("HJU1-%d-%d-%s" % (since, exp, mac))
PY
)
answer postmaster@example.test "$EXPIRED"
check "a genuine but expired token is refused and logged" said "unlock reply from postmaster@example.test refused: the token has expired"
check "  ... and alice is still locked after the three refusals" test "$(state_of alice@example.test)" = locked
answer postmaster@example.test "$TOKEN"
check "the postmaster's reply with the token unlocks alice, logged with who replied" \
	said "unlock reply from postmaster@example.test: alice@example.test unlocked"
check "  ... alice's state is ok" test "$(state_of alice@example.test)" = ok
check "  ... and alice sends again" queued "$(sub alice friend@remote.test)"
check "hijackctl locks alice again (a new incident)" quiet $CTL lock alice@example.test --reason "test: a new incident"
answer postmaster@example.test "$TOKEN"
# the verdict is logged once the reply has been handled: the state below is the reply's outcome
check "the same token again (a new lock since) is refused: used" \
	said "unlock reply from postmaster@example.test refused: no open incident for this token"
check "  ... alice stays locked" test "$(state_of alice@example.test)" = locked
$CTL unlock alice@example.test --reason "test done" >/dev/null 2>&1

# ---- automatic unlock, then escalation
check "bob's 6 recipients lock him with auto_lock (unlock_after=6s)" rejected "$(sub bob a@remote.test b@remote.test c@remote.test d@remote.test e@remote.test f@remote.test)"
check "bob is unlocked automatically after 6s" logged '"account":"bob@example.test","action":"unlock".*"reason":"automatic unlock"' 20
check "  ... and sends again" queued "$(sub bob g@remote.test)"
check "locked again soon after: escalated" rejected "$(sub bob h@remote.test i@remote.test j@remote.test k@remote.test l@remote.test m@remote.test)"
ESCALATED='"account":"bob@example.test","action":"lock","rule":"auto_lock".*"escalated":true'
no_until() { ! grep "$ESCALATED" "$D/hijackd.log" | grep -q '"until":'; }
check "  ... the decision says so and has no automatic unlock (no \"until\")" eval 'logged "$ESCALATED" 5 && no_until'
locked_json=$($CTL --json locked 2>&1); rc=$?
check "  ... hijackctl locked lists bob's lock, with no end (exit $rc)" python3 - "$rc" "$locked_json" <<'PY'
import json, sys
assert sys.argv[1] == "0", sys.argv[2]
rows = [x for x in json.loads(sys.argv[2])["locked"] if x["account"] == "bob@example.test"]
assert len(rows) == 1 and "until" in rows[0] and rows[0]["until"] is None, rows
PY

check "the postmaster got 3 alerts in all (alice, bob, bob escalated)" wait_count "$MB/postmaster/new" 3 20

# ---- the alerts were never counted
# the log follower has seen the alerts and notices picked up and delivered, and the postmaster's
# own mail delivered, once it has read all the log Postfix wrote until now (no lag on /metrics)
caught_up() {
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$HTTP/metrics" | grep -qx 'hijackd_log_follow_lag_bytes 0' && return 0
		sleep 0.1
	done
	echo "        the log follower did not catch up"; return 1
}
check "the postmaster's alerts and notices, and its own mail, were never counted (the log read to its end)" \
	eval 'caught_up && uncounted postmaster@example.test'

# ---- a dead webhook does not slow the policy answers
python3 "$ROOT/tests/tools/hook_receiver.py" dead "$D/dead.port" /dev/null & PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$D/dead.port" ] && break; sleep 0.1; done
lat() { # name [webhook url]: a fresh daemon, 40 accounts locked, answers timed
	local p; p=$(free_port)
	"$B/hijackd" -f -o http_listen= -o state_dir="$D/lat-$1" -o store=memory: -o policy_listen=127.0.0.1:$p \
		-o sendmail_path=/bin/true -o postqueue_path=/bin/true -o webhook_timeout=5s -o webhook_on=lock \
		${2:+-o webhook_urls=$2} -o 'rule burst_lock = metric=recipients window=1h limit=25 action=lock' \
		>"$D/lat-$1.log" 2>&1 & local pid=$!
	for _ in $(seq 50); do grep -q "started:" "$D/lat-$1.log" && break; sleep 0.1; done
	python3 "$ROOT/tests/tools/policy_latency.py" "$p" 40 5 >"$D/lat-$1.json"
	kill "$pid"; wait "$pid" 2>/dev/null
}
lat none
lat dead "http://127.0.0.1:$(cat "$D/dead.port")/hook"
read -r none_p99 none_max none_lock dead_p99 dead_max dead_lock locks none_locks < <(python3 - "$D/lat-none.json" "$D/lat-dead.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
print(a["p99_ms"], a["max_ms"], a["lock_p50_ms"], b["p99_ms"], b["max_ms"], b["lock_p50_ms"], b["locks"], a["locks"])
PY
)
echo "        policy answers with 40 locks: no webhook p99 ${none_p99} ms max ${none_max} ms, locking answers p50 ${none_lock} ms;" \
	"dead webhook (5 s timeout) p99 ${dead_p99} ms max ${dead_max} ms, locking answers p50 ${dead_lock} ms"
within() { python3 -c "import sys; sys.exit(0 if $1 <= $2 + $3 else 1)"; } # a b ms: a <= b + ms
check "with a dead webhook the 40 accounts are still locked in time ($locks locks; $none_locks without)" \
	test "$locks" = 40 -a "$none_locks" = 40
check "  ... the answers that lock are as fast as without a webhook (p50 $dead_lock ms; none $none_lock ms; +1 ms allowed)" \
	within "$dead_lock" "$none_lock" 1
check "  ... p99 within 5 ms of the run without a webhook ($dead_p99 ms; none $none_p99 ms)" within "$dead_p99" "$none_p99" 5
check "  ... and no answer waits for the webhook (max $dead_max ms, far below its 5 s timeout)" within "$dead_max" 0 1000
check "  ... the dead webhook's incidents wait in its backlog (state_dir/webhook)" test "$(count "$D/lat-dead/webhook")" -ge 40

# ---- a storm of locks: alert_max=2 per 4s, so 6 locks make at most 3 mails, one of them a digest
cat >"$D/bin/fakesendmail" <<SH
#!/bin/sh
cat >"$D/storm/mail.\$\$"
SH
chmod 0755 "$D/bin/fakesendmail"; mkdir -p "$D/storm"
p=$(free_port)
"$B/hijackd" -f -o http_listen= -o state_dir="$D/storm-state" -o store=memory: -o policy_listen=127.0.0.1:$p \
	-o sendmail_path="$D/bin/fakesendmail" -o postqueue_path=/bin/true -o alert_max=2 -o alert_interval=4s \
	-o 'rule burst_lock = metric=recipients window=1h limit=25 action=lock' >"$D/storm.log" 2>&1 & spid=$!
for _ in $(seq 50); do grep -q "started:" "$D/storm.log" && break; sleep 0.1; done
python3 "$ROOT/tests/tools/policy_latency.py" "$p" 6 3 storm >/dev/null
covered() { cat "$D"/storm/mail.* 2>/dev/null | grep -c -E '^X-Hijackd-Incident: storm-|^==== [0-9]+ of [0-9]+: hijackd@'; }
for _ in $(seq 150); do [ "$(covered)" -ge 6 ] && break; sleep 0.1; done
kill "$spid"; wait "$spid" 2>/dev/null
check "a storm of 6 locks: every incident is mailed ($(covered) of 6)" test "$(covered)" = 6
check "  ... in at most 3 mails ($(count "$D/storm"))" test "$(count "$D/storm")" -le 3
check "  ... one of them a digest" grep -q '^Subject: \[hijackd\] digest: [2-6] incidents' "$D"/storm/mail.*

[ "$FAIL" = 0 ] || { echo "        work files kept in $D"; tail -30 "$D/hijackd.log" | cut -c1-240 | sed 's/^/        /'; }
exit "$FAIL"
