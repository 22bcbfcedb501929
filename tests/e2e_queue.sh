#!/bin/bash
# e2e_queue.sh BUILD - queue forensics and purge against the real Postfix 3.7 + Dovecot (tests/harness).
#
# With the next hop (smtp-sink) down, alice (hijacked) sends 6 messages to 30 outside recipients
# through submission with real SMTP AUTH, bob sends 2, and one message is relayed without AUTH
# through the open-relay listener. BUILD/tests/test_queue --e2e (src/postfix/queue.c) then reads
# `postqueue -j`, groups it by SASL account (taken from the maillog's sasl_username= lines), prints
# the JSON report and purges alice's messages with `postsuper -d -`. Checks: alice is the dominant
# group and the verdict is "stolen account"; after the purge the queue holds none of alice's mail and
# all of the rest; with the sink back and the queue flushed, bob's and the relayed mail are delivered
# and none of alice's. A failing postqueue is reported with its own message.
#
# Then the same through the products, end to end. The daemon BUILD/hijackd runs in the foreground as
# the submission listener's policy service (END-OF-MESSAGE and RCPT, default action DUNNO) from the
# start, following the maillog, with the rules that would throttle or lock the test accounts raised
# out of reach; so it sees each authenticated message's queue_id and remembers its account. With the
# sink down again the same mail is queued a second time (other recipients), and BUILD/hijackctl:
#   - `--json queue` names alice, joined by account, as the dominant authenticated group of 6
#     messages / 30 recipients, exactly the queue IDs the maillog gives her; bob authenticated, the
#     relayed message grouped by sender; verdict "stolen account"; the human form says so too;
#   - `show alice` counts her 12 messages (from the policy requests only: log_submissions=no);
#   - `queue purge alice` without --yes is a dry run (exit 0, her 6 IDs, each matched by the rule
#     account+sender: mapped to her by the policy service and sent as her; the queue unchanged);
#   - `queue purge alice --yes` deletes exactly her 6; a second purge finds nothing (exit 1); with the
#     sink back and a flush, bob's and the relayed mail are delivered, none of alice's.
# hijackd must still be running at the end; the trap stops it and the mail stack.
# Prints the TAP plan "1..N", then "ok N - ..." / "not ok N - ..." and "N passed, N failed"; exit
# status 0 only if none failed. Needs root. Uses free ports, so it can run next to the other e2e tests.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
LIB_STYLE=numbered
. "$ROOT/tests/lib.sh"
plan 51 # the check lines below
B=${1:?usage: e2e_queue.sh BUILD}
TQ=$(readlink -f "$B/tests/test_queue")
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
stack_init queue

# five free loopback ports for the MX, submission, open relay and sink listeners and hijackd's policy
read -r MXP SUBP RELP SINKP HJP < <(free_ports 5)
export HJ_MX_PORT=$MXP HJ_SUB_PORT=$SUBP HJ_RELAY_PORT=$RELP HJ_SINK_PORT=$SINKP
# no retries of deferred mail by themselves: only the explicit flush below delivers
export HJ_BACKOFF=3600 HJ_TTL=900

submit() { # user recipients(comma-separated)
	swaks --server "127.0.0.1:$SUBP" --auth PLAIN --auth-user "$1@example.test" --auth-password "secret-$1" \
		--from "$1@example.test" --to "$2" --header "Subject: e2e queue" 2>&1 | grep -q '^<-  250 2.0.0 Ok: queued'
}
relay() { # from recipients
	swaks --server "127.0.0.1:$RELP" --from "$1" --to "$2" --header "Subject: e2e relay" 2>&1 |
		grep -q '^<-  250 2.0.0 Ok: queued'
}
queue_json() { postqueue -c "$PF" -j 2>/dev/null; }
wait_queue() { # count: until postqueue lists that many messages, none of them being delivered
	for _ in $(seq 100); do
		local q; q=$(queue_json)
		[ "$(grep -c . <<<"$q")" = "$1" ] && ! grep -q '"queue_name": "active"' <<<"$q" && return 0
		sleep 0.1
	done
	return 1
}
jq_py() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); $1" "$D/report.json"; }
ids_of() { jq_py "print(' '.join(g['queue_ids'][i] for g in r['groups'] if $1 for i in range(len(g['queue_ids']))))"; }
queued() { queue_json | grep -c "\"queue_id\": \"$1\""; }
none_queued() { local i; for i in "$@"; do [ "$(queued "$i")" = 0 ] || return 1; done; }
all_queued() { local i; for i in "$@"; do [ "$(queued "$i")" = 1 ] || return 1; done; }

