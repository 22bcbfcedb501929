#!/usr/bin/env python3
"""scan_test.py BUILD - black-box tests of the scanner client (src/scan/) against real engines.

Starts a real rspamd (system rules, no Redis, DBDIR kept in /var/tmp/hijackd-rspamd so a second
run starts warm) and a real spamd (SpamAssassin, -L) on 127.0.0.1 free ports, and fake scanners
(Python threads) that send garbage, huge replies, or nothing; drives BUILD/scan_probe (one
scan_client on a libevent loop, one JSON line per verdict) against them. Prints a TAP plan, then
"ok" / "not ok" lines; a group that dies reports "not ok" for each check it did not reach. The
groups that need an engine that is not installed are skipped (scripts/deps.sh test installs
them). Every process started is stopped by its PID (its process group), also on failure.
Exit status = number of failures.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import free_port, report, run_group, skip  # noqa: E402

B = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
PROBE = os.path.join(B, "scan_probe")
FX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "scan")
GTUBE, ORDINARY = os.path.join(FX, "gtube.eml"), os.path.join(FX, "ordinary.eml")
RSPAMD_DIR = os.environ.get("HJ_RSPAMD_DIR", "/var/tmp/hijackd-rspamd")
PROCS = []  # Popen objects, each the leader of its own process group


def probe(spec, *args, files=(GTUBE,), timeout=60):
    """scan_probe's verdict lines, breaker lines and summary, parsed"""
    out = subprocess.run([PROBE] + list(args) + [spec] + list(files), capture_output=True,
                         timeout=timeout, text=True)
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    verdicts = [x for x in lines if "verdict" in x]
    breaker = [x for x in lines if "breaker" in x]
    summary = ([x for x in lines if "summary" in x] or [{}])[0]
    return verdicts, breaker, summary


def stop(p):
    """the process group led by p: TERM, then KILL after 10 s"""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGCONT)
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def wait_for(fn, secs):
    deadline = time.time() + secs
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return False


def rspamd_argv(port):
    """write a private rspamd's config for port (DBDIR kept): its command line"""
    for d in ("db", "run", "log", "local/local.d"):
        os.makedirs(os.path.join(RSPAMD_DIR, d), exist_ok=True)
    with open(os.path.join(RSPAMD_DIR, "test.conf"), "w") as f:
        f.write('.include "$CONFDIR/common.conf"\n'
                'options { pidfile = "$RUNDIR/rspamd.pid"; .include "$CONFDIR/options.inc"\n'
                '  .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc" }\n'
                'logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }\n'
                'worker "normal" { bind_socket = "127.0.0.1:%d"; .include "$CONFDIR/worker-normal.inc"; '
                'count = 1; }\n' % port)
    with open(os.path.join(RSPAMD_DIR, "local/local.d/options.inc"), "w") as f:
        f.write('dns { nameserver = ["127.0.0.1:53"]; timeout = 0.3s; retransmits = 1; }\n')
    argv = ["rspamd", "-f", "-c", os.path.join(RSPAMD_DIR, "test.conf")]
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "_rspamd:_rspamd", RSPAMD_DIR], check=True)
        argv += ["-u", "_rspamd", "-g", "_rspamd"]
    argv += ["--var=LOCAL_CONFDIR=%s/local" % RSPAMD_DIR, "--var=DBDIR=%s/db" % RSPAMD_DIR,
             "--var=RUNDIR=%s/run" % RSPAMD_DIR, "--var=LOGDIR=%s/log" % RSPAMD_DIR]
    return argv


