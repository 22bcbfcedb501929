#!/usr/bin/env python3
"""milter_test.py HIJACKD - black-box tests of hijackd's milter front end.

Starts hijackd (tests/daemon_test.py's Daemon: 127.0.0.1, a temporary state_dir) with
milter_listen on a free loopback port, and plays the MTA's side of the milter protocol
(version 6, offering what Postfix 3.7 offers) against it: negotiation, an authenticated message
counted at its end, a locked account refused at RCPT with the policy service's text, mail
without a login let go, a message seen by both the policy service and the milter counted once,
and hostile peers (garbage, an oversize packet, a stalled packet) that lose only their own
connection. TAP output; exit status = number of failures. Every process it starts is stopped.
"""
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import free_port, report, run_group  # noqa: E402
import daemon_test  # noqa: E402
from daemon_test import Daemon, request  # noqa: E402

POSTFIX_ACTIONS = 0x1ff       # what Postfix 3.7 offers (recorded: tests/fixtures/milter)
POSTFIX_PROTOCOL = 0x1fffff
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "T": 0x10000, "L": 0x80,
      "N": 0x40000, "B": 0x80000}
LIMIT5 = "rule lock5=metric=recipients window=30m limit=5 action=lock"


class Mta:
    """the MTA's side of one milter connection"""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.protocol = 0

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recvn(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("closed")
            b += c
        return b

    def recv(self):
        n, = struct.unpack(">I", self.recvn(4))
        p = self.recvn(n)
        return p[:1].decode(), p[1:]

    def ask(self, cmd, data=b""):
        """send a command; its reply, or None when the filter asked for none"""
        self.send(cmd, data)
        if cmd.decode() in NR and self.protocol & NR[cmd.decode()]:
            return None
        return self.recv()

    def optneg(self):
        self.send(b"O", struct.pack(">III", 6, POSTFIX_ACTIONS, POSTFIX_PROTOCOL))
        cmd, data = self.recv()
        ver, act, self.protocol = struct.unpack(">III", data[:12])
        return cmd, ver, act, self.protocol, data[12:]

    def macro(self, stage, **kv):
        self.send(b"D", stage + b"".join(b"{%s}\0%s\0" % (k.encode(), v.encode())
                                         for k, v in kv.items()))

    def session(self, ip="198.51.100.7", helo="pc.example.test"):
        self.ask(b"C", b"pc.example.test\0" + b"4" + struct.pack(">H", 4711) + ip.encode() + b"\0")
        self.ask(b"H", helo.encode() + b"\0")

    def message(self, account, rcpts, qid="", sender="x@example.test", body=b"hello\r\n"):
        """one message: the replies to each RCPT and to the end of the message"""
        if account:
            self.macro(b"M", auth_authen=account, auth_type="PLAIN")
        self.ask(b"M", b"<%s>\0" % sender.encode())
        got = [self.ask(b"R", b"<%s>\0" % r.encode()) for r in rcpts]
        if any(g and g[0] != "c" for g in got):
            self.send(b"A")
            return got, None
        self.macro(b"T", i=qid)
        self.ask(b"T")
        self.ask(b"L", b"Subject\0test\0")
        self.ask(b"N")
        self.ask(b"B", body)
        self.macro(b"E", i=qid)
        return got, self.ask(b"E")

    def close(self):
        self.s.close()


def start(*opts, **kw):
    port = free_port()
    d = Daemon("milter_listen=127.0.0.1:%d" % port, *opts, **kw)
    d.milter_port = port
    return d


def account(d, name):
    """the account's totals (messages, recipients), {} when unknown"""
    r = d.ctl({"cmd": "show", "account": name})
    return r.get("totals", {}) if r.get("status") == 200 else {}


def text_of(reply):
    return reply[1].rstrip(b"\0").decode(errors="replace") if reply else ""


def test_negotiation_and_counting():
    d = start()
    m = Mta(d.milter_port)
    cmd, ver, act, proto, rest = m.optneg()
    report(cmd == "O" and ver == 6, "OPTNEG answered with version 6 (got %s %d)" % (cmd, ver))
    report(act & 0x20 and act & 0x100 and proto & NR["M"] and not proto & NR["R"],
           "asks quarantine and macro lists; no reply at MAIL, one at RCPT (%#x %#x)" % (act, proto))
    report(b"auth_authen" in rest, "the macro lists ask {auth_authen}")
    m.session()
    got, eom = m.message("alice@example.test", ["a@x.example", "b@y.example", "c@z.example"],
                         qid="4AB1C2D3E4")
    report([g[0] for g in got] == ["c", "c", "c"] and eom and eom[0] == "c",
           "three recipients and the end of the message: continue (%r, %r)" % (got, eom))
    tot = account(d, "alice@example.test")
    report(tot.get("messages") == 1 and tot.get("recipients") == 3,
           "counted once, three recipients (%s)" % {k: tot.get(k) for k in ("messages", "recipients")})
    got, eom = m.message("", ["z@x.example"])
    report(got == [("a", b"")], "mail without a login: accept at RCPT (%r)" % (got,))
    m.send(b"Q")
    m.close()
    d.stop()


def test_hold_rule():
    """action=hold: the message over the limit and the account's later ones are quarantined
    (Postfix: the hold queue) with hold_text at their end, then continue; bob is not held; an
    MTA that did not grant quarantine lets them pass"""
    d = start("rule h=metric=messages window=1h limit=2 action=hold hold=10m")
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    eoms = [m.message("alice@example.test", ["a@x.example"], qid="5AB1C2D3E%d" % i)[1]
            for i in range(2)]
    report([e and e[0] for e in eoms] == ["c", "c"], "under the limit: continue (%r)" % (eoms,))
    got, first = m.message("alice@example.test", ["a@x.example"], qid="5AB1C2D3E2")
    second = m.recv()
    report(got == [("c", b"")] and first and first[0] == "q" and second[0] == "c"
           and text_of(first) == "held for review by hijackd (rule h)",
           "over the hold rule's limit: quarantine with hold_text, then continue (%r %r)"
           % (first, second))
    got, first = m.message("alice@example.test", ["a@x.example"], qid="5AB1C2D3E3")
    second = m.recv()
    report(got == [("c", b"")] and first and first[0] == "q" and second[0] == "c",
           "a held account's next message: continue at RCPT, quarantined at its end (%r %r)"
           % (got, first))
    _, eom = m.message("bob@example.test", ["a@x.example"], qid="5AB1C2D3E4")
    report(eom and eom[0] == "c", "bob is not held (%r)" % (eom,))
    tot = account(d, "alice@example.test")
    report(tot.get("messages") == 4, "the held messages are counted (%s)" % tot.get("messages"))
    m.close()
    m = Mta(d.milter_port)  # an MTA that offers no quarantine
    m.send(b"O", struct.pack(">III", 6, POSTFIX_ACTIONS & ~0x20, POSTFIX_PROTOCOL))
    _, data = m.recv()
    m.protocol = struct.unpack(">III", data[:12])[2]
    m.session()
    _, eom = m.message("alice@example.test", ["a@x.example"], qid="5AB1C2D3E5")
    report(eom and eom[0] == "c" and "no quarantine granted: held alice@example.test" in d.text(),
           "no quarantine granted: the held message passes, logged (%r)" % (eom,))
    m.close()
    d.stop()


def test_lock_at_rcpt():
    conf = os.path.join(d_tmp(), "lock5.conf")
    open(conf, "w").write(LIMIT5 + "\n")
    d = start(conf=conf)
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    replies = []
    for i in range(3):
        got, eom = m.message("mallory@example.test", ["r%d@x.example" % i, "s%d@x.example" % i],
                             qid="5AB1C2D3E%d" % i)
        replies.append(eom)
    last = replies[-1]
    report(last and last[0] == "y" and text_of(last).startswith("550 5.7.1"),
           "the message over the limit: 550 5.7.1 at its end (%r)" % (last,))
    got, eom = m.message("mallory@example.test", ["t@x.example"])
    report(got and got[0] and got[0][0] == "y" and text_of(got[0]).startswith("550 5.7.1"),
           "the next message is refused at RCPT (%r)" % (got,))
    s = d.connect()
    pol = request(s, sasl_username="mallory@example.test", protocol_state="RCPT")
    s.close()
    ptext = pol.split("REJECT ", 1)[1] if "REJECT " in pol else pol
    report(text_of(got[0])[4:] == ptext, "with the policy service's text (%r / %r)"
           % (text_of(got[0])[4:60], ptext[:56]))
    m.close()
    d.stop()


def test_once_per_queue_id():
    d = start()
    s = d.connect()
    r = request(s, sasl_username="bob@example.test", queue_id="6AB1C2D3E4", recipient_count="2")
    s.close()
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    got, eom = m.message("bob@example.test", ["a@x.example", "b@x.example"], qid="6AB1C2D3E4")
    tot = account(d, "bob@example.test")
    report(r == "action=DUNNO" and eom and eom[0] == "c" and tot.get("messages") == 1,
           "policy and milter see one queue ID: counted once (%s, %r, %s)" % (r, eom, tot.get("messages")))
    got, eom = m.message("bob@example.test", ["c@x.example"], qid="6AB1C2D3E5")
    tot = account(d, "bob@example.test")
    report(tot.get("messages") == 2, "a queue ID the policy service did not see: counted (%s)"
           % tot.get("messages"))
    m.close()
    s = d.connect()  # a front end is never joined with itself (a queue ID can come again)
    for _ in range(2):
        request(s, sasl_username="eve@example.test", queue_id="6AB1C2D3E6", recipient_count="1")
    s.close()
    tot = account(d, "eve@example.test")
    report(tot.get("messages") == 2, "the policy service twice with one queue ID: counted twice "
           "(%s; the load generator's constant queue ID found this)" % tot.get("messages"))
    d.stop()


def test_hostile_peers():
    d = start("milter_packet_timeout=2s", "milter_max_packet=2048")
    bad = [("a length of 4 GiB", struct.pack(">I", 0xFFFFFFFF)),
           ("a packet over milter_max_packet", struct.pack(">I", 4096) + b"B" + b"x" * 100),
           ("an unknown command", struct.pack(">I", 1) + b"Z"),
           ("CONNECT with a bad family", struct.pack(">I", 9) + b"Chost\0X\0\0")]
    for what, data in bad:
        s = socket.create_connection(("127.0.0.1", d.milter_port), timeout=5)
        s.sendall(data)
        report(daemon_test.closed(s, 5), "%s: the connection is closed" % what)
        s.close()
    s = socket.create_connection(("127.0.0.1", d.milter_port), timeout=10)
    s.sendall(struct.pack(">I", 100) + b"B" + b"x" * 9)
    t0 = time.time()
    gone = daemon_test.closed(s, 8)
    report(gone and time.time() - t0 < 6, "a stalled packet: closed after milter_packet_timeout "
           "(%.1f s)" % (time.time() - t0))
    s.close()
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    got, eom = m.message("carol@example.test", ["a@x.example"], qid="7AB1C2D3E4")
    report(eom and eom[0] == "c", "a good MTA is still served (%r)" % (eom,))
    m.close()
    report("milter client" in d.text() and "over the limit" in d.text(),
           "each closed connection is logged with its reason")
    d.stop()


GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


class FakeRspamd:
    """an rspamd /checkv2 on loopback: reject for GTUBE, no action otherwise; slow=N sleeps N s"""

    def __init__(self, slow=0, port=0):
        me = self
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                me.requests.append((dict(self.headers), body))
                if slow:
                    time.sleep(slow)
                spam = GTUBE in body
                reply = json.dumps({"action": "reject" if spam else "no action",
                                    "score": 1000.0 if spam else 0.5, "required_score": 15.0,
                                    "symbols": {"GTUBE": {"score": 1000.0}} if spam else {}}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def scanned_session(d, account, rcpts, body, qid):
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    got, eom = m.message(account, rcpts, qid=qid, body=body)
    m.close()
    return eom


def test_scanning():
    fake = FakeRspamd()
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % fake.port, "spam_scan_timeout=1s")
    eom = scanned_session(d, "alice@example.test", ["a@remote.example"], GTUBE + b"\r\n", "8AB1C2D3E1")
    report(eom and eom[0] == "y" and text_of(eom).startswith("550 5.7.1 Message judged as spam"),
           "GTUBE to an outside recipient: refused at its end with spam_reject_text (%r)" % (eom,))
    hdrs = {k.lower(): v for k, v in (fake.requests[-1][0] if fake.requests else {}).items()}
    want = {"user": "alice@example.test", "ip": "198.51.100.7", "queue-id": "8AB1C2D3E1",
            "helo": "pc.example.test"}
    report(all(hdrs.get(k) == v for k, v in want.items()),
           "the scanner is told the login, the client, HELO and the queue ID (%s)"
           % {k: hdrs.get(k) for k in want})
    report(fake.requests and GTUBE in fake.requests[-1][1] and b"Subject: test" in fake.requests[-1][1],
           "it gets the headers and the body")
    eom = scanned_session(d, "alice@example.test", ["a@remote.example"], b"hello\r\n", "8AB1C2D3E2")
    report(eom and eom[0] == "c", "an ordinary message passes (%r)" % (eom,))
    n = len(fake.requests)
    eom = scanned_session(d, "alice@example.test", ["bob@example.test"], GTUBE, "8AB1C2D3E3")
    report(len(fake.requests) == n and eom and eom[0] == "c",
           "mail to the account's own domain only is not scanned (spam_scan_mail = external)")
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    got, _ = m.message("", ["a@remote.example"], body=GTUBE)
    report(len(fake.requests) == n and got == [("a", b"")], "mail without a login is not scanned")
    m.close()
    d.stop()
    fake.stop()

    fake = FakeRspamd()
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % fake.port, "spam_action=hold")
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    m.macro(b"M", auth_authen="alice@example.test")
    m.ask(b"M", b"<alice@example.test>\0")
    m.ask(b"R", b"<a@remote.example>\0")
    m.ask(b"L", b"Subject\0x\0")
    m.ask(b"N")
    m.ask(b"B", GTUBE)
    m.macro(b"E", i="8AB1C2D3E4")
    m.send(b"E")
    first, second = m.recv(), m.recv()
    report(first[0] == "q" and b"spam" in first[1] and second[0] == "c",
           "spam_action = hold: quarantine (Postfix: the hold queue), then continue (%r %r)" % (first, second))
    m.close()
    d.stop()
    fake.stop()

    fake = FakeRspamd(slow=5)
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % fake.port, "spam_scan_timeout=1s")
    out = {}

    def slow_one():
        t0 = time.time()
        out["eom"] = scanned_session(d, "carol@example.test", ["a@remote.example"], GTUBE, "8AB1C2D3E5")
        out["t"] = time.time() - t0
    th = threading.Thread(target=slow_one)
    th.start()
    time.sleep(0.3)
    t0 = time.time()
    s2 = d.connect()
    r = request(s2, sasl_username="dave@example.test", protocol_state="RCPT")
    s2.close()
    fast = time.time() - t0
    th.join(10)
    report(r == "action=DUNNO" and fast < 0.5, "a frozen scanner holds no other answer (policy: %.0f ms)"
           % (fast * 1000))
    report(out.get("eom") and out["eom"][0] == "c" and out["t"] < 3,
           "... and its message passes unscanned after spam_scan_timeout (%r in %.1f s)"
           % (out.get("eom"), out.get("t", -1)))
    fake.stop()
    d.stop()
    port = free_port()  # nobody listens there
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % port)
    eom = scanned_session(d, "alice@example.test", ["a@remote.example"], GTUBE, "8AB1C2D3E6")
    report(eom and eom[0] == "c", "the scanner down: the message passes (%r)" % (eom,))
    d.stop()


