#!/bin/bash
# selftest.sh [DIR] - the checks of tests/sendmail/sendmail.sh against a real Sendmail 8.17, with
# ../shared/mailstack/mailstack-milter-dump.py (stdlib, protocol v6) as its milter.
#
# An authenticated message (Python smtplib, AUTH PLAIN) reaches the sink; the milter saw
# {auth_authen} and i (the queue id) at MAIL; a wrong password gets 535; a client on 127.0.0.2 may
# not relay without AUTH; with the milter down and no F= flag the mail still goes (fail-open);
# with F=T and the milter down even AUTH is tempfailed (454 4.3.0); down stops every process.
# Prints the TAP plan "1..N", then "ok ..." / "not ok ..." lines (tests/lib.sh, style tap); when
# the packages cannot be downloaded, or not root, every check is "ok ... # SKIP why" (counted as
# skipped by tests/lib.sh's tally); so is a missing ../shared (MILTER_DUMP=FILE names the dump milter
# elsewhere). Exit status = number of failures. DIR: default a mktemp dir,
# removed when all passed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
. "$ROOT/tests/lib.sh"
SMH="$HERE/sendmail.sh"
SEND="$HERE/send.py"
DUMP=${MILTER_DUMP:-$ROOT/../shared/mailstack/mailstack-milter-dump.py}

