#!/usr/bin/env python3
"""ctl_fake_daemon.py - a fake of hijackd's control socket, and hijackctl's tests against it.

    ctl_fake_daemon.py SOCKET [--mode MODE] [--log FILE]
        Serve canned answers on the unix socket SOCKET until killed. One request line in,
        one answer line out, then close: like the daemon. MODE:
          normal   canned 200 answers; the special accounts below give errors
          deny     403 to everything
          hang     read the request, never answer (the client must time out)
          close    close without answering
          garbage  answer a line that is not JSON
        Special accounts (normal mode): nobody@example.com -> 404, denied@example.com -> 403,
        boom@example.com -> 500, unlock of notlocked@example.com -> 409. unlock_token (hijackctl
        mail-unlock) unlocks alice@example.test, except the tokens in UNLOCK_REFUSED (403, 409)
        and UNLOCK_BOOM (500).
        --log FILE appends every request line received.

    ctl_fake_daemon.py --check HIJACKCTL
        Run hijackctl through every command against fakes started here (human and --json
        output, requests sent, exit codes, queue and purge with fake postqueue/postsuper, a
        daemon that never answers). Prints a TAP plan "1..N" (N from the tables below), then
        "ok ..." / "not ok ..." lines and "N passed, N failed"; exit status 1 if any failed.
        A group that dies reports "not ok" for each check it did not reach; the others run.
        The never-answering daemon costs hijackctl's 10 s timeout, so that check runs in a
        thread alongside the others. Stops everything it starts.
"""
import copy
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import report, run_group, skip  # noqa: E402

ESC = "\x1b[31m"  # a terminal escape planted in canned text: hijackctl must not print it

DECISION = {"ts": "2026-11-25T05:55:53+00:00", "account": "alice@example.com", "action": "lock",
            "rule": "rcpt_500_30m", "scope": "account", "metric": "recipients", "window": 1800,
            "limit": 500, "count": 503, "class": "any", "event_class": "external",
            "client_ip": "39.53.149.170", "client_name": "unknown",
            "client_ips": ["39.53.149.170", "23.252.102.189"], "queue_id": "D5C5F10C40C",
            "sender": "alice@example.com", "service": "postfix/submission",
            "signals": {"novel_network": 1}, "score": 5}

CANNED = {
    "status": {"version": "0.2.0", "started": "2026-11-22T06:00:00+00:00", "uptime": 273845,
               "store": "sqlite:/var/lib/hijackd/hijackd.db",
               "listeners": {"policy": "127.0.0.1:10099", "http": "127.0.0.1:10098",
                             "control": "/var/lib/hijackd/control.sock"},
               "accounts": 1234, "locked": 2, "throttled": 1, "role": "admin"},
    "locked": {"locked": [
        {"account": "alice@example.com", "since": "2026-11-25T05:55:53+00:00", "until": None,
         "rule": "rcpt_500_30m", "reason": "", "actor": "hijackd", "count": 503, "limit": 500,
         "window": 1800, "client_ips": ["39.53.149.170", "23.252.102.189"]},
        {"account": "bob@example.com", "since": "2026-11-24T10:00:00+00:00", "until": None,
         "rule": "manual", "reason": "phished " + ESC + "see\u202eticket 42\u0085",
         "actor": "uid 0", "count": None,
         "limit": None, "window": None, "client_ips": []}]},
    "show": {"account": "alice@example.com", "state": "locked",
             "lock": {"since": "2026-11-25T05:55:53+00:00", "until": None, "rule": "rcpt_500_30m",
                      "reason": ""},
             "throttle": None, "recent_ips": ["39.53.149.170", "23.252.102.189"],
             "counters": [{"rule": "rcpt_500_30m", "metric": "recipients", "window": 1800,
                           "count": 503, "limit": 500, "action": "lock"},
                          {"rule": "msgs_100_1h", "metric": "messages", "window": 3600,
                           "count": 40, "limit": 100, "action": "throttle"}],
             "normal": {"networks": 3, "clients": 2, "domains": 14, "messages": 820,
                        "novel_share": 2, "unknown_share": 0, "freemail_share": 10},
             "totals": {"messages": 871, "recipients": 1611,
                        "first_seen": "2026-11-01T08:00:00+00:00",
                        "last_seen": "2026-11-25T05:55:53+00:00"},
             "hourly": {"start": "2026-11-22T06:00:00+00:00", "step": 3600,
                        "recipients": [0] * 24 + [3, 5, 0, 1] * 10 + [0, 40, 503, 12]},
             "decisions": [DECISION]},
    "lock": {"ok": True, "account": "alice@example.com", "state": "locked"},
    "unlock": {"ok": True, "account": "alice@example.com", "state": "ok"},
    "exempt": {"exempt": ["*@lists.example.com", "newsletter@*"]},
    "history": {"history": [
        {"ts": "2026-11-25T06:10:00+00:00", "account": "bob@example.com", "action": "unlock",
         "rule": "", "actor": "uid 0", "reason": "password changed"},
        {"ts": "2026-11-25T05:55:53+00:00", "account": "alice@example.com", "action": "lock",
         "rule": "rcpt_500_30m", "actor": "hijackd", "reason": ""}]},
    "top": {"window": 3600, "top": [
        {"account": "alice@example.com", "messages": 871, "recipients": 1611, "state": "locked"},
        {"account": "carol@example.com", "messages": 12, "recipients": 30, "state": "ok"}]},
    "decisions": {"decisions": [DECISION, dict(DECISION, action="warn", count=None, limit=None,
                                               window=None, rule="", reason="manual note")]},
    "reload": {"ok": True},
    "unlock_token": {"ok": True, "account": "alice@example.test", "state": "ok"},
}

