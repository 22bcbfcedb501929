#!/usr/bin/env bash
# test_logconv.sh - self-check for tests/tools/logconv.py on handcrafted lines.
# Usage: tests/tools/test_logconv.sh   (prints "N passed, N failed"; exit 1 on failure)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LC="python3 $HERE/logconv.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# check NAME COMMAND... (tests/lib.sh): COMMAND must succeed; only a failure prints ("FAIL: NAME"
# and the first lines of its output)
LIB_STYLE=quiet LIB_OUT=$T/check.out LIB_INDENT="    "
. "$HERE/../lib.sh"
# same NAME FILE EXPECTED-TEXT: FILE must equal the text exactly
same() {
    if diff -u <(printf '%s\n' "$3") "$2" > "$T/diff.out"; then ok "$1"; else
        ko "$1"; sed 's/^/    /' "$T/diff.out" | head -30
    fi
}
# line N FILE: print line N of FILE
line() { sed -n "${1}p" "$2"; }

# ---- handcrafted sample (fictional names, documentation IP ranges) ----------
cat > "$T/in.log" <<'EOF'
Nov  3 09:15:40 mta7 postfix/submission/smtpd[4101]: connect from client.example.net[192.0.2.15]
Nov  3 09:15:41 mta7 postfix/submission/smtpd[4101]: warning: client.example.net[192.0.2.15]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=carol@example.org
Nov  3 09:15:41 mta7 postfix/submission/smtpd[4101]: NOQUEUE: lost connection after AUTH from client.example.net[192.0.2.15]
Nov  3 09:15:41 mta7 postfix/smtps/smtpd[4102]: warning: unknown[198.51.100.7]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=dave@example.org
Nov  3 09:15:42 mta7 postfix/submission/smtpd[4103]: 3A1F2C0D4E: client=laptop.example.net[203.0.113.9], sasl_method=PLAIN, sasl_username=erin@example.org
Nov  3 09:15:42 mta7 postfix/cleanup[4104]: 3A1F2C0D4E: message-id=<x1@example.org>
Nov  3 09:15:42 mta7 postfix/qmgr[900]: 3A1F2C0D4E: from=<erin@example.org>, size=1234, nrcpt=1 (queue active)
Nov  3 09:15:43 mta7 postfix/smtp[4105]: 3A1F2C0D4E: to=<frank@example.com>, relay=mx.example.com[203.0.113.25]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=5.1.1, status=bounced (host said: 550 no such user)
Nov  3 09:15:43 mta7 postfix/bounce[4106]: 3A1F2C0D4E: sender non-delivery notification: 3A2B0C0D4F
Nov  3 09:15:43 mta7 postfix/qmgr[900]: 3A1F2C0D4E: removed
Nov  3 09:15:44 mta7 postfix/smtpd[4107]: 0F00A12: lost connection after DATA (0 bytes) from unknown[198.51.100.8]
Nov  3 09:15:45 mta7 dovecot: imap-login: Login: user=<erin@example.org>, method=PLAIN, rip=203.0.113.9
Nov  3 09:20:00 mta7 postfix/anvil[901]: statistics: max connection rate 2/60s for (submission:192.0.2.15) at Nov  3 09:15:40
EOF

# ---- no option: identity, plain and gzip ------------------------------------
$LC "$T/in.log" > "$T/o"
check "identity" cmp "$T/o" "$T/in.log"
gzip -c "$T/in.log" > "$T/in.log.gz"
$LC < "$T/in.log.gz" > "$T/o"
check "gzip stdin identity" cmp "$T/o" "$T/in.log"
$LC --postfix 3.10 "$T/in.log" > "$T/o"
check "--postfix 3.10 is a no-op" cmp "$T/o" "$T/in.log"

# ---- --ts ---------------------------------------------------------------------
$LC --ts postlog "$T/in.log" > "$T/o"
check "postlog: zero-padded day" grep -qx 'Nov 03 09:15:40 mta7 postfix/submission/smtpd\[4101\]: connect from .*' "$T/o"
check "postlog: anvil inner stamp untouched" grep -q 'at Nov  3 09:15:40$' "$T/o"
$LC --ts syslog "$T/o" > "$T/o2"
check "postlog -> syslog round trip" cmp "$T/o2" "$T/in.log"

