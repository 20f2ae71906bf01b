#!/usr/bin/env python3
"""Convergence of one dnsfollow configuration on a real Swarm.

  measure.py SOCK STATE ZONE NAME SERVICE MOVES DOCKER [JITTER_S]

For each move: drain the node running SERVICE's task (docker CLI), then
sample every 10 ms (a) the engine's task list, for the moment a new task
runs on another node, and (b) the mock provider's state file, for the
moment NAME's A record holds that node's address. Prints one line per move
and a final "RESULT median_ms max_ms" line for b - a. The drained node is
made active again after each move, so moves go back and forth. Each drain
waits a random 0..JITTER_S seconds first, so that moves do not fall in step
with a polling configuration's resync cadence.
"""
import http.client
import json
import random
import socket
import statistics
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


def record(state, zone, name):
    try:
        with open(state) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    rr = doc.get("zones", {}).get(zone, {}).get("rrsets", {}).get(name, {}).get("A")
    return sorted(rr["rdata"]) if rr else None


def main(argv):
    sock, state, zone, name, service, moves, docker = argv[1:8]
    moves = int(moves)
    jitter = float(argv[8]) if len(argv) > 8 else 0.0
    nodes = {n["ID"]: n for n in get(sock, "/nodes")}
    addr = {i: n["Status"]["Addr"] for i, n in nodes.items()}
    dk = [docker, "-H", "unix://" + sock]
    deltas = []
    for m in range(moves):
        deadline = time.monotonic() + 30
        while True:  # wait until the previous move settled everywhere
            cur = running_nodes(sock, service)
            if len(cur) == 1 and record(state, zone, name) == [addr[next(iter(cur))]]:
                break
            if time.monotonic() > deadline:
                print(f"move {m + 1}: did not settle before the move", flush=True)
                return 1
            time.sleep(0.05)
        old = next(iter(cur))
        time.sleep(random.uniform(0, jitter))
        subprocess.run(dk + ["node", "update", "--availability", "drain", old],
                       check=True, stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        a = b = None
        new = None
        while time.monotonic() - t0 < 150 and (a is None or b is None):
            now = time.monotonic()
            if a is None:
                run = running_nodes(sock, service) - {old}
                if run:
                    new, a = next(iter(run)), now
            if b is None and new is not None and record(state, zone, name) == [addr[new]]:
                b = time.monotonic()
            time.sleep(0.01)
        subprocess.run(dk + ["node", "update", "--availability", "active", old],
                       check=True, stdout=subprocess.DEVNULL)
        if a is None or b is None:
            print(f"move {m + 1}: no convergence within 150 s", flush=True)
            return 1
        d = (b - a) * 1000
        deltas.append(d)
        print(f"move {m + 1}: task running {a - t0:6.2f} s after the drain, "
              f"DNS {d:8.0f} ms later", flush=True)
    print(f"RESULT {statistics.median(deltas):.0f} {max(deltas):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