# reply-to-unlock: hijackctl mail-unlock reads a reply to an alert on stdin
TOKEN = "HJU1-1764057600-1764316800-0123456789abcdef0123456789abcdef"
UNLOCK_REFUSED = {"HJU1-1764057600-1764316800-00000000000000000000000000000403":
                  (403, "token expired or already used"),
                  "HJU1-1764057600-1764316800-00000000000000000000000000000409":
                  (409, "alice@example.test is not locked")}
UNLOCK_BOOM = "HJU1-1764057600-1764316800-00000000000000000000000000000500"

QUEUE_ACCOUNTS = {"4B1C31002A3": "alice@example.com", "4B1C31002A4": "alice@example.com",
                  "4B1C31002A7": "alice@example.com",  # a forged log line: the victim's mail
                  "4B1C31002A8": "alice@example.com",  # her policy request gave another sender
                  "4B1C31002B1": "alice@example.com", "4B1C31002B2": "bob@example.com"}  # held
QUEUE_POLICY_SENDERS = {"4B1C31002A4": "alice@example.com", "4B1C31002A8": "alias@example.com"}
SPECIAL = {"nobody@example.com": (404, "unknown account"),
           "denied@example.com": (403, "not allowed: you are not root or in the admin group"),
           "boom@example.com": (500, "store error: disk I/O error")}


def answer(req):
    """(status, body) for one request in normal mode"""
    if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
        return 400, {"error": "not a request"}
    cmd, acct = req["cmd"], req.get("account")
    if acct in SPECIAL:
        s, e = SPECIAL[acct]
        return s, {"error": e}
    if cmd == "unlock" and acct == "notlocked@example.com":
        return 409, {"error": "notlocked@example.com is not locked"}
    if cmd == "unlock_token" and req.get("token") in UNLOCK_REFUSED:
        s, e = UNLOCK_REFUSED[req["token"]]
        return s, {"ok": False, "error": e}
    if cmd == "unlock_token" and req.get("token") == UNLOCK_BOOM:
        return 500, {"ok": False, "error": "store error: disk I/O error"}
    if cmd == "queue_accounts":
        ids = req.get("ids") or []
        return 200, {"accounts": {q: QUEUE_ACCOUNTS[q] for q in ids if q in QUEUE_ACCOUNTS},
                     "policy_senders": {q: QUEUE_POLICY_SENDERS[q] for q in ids
                                        if q in QUEUE_POLICY_SENDERS}}
    if cmd not in CANNED:
        return 400, {"error": "unknown command " + cmd}
    body = copy.deepcopy(CANNED[cmd])
    if cmd in ("lock", "unlock", "show") and acct:
        body["account"] = acct
    return 200, body


def serve_one(conn, mode, log):
    data = b""
    conn.settimeout(10)
    try:
        while b"\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if log:
            with open(log, "ab") as f:
                f.write(data.split(b"\n")[0] + b"\n")
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "close":
            return
        if mode == "garbage":
            conn.sendall(b"this is not json\n")
            return
        try:
            req = json.loads(data.split(b"\n")[0])
        except ValueError:
            req = None
        status, body = (403, {"error": "not allowed"}) if mode == "deny" else answer(req)
        body = dict(body, status=status)
        conn.sendall(json.dumps(body).encode() + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def serve(path, mode="normal", log=None, stop=None):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    s.settimeout(0.2)
    try:
        while stop is None or not stop.is_set():
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve_one, args=(conn, mode, log), daemon=True).start()
    finally:
        s.close()
        if os.path.exists(path):
            os.unlink(path)


# ---------------------------------------------------------------- --check



class Fake:
    """a fake daemon in a thread, on DIR/control.sock"""

    def __init__(self, state, mode="normal"):
        self.state, self.stop = state, threading.Event()
        self.sock, self.log = os.path.join(state, "control.sock"), os.path.join(state, "req.log")
        if os.path.exists(self.log):
            os.unlink(self.log)
        self.t = threading.Thread(target=serve, args=(self.sock, mode, self.log, self.stop),
                                  daemon=True)
        self.t.start()
        for _ in range(100):
            if os.path.exists(self.sock):
                break
            time.sleep(0.01)

    def requests(self):
        if not os.path.exists(self.log):
            return []
        return [json.loads(l) for l in open(self.log, "rb").read().splitlines()]

    def last(self):
        r = self.requests()
        return r[-1] if r else None

    def close(self):
        self.stop.set()
        self.t.join()