$LC --ts iso --year 2026 --tz-offset +01:00 "$T/in.log" > "$T/o"
check "iso: RSYSLOG_FileFormat with offset" \
    grep -qE '^2026-11-03T10:15:40\.[0-9]{6}\+01:00 mta7 postfix/submission/smtpd\[4101\]: connect from' "$T/o"
check "iso: every line converted" test "$(grep -cE '^2026-11-03T1[0-9]:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+01:00 ' "$T/o")" = 13
check "iso: microseconds increase within a second" \
    bash -c "grep -oE 'T10:15:41\.[0-9]{6}' '$T/o' | sort -c"
check "iso: anvil inner stamp follows the offset" grep -q 'at Nov  3 10:15:40$' "$T/o"
$LC --ts syslog --tz-offset +00:00 "$T/o" > "$T/o2"
check "iso -> syslog round trip" cmp "$T/o2" "$T/in.log"
$LC --ts iso --tz-offset -05:30 "$T/in.log" | head -1 > "$T/o"
check "iso: negative offset" grep -qE '^2026-11-03T03:45:40\.[0-9]{6}-05:30 ' "$T/o"
printf '2026-11-03T09:15:40.250000+02:00 h postfix/smtpd[1]: connect from x[192.0.2.1]\n' |
    $LC --ts iso > "$T/o"
same "iso in, iso out keeps offset and fraction" "$T/o" \
    '2026-11-03T09:15:40.250000+02:00 h postfix/smtpd[1]: connect from x[192.0.2.1]'
printf '2026-11-03T09:15:40.250000+02:00 h postfix/smtpd[1]: connect from x[192.0.2.1]\n' |
    $LC --ts syslog > "$T/o"
same "iso +02:00 in, syslog out keeps the wall clock" "$T/o" 'Nov  3 09:15:40 h postfix/smtpd[1]: connect from x[192.0.2.1]'
printf '2026-11-03T09:15:40.250000+02:00 h postfix/smtpd[1]: connect from x[192.0.2.1]\n' |
    $LC --ts syslog --tz-offset +00:00 > "$T/o"
same "iso +02:00 in, syslog --tz-offset +00:00 out is UTC" "$T/o" 'Nov  3 07:15:40 h postfix/smtpd[1]: connect from x[192.0.2.1]'

# ---- year roll-over and --shift-days -------------------------------------------
printf 'Dec 31 23:59:59 h postfix/smtpd[1]: connect from a[192.0.2.1]\nJan  1 00:00:01 h postfix/smtpd[1]: connect from b[192.0.2.2]\n' > "$T/ny.log"
$LC --ts iso --year 2026 "$T/ny.log" | cut -c1-19 > "$T/o"
same "Dec -> Jan year roll-over" "$T/o" $'2026-12-31T23:59:59\n2027-01-01T00:00:01'
$LC --shift-days 1 "$T/ny.log" | cut -c1-15 > "$T/o"
same "shift 1 day over the new year" "$T/o" $'Jan  1 23:59:59\nJan  2 00:00:01'
$LC --shift-days 29 "$T/in.log" > "$T/o"
check "shift Nov 3 + 29 = Dec  2 (space-padded)" test "$(grep -c '^Dec  2 09:' "$T/o")" = 13
check "shift moves anvil inner stamp" grep -q 'at Dec  2 09:15:40$' "$T/o"
$LC --shift-days 59 --ts iso "$T/in.log" | head -1 | cut -c1-19 > "$T/o"
same "shift Nov 3 + 59 = 2027-01-01" "$T/o" '2027-01-01T09:15:40'
$LC --shift-days 59 "$T/in.log" | $LC --shift-days -59 > "$T/o"
check "shift there and back" cmp "$T/o" "$T/in.log"
printf 'Feb 28 12:00:00 h cron: x\n' | $LC --year 2028 --shift-days 1 > "$T/o"
same "leap year 2028: Feb 28 + 1 = Feb 29" "$T/o" 'Feb 29 12:00:00 h cron: x'
printf 'Feb 28 12:00:00 h cron: x\n' | $LC --year 2027 --shift-days 1 > "$T/o"
same "2027: Feb 28 + 1 = Mar 1" "$T/o" 'Mar  1 12:00:00 h cron: x'

