"""tap.py - the check lines of the suite's Python scripts, shared (see tests/README.md)

    import tap
    tap.plan(n)                      # "1..n", first
    tap.report(good, what)           # "ok      what" / "not ok  what"
    tap.skip(what, why)              # "ok - what # SKIP why": counted as skipped by run.sh
    tap.run_group(name, n, fn, *a)   # fn's n checks; an exception, or fewer checks than n, is
                                     # a "not ok" for each one missing
    tap.finish(n)                    # a failure if the script printed other than n checks;
                                     # the number of failures (for the exit status)

The counters are this module's: one script, one plan. Not thread-safe beyond print()'s own
atomicity; a check run in a thread reports from the main thread.
"""
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
