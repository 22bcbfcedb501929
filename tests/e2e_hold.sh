#!/bin/bash
# e2e_hold.sh BUILD - a rule with action=hold against the real Postfix 3.7 + Dovecot (tests/harness).
#
# BUILD/hijackd runs in the foreground as the submission listener's policy service (RCPT and
# END-OF-MESSAGE, default action DUNNO) with `rule h = metric=messages window=1h limit=2
# action=hold hold=10m` (the default rules that 4 alike messages might trip raised out of reach).
# alice sends 4 messages over submission with real SMTP AUTH, bob 1, the next hop (smtp-sink) up:
#   - all 5 are accepted (250); alice's 1st and 2nd and bob's are delivered to the sink;
#   - alice's 3rd and 4th are answered HOLD: postqueue -j shows exactly those two, queue_name
#     "hold", sent as alice; the maillog has Postfix's "hold:" line with hold_text twice; hijackd
#     logged one hold decision (rule h, with until); none of their recipients reached the sink;
#   - `hijackctl queue held` lists both with the account alice (from hijackd's queue-ID map);
#     `--json queue held alice` gives exactly their queue IDs; `queue held bob` none;
#   - `queue release alice` without --yes is a dry run (both still on hold); `queue release bob
#     --yes` finds nothing (exit 1); `queue release alice --yes` runs postsuper -H: nothing is on
#     hold any more, and after a flush both are delivered (status=sent, their recipients at the
#     sink); bob's message was never held.
# hijackd must still be running at the end; the trap stops it and the mail stack.
# Prints the TAP plan "1..N", then "ok N - ..." / "not ok N - ..." and "N passed, N failed"; exit
# status 0 only if none failed. Needs root. Uses free ports; run one e2e script at a time.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
LIB_STYLE=numbered
. "$ROOT/tests/lib.sh"
plan 22 # the check lines below
B=${1:?usage: e2e_hold.sh BUILD}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
stack_init hold

read -r MXP SUBP RELP SINKP HJP < <(free_ports 5)
export HJ_MX_PORT=$MXP HJ_SUB_PORT=$SUBP HJ_RELAY_PORT=$RELP HJ_SINK_PORT=$SINKP
# no retries by themselves: released mail is delivered by the explicit flush below
export HJ_BACKOFF=3600 HJ_TTL=900

submit() { # user recipient: 0 when Postfix answered 250 queued
	swaks --server "127.0.0.1:$SUBP" --auth PLAIN --auth-user "$1@example.test" --auth-password "secret-$1" \
		--from "$1@example.test" --to "$2" --header "Subject: e2e hold" 2>&1 | grep -q '^<-  250 2.0.0 Ok: queued'
}
queue_json() { postqueue -c "$PF" -j 2>/dev/null; }
held_ids() { # the queue IDs on hold, sorted, space-separated
	queue_json | python3 -c 'import json,sys
print(" ".join(sorted(m["queue_id"] for m in map(json.loads, filter(str.strip, sys.stdin)) if m["queue_name"] == "hold")))'
}
held_senders() {
	queue_json | python3 -c 'import json,sys
print(" ".join(sorted(m["sender"] for m in map(json.loads, filter(str.strip, sys.stdin)) if m["queue_name"] == "hold")))'
}
sinkrcpts() { cat "$D/ms/sink/"* 2>/dev/null | grep -o 'X-Rcpt-Args: <[^>]*>' | sort -u; }
at_sink() { sinkrcpts | grep -q "<$1>"; }
wait_for() { # tries command...: until it succeeds, 0.2 s apart
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
	return 1
}
sent() { grep -q " $1: to=<.*status=sent" "$D/ms/maillog"; }
released_sent() { local i; for i in $HELD; do sent "$i" || return 1; done; at_sink h3@far3.test && at_sink h4@far4.test; }
ctl() { "$CTL" -o state_dir="$D/hjstate" "$@" --config-dir "$PF" --postqueue "$(command -v postqueue)"; }

{ [ -x "$HJ" ] && [ -x "$CTL" ]; } || { ko "$B/hijackd and $B/hijackctl built"; finish; exit 1; }
POLICY=inet:127.0.0.1:$HJP POLICY_DEFAULT_ACTION=DUNNO "$MS" up "$D/ms" >"$D/ms.out" 2>&1 ||
	{ ko "mail stack up"; cat "$D/ms.out"; finish; exit 1; }