def wait_for(path, needle, secs=10):
    """the file's text once it holds needle (or whatever it holds after secs)"""
    text = ""
    for _ in range(int(secs * 10)):
        text = open(path, errors="replace").read() if os.path.exists(path) else ""
        if needle in text:
            break
        time.sleep(0.1)
    return text


def test_spam_rules():
    """the built-in spam rules on the milter's verdicts: a prompt at the first, a lock at the 3rd"""
    fake = FakeRspamd()
    mails = os.path.join(d_tmp(), "spam-mails")
    stub = daemon_test.script(d_tmp(), "sendmail", 'echo "TO: $*" >>%s; cat >>%s' % (mails, mails))
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % fake.port, "sendmail_path=" + stub,
              "postqueue_path=/bin/true", "alert_to=alerts@example.test")
    eoms = [scanned_session(d, "mallory@example.test", ["a%d@remote.example" % i], GTUBE,
                            "9AB1C2D3E%d" % i) for i in range(3)]
    report(all(e and e[0] == "y" for e in eoms), "three GTUBE messages refused at their end (%r)"
           % ([e[0] if e else None for e in eoms],))
    m = Mta(d.milter_port)
    m.optneg()
    m.session()
    got, _ = m.message("mallory@example.test", ["t@remote.example"], body=b"hello\r\n")
    m.close()
    report(got and got[0] and got[0][0] == "y" and text_of(got[0]).startswith("550 5.7.1"),
           "the 3rd spam in an hour locks (spam_lock_1h): the next message is refused at RCPT (%r)"
           % (got,))
    log = d.text()
    lock = [ln for ln in log.splitlines() if '"action":"lock"' in ln]
    report(lock and '"rule":"spam_lock_1h"' in lock[0] and '"content":{"verdict":"spam"' in lock[0]
           and "GTUBE(" in lock[0] and '"service":"milter"' in lock[0],
           "the lock's evidence: its rule, the engine's verdict and symbols, the milter (%s)"
           % (lock[0][-200:] if lock else "no lock logged"))
    report(log.count("spam verdict {") == 3, "one log line per verdict (%d)" % log.count("spam verdict {"))
    text = wait_for(mails, "-- alerts@example.test")
    subj = "Subject: Mail sent from your account mallory@example.test looked like spam"
    report("-- mallory@example.test\n" in text and text.count(subj) == 1,
           "one spam prompt to the user for three spam in an hour (spam_warn, spam_prompt_on=warn)")
    report("-- alerts@example.test\n" in text and "locked (spam_lock_1h)" in text
           and "(through milter) judged the message spam, score 1000.00 of 15.00, queue ID 9AB1C2D3E2" in text
           and "subject: test" in text and "symbols: GTUBE(1000.0)" in text,
           "and the lock's alert to the postmaster, with the engine's verdict, the subject, the symbols")
    report("    Subject: test\n" in text.split(subj, 1)[-1],
           "the prompt names the message's subject ({subject})")
    d.stop()
    fake.stop()