# ---- --postfix 3.4 ------------------------------------------------------------
$LC --postfix 3.4 "$T/in.log" > "$T/o"
check "3.4: LOGIN failure" test "$(line 2 "$T/o")" = 'Nov  3 09:15:41 mta7 postfix/submission/smtpd[4101]: warning: client.example.net[192.0.2.15]: SASL LOGIN authentication failed: UGFzc3dvcmQ6'
check "3.4: PLAIN failure is bare (trailing space)" test "$(line 4 "$T/o")" = 'Nov  3 09:15:41 mta7 postfix/smtps/smtpd[4102]: warning: unknown[198.51.100.7]: SASL PLAIN authentication failed: '
check "3.4: lost connection without NOQUEUE" test "$(line 3 "$T/o")" = 'Nov  3 09:15:41 mta7 postfix/submission/smtpd[4101]: lost connection after AUTH from client.example.net[192.0.2.15]'
check "3.4: lost connection after DATA without queue ID" test "$(line 11 "$T/o")" = 'Nov  3 09:15:44 mta7 postfix/smtpd[4107]: lost connection after DATA (0 bytes) from unknown[198.51.100.8]'
check "3.4: no sasl_username in failures" bash -c "! grep 'failed.*sasl_username' '$T/o'"
check "3.4: successful AUTH keeps sasl_username" grep -q '3A1F2C0D4E: client=.*sasl_username=erin@example.org$' "$T/o"
check "3.4: other lines unchanged" \
    bash -c "diff <(sed '2,4d;11d' '$T/in.log') <(sed '2,4d;11d' '$T/o')"
printf 'Nov  3 09:15:41 h postfix/smtpd[1]: warning: x[192.0.2.1]: SASL LOGIN authentication failed: authentication failure, sasl_username=u@example.org\n' |
    $LC --postfix 3.4 > "$T/o"
same "3.4: a real reason text is kept" "$T/o" 'Nov  3 09:15:41 h postfix/smtpd[1]: warning: x[192.0.2.1]: SASL LOGIN authentication failed: authentication failure'

# ---- --postfix 3.7 (Debian 12): user kept, no NOQUEUE prefix ------------------
$LC --postfix 3.7 "$T/in.log" > "$T/o"
check "3.7: lost connection without NOQUEUE" test "$(line 3 "$T/o")" = 'Nov  3 09:15:41 mta7 postfix/submission/smtpd[4101]: lost connection after AUTH from client.example.net[192.0.2.15]'
check "3.7: everything else unchanged" bash -c "diff <(sed '3d;11d' '$T/in.log') <(sed '3d;11d' '$T/o')"

# ---- --long-queue-ids ------------------------------------------------------------
$LC --long-queue-ids "$T/in.log" > "$T/o"
L='[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]'
# 3A1F2C0D4E first seen at 2026-11-03 09:15:42 UTC: seconds 1793697342, usec 0x3A1F2, inode 0xC0D4E
check "long id: known value" grep -q '^Nov  3 09:15:42 mta7 postfix/submission/smtpd\[4103\]: 4jJjbf1h2Bz5wf1: client=' "$T/o"
check "long id: same id on every line of the message" test "$(grep -c ' 4jJjbf1h2Bz5wf1: ' "$T/o")" = 6
check "long id: bounce notification id mapped" grep -qE "sender non-delivery notification: ${L}{10}z${L}+\$" "$T/o"
check "long id: no short id left" bash -c "! grep -E ': [0-9A-F]{6,}(:|\$)' '$T/o'"
check "long id: NOQUEUE untouched" grep -q 'NOQUEUE: lost connection after AUTH' "$T/o"
check "long id: decodes back to the short id and the line time" python3 - "$T/o" <<'EOF'
import calendar, re, sys
S = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
def dec(s, b):
    v = 0
    for c in s:
        v = v * b + S.index(c)
    return v
