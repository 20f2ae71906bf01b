#!/usr/bin/env python3
"""Engine API cost of dnsfollow against S Swarm services (bench/swarm_labels.sh).

  labels.py   (everything from the environment, set by swarm_labels.sh)

  LB_DOCKER    docker client           LB_ENGINE   the engine's socket (direct)
  LB_DF_SOCK   proxy socket for dnsfollow, logging to LB_DF_LOG
  LB_CLI_SOCK  proxy socket for `docker service ps`, logging to LB_CLI_LOG
  LB_DNSFOLLOW, LB_PLUGINS, LB_DIR (work folder), LB_MODES ("ini labels"),
  LB_SIZES ("1 20 100 500"), LB_IDLE_S (30), LB_EVENT_S (5),
  LB_CREATE_BUDGET_S (90), LB_PARALLEL (8)

For each S (services s1..sS, created as needed, each labelled
dnsfollow.name=sN.lab.example.test) and each mode -- "ini": one [record]
section per service, "labels": `discover = yes` and no [record] at all --
it measures, through the counting proxy:
  - one `dnsfollow --once` pass: Engine calls by endpoint and wall time;
    the records it wrote into the mock's state are counted too, so that a
    cheap pass that publishes nothing cannot pass for a good one;
  - the daemon at rest (interval = 600, so only the backend's safety-net
    poll runs): calls over LB_IDLE_S seconds, scaled to a minute;
  - an unrelated label change on s1: calls in the LB_EVENT_S seconds after;
and, once per S, `docker service ps sN` run for every service in turn (the
original cron script's approach): wall time and Engine calls.

Services s1..s100 run one `sleep` task each. Beyond, when starting tasks
is so slow that the rest would not fit in LB_CREATE_BUDGET_S, the extra
services get `--replicas 0` (said in the output): they cost the same
/services and /tasks answers, without containers.

Prints the table and "GATE ok|FAILED ..." lines; exit status 1 when a
pass's Engine calls (handshake aside) exceed 4 at any S in any mode, or
the idle poll's calls or those after a label change grow with S (more
than 1.5 times the smallest S's, plus 12 for the window's edges), or a
pass published the wrong number of records. Every wait is bounded.
"""
import concurrent.futures as cf
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

E = os.environ
DOCKER = E.get("LB_DOCKER", "docker")
ENGINE = E["LB_ENGINE"]
DF_SOCK, DF_LOG = E["LB_DF_SOCK"], E["LB_DF_LOG"]
CLI_SOCK, CLI_LOG = E["LB_CLI_SOCK"], E["LB_CLI_LOG"]
DNSFOLLOW, PLUGINS, DIR = E["LB_DNSFOLLOW"], E["LB_PLUGINS"], E["LB_DIR"]
MODES = E.get("LB_MODES", "ini").split()
SIZES = [int(s) for s in E.get("LB_SIZES", "1 20 100 500").split()]
IDLE_S = float(E.get("LB_IDLE_S") or (30 if len(MODES) == 1 else 15))
EVENT_S = float(E.get("LB_EVENT_S", "5"))
BUDGET_S = float(E.get("LB_CREATE_BUDGET_S", "90"))
PARALLEL = int(E.get("LB_PARALLEL", "8"))
IMAGE = "local/busybox:1"
ZONE = "lab.example.test"
HANDSHAKE = ("/_ping", "/version")
PASS_MAX = 4


def say(*a):
    print(*a, flush=True)


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.sock_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.sock_path)


def api(path):
    c = UnixHTTP(ENGINE)
    try:
        c.request("GET", "/v1.41" + path)
        return json.loads(c.getresponse().read())
    finally:
        c.close()


def dk(sock, *args, timeout=60):
    return subprocess.run([DOCKER, "-H", "unix://" + sock, *args], timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# ---- services ------------------------------------------------------------

class Services:
    def __init__(self):
        self.n = 0          # s1..sN exist
        self.running = 0    # of which s1..s<running> have a task
        self.zero_from = None  # first service created with --replicas 0

    def running_tasks(self):
        f = urllib.parse.quote(json.dumps({"desired-state": ["running"]}))
        return sum(1 for t in api("/tasks?filters=" + f)
                   if t.get("Status", {}).get("State") == "running")

    def create(self, i, replicas):
        r = dk(ENGINE, "service", "create", "--detach", "--name", f"s{i}",
               "--label", f"dnsfollow.name=s{i}.{ZONE}", "--label", "dnsfollow.type=A",
               "--replicas", str(replicas), "--stop-grace-period", "1s",
               IMAGE, "sleep", "1000000")
        if r.returncode != 0:
            raise RuntimeError(f"service create s{i}: {r.stderr.strip()}")

    def grow(self, s):
        """Create s(n+1)..sS; wait for their tasks. Returns seconds taken."""
        if s <= self.n:
            return 0.0
        t0 = time.monotonic()
        todo = list(range(self.n + 1, s + 1))
        run = [i for i in todo if self.zero_from is None or i < self.zero_from]
        if self.zero_from is None and s > 100 and self.n >= 20 and self.rate:
            est = self.rate * len(todo)
            if est > BUDGET_S:
                keep = min(len(todo), int(BUDGET_S / self.rate))
                self.zero_from = self.n + 1 + keep
                run = todo[:keep]
                say(f"# starting {len(todo)} tasks would take about {est:.0f} s "
                    f"({self.rate * 1000:.0f} ms per task measured): s{self.zero_from}.."
                    f"s{s} are created with --replicas 0 (no container)")
        on = set(run)
        with cf.ThreadPoolExecutor(PARALLEL) as ex:
            list(ex.map(lambda i: self.create(i, 1 if i in on else 0), todo))
        want = self.running + len(run)
        deadline = time.monotonic() + max(120, 3 * BUDGET_S)
        while self.running_tasks() < want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.running_tasks()} of {want} tasks running")
            time.sleep(0.5)
        dt = time.monotonic() - t0
        if run:
            self.rate = dt / len(run)
        self.n, self.running = s, want
        return dt

    rate = None


