#!/bin/bash
# e2e_sendmail.sh HIJACKD - hijackd's milter as the only front end of a real Sendmail 8.17
# (tests/sendmail: Debian's sendmail-bin unpacked, its own configuration on loopback ports).
#
# Sendmail has no policy service: the milter alone counts and refuses. alice sends with SMTP AUTH
# until refused at the end of a message (550 5.7.1), then is refused at RCPT; bob keeps sending;
# each message is counted once (Sendmail gives the queue ID at MAIL); with hijackd stopped, mail
# flows (INPUT_MAIL_FILTER without F=). TAP plan "1..N"; exit status = number of failures. Needs root; skips where Sendmail's
# packages cannot be had.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
CHECKS=(
	"Sendmail + milter: alice's 5 messages accepted, the 6th refused at its end (550 5.7.1)"
	"bob's 3 messages in between accepted"
	"alice is refused at RCPT now"
	"each message counted once (bob)"
	"the lock's evidence names the milter"
	"hijackd down, no F= flag: alice's mail is accepted"
)
plan ${#CHECKS[@]}
skip_all() { local c; for c in "${CHECKS[@]}"; do echo "ok      $c # SKIP $1"; SKIP=$((SKIP + 1)); done; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root (Sendmail runs in its own namespaces)"
HJ=$(readlink -f "$1")
CTL=$(dirname "$HJ")/hijackctl
SMH="$ROOT/tests/sendmail/sendmail.sh"
SEND="$ROOT/tests/sendmail/send.py"
"$SMH" fetch >/dev/null 2>&1
[ $? = 3 ] && skip_all "Sendmail packages not available"
D=$(mktemp -d /tmp/hijackd-e2es.XXXXXX); chmod 0755 "$D"
eval "$("$SMH" env "$D/sm")" # PORT (Sendmail), MPORT (the milter)
HJPID=""
start_hj() {
	"$HJ" -f -o http_listen= -c "$D/hijackd.conf" -o state_dir="$D/state" -o log_follow= \
		-o policy_listen=127.0.0.1:"$(free_port)" -o milter_listen=127.0.0.1:$MPORT >>"$D/hijackd.log" 2>&1 &
	HJPID=$!
	for _ in $(seq 50); do grep -q "started:" "$D/hijackd.log" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
stop_hj() { [ -n "$HJPID" ] && kill "-${1:-TERM}" "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null; HJPID=""; }
cleanup() { stop_hj KILL; "$SMH" down "$D/sm" >/dev/null 2>&1; [ "$FAIL" = 0 ] && rm -rf "$D"; }
trap cleanup EXIT
send() { "$SEND" "$PORT" "$1@example.test" "$2" "$1@example.test" "secret-$1"; }
code() { sed -n 's/.*"'"$2"'": \[\([0-9]*\),.*/\1/p' <<<"$1"; }
messages_of() { "$CTL" -o state_dir="$D/state" --json show "$1" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["messages"])' 2>/dev/null; }

cat >"$D/hijackd.conf" <<CONF
rule lock5 = metric=recipients window=30m limit=5 action=lock
counters_flush_interval = 1s
CONF
start_hj || { ko "hijackd started"; exit 1; }
PORT=$PORT MPORT=$MPORT "$SMH" up "$D/sm" >"$D/up.out" 2>&1 || { ko "Sendmail up"; cat "$D/up.out"; exit 1; }

n_ok=0 refused="" bob_ok=0 last=""
for i in 1 2 3 4 5 6; do
	out=$(send alice "rcpt$i@remote.test"); last=$out
	if [ "$(code "$out" data)" = 250 ]; then n_ok=$((n_ok + 1))
	elif [ "$(code "$out" data)" = 550 ] && grep -q '5\.7\.1 Sending from your account is blocked' <<<"$out"; then refused=$i; break; fi
	[ "$i" -le 3 ] && [ "$(code "$(send bob "b$i@remote.test")" data)" = 250 ] && bob_ok=$((bob_ok + 1))
done
check "${CHECKS[0]} (accepted $n_ok, refused #$refused: ${last:0:160})" test "$n_ok" = 5 -a "$refused" = 6
check "${CHECKS[1]} ($bob_ok)" test "$bob_ok" = 3
out=$(send alice again@remote.test)
check "${CHECKS[2]}: ${out:0:200}" eval '[ "$(code "$out" rcpt)" = 550 ] && grep -q "5\.7\.1 .*Sending from your account is blocked" <<<"$out"'
check "${CHECKS[3]} ($(messages_of bob@example.test) of 3)" test "$(messages_of bob@example.test)" = 3
check "${CHECKS[4]}" grep -q '"account":"alice@example.test","action":"lock".*"service":"milter"' "$D/hijackd.log"
stop_hj TERM
out=$(send alice down@remote.test)
check "${CHECKS[5]}: ${out:0:120}" test "$(code "$out" data)" = 250
"$SMH" down "$D/sm" >/dev/null 2>&1
[ "$FAIL" = 0 ] || echo "        work files kept in $D"
exit "$FAIL"
