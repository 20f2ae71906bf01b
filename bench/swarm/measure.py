#!/usr/bin/env python3
"""Convergence of one dnsfollow configuration on a real Swarm.

  measure.py SOCK DNS_PORT NAME SERVICE MOVES DOCKER [JITTER_S]

For each move: drain the node running SERVICE's task (docker CLI), then
sample every 10 ms (a) the engine's task list, for the moment a new task
runs on another node, and (b) the DNS server on 127.0.0.1:DNS_PORT, for
the moment it answers NAME's A query with that node's address. Prints one
line per move and a final "RESULT median_ms max_ms" line for b - a. The
drained node is made active again after each move, so moves go back and
forth. Each drain waits a random 0..JITTER_S seconds first, so that moves
do not fall in step with a polling configuration's resync cadence.
Every wait is bounded.
"""
import http.client
import json
import random
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.parse


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def get(sock, path):
    c = UnixHTTP(sock)
    try:
        c.request("GET", "/v1.41" + path)
        r = c.getresponse()
        return json.loads(r.read())
    finally:
        c.close()


def running_nodes(sock, service):
    f = urllib.parse.quote(json.dumps({"service": [service]}))
    tasks = get(sock, "/tasks?filters=" + f)
    return {t.get("NodeID") for t in tasks
            if t.get("DesiredState") == "running"
            and t.get("Status", {}).get("State") == "running"}


def skip_name(msg, off):
    """Offset just past the (possibly compressed) name at off."""
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        if n == 0:
            return off + 1
        off += 1 + n


def dns_a(port, name, qid=[0]):
    """Sorted A records of name as the server on 127.0.0.1:port answers
    them (one UDP query, 1 s timeout), or None when it does not answer."""
    qid[0] = (qid[0] + 1) & 0xFFFF
    q = struct.pack(">HHHHHH", qid[0], 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    try:
        s.sendto(q, ("127.0.0.1", port))
        msg, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()
    rid, flags, qd, an = struct.unpack(">HHHH", msg[:8])
    if rid != qid[0] or flags & 0xF:
        return [] if rid == qid[0] else None
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    out = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return sorted(out)


def main(argv):
    sock, port, name, service, moves, docker = argv[1:7]
    port, moves = int(port), int(moves)
    jitter = float(argv[7]) if len(argv) > 7 else 0.0
    nodes = {n["ID"]: n for n in get(sock, "/nodes")}
    addr = {i: n["Status"]["Addr"] for i, n in nodes.items()}
    dk = [docker, "-H", "unix://" + sock]
    deltas = []
    for m in range(moves):
        deadline = time.monotonic() + 90
        while True:  # wait until the previous move settled everywhere
            cur = running_nodes(sock, service)
            if len(cur) == 1 and dns_a(port, name) == [addr[next(iter(cur))]]:
                break
            if time.monotonic() > deadline:
                print(f"move {m + 1}: did not settle before the move", flush=True)
                return 1
            time.sleep(0.05)
        old = next(iter(cur))
        time.sleep(random.uniform(0, jitter))
        subprocess.run(dk + ["node", "update", "--availability", "drain", old],
                       check=True, stdout=subprocess.DEVNULL, timeout=60)
        t0 = time.monotonic()
        a = b = None
        new = None
        while time.monotonic() - t0 < 150 and (a is None or b is None):
            now = time.monotonic()
            if a is None:
                run = running_nodes(sock, service) - {old}
                if run:
                    new, a = next(iter(run)), now
            if b is None and new is not None and dns_a(port, name) == [addr[new]]:
                b = time.monotonic()
            time.sleep(0.01)
        subprocess.run(dk + ["node", "update", "--availability", "active", old],
                       check=True, stdout=subprocess.DEVNULL, timeout=60)
        if a is None or b is None:
            print(f"move {m + 1}: no convergence within 150 s", flush=True)
            return 1
        d = (b - a) * 1000
        deltas.append(d)
        print(f"move {m + 1}: task running {a - t0:6.2f} s after the drain, "
              f"DNS answer {d:8.0f} ms later", flush=True)
    print(f"RESULT {statistics.median(deltas):.0f} {max(deltas):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
