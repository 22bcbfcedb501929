#!/usr/bin/env python3
"""policy_latency.py PORT ACCOUNTS MESSAGES - how long policy answers take while accounts get locked.

Sends, over one connection, MESSAGES end-of-message requests for each of ACCOUNTS fresh accounts
(storm-N@example.test, 10 recipients each, from one outside address), so that each account is
locked along the way (each lock is an incident: an alert and a webhook POST). Prints one JSON
line: {"requests":N,"rejects":N,"locks":N,"p50_ms":..,"p99_ms":..,"max_ms":..,
"lock_p50_ms":..,"lock_max_ms":..}: "rejects" counts every REJECT answer, "locks" the first REJECT of
each account (the answer that locked it, whose incident is spooled), and lock_* time those answers.
"""
import json
import socket
import sys
import time


def pick(lat, q):
    """the q quantile of lat (seconds) in ms; q=1 is the maximum; None when lat is empty"""
    if not lat:
        return None
    lat = sorted(lat)
    return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3)


def main():
    port, accounts, messages = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    tag = sys.argv[4] if len(sys.argv) > 4 else "storm"
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    lat, lock_lat, rejected, rejects = [], [], set(), 0
    for m in range(messages):
        for a in range(accounts):
            req = ("request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\nprotocol_name=ESMTP\n"
                   "sasl_method=LOGIN\nsasl_username=%s-%d@example.test\nclient_address=198.51.100.%d\n"
                   "client_name=unknown\nsender=%s-%d@example.test\nrecipient_count=10\nsize=%d\n"
                   "queue_id=\n\n" % (tag, a, 1 + a % 250, tag, a, 2000 + m))
            t0 = time.perf_counter()
            s.sendall(req.encode())
            line = f.readline()
            f.readline()
            dt = time.perf_counter() - t0
            lat.append(dt)
            if line.startswith(b"action=REJECT"):
                rejects += 1
                if a not in rejected:
                    rejected.add(a)
                    lock_lat.append(dt)
    print(json.dumps({"requests": len(lat), "rejects": rejects, "locks": len(lock_lat),
                      "p50_ms": pick(lat, 0.5), "p99_ms": pick(lat, 0.99), "max_ms": pick(lat, 1),
                      "lock_p50_ms": pick(lock_lat, 0.5), "lock_max_ms": pick(lock_lat, 1)}))


if __name__ == "__main__":
    main()