def run(ctl, *args, timeout=30, stdin=None):
    t0 = time.monotonic()
    p = subprocess.run([ctl] + list(args), capture_output=True, text=True, timeout=timeout,
                       input=stdin)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def clean(text):
    """no control characters but newlines"""
    return not any((ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f
                   or 0x2028 <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069 for c in text)


def check_json(ctl, conf, cmd_args, expect):
    rc, out, err, _ = run(ctl, "-c", conf, "--json", *cmd_args)
    try:
        body = json.loads(out)
        one_line = out.count("\n") == 1
    except ValueError:
        body, one_line = None, False
    report(rc == 0 and one_line and body == expect,
           "--json %s: one line, the body without status" % " ".join(cmd_args))


HUMAN = [  # args, expected request, strings the output must hold
    (["status"], {"cmd": "status"}, ["0.2.0", "3d04h", "127.0.0.1:10099", "admin"]),
    (["locked"], {"cmd": "locked"},
     ["ACCOUNT", "EVIDENCE", "503>500/30m", "39.53.149.170,23.252.102.189",
      "phished ?[31msee?ticket 42?"]),
    (["show", "alice@example.com"], {"cmd": "show", "account": "alice@example.com"},
     ["state       locked", "novel_share 2%", "RULE", "30m", "recipients per hour, 48 h",
      "last decisions", "rcpt_500_30m"]),
    (["lock", "alice@example.com", "--reason", "phished"],
     {"cmd": "lock", "account": "alice@example.com", "reason": "phished"},
     ["alice@example.com is now locked"]),
    (["unlock", "--reason=password changed", "alice@example.com"],
     {"cmd": "unlock", "account": "alice@example.com", "reason": "password changed"},
     ["alice@example.com is now ok"]),
    (["lock", "alice@example.com"], {"cmd": "lock", "account": "alice@example.com"},
     ["is now locked"]),
    (["exempt", "add", "*@lists.example.com"],
     {"cmd": "exempt", "op": "add", "pattern": "*@lists.example.com"}, ["newsletter@*"]),
    (["exempt", "del", "x@example.com"],
     {"cmd": "exempt", "op": "del", "pattern": "x@example.com"}, ["*@lists.example.com"]),
    (["exempt", "list"], {"cmd": "exempt", "op": "list"}, ["newsletter@*"]),
    (["history"], {"cmd": "history"}, ["ACTOR", "password changed", "uid 0"]),
    (["history", "bob@example.com", "--since", "2026-11-25T07:00:00+01:00"],
     {"cmd": "history", "account": "bob@example.com", "since": "2026-11-25T06:00:00+00:00"},
     ["unlock"]),
    (["top"], {"cmd": "top", "window": 3600}, ["last 1h", "RECIPIENTS", "1611"]),
    (["decisions"], {"cmd": "decisions"}, ["EVIDENCE", "503>500/30m", "manual note"]),
    (["decisions", "alice@example.com", "--limit", "5"],
     {"cmd": "decisions", "account": "alice@example.com", "limit": 5}, ["39.53.149.170"]),
    (["reload"], {"cmd": "reload"}, ["reloaded"]),
]


def check_commands(ctl, conf, fake):
    for args, req, wants in HUMAN:
        rc, out, err, _ = run(ctl, "-c", conf, *args)
        got = fake.last()
        report(rc == 0 and got == req and all(w in out for w in wants) and clean(out),
               "%s: request %s, human output" % (" ".join(args), json.dumps(got)))
        if rc != 0 or not all(w in out for w in wants):
            print("        rc %d, stdout:\n%s        stderr: %s" % (rc, out, err))
    for args, _, _ in HUMAN:
        _, body = answer(dict(HUMAN_REQ(args)))
        check_json(ctl, conf, args, body)
    rc, out, err, _ = run(ctl, "-c", conf, "history", "--json", "--since", "2h")
    since = (fake.last() or {}).get("since", "")
    want = time.strftime("%Y-%m-%dT%H:", time.gmtime(time.time() - 7200))
    report(rc == 0 and since.startswith(want) and since.endswith("+00:00"),
           "history --since 2h (after the command: --json too) sends %s" % since)


def HUMAN_REQ(args):
    for a, req, _ in HUMAN:
        if a == args:
            return req
    return {}


ERROR_CASES = [(["show", "nobody@example.com"], 1, "unknown account"),
               (["show", "denied@example.com"], 5, "not allowed"),
               (["lock", "boom@example.com"], 6, "disk I/O error"),
               (["unlock", "notlocked@example.com"], 1, "is not locked")]
USAGE = [[], ["nosuch"], ["show"], ["show", "a", "b"], ["status", "--reason", "x"],
         ["decisions", "--limit", "abc"], ["decisions", "--limit", "501"],
         ["history", "--since", "yesterday"], ["exempt"], ["exempt", "add"], ["--bogus", "status"],
         ["lock", ""], ["-c"]]


def check_errors(ctl, conf, fake, state):
    for args, want, text in ERROR_CASES:
        rc, out, err, _ = run(ctl, "-c", conf, *args)
        report(rc == want and text in err and out == "",
               "%s: exit %d (%s)" % (" ".join(args), rc, err.strip()))
    n = len(fake.requests())
    for args in USAGE:
        rc, out, err, _ = run(ctl, "-c", conf, *args)
        report(rc == 2 and "usage:" in err or (rc == 2 and "hijackctl:" in err),
               "usage error %s: exit %d (%s)" % (args, rc, err.strip().splitlines()[0]))
    report(len(fake.requests()) == n, "usage errors send nothing to the daemon")
    rc, out, err, _ = run(ctl, "--help")
    report(rc == 0 and "queue purge ACCOUNT" in out, "--help: the usage on stdout, exit 0")


def check_config(ctl, conf, state):
    bad = os.path.join(state, "bad.conf")
    with open(bad, "w") as f:
        f.write("state_dir = %s\nbogus = 1\n" % state)
    rc, out, err, _ = run(ctl, "-c", bad, "status")
    report(rc == 3 and bad + ":2:" in err, "bad -c file: exit 3, names file:line (%s)" % err.strip())
    rc, out, err, _ = run(ctl, "-c", os.path.join(state, "missing.conf"), "locked")
    report(rc == 3, "missing -c file: exit 3")
    rc, out, err, _ = run(ctl, "config", "check", conf)
    report(rc == 0 and out == conf + ": ok\n", "config check FILE: ok")
    rc, out, err, _ = run(ctl, "config", "check", bad)
    report(rc == 3 and bad + ":2:" in err, "config check of a bad file: exit 3 (%s)" % err.strip())
    rc, out, err, _ = run(ctl, "-c", bad, "config", "check")
    report(rc == 3, "config check of -c FILE")
    rc, out, err, _ = run(ctl, "config", "check")
    report(rc == 0 and out == "(built-in): ok\n", "config check without a file: the built-in")
    rc, out, err, _ = run(ctl, "--json", "config", "check", bad)
    j = json.loads(out) if out else {}
    report(rc == 3 and j.get("ok") is False and "bogus" in j.get("error", ""),
           "--json config check of a bad file")
    rc, out, err, _ = run(ctl, "-o", "bogus=1", "config", "check", conf)
    report(rc == 3 and "-o:1" in err, "config check applies -o (%s)" % err.strip())


MODES = (("deny", 5), ("close", 6), ("garbage", 6))  # a misbehaving daemon: hijackctl's exit


def check_unreachable(ctl, conf, state):
    empty = tempfile.mkdtemp(prefix="hjctl-none.", dir=state)
    rc, out, err, took = run(ctl, "-c", conf, "-o", "state_dir=" + empty, "status")
    report(rc == 4 and "cannot reach hijackd at %s/control.sock" % empty in err
           and "is it running?" in err and took < 5,
           "not running: exit 4 at once (%s)" % err.strip())
    rc, out, err, _ = run(ctl, "-c", conf, "-o", "control_socket=" + os.path.join(state, "control.sock"),
                          "-o", "state_dir=" + empty, "status")
    report(rc == 0, "control_socket overrides state_dir/control.sock")
    for mode, want in MODES:
        d = tempfile.mkdtemp(prefix="hjctl-" + mode + ".", dir=state)
        f = Fake(d, mode)
        rc, out, err, _ = run(ctl, "-c", conf, "-o", "state_dir=" + d, "locked")
        f.close()
        report(rc == want, "daemon mode %s: exit %d (%s)" % (mode, rc, err.strip()))
    rc, out, err = run_denied(ctl, conf, state, "status")
    report(rc == 5, "a socket the caller may not use: exit 5 (%s)" % err.strip())


def run_denied(ctl, conf, state, *args, stdin=None):
    """hijackctl against a fake whose socket has mode 0, as a caller that may not use it: this
    user, or (as root, who may use any socket) uid 65534 in a child. (rc, stdout, stderr)"""
    d = tempfile.mkdtemp(prefix="hjctl-perm.", dir=state)
    f = Fake(d)
    os.chmod(f.sock, 0)
    drop = None
    if os.geteuid() == 0:
        for p in (state, d):  # the unprivileged child reaches the conf and the socket's dir
            os.chmod(p, 0o711)
        os.chmod(conf, 0o644)

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
    try:
        p = subprocess.run([ctl, "-c", conf, "-o", "state_dir=" + d] + list(args),
                           capture_output=True, text=True, timeout=30, input=stdin,
                           preexec_fn=drop)
    finally:
        f.close()
    return p.returncode, p.stdout, p.stderr


HANG_WAIT = 20  # s: hijackctl's timeout is 10 s; the fake holds the connection for 30 s


def check_hang(ctl, conf, state):
    """(good, what) for a daemon that reads the request and never answers; prints nothing, so
    that it can run in a thread while the other checks report"""
    d = tempfile.mkdtemp(prefix="hjctl-hang.", dir=state)
    f = Fake(d, "hang")
    try:
        rc, out, err, took = run(ctl, "-c", conf, "-o", "state_dir=" + d, "status",
                                 timeout=HANG_WAIT)
    except subprocess.TimeoutExpired:
        return False, "a daemon that never answers: hijackctl still waiting after %d s" % HANG_WAIT
    finally:
        f.close()
    return (rc == 4 and 9 < took < 15 and "did not answer" in err,
            "a daemon that never answers: exit %d after %.1f s (%s)" % (rc, took, err.strip()))


QUEUE = [  # postqueue -j lines: alice's 2 messages (the daemon knows them), a relay, a bounce
    {"queue_name": "deferred", "queue_id": "4B1C31002A3", "arrival_time": 1764050000,
     "message_size": 1200, "forced_expire": False, "sender": "alice@example.com",
     "recipients": [{"address": "x%d@gmail.com" % i, "delay_reason": "connect timed out"}
                    for i in range(15)]},
    {"queue_name": "deferred", "queue_id": "4B1C31002A4", "arrival_time": 1764050100,
     "message_size": 1300, "forced_expire": False, "sender": "alice@example.com",
     "recipients": [{"address": "y%d@yahoo.com" % i} for i in range(15)]},
    {"queue_name": "active", "queue_id": "4B1C31002A5", "arrival_time": 1764050200,
     "message_size": 900, "forced_expire": False, "sender": "spam@elsewhere.test",
     "recipients": [{"address": "z@other.test"}]},
    {"queue_name": "deferred", "queue_id": "4B1C31002A6", "arrival_time": 1764050300,
     "message_size": 500, "forced_expire": False, "sender": "MAILER-DAEMON",
     "recipients": [{"address": "carol@example.com"}]},
    {"queue_name": "deferred", "queue_id": "4B1C31002A7", "arrival_time": 1764050400,
     "message_size": 700, "forced_expire": False, "sender": "victim@example.com",
     "recipients": [{"address": "boss@far.test"}]},
    {"queue_name": "deferred", "queue_id": "4B1C31002A8", "arrival_time": 1764050500,
     "message_size": 700, "forced_expire": False, "sender": "alias@example.com",
     "recipients": [{"address": "friend@far.test"}]},
]


def fake_tools(state):
    q = os.path.join(state, "queue.json")
    with open(q, "w") as f:
        for m in QUEUE:
            f.write(json.dumps(m) + "\n")
    os.makedirs(os.path.join(state, "bad"), exist_ok=True)
    pq, ps, bad = (os.path.join(state, n) for n in ("postqueue", "postsuper", "bad/postqueue"))
    deleted = os.path.join(state, "deleted")
    scripts = {pq: '#!/bin/sh\necho "$@" > %s.args\ncat %s\n' % (pq, q),
               ps: '#!/bin/sh\necho "$@" > %s.args\ncat > %s\n' % (ps, deleted),
               bad: '#!/bin/sh\necho "postqueue: fatal: open /x/main.cf: No such file" >&2\nexit 69\n'}
    for path, text in scripts.items():
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    return pq, ps, bad, deleted


def check_queue(ctl, conf, state, fake):
    pq, ps, bad, deleted = fake_tools(state)
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "--postqueue", pq)
    ids = (fake.last() or {}).get("ids")
    report(rc == 0 and "alice@example.com" in out and "stolen account" in out and err == ""
           and ids is not None and sorted(ids) == sorted(m["queue_id"] for m in QUEUE),
           "queue: asks queue_accounts for every ID, groups by account, verdict")
    if rc != 0 or "stolen account" not in out:
        print(out, err)
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "queue", "--postqueue", pq,
                          "--config-dir", "/etc/postfix-out")
    j = json.loads(out) if rc == 0 else {}
    args = open(pq + ".args").read().split()
    report(rc == 0 and j.get("verdict") == "stolen account" and j["groups"][0]["account"]
           == "alice@example.com" and args == ["-c", "/etc/postfix-out", "-j"],
           "--json queue --config-dir: the report, postqueue -c DIR -j")
    rc, out, err, _ = run(ctl, "-c", conf, "-o", "postqueue_path=" + pq, "queue", "purge",
                          "alice@example.com")
    report(rc == 0 and "dry run: would delete 3 messages (31 recipients) of alice@example.com:"
           in out and re.search(r"^4B1C31002A3 +account\+sender +<alice@example.com>$", out, re.M)
           and re.search(r"^4B1C31002A8 +account\+policy-sender +<alias@example.com>$", out, re.M)
           and "kept 1 message of alice@example.com" in out
           and re.search(r"^4B1C31002A7 +mapped, sender differs +<victim@example.com>$", out, re.M)
           and not os.path.exists(deleted),
           "queue purge without --yes: a dry run naming each message's rule, the victim's kept "
           "(postqueue_path from -o)")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "purge", "alice@example.com", "--yes",
                          "--postqueue", pq, "--postsuper", ps)
    got = open(deleted).read().split() if os.path.exists(deleted) else []
    report(rc == 0 and "deleted 3 messages" in out
           and got == ["4B1C31002A3", "4B1C31002A4", "4B1C31002A8"],
           "queue purge --yes: postsuper -d - gets exactly alice's IDs, not the forged one")
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "queue", "purge", "spam@elsewhere.test",
                          "--postqueue", pq)
    j = json.loads(out) if out.strip() else {}
    report(rc == 1 and "nothing of spam@elsewhere.test to delete: 1 kept: sender-only" in err
           and j.get("queue_ids") == [] and j.get("kept") == 1,
           "queue purge of a sender without --by-sender: nothing deleted, exit 1")
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "queue", "purge", "spam@elsewhere.test",
                          "--by-sender", "--postqueue", pq)
    j = json.loads(out) if rc == 0 else {}
    report(rc == 0 and j.get("dry_run") is True and j.get("by_sender") is True
           and j.get("queue_ids") == ["4B1C31002A5"]
           and j.get("matches") == [{"queue_id": "4B1C31002A5", "sender": "spam@elsewhere.test",
                                     "rule": "sender-only", "delete": True}],
           "--json queue purge --by-sender of a sender (dry run)")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "purge", "nobody@example.com", "--postqueue", pq)
    report(rc == 1 and "nothing queued" in err, "queue purge of nothing: exit 1")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "--postqueue", bad)
    report(rc == 6 and "fatal: open /x/main.cf" in err, "postqueue fails: exit 6 (%s)" % err.strip())
    if os.geteuid() == 0:  # sudo for "queue purge" must not mean "run any program as root"
        evil = os.path.join(state, "evil")
        with open(evil, "w") as f:
            f.write("#!/bin/sh\ntouch %s.ran\n" % evil)
        os.chmod(evil, 0o755)
        wdir = tempfile.mkdtemp(prefix="hjctl-w.")
        os.chmod(wdir, 0o777)
        shutil.copy(pq, os.path.join(wdir, "postqueue"))
        r1 = run(ctl, "-c", conf, "queue", "--postqueue", evil)
        r2 = run(ctl, "-c", conf, "-o", "postsuper_path=" + evil, "queue", "purge", "--yes",
                 "alice@example.com", "--postqueue", pq)
        r3 = run(ctl, "-c", conf, "queue", "--postqueue", os.path.join(wdir, "postqueue"))
        report(r1[0] == 6 and r2[0] == 6 and r3[0] == 6 and not os.path.exists(evil + ".ran")
               and "refusing" in r1[2] + r2[2] + r3[2],
               "as root: --postqueue, -o postsuper_path or a postqueue in a world-writable "
               "directory is refused, never run (%s %s %s)" % (r1[0], r2[0], r3[0]))
        shutil.rmtree(wdir, ignore_errors=True)
    else:
        skip("as root: only root-owned postqueue/postsuper run", "not root")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "--yes", "--postqueue", pq)
    report(rc == 2, "queue takes no --yes: exit 2")
    empty = tempfile.mkdtemp(prefix="hjctl-q.", dir=state)
    rc, out, err, _ = run(ctl, "-c", conf, "-o", "state_dir=" + empty, "queue", "--postqueue", pq)
    report(rc == 0 and err.count("cannot reach hijackd") == 1 and "grouped by sender" in err
           and "<alice@example.com>" in out, "queue without the daemon: one note, by sender")


