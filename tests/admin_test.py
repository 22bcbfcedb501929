#!/usr/bin/env python3
"""admin_test.py BUILD_DIR - the admin surface, black-box against the real daemon.

The control socket (as root and as an unprivileged user), the HTTP API with its tokens and
error codes, /metrics, manual locks and exemptions that survive a restart, hijackctl (human,
--json, exit codes), and the dashboard in a real Chromium (tests/browser), against a daemon
that has a rule's decision to show. Prints a TAP plan "1..N" (N from the table of groups at the
end), then "ok ..." / "not ok ..." lines; a group that dies reports "not ok" for each check it
did not reach, and the other groups still run. With HJ_NO_BROWSER=1 the browser's checks print
as "ok - ... # SKIP", and so does a check the browser itself skips. Exit status 1 if any failed.
Stops what it starts.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import free_port, report, run_group, skip  # noqa: E402

B = os.path.abspath(sys.argv[1])
HJ, CTL = os.path.join(B, "hijackd"), os.path.join(B, "hijackctl")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN, READ = "admin-token-0123456789abcdef", "read-token-0123456789abcdef"
PROCS = []


class Daemon:
    def __init__(self, state, *opts):
        self.state = state
        self.log = os.path.join(state, "daemon.log")

        def argv():
            self.port, self.http = free_port(), free_port()
            args = [HJ, "-f", "-o", "state_dir=" + state, "-o", "policy_listen=127.0.0.1:%d" % self.port,
                    "-o", "http_listen=127.0.0.1:%d" % self.http, "-o", "log_follow=",
                    "-o", "http_token_admin=" + ADMIN, "-o", "http_token_read=" + READ,
                    "-o", "web_dir=" + os.path.join(ROOT, "web")]
            for o in opts:
                args += ["-o", o]
            return args
        self.p = tap.spawn(argv, self.log)
        PROCS.append(self.p)
        self.sock = os.path.join(state, "control.sock")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(10)

    def policy(self, account, n=1, rcpts=3):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        out = []
        for i in range(n):
            req = ("request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                   "client_address=198.51.100.7\nclient_name=pc.example.com\nsasl_method=PLAIN\n"
                   "sasl_username=%s\nsender=%s\nrecipient_count=%d\nsize=%d\nqueue_id=QA%04X\n\n"
                   % (account, account, rcpts, 1000 + 333 * i, i))
            s.sendall(req.encode())
            out.append(s.recv(4096).decode().strip())
        s.close()
        return out

    def ctl(self, req, raw=None, as_user=None):
        """One request on the control socket; the reply object (None if the connection closed)."""
        data = raw if raw is not None else (json.dumps(req) + "\n").encode()
        if as_user is not None:
            return ctl_as(self.sock, data, as_user)
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(15)
        s.connect(self.sock)
        s.sendall(data)
        return read_reply(s)

    def api(self, method, path, body=None, token=ADMIN, raw=None, host=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.http, path), data=data,
                                     method=method)
        if host:
            req.add_header("Host", host)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def read_reply(s):
    buf = b""
    while True:
        try:
            c = s.recv(65536)
        except ConnectionResetError:  # the daemon closed with our unread bytes in its buffer
            break
        if not c:
            break
        buf += c
    s.close()
    return json.loads(buf) if buf.strip() else None


def ctl_as(path, data, uid):
    """The same request from a child process that has dropped to uid (SO_PEERCRED sees it)."""
    def ask():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(15)
        s.connect(path)
        s.sendall(data)
        return read_reply(s)
    return tap.as_user(uid, ask)


def hijackctl(d, *args):
    p = subprocess.run([CTL, "-o", "state_dir=" + d.state] + list(args), capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_control(d):
    r = d.ctl({"cmd": "status"})
    report(r and r["status"] == 200 and r["role"] == "admin", "control: status as root (role admin)")
    d.policy("eve@example.com", 4)
    r = d.ctl({"cmd": "lock", "account": "eve@example.com", "reason": "phished"})
    report(r and r["status"] == 200 and r["state"] == "locked", "control: lock with a reason")
    report(d.policy("eve@example.com")[0].startswith("action=REJECT"),
           "  ... and Postfix's next request for it is refused")
    r = d.ctl({"cmd": "locked"})
    rows = r["locked"] if r else []
    report(len(rows) == 1 and rows[0]["reason"] == "phished" and rows[0]["actor"] == "uid 0",
           "control: locked lists it with reason and actor (uid 0)")
    r = d.ctl({"cmd": "show", "account": "eve@example.com"})
    report(r and r["state"] == "locked" and sum(r["hourly"]["recipients"]) == 12 and r["counters"],
           "control: show has its state, counters and recipients per hour (12)")
    r = d.ctl({"cmd": "show", "account": "nobody@example.com"})
    report(r and r["status"] == 404, "control: show of an unknown account: 404")
    r = d.ctl({"cmd": "lock", "account": "eve@example.com"}, as_user=65534)
    report(r and r["status"] == 403, "control: lock from an unprivileged user: 403")
    r = d.ctl({"cmd": "status"}, as_user=65534)  # issue 13, finding 8: reads are not for anyone
    report(r and r["status"] == 403 and "control_read_group" in r["error"],
           "  ... who may not read either: status 403 (%s)" % (r and r["status"]))
    r = d.ctl({"cmd": "show", "account": "eve@example.com"}, as_user=65534)
    report(r and r["status"] == 403 and "recent_ips" not in r,
           "  ... nor show an account's recent IPs and profile: 403")
    r = d.ctl({"cmd": "unlock_token", "token": "HJU1-bogus", "from": "pm@example.com"}, as_user=65534)
    report(r and r["status"] != 403 and "control_read_group" not in r.get("error", ""),
           "  ... but may send unlock_token (the token is the authority): %s %s"
           % (r and r["status"], r and r.get("error")))
    r = d.ctl(None, raw=b'{"cmd": "status"\n')
    report(r and r["status"] == 400 and "malformed" in r["error"], "control: malformed JSON: 400")
    r = d.ctl(None, raw=b"x" * 70000)
    report(r is None or r["status"] == 413, "control: a request over 64 KiB: 413 or closed")
    r = d.ctl({"cmd": "nosuch"})
    report(r and r["status"] == 400, "control: unknown command: 400")


def test_control_access(state):
    """Issue 13, finding 8: control_read_group may read, not change; control_max_connections
    caps the connections served at once (more are closed at once, logged once)."""
    os.chmod(state, 0o711)
    d = Daemon(state, "control_read_group=nogroup", "control_max_connections=2")
    r = d.ctl({"cmd": "status"}, as_user=65534)  # gid 65534 is nogroup
    report(r and r["status"] == 200 and r["role"] == "read",
           "control_read_group: a member reads (status 200, role read)")
    r = d.ctl({"cmd": "lock", "account": "eve@example.com"}, as_user=65534)
    report(r and r["status"] == 403, "  ... and may not change things (lock: 403)")
    idle = []
    for _ in range(2):
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        idle.append(s)
    time.sleep(0.3)
    third = socket.socket(socket.AF_UNIX)
    third.settimeout(5)
    third.connect(d.sock)
    try:
        third.sendall(b'{"cmd": "status"}\n')
        got = third.recv(65536)
    except OSError:
        got = b""
    third.close()
    report(got == b"", "control_max_connections=2: a third connection is closed unanswered (%r)" % got[:60])
    report(open(d.log, errors="replace").read().count("control_max_connections") == 1,
           "  ... logged once")
    for s in idle:
        s.close()
    time.sleep(0.3)
    r = d.ctl({"cmd": "status"})
    report(r and r["status"] == 200, "  ... served again once those closed")
    d.stop()


def test_http(d):
    st, ct, body = d.api("GET", "/api/status", token=None)
    report(st == 401, "http: no token: 401")
    st, ct, body = d.api("GET", "/api/status", token="wrong-token-0123456789abcdef")
    report(st == 401, "http: wrong token: 401")
    st, ct, body = d.api("GET", "/api/status", token=READ)
    report(st == 200 and json.loads(body)["role"] == "read" and ct == "application/json",
           "http: read token: status 200, role read, application/json")
    st, _, _ = d.api("POST", "/api/unlock", {"account": "eve@example.com"}, token=READ)
    report(st == 403, "http: read token on a change: 403")
    st, _, body = d.api("POST", "/api/lock", raw=b"{not json")
    report(st == 400 and "JSON" in json.loads(body)["error"], "http: malformed JSON body: 400")
    st, _, _ = d.api("POST", "/api/lock", raw=b'{"account":"' + b"a" * 20000 + b'"}')
    report(st == 413, "http: oversized body: 413")
    st, _, _ = d.api("GET", "/api/account/nobody%40example.com")
    report(st == 404, "http: unknown account: 404")
    st, _, _ = d.api("GET", "/api/nosuch")
    report(st == 404, "http: unknown endpoint: 404")
    st, _, body = d.api("GET", "/api/locked", token=READ)
    report(st == 200 and json.loads(body)["locked"][0]["account"] == "eve@example.com",
           "http: locked (same body as the control socket)")
    st, _, body = d.api("GET", "/api/history?account=eve%40example.com", token=READ)
    h = json.loads(body)["history"] if st == 200 else []
    report(h and h[0]["action"] == "lock" and h[0]["reason"] == "phished",
           "http: history, newest first, with the reason")
    st, ct, body = d.api("GET", "/", token=None)
    report(st == 200 and ct.startswith("text/html") and "hijackd" in body,
           "http: the dashboard page at /")
    st, _, _ = d.api("GET", "/../README.md", token=None)
    report(st in (400, 404), "http: no file outside web_dir")


def test_http_query(d):
    """finding 4 of issue 13: the command comes from the route, query values stay strings, a
    change only by POST"""
    st, _, body = d.api("GET", "/api/status?cmd=1", token=READ)
    st2, _, _ = d.api("GET", "/api/status", token=READ)
    report(st == 200 and st2 == 200 and d.p.poll() is None,
           "http: GET /api/status?cmd=1 with the read token: answered, the daemon still runs (%s)" % st)
    st, _, body = d.api("GET", "/api/status?cmd=lock&account=mallory%40example.com")
    r = d.ctl({"cmd": "locked"})
    report(st == 200 and "version" in body and r and
           "mallory@example.com" not in [x["account"] for x in r["locked"]],
           "http: GET /api/status?cmd=lock&account=... with the admin token locks nothing (%s)" % st)
    st, _, body = d.api("GET", "/api/history?account=1234", token=READ)
    h = json.loads(body).get("history") if st == 200 else None
    report(h == [], "http: history?account=1234 is the history of the account \"1234\": empty (%s)"
           % (h if h is None else len(h)))
    st, _, body = d.api("GET", "/api/decisions?limit=x", token=READ)
    st2, _, body2 = d.api("GET", "/api/top?window=7200", token=READ)
    report(st == 400 and st2 == 200 and json.loads(body2).get("window") == 7200,
           "http: a number parameter (limit, window) is read as one; not a number: 400 (%s, %s)"
           % (st, st2))


def test_metrics(d):
    st, ct, body = d.api("GET", "/metrics", token=None)
    want = ['hijackd_policy_requests_total{stage="END-OF-MESSAGE",answer="REJECT"} 1',
            'hijackd_decisions_total{rule="manual",action="lock"} 1', "hijackd_accounts_locked 1",
            "hijackd_store_write_seconds_bucket{le=\"+Inf\"}", "hijackd_log_lines_not_understood_total",
            "hijackd_log_follow_lag_bytes", 'hijackd_notify_pending{queue="mail"}',
            'hijackd_notify_dropped_total{queue="webhook"} 0']
    missing = [w for w in want if w not in body]
    report(st == 200 and ct.startswith("text/plain") and not missing,
           "metrics: requests by stage and answer, decisions by rule and action, locked now, "
           "store latency, log lines, follower lag, notification spools%s" % (": missing %s" % missing if missing else ""))


def test_restart(state):
    d = Daemon(state)
    r = d.ctl({"cmd": "locked"})
    report(r and [x["account"] for x in r["locked"]] == ["eve@example.com"],
           "restart: the manual lock survived")
    r = d.ctl({"cmd": "exempt", "op": "list"})
    report(r and "*@lists.example.com" in r["exempt"], "restart: the exemption survived")
    return d


def test_exempt(d):
    r = d.ctl({"cmd": "exempt", "op": "add", "pattern": "*@lists.example.com"})
    report(r and r["status"] == 200 and "*@lists.example.com" in r["exempt"], "control: exempt add")
    r = d.ctl({"cmd": "exempt", "op": "del", "pattern": "nosuch@example.com"})
    report(r and r["status"] == 404, "control: exempt del of a pattern not there: 404")


def test_hijackctl(d):
    if not os.path.exists(CTL):
        report(False, "hijackctl built")
        return
    rc, out, err = hijackctl(d, "locked")
    report(rc == 0 and "eve@example.com" in out and "phished" in out, "hijackctl locked (a table)")
    rc, out, err = hijackctl(d, "--json", "status")
    report(rc == 0 and json.loads(out).get("version"), "hijackctl --json status (one JSON object)")
    rc, out, err = hijackctl(d, "unlock", "eve@example.com", "--reason", "password changed")
    report(rc == 0, "hijackctl unlock with a reason")
    rc, out, err = hijackctl(d, "unlock", "eve@example.com")
    report(rc == 1, "hijackctl unlock again: exit 1 (%s)" % err.strip()[:80])
    rc, out, err = hijackctl(d, "history", "eve@example.com")
    report(rc == 0 and "password changed" in out, "hijackctl history shows who and why")
    rc, out, err = hijackctl(d, "show", "eve@example.com")
    report(rc == 0 and "eve@example.com" in out, "hijackctl show")
    # unlocked, eve sends again, over rcpt_warn_1h (150 recipients in 1 h): a rule's decision,
    # for hijackctl decisions and for the dashboard's decision list and chart markers
    r = d.policy("eve@example.com", 1, rcpts=151)
    report(r == ["action=DUNNO"], "a message of 151 recipients from the unlocked account: DUNNO (%s)" % r)
    rc, out, err = hijackctl(d, "--json", "decisions", "eve@example.com")
    dec = json.loads(out).get("decisions", []) if rc == 0 else []
    report(dec and dec[0]["action"] == "warn" and dec[0]["rule"] == "rcpt_warn_1h",
           "hijackctl decisions: the rule's warn (%s)" % [(x["action"], x["rule"]) for x in dec])
    rc, out, err = hijackctl(d, "lock", "eve@example.com", "--reason", "browser test")
    report(rc == 0, "hijackctl lock")
    rc, out, err = hijackctl(d, "config", "check", os.path.join(ROOT, "examples/mdaemon.conf"))
    report(rc == 0, "hijackctl config check of a good file: exit 0")


def test_not_running():
    if not os.path.exists(CTL):
        return
    state = tempfile.mkdtemp(prefix="hijackd-at-none.")
    t0 = time.time()
    p = subprocess.run([CTL, "-o", "state_dir=" + state, "status"], capture_output=True, text=True,
                       timeout=30)
    report(p.returncode == 4 and "running" in p.stderr and time.time() - t0 < 5,
           "hijackctl with no daemon: exit 4 at once, with a clear message")
    shutil.rmtree(state, ignore_errors=True)


BROWSER_STEPS = (  # dashboard.mjs's checks in order (it prints 1..N with N = this many)
    "chromium starts", "page loads", "a wrong token is refused with an error",
    "the admin token signs in", "the locked table lists a locked account",
    "API: the account is locked and has hourly data", "top senders and recent decisions are listed",
    "a decision's evidence expands", "clicking the account opens its panel",
    "the chart is drawn, with the decisions marked", "screenshot saved",
    "Unlock on the row asks for a reason and unlocks", "API: the account says state ok",
    "API: /api/locked no longer lists it", "API: the unlock is in the history with its reason",
    "API: a wrong token gets 401", "log out forgets the token", "no JavaScript or console errors")


def browser_line(line):
    """one line of dashboard.mjs's TAP output, reported here; False if it was no check"""
    line = re.sub("\x1b\\[[0-9;]*m", "", line)  # Playwright's call log has colours
    if line.startswith("#"):
        print("#   browser " + line, flush=True)
        return False
    m = re.match(r"(ok|not ok) (\d+) - (.*)$", line)
    if not m:
        return False
    good, num, what = m.group(1) == "ok", int(m.group(2)), m.group(3)
    if what.startswith("not reached") and 0 < num <= len(BROWSER_STEPS):
        what = "%s: %s" % (BROWSER_STEPS[num - 1], what)
    sk = re.search(r"\s*#\s*skip\b\s*(.*)$", what, re.I)
    if good and sk:
        skip("browser: " + what[:sk.start()], sk.group(1) or "(no reason given)")
    else:
        report(good, "browser: " + what)
    return True


