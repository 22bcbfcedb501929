#!/usr/bin/env python3
"""check_fixture.py STATS.json EXPECTED.txt - compare `hijackd replay --stats` with a fixture manifest.

EXPECTED.txt is written by fixtures/postfix37/make-fixture.sh from the traffic it sent to a real
Postfix. Prints one line per check ("ok ..." / "not ok ...") and exits with the number of failures.
postmaster@ is never counted by the engine (by design), so its per-account submission and
recipient lines are checked against the reader's total instead.
"""
import json
import sys

stats = json.load(open(sys.argv[1]))
exp = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if parts:
        exp[tuple(parts[:-1])] = int(parts[-1])
acc = stats["accounts"]
checks = []


def check(what, got, want):
    checks.append((got == want, "%s: got %s, want %s" % (what, got, want)))


check("authenticated submissions", stats["submissions"], exp[("submissions_authenticated",)])
check("failed logins", stats["login_failures"], exp[("login_failures",)])
check("deliveries (sent+bounced+deferred)", stats["deliveries"],
      exp[("delivered_sent",)] + exp[("bounced",)] + exp[("deferred",)])
check("rejects", stats["rejects"], exp[("rejects",)])
check("relayed without AUTH, outside to outside", stats["relayed"], exp[("relayed_unauth_outside",)])
check("bounces attributed to accounts", sum(a["bounces"] for a in acc.values()), exp[("bounced",)])
check("lines not understood", stats["unknown"], 0)
check("garbled lines", stats["garbled"], 0)
never = 0
for key, n in exp.items():
    if key[0] in ("submissions", "recipients") and len(key) == 2:
        if key[1].startswith("postmaster@"):
            never += n if key[0] == "submissions" else 0
            continue
        field = "messages" if key[0] == "submissions" else "recipients"
        check("%s %s" % (key[0], key[1]), acc.get(key[1], {}).get(field, 0), n)
    elif key[0] == "login_failures_user":
        check("failed logins of %s" % key[1], acc.get(key[1], {}).get("failed_logins", 0), n)
check("postmaster submissions not counted", stats["never_counted"] >= never, True)
bad = 0
for good, text in checks:
    print(("ok    " if good else "not ok ") + text)
    bad += not good
sys.exit(bad)