HELD_QUEUE = [  # alice's held message and bob's, and alice's deferred one (never released)
    {"queue_name": "hold", "queue_id": "4B1C31002B1", "arrival_time": 1764050000,
     "message_size": 900, "sender": "alice@example.com", "recipients": [{"address": "a@far.test"}]},
    {"queue_name": "hold", "queue_id": "4B1C31002B2", "arrival_time": 1764050100,
     "message_size": 900, "sender": "bob@example.com",
     "recipients": [{"address": "b@far.test"}, {"address": "c@far.test"}]},
    {"queue_name": "deferred", "queue_id": "4B1C31002A3", "arrival_time": 1764050200,
     "message_size": 900, "sender": "alice@example.com", "recipients": [{"address": "d@far.test"}]},
]


def check_held(ctl, conf, state, fake):
    """queue held [ACCOUNT] lists the hold queue with the daemon's accounts; queue release runs
    postsuper -H - on the account's held messages only, a dry run without --yes"""
    pq, ps, _, done = fake_tools(state)
    with open(os.path.join(state, "queue.json"), "w") as f:
        for m in HELD_QUEUE:
            f.write(json.dumps(m) + "\n")
    if os.path.exists(done):
        os.unlink(done)
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "held", "--postqueue", pq)
    report(rc == 0 and "2 held messages (3 recipients)" in out
           and re.search(r"^4B1C31002B1  alice@example.com  <alice@example.com>  1 rcpt$", out, re.M)
           and re.search(r"^4B1C31002B2  bob@example.com  <bob@example.com>  2 rcpt$", out, re.M)
           and "4B1C31002A3" not in out, "queue held: the hold queue, each with its account")
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "queue", "held", "alice@example.com",
                          "--postqueue", pq)
    j = json.loads(out) if rc == 0 else {}
    report(rc == 0 and j.get("messages") == 1 and j["held"][0]["queue_id"] == "4B1C31002B1"
           and j["held"][0]["account"] == "alice@example.com",
           "--json queue held ACCOUNT: only the account's held messages")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "release", "alice@example.com",
                          "--postqueue", pq, "--postsuper", ps)
    report(rc == 0 and "dry run: would release 1 messages (1 recipients) of alice@example.com"
           in out and "add --yes to release" in out and not os.path.exists(done),
           "queue release without --yes: a dry run, nothing run")
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "release", "alice@example.com", "--yes",
                          "--postqueue", pq, "--postsuper", ps)
    got = open(done).read().split() if os.path.exists(done) else []
    args = open(ps + ".args").read().split() if os.path.exists(ps + ".args") else []
    report(rc == 0 and "released 1 messages" in out and got == ["4B1C31002B1"]
           and args == ["-H", "-"],
           "queue release --yes: postsuper -H - gets alice's held ID only, not her deferred one "
           "(%s %s)" % (args, got))
    rc, out, err, _ = run(ctl, "-c", conf, "queue", "release", "carol@example.com", "--yes",
                          "--postqueue", pq, "--postsuper", ps)
    report(rc == 1 and "nothing held for carol@example.com" in err,
           "queue release of an account with nothing held: exit 1 (%s)" % err.strip())
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "queue", "purge", "alice@example.com",
                          "--postqueue", pq)
    j = json.loads(out) if rc == 0 else {}
    report(rc == 0 and j.get("queue_ids") == ["4B1C31002A3", "4B1C31002B1"]
           and j.get("action") == "purge", "queue purge deletes held messages too (dry run)")
    with open(os.path.join(state, "queue.json"), "w") as f:  # check_queue's queue, as it was
        for m in QUEUE:
            f.write(json.dumps(m) + "\n")


