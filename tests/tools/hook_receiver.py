#!/usr/bin/env python3
"""hook_receiver.py MODE PORTFILE OUT - a local webhook receiver for the tests (127.0.0.1 only).

  MODE ok    answer every POST with 200 and append {"path":..., "headers":..., "body":...} as one
             JSON line to OUT
  MODE dead  listen, never accept: connections hang in the backlog (a dead receiver)
Writes the port it got to PORTFILE, then runs until killed.
"""
import http.server
import json
import socket
import sys
import time


def main():
    mode, portfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "dead":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1000)
        open(portfile, "w").write(str(s.getsockname()[1]))
        while True:
            time.sleep(3600)

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace")
            with open(out, "a") as f:
                f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    open(portfile, "w").write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