def test_browser(d, shot):
    if os.environ.get("HJ_NO_BROWSER"):
        for what in BROWSER_STEPS:
            skip("browser: " + what, "browser not run in this pass")
        return
    p = subprocess.run([os.path.join(ROOT, "tests/browser/run.sh"), "http://127.0.0.1:%d/" % d.http,
                        ADMIN, shot], capture_output=True, text=True, timeout=300)
    plan = [l for l in p.stdout.splitlines() if l.startswith("1..")]
    if plan != ["1..%d" % len(BROWSER_STEPS)]:
        report(False, "browser: dashboard.mjs plans %s, BROWSER_STEPS has %d: %s"
               % (plan, len(BROWSER_STEPS), (p.stderr or p.stdout)[-300:]))
    checks = sum(browser_line(l) for l in p.stdout.splitlines())
    if p.returncode != 0 and checks == 0:
        report(False, "browser test ran: " + (p.stderr or p.stdout)[-300:])


class Run:
    """what the groups share: the state_dir, the screenshot's path, the daemon running now"""

    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="hijackd-at.")
        self.shot = os.environ.get("HJ_SCREENSHOT", os.path.join(self.state, "dashboard.png"))
        self.d = None


def group_config(run):
    p = subprocess.run([HJ, "config", "-o", "http_listen=0.0.0.0:8080"], capture_output=True,
                       text=True)
    report(p.returncode == 3 and "http_allow_remote" in p.stderr,
           "http_listen off loopback without http_allow_remote: configuration error")