# ---- proxy log -----------------------------------------------------------

def endpoint(path):
    p = path.split("?")[0]
    for e in ("/services", "/tasks", "/nodes", "/events"):
        if p == e:
            return e
        if p.startswith(e + "/"):
            return e + "/ID"
    return p


def log_lines(path, since=0.0, until=float("inf")):
    out = []
    with open(path, encoding="ascii") as f:
        for line in f:
            t, method, p = line.rstrip("\n").split(" ", 2)
            if since <= float(t) < until:
                out.append((float(t), method, p))
    return out


def by_endpoint(lines):
    d = {}
    for _, _, p in lines:
        e = endpoint(p)
        d[e] = d.get(e, 0) + 1
    return d


def pass_calls(d):
    return sum(n for e, n in d.items() if e not in HANDSHAKE)


# ---- dnsfollow -------------------------------------------------------------

def write_ini(mode, s, state, interval):
    head = f"""[dnsfollow]
owner_id = bench
interval = {interval}
plugin_dir = {PLUGINS}
log_level = info

[backend sw]
type = swarm
host = unix://{DF_SOCK}
"""
    if mode == "labels":
        head += f"discover = yes\ndiscover_provider = m\ndiscover_names = *.{ZONE}\n"
    head += f"""
[provider m]
type = mock
zones = {ZONE}
state = {state}
"""
    recs = ""
    if mode == "ini":
        recs = "".join(f"\n[record s{i}.{ZONE}]\nprovider = m\nbackend = sw\n"
                       f"service = s{i}\ntype = A\n" for i in range(1, s + 1))
    path = os.path.join(DIR, f"{mode}-{s}.ini")
    with open(path, "w", encoding="ascii") as f:
        f.write(head + recs)
    return path


def records(state):
    try:
        with open(state, encoding="ascii") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return 0
    sets = doc.get("zones", {}).get(ZONE, {}).get("rrsets", {})
    return sum(1 for n, t in sets.items() if n.endswith("." + ZONE) and "A" in t)


def once(mode, s):
    state = os.path.join(DIR, f"{mode}-{s}-once.json")
    ini = write_ini(mode, s, state, 600)
    err = open(os.path.join(DIR, f"{mode}-{s}-once.log"), "w")
    t0 = time.time()
    r = subprocess.run([DNSFOLLOW, "-c", ini, "--once"], stderr=err,
                       stdout=subprocess.DEVNULL, timeout=300)
    dt = time.time() - t0
    d = by_endpoint(log_lines(DF_LOG, t0))
    return {"rc": r.returncode, "ms": dt * 1000, "calls": d, "records": records(state)}


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)


def daemon(mode, s, svc):
    state = os.path.join(DIR, f"{mode}-{s}-daemon.json")
    ini = write_ini(mode, s, state, 600)
    err = open(os.path.join(DIR, f"{mode}-{s}-daemon.log"), "w")
    p = subprocess.Popen([DNSFOLLOW, "-c", ini], stderr=err, stdout=subprocess.DEVNULL)
    res = {"idle": None, "event": None, "event_calls": {}}
    try:
        deadline = time.monotonic() + 60
        while records(state) < svc.running and time.monotonic() < deadline:
            if p.poll() is not None:
                return res
            time.sleep(0.2)
        time.sleep(5)  # past the watcher's settling after start-up
        t0 = time.time()
        time.sleep(IDLE_S)
        idle = log_lines(DF_LOG, t0, t0 + IDLE_S)
        res["idle"] = len(idle) * 60.0 / IDLE_S
        res["idle_calls"] = by_endpoint(idle)
        t1 = time.time()
        r = dk(ENGINE, "service", "update", "--detach", "--label-add",
               f"foo{mode}{s}=bar", "s1")
        if r.returncode != 0:
            say(f"# service update s1: {r.stderr.strip()}")
        time.sleep(max(0.0, t1 + EVENT_S - time.time()))
        ev = log_lines(DF_LOG, t1, t1 + EVENT_S)
        res["event"], res["event_calls"] = len(ev), by_endpoint(ev)
    finally:
        stop(p)
    return res


