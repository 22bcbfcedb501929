#!/usr/bin/env python3
"""audit-bench.py BUILD [ROWS] [--check] - admin reads of a large audit trail against the policy path.

Fills a fresh SQLite store (state_dir/hijackd.db, created by the daemon) with ROWS (300000) audit
rows spread over the last ROWS * 10 seconds (inside the default audit_keep of 90d), starts
BUILD/hijackd on free loopback ports with the HTTP API, and measures, in one run:
  decisions: GET /api/decisions?limit=50, 5 times (min, median, max in ms);
  history:   GET /api/history (every account's, newest 500), 5 times;
  policy:    a client thread that sends one END-OF-MESSAGE request at a time, on one connection,
             for as long as the reads above run: its requests and its worst and median latency (ms)
             while the reads run (the daemon has one event loop: a read that holds the loop
             delays every policy answer by as long).
With --check, exits 1 unless each decisions and history read took < 300 ms and no policy answer
took longer than 200 ms (the suite runs it so, with 300000 rows: before the newest-first reads
with a LIMIT, a decisions read took seconds and so did the policy answer behind it).
Prints one line per figure. Stops what it starts; removes its work folder.
"""
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import tap  # noqa: E402

B = os.path.abspath(sys.argv[1])
ROWS = int(next((a for a in sys.argv[2:] if a.isdigit()), "300000"))
CHECK = "--check" in sys.argv
TOKEN = "read-token-0123456789abcdef"
ACTIONS = ("warn", "warn", "warn", "throttle", "lock", "unlock")


def start(state):
    ports = {}

    def argv():
        ports["policy"], ports["http"] = tap.free_port(), tap.free_port()
        return [os.path.join(B, "hijackd"), "-f", "-o", "state_dir=" + state,
                "-o", "policy_listen=127.0.0.1:%d" % ports["policy"],
                "-o", "http_listen=127.0.0.1:%d" % ports["http"], "-o", "log_follow=",
                "-o", "http_token_read=" + TOKEN, "-o", "alert_to="]
    p = tap.spawn(argv, os.path.join(state, "daemon.log"))
    return p, ports


def stop(p):
    if p.poll() is None:
        p.terminate()
        p.wait(30)


def fill(db, rows):
    now = int(time.time())
    con = sqlite3.connect(db)

    def gen():
        for i in range(rows):
            acct = "u%d@example.org" % (i % 5000)
            act = ACTIONS[i % len(ACTIONS)]
            d = {"ts": now - 10 * (rows - i), "account": acct, "action": act, "rule": "bench",
                 "reason": "bench row %d: a warning for an invented name" % i, "count": i % 97,
                 "limit": 100, "client_ips": ["192.0.2.%d" % (i % 250)]}
            yield (now - 10 * (rows - i), acct, act, "bench", "hijackd", json.dumps(d))
    con.executemany("INSERT INTO audit(t, account, action, rule, actor, json)"
                    " VALUES (?, ?, ?, ?, ?, ?)", gen())
    con.commit()
    con.close()


def get(http, path):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http, path))
    req.add_header("Authorization", "Bearer " + TOKEN)
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=120) as r:
        body = r.read()
    return (time.monotonic() - t0) * 1000, json.loads(body)


class PolicyClient(threading.Thread):
    """one request at a time until stopped; the latencies in ms"""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.lat, self.stopped = port, [], threading.Event()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=120)
        i = 0
        while not self.stopped.is_set():
            req = ("request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                   "client_address=198.51.100.7\nsasl_method=PLAIN\nsasl_username=probe%d@example.org\n"
                   "sender=probe@example.org\nrecipient_count=1\nsize=1000\nqueue_id=QB%05X\n\n"
                   % (i % 50, i))
            t0 = time.monotonic()
            s.sendall(req.encode())
            buf = b""
            while not buf.endswith(b"\n\n"):
                c = s.recv(4096)
                if not c:
                    return
                buf += c
            self.lat.append((time.monotonic() - t0) * 1000)
            i += 1
            time.sleep(0.002)
        s.close()


def timed(http, path, n=5):
    ms, body = [], None
    for _ in range(n):
        t, body = get(http, path)
        ms.append(t)
    return ms, body


def main():
    w = tempfile.mkdtemp(prefix="hijackd-abench.")
    state = os.path.join(w, "state")
    os.mkdir(state, 0o700)
    p, _ = start(state)  # creates the schema
    stop(p)
    t0 = time.monotonic()
    fill(os.path.join(state, "hijackd.db"), ROWS)
    print("filled:    %d audit rows in %.1f s" % (ROWS, time.monotonic() - t0))
    p, ports = start(state)
    bad = 0
    try:
        pc = PolicyClient(ports["policy"])
        pc.start()
        time.sleep(0.3)
        before = len(pc.lat)
        dec, body = timed(ports["http"], "/api/decisions?limit=50")
        hist, hbody = timed(ports["http"], "/api/history")
        during = pc.lat[before:]
        pc.stopped.set()
        pc.join(10)
        n = len(body.get("decisions", []))
        newest = body["decisions"][0].get("reason", "") if n else ""
        print("decisions: %d entries (newest: %s), ms min %.1f median %.1f max %.1f"
              % (n, newest, min(dec), statistics.median(dec), max(dec)))
        print("history:   %d entries, ms min %.1f median %.1f max %.1f"
              % (len(hbody.get("history", [])), min(hist), statistics.median(hist), max(hist)))
        print("policy:    %d requests during the reads, ms median %.2f max %.1f"
              % (len(during), statistics.median(during) if during else -1,
                 max(during) if during else -1))
        if CHECK:
            bad += max(dec) >= 300 or max(hist) >= 300 or not during or max(during) >= 200
            bad += n != 50 or newest != "bench row %d: a warning for an invented name" % (ROWS - 1)
    finally:
        stop(p)
        subprocess.run(["rm", "-rf", w])
    if CHECK:
        print("check:     %s" % ("ok" if not bad else "FAILED (decisions and history < 300 ms, "
                                 "policy < 200 ms, the newest 50 decisions first)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
