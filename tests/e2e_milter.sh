#!/bin/bash
# e2e_milter.sh HIJACKD - hijackd's milter live behind a real Postfix 3.7 + Dovecot (tests/harness).
#
# First the milter alone (smtpd_milters on submission, default_action=accept, no policy service):
# alice sends through submission with real SMTP AUTH until refused at the end of a message, then
# is refused at RCPT; bob keeps sending; alice still receives; mail without AUTH is not judged;
# with hijackd stopped, mail flows (default_action=accept). Then the milter and the policy
# service together: bob's messages (a fresh state) are counted once each (the queue ID joins them), and her
# lock comes at the policy service's END-OF-MESSAGE, with the policy service's text.
# TAP plan "1..N", "ok ..." / "not ok ..." lines; exit status = number of failures. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
plan 10 # the check lines below
HJ=$(readlink -f "$1")
CTL=$(dirname "$HJ")/hijackctl
MS="$ROOT/tests/harness/mailstack.sh"
D=$(mktemp -d /tmp/hijackd-e2em.XXXXXX); chmod 0755 "$D"
read -r PORT MPORT <<<"$(free_ports 2)"
HJPID=""
start_hj() {
	"$HJ" -f -o http_listen= -c "$D/hijackd.conf" -o state_dir="$D/state" \
		-o policy_listen=127.0.0.1:$PORT -o milter_listen=127.0.0.1:$MPORT >>"$D/hijackd.log" 2>&1 &
	HJPID=$!
	for _ in $(seq 50); do [ "$(grep -c started: "$D/hijackd.log" 2>/dev/null)" -ge "$1" ] && return 0; sleep 0.1; done
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
# the milter's refusal at the end of the message (after DATA's 354) or at RCPT
refused_eom() { grep -q '^<-  354' <<<"$1" && grep -q '^<\*\* 550 5\.7\.1 Sending from your account is blocked' <<<"$1"; }
refused_rcpt() { ! grep -q '^<-  354' <<<"$1" && grep -q '^<\*\* 550 5\.7\.1 Sending from your account is blocked' <<<"$1"; }
messages_of() { "$CTL" -o state_dir="$D/state" --json show "$1" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["messages"])' 2>/dev/null; }

cat >"$D/hijackd.conf" <<CONF
# the e2e limit: lock an account after more than 5 recipients in 30 minutes
rule lock5 = metric=recipients window=30m limit=5 action=lock
counters_flush_interval = 1s
CONF
start_hj 1 || { ko "hijackd started"; exit 1; }
MILTER=inet:127.0.0.1:$MPORT MILTER_DEFAULT_ACTION=accept "$MS" up "$D/ms" >"$D/ms.out" 2>&1 ||
	{ ko "mail stack up"; cat "$D/ms.out"; exit 1; }

n_ok=0 refused="" bob_ok=0
for i in 1 2 3 4 5 6; do
	out=$(send alice "rcpt$i@remote.test")
	if accepted "$out"; then n_ok=$((n_ok + 1)); elif refused_eom "$out"; then refused=$i; break; fi
	[ "$i" -le 3 ] && accepted "$(send bob "b$i@remote.test")" && bob_ok=$((bob_ok + 1))
done
check "milter alone: alice's 5 messages accepted, the 6th refused at its end with 550 5.7.1 (accepted $n_ok, refused #$refused)" \
	test "$n_ok" = 5 -a "$refused" = 6
check "bob's 3 messages in between accepted ($bob_ok)" test "$bob_ok" = 3
check "alice is refused at RCPT now" refused_rcpt "$(send alice "again@remote.test")"
check "alice still receives mail (bob -> alice@example.test accepted)" accepted "$(send bob alice@example.test)"
out=$(swaks --server 127.0.0.1:3525 --from someone@remote.test --to alice@example.test 2>&1)
check "mail without AUTH is not judged (port 25 -> alice accepted)" accepted "$out"
check "each message counted once (bob: $(messages_of bob@example.test) of 4)" test "$(messages_of bob@example.test)" = 4
check "the lock's evidence names the milter" grep -q '"account":"alice@example.test","action":"lock".*"service":"milter"' "$D/hijackd.log"
stop_hj TERM
check "hijackd down: default_action=accept, alice's mail accepted" accepted "$(send alice "down@remote.test")"
"$MS" down "$D/ms" >/dev/null 2>&1

rm -rf "$D/state"
start_hj 2 || { ko "hijackd restarted"; exit 1; }
POLICY=inet:127.0.0.1:$PORT POLICY_DEFAULT_ACTION=DUNNO MILTER=inet:127.0.0.1:$MPORT MILTER_DEFAULT_ACTION=accept \
	"$MS" up "$D/ms" >"$D/ms2.out" 2>&1 || { ko "mail stack up with both"; cat "$D/ms2.out"; exit 1; }
c_ok=0
for i in 1 2 3; do out=$(send bob "c$i@remote.test"); if accepted "$out"; then c_ok=$((c_ok + 1)); else echo "$out" | tail -5 | sed "s/^/#   /"; fi; done
check "policy and milter together: bob's 3 messages counted once each ($c_ok sent, $(messages_of bob@example.test) counted)" \
	test "$c_ok" = 3 -a "$(messages_of bob@example.test)" = 3
out=$(send bob "c4@remote.test,c5@remote.test,c6@remote.test")
check "  ... and over the limit he is refused by the policy service (554 5.7.1)" \
	grep -q '^<\*\* 554 5\.7\.1 .*Sending from your account is blocked' <<<"$out"
stop_hj TERM
"$MS" down "$D/ms" >/dev/null 2>&1
[ "$FAIL" = 0 ] || echo "        work files kept in $D"
exit "$FAIL"