def group_start(run):
    os.chmod(run.state, 0o711)  # the unprivileged caller may reach the socket, not read the dir
    run.d = Daemon(run.state)
    report(run.d.p.poll() is None, "the daemon starts with the control socket and HTTP")


def group_restart(run):
    if run.d:
        run.d.stop()
    run.d = None
    run.d = test_restart(run.state)


def group_not_running(run):
    if run.d:
        run.d.stop()
    test_not_running()


def test_http_host(d):
    """DNS rebinding: a page whose own name resolves to 127.0.0.1 sends its own Host"""
    st, _, _ = d.api("GET", "/api/status", token=READ, host="rebind.attacker.example:%d" % d.http)
    st2, _, _ = d.api("GET", "/metrics", token=None, host="rebind.attacker.example")
    report(st == 421 and st2 == 421, "HTTP: a foreign Host gets 421 (%s, %s)" % (st, st2))
    ok = [d.api("GET", "/api/status", token=READ, host=h)[0]
          for h in ("localhost:%d" % d.http, "127.0.0.1:%d" % d.http, "LOCALHOST")]
    report(ok == [200] * 3, "... localhost and 127.0.0.1, any case, with or without the port: %s" % ok)


def http_conn(d):
    s = socket.create_connection(("127.0.0.1", d.http), timeout=5)
    return s


