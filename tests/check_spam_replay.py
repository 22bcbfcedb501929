#!/usr/bin/env python3
"""check_spam_replay.py DECISIONS.jsonl STATS.json SERVICE SPAM_REJECTS VERDICTS_BAD

Checks the replay of tests/fixtures/replay/spam-*.log (a real Postfix 3.7 log of tests/e2e_spam.sh
with hijackd's own "spam verdict" lines put back where syslog has them): alice warned at her first
spam and locked by spam_lock_1h at the 3rd message (queue ID D3750A74097, not earlier: each queue
ID counts once whether hijackd's line, Postfix's milter-reject or a repeated line tells it), the
lock's evidence naming SERVICE and rspamd's score; bob (clean) never judged; the stats' counts.
Prints what differs; exit 0 when all hold."""
import json
import sys

dec = [json.loads(ln) for ln in open(sys.argv[1]) if ln.strip()]
st = json.load(open(sys.argv[2]))
service, rejects, bad = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
want = [("warn", "spam_warn", "97CD6A7435F"), ("lock", "spam_lock_1h", "D3750A74097")]
got = [(d["action"], d["rule"], d.get("queue_id")) for d in dec]
errs = []
if got != want:
    errs.append("decisions %r, want %r" % (got, want))
lock = dec[-1] if dec else {}
c = lock.get("content", {})
if lock.get("service") != service or c.get("verdict") != "spam" or c.get("score") != 15.0 \
        or "GTUBE" not in c.get("symbols", ""):
    errs.append("the lock's evidence: service %r content %r" % (lock.get("service"), c))
if st.get("spam_rejects") != rejects or st.get("verdicts_bad") != bad or st.get("submissions") != 4:
    errs.append("stats spam_rejects %r verdicts_bad %r submissions %r, want %d %d 4"
                % (st.get("spam_rejects"), st.get("verdicts_bad"), st.get("submissions"), rejects, bad))
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