def test_scanner_alert():
    """the scanner down spam_scanner_alert_after: one mail to the postmaster, one when it is back"""
    port = free_port()  # nobody listens there yet
    mails = os.path.join(d_tmp(), "scanner-mails")
    stub = daemon_test.script(d_tmp(), "sendmail-s", 'echo "TO: $*" >>%s; cat >>%s' % (mails, mails))
    d = start("spam_scanner=rspamd:http://127.0.0.1:%d" % port, "spam_breaker_failures=1",
              "spam_breaker_time=1s", "spam_scanner_alert_after=2s", "sendmail_path=" + stub,
              "postqueue_path=/bin/true", "alert_to=alerts@example.test")
    eom = scanned_session(d, "alice@example.test", ["a@remote.example"], b"hello\r\n", "7AB1C2D3E1")
    report(eom and eom[0] == "c", "the scanner down: the message passes (%r)" % (eom,))
    time.sleep(1.2)
    early = open(mails).read() if os.path.exists(mails) else ""
    text = wait_for(mails, "spam scanner is down", 6)
    report("spam scanner is down" not in early and "Subject: [hijackd] the spam scanner is down" in text
           and "-- alerts@example.test" in text and "pass unscanned" in text,
           "down for spam_scanner_alert_after (2 s): one mail to the postmaster, not before")
    fake = FakeRspamd(port=port)
    time.sleep(1.2)  # past spam_breaker_time: the next message is the probe
    eom = scanned_session(d, "alice@example.test", ["a@remote.example"], b"hello\r\n", "7AB1C2D3E2")
    text = wait_for(mails, "spam scanner is back", 6)
    report(fake.requests and "Subject: [hijackd] the spam scanner is back" in text
           and text.count("the spam scanner is down") == 1,
           "back (the probe scanned): one more mail says so; still one 'down' mail")
    d.stop()
    fake.stop()


EXPORTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "scan",
                        "rspamd-exporter.json")


def post_verdict(port, body, auth=None):
    """POST /api/verdict as rspamd's metadata_exporter does: (status, JSON or text)"""
    import base64
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    h = {"Content-Type": "application/json"}
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    c.request("POST", "/api/verdict", body=body, headers=h)
    r = c.getresponse()
    data = r.read().decode(errors="replace")
    c.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, data


def test_exporter():
    """POST /api/verdict: rspamd's metadata_exporter, authenticated, counted like a scan"""
    port = free_port()
    d = Daemon("http_listen=127.0.0.1:%d" % port)
    doc = json.load(open(EXPORTER))
    st, _ = post_verdict(port, json.dumps(doc), "rspamd:s3cret")
    report(st == 404, "spam_exporter_auth unset: no such endpoint (%d)" % st)
    d.stop()
    d = Daemon("http_listen=127.0.0.1:%d" % port, "spam_exporter_auth=rspamd:s3cret")
    st1, _ = post_verdict(port, json.dumps(doc))
    st2, _ = post_verdict(port, json.dumps(doc), "rspamd:wrong")
    report(st1 == 401 and st2 == 401, "no credentials or the wrong ones: 401 (%d, %d)" % (st1, st2))
    st, got = post_verdict(port, json.dumps(doc), "rspamd:s3cret")
    report(st == 200 and isinstance(got, dict) and got.get("class") == "spam"
           and got.get("account") == "alice@example.test",
           "rspamd's real exporter document: 200, alice's message judged spam (%d %r)" % (st, got))
    again = post_verdict(port, json.dumps(doc), "rspamd:s3cret")  # the same queue ID again
    st, bad = post_verdict(port, b"{\"user\": [1, 2", "rspamd:s3cret")
    report(st == 400, "a garbled document: 400 (%d %r)" % (st, bad))
    st, _ = post_verdict(port, b"x" * 70000, "rspamd:s3cret")
    report(st in (400, 413), "an oversize one: refused (%d)" % st)
    states = []
    for qid in ("5C1", "5C2"):
        doc["qid"] = qid
        states.append(post_verdict(port, json.dumps(doc), "rspamd:s3cret")[1].get("state"))
    report(again[1].get("state") == "ok" and states == ["ok", "locked"],
           "the same queue ID twice counts once: two more messages lock alice at the 3rd (%r)"
           % (states,))
    log = d.text()
    lock = [ln for ln in log.splitlines() if '"action":"lock"' in ln]
    report(lock and '"service":"rspamd"' in lock[0] and '"score":20.90' in lock[0],
           "the lock names rspamd and its score (%s)" % (lock[0][-160:] if lock else "no lock"))
    s = d.connect()
    pol = request(s, sasl_username="alice@example.test", protocol_state="RCPT")
    s.close()
    report(pol.startswith("action=REJECT 5.7.1"), "and the policy service refuses her at RCPT (%s)"
           % pol[:40])
    d.stop()


_TMP = []


def d_tmp():
    import tempfile
    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="hijackd-mt."))
    return _TMP[0]


GROUPS = ((test_negotiation_and_counting, 6), (test_hold_rule, 6), (test_lock_at_rcpt, 3),
          (test_once_per_queue_id, 3), (test_hostile_peers, 7), (test_scanning, 10),
          (test_spam_rules, 7), (test_exporter, 8), (test_scanner_alert, 3))


def main():
    tap.main(GROUPS, daemon_test.PROCS)


if __name__ == "__main__":
    main()
