#!/usr/bin/env python3
"""logconv.py - rewrite a Postfix mail log into another form, for testing hijackd.

Reads one or more logs (plain text or gzip, detected by content; '-' is stdin)
and writes the rewritten log to stdout. All options can be combined; with no
option the log is copied unchanged.

Input timestamps understood on every line (mixed input is fine):
  syslog   rsyslog traditional  'Nov  2 10:00:01 host prog[pid]: msg' (no year)
  postlog  Postfix maillog_file 'Nov 02 10:00:01 host prog[pid]: msg' (no year)
  iso      RSYSLOG_FileFormat   '2026-11-02T10:00:01.123456+01:00 host prog[pid]: msg'
Lines without a recognised timestamp are copied unchanged.

Time model: a yearless input wall clock is taken as UTC in year --year (the
year is incremented when the month jumps back by 6 or more, e.g. Dec -> Jan).
An ISO input line is taken at its own offset. The output wall clock is
UTC + --tz-offset (default: +00:00 for yearless input, the line's own offset
for ISO input); only the iso output prints the offset.

Options:
  --ts {syslog,iso,postlog}  output timestamp style (default: same as input)
  --year Y                   year of yearless input (default 2026)
  --tz-offset +HH:MM         output offset, see above
  --shift-days N             move every timestamp by N days (may be negative).
                             The 'at Mon dd hh:mm:ss' stamps inside postfix/anvil
                             statistics lines follow the line's own time change.
  --postfix {3.4,3.7,3.10}   3.4: rewrite 3.9+/3.10 message formats back to 3.4:
                               'SASL X authentication failed: (reason unavailable),
                               sasl_username=u' -> 'SASL LOGIN authentication failed:
                               UGFzc3dvcmQ6' (LOGIN) or 'SASL PLAIN authentication
                               failed: ' (other mechanisms; a real reason text is
                               kept, only ', sasl_username=...' is dropped), and
                               'NOQUEUE: lost connection after AUTH from ...' (also
                               'timeout'/'too many errors', also a queue ID instead
                               of NOQUEUE) -> 'lost connection after AUTH from ...'.
                             3.7: only the 'lost connection' change (Debian 12's
                               3.7.11 logs ', sasl_username=' but not the prefix).
                             3.10: no change (input is assumed to be 3.10 already).
                             (', sasl_username=' came with Postfix 3.9-20231030 and
                             was backported to stable releases; the 'NOQUEUE: '
                             prefix with 3.10-20250105: smtpd_sasl_glue.c, smtpd.c.)
  --long-queue-ids           map short hex queue IDs to enable_long_queue_ids IDs
  --syslog-name NAME         program 'postfix/...' -> 'NAME/...', 'postfix[pid]' -> 'NAME[pid]'
  --host NAME                replace the host field
  --interleave               insert unrelated lines (CRON, dovecot, kernel, systemd,
                             sshd) after random lines, with the previous line's time
  --interleave-rate P        probability of an inserted line after each line (0.1)
  --seed N                   seed for --interleave and generated ISO microseconds (1)

Long queue IDs (Postfix src/global/mail_queue.h, MQID_LG_*; alphabet from
src/global/safe_ultostr.c, '0-9' + consonants 'B-Z' + 'b-z' without vowels):
  base52(seconds, >= 6 chars) + base52(microseconds, exactly 4 chars) + 'z'
  + base51(inode number, no padding).
A short ID is '%05X' microseconds + '%lX' inode number, so the mapping takes the
microseconds and inode number from the short ID and the seconds from the (output)
time of the line where the short ID is first seen; e.g. 3A1F2C0D4E first seen
at 2026-11-03 09:15:42 UTC -> 4jJjbf 1h2B z 5wf1 (without the spaces).
The mapping is consistent within a run: every later occurrence (in the 'QID:'
position, in 'sender non-delivery notification: QID' and friends, and in
'queued as QID') gets the same long ID, until the 'QID: removed' line, after which
a reused short ID gets a fresh long ID (long IDs never repeat in real Postfix).

Examples:
  logconv.py --ts iso --year 2026 --tz-offset +01:00 maillog.gz > iso.log
  logconv.py --postfix 3.4 --long-queue-ids --syslog-name postfix-out maillog > x.log
  logconv.py --shift-days 56 --ts postlog --interleave --host mx2 maillog.gz > y.log
"""