def start_rspamd():
    """a private rspamd on a free port (its config rewritten each time, DBDIR kept): (Popen, port)"""
    port = free_port()
    argv = rspamd_argv(port)
    p = subprocess.Popen(argv, stdout=open(os.path.join(RSPAMD_DIR, "log/stdout.log"), "a"),
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    PROCS.append(p)

    def up():
        try:
            return urllib.request.urlopen("http://127.0.0.1:%d/ping" % port, timeout=1).read()
        except OSError:
            return False
    if not wait_for(up, 90):
        raise RuntimeError("rspamd did not answer /ping on port %d within 90 s" % port)
    return p, port


def start_spamd():
    port = free_port()
    argv = ["spamd", "--listen=127.0.0.1:%d" % port, "--allowed-ips=127.0.0.1", "-x",
            "--syslog=stderr", "--max-children=2", "--min-children=1", "-L"]
    if os.getuid() == 0:
        argv[1:1] = ["-u", "nobody", "-g", "nogroup"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    PROCS.append(p)
    ping = ["spamc", "-d", "127.0.0.1", "-p", str(port), "-K"]
    if not wait_for(lambda: subprocess.run(ping, capture_output=True).returncode == 0, 60):
        raise RuntimeError("spamd did not answer PING on port %d within 60 s" % port)
    return p, port


class Fake:
    """a fake scanner on a free port: each connection gets reply(n) (bytes, a generator of bytes,
    or None to stall until closed), n counting from 0; accepts counts the connections"""

    def __init__(self, reply):
        self.reply, self.accepts, self.done = reply, 0, False
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.port = self.s.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.done:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            n, self.accepts = self.accepts, self.accepts + 1
            threading.Thread(target=self.one, args=(c, n), daemon=True).start()

    def one(self, c, n):
        try:
            c.settimeout(30)
            c.recv(65536)
            r = self.reply(n)
            if r is None:
                c.recv(65536)  # stall: until the client drops us
            elif isinstance(r, bytes):
                c.sendall(r)
            else:
                for chunk in r:
                    c.sendall(chunk)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.done = True
        self.s.close()


def rspamd_ok():
    body = b'{"score":0.5,"required_score":15.0,"action":"no action","symbols":{"A":{"score":0.5}}}'
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def huge():
    yield b"HTTP/1.1 200 OK\r\n\r\n"
    for _ in range(640):  # 10 MiB of JSON-looking bytes without an end
        yield b'{"a":' * 3277


# -- the groups ------------------------------------------------------------------------------

def test_rspamd_real(st):
    v, _, _ = probe("rspamd:http://127.0.0.1:%d" % st["rspamd"][1], "-t", "10000",
                    files=(GTUBE, ORDINARY))
    v = sorted(v, key=lambda x: x.get("file", -1))  # by file: they finish in either order
    g = v[0] if v else {}
    report(g.get("class") == "spam" and g.get("action") == "reject" and "GTUBE" in g.get("symbols", []),
           "rspamd: GTUBE is spam, action reject, symbol GTUBE (%s)" % g)
    o = v[1] if len(v) > 1 else {}
    report(o.get("class") == "clean" and o.get("action") == "no action",
           "rspamd: the ordinary message is clean, no action (score %s of %s)"
           % (o.get("score"), o.get("threshold")))
    for name, f, ip in (("GTUBE", GTUBE, []), ("ordinary", ORDINARY, []),
                        ("ordinary without IP", ORDINARY, ["-I", ""])):
        v, _, _ = probe("rspamd:http://127.0.0.1:%d" % st["rspamd"][1], "-t", "10000", "-n", "20",
                        *ip, files=(f,))
        ms = sorted(x["ms"] for x in v)
        st["latency"]["rspamd " + name] = ms
        report(len(v) == 20 and all(x["class"] != "unscanned" for x in v),
               "rspamd: 20 scans of %s one after another, all scanned: median %.1f ms, max %.1f ms"
               % (name, statistics.median(ms) if ms else -1, ms[-1] if ms else -1))


def test_spamd_real(st):
    v, _, _ = probe("spamd:127.0.0.1:%d" % st["spamd"][1], "-t", "20000", files=(GTUBE, ORDINARY))
    v = sorted(v, key=lambda x: x.get("file", -1))  # by file: they finish in either order
    g = v[0] if v else {}
    report(g.get("class") == "spam" and "GTUBE" in g.get("symbols", []) and g.get("score", 0) >= 1000,
           "spamd: GTUBE is spam (Spam: True), symbol GTUBE, score %s / %s" % (g.get("score"), g.get("threshold")))
    o = v[1] if len(v) > 1 else {}
    report(o.get("class") == "clean", "spamd: the ordinary message is clean (score %s / %s)"
           % (o.get("score"), o.get("threshold")))
    for name, f in (("GTUBE", GTUBE), ("ordinary", ORDINARY)):
        v, _, _ = probe("spamd:127.0.0.1:%d" % st["spamd"][1], "-t", "20000", "-n", "20", files=(f,))
        ms = sorted(x["ms"] for x in v)
        st["latency"]["spamd " + name] = ms
        report(len(v) == 20 and all(x["class"] != "unscanned" for x in v),
               "spamd: 20 scans of %s one after another, all scanned: median %.1f ms, max %.1f ms"
               % (name, statistics.median(ms) if ms else -1, ms[-1] if ms else -1))


def test_frozen(st):
    """SIGSTOP on the whole rspamd: a timeout within the timeout, the loop turning meanwhile"""
    p, port = st["rspamd"]
    os.killpg(p.pid, signal.SIGSTOP)
    try:
        v, _, s = probe("rspamd:http://127.0.0.1:%d" % port, "-t", "1000", "-T", "50")
    finally:
        os.killpg(p.pid, signal.SIGCONT)
    g = v[0] if v else {}
    report(g.get("reason") == "timeout" and 950 <= g.get("ms", 0) < 1500,
           "rspamd frozen (SIGSTOP): unscanned \"timeout\" after %s ms (timeout 1000 ms)" % g.get("ms"))
    report(g.get("ticks", 0) >= 15, "  ... and the loop kept turning: %s ticks of a 50 ms timer "
           "while waiting" % g.get("ticks"))
    v, _, _ = probe("rspamd:http://127.0.0.1:%d" % port, "-t", "10000")
    report(v and v[0]["class"] == "spam", "rspamd thawed (SIGCONT): GTUBE is spam again")


def test_killed(st):
    """rspamd killed: refused, then the breaker opens after 3 and skips the scanner"""
    p, port = st["rspamd"]
    stop(p)
    v, b, _ = probe("rspamd:http://127.0.0.1:%d" % port, "-k", "3", "-b", "60000", "-n", "6", "-d", "20")
    reasons = [x["reason"] for x in v]
    report(reasons[:3] == ["refused"] * 3, "rspamd killed: the first 3 scans unscanned \"refused\" (%s)"
           % reasons[:3])
    report([x["breaker"] for x in b] == ["open"] and b[0]["why"] == "refused",
           "  ... then the breaker opens, one change reported (%s)" % b)
    report(reasons[3:] == ["breaker open"] * 3 and all(x["ms"] < 5 for x in v[3:]),
           "  ... and the next 3 are not tried: \"breaker open\" at once (%s)"
           % [x["ms"] for x in v[3:]])


def test_breaker_recovers(st):
    """3 bad replies open it; after 300 ms one probe; a good reply closes it"""
    f = Fake(lambda n: b"garbage\r\n\r\n" if n < 3 else rspamd_ok())
    try:
        v, b, _ = probe("rspamd:http://127.0.0.1:%d" % f.port, "-k", "3", "-b", "300", "-n", "16",
                        "-d", "60")
    finally:
        f.close()
    reasons = [x["reason"] for x in v]
    changes = [x["breaker"] for x in b]
    report(reasons[:3] == ["bad reply"] * 3 and "breaker open" in reasons,
           "a scanner that sends garbage 3 times: \"bad reply\", then \"breaker open\" (%s)" % reasons)
    report(changes == ["open", "half-open", "closed"],
           "  ... after 300 ms one probe (half-open), its verdict closes the breaker (%s)" % changes)
    report(reasons[-1] == "scanned" and f.accepts == reasons.count("bad reply") + reasons.count("scanned"),
           "  ... the scanner saw only the scans tried: %d connections" % f.accepts)


def test_oversize(st):
    f = Fake(lambda n: rspamd_ok())
    try:
        v, _, _ = probe("rspamd:http://127.0.0.1:%d" % f.port, "-m", "100", files=(ORDINARY,))
        time.sleep(0.2)
    finally:
        f.close()
    g = v[0] if v else {}
    report(g.get("reason") == "too big" and f.accepts == 0,
           "a message over the size limit (684 > 100 bytes): unscanned \"too big\", never sent "
           "(%d connections)" % f.accepts)


def test_busy(st):
    f = Fake(lambda n: None)
    try:
        v, _, _ = probe("rspamd:http://127.0.0.1:%d" % f.port, "-i", "2", "-c", "5", "-t", "500")
    finally:
        f.close()
    reasons = sorted(x["reason"] for x in v)
    report(reasons == ["busy"] * 3 + ["timeout"] * 2,
           "5 at once with 2 in flight allowed (a scanner that never answers): 3 \"busy\", "
           "2 \"timeout\" (%s)" % reasons)


def test_hostile(st):
    cases = (
        ("garbage", "rspamd", lambda n: b"\x00\xff garbage \x1b[31m\r\n\r\n{{{{", "bad reply", "not an HTTP reply"),
        ("HTTP 500", "rspamd", lambda n: b"HTTP/1.1 500 Internal\r\nContent-Length: 2\r\n\r\n{}", "bad reply", "HTTP 500"),
        ("closed at once", "rspamd", lambda n: b"", "bad reply", "closed without a reply"),
        ("10 MiB reply", "rspamd", lambda n: huge(), "bad reply", "reply too big"),
        ("spamd garbage", "spamd", lambda n: b"SPAMD/1.1 0 EX_OK\r\nSpam: Perhaps\r\n\r\n", "bad reply", "bad Spam: header"),
        ("spamd 10 MiB", "spamd", lambda n: huge(), "bad reply", "reply too big"),
    )
    for name, kind, reply, reason, detail in cases:
        f = Fake(reply)
        spec = ("rspamd:http://127.0.0.1:%d" if kind == "rspamd" else "spamd:127.0.0.1:%d") % f.port
        try:
            v, _, s = probe(spec, "-t", "5000")
        finally:
            f.close()
        g = v[0] if v else {}
        report(g.get("reason") == reason and g.get("detail") == detail and s.get("maxrss_kb", 1e9) < 32768,
               "a fake scanner, %s: unscanned \"%s\" (%s), peak RSS %s KB (< 32 MB)" % (name, reason, g.get("detail"),
                                                                             s.get("maxrss_kb")))


def test_free_pending(st):
    f = Fake(lambda n: None)
    try:
        v, _, s = probe("rspamd:http://127.0.0.1:%d" % f.port, "-c", "3", "-t", "5000", "-q", "200")
    finally:
        f.close()
    report(len(v) == 3 and all(x["reason"] == "shutdown" for x in v) and s.get("verdicts") == 3,
           "the client freed with 3 scans in flight: each callback once, \"shutdown\" (%s)"
           % [x["reason"] for x in v])


ENGINE_GROUPS = ((test_rspamd_real, 5, "rspamd"), (test_spamd_real, 4, "spamd"),
                 (test_frozen, 3, "rspamd"), (test_killed, 3, "rspamd"))
GROUPS = ENGINE_GROUPS + ((test_breaker_recovers, 3, None), (test_oversize, 1, None),
                          (test_busy, 1, None), (test_hostile, 6, None), (test_free_pending, 1, None))


def main():
    plan = sum(n for _, n, _ in GROUPS)
    tap.plan(plan)
    st = {"latency": {}}
    try:
        for t, n, engine in GROUPS:
            if engine and not shutil.which(engine):
                for k in range(n):
                    skip("%s: check %d of %d" % (t.__name__, k + 1, n), "%s is not installed" % engine)
                continue
            if engine and engine not in st:
                try:
                    st[engine] = start_rspamd() if engine == "rspamd" else start_spamd()
                except Exception as e:  # the group reports its checks as failed
                    st[engine] = None
                    print("# cannot start %s: %s" % (engine, e), flush=True)
            if engine and st[engine] is None:
                run_group(t.__name__, n, lambda s: (_ for _ in ()).throw(RuntimeError("no " + engine)), st)
                continue
            run_group(t.__name__, n, t, st)
        for k, ms in sorted(st["latency"].items()):
            if ms:
                print("# latency %s: median %.1f ms, p90 %.1f ms, max %.1f ms (n=%d)"
                      % (k, statistics.median(ms), ms[int(len(ms) * 0.9) - 1], ms[-1], len(ms)))
    finally:
        for p in PROCS:
            stop(p)
    sys.exit(tap.finish(plan))


if __name__ == "__main__" and sys.argv[1:2] == ["--exec-rspamd"]:
    os.execvp("rspamd", rspamd_argv(int(sys.argv[2])))  # tests/e2e_spam.sh: rspamd in the foreground
elif __name__ == "__main__":
    main()
