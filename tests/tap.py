"""tap.py - the check lines of the suite's Python scripts, shared (see tests/README.md)

    import tap
    tap.plan(n)                      # "1..n", first
    tap.report(good, what)           # "ok      what" / "not ok  what"
    tap.skip(what, why)              # "ok - what # SKIP why": counted as skipped by run.sh
    tap.run_group(name, n, fn, *a)   # fn's n checks; an exception, or fewer checks than n, is
                                     # a "not ok" for each one missing
    tap.finish(n)                    # a failure if the script printed other than n checks;
                                     # the number of failures (for the exit status)
    tap.main(groups, procs)          # plan, run_group for each (fn, n), stop procs, exit
    p = tap.spawn(argv_fn, log)      # start a daemon, wait for its "started:" line
    r = tap.as_user(uid, fn)         # fn() in a child dropped to uid: its JSON result
    port = tap.free_port()           # a loopback TCP port free now (spawn retries if it is taken)

The counters are this module's: one script, one plan. Not thread-safe beyond print()'s own
atomicity; a check run in a thread reports from the main thread.
"""
import sys

FAILS = PASSES = PRINTED = 0


def plan(n):
    print("1..%d" % n, flush=True)


def report(good, what):
    global FAILS, PASSES, PRINTED
    print(("ok      " if good else "not ok  ") + what, flush=True)
    PRINTED += 1
    if good:
        PASSES += 1
    else:
        FAILS += 1


def skip(what, why):
    """a check that could not run: TAP's skip, never a pass"""
    global PRINTED
    print("ok - %s # SKIP %s" % (what, why), flush=True)
    PRINTED += 1


def run_group(name, n, fn, *args):
    """fn's checks; an exception, or fewer checks than n, is a "not ok" for each one missing"""
    start = PRINTED
    try:
        fn(*args)
    except Exception as e:  # a broken check is a failure of its group, not the end of the run
        report(False, "%s: %r" % (name, e))
    for k in range(PRINTED - start, n):
        report(False, "%s: check %d of %d not reached" % (name, k + 1, n))
    if PRINTED - start > n:
        print("# %s printed %d checks, planned %d" % (name, PRINTED - start, n), flush=True)


def finish(n):
    """the failures, counting one more when the checks printed are not the plan's n"""
    global FAILS
    if PRINTED != n:
        print("# %d checks printed, %d planned" % (PRINTED, n), flush=True)
        FAILS += 1
    return FAILS


def main(groups, procs):
    """the plan, each group's checks, every process in procs stopped; exit with the failures"""
    n = sum(k for _, k in groups)
    plan(n)
    try:
        for t, k in groups:
            run_group(t.__name__, k, t)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    sys.exit(finish(n))


def free_port():
    """a loopback TCP port free now: argv_fn picks its ports with it, spawn retries if taken"""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def spawn(argv_fn, log, tries=3, wait=30.0):
    """Start a daemon and wait for its "started:" line in log (appended to): the Popen.

    argv_fn() gives the argv, with fresh ports, for each try: a port picked free can be taken
    by another process before the daemon binds it, and the daemon then exits with "cannot
    listen"; that is retried. A daemon that is slow to start on a loaded machine is waited for
    (wait seconds); one that exits for another reason is returned as it is, for the checks."""
    import os
    import subprocess
    import time
    for attempt in range(tries):
        start = os.path.getsize(log) if os.path.exists(log) else 0
        p = subprocess.Popen(argv_fn(), stdout=open(log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + wait
        while time.time() < deadline:
            text = open(log, errors="replace").read()[start:]
            if "started:" in text or p.poll() is not None:
                break
            time.sleep(0.05)
        if p.poll() is None or "cannot listen" not in text or attempt == tries - 1:
            return p
        p.wait()
    return p


def as_user(uid, fn):
    """fn() in a child process that has dropped to uid (and gid uid): its result (JSON), or None"""
    import json
    import os
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    out = b""
    while True:
        c = os.read(r, 65536)
        if not c:
            break
        out += c
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(out) if out else None
