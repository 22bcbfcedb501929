#!/bin/bash
# e2e_detect.sh HIJACKD - live detection with the real Postfix 3.7 + Dovecot (tests/harness).
#
# hijackd serves the policy requests and follows the Postfix log (log_follow). With the built-in
# rules, and the failed-login and bounce warns lowered to keep the test short:
#   - alice sends from her office (a first, trusted network); then her password is guessed from a
#     new address (failed logins from the log -> warn), and that address blasts same-size mail:
#     the first 4 messages pass, then the score throttles it (4.7.1) live at its 5th, as the README
#     says: each message scores 3 for the new network + 3 for the failed logins, + 1 for the same
#     size from the 3rd on: 6 + 6 + 7 + 7 + 7 = 33 > score_throttle's limit of 30;
#   - bob sends to addresses that bounce: the delivery log makes hijackd warn.
# Client addresses are set with XCLIENT (the harness allows it from 127.0.0.0/8).
# Prints the TAP plan "1..N", then "ok ..." / "not ok ..." lines; exit status = number of failures.
# Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/lib.sh"
plan 7 # the check lines below
HJ=$(readlink -f "$1")
MS="$ROOT/tests/harness/mailstack.sh"
D=$(mktemp -d /tmp/hijackd-e2e-detect.XXXXXX); chmod 0755 "$D"
PORT=$(free_port)
HJPID=""
cleanup() { [ -n "$HJPID" ] && kill "$HJPID" 2>/dev/null && wait "$HJPID" 2>/dev/null; "$MS" down "$D/ms" >/dev/null 2>&1; [ "$FAIL" = 0 ] && rm -rf "$D"; }
trap cleanup EXIT
sub() { # xclient-addr user password to
	swaks --server 127.0.0.1:3587 --xclient "ADDR=$1 NAME=[UNAVAILABLE]" --auth LOGIN --auth-user "$2@example.test" \
		--auth-password "$3" --from "$2@example.test" --to "$4" --header "Subject: hello" \
		--body "Cheap watches, same text every time." 2>&1
}
decided() { # what
	for _ in $(seq 80); do grep -q "$1" "$D/hijackd.log" && return 0; sleep 0.1; done; return 1
}

POLICY=inet:127.0.0.1:$PORT POLICY_DEFAULT_ACTION=DUNNO "$MS" up "$D/ms" >"$D/ms.out" 2>&1 || { ko "mail stack up"; cat "$D/ms.out"; exit 1; }
"$HJ" -f -o http_listen= -o state_dir="$D/state" -o policy_listen=127.0.0.1:$PORT -o log_follow="$D/ms/maillog" \
	-o 'rule auth_fail_warn_1h = metric=failed_logins window=1h limit=5 action=warn' \
	-o 'rule bounce_warn_1h = metric=bounces window=1h limit=5 action=warn' >"$D/hijackd.log" 2>&1 &
HJPID=$!
decided "started:" || { ko "hijackd started"; exit 1; }

check "alice sends from her office network" grep -q '^<-  250 2.0.0 Ok: queued' <<<"$(sub 198.51.100.10 alice secret-alice boss@remote.test)"
for i in 1 2 3 4 5 6; do sub 203.0.113.66 alice "guess$i" x@remote.test >/dev/null; done
check "six failed logins from a new address, read from the log: warn (auth_fail_warn_1h)" \
	decided '"account":"alice@example.test","action":"warn","rule":"auth_fail_warn_1h"'
passed=0 deferred=""
for i in $(seq 1 10); do
	out=$(sub 203.0.113.66 alice secret-alice "victim$i@remote.test")
	if grep -q '^<-  250 2.0.0 Ok: queued' <<<"$out"; then passed=$((passed + 1));
	elif grep -q '^<\*\* 4[0-9][0-9] 4\.7\.1 ' <<<"$out"; then deferred=$i; break; fi
done
check "the blast from the new address is throttled live at its 5th message, 4 passed (4.7.1 at #${deferred:-none}, $passed passed)" \
	test "$passed" = 4 -a "$deferred" = 5
check "  ... by the score: the new network, the failed logins before it and same-size mail agree" \
	decided '"account":"alice@example.test","action":"throttle","rule":"score_throttle".*"signals":{"novel_network":1,"failed_logins":6,'
check "  ... and its evidence names the signals and the score" \
	decided '"action":"throttle","rule":"score_throttle".*"similar_sizes":[0-9]*},"score":7'
check "  ... and alice is deferred at RCPT now" grep -q '^<\*\* 4[0-9][0-9] 4\.7\.1 ' <<<"$(sub 203.0.113.66 alice secret-alice later@remote.test)"
for i in $(seq 1 7); do sub 127.0.0.1 bob secret-bob "nobody$i@bounce.test" >/dev/null; done
check "bounces of bob's mail, read from the delivery log: warn (bounce_warn_1h)" \
	decided '"account":"bob@example.test","action":"warn","rule":"bounce_warn_1h"'
[ "$FAIL" = 0 ] || { echo "        work files kept in $D"; grep decision "$D/hijackd.log" | cut -c1-200 | sed 's/^/        /'; }
exit "$FAIL"