[ -x "$TQ" ] || { ko "test driver $B/tests/test_queue built"; finish; exit 1; }
{ [ -x "$HJ" ] && [ -x "$CTL" ]; } || { ko "$B/hijackd and $B/hijackctl built"; finish; exit 1; }
POLICY=inet:127.0.0.1:$HJP POLICY_DEFAULT_ACTION=DUNNO "$MS" up "$D/ms" >"$D/ms.out" 2>&1 ||
	{ ko "mail stack up"; cat "$D/ms.out"; finish; exit 1; }
"$MS" sink-stop "$D/ms" >>"$D/ms.out" 2>&1
# hijackd as the policy service; alice's 12 messages (60 recipients, all alike, from a network new to
# her) would trip the default novel_similar_*, novel_rcpt_* and score_* rules: out of reach here
"$HJ" -f -o state_dir="$D/hjstate" -o policy_listen="127.0.0.1:$HJP" -o http_listen= \
	-o log_follow="$D/ms/maillog" -o postfix_config_dir="$PF" \
	-o 'rule novel_similar_throttle = metric=similar_sizes window=1h limit=100000 action=throttle throttle=1h scope=account class=any novel=yes' \
	-o 'rule novel_similar_lock = metric=similar_sizes window=1h limit=100000 action=lock scope=account class=any novel=yes' \
	-o 'rule novel_rcpt_throttle = metric=recipients window=1h limit=100000 action=throttle throttle=1h scope=account class=any novel=yes' \
	-o 'rule novel_rcpt_lock = metric=recipients window=1h limit=100000 action=lock scope=account class=any novel=yes' \
	-o 'rule score_throttle = metric=score window=1h limit=100000 action=throttle throttle=1h scope=account class=any' \
	-o 'rule score_lock = metric=score window=1h limit=100000 action=lock scope=account class=any' \
	>"$D/hijackd.log" 2>&1 &
HJPID=$!
for _ in $(seq 100); do grep -q 'started:' "$D/hijackd.log" && break; sleep 0.1; done
grep -q 'started:' "$D/hijackd.log" || { ko "hijackd started"; cat "$D/hijackd.log"; finish; exit 1; }

sent=0
for m in 1 2 3 4 5 6; do
	to=""; for r in 1 2 3 4 5; do to="$to${to:+,}v$m$r@target$r.test"; done
	submit alice "$to" && sent=$((sent + 1))
done
submit bob friend@other.test && sent=$((sent + 1))
submit bob colleague@partner.test && sent=$((sent + 1))
relay spammer@evil.test "victim1@remote.test,victim2@faraway.test" && sent=$((sent + 1))
check "9 messages accepted (6 alice, 2 bob, 1 relayed without AUTH): $sent" test "$sent" = 9
check "all 9 deferred in the queue while the next hop is down" wait_queue 9

# queue ID -> SASL account, from smtpd's "QID: client=..., sasl_method=..., sasl_username=USER"
ACCOUNTS=$(sed -n 's/.* \([0-9A-Za-z]*\): client=.*, sasl_username=\([^ ,]*\).*/\1=\2/p' "$D/ms/maillog" | paste -sd,)
check "the maillog names the SASL account of the 8 submissions" test "$(tr ',' '\n' <<<"$ACCOUNTS" | grep -c .)" = 8

HJ_QUEUE_ACCOUNTS=$ACCOUNTS "$TQ" --e2e "$(command -v postqueue)" "$(command -v postsuper)" "$PF" alice@example.test \
	>"$D/report.json" 2>"$D/report.txt"
