#!/usr/bin/env python3
"""exporter_test.py HIJACKD - rspamd's metadata_exporter pushing its verdicts to hijackd, live.

The path of sites that already run rspamd as their milter (docs/SCANNING.md): a real rspamd 3.4
(tests/scan_test.py's recipe, its own DBDIR /var/tmp/hijackd-rspamd-exporter) with two local
rules, a multimap content rule that scores a marker string 50 (GTUBE short-circuits rspamd's
scan, and then metadata_exporter never runs) and metadata_exporter's HTTP backend pointed at
hijackd's POST /api/verdict with HTTP Basic credentials (spam_exporter_auth). The messages go to
rspamd's /checkv2 as its milter would hand them over (User, Queue-Id, IP, From, Rcpt): alice's
three marked messages are each judged reject and exported; hijackd counts them with the built-in
rules and locks her at the 3rd (spam_lock_1h, the decision naming rspamd, its score and the
marker's symbol); the policy service then refuses her at RCPT; bob's clean message is not
exported (the selector sends spam only). hijackd scans nothing itself (no spam_scanner).
TAP output; exit status = number of failures. Every process it starts is stopped.
"""
import json
import os
import shutil
import sys
import time
import urllib.request

os.environ.setdefault("HJ_RSPAMD_DIR", "/var/tmp/hijackd-rspamd-exporter")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
from tap import free_port, report, skip  # noqa: E402
import daemon_test  # noqa: E402
from daemon_test import Daemon, request  # noqa: E402
import scan_test  # noqa: E402

MARKER = "HIJACKD-EXPORTER-TEST-SPAM-MARKER"
SECRET = "rspamd:exporter-test-secret"
CHECKS = 6


def local_rules(http_port):
    """rspamd's local.d: the marker rule and the exporter to hijackd"""
    d = os.path.join(scan_test.RSPAMD_DIR, "local", "local.d")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hijackd-marker.map"), "w") as f:
        f.write("/%s/\n" % MARKER)
    with open(os.path.join(d, "multimap.conf"), "w") as f:
        f.write('HIJACKD_TEST_MARKER { type = "content"; filter = "text"; regexp = true;\n'
                '  map = "%s/hijackd-marker.map"; score = 50.0; }\n' % d)
    user, password = SECRET.split(":", 1)
    with open(os.path.join(d, "metadata_exporter.conf"), "w") as f:
        f.write('rules { HIJACKD { backend = "http"; url = "http://127.0.0.1:%d/api/verdict";\n'
                '  selector = "is_spam_authed"; formatter = "json";\n'
                '  user = "%s"; password = "%s"; } }\n' % (http_port, user, password))


def check(rport, user, qid, body, rcpt="r@remote.example"):
    """rspamd's /checkv2 as its milter would ask: the action"""
    msg = ("From: %s\r\nTo: %s\r\nSubject: exporter test %s\r\nMessage-ID: <%s@example.test>\r\n"
           "\r\n%s\r\n" % (user, rcpt, qid, qid, body)).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/checkv2" % rport, data=msg, headers={
        "User": user, "Queue-Id": qid, "IP": "10.9.0.5", "From": user, "Rcpt": rcpt,
        "Helo": "pc.example.test"})
    return json.loads(urllib.request.urlopen(req, timeout=30).read()).get("action")


def wait_log(d, needle, secs=15):
    for _ in range(int(secs * 10)):
        if needle in d.text():
            return True
        time.sleep(0.1)
    return False


def test_exporter_live():
    hport = free_port()
    local_rules(hport)
    d = Daemon("http_listen=127.0.0.1:%d" % hport, "spam_exporter_auth=" + SECRET)
    p, rport = scan_test.start_rspamd()
    try:
        acts = [check(rport, "alice@example.test", "EXP0000%d" % i,
                      "buy now %s number %d" % (MARKER, i)) for i in range(3)]
        report(acts == ["reject"] * 3, "rspamd judges alice's 3 marked messages reject (%r)" % (acts,))
        got = wait_log(d, '"rule":"spam_lock_1h"')
        log = d.text()
        n = log.count('spam verdict {"class":"spam"')
        report(got and n == 3, "its metadata_exporter POSTs each to hijackd: 3 verdicts, the lock at the 3rd (%d)" % n)
        lock = [ln for ln in log.splitlines() if '"action":"lock"' in ln]
        report(lock and '"service":"rspamd"' in lock[0] and '"queue_id":"EXP00002"' in lock[0]
               and "HIJACKD_TEST_MARKER" in lock[0] and '"subject":"exporter test EXP00002"' in lock[0],
               "the lock's evidence: rspamd, the 3rd queue ID, the marker's symbol, the subject (%s)"
               % (lock[0][-240:] if lock else "no lock"))
        s = d.connect()
        pol = request(s, sasl_username="alice@example.test", protocol_state="RCPT")
        s.close()
        report(pol.startswith("action=REJECT 5.7.1"), "the policy service refuses alice at RCPT (%s)" % pol[:40])
        act = check(rport, "bob@example.test", "EXP00010", "see you tomorrow")
        time.sleep(1)
        report(act in ("no action", "greylist") and '"account":"bob@example.test"' not in d.text(),
               "bob's clean message (%s) is not exported: nothing about him" % act)
        m = daemon_test.metrics(hport)
        scans = sum(v for k, v in m.items() if k.startswith("hijackd_scans_total"))
        report(m.get('hijackd_spam_verdicts_total{class="spam"}') == 3 and scans == 0,
               "hijackd scanned nothing itself: 3 spam verdicts, all from rspamd, 0 scans (%r, %d)"
               % (m.get('hijackd_spam_verdicts_total{class="spam"}'), scans))
    finally:
        scan_test.stop(p)
        d.stop()


def main():
    if not shutil.which("rspamd"):
        tap.plan(CHECKS)
        for k in range(CHECKS):
            skip("test_exporter_live: check %d of %d" % (k + 1, CHECKS), "rspamd is not installed")
        sys.exit(0)
    tap.main(((test_exporter_live, CHECKS),), daemon_test.PROCS + scan_test.PROCS)


if __name__ == "__main__":
    main()
