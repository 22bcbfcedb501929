#!/usr/bin/env python3
"""mockapi.py PORT TOKEN WEBDIR [READ_TOKEN] - an in-memory mock of hijackd's HTTP API.

Serves WEBDIR at / and the JSON API at /api/... on 127.0.0.1:PORT, for developing the dashboard
and for its browser test (tests/browser/dashboard.mjs). TOKEN is the admin token; READ_TOKEN
(default: "read-" + TOKEN) is a read-only one. The initial state has one locked account
(isabella.morris@example.com) with eight days of hourly counts and decisions, one throttled
account and a few ordinary senders. State lives in memory only; the data is deterministic apart
from being placed relative to the current time.

Stop it with SIGINT or SIGTERM.
"""

import hmac
import json
import math
import os
import random
import signal
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
HOURS = 192  # 8 days of hourly buckets
VERSION = "0.3-mock"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}

# What the real daemon should send with every static file as well.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


def rfc3339(t):
    if t is None:
        return None
    return datetime.fromtimestamp(int(t), timezone.utc).isoformat(timespec="seconds")


def parse_rfc3339(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class ApiError(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


class State:
    """Accounts, decisions, history and exemptions, all in memory, guarded by one lock."""

    def __init__(self):
        self.mu = threading.Lock()
        self.started = time.time()
        now = int(self.started)
        self.hour0 = (now // 3600) * 3600 - (HOURS - 1) * 3600  # start of bucket 0
        self.accounts = {}
        self.decisions = []  # oldest first
        self.history = []  # oldest first
        self.exempt = ["newsletter@example.com", "*@lists.example.com"]
        rnd = random.Random(42)

        def ordinary(name, peak, ips, ratio):
            hourly = []
            for i in range(HOURS):
                hour = ((self.hour0 + i * 3600) // 3600) % 24
                day = ((self.hour0 + i * 3600) // 86400 + 3) % 7  # 0 = Monday
                base = peak if 8 <= hour < 18 and day < 5 else peak * 0.08
                hourly.append(max(0, int(rnd.gauss(base, base * 0.35 + 0.5))))
            self.accounts[name] = {"account": name, "state": "ok", "lock": None, "throttle": None,
                                   "recent_ips": ips, "hourly": hourly, "ratio": ratio}
            return self.accounts[name]

        ordinary("john.smith@example.com", 9, ["192.0.2.10"], 3.0)
        ordinary("maria.garcia@example.com", 14, ["192.0.2.23", "203.0.113.40"], 2.2)
        ordinary("support@example.com", 30, ["192.0.2.5"], 1.4)
        ordinary("li.wei@example.com", 5, ["198.51.100.200"], 1.8)
        ordinary("o'brien+test@example.com", 3, ["192.0.2.77"], 1.0)

        # A hijacked account: ordinary for a week, then a burst from new networks, warned,
        # throttled, locked.
        victim = ordinary("isabella.morris@example.com", 6,
                          ["111.70.51.164", "23.252.102.189", "39.53.149.170", "192.0.2.44"], 2.5)
        h = victim["hourly"]
        burst = [40, 95, 160, 121]
        for k, v in enumerate(burst):
            h[HOURS - len(burst) - 1 + k] = v
        h[HOURS - 1] = 0
        t_warn = self.hour0 + (HOURS - 5) * 3600 + 1310
        t_thr = self.hour0 + (HOURS - 4) * 3600 + 2200
        t_lock = self.hour0 + (HOURS - 2) * 3600 + 1553
        common = {"scope": "account", "class": "any", "event_class": "external",
                  "client_name": "unknown", "sender": "isabella.morris@example.com",
                  "service": "postfix/submission", "novel_network": True,
                  "signals": {"novel_network": 30, "unknown_client": 10}}
        self.add_decision(dict(common, ts=rfc3339(t_warn), account=victim["account"], action="warn",
                               rule="novel_rcpt_warn", metric="recipients", window=3600, limit=30,
                               count=31, client_ip="111.70.51.164", client_ips=["111.70.51.164"],
                               queue_id="4XbQ2k0F1Mz8", total_messages=820, total_recipients=1290))
        self.add_decision(dict(common, ts=rfc3339(t_thr), account=victim["account"], action="throttle",
                               rule="novel_rcpt_throttle", metric="recipients", window=3600, limit=80,
                               count=81, client_ip="23.252.102.189",
                               client_ips=["111.70.51.164", "23.252.102.189"],
                               until=rfc3339(t_thr + 1800),
                               queue_id="A1B2C3D4E5F", total_messages=846, total_recipients=1420))
        self.add_decision(dict(common, ts=rfc3339(t_lock), account=victim["account"], action="lock",
                               rule="novel_rcpt_lock", metric="recipients", window=3600, limit=120,
                               count=121, client_ip="39.53.149.170",
                               client_ips=["111.70.51.164", "23.252.102.189", "39.53.149.170"],
                               queue_id="D5C5F10C40C", total_messages=871, total_recipients=1611))
        victim["state"] = "locked"
        victim["lock"] = {"since": rfc3339(t_lock), "until": None, "rule": "novel_rcpt_lock",
                          "reason": "", "count": 121, "limit": 120, "window": 3600,
                          "client_ips": ["111.70.51.164", "23.252.102.189", "39.53.149.170"]}
        self.add_history(t_lock, victim["account"], "lock", "engine", "", "novel_rcpt_lock")

        # A throttled account (throttle still running) and an older, automatically lifted lock.
        maria = self.accounts["maria.garcia@example.com"]
        t_m = now - 900
        maria["state"] = "throttled"
        maria["throttle"] = {"since": rfc3339(t_m), "until": rfc3339(t_m + 3600),
                             "rule": "rcpt_burst_throttle"}
        maria["hourly"][HOURS - 1] += 70
        self.add_decision({"ts": rfc3339(t_m), "account": maria["account"], "action": "throttle",
                           "rule": "rcpt_burst_throttle", "scope": "account", "metric": "recipients",
                           "window": 900, "limit": 60, "count": 61, "class": "internal",
                           "event_class": "internal", "client_ip": "192.0.2.23",
                           "client_name": "pc-23.office.example.com", "until": rfc3339(t_m + 3600),
                           "queue_id": "9F8E7D6C5B4", "sender": maria["account"],
                           "service": "postfix/submission", "total_messages": 301,
                           "total_recipients": 655})
        john = self.accounts["john.smith@example.com"]
        t_j = self.hour0 + 60 * 3600 + 700
        self.add_decision({"ts": rfc3339(t_j), "account": john["account"], "action": "lock",
                           "rule": "rcpt_500_30m", "scope": "account", "metric": "recipients",
                           "window": 1800, "limit": 500, "count": 501, "class": "any",
                           "event_class": "external", "client_ip": "45.155.205.9",
                           "client_name": "unknown", "client_ips": ["45.155.205.9"],
                           "sender": john["account"], "service": "postfix/submission"})
        self.add_history(t_j, john["account"], "lock", "engine", "", "rcpt_500_30m")
        self.add_decision({"ts": rfc3339(t_j + 7200), "account": john["account"], "action": "unlock",
                           "rule": "", "reason": "password reset, customer called"})
        self.add_history(t_j + 7200, john["account"], "unlock", "uid 0",
                         "password reset, customer called", "")
        john["hourly"][60] += 501
        # An open-relay decision (scope ip: the "account" is the client address).
        self.add_decision({"ts": rfc3339(now - 5400), "account": "203.0.113.99", "action": "relay",
                           "rule": "open_relay", "scope": "ip", "client_ip": "203.0.113.99",
                           "client_ips": ["203.0.113.99"], "count": 1, "limit": 0, "window": 60})
        self.decisions.sort(key=lambda d: parse_rfc3339(d["ts"]))

    def add_decision(self, d):
        first = {k: d[k] for k in ("ts", "account", "action", "rule") if k in d}
        self.decisions.append(dict(first, **{k: v for k, v in d.items() if k not in first}))

    def add_history(self, t, account, action, actor, reason, rule):
        self.history.append({"ts": rfc3339(t), "account": account, "action": action,
                             "actor": actor, "reason": reason, "rule": rule})

    # ---- API operations (called with self.mu held) ----

    def status(self, role):
        now = time.time()
        return {"version": VERSION, "started": rfc3339(self.started),
                "uptime": int(now - self.started), "store": "mock:memory",
                "listeners": {"policy": "127.0.0.1:10099", "http": "127.0.0.1:%d" % PORT,
                              "control": "/var/lib/hijackd/control.sock"},
                "accounts": len(self.accounts),
                "locked": sum(1 for a in self.accounts.values() if a["state"] == "locked"),
                "throttled": sum(1 for a in self.accounts.values() if a["state"] == "throttled"),
                "role": role}

    def locked(self):
        rows = [dict(a["lock"], account=a["account"]) for a in self.accounts.values()
                if a["state"] == "locked"]
        rows.sort(key=lambda r: r["since"], reverse=True)
        return {"locked": [{"account": r["account"], "since": r["since"], "until": r["until"],
                            "rule": r["rule"], "reason": r["reason"], "count": r.get("count"),
                            "limit": r.get("limit"), "window": r.get("window"),
                            "client_ips": r.get("client_ips", [])} for r in rows]}

    def top(self, window):
        n = max(1, math.ceil(window / 3600))
        rows = []
        for a in self.accounts.values():
            rcpt = sum(a["hourly"][-n:])
            if rcpt:
                rows.append({"account": a["account"], "messages": max(1, round(rcpt / a["ratio"])),
                             "recipients": rcpt, "state": a["state"]})
        rows.sort(key=lambda r: (-r["recipients"], r["account"]))
        return {"window": window, "top": rows[:20]}

    def decision_list(self, limit, account):
        out = []
        for d in reversed(self.decisions):
            if account is not None and d["account"] != account:
                continue
            out.append(d)
            if len(out) >= limit:
                break
        return {"decisions": out}

    def account(self, name):
        a = self.get(name)
        lock = a["lock"]
        return {"account": a["account"], "state": a["state"],
                "lock": None if lock is None else {k: lock[k] for k in ("since", "until", "rule",
                                                                        "reason")},
                "throttle": a["throttle"], "recent_ips": a["recent_ips"],
                "hourly": {"start": rfc3339(self.hour0), "step": 3600,
                           "recipients": list(a["hourly"])},
                "decisions": self.decision_list(50, a["account"])["decisions"]}

    def get(self, name):
        a = self.accounts.get(name)
        if a is None:
            raise ApiError(404, "unknown account: %s" % name)
        return a

    def lock(self, name, reason):
        now = time.time()
        a = self.accounts.get(name)
        if a is None:  # locking an account never seen is allowed (pre-emptive lock)
            a = {"account": name, "state": "ok", "lock": None, "throttle": None, "recent_ips": [],
                 "hourly": [0] * HOURS, "ratio": 1.0}
            self.accounts[name] = a
        if a["state"] == "locked":
            raise ApiError(409, "account already locked: %s" % name)
        a["state"] = "locked"
        a["throttle"] = None
        a["lock"] = {"since": rfc3339(now), "until": None, "rule": "manual", "reason": reason,
                     "count": None, "limit": None, "window": None, "client_ips": a["recent_ips"][:4]}
        self.add_decision({"ts": rfc3339(now), "account": name, "action": "lock", "rule": "manual",
                           "reason": reason, "scope": "account"})
        self.add_history(now, name, "lock", "api", reason, "manual")
        return {"ok": True, "account": name, "state": "locked"}

    def unlock(self, name, reason):
        now = time.time()
        a = self.get(name)
        if a["state"] != "locked":
            raise ApiError(409, "account not locked: %s" % name)
        a["state"] = "ok"
        a["lock"] = None
        self.add_decision({"ts": rfc3339(now), "account": name, "action": "unlock", "rule": "",
                           "reason": reason, "scope": "account"})
        self.add_history(now, name, "unlock", "api", reason, "")
        return {"ok": True, "account": name, "state": "ok"}

    def exempt_op(self, op, pattern):
        if op == "add":
            if pattern in self.exempt:
                raise ApiError(409, "already exempt: %s" % pattern)
            self.exempt.append(pattern)
        elif op == "del":
            if pattern not in self.exempt:
                raise ApiError(404, "not exempt: %s" % pattern)
            self.exempt.remove(pattern)
        else:
            raise ApiError(400, 'op must be "add" or "del"')
        return {"ok": True, "exempt": list(self.exempt)}

    def history_list(self, account, since):
        out = [h for h in reversed(self.history)
               if (account is None or h["account"] == account)
               and (since is None or parse_rfc3339(h["ts"]) >= since)]
        return {"history": out}


STATE = None
PORT = 0
TOKEN = ""
READ_TOKEN = ""
WEBDIR = ""


def int_arg(q, name, default, lo, hi):
    v = q.get(name, [None])[-1]
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        raise ApiError(400, "%s: not an integer" % name)
    if not lo <= n <= hi:
        raise ApiError(400, "%s: out of range %d..%d" % (name, lo, hi))
    return n


class Handler(BaseHTTPRequestHandler):
    server_version = "hijackd-mock"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if os.environ.get("MOCKAPI_VERBOSE"):
            sys.stderr.write("mockapi: " + (fmt % args) + "\n")

    def send_json(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        self.body_read = False
        if url.path == "/api" or url.path.startswith("/api/"):
            try:
                self.api(url)
            except ApiError as e:
                extra = [("WWW-Authenticate", 'Bearer realm="hijackd"')] if e.status == 401 else []
                if self.command not in ("GET", "HEAD") and not self.body_read:
                    self.close_connection = True  # an unread body would be taken for a request
                self.send_json(e.status, {"error": e.text}, extra)
            return
        if self.command not in ("GET", "HEAD"):
            self.send_json(405, {"error": "method not allowed"}, [("Allow", "GET, HEAD")])
            return
        self.static(url.path)

    def static(self, path):
        path = urllib.parse.unquote(path)
        if path.endswith("/"):
            path += "index.html"
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") or p.startswith(".") or "\\" in p for p in parts):
            self.send_error(404)
            return
        full = os.path.join(WEBDIR, *parts)
        if not os.path.isfile(full):
            self.send_error(404)
            return
        with open(full, "rb") as f:
            body = f.read()
        ext = os.path.splitext(full)[1].lower()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES.get(ext, "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def role(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise ApiError(401, "missing bearer token")
        tok = auth[len("Bearer "):].strip().encode()
        if hmac.compare_digest(tok, TOKEN.encode()):
            return "admin"
        if hmac.compare_digest(tok, READ_TOKEN.encode()):
            return "read"
        raise ApiError(401, "invalid token")

    def drain(self):
        """Reads and drops a request body, or closes the connection if it cannot."""
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if 0 <= n <= MAX_BODY:
            self.rfile.read(n)
            self.body_read = True
        else:
            self.close_connection = True

    def body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            raise ApiError(400, "missing Content-Length")
        try:
            n = int(n)
        except ValueError:
            raise ApiError(400, "bad Content-Length")
        if n > MAX_BODY:
            raise ApiError(413, "request body too large")
        raw = self.rfile.read(n)
        self.body_read = True
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "bad JSON")
        if not isinstance(obj, dict):
            raise ApiError(400, "expected a JSON object")
        return obj

    def api(self, url):
        method = "GET" if self.command == "HEAD" else self.command
        path = url.path
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        role = self.role()
        if method == "POST":
            if role != "admin":
                self.drain()
                raise ApiError(403, "read-only token")
            obj = self.body()
            with STATE.mu:
                if path in ("/api/lock", "/api/unlock"):
                    acct = obj.get("account")
                    reason = obj.get("reason", "")
                    if not isinstance(acct, str) or not acct.strip() or len(acct) > 320:
                        raise ApiError(400, "account: expected a non-empty string")
                    if not isinstance(reason, str) or len(reason) > 1000:
                        raise ApiError(400, "reason: expected a string")
                    acct = acct.strip()
                    fn = STATE.lock if path == "/api/lock" else STATE.unlock
                    self.send_json(200, fn(acct, reason))
                    return
                if path == "/api/exempt":
                    pattern = obj.get("pattern")
                    if not isinstance(pattern, str) or not pattern.strip():
                        raise ApiError(400, "pattern: expected a non-empty string")
                    self.send_json(200, STATE.exempt_op(obj.get("op"), pattern.strip()))
                    return
            raise ApiError(404, "no such endpoint: POST %s" % path)
        if method != "GET":
            raise ApiError(405, "method not allowed")
        with STATE.mu:
            if path == "/api/status":
                res = STATE.status(role)
            elif path == "/api/locked":
                res = STATE.locked()
            elif path == "/api/top":
                res = STATE.top(int_arg(q, "window", 3600, 60, HOURS * 3600))
            elif path == "/api/decisions":
                acct = q.get("account", [None])[-1]
                res = STATE.decision_list(int_arg(q, "limit", 50, 1, 1000), acct)
            elif path.startswith("/api/account/"):
                name = urllib.parse.unquote(path[len("/api/account/"):])
                if not name:
                    raise ApiError(400, "missing account")
                res = STATE.account(name)
            elif path == "/api/exempt":
                res = {"exempt": list(STATE.exempt)}
            elif path == "/api/history":
                since = q.get("since", [None])[-1]
                if since is not None:
                    try:
                        since = parse_rfc3339(since)
                    except ValueError:
                        raise ApiError(400, "since: expected an RFC 3339 time")
                res = STATE.history_list(q.get("account", [None])[-1], since)
            else:
                raise ApiError(404, "no such endpoint: %s" % path)
        self.send_json(200, res)


def main():
    global STATE, PORT, TOKEN, READ_TOKEN, WEBDIR
    if len(sys.argv) not in (4, 5):
        sys.stderr.write("usage: mockapi.py PORT TOKEN WEBDIR [READ_TOKEN]\n")
        return 2
    PORT = int(sys.argv[1])
    TOKEN = sys.argv[2]
    WEBDIR = os.path.abspath(sys.argv[3])
    READ_TOKEN = sys.argv[4] if len(sys.argv) == 5 else "read-" + TOKEN
    if not TOKEN or not os.path.isdir(WEBDIR):
        sys.stderr.write("mockapi: empty token or no such directory: %s\n" % WEBDIR)
        return 2
    STATE = State()
    httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    httpd.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    print("mockapi: listening on http://127.0.0.1:%d/ (web %s)" % (PORT, WEBDIR), flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