rc=$?
check "test_queue --e2e ran (exit $rc)" test "$rc" = 0
check "the JSON report parses" jq_py "assert r['messages'] == 9 and r['recipients'] == 34 and r['bad_lines'] == 0"
check "verdict: stolen account" jq_py "assert r['verdict'] == 'stolen account'"
check "alice is the dominant, authenticated group: 6 messages, 30 recipients" jq_py "
g = r['groups'][0]
assert (g['account'], g['kind'], g['dominant'], g['messages'], g['recipients']) == \
       ('alice@example.test', 'authenticated', True, 6, 30), g"
check "bob is an authenticated group of 2, not dominant" jq_py "
g = [g for g in r['groups'] if g['account'] == 'bob@example.test'][0]
assert (g['kind'], g['dominant'], g['messages']) == ('authenticated', False, 2), g"
check "the unauthenticated message is grouped by sender as relay" jq_py "
g = [g for g in r['groups'] if g['account'] is None][0]
assert (g['sender'], g['kind'], g['recipients']) == ('spammer@evil.test', 'relay', 2), g"
check "the text report shows the verdict" grep -q '^verdict: stolen account (alice@example.test: 30 of 34 queued recipients)' "$D/report.txt"

read -r -a ALICE <<<"$(ids_of "g['account'] == 'alice@example.test'")"
read -r -a OTHERS <<<"$(ids_of "g['account'] != 'alice@example.test'")"
check "after the purge, none of alice's ${#ALICE[@]} messages is queued" none_queued "${ALICE[@]}"
check "the other ${#OTHERS[@]} messages are still queued" all_queued "${OTHERS[@]}"
check "postsuper logged the removals" test "$(grep -c 'postfix/postsuper\[[0-9]*\]: [0-9A-F]*: removed' "$D/ms/maillog")" = 6

"$MS" sink-start "$D/ms" >>"$D/ms.out" 2>&1
postqueue -c "$PF" -f
for _ in $(seq 150); do [ -z "$(queue_json)" ] && break; sleep 0.2; done
check "after the flush the queue is empty" test -z "$(queue_json)"
sinkrcpts() { cat "$D/ms/sink/"* 2>/dev/null | grep -o 'X-Rcpt-Args: <[^>]*>' | sort -u; }
check "bob's and the relayed mail reached the next hop" \
	test "$(sinkrcpts | grep -cE '<(friend@other.test|colleague@partner.test|victim1@remote.test|victim2@faraway.test)>')" = 4
check "none of alice's recipients did" test "$(sinkrcpts | grep -c 'target')" = 0
sent() { grep -q " $1: to=<.*status=sent" "$D/ms/maillog"; }
all_sent() { local i; for i in "$@"; do sent "$i" || return 1; done; }
none_sent() { local i; for i in "$@"; do sent "$i" && return 1; done; return 0; }
check "the maillog shows status=sent for each of the ${#OTHERS[@]}" all_sent "${OTHERS[@]}"
check "and for none of alice's" none_sent "${ALICE[@]}"

# ---------------------------------------------------------------- the products: hijackd + hijackctl
ctl() { "$CTL" -o state_dir="$D/hjstate" "$@"; }
PQ=$(command -v postqueue) PS=$(command -v postsuper)
"$MS" sink-stop "$D/ms" >>"$D/ms.out" 2>&1
LOG0=$(wc -l <"$D/ms/maillog")
sent=0
for m in 1 2 3 4 5 6; do
	to=""; for r in 1 2 3 4 5; do to="$to${to:+,}w$m$r@target$r.test"; done
	submit alice "$to" && sent=$((sent + 1))
done
submit bob friend2@other.test && sent=$((sent + 1))
submit bob colleague2@partner.test && sent=$((sent + 1))
relay spammer@evil.test "victim3@remote.test,victim4@faraway.test" && sent=$((sent + 1))
check "hijackd as policy service: again 9 messages accepted (6 alice, 2 bob, 1 relayed): $sent" test "$sent" = 9
check "all 9 deferred in the queue while the next hop is down" wait_queue 9
# this round's queue IDs of each account, from the maillog (sorted, space-separated)
log_ids() { tail -n +$((LOG0 + 1)) "$D/ms/maillog" |
	sed -n "s/.* \([0-9A-Za-z]*\): client=.*, sasl_username=$1\$/\1/p" | sort | paste -sd' '; }