"$HJ" -f -o state_dir="$D/hjstate" -o policy_listen="127.0.0.1:$HJP" -o http_listen= \
	-o log_follow="$D/ms/maillog" -o postfix_config_dir="$PF" \
	-o 'rule h = metric=messages window=1h limit=2 action=hold hold=10m' \
	-o 'rule novel_similar_throttle = metric=similar_sizes window=1h limit=100000 action=throttle throttle=1h scope=account class=any novel=yes' \
	-o 'rule novel_similar_lock = metric=similar_sizes window=1h limit=100000 action=lock scope=account class=any novel=yes' \
	-o 'rule score_throttle = metric=score window=1h limit=100000 action=throttle throttle=1h scope=account class=any' \
	-o 'rule score_lock = metric=score window=1h limit=100000 action=lock scope=account class=any' \
	>"$D/hijackd.log" 2>&1 &
HJPID=$!
for _ in $(seq 100); do grep -q 'started:' "$D/hijackd.log" && break; sleep 0.1; done
check "hijackd started with rule h (action=hold)" grep -q 'started:' "$D/hijackd.log"

check "alice's 1st message: 250" submit alice h1@far1.test
check "alice's 2nd message: 250" submit alice h2@far2.test
check "alice's 3rd message, over rule h: still 250 (the sender sees success)" submit alice h3@far3.test
check "alice's 4th message, while held: 250" submit alice h4@far4.test
check "bob's message: 250" submit bob b1@far5.test

check "alice's 1st and 2nd and bob's reached the next hop" \
	wait_for 100 eval 'at_sink h1@far1.test && at_sink h2@far2.test && at_sink b1@far5.test'
HELD=$(held_ids)
check "postqueue -j: exactly 2 messages on hold (queue_name hold): '$HELD'" test "$(wc -w <<<"$HELD")" = 2
check "  both sent as alice" test "$(held_senders)" = "alice@example.test alice@example.test"
check "  Postfix logged HOLD with hold_text for each" \
	test "$(grep -c 'hold: .*held for review by hijackd (rule h)' "$D/ms/maillog")" = 2
check "hijackd logged one hold decision of rule h, with until" \
	test "$(grep -c '"account":"alice@example.test","action":"hold","rule":"h".*"until":"' "$D/hijackd.log")" = 1
check "none of the held messages' recipients reached the next hop" \
	test "$(sinkrcpts | grep -cE '<h[34]@')" = 0

ctl queue held >"$D/held.txt" 2>&1
check "hijackctl queue held: both, each with the account alice" test "$(grep -c '^[0-9A-F]*  alice@example.test  <alice@example.test>  1 rcpt$' "$D/held.txt")" = 2 -a \
	"$(head -1 "$D/held.txt")" = "2 held messages (2 recipients)"
ctl --json queue held alice@example.test >"$D/held.json" 2>&1
check "--json queue held alice: exactly the 2 held queue IDs" test "$(python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); print(" ".join(sorted(m["queue_id"] for m in o["held"])))' "$D/held.json" 2>&1)" = "$HELD"
check "queue held bob: none" grep -qx '0 held messages (0 recipients)' <(ctl queue held bob@example.test 2>&1)

ctl queue release alice@example.test --postsuper "$(command -v postsuper)" >"$D/dry.txt" 2>&1
rc=$?
check "queue release alice without --yes: a dry run of 2 (exit $rc)" test "$rc" = 0 -a \
	"$(head -1 "$D/dry.txt")" = "dry run: would release 2 messages (2 recipients) of alice@example.test:"
check "  both still on hold" test "$(held_ids)" = "$HELD"
ctl queue release bob@example.test --yes --postsuper "$(command -v postsuper)" >"$D/bob.txt" 2>&1
rc=$?
check "queue release bob --yes: nothing held, exit 1 ($rc)" test "$rc" = 1 -a "$(cat "$D/bob.txt")" = 'hijackctl: nothing held for bob@example.test'
ctl queue release alice@example.test --yes --postsuper "$(command -v postsuper)" >"$D/rel.txt" 2>&1
rc=$?
check "queue release alice --yes: released 2 (exit $rc)" test "$rc" = 0 -a \
	"$(head -1 "$D/rel.txt")" = "released 2 messages (2 recipients) of alice@example.test:"
check "  nothing is on hold any more" test -z "$(held_ids)"
postqueue -c "$PF" -f
check "after a flush the 2 released messages are delivered (status=sent, at the next hop)" \
	wait_for 150 released_sent
check "hijackd is still running" kill -0 "$HJPID"

finish
exit $((FAIL > 0))
