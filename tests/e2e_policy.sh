#!/bin/bash
# e2e_policy.sh HIJACKD - hijackd live in front of a real Postfix 3.7 + Dovecot (tests/harness).
#
# hijackd (a 5-recipient lock limit) serves Postfix's policy requests at RCPT and END-OF-MESSAGE.
# alice sends through submission with real SMTP AUTH until refused; bob keeps sending; alice still
# receives; after kill -9 and a restart alice's lock comes back from the store's lock table (hijackctl
# locked lists it before any mail, and her next message is refused at RCPT, where only a lock in
# force refuses: counters restored from a flush would lock her again only at END-OF-MESSAGE); with
# hijackd stopped, Postfix applies the documented smtpd_policy_service_default_action (DUNNO: mail
# flows). Finally `hijackd replay` of that very run's Postfix log must give the same lock (account,
# rule) as the live daemon.
# Prints the TAP plan "1..N", then "ok ..." / "not ok ..." lines; exit status = number of failures.
# Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
plan 11 # the check lines below
HJ=$(readlink -f "$1")
CTL=$(dirname "$HJ")/hijackctl
MS="$ROOT/tests/harness/mailstack.sh"
D=$(mktemp -d /tmp/hijackd-e2e.XXXXXX); chmod 0755 "$D"
PORT=$(free_port)
HJPID=""
start_hj() {
	"$HJ" -f -o http_listen= -c "$D/hijackd.conf" -o state_dir="$D/state" -o policy_listen=127.0.0.1:$PORT >>"$D/hijackd.log" 2>&1 &
	HJPID=$!
	for _ in $(seq 50); do grep -q "started:" "$D/hijackd.log" 2>/dev/null && [ "$(grep -c started: "$D/hijackd.log")" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
stop_hj() { [ -n "$HJPID" ] && kill "-${1:-TERM}" "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null; HJPID=""; }
cleanup() { stop_hj KILL; "$MS" down "$D/ms" >/dev/null 2>&1; [ "$FAIL" = 0 ] && rm -rf "$D"; }
trap cleanup EXIT
send() { # user to [extra swaks args]
	local u=$1 to=$2; shift 2
	swaks --server 127.0.0.1:3587 --auth PLAIN --auth-user "$u@example.test" --auth-password "secret-$u" \
		--from "$u@example.test" --to "$to" --header "Subject: e2e" "$@" 2>&1
}
accepted() { grep -q '^<-  250 2.0.0 Ok: queued' <<<"$1"; }
refused_571() { grep -q '^<\*\* 554 5\.7\.1 .*Sending from your account is blocked' <<<"$1"; }
# refused in answer to RCPT TO (Postfix: "<rcpt>: Recipient address rejected"), not at END-OF-MESSAGE
refused_at_rcpt() { grep -q '^<\*\* 554 5\.7\.1 <[^>]*@[^>]*>: Recipient address rejected: .*Sending from your account is blocked' <<<"$1"; }

cat >"$D/hijackd.conf" <<CONF
# the e2e limit: lock an account after more than 5 recipients in 30 minutes
rule lock5 = metric=recipients window=30m limit=5 action=lock
counters_flush_interval = 1s
CONF
start_hj 1 || { ko "hijackd started"; exit 1; }
POLICY=inet:127.0.0.1:$PORT POLICY_DEFAULT_ACTION=DUNNO "$MS" up "$D/ms" >"$D/ms.out" 2>&1 || { ko "mail stack up"; cat "$D/ms.out"; exit 1; }

n_ok=0 refused="" bob_ok=0
for i in 1 2 3 4 5 6; do
	out=$(send alice "rcpt$i@remote.test")
	if accepted "$out"; then n_ok=$((n_ok + 1)); elif refused_571 "$out"; then refused=$i; break; fi
	# bob stays under his own limit: 3 here, 2 more below
	[ "$i" -le 3 ] && accepted "$(send bob "b$i@remote.test")" && bob_ok=$((bob_ok + 1))
done
check "alice: 5 messages accepted, the 6th refused with the configured 5.7.1 text (accepted $n_ok, refused #$refused)" \
	test "$n_ok" = 5 -a "$refused" = 6
check "bob's 3 messages in between accepted ($bob_ok)" test "$bob_ok" = 3
out=$(send alice "again@remote.test")
check "alice is refused at RCPT now" refused_at_rcpt "$out"
check "bob still sends" accepted "$(send bob "after@remote.test")"
check "alice still receives mail (bob -> alice@example.test accepted)" accepted "$(send bob alice@example.test)"
for _ in $(seq 50); do [ -n "$(ls "$D/ms/mail/example.test/alice/new" 2>/dev/null)" ] && break; sleep 0.1; done
check "  ... and it is in alice's Maildir" test -n "$(ls "$D/ms/mail/example.test/alice/new" 2>/dev/null)"

# a counters flush lands before the kill (1 s interval): the restarted daemon reads alice's counts
# back, so without the lock table it would lock her again, but only at END-OF-MESSAGE
sleep 2
stop_hj KILL
start_hj 2
locked_json=$("$CTL" -o state_dir="$D/state" --json locked 2>&1); rc=$?
check "after kill -9 and a restart, before any mail, hijackctl locked lists alice's lock5 lock (exit $rc)" \
	python3 - "$rc" "$locked_json" <<'PY'
import json, sys
assert sys.argv[1] == "0", sys.argv[2]
rows = [x for x in json.loads(sys.argv[2])["locked"] if x["account"] == "alice@example.test"]
assert len(rows) == 1 and rows[0]["rule"] == "lock5", rows
PY
out=$(send alice "late@remote.test")
check "  ... and alice is still refused, at RCPT (the lock table, not counters read back)" refused_at_rcpt "$out"
stop_hj TERM
check "hijackd down: Postfix applies smtpd_policy_service_default_action = DUNNO (alice's mail accepted)" \
	accepted "$(send alice "down@remote.test")"
"$MS" down "$D/ms" >/dev/null 2>&1

live=$(grep -o '"account":"alice@example.test","action":"lock","rule":"[a-z0-9_]*"' "$D/hijackd.log" | head -1)
"$HJ" replay --json -c "$D/hijackd.conf" "$D/ms/maillog" >"$D/replay.jsonl"
replayed=$(grep -o '"account":"alice@example.test","action":"lock","rule":"[a-z0-9_]*"' "$D/replay.jsonl" | head -1)
check "replay of this run's Postfix log gives the live lock (live: ${live:-none}; replay: ${replayed:-none})" \
	test -n "$live" -a "$live" = "$replayed"
check "replay locks nobody else" test "$(grep -c '"action":"lock"' "$D/replay.jsonl")" = 1
[ "$FAIL" = 0 ] || echo "        work files kept in $D"
exit "$FAIL"
