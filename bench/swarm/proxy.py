#!/usr/bin/env python3
"""A counting proxy for the Docker Engine API on a unix socket.

  proxy.py UPSTREAM_SOCK LISTEN_SOCK LOG

Forwards every connection on LISTEN_SOCK to UPSTREAM_SOCK byte for byte
(keep-alive, chunked answers and the long-lived /events stream included)
and appends one line per HTTP request the client sends to LOG:

  EPOCH_SECONDS METHOD PATH

PATH without the "/vX.Y" version prefix, query string kept. Requests are
found by parsing the client's side of the stream (headers, then a body of
Content-Length bytes or chunked), so a request is logged when it is sent,
whatever the answer. Runs until killed.
"""
import os
import re
import socket
import sys
import threading
import time

VERSION = re.compile(r"^/v[0-9]+\.[0-9]+(?=/)")
LOCK = threading.Lock()


class Requests:
    """Incremental parser of the requests in one client->engine stream."""

    def __init__(self, log):
        self.buf = b""
        self.body = 0        # body bytes still to skip (Content-Length)
        self.chunked = False  # inside a chunked request body
        self.log = log

    def feed(self, data):
        self.buf += data
        while self.step():
            pass

    def step(self):
        if self.body:
            n = min(self.body, len(self.buf))
            self.buf, self.body = self.buf[n:], self.body - n
            return bool(self.buf) and not self.body
        if self.chunked:
            return self.chunk()
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) >= 2:
            path = VERSION.sub("", parts[1])
            with LOCK:
                self.log.write(f"{time.time():.6f} {parts[0]} {path}\n")
                self.log.flush()
        for h in lines[1:]:
            k, _, v = h.partition(":")
            k, v = k.strip().lower(), v.strip().lower()
            if k == "content-length" and v.isdigit():
                self.body = int(v)
            elif k == "transfer-encoding" and "chunked" in v:
                self.chunked = True
        return True

    def chunk(self):
        end = self.buf.find(b"\r\n")
        if end < 0:
            return False
        size = int(self.buf[:end].split(b";")[0] or b"0", 16)
        if size == 0:  # last chunk, no trailers expected from these clients
            if len(self.buf) < end + 4:
                return False
            self.buf, self.chunked = self.buf[end + 4:], False
            return True
        if len(self.buf) < end + 2 + size + 2:
            return False
        self.buf = self.buf[end + 2 + size + 2:]
        return True


def pump(src, dst, parser=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if parser:
                parser.feed(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, upstream, log):
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        up.connect(upstream)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pump, args=(up, client), daemon=True)
    t.start()
    pump(client, up, Requests(log))
    t.join(timeout=600)
    client.close()
    up.close()


def main(argv):
    upstream, listen, logpath = argv[1:4]
    log = open(logpath, "a", encoding="ascii")
    if os.path.exists(listen):
        os.unlink(listen)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen)
    srv.listen(256)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, upstream, log), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