import argparse
import gzip
import io
import random
import re
import sys
import time
import calendar

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MON_IDX = {m: i + 1 for i, m in enumerate(MONTHS)}

SAFE_CHARS = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

RE_SYSLOG = re.compile(r"([A-Z][a-z]{2}) ( ?\d|\d\d) (\d\d):(\d\d):(\d\d) ")
RE_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?"
                    r"(Z|[+-]\d\d:?\d\d) ")
RE_QID_HEAD = re.compile(r"([0-9A-F]{6,20})(: )")
RE_QID_NOTIF = re.compile(r"(notification: )([0-9A-F]{6,20})\b")
RE_QID_QUEUED = re.compile(r"(queued as )([0-9A-F]{6,20})\b")
RE_SASL_FAIL = re.compile(r"(SASL (\S+) authentication failed: )(.*?), sasl_username=.*$")
RE_LOST_AFTER = re.compile(r"(?:NOQUEUE|[0-9A-F]{6,20}|[0-9A-Za-z]{12,25}): "
                           r"((?:lost connection|timeout|too many errors) after )")
RE_ANVIL_AT = re.compile(r"( at )([A-Z][a-z]{2}) ( ?\d|\d\d) (\d\d:\d\d:\d\d)$")


def safe_enc(val, base, pad):
    out = []
    while val:
        val, r = divmod(val, base)
        out.append(SAFE_CHARS[r])
    while len(out) < pad:
        out.append("0")
    return "".join(reversed(out))


def long_qid(short, epoch):
    usec = int(short[:5], 16)
    inum = int(short[5:], 16) if len(short) > 5 else 0
    return (safe_enc(max(epoch, 0), 52, 6) + safe_enc(usec, 52, 4) + "z"
            + safe_enc(inum, 51, 0))


def parse_offset(s):
    if s in ("Z", "z"):
        return 0
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", s)
    if not m:
        raise ValueError("bad offset %r (want +HH:MM)" % s)
    v = int(m.group(2)) * 3600 + int(m.group(3)) * 60
    return -v if m.group(1) == "-" else v


