#!/bin/bash
# e2e_queue.sh BUILD - queue forensics and purge against the real Postfix 3.7 + Dovecot (tests/harness).
#
# With the next hop (smtp-sink) down, alice (hijacked) sends 6 messages to 30 outside recipients
# through submission with real SMTP AUTH, bob sends 2, and one message is relayed without AUTH
# through the open-relay listener. BUILD/tests/test_queue --e2e (src/ctl/queue.c) then reads
# `postqueue -j`, groups it by SASL account (taken from the maillog's sasl_username= lines), prints
# the JSON report and purges alice's messages with `postsuper -d -`. Checks: alice is the dominant
# group and the verdict is "stolen account"; after the purge the queue holds none of alice's mail and
# all of the rest; with the sink back and the queue flushed, bob's and the relayed mail are delivered
# and none of alice's. A failing postqueue is reported with its own message.
# Prints "ok N - ..." / "not ok N - ..." and "N passed, N failed"; exit status 0 only if none failed.
# Needs root. Uses free ports, so it can run next to the other e2e tests.
set -u
B=${1:?usage: e2e_queue.sh BUILD}
TQ=$(readlink -f "$B/tests/test_queue")
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
MS="$ROOT/tests/harness/mailstack.sh"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
D=$(mktemp -d /tmp/hijackd-e2e-queue.XXXXXX); chmod 0755 "$D"
PF="$D/ms/postfix"
N=0 PASS=0 FAIL=0
ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - $*"; }
ko() { N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ] || echo "# work files kept in $D"; }
cleanup() { "$MS" down "$D/ms" >/dev/null 2>&1; [ "$FAIL" = 0 ] && rm -rf "$D"; }
trap cleanup EXIT

# four free loopback ports for the MX, submission, open relay and sink listeners
read -r MXP SUBP RELP SINKP < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
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
"$MS" up "$D/ms" >"$D/ms.out" 2>&1 || { ko "mail stack up"; cat "$D/ms.out"; finish; exit 1; }
"$MS" sink-stop "$D/ms" >>"$D/ms.out" 2>&1

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

out=$("$TQ" --e2e "$(command -v postqueue)" "$(command -v postsuper)" /nonexistent alice@example.test 2>&1 >/dev/null)
check "a failing postqueue is reported with its message" \
	grep -q 'exit 69: postqueue: fatal: open /nonexistent/main.cf: No such file or directory' <<<"$out"

finish
exit $((FAIL > 0))