ids = set(re.findall(r": ([0-9A-Za-z]{10,}z[0-9A-Za-y]+)(?::|$)", open(sys.argv[1]).read(), re.M))
shorts = set()
for i in ids:
    sec, us, ino = dec(i[:6], 52), dec(i[6:10], 52), dec(i[11:], 51)
    assert calendar.timegm((2026, 11, 3, 9, 15, 40, 0, 0, 0)) <= sec <= calendar.timegm((2026, 11, 3, 9, 15, 44, 0, 0, 0)), i
    shorts.add("%05X%X" % (us, ino))
assert shorts == {"3A1F2C0D4E", "3A2B0C0D4F", "0F00A12"}, shorts
EOF

# ---- --syslog-name, --host ---------------------------------------------------------
$LC --syslog-name postfix-out "$T/in.log" > "$T/o"
check "syslog-name: submission" grep -q ' mta7 postfix-out/submission/smtpd\[4101\]: connect' "$T/o"
check "syslog-name: all postfix lines renamed" test "$(grep -c ' postfix-out/' "$T/o")" = 12
check "syslog-name: dovecot untouched" grep -q ' mta7 dovecot: imap-login' "$T/o"
check "syslog-name: rest unchanged" bash -c "diff <(sed 's| postfix/| postfix-out/|' '$T/in.log') '$T/o'"
$LC --host mx-b.example.net "$T/in.log" > "$T/o"
check "host replaced" bash -c "diff <(sed 's/ mta7 / mx-b.example.net /' '$T/in.log') '$T/o'"

# ---- --interleave ---------------------------------------------------------------------
$LC --interleave --interleave-rate 0.5 --seed 7 "$T/in.log" > "$T/o"
$LC --interleave --interleave-rate 0.5 --seed 7 "$T/in.log" > "$T/o2"
check "interleave: deterministic" cmp "$T/o" "$T/o2"
check "interleave: lines were added" test "$(wc -l < "$T/o")" -gt 13
check "interleave: original lines kept in order" \
    bash -c "diff <(grep -E ' (postfix/|dovecot: imap-login)' '$T/o') '$T/in.log'"
check "interleave: only other programs added" \
    bash -c "! grep -vE ' mta7 (postfix/|dovecot: |CRON\\[|systemd|kernel: |sshd\\[|rsyslogd: )' '$T/o'"
check "interleave: added lines are in time order" bash -c "awk '{print \$3}' '$T/o' | sort -c"
$LC --interleave --interleave-rate 0.5 --seed 8 "$T/in.log" > "$T/o2"
check "interleave: seed changes the result" bash -c "! cmp -s '$T/o' '$T/o2'"

# ---- everything at once ------------------------------------------------------------------
$LC --ts iso --tz-offset +01:00 --shift-days 7 --postfix 3.4 --long-queue-ids \
    --syslog-name postfix-out --host mx2 --interleave "$T/in.log.gz" > "$T/o"
check "combined: LOGIN failure line" \
    grep -qE '^2026-11-10T10:15:41\.[0-9]{6}\+01:00 mx2 postfix-out/submission/smtpd\[4101\]: warning: client.example.net\[192.0.2.15\]: SASL LOGIN authentication failed: UGFzc3dvcmQ6$' "$T/o"
check "combined: long id" grep -qE "^2026-11-10T10:15:42\.[0-9]{6}\+01:00 mx2 postfix-out/cleanup\[4104\]: ${L}{10}z${L}+: message-id=" "$T/o"

# ---- help ---------------------------------------------------------------------------------
check "--help documents the options" bash -c "$LC --help | grep -q -- '--long-queue-ids' && $LC --help | grep -q MQID_LG"

finish
[ "$FAIL" -eq 0 ]