def http_raw(d, data, s=None):
    """data on a new connection (or s), everything the daemon sends until it closes; b"" for a
    connection closed unanswered (or reset: closed with our bytes unread)"""
    s = s or http_conn(d)
    got = b""
    try:
        s.sendall(data)
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    except OSError:
        pass
    s.close()
    return got


def refused(d):
    """a request on one more connection is not answered (closed, or 503)"""
    got = http_raw(d, b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Authorization: Bearer " + READ.encode() + b"\r\n\r\n")
    return got == b"" or got.startswith(b"HTTP/1.1 503"), got[:40]


def metric(body, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), body, re.M)
    return int(m.group(1)) if m else None


def test_http_cap(state):
    """Issue 13, finding 14: http_max_connections caps the HTTP connections open at once; one
    more is closed unread, counted in hijackd_http_refused_total, logged at most once per 10 s;
    a connection is uncounted once, whoever closes it."""
    d = Daemon(state, "http_max_connections=4")
    idle = [http_conn(d) for _ in range(4)]
    time.sleep(0.3)
    r = [refused(d) for _ in range(3)]
    report(all(x[0] for x in r), "http_max_connections=4: with 4 idle connections open, a 5th is "
           "closed unanswered, 3 times (%s)" % [x[1] for x in r])
    report(open(d.log, errors="replace").read().count("http_max_connections") == 1,
           "  ... logged once for the 3")
    idle.pop(0).close()  # closed by the client
    served = http_raw(d, b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      b"Authorization: Bearer " + READ.encode() + b"\r\n\r\n", idle.pop(0))
    bad = http_raw(d, b"NOT HTTP AT ALL\r\n\r\n", idle.pop(0))  # closed by the server, 400
    time.sleep(0.3)
    idle += [http_conn(d) for _ in range(3)]
    time.sleep(0.3)
    r = refused(d)
    report(served.startswith(b"HTTP/1.1 200") and bad.startswith(b"HTTP/1.1 400") and r[0],
           "  ... closed by the client, after Connection: close, after a malformed request: each "
           "uncounted once (3 new fill the cap again, one more is refused: %s %s %s)"
           % (served[:12], bad[:12], r[1]))
    idle.pop().close()
    time.sleep(0.3)
    st, _, _ = d.api("GET", "/api/status", token=READ)
    report(st == 200, "  ... once one closes, a request is answered (%s)" % st)
    st, _, body = d.api("GET", "/metrics", token=None)
    n, now = metric(body, "hijackd_http_refused_total"), metric(body, "hijackd_http_connections")
    report(st == 200 and n == 4 and now == 4,
           "  ... /metrics: hijackd_http_refused_total 4, hijackd_http_connections 4 (3 idle and "
           "this one): %s, %s" % (n, now))
    for s in idle:
        s.close()
    d.stop()


