#!/usr/bin/env python3
"""gen.py - write the golden-test input logs (deterministic; run from anywhere).

Each scenario is a small Postfix log in one timestamp style whose expected
decisions can be checked by hand; NAME.log is the input, NAME.conf the
configuration (absent = the built-in default), NAME.expected the decisions
`hijackd replay --json --year 2026` must print (reviewed, then committed).

Each scenario also states, from its own parameters, the key fields of every decision it
predicts (ts, account, action, rule, count): NAME.predict, one JSON object per line. The suite
compares those with the replay separately from the whole .expected, so a regression in them
cannot be "reviewed" into a new .expected. A scenario predicts all its decisions: a decision
it does not predict is a failure too.
"""
import json
import datetime as dt
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE  # where the files go; --check writes them to a temporary directory instead
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class Log:
    def __init__(self, style="syslog", tz="+00:00", host="mx", syslog_name="postfix",
                 sasl_user_in_failures=True, long_ids=False):
        self.lines, self.style, self.tz, self.host = [], style, tz, host
        self.sn, self.fail_user, self.long_ids = syslog_name, sasl_user_in_failures, long_ids
        self.qn, self.pid = 0x1A2B300, 1000
        self.predicted = []

    def decide(self, t, account, action, rule, count=None):
        """predict a decision at log time t (as written in the log; UTC for ISO logs)"""
        if self.style == "iso":
            sign = -1 if self.tz[0] == "-" else 1
            t = t + dt.timedelta(hours=int(self.tz[1:3]), minutes=int(self.tz[4:6])) * sign
            ts = t.strftime("%Y-%m-%dT%H:%M:%S") + self.tz
        else:
            ts = t.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"  # the suite replays with TZ=UTC
        self.predicted.append({"ts": ts, "account": account, "action": action, "rule": rule,
                               "count": count})

    def ts(self, t):
        if self.style == "iso":
            sign = -1 if self.tz[0] == "-" else 1
            off = dt.timedelta(hours=int(self.tz[1:3]), minutes=int(self.tz[4:6])) * sign
            w = t + off
            return w.strftime("%Y-%m-%dT%H:%M:%S.000000") + self.tz
        day = "%02d" % t.day if self.style == "postlog" else "%2d" % t.day
        return "%s %s %s" % (MON[t.month - 1], day, t.strftime("%H:%M:%S"))

    def put(self, t, prog, msg):
        self.pid += 1
        self.lines.append("%s %s %s[%d]: %s" % (self.ts(t), self.host, prog, self.pid, msg))

    def qid(self):
        self.qn += 1
        if self.long_ids:
            alphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjkmnpqrstvwxyz"
            n, s = self.qn, ""
            while n:
                n, r = divmod(n, len(alphabet))
                s = alphabet[r] + s
            return "4k" + s + "z" + "Xy1"
        return "%X" % (self.qn * 16 + 0xA0000000)

    def submit(self, t, user, rcpts, ip="203.0.113.10", name="unknown", svc="submission",
               sender=None, size=2000, status="sent", orig_to=None, agent="smtp"):
        q = self.qid()
        sender = user if sender is None else sender
        auth = ", sasl_method=PLAIN, sasl_username=%s" % user if user else ""
        prog = "%s/%s/smtpd" % (self.sn, svc) if svc else "%s/smtpd" % self.sn
        self.put(t, prog, "%s: client=%s[%s]%s" % (q, name, ip, auth))
        self.put(t, self.sn + "/cleanup", "%s: message-id=<%s@example.net>" % (q, q))
        self.put(t, self.sn + "/qmgr", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)"
                 % (q, sender, size, len(rcpts)))
        for r in rcpts:
            dsn = {"sent": "2.0.0", "bounced": "5.1.1", "deferred": "4.4.1"}[status]
            o = ", orig_to=<%s>" % orig_to if orig_to else ""
            relay = "mx.remote.test[198.51.100.9]:25" if agent == "smtp" else "mail.example.com[private/dovecot-lmtp]"
            self.put(t, "%s/%s" % (self.sn, agent), "%s: to=<%s>%s, relay=%s, delay=0.5, "
                     "delays=0.1/0/0.2/0.2, dsn=%s, status=%s (250 ok)" % (q, r, o, relay, dsn, status))
        if status != "deferred":
            self.put(t, self.sn + "/qmgr", "%s: removed" % q)
        return q

    def authfail(self, t, user, ip, svc="submission"):
        prog = "%s/%s/smtpd" % (self.sn, svc)
        if self.fail_user:
            msg = "warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=%s" % (ip, user)
        else:
            msg = "warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6" % ip
        self.put(t, prog, msg)

    def other(self, t, prog, msg):
        self.lines.append("%s %s %s: %s" % (self.ts(t), self.host, prog, msg))

    def write(self, name):
        with open(os.path.join(OUT, name + ".log"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
        with open(os.path.join(OUT, name + ".predict"), "w") as f:
            for d in self.predicted:
                f.write(json.dumps(d, separators=(",", ":")) + "\n")


def T(*a):
    return dt.datetime(*a)


def every(start, seconds, n):
    return [start + dt.timedelta(seconds=seconds * i) for i in range(n)]


def bcc_blast():
    """MDaemon rule: 11 messages of 50 Bcc recipients: 550 > 500 -> lock on the 11th (one lock)."""
    lg = Log()
    lg.submit(T(2026, 11, 2, 9, 0, 0), "carol@example.com", ["friend@remote.test"], ip="192.0.2.7")
    for i, t in enumerate(every(T(2026, 11, 2, 10, 0, 0), 60, 14)):
        lg.submit(t, "carol@example.com", ["v%d-%d@remote.test" % (i, k) for k in range(50)],
                  ip="198.18.5.%d" % (i + 1))
    n = 500 // 50 + 1  # the 11th message of 50 takes the 30-minute sum past 500
    lg.decide(every(T(2026, 11, 2, 10, 0, 0), 60, 14)[n - 1], "carol@example.com", "lock",
              "mdaemon_rcpt_500_30m", 50 * n)
    lg.write("bcc_blast")


def sliding():
    """Sliding, not resetting: 300 recipients at 10:00, 250 at 10:29:59 (550 in 30 min -> lock);
    dave: 300 at 10:00, 250 at 10:30:00 (the first left the window at exactly 30 min -> no lock)."""
    lg = Log()
    lg.submit(T(2026, 11, 3, 10, 0, 0), "erin@example.com", ["a%d@remote.test" % k for k in range(300)])
    lg.submit(T(2026, 11, 3, 10, 0, 0), "dave@example.com", ["b%d@remote.test" % k for k in range(300)])
    lg.submit(T(2026, 11, 3, 10, 29, 59), "erin@example.com", ["c%d@remote.test" % k for k in range(250)])
    lg.submit(T(2026, 11, 3, 10, 30, 0), "dave@example.com", ["d%d@remote.test" % k for k in range(250)])
    lg.decide(T(2026, 11, 3, 10, 29, 59), "erin@example.com", "lock", "mdaemon_rcpt_500_30m", 550)
    lg.write("sliding")


def classes():
    """Three source-IP classes with their own limits (classes.conf): 20 one-recipient messages each
    from 10.1.2.3 (reserved: limit 30, nothing), from 198.51.100.20 (own: limit 15, lock at the 16th)
    and from 203.0.113.50 (external: limit 5, lock at the 6th)."""
    lg = Log()
    for i, t in enumerate(every(T(2026, 11, 4, 8, 0, 0), 30, 20)):
        lg.submit(t, "webapp@example.com", ["r%d@remote.test" % i], ip="10.1.2.3", name="app.internal")
        lg.submit(t, "office@example.com", ["r%d@remote.test" % i], ip="198.51.100.20", name="gw.example.com")
        lg.submit(t, "roamer@example.com", ["r%d@remote.test" % i], ip="203.0.113.50")
    times = every(T(2026, 11, 4, 8, 0, 0), 30, 20)
    lg.decide(times[5], "roamer@example.com", "lock", "external_msgs", 6)
    lg.decide(times[15], "office@example.com", "lock", "own_msgs", 16)
    lg.write("classes")


def overrides():
    """Overrides and exemptions (overrides.conf: limit 10 messages/h -> lock):
    newsletter@lists.example.com exempt (glob), ceo@example.com limit 30 (exact),
    @example.org limit 15 (domain), anna@example.org exact 12 beats the domain,
    bob@example.com rule off, sam@example.com default 10. 20 messages each."""
    lg = Log()
    users = ["newsletter@lists.example.com", "ceo@example.com", "zoe@example.org",
             "anna@example.org", "bob@example.com", "sam@example.com"]
    for i, t in enumerate(every(T(2026, 11, 5, 9, 0, 0), 60, 20)):
        for u in users:
            lg.submit(t, u, ["x%d@remote.test" % i])
    times = every(T(2026, 11, 5, 9, 0, 0), 60, 20)
    for user, limit in (("sam@example.com", 10), ("anna@example.org", 12), ("zoe@example.org", 15)):
        lg.decide(times[limit], user, "lock", "msgs_1h", limit + 1)
    lg.write("overrides")


def never_counted():
    """postmaster@ and MAILER-DAEMON logins are never counted (MDaemon-like rule at limit 5 in
    never_counted.conf): 10 messages from each -> no decision; 6 from gina -> lock. A login is
    judged whatever envelope sender it gives: hank's 10 with MAIL FROM:<> lock at the 6th."""
    lg = Log()
    for i, t in enumerate(every(T(2026, 11, 5, 9, 0, 0), 60, 10)):
        lg.submit(t, "postmaster@example.com", ["p%d@remote.test" % i])
        lg.submit(t, "mailer-daemon@example.com", ["m%d@remote.test" % i])
        lg.submit(t, "hank@example.com", ["n%d@remote.test" % i], sender="")
    for i, t in enumerate(every(T(2026, 11, 5, 9, 0, 30), 60, 6)):
        lg.submit(t, "gina@example.com", ["g%d@remote.test" % i])
    lg.decide(every(T(2026, 11, 5, 9, 0, 0), 60, 10)[5], "hank@example.com", "lock", "msgs_1h", 6)
    lg.decide(every(T(2026, 11, 5, 9, 0, 30), 60, 6)[5], "gina@example.com", "lock", "msgs_1h", 6)
    lg.write("never_counted")


def relay():
    """Open relay: unauthenticated outside->outside mail via smtp (12 recipients, default relay
    rule: > 10 in 1 h -> relay at the 11th); a forward (orig_to= a local user) and inbound mail
    are not relaying. Local domains are learned from the SASL login of ivy@example.com."""
    lg = Log()
    lg.submit(T(2026, 11, 6, 7, 0, 0), "ivy@example.com", ["ivy-friend@remote.test"])
    for i, t in enumerate(every(T(2026, 11, 6, 8, 0, 0), 30, 12)):
        lg.submit(t, None, ["victim%d@far.test" % i], ip="192.0.2.%d" % (100 + i % 3),
                  svc=None, sender="spam%d@spammer.test" % i)
    for i, t in enumerate(every(T(2026, 11, 6, 9, 0, 0), 30, 12)):
        lg.submit(t, None, ["ivy.gmail@gmail.test"], ip="192.0.2.200", svc=None,
                  sender="news%d@shop.test" % i, orig_to="ivy@example.com")
        lg.submit(t, None, ["ivy@example.com"], ip="192.0.2.201", svc=None,
                  sender="hello%d@shop.test" % i, agent="lmtp")
    lg.decide(every(T(2026, 11, 6, 8, 0, 0), 30, 12)[10], "", "relay", "relay_1h", 11)
    lg.write("relay")


def rollover():
    """Dec -> Jan: a Bcc blast across midnight of New Year (mdaemon.conf): the lock is in 2027."""
    lg = Log()
    for i, t in enumerate(every(T(2026, 12, 31, 23, 55, 0), 60, 12)):
        lg.submit(t, "jack@example.com", ["y%d-%d@remote.test" % (i, k) for k in range(50)])
    lg.decide(every(T(2026, 12, 31, 23, 55, 0), 60, 12)[10], "jack@example.com", "lock",
              "mdaemon_rcpt_500_30m", 550)
    lg.write("rollover")


def iso_offset():
    """rsyslog ISO with +01:00 and long queue IDs, custom syslog_name: the decision keeps +01:00."""
    lg = Log(style="iso", tz="+01:00", syslog_name="postfix-out", long_ids=True)
    for i, t in enumerate(every(T(2026, 11, 18, 9, 0, 0), 60, 12)):
        lg.submit(t, "kate@example.com", ["z%d-%d@remote.test" % (i, k) for k in range(50)])
        lg.other(t, "dovecot", "imap-login: Login: user=<kate@example.com>, method=PLAIN, rip=127.0.0.1")
        lg.other(t, "CRON[%d]" % (i + 5), "(root) CMD (run-parts /etc/cron.hourly)")
    lg.decide(every(T(2026, 11, 18, 9, 0, 0), 60, 12)[10], "kate@example.com", "lock",
              "mdaemon_rcpt_500_30m", 550)
    lg.write("iso_offset")


def bruteforce():
    """Password guessing (default rules): 25 failures for liam@ from 25 IPs (> 20 -> warn on the
    21st), and 60 failures from one IP without user names, Postfix 3.4 style (> 50 -> warn, scope ip)."""
    lg = Log(style="postlog")
    for i, t in enumerate(every(T(2026, 11, 7, 3, 0, 0), 20, 25)):
        lg.authfail(t, "liam@example.com", "198.18.%d.9" % i)
    lg34 = Log(style="postlog", sasl_user_in_failures=False)
    lg34.pid = 5000
    for t in every(T(2026, 11, 7, 4, 0, 0), 10, 60):
        lg34.authfail(t, None, "192.0.2.66")
    lg.lines += lg34.lines
    lg.decide(every(T(2026, 11, 7, 3, 0, 0), 20, 25)[20], "liam@example.com", "warn",
              "auth_fail_warn_1h", 21)
    lg.decide(every(T(2026, 11, 7, 4, 0, 0), 10, 60)[50], "192.0.2.66", "warn",
              "auth_fail_ip_warn_1h", 51)
    lg.write("bruteforce")


def autounlock():
    """lock with unlock_after=1h (autounlock.conf, 5 messages in 10 min): mia locks at the 6th
    message, is unlocked 1 h later (seen at the next event), and locks again on a new burst: that
    lock is escalated (within relock_escalate_within of the automatic unlock), with no until."""
    lg = Log()
    for i, t in enumerate(every(T(2026, 11, 8, 12, 0, 0), 30, 8)):
        lg.submit(t, "mia@example.com", ["q%d@remote.test" % i])
    for i, t in enumerate(every(T(2026, 11, 8, 13, 30, 0), 30, 8)):
        lg.submit(t, "mia@example.com", ["s%d@remote.test" % i])
    first = every(T(2026, 11, 8, 12, 0, 0), 30, 8)[5]
    lg.decide(first, "mia@example.com", "lock", "burst", 6)
    lg.decide(first + dt.timedelta(hours=1), "mia@example.com", "unlock", "")  # at its until
    lg.decide(every(T(2026, 11, 8, 13, 30, 0), 30, 8)[5], "mia@example.com", "lock", "burst", 6)
    lg.write("autounlock")


def novel_blast():
    """Built-in configuration. nora@ sends from her office network for a day; travels (3 messages
    from a hotel network: nothing happens); then her password is used from a new network for
    single-recipient spam of nearly the same size: throttle at the 6th similar message (> 5 in
    1 h, novel=yes), lock at the 10th (> 9)."""
    lg = Log()
    for i, t in enumerate(every(T(2026, 11, 9, 8, 0, 0), 1800, 20)):
        lg.submit(t, "nora@example.com", ["c%d@partner.test" % i], ip="192.0.2.20",
                  name="office.example.com", size=3000 + 917 * i)
    for i, t in enumerate(every(T(2026, 11, 10, 9, 0, 0), 600, 3)):
        lg.submit(t, "nora@example.com", ["h%d@partner.test" % i], ip="198.18.77.5",
                  name="hotel.example.net", size=5000 + 1500 * i)
    for i, t in enumerate(every(T(2026, 11, 10, 14, 0, 0), 5, 14)):
        lg.submit(t, "nora@example.com", ["victim%d@far.test" % i], ip="203.0.113.99",
                  size=24000 + (i * 37) % 150)
    blast = every(T(2026, 11, 10, 14, 0, 0), 5, 14)
    lg.decide(blast[5], "nora@example.com", "throttle", "novel_similar_throttle", 6)
    # each message scores novel_network 3 + unknown_client 1 + similar_sizes 1 = 5 once the
    # similar_sizes signal joins the "where from" evidence (from its 3rd alike message):
    # messages 3-6 give 20 > 15
    lg.decide(blast[5], "nora@example.com", "warn", "score_warn", 20)
    lg.decide(blast[9], "nora@example.com", "lock", "novel_similar_lock", 10)
    lg.write("novel_blast")


def bcc_novel():
    """Built-in configuration. oscar@ (known office network) is used from a new network for Bcc
    spam of 70 recipients a message: throttle at the first (70 > 60 novel recipients in 1 h),
    lock at the second (140 > 120)."""
    lg = Log()
    lg.submit(T(2026, 11, 9, 9, 0, 0), "oscar@example.com", ["boss@partner.test"], ip="192.0.2.30")
    for i, t in enumerate(every(T(2026, 11, 9, 22, 0, 0), 120, 3)):
        lg.submit(t, "oscar@example.com", ["b%d-%d@far.test" % (i, k) for k in range(70)],
                  ip="203.0.113.140", size=9000 + 4000 * i)
    blast = every(T(2026, 11, 9, 22, 0, 0), 120, 3)
    lg.decide(blast[0], "oscar@example.com", "throttle", "novel_rcpt_throttle", 70)
    lg.decide(blast[1], "oscar@example.com", "lock", "novel_rcpt_lock", 140)
    lg.write("bcc_novel")


def traps():
    """Built-in configuration; legitimate traffic that looks like abuse, and must not be throttled
    or locked (warns are allowed):
    - a newsletter: 730 recipients in 50 minutes from the CRM host on a private network -> warn;
    - a monitoring account: a burst of 120 alerts of the same size from the monitoring host (own
      network, own_networks is empty so it is private 10.x here) -> warn only;
    - webmail: many accounts through 127.0.0.1;
    - a heavy sender on the road: 40 messages in 1 h from 20 different new networks, varied sizes;
    - a phone retrying an old password: 60 failures in 10 hours from one address;
    - a generic address sprayed by bots: 30 failures in 1 h from 30 addresses (-> warn), never a
      success."""
    lg = Log()
    lg.submit(T(2026, 11, 11, 7, 0, 0), "news@example.com", ["x@partner.test"], ip="10.0.0.5", name="crm.example.com")
    for i, t in enumerate(every(T(2026, 11, 11, 10, 0, 0), 4, 730)):
        lg.submit(t, "news@example.com", ["sub%d@list.test" % i], ip="10.0.0.5", name="crm.example.com",
                  size=48000 + (i % 7))
    for i, t in enumerate(every(T(2026, 11, 11, 12, 0, 0), 8, 120)):
        lg.submit(t, "alerts@example.com", ["ops%d@example.com" % (i % 4)], ip="10.0.0.9",
                  name="monitor.example.com", size=1500)
    for i, t in enumerate(every(T(2026, 11, 11, 13, 0, 0), 20, 90)):
        lg.submit(t, "user%d@example.com" % (i % 30), ["r%d@partner.test" % i], ip="127.0.0.1",
                  name="localhost", size=2000 + 13 * i)
    lg.submit(T(2026, 11, 11, 6, 0, 0), "sam.sales@example.com", ["first@partner.test"], ip="192.0.2.50")
    for i, t in enumerate(every(T(2026, 11, 11, 15, 0, 0), 90, 40)):
        lg.submit(t, "sam.sales@example.com", ["lead%d@partner.test" % i],
                  ip="198.18.%d.%d" % (100 + i % 20, 7 + i), size=3000 + 1111 * i)
    for t in every(T(2026, 11, 11, 8, 0, 0), 600, 60):
        lg.authfail(t, "tina@example.com", "192.0.2.77")
    for i, t in enumerate(every(T(2026, 11, 11, 20, 0, 0), 100, 30)):
        lg.authfail(t, "info@example.com", "198.19.%d.%d" % (i, i + 1))
    lg.decide(every(T(2026, 11, 11, 10, 0, 0), 4, 730)[150], "news@example.com", "warn",
              "rcpt_warn_1h", 151)
    lg.decide(every(T(2026, 11, 11, 20, 0, 0), 100, 30)[20], "info@example.com", "warn",
              "auth_fail_warn_1h", 21)
    lg.write("traps")


def sample():
    """examples/sample-mail.log: what `scripts/run` replays when there is no /var/log/mail.log.
    A morning of ordinary submissions, a stolen password used from a new address for a blast,
    password guessing, and an open-relay burst: the built-in configuration reacts to each."""
    lg = Log(host="mail")
    users = ["alice@example.com", "bob@example.com", "carol@example.com", "dan@example.org"]
    for i, t in enumerate(every(T(2026, 11, 2, 8, 0, 0), 97, 120)):
        u = users[i % 4]
        lg.submit(t, u, ["contact%d@partner%d.test" % (i, i % 7)], ip="192.0.2.%d" % (10 + i % 4),
                  name="office-gw.example.com")
    for i, t in enumerate(every(T(2026, 11, 2, 9, 0, 0), 4, 40)):
        lg.authfail(t, "erin@example.com", "198.51.100.%d" % (60 + i % 3))
    for i, t in enumerate(every(T(2026, 11, 2, 10, 0, 0), 3, 200)):
        lg.submit(t, "erin@example.com", ["lead%d@victims.test" % i, "lead%d@more.test" % i],
                  ip="198.51.100.61", size=4100)
    for i, t in enumerate(every(T(2026, 11, 2, 11, 0, 0), 20, 30)):
        lg.submit(t, None, ["target%d@faraway.test" % i], ip="203.0.113.%d" % (200 + i % 5),
                  svc=None, sender="promo%d@bulk.test" % i)
    where = OUT if OUT != HERE else os.path.join(HERE, "..", "..", "examples")
    with open(os.path.join(where, "sample-mail.log"), "w") as f:
        f.write("\n".join(lg.lines) + "\n")


SCENARIOS = (bcc_blast, sliding, classes, overrides, never_counted, relay, rollover, iso_offset,
             bruteforce, autounlock, novel_blast, bcc_novel, traps)


def check():
    """--check: generate into a temporary directory; every file must equal the committed one"""
    import filecmp
    import tempfile
    global OUT
    OUT = tempfile.mkdtemp(prefix="hj-gen.")
    sample()
    for f in SCENARIOS:
        f()
    bad = 0
    for name in sorted(os.listdir(OUT)):
        committed = os.path.join(HERE, "..", "..", "examples", name) if name == "sample-mail.log" \
            else os.path.join(HERE, name)
        if not os.path.exists(committed) or not filecmp.cmp(os.path.join(OUT, name), committed, shallow=False):
            print("differs from what gen.py writes: %s" % committed)
            bad += 1
        os.unlink(os.path.join(OUT, name))
    os.rmdir(OUT)
    return bad


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--check"]:
        sys.exit(1 if check() else 0)
    sample()
    for f in SCENARIOS:
        f()
