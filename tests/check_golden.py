#!/usr/bin/env python3
"""check_golden.py PREDICT GOT - the decisions' key fields are the ones gen.py predicted.

PREDICT is tests/golden/NAME.predict (written by gen.py from the scenario's own parameters), GOT the
output of `hijackd replay --json`. Each decision's (ts, account, action, rule, count) must be
predicted, and each prediction made: extra and missing decisions are both failures. Decisions at
the same time may come in any order. Prints what differs; exit 1 on any difference or bad input.
"""
import json
import sys

KEYS = ("ts", "account", "action", "rule", "count")


def keyed(path):
    out = []
    for n, line in enumerate(open(path), 1):
        try:
            d = json.loads(line)
        except ValueError as e:
            sys.exit("%s:%d: not JSON: %s" % (path, n, e))
        out.append(tuple(d.get(k) for k in KEYS))
    return sorted(out, key=lambda t: tuple("" if v is None else str(v) for v in t))


want, got = keyed(sys.argv[1]), keyed(sys.argv[2])
for t in want:
    if t not in got:
        print("predicted, not decided: %s" % dict(zip(KEYS, t)))
for t in got:
    if t not in want:
        print("decided, not predicted: %s" % dict(zip(KEYS, t)))
if not want:
    print("%s predicts no decision: a scenario must predict at least one" % sys.argv[1])
sys.exit(0 if want == got and want else 1)