def stub(d, name, body):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def wait_log(d, text, secs=10):
    for _ in range(int(secs * 10)):
        if text in open(d.log, errors="replace").read():
            return True
        time.sleep(0.1)
    return False


def postsuper_calls(path):
    """the stub's calls: [(its arguments, the queue IDs on its stdin)]"""
    calls = []
    for block in open(path).read().split("ARGS ")[1:] if os.path.exists(path) else []:
        lines = block.split()
        calls.append((" ".join(lines[:2]), sorted(lines[2:])))
    return calls


HELD = ("4B1C31002A3", "4B1C31002A4")  # alice's, in the hold queue
DEFERRED = "4B1C31002A5"              # alice's too, deferred: a release leaves it


def test_queue(state):
    """issue 14: POST /api/queue releases (postsuper -H -) or deletes (postsuper -d -) an
    account's mail through the queue worker, with the queue IDs the daemon mapped to it"""
    d0 = tempfile.mkdtemp(prefix="hijackd-at.")
    queued = [{"queue_name": qn, "queue_id": q, "arrival_time": 1764050000, "message_size": 900,
               "sender": "alice@example.com", "recipients": [{"address": "x@far.test"}]}
              for q, qn in ((HELD[0], "hold"), (HELD[1], "hold"), (DEFERRED, "deferred"))]
    pq = stub(d0, "postqueue", "cat <<'EOF'\n%s\nEOF" % "\n".join(json.dumps(m) for m in queued))
    calls = os.path.join(d0, "postsuper.calls")
    ps = stub(d0, "postsuper", '{ echo "ARGS $*"; cat; } >>%s' % calls)
    d = Daemon(state, "postqueue_path=" + pq, "postsuper_path=" + ps, "alert_to=")
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    for q in HELD + (DEFERRED,):
        s.sendall(("request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                   "client_address=198.51.100.7\nsasl_method=PLAIN\n"
                   "sasl_username=alice@example.com\nsender=alice@example.com\n"
                   "recipient_count=1\nqueue_id=%s\n\n" % q).encode())
        s.recv(4096)
    s.close()
    body = {"op": "release", "account": "alice@example.com"}
    st, _, _ = d.api("POST", "/api/queue", body, token=None)
    st2, _, _ = d.api("POST", "/api/queue", body, token=READ)
    report(st == 401 and st2 == 403,
           "queue: POST /api/queue without a token 401, with the read token 403 (%s, %s)" % (st, st2))
    st, _, b = d.api("POST", "/api/queue", {"op": "hold", "account": "alice@example.com"})
    st2, _, _ = d.api("POST", "/api/queue", {"op": "release"})
    st3, _, _ = d.api("POST", "/api/queue", raw=b"[1]")
    report(st == 400 and "op" in json.loads(b)["error"] and st2 == 400 and st3 == 400,
           "queue: a bad op, no account, a body that is no object: 400 (%s, %s, %s)" % (st, st2, st3))
    st, _, _ = d.api("POST", "/api/queue", {"op": "release", "account": "nobody@example.com"})
    report(st == 404, "queue: an account hijackd has not seen: 404 (%s)" % st)
    st, _, b = d.api("POST", "/api/queue", body)
    r = json.loads(b) if b.strip().startswith("{") else {}
    report(st == 202 and r == {"ok": True, "account": "alice@example.com", "op": "release",
                               "queued": True},
           "queue: release: 202 {ok, account, op, queued} at once (%s %s)" % (st, b.strip()[:100]))
    done = wait_log(d, "release: released 2 held messages of alice@example.com")
    got = postsuper_calls(calls)
    report(done and got == [("-H -", sorted(HELD))],
           "  ... the worker ran postsuper -H - with exactly alice's two held queue IDs, not the "
           "deferred one, and logged it (%s, %s)" % (done, got))
    st, _, b = d.api("POST", "/api/queue", {"op": "purge", "account": "alice@example.com"})
    done = wait_log(d, "purge: deleted 3 queued messages of alice@example.com")
    got = postsuper_calls(calls)[1:]
    report(st == 202 and done and got == [("-d -", sorted(HELD + (DEFERRED,)))],
           "queue: purge: 202, then postsuper -d - with all of alice's queued messages, held or "
           "not (%s, %s, %s)" % (st, done, got))
    r = d.ctl({"cmd": "queue", "op": "x", "account": "alice@example.com"})
    report(r and r["status"] == 400 and "release or purge" in r.get("error", ""),
           "queue: the same command on the control socket (a bad op: 400, %s)" % r)
    d.stop()
    shutil.rmtree(d0, ignore_errors=True)


