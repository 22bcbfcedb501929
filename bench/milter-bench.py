#!/usr/bin/env python3
"""milter-bench.py [HIJACKD] - messages/s through hijackd's milter, and the policy p99 meanwhile.

One hijackd per mode on 127.0.0.1 free ports (built-in configuration, no alerts), and PROCS
(4) client processes, each one milter connection that sends authenticated messages (3
recipients outside the account's domain, a 2 KB body) for SECS (5) seconds, as Postfix's
milter8 would (OPTNEG offering what Postfix 3.7 offers, macros, CONNECT from 10.9.0.N (a private
address: rspamd skips its DNS blocklists, which on a machine without DNS wait for their timeout),
HELO, MAIL, RCPT x3,
DATA, headers, body, end of message; a reply read only where hijackd asked for one). Modes:
  no-scanner   the milter alone (counting, RCPT checks)
  stub         spam_scanner = a stub rspamd in this script (answers "no action" at once)
  rspamd       a real rspamd (tests/scan_test.py's recipe: DBDIR /var/tmp/hijackd-rspamd),
               skipped when rspamd is not installed
In each mode ../shared/bench/policybench (-c 1, 1 s runs) measures the policy service's p99
while the milter load runs. Prints one line per mode; numbers go to docs/PERFORMANCE.md.
"""
import http.server
import json
import multiprocessing
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HJ = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/hijackd"))
SHARED = os.environ.get("SHARED", os.path.join(ROOT, "..", "shared"))
PROCS = int(os.environ.get("PROCS", "4"))
SECS = float(os.environ.get("SECS", "5"))
BODY = (b"Hello,\r\n" + b"This is an ordinary message of some length. " * 45 + b"\r\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def client(port, idx, secs, q):
    """one MTA connection sending messages for secs: the number of messages ended"""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as milter8: no Nagle wait

    def send(cmd, data=b""):
        s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def recv():
        n, = struct.unpack(">I", recvn(s, 4))
        return recvn(s, n)
    send(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))
    proto = struct.unpack(">III", recv()[1:13])[2]
    nr = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000, b"T": 0x10000, b"L": 0x80,
          b"N": 0x40000, b"B": 0x80000}

    def ask(cmd, data=b""):
        send(cmd, data)
        if not (cmd in nr and proto & nr[cmd]):
            recv()
    ask(b"C", b"pc\0" + b"4" + struct.pack(">H", 1000) + b"10.9.0.%d\0" % (idx + 1))
    ask(b"H", b"pc.example.test\0")
    n, t_end = 0, time.time() + secs
    while time.time() < t_end:
        acct = b"user%d-%d@example.test" % (idx, n % 50)
        send(b"D", b"M{auth_authen}\0" + acct + b"\0")
        ask(b"M", b"<" + acct + b">\0")
        for r in range(3):
            ask(b"R", b"<r%d@remote%d.example>\0" % (r, n % 7))
        send(b"D", b"Ti\0%X\0" % (0x10000000 + idx * 10000000 + n))
        ask(b"T")
        ask(b"L", b"Subject\0bench\0")
        ask(b"N")
        ask(b"B", BODY)
        send(b"D", b"Ei\0%X\0" % (0x10000000 + idx * 10000000 + n))
        send(b"E")
        while recv()[:1] not in (b"c", b"a", b"y", b"r", b"t"):
            pass
        n += 1
    send(b"Q")
    s.close()
    q.put(n)


class Stub:
    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                r = json.dumps({"action": "no action", "score": 0.1, "required_score": 15,
                                "symbols": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(r)))
                self.end_headers()
                self.wfile.write(r)

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


def rspamd_start():
    """tests/scan_test.py's recipe (DBDIR kept warm in /var/tmp/hijackd-rspamd): (stop, port)"""
    if not shutil.which("rspamd"):
        return None, None
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    argv, sys.argv = sys.argv, [sys.argv[0], os.path.join(ROOT, "build")]
    import scan_test  # noqa: E402
    sys.argv = argv
    p, port = scan_test.start_rspamd()
    return (lambda: scan_test.stop(p)), port


def run_mode(name, scanner, work, policybench):
    mport, pport = free_port(), free_port()
    state = tempfile.mkdtemp(prefix="hj-mbench.", dir=work)
    args = [HJ, "-f", "-o", "state_dir=" + state, "-o", "policy_listen=127.0.0.1:%d" % pport,
            "-o", "milter_listen=127.0.0.1:%d" % mport, "-o", "http_listen=", "-o", "alert_to=",
            "-o", "log_follow="]
    if scanner:
        args += ["-o", "spam_scanner=" + scanner]
    log = open(os.path.join(state, "log"), "w")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", mport)).close()
            break
        except OSError:
            time.sleep(0.05)
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(mport, i, SECS, q)) for i in range(PROCS)]
    for c in procs:
        c.start()
    time.sleep(0.5)
    pb = subprocess.run([policybench, "-p", str(pport), "-c", "1", "-d", str(int(SECS - 1)), "-u", "100"],
                        capture_output=True, text=True).stdout
    msgs = sum(q.get(timeout=SECS + 30) for _ in procs)
    for c in procs:
        c.join()
    p.terminate()
    p.wait()
    p99 = [w for w in pb.split() if w.startswith("p99=")]
    p50 = [w for w in pb.split() if w.startswith("p50=")]
    print("%-12s %8.0f msgs/s  (%d in %.0f s, %d connections)  policy meanwhile: %s %s"
          % (name, msgs / SECS, msgs, SECS, PROCS, p50[0] if p50 else "?", p99[0] if p99 else "?"),
          flush=True)


def main():
    work = tempfile.mkdtemp(prefix="hj-mbench.")
    policybench = os.path.join(work, "policybench")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", policybench,
                    os.path.join(SHARED, "bench", "policybench.c"), "-lm"], check=True)
    stub = Stub()
    rs, rport = None, None
    try:
        run_mode("no-scanner", None, work, policybench)
        run_mode("stub", "rspamd:http://127.0.0.1:%d" % stub.port, work, policybench)
        rs, rport = rspamd_start()
        if rs:
            run_mode("rspamd", "rspamd:http://127.0.0.1:%d" % rport, work, policybench)
        else:
            print("rspamd       skipped (not installed)")
    finally:
        stub.stop()
        if rs:
            rs()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