def fmt_offset(sec):
    sign = "-" if sec < 0 else "+"
    sec = abs(sec)
    return "%s%02d:%02d" % (sign, sec // 3600, (sec % 3600) // 60)


def open_input(path):
    raw = sys.stdin.buffer if path == "-" else open(path, "rb")
    buf = io.BufferedReader(raw, 1 << 20) if path == "-" else raw
    head = buf.peek(2)[:2] if hasattr(buf, "peek") else b""
    if head == b"\x1f\x8b":
        buf = gzip.GzipFile(fileobj=buf)
    return io.TextIOWrapper(buf, encoding="utf-8", errors="surrogateescape",
                            newline="\n")


FILLER_USERS = ["filler1@interleave.invalid", "filler2@interleave.invalid"]
SYSTEMD_UNITS = [("logrotate.service", "Rotate log files"),
                 ("man-db.service", "Daily man-db regeneration"),
                 ("apt-daily.service", "Daily apt download activities"),
                 ("phpsessionclean.service", "Clean php session files")]


def filler_line(rng, epoch):
    """One unrelated log line body ('prog[pid]: msg'), deterministic from rng."""
    k = rng.randrange(9)
    pid = rng.randrange(1000, 65000)
    if k == 0:
        return "CRON[%d]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)" % pid
    if k == 1:
        return "CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)" % pid
    if k == 2:
        unit, desc = SYSTEMD_UNITS[rng.randrange(len(SYSTEMD_UNITS))]
        verb = rng.choice(["Starting %s - %s..." % (unit, desc),
                           "%s: Deactivated successfully." % unit,
                           "Finished %s - %s." % (unit, desc)])
        return "systemd[1]: " + verb
    if k == 3:
        up = (epoch % 10000000) + rng.random()
        src = "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256),
                               rng.randrange(256), rng.randrange(1, 255))
        return ("kernel: [%12.6f] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=%s "
                "DST=10.0.0.10 LEN=44 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP "
                "SPT=%d DPT=%d WINDOW=1024 RES=0x00 SYN URGP=0"
                % (up, src, rng.randrange(1024, 65535), rng.choice([22, 23, 3389, 8080])))
    if k == 4:
        u = rng.choice(FILLER_USERS)
        return ("dovecot: imap(%s)<%d><%s>: Disconnected: Logged out in=%d out=%d "
                "deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0"
                % (u, pid, "".join(rng.choice(SAFE_CHARS) for _ in range(12)),
                   rng.randrange(50, 900), rng.randrange(400, 90000)))
    if k == 5:
        return "dovecot: master: Warning: service(imap-login): process_limit (100) reached, client connections are being dropped" \
            if rng.random() < 0.1 else \
            "dovecot: lmtp(%d): Disconnect from local: Client has quit the connection (state=READY)" % pid
    if k == 6:
        src = "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256),
                               rng.randrange(256), rng.randrange(1, 255))
        return "sshd[%d]: Failed password for invalid user admin from %s port %d ssh2" % (
            pid, src, rng.randrange(1024, 65535))
    if k == 7:
        return "systemd-logind[412]: New session %d of user root." % rng.randrange(1, 9999)
    return "rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2302.0\" x-pid=\"%d\"] rsyslogd was HUPed" % pid


