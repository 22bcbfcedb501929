#!/usr/bin/env python3
"""check_equiv.py OURS.jsonl NAIVE.jsonl - same first lock per account, to the second, and no lock only one side has.

OURS is `hijackd replay --json -c examples/mdaemon.conf`, NAIVE the output of
../shared/eval/naive_baseline.py on the same log. Timestamps are compared as wall clock
(the naive baseline prints syslog times as UTC; ISO times are compared as instants).
"""
import datetime as dt
import json
import sys


def when(ts):
    d = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return d.timestamp()


def first_locks(path):
    out = {}
    for line in open(path):
        d = json.loads(line)
        if d["action"] == "lock" and d["account"] not in out:
            out[d["account"]] = when(d["ts"])
    return out


ours, naive = first_locks(sys.argv[1]), first_locks(sys.argv[2])
bad = 0
for acct in sorted(set(ours) | set(naive)):
    if acct not in ours or acct not in naive:
        print("not ok lock for %s only in %s" % (acct, "ours" if acct in ours else "naive"))
        bad += 1
    elif ours[acct] != naive[acct]:
        print("not ok %s: %+.0f s from the baseline" % (acct, ours[acct] - naive[acct]))
        bad += 1
    else:
        print("ok    %s: first lock %+.0f s from the baseline" % (acct, ours[acct] - naive[acct]))
sys.exit(1 if bad or not naive else 0)