ALICE2=$(log_ids 'alice@example\.test') BOB2=$(log_ids 'bob@example\.test')
check "the maillog names alice's 6 and bob's 2 queue IDs" test "$(wc -w <<<"$ALICE2 $BOB2")" = 8
queue_ids_now() { queue_json | python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["queue_id"] for l in sys.stdin if l.strip())))'; }
Q2=$(queue_ids_now)

ctl --json queue --config-dir "$PF" --postqueue "$PQ" >"$D/ctl-queue.json" 2>"$D/ctl-queue.err"
rc=$?
check "hijackctl --json queue ran (exit $rc, no complaint)" test "$rc" = 0 -a ! -s "$D/ctl-queue.err"
cq() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); A=sys.argv[2].split(); B=sys.argv[3].split(); $1" \
	"$D/ctl-queue.json" "$ALICE2" "$BOB2"; }
check "hijackctl queue: 9 messages, 34 recipients, verdict stolen account" \
	cq "assert (r['messages'], r['recipients'], r['bad_lines'], r['verdict']) == (9, 34, 0, 'stolen account'), r"
check "  alice@example.test is the dominant authenticated group, joined by account: 6 messages, 30 recipients" cq "
g = r['groups'][0]
assert (g['account'], g['sender'], g['kind'], g['dominant'], g['messages'], g['recipients']) == \
       ('alice@example.test', 'alice@example.test', 'authenticated', True, 6, 30), g
assert [x for x in r['groups'] if x['dominant']] == [g]"
check "  its queue IDs are exactly alice's in the maillog (hijackd remembered each message's account)" \
	cq "assert sorted(r['groups'][0]['queue_ids']) == A, (r['groups'][0]['queue_ids'], A)"
check "  bob is an authenticated group of 2, joined by account, not dominant, with his queue IDs" cq "
g = [g for g in r['groups'] if g['account'] == 'bob@example.test'][0]
assert (g['kind'], g['dominant'], g['messages'], sorted(g['queue_ids'])) == ('authenticated', False, 2, B), g"
check "  the unauthenticated message is grouped by sender as relay" cq "
g = [g for g in r['groups'] if g['account'] is None]
assert len(g) == 1 and (g[0]['sender'], g[0]['kind'], g[0]['messages'], g[0]['recipients']) == \
       ('spammer@evil.test', 'relay', 1, 2), g"
ctl queue --config-dir "$PF" --postqueue "$PQ" >"$D/ctl-queue.txt" 2>&1
rc=$?
check "hijackctl queue (human form) ran (exit $rc)" test "$rc" = 0
check "  it lists alice@example.test as dominant" grep -qE '^alice@example\.test +authenticated +6 +30 .*<- dominant$' "$D/ctl-queue.txt"
check "  and gives the verdict on her" grep -q '^verdict: stolen account (alice@example.test: 30 of 34 queued recipients)' "$D/ctl-queue.txt"
ctl --json show alice@example.test >"$D/ctl-show.json" 2>&1
check "hijackctl show: hijackd counted alice's 12 messages and 60 recipients from its policy requests" \
	python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']; assert (t['messages'], t['recipients']) == (12, 60), t" "$D/ctl-show.json"

ctl queue purge alice@example.test --config-dir "$PF" --postqueue "$PQ" --postsuper "$PS" >"$D/ctl-dry.txt" 2>&1
rc=$?
check "queue purge without --yes: exit 0 ($rc)" test "$rc" = 0
check "  it announces a dry run of 6 messages (30 recipients) of alice" \
	grep -qx 'dry run: would delete 6 messages (30 recipients) of alice@example.test:' "$D/ctl-dry.txt"
check "  and lists exactly her 6 queue IDs, each matched by account+sender" \
	test "$(awk '/^[0-9A-F]+ +account\+sender +<alice@example\.test>$/ { print $1 }' "$D/ctl-dry.txt" | sort | paste -sd' ')" = "$ALICE2"