GROUPS = (  # name, how many checks it prints, the checks (the plan is the sum)
    ("configuration", 1, group_config),
    ("start", 1, group_start),
    ("control", 13, lambda run: test_control(run.d)),
    ("control access", 5, lambda run: test_control_access(tempfile.mkdtemp(prefix="hijackd-at."))),
    ("http", 12, lambda run: test_http(run.d)),
    ("http query", 4, lambda run: test_http_query(run.d)),
    ("http host", 2, lambda run: test_http_host(run.d)),
    ("http cap", 5, lambda run: test_http_cap(tempfile.mkdtemp(prefix="hijackd-at."))),
    ("queue", 7, lambda run: test_queue(tempfile.mkdtemp(prefix="hijackd-at."))),
    ("metrics", 1, lambda run: test_metrics(run.d)),
    ("exempt", 2, lambda run: test_exempt(run.d)),
    ("restart", 2, group_restart),
    ("hijackctl", 10, lambda run: test_hijackctl(run.d)),
    ("browser", len(BROWSER_STEPS), lambda run: test_browser(run.d, run.shot)),
    ("not running", 1, group_not_running),
)


def main():
    plan = sum(n for _, n, _ in GROUPS)
    tap.plan(plan)
    run = Run()
    try:
        for name, n, fn in GROUPS:
            run_group(name, n, fn, run)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        fails = tap.finish(plan)
        if fails == 0:
            shutil.rmtree(run.state, ignore_errors=True)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