def reply(token=TOKEN, crlf=False):
    """a reply to an alert, as Postfix pipe(8) hands it over: quoted-printable, the token in the
    quoted alert split by a soft line break"""
    m = ("From: \"Master, Post\" <PostMaster@Example.TEST>\nTo: hijackd@example.test\n"
         "Subject: Re: [hijackd] alice@example.test locked\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
         "Yes, unlock her =E2=80=94 she changed her password.\n\n"
         "> Reply to unlock; the token below:\n>   %s=\n%s\n" % (token[:30], token[30:]))
    return m.replace("\n", "\r\n") if crlf else m


def check_mail_unlock(ctl, conf, state, fake):
    pm = "postmaster@example.test"
    want = {"cmd": "unlock_token", "token": TOKEN, "from": pm, "sender": pm}
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", "--sender", pm, stdin=reply())
    report(rc == 0 and fake.last() == want and err == ""
           and out == "unlocked alice@example.test (token from %s)\n" % pm,
           "mail-unlock --sender: request %s, exit %d" % (json.dumps(fake.last()), rc))
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", stdin=reply(crlf=True))
    no_sender = {k: v for k, v in want.items() if k != "sender"}
    report(rc == 0 and fake.last() == no_sender and err == "" and out.startswith("unlocked "),
           "mail-unlock without --sender (CRLF): no \"sender\" member, exit %d" % rc)
    rc, out, err, _ = run(ctl, "-c", conf, "--json", "mail-unlock", "--sender=" + pm, stdin=reply())
    report(rc == 0 and out.count("\n") == 1 and json.loads(out) == CANNED["unlock_token"],
           "--json mail-unlock: the body without status")
    for tok, (status, text) in UNLOCK_REFUSED.items():
        rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", "--sender", pm, stdin=reply(tok))
        report(rc == 0 and (fake.last() or {}).get("token") == tok and err == ""
               and out == "hijackd refused the unlock token from %s: %s (%d)\n" % (pm, text, status),
               "mail-unlock refused (%d): exit %d, one line on stdout (%s)" % (status, rc, out.strip()))
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", stdin=reply(UNLOCK_BOOM))
    report(rc == 75 and out == "" and "disk I/O error (500)" in err,
           "mail-unlock, the daemon answers 500: exit %d (%s)" % (rc, err.strip()))
    n = len(fake.requests())
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", "--sender", pm,
                          stdin="From: " + pm + "\nSubject: Re: alert\n\nplease unlock alice\n")
    report(rc == 0 and len(fake.requests()) == n and out == ""
           and "no unlock token in the message from %s: nothing done" % pm in err,
           "mail-unlock of a message without a token: exit %d, no request (%s)" % (rc, err.strip()))
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", stdin="Subject: " + TOKEN + "\n\nhi\n")
    report(rc == 0 and len(fake.requests()) == n and "no From: address" in err,
           "mail-unlock of a message without From:: exit %d, no request" % rc)
    big = reply() + ("x" * 76 + "\n") * (1 << 14)
    rc, out, err, _ = run(ctl, "-c", conf, "mail-unlock", stdin=big)
    report(rc == 0 and len(fake.requests()) == n and "over 1048576 bytes" in err,
           "mail-unlock of a message over 1 MiB: exit %d, no request" % rc)
    check_mail_unlock_errors(ctl, conf, state, n)


