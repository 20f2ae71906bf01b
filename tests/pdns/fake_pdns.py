#!/usr/bin/env python3
"""A scripted stand-in for the PowerDNS HTTP API, for fault tests.

  fake_pdns.py DIR

Listens on 127.0.0.1 (a free port), prints "READY PORT", serves until
stdin closes. Every request is appended to DIR/requests.log as one JSON
line {"method", "path", "key", "body"}. The answer comes from
DIR/answer.GET or DIR/answer.PATCH (re-read each time): a first line
"STATUS", header lines "Name: value", an empty line, then the body. No
file: GET answers an empty zone, PATCH 204.
"""
import http.server
import json
import os
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with open(os.path.join(DIR, "requests.log"), "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "key": self.headers.get("X-API-Key"),
                                "body": body}) + "\n")
        status, headers, out = 200, [], b'{"name": "example.test.", "rrsets": []}'
        if self.command == "PATCH":
            status, out = 204, b""
        path = os.path.join(DIR, "answer." + self.command)
        if os.path.exists(path):
            with open(path, "rb") as f:
                head, _, out = f.read().partition(b"\n\n")
            lines = head.decode().split("\n")
            status = int(lines[0])
            headers = [tuple(x.split(": ", 1)) for x in lines[1:] if x]
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PATCH = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


DIR = sys.argv[1]
srv = Server(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print("READY %d" % srv.server_address[1], flush=True)
sys.stdin.read()
srv.shutdown()