CHECKS=(
	"up: Sendmail listens on 127.0.0.1:PORT, its only listening socket"
	"AUTH PLAIN as alice accepted (235) and the message accepted (250)"
	"the message reached the sink (X-Sink-Rcpt: someone@remote.test)"
	"the milter saw {auth_authen}=alice@example.test at MAIL"
	"the milter saw i at MAIL, the queue id of the 250 reply"
	"a wrong password: 535"
	"no AUTH from 127.0.0.2: relaying refused (550 5.7.1)"
	"milter down, no F= flag: the message is accepted and delivered (fail-open)"
	"milter down, F=T: AUTH is tempfailed (454 4.3.0)"
	"down: no process of the instance left, the port closed"
)
plan ${#CHECKS[@]}
skip_all() { # every check as skipped, with the reason
	local c
	for c in "${CHECKS[@]}"; do echo "ok      $c # SKIP $1"; SKIP=$((SKIP + 1)); done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "needs root (Sendmail runs in its own UTS and mount namespaces)"
[ -f "$DUMP" ] || skip_all "no mailstack-milter-dump.py ($DUMP)"
"$SMH" fetch >/dev/null 2>"${TMPDIR:-/tmp}/sendmail-fetch.$$"
rc=$?
if [ "$rc" = 3 ]; then
	why=$(tail -1 "${TMPDIR:-/tmp}/sendmail-fetch.$$"); rm -f "${TMPDIR:-/tmp}/sendmail-fetch.$$"
	skip_all "Sendmail packages not available: $why"
fi
rm -f "${TMPDIR:-/tmp}/sendmail-fetch.$$"

D=${1:-$(mktemp -d /tmp/hijackd-sendmail.XXXXXX)}
mkdir -p "$D" && chmod 0755 "$D"
SMD="$D/sm"
DUMPPID=""
start_dump() { python3 "$DUMP" "$MPORT" "$D/milter.jsonl" >>"$D/dump.out" 2>&1 & DUMPPID=$!; wait_listen "$MPORT"; }
stop_dump() { [ -n "$DUMPPID" ] && kill "$DUMPPID" 2>/dev/null && wait "$DUMPPID" 2>/dev/null; DUMPPID=""; }
wait_listen() { for _ in $(seq 50); do ss -ltn "sport = :$1" | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; return 1; }
KEEP=${1:+1}
cleanup() {
	stop_dump
	"$SMH" down "$SMD" >/dev/null 2>&1
	if [ "$FAIL" = 0 ] && [ -z "$KEEP" ]; then rm -rf "$D"; else echo "# kept $D (logs: $SMD/sendmail.log)"; fi
}
trap cleanup EXIT
# code FILE STEP - the reply code of STEP (auth, mail, rcpt, data) in send.py's JSON line (no Python:
# each python3 start costs 0.2-0.4 s on this shared machine)
code() { sed -n 's/.*"'"$2"'": \[\([0-9]*\),.*/\1/p' "$1"; }
# macro STAGE NAME - the value of milter macro NAME sent at STAGE (M = MAIL) in the dump's first session
macro() { python3 -c 'import json,sys
for x in json.loads(open(sys.argv[1]).readline()):
    if "macros@" + sys.argv[2] in x: print(x["macros@" + sys.argv[2]].get(sys.argv[3], "")); break' \
	"$D/milter.jsonl" "$1" "$2" 2>/dev/null; }
sink_has() { grep -lx "X-Sink-Rcpt: $1" "$SMD"/sink/msg.* >/dev/null 2>&1; }
wait_sink() { for _ in $(seq 100); do sink_has "$1" && return 0; sleep 0.1; done; return 1; }

eval "$("$SMH" env "$SMD")" # PORT, MPORT: free loopback ports
start_dump
PORT=$PORT MPORT=$MPORT "$SMH" up "$SMD" >"$D/up.out" 2>&1
SPID=$(awk '$1 == "sendmail" {print $2}' "$SMD/pids" 2>/dev/null)
n_listen=$(ss -ltnpH 2>/dev/null | grep -c "pid=$SPID,")
check "${CHECKS[0]} (pid $SPID, $n_listen socket(s))" \
	eval 'ss -ltnH "sport = :$PORT" | grep -q "127.0.0.1:$PORT " && [ "$n_listen" = 1 ]'
[ -n "$SPID" ] || sed 's/^/        /' "$D/up.out"

"$SEND" "$PORT" alice@example.test someone@remote.test alice@example.test secret-alice >"$D/send1.json"
check "${CHECKS[1]}: $(cat "$D/send1.json")" \
	test "$(code "$D/send1.json" auth)/$(code "$D/send1.json" data)" = 235/250
check "${CHECKS[2]}" wait_sink someone@remote.test
# the dump writes a session's line when the session ends (after QUIT): wait for it
for _ in $(seq 50); do [ -s "$D/milter.jsonl" ] && break; sleep 0.1; done
check "${CHECKS[3]} ('$(macro M '{auth_authen}')')" test "$(macro M '{auth_authen}')" = alice@example.test
qid=$(sed -n 's/.*"queue_id": "\([0-9A-Za-z]*\)".*/\1/p' "$D/send1.json")
check "${CHECKS[4]} ('$(macro M i)', reply '$qid')" eval '[ -n "$qid" ] && [ "$(macro M i)" = "$qid" ]'

"$SEND" "$PORT" alice@example.test someone@remote.test alice@example.test wrong-password >"$D/send2.json"
check "${CHECKS[5]}: $(cat "$D/send2.json")" test "$(code "$D/send2.json" auth)" = 535

"$SEND" "$PORT" mallory@evil.test someone@remote.test "" "" 127.0.0.2 >"$D/send3.json"
check "${CHECKS[6]}: $(cat "$D/send3.json")" eval 'grep -q "\"rcpt\": \[550, \"5\.7\.1 .*Relaying denied" "$D/send3.json"'

stop_dump
"$SEND" "$PORT" alice@example.test down@remote.test alice@example.test secret-alice >"$D/send4.json"
check "${CHECKS[7]}: $(cat "$D/send4.json")" eval '[ "$(code "$D/send4.json" data)" = 250 ] && wait_sink down@remote.test &&
	grep -q "Milter (hijackd): to error state" "$SMD/sendmail.log"'

MILTER_FLAGS=T PORT=$PORT MPORT=$MPORT "$SMH" up "$SMD" >"$D/up2.out" 2>&1
"$SEND" "$PORT" alice@example.test t@remote.test alice@example.test secret-alice >"$D/send5.json"
check "${CHECKS[8]}: $(cat "$D/send5.json")" eval 'grep -q "^Xhijackd, S=inet:$MPORT@127.0.0.1, F=T," "$SMD/sendmail.cf" &&
	grep -q "\"auth\": \[454, \"4\.3\.0 " "$D/send5.json"'

SPID=$(awk '$1 == "sendmail" {print $2}' "$SMD/pids" 2>/dev/null)
NS=$(cat "$SMD/mntns" 2>/dev/null)
"$SMH" down "$SMD" >"$D/down.out" 2>&1
left() { # processes still in the instance's mount namespace, or the daemon itself
	local p out=""
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$NS" ] && ! grep -q ') Z' "$p/stat" 2>/dev/null && out="$out ${p#/proc/}"
	done
	echo "$out"
}
check "${CHECKS[9]} (daemon was $SPID; left: '$(left)')" \
	eval '[ -n "$NS" ] && [ -z "$(left)" ] && ! ss -ltnH "sport = :$PORT" | grep -q .'
exit "$FAIL"