MU_MODES = (("deny", 0), ("close", 75), ("garbage", 75))  # mail-unlock's exit (75: try again)
MU_USAGE = (["mail-unlock", "x"], ["mail-unlock", "--bogus"], ["mail-unlock", "--reason", "x"],
            ["mail-unlock", "--sender"])


def check_mail_unlock_errors(ctl, conf, state, n):
    empty = tempfile.mkdtemp(prefix="hjctl-mu.", dir=state)
    rc, out, err, took = run(ctl, "-c", conf, "-o", "state_dir=" + empty, "mail-unlock",
                             stdin=reply())
    report(rc == 75 and "cannot reach hijackd" in err and "(Postfix will try again)" in err
           and out == "" and took < 5, "mail-unlock without the daemon: exit %d (%s)" % (rc, err.strip()))
    for mode, want in MU_MODES:
        d = tempfile.mkdtemp(prefix="hjctl-mu-" + mode + ".", dir=state)
        f = Fake(d, mode)
        rc, out, err, _ = run(ctl, "-c", conf, "-o", "state_dir=" + d, "mail-unlock", stdin=reply())
        f.close()
        report(rc == want, "mail-unlock, daemon mode %s: exit %d (%s)" % (mode, rc, (out + err).strip()))
    rc, out, err = run_denied(ctl, conf, state, "mail-unlock", stdin=reply())
    report(rc == 75, "mail-unlock, a socket the caller may not use: exit %d (%s)" % (rc, err.strip()))
    for args in MU_USAGE:
        rc, out, err, _ = run(ctl, "-c", conf, *args, stdin=reply())
        report(rc == 64 and "hijackctl:" in err, "mail-unlock usage error %s: exit %d" % (args[1:], rc))
    bad = os.path.join(state, "bad-mu.conf")
    with open(bad, "w") as f:
        f.write("bogus = 1\n")
    rc, out, err, _ = run(ctl, "-c", bad, "mail-unlock", stdin=reply())
    report(rc == 75 and "configuration error" in err, "mail-unlock with a bad -c file: exit %d" % rc)


