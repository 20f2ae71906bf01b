#!/usr/bin/env python3
"""A small HTTP(S) server for the core's HTTP helper tests.

  httpd.py [--unix PATH] [--tls CERT KEY]

Listens on 127.0.0.1 (a free port) or a unix socket, prints "READY PORT"
on stdout, and serves until stdin closes (so it dies with its test):
  GET  /ok      200 "hello" with header X-Test: yes
  POST|PUT /echo  200 "METHOD BODY"
  GET  /status/N  answers with status N
  GET  /big     2 MiB of 'x'
  GET  /slow    waits 3 s, then 200
  GET  /stream  one line every 50 ms, 100 lines at most (chunked)
"""
import http.server
import os
import socketserver
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "test"

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/ok":
            self.reply(200, b"hello", [("X-Test", "yes")])
        elif p.startswith("/status/"):
            self.reply(int(p.split("/")[2]), b'{"message":"as asked"}')
        elif p == "/big":
            self.reply(200, b"x" * (2 << 20))
        elif p == "/slow":
            time.sleep(3)
            self.reply(200, b"late")
        elif p == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(100):
                    line = b'{"n": %d}\n' % i
                    # Split lines across chunks on purpose.
                    for part in (line[:3], line[3:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.flush()
                    time.sleep(0.05)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.reply(404, b"no such path")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.reply(200, self.command.encode() + b" " + body)

    do_PUT = do_POST


class Quiet:
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hanging up on purpose (timeouts, cancels)


class TCPServer(Quiet, socketserver.ThreadingMixIn, http.server.HTTPServer):
    pass


class UnixServer(Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    pass


def main(argv):
    if "--unix" in argv:
        path = argv[argv.index("--unix") + 1]
        if os.path.exists(path):
            os.unlink(path)
        srv = UnixServer(path, Handler)
        port = 0
    else:
        srv = TCPServer(("127.0.0.1", 0), Handler)
        port = srv.server_address[1]
    if "--tls" in argv:
        i = argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(argv[i + 1], argv[i + 2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("READY %d" % port, flush=True)
    sys.stdin.read()  # until the test closes our stdin or dies


if __name__ == "__main__":
    main(sys.argv)