class Converter:
    def __init__(self, a):
        self.a = a
        self.ts_out = a.ts
        self.year = a.year
        self.last_mon = None
        self.shift = a.shift_days * 86400
        self.out_off = parse_offset(a.tz_offset) if a.tz_offset is not None else None
        self.reformat = bool(a.ts or a.shift_days or a.tz_offset is not None
                             or a.long_queue_ids)
        self.cache = {}
        self.qmap = {}
        self.frac_rng = random.Random(a.seed * 7919 + 1)
        self.fill_rng = random.Random(a.seed)
        self.last_frac_key = None
        self.frac = 0
        self.sysname = a.syslog_name

    # --- time ---------------------------------------------------------
    def _year_for(self, mon):
        """Year of a yearless stamp in month mon; False for a straggler line."""
        if self.last_mon is not None:
            if mon <= self.last_mon - 6:      # Dec -> Jan: next year
                self.year += 1
                self.cache.clear()
            elif mon >= self.last_mon + 6:    # a late Dec line after Jan
                return False
        self.last_mon = mon
        return True

    def convert_ts(self, m, iso):
        """Return (output instant UTC, stamp text without fraction, style,
        offset text, input wall clock, output minus input wall clock)."""
        key = m.group(0)
        year = None
        if not iso:
            mon = MON_IDX.get(m.group(1))
            if mon is None:
                return None
            if mon != self.last_mon and not self._year_for(mon):
                year = self.year - 1          # straggler: cache it apart
                key = (key, year)
            else:
                year = self.year
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if iso:
            y, mo, d, H, M, S = (int(m.group(i)) for i in range(1, 7))
            in_off = parse_offset(m.group(8))
            wall_in = calendar.timegm((y, mo, d, H, M, S, 0, 0, 0))
            epoch = wall_in - in_off
            style = "iso"
            off = in_off if self.out_off is None else self.out_off
        else:
            d = int(m.group(2))
            wall_in = epoch = calendar.timegm((year, MON_IDX[m.group(1)], d,
                                               int(m.group(3)), int(m.group(4)),
                                               int(m.group(5)), 0, 0, 0))
            style = "postlog" if m.group(2)[0] == "0" else "syslog"
            off = self.out_off or 0
        epoch += self.shift
        style = self.ts_out or style
        t = time.gmtime(epoch + off)
        if style == "iso":
            pre = "%04d-%02d-%02dT%02d:%02d:%02d" % t[:6]
        elif style == "postlog":
            pre = "%s %02d %02d:%02d:%02d" % (MONTHS[t.tm_mon - 1], t.tm_mday,
                                             t.tm_hour, t.tm_min, t.tm_sec)
        else:
            pre = "%s %2d %02d:%02d:%02d" % (MONTHS[t.tm_mon - 1], t.tm_mday,
                                            t.tm_hour, t.tm_min, t.tm_sec)
        # (output instant UTC, stamp text w/o fraction, style, offset text,
        #  input wall clock, output wall clock - input wall clock)
        res = (epoch, pre, style, fmt_offset(off), wall_in, epoch + off - wall_in)
        if len(self.cache) > 200000:
            self.cache.clear()
        self.cache[key] = res
        return res

    def out_stamp(self, conv, in_frac):
        epoch, pre, style, offs = conv[:4]
        if style != "iso":
            return pre + " "
        if in_frac:
            frac = (in_frac[1:] + "000000")[:6]
        else:
            # generated microseconds: random start per second, increasing within it
            if epoch != self.last_frac_key:
                self.last_frac_key = epoch
                self.frac = self.frac_rng.randrange(0, 600000)
            else:
                self.frac = min(999999, self.frac + self.frac_rng.randrange(1, 3000))
            frac = "%06d" % self.frac
        return "%s.%s%s " % (pre, frac, offs)

    def shift_anvil(self, msg, conv):
        """Move anvil's own 'at Mon dd hh:mm:ss' stamp like the line's timestamp."""
        m = RE_ANVIL_AT.search(msg)
        if not m or m.group(2) not in MON_IDX:
            return msg
        wall_in, delta = conv[4], conv[5]
        lt = time.gmtime(wall_in)
        ly, mon = lt.tm_year, MON_IDX[m.group(2)]
        if mon > lt.tm_mon + 6:
            ly -= 1
        H, M, S = (int(x) for x in m.group(4).split(":"))
        e = calendar.timegm((ly, mon, int(m.group(3)), H, M, S, 0, 0, 0)) + delta
        t = time.gmtime(e)
        return msg[:m.start()] + " at %s %2d %02d:%02d:%02d" % (
            MONTHS[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)

    # --- queue ids ------------------------------------------------------
    def qid(self, short, epoch):
        lid = self.qmap.get(short)
        if lid is None:
            lid = long_qid(short, epoch)
            self.qmap[short] = lid
        return lid

    # --- message --------------------------------------------------------
    def rewrite_msg(self, prog, msg, conv):
        epoch = conv[0] if conv is not None else 0
        a = self.a
        if self.sysname is not None:
            if prog.startswith("postfix/"):
                prog = self.sysname + prog[7:]
            elif prog.startswith("postfix["):
                prog = self.sysname + prog[7:]
        if a.postfix == "3.4" and "authentication failed: " in msg:
            m = RE_SASL_FAIL.search(msg)
            if m:
                reason = m.group(3)
                if reason == "(reason unavailable)":
                    reason = "UGFzc3dvcmQ6" if m.group(2) == "LOGIN" else ""
                msg = msg[:m.start()] + m.group(1) + reason
        if a.postfix != "3.10" and " after " in msg:
            m = RE_LOST_AFTER.match(msg)
            if m:
                msg = msg[m.start(1):]
        if a.long_queue_ids:
            m = RE_QID_HEAD.match(msg)
            if m:
                short = m.group(1)
                msg = self.qid(short, epoch) + msg[m.end(1):]
                if msg.endswith(": removed"):
                    self.qmap.pop(short, None)
            if "notification: " in msg:
                msg = RE_QID_NOTIF.sub(lambda x: x.group(1) + self.qid(x.group(2), epoch), msg)
            if "queued as " in msg:
                msg = RE_QID_QUEUED.sub(lambda x: x.group(1) + self.qid(x.group(2), epoch), msg)
        if conv is not None and conv[5] and " at " in msg and "anvil" in prog:
            msg = self.shift_anvil(msg, conv)
        return prog, msg

    def run(self, fin, out):
        a = self.a
        need_msg = (a.syslog_name is not None or a.postfix != "3.10"
                    or a.long_queue_ids or self.reformat)
        rate = a.interleave_rate if a.interleave else 0.0
        fill = self.fill_rng
        w = out.write
        for line in fin:
            iso = False
            m = RE_SYSLOG.match(line)
            if m is None:
                m = RE_ISO.match(line)
                if m is None:
                    w(line)
                    continue
                iso = True
            rest = line[m.end():]
            conv = None
            if self.reformat:
                conv = self.convert_ts(m, iso)
                if conv is None:
                    w(line)
                    continue
                stamp = self.out_stamp(conv, m.group(7) if iso else None)
                epoch = conv[0]
            else:
                stamp = m.group(0)
                epoch = 0
            host, sp, body = rest.partition(" ")
            if a.host is not None:
                host = a.host
            if need_msg:
                prog, sep, msg = body.partition(": ")
                if sep:
                    nl = msg.endswith("\n")
                    if nl:
                        msg = msg[:-1]
                    prog, msg = self.rewrite_msg(prog, msg, conv)
                    body = prog + sep + msg + ("\n" if nl else "")
            w(stamp + host + sp + body)
            if rate and fill.random() < rate:
                if conv is not None and conv[2] == "iso" and not (iso and m.group(7)):
                    st2 = self.out_stamp(conv, None)
                else:
                    st2 = stamp
                w(st2 + host + " " + filler_line(fill, epoch) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="logconv.py",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", default=["-"], metavar="FILE",
                   help="input log(s), plain or gzip; '-' or none = stdin")
    p.add_argument("--ts", choices=["syslog", "iso", "postlog"],
                   help="output timestamp style (default: as input)")
    p.add_argument("--year", type=int, default=2026,
                   help="year of yearless input timestamps (default 2026)")
    p.add_argument("--tz-offset", metavar="+HH:MM",
                   help="output wall clock = UTC + this offset")
    p.add_argument("--shift-days", type=int, default=0, metavar="N",
                   help="shift every timestamp by N days")
    p.add_argument("--postfix", choices=["3.4", "3.7", "3.10"], default="3.10",
                   help="message formats of this Postfix version")
    p.add_argument("--long-queue-ids", action="store_true",
                   help="short hex queue IDs -> enable_long_queue_ids form")
    p.add_argument("--syslog-name", metavar="NAME",
                   help="replace the postfix/ prefix of program names")
    p.add_argument("--host", metavar="NAME", help="replace the host field")
    p.add_argument("--interleave", action="store_true",
                   help="insert unrelated lines from other programs")
    p.add_argument("--interleave-rate", type=float, default=0.1, metavar="P",
                   help="inserted lines per input line (default 0.1)")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed (default 1)")
    args, rest = [], list(sys.argv[1:] if argv is None else argv)
    while rest:  # allow '--tz-offset -05:00' (argparse would take it for an option)
        x = rest.pop(0)
        if x == "--tz-offset" and rest and rest[0][:1] == "-":
            x = "--tz-offset=" + rest.pop(0)
        args.append(x)
    a = p.parse_args(args)
    if a.tz_offset is not None:
        try:
            parse_offset(a.tz_offset)
        except ValueError as e:
            p.error(str(e))
    if a.syslog_name is not None:
        a.syslog_name = a.syslog_name.rstrip("/")
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8",
                           errors="surrogateescape", newline="\n",
                           write_through=False)
    conv = Converter(a)
    try:
        for f in a.files:
            with open_input(f) as fin:
                conv.run(fin, out)
        out.flush()
    except BrokenPipeError:
        try:
            sys.stdout = None
        finally:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