def service_ps(s):
    t0 = time.time()
    bad = 0
    for i in range(1, s + 1):
        r = dk(CLI_SOCK, "service", "ps", f"s{i}", "--filter", "desired-state=running",
               "--format", "{{.Node}} {{.CurrentState}}")
        bad += r.returncode != 0
    dt = time.time() - t0
    return {"s": dt, "calls": len(log_lines(CLI_LOG, t0)), "failed": bad}


# ---- report --------------------------------------------------------------

def fmt_calls(d):
    keys = ["/services", "/tasks", "/nodes", "/events"]
    parts = [f"{d.get(k, 0)}" for k in keys]
    other = sum(n for e, n in d.items() if e not in keys and e not in HANDSHAKE)
    return "/".join(parts) + (f"+{other}" if other else "")


def main():
    svc = Services()
    rows = []
    t_start = time.monotonic()
    for s in SIZES:
        dt = svc.grow(s)
        note = f"{svc.running} running" + (f", {s - svc.running} at replicas 0"
                                            if s > svc.running else "")
        say(f"# S={s}: services ready in {dt:.1f} s ({note})")
        ps = service_ps(s)
        say(f"# S={s}: docker service ps x{s}: {ps['s']:.2f} s, {ps['calls']} Engine calls"
            + (f", {ps['failed']} failed" if ps["failed"] else ""))
        for mode in MODES:
            o = once(mode, s)
            say(f"# S={s} {mode}: --once rc {o['rc']}, {o['ms']:.0f} ms, calls {o['calls']}, "
                f"{o['records']} records")
            d = daemon(mode, s, svc)
            say(f"# S={s} {mode}: idle {d['idle']} calls/min {d.get('idle_calls')}, "
                f"label change {d['event']} calls {d['event_calls']}")
            rows.append((s, mode, svc.running, o, d, ps))
    table(rows)
    say(f"# bench run time {time.monotonic() - t_start:.0f} s (services and measurements)")
    return gate(rows)


def table(rows):
    say("")
    say("S = services (running tasks); pass = one `dnsfollow --once`, Engine calls")
    say("/services/tasks/nodes/events (+other), handshake (/_ping, /version) aside;")
    say(f"idle = safety-net poll at rest (interval = 600), calls per minute over {IDLE_S:.0f} s;")
    say(f"label = calls in the {EVENT_S:.0f} s after `service update --label-add` on s1;")
    say("ps = `docker service ps` once per service, sequentially (original script).")
    h = (f"{'S':>5} {'run':>4} {'mode':<6} {'pass calls':>12} {'total':>5} {'pass ms':>8} "
         f"{'recs':>5} {'idle/min':>8} {f'label {EVENT_S:.0f}s':>8} | {'ps s':>6} {'ps calls':>8}")
    say(h)
    say("-" * len(h))
    for s, mode, run, o, d, ps in rows:
        idle = "-" if d["idle"] is None else f"{d['idle']:.0f}"
        ev = "-" if d["event"] is None else str(d["event"])
        say(f"{s:>5} {run:>4} {mode:<6} {fmt_calls(o['calls']):>12} "
            f"{pass_calls(o['calls']):>5} {o['ms']:>8.0f} {o['records']:>5} {idle:>8} "
            f"{ev:>8} | {ps['s']:>6.2f} {ps['calls']:>8}")


def gate(rows):
    ok = True
    for mode in MODES:
        mine = [r for r in rows if r[1] == mode]
        calls = [pass_calls(r[3]["calls"]) for r in mine]
        worst = max(calls)
        good = worst <= PASS_MAX and all(r[3]["rc"] == 0 for r in mine)
        say(f"GATE {'ok' if good else 'FAILED'} [{mode}] Engine calls per pass "
            f"{calls} for S={[r[0] for r in mine]} (target: bounded, <= {PASS_MAX})")
        if len(set(calls)) > 1:
            say(f"# note [{mode}]: not the same number at every S")
        ok &= good
        idle = [r[4]["idle"] for r in mine]
        if None in idle:
            say(f"GATE FAILED [{mode}] the daemon did not publish every record in 60 s")
            ok = False
        else:
            # Constant in S: the largest S may cost at most 1.5x the
            # smallest plus one poll's worth of slack (window edges).
            good = max(idle) <= 1.5 * idle[0] + 12
            say(f"GATE {'ok' if good else 'FAILED'} [{mode}] idle poll calls/min "
                f"{[round(i) for i in idle]} (target: constant in S)")
            ok &= good
            ev = [r[4]["event"] for r in mine]
            good = max(ev) <= 1.5 * ev[0] + 12
            say(f"GATE {'ok' if good else 'FAILED'} [{mode}] calls after a label change "
                f"{ev} (target: constant in S)")
            ok &= good
        for s, _, run, o, _, _ in mine:
            if o["rc"] != 0 or o["records"] != run:
                say(f"GATE FAILED [{mode}] S={s}: --once exit {o['rc']}, "
                    f"{o['records']} records for {run} running services")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        say(f"swarm labels bench: {e}")
        sys.exit(2)
