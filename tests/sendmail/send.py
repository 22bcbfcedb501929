#!/usr/bin/env python3
"""send.py PORT FROM TO [USER PASSWORD [SOURCE_IP]] - one SMTP transaction to 127.0.0.1:PORT.

Python smtplib, AUTH PLAIN when USER is given (not empty), from SOURCE_IP when given (e.g. 127.0.0.2:
Sendmail lets any client on 127.0.0.1 relay without AUTH, not one on 127.0.0.2). Prints one JSON
line: the reply code and text of each step it reached ("auth", "mail", "rcpt", "data"), and
"queue_id" (the id in Sendmail's 250 after DATA). Exit status 0 when the message was accepted,
1 when a step was refused, 2 on a connection error. SEND_BODY=TEXT in the environment: the body
(default "hello"; newlines become CRLF). Used by tests/sendmail/selftest.sh, tests/e2e_sendmail.sh,
tests/e2e_sendmail_spam.sh (a GTUBE body).
"""
import json
import os
import re
import smtplib
import sys


def step(out, name, fn):
    code, text = fn()
    out[name] = [code, text.decode("utf-8", "replace")]
    return code


def main():
    port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    user = sys.argv[4] if len(sys.argv) > 4 else ""
    password = sys.argv[5] if len(sys.argv) > 5 else ""
    source = (sys.argv[6], 0) if len(sys.argv) > 6 and sys.argv[6] else None
    out = {}
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20, source_address=source)
        s.ehlo("client.example.test")
        if user:
            try:
                # AUTH PLAIN only (smtplib's login() would try LOGIN after a refused PLAIN)
                s.user, s.password = user, password
                code, text = s.auth("PLAIN", s.auth_plain, initial_response_ok=True)
                out["auth"] = [code, text.decode("utf-8", "replace")]
            except smtplib.SMTPAuthenticationError as e:
                out["auth"] = [e.smtp_code, e.smtp_error.decode("utf-8", "replace")]
                print(json.dumps(out))
                return 1
        text = os.environ.get("SEND_BODY", "hello").replace("\r\n", "\n").replace("\n", "\r\n")
        body = ("From: %s\r\nTo: %s\r\nSubject: tests/sendmail\r\n\r\n%s\r\n" % (sender, rcpt, text)).encode()
        ok = step(out, "mail", lambda: s.mail(sender)) == 250
        ok = ok and step(out, "rcpt", lambda: s.rcpt(rcpt)) in (250, 251)
        ok = ok and step(out, "data", lambda: s.data(body)) == 250
        if ok:
            m = re.search(r"\b([0-9A-Za-z]{14}) Message accepted", out["data"][1])
            out["queue_id"] = m.group(1) if m else ""
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    except (OSError, smtplib.SMTPException) as e:
        out["error"] = repr(e)
        print(json.dumps(out))
        return 2
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