ctl --json queue purge alice@example.test --config-dir "$PF" --postqueue "$PQ" --postsuper "$PS" >"$D/ctl-dry.json" 2>&1
rc=$?
check "  --json dry run: exit 0, dry_run true, her 6 IDs, each by account+sender, none kept" test "$rc" = 0 -a "$(python3 -c "
import json,sys; o=json.load(open(sys.argv[1]))
print(o['dry_run'] is True and o['account'] == 'alice@example.test' and o['kept'] == 0
      and all(m['rule'] == 'account+sender' and m['delete'] for m in o['matches'])
      and o['messages'] == 6 and o['recipients'] == 30 and ' '.join(sorted(o['queue_ids'])) == sys.argv[2])" \
	"$D/ctl-dry.json" "$ALICE2" 2>&1)" = True
check "  the queue is unchanged (postqueue -j: the same 9 IDs)" test "$(queue_ids_now)" = "$Q2"
check "  nothing was removed" test "$(grep -c 'postfix/postsuper\[[0-9]*\]: [0-9A-F]*: removed' "$D/ms/maillog")" = 6

ctl --json queue purge alice@example.test --yes --config-dir "$PF" --postqueue "$PQ" --postsuper "$PS" \
	>"$D/ctl-purge.json" 2>"$D/ctl-purge.err"
rc=$?
check "queue purge alice --yes: exit 0 ($rc)" test "$rc" = 0
check "  it reports her 6 IDs deleted, none kept" python3 -c "
import json,sys; o=json.load(open(sys.argv[1]))
assert (o['dry_run'], o['kept'], o['account'], o['messages'], ' '.join(sorted(o['queue_ids']))) == \
       (False, 0, 'alice@example.test', 6, sys.argv[2]), o" "$D/ctl-purge.json" "$ALICE2"
read -r -a ALICE <<<"$ALICE2"
read -r -a OTHERS <<<"$(comm -23 <(tr ' ' '\n' <<<"$Q2") <(tr ' ' '\n' <<<"$ALICE2") | paste -sd' ')"
check "  none of alice's 6 messages is queued" none_queued "${ALICE[@]}"
check "  the other ${#OTHERS[@]} messages (bob's and the relayed one) are still queued" \
	test "${#OTHERS[@]}" = 3 -a "$(queue_ids_now)" = "$(tr ' ' '\n' <<<"${OTHERS[*]}" | sort | paste -sd' ')"
check "  postsuper logged 6 more removals" test "$(grep -c 'postfix/postsuper\[[0-9]*\]: [0-9A-F]*: removed' "$D/ms/maillog")" = 12
ctl queue purge alice@example.test --yes --config-dir "$PF" --postqueue "$PQ" --postsuper "$PS" >"$D/ctl-again.txt" 2>&1
rc=$?
check "a second purge finds nothing of alice's: exit 1 ($rc)" \
	test "$rc" = 1 -a "$(cat "$D/ctl-again.txt")" = 'hijackctl: nothing queued for alice@example.test'

"$MS" sink-start "$D/ms" >>"$D/ms.out" 2>&1
postqueue -c "$PF" -f
for _ in $(seq 150); do [ -z "$(queue_json)" ] && break; sleep 0.2; done
check "after the flush the queue is empty" test -z "$(queue_json)"
check "bob's and the relayed mail of this round reached the next hop" \
	test "$(sinkrcpts | grep -cE '<(friend2@other.test|colleague2@partner.test|victim3@remote.test|victim4@faraway.test)>')" = 4
check "none of alice's recipients did" test "$(sinkrcpts | grep -c 'target')" = 0
check "the maillog shows status=sent for each of the ${#OTHERS[@]}" all_sent "${OTHERS[@]}"
check "and for none of alice's" none_sent "${ALICE[@]}"
check "hijackd is still running" kill -0 "$HJPID"
check "Postfix never failed to reach hijackd" test "$(grep -c 'problem talking to server\|policy.*timeout' "$D/ms/maillog")" = 0

out=$("$TQ" --e2e "$(command -v postqueue)" "$(command -v postsuper)" /nonexistent alice@example.test 2>&1 >/dev/null)
check "a failing postqueue is reported with its message" \
	grep -q 'exit 69: postqueue: fatal: open /nonexistent/main.cf: No such file or directory' <<<"$out"

finish
exit $((FAIL > 0))