GROUPS = (  # name, how many checks it prints, the checks
    ("commands", 2 * len(HUMAN) + 1, lambda c, conf, st, fake: check_commands(c, conf, fake)),
    ("errors", len(ERROR_CASES) + len(USAGE) + 2, lambda c, conf, st, fake: check_errors(c, conf, fake, st)),
    ("config", 8, lambda c, conf, st, fake: check_config(c, conf, st)),
    ("unreachable", 3 + len(MODES), lambda c, conf, st, fake: check_unreachable(c, conf, st)),
    ("queue", 11, check_queue),
    ("queue held/release", 6, check_held),
    ("mail-unlock", 7 + len(UNLOCK_REFUSED) + 3 + len(MU_MODES) + len(MU_USAGE), check_mail_unlock),
)
PLAN = sum(n for _, n, _ in GROUPS) + 1  # + the daemon that never answers


def check(ctl):
    ctl = os.path.abspath(ctl)
    tap.plan(PLAN)
    state = tempfile.mkdtemp(prefix="hjctl.")
    conf = os.path.join(state, "hijackd.conf")
    with open(conf, "w") as f:
        f.write("state_dir = %s\n" % state)
    hang = []
    t = threading.Thread(target=lambda: hang.append(check_hang(ctl, conf, state)), daemon=True)
    t.start()  # 10 s of waiting, alongside everything else
    fake = Fake(state)
    try:
        for name, n, fn in GROUPS:
            run_group(name, n, fn, ctl, conf, state, fake)
        t.join(HANG_WAIT + 10)
        report(*(hang[0] if hang else (False, "a daemon that never answers: the check died")))
    finally:
        fake.close()
        shutil.rmtree(state, ignore_errors=True)
    fails = tap.finish(PLAN)
    print("%d passed, %d failed" % (tap.PASSES, fails))
    return 1 if fails else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    path, mode, log = args[0], "normal", None
    rest = args[1:]
    while rest:
        if rest[0] == "--mode" and len(rest) > 1:
            mode, rest = rest[1], rest[2:]
        elif rest[0] == "--log" and len(rest) > 1:
            log, rest = rest[1], rest[2:]
        else:
            sys.exit(__doc__)
    try:
        serve(path, mode, log)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
