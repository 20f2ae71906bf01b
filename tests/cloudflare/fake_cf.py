#!/usr/bin/env python3
"""A fake Cloudflare API v4 (DNS records) for dnsfollow's tests. Python 3
standard library, HTTPS only (a throwaway CA made by the test).

What it models, from Cloudflare's public documentation (see
providers/cloudflare/README.md, "Where the facts come from"):
  * every answer in the v4 envelope {"success", "errors": [{"code",
    "message"}], "messages", "result"} (+ "result_info" for lists);
  * Authorization: Bearer TOKEN checked on every call; a wrong token, or a
    write with a token of scope "read", is HTTP 403 {"code": 10000,
    "message": "Authentication error"};
  * GET /zones?name=Z -> [{id, name, status}];
  * GET /zones/ID/dns_records?type=&name=&page=&per_page= : exact
    filters, paged (per_page 1..5,000,000, default 100), result_info
    {page, per_page, count, total_count, total_pages};
  * POST /zones/ID/dns_records, PUT/PATCH/DELETE .../dns_records/RID;
  * POST /zones/ID/dns_records/batch {deletes, patches, puts, posts}:
    executed in that order in one transaction: any failure applies nothing
    and answers the first error; at most batch_limit (200) operations;
    the result lists the records of each kind;
  * CNAME rules as Cloudflare documents them ("Records with the same
    name"): a CNAME beside A/AAAA/CNAME is 81053, A/AAAA beside a CNAME is
    81054; other types (TXT) beside a CNAME are accepted (as reported in
    cloudflare-docs issue 30376); an identical record is 81057;
  * proxied records (A/AAAA/CNAME only) are stored with TTL 1 (automatic);
    TTL must be 1 or 60..86400; TXT content is stored as sent.
Codes marked "modelled" below are not documented exactly.
Fault injection (POST /_control/config): throttle (the next N API calls
answer 429 with Retry-After: retry_after), fail_status/fail_count/fail_path
(the next N calls whose "METHOD /normalised/path" contains fail_path
answer fail_status), page_cap (the server never returns more than N
records a page, whatever per_page says), scope ("edit" or "read"),
token, batch_limit, latency_ms, lose_batch (the next N batches are
carried out and then answered 500).
Control (no token, not counted): GET stats, POST reset, POST config,
POST seed {zone, name, type, content, ttl, proxied}, GET zone?zone=Z.
"""
import argparse
import copy
import ipaddress
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tlsfake import TLSServer, serve  # noqa: E402

LOCK = threading.Lock()
TYPES = ("A", "AAAA", "CNAME", "TXT", "NS", "MX", "CAA", "SRV")
PROXIABLE = ("A", "AAAA", "CNAME")


class Refused(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    def __init__(self, args):
        self.zones = {}
        for z in filter(None, args.zones.split(",")):
            self.zones[z.strip()] = {"id": uuid.uuid4().hex, "recs": {}}
        self.cfg = {"token": args.token, "scope": "edit", "throttle": 0,
                    "retry_after": 2, "fail_status": 0, "fail_count": 0,
                    "fail_path": "", "page_cap": 0, "batch_limit": 200,
                    "latency_ms": 0, "lose_batch": 0}
        self.reset()

    def reset(self):
        self.calls, self.total, self.order = {}, 0, []
        self.batch_ops = []  # operations of each batch call, in order
        self.errors = {}

    def zone_by_id(self, zid):
        for name, z in self.zones.items():
            if z["id"] == zid:
                return name, z
        raise Refused(400, 7003, "Could not route to /zones/%s, perhaps your object "
                      "identifier is invalid?" % zid)  # modelled


def norm(path):
    p = re.sub(r"^/zones/[0-9a-f]+", "/zones/{zone}", path)
    return re.sub(r"/dns_records/(?!batch$)[0-9a-f]+$", "/dns_records/{id}", p)


def in_zone(name, zone):
    return name == zone or name.endswith("." + zone)


def check(recs, zone, rec, skip=None):
    """Refused when `rec` may not be stored beside recs (minus id skip)."""
    t, name, content = rec["type"], rec["name"], rec["content"]
    if t not in TYPES:
        raise Refused(400, 9000, "DNS record type is invalid.")  # modelled
    if not in_zone(name, zone):
        raise Refused(400, 9007, "Content for name must be in the zone.")  # modelled
    try:
        if t == "A":
            ipaddress.IPv4Address(content)
        elif t == "AAAA":
            ipaddress.IPv6Address(content)
    except ValueError:
        raise Refused(400, 9005, "Content for %s record is invalid." % t)  # modelled
    ttl = rec.get("ttl", 1)
    if not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
        raise Refused(400, 9020, "Invalid TTL. Must be between 60 and 86400 seconds, "
                      "or 1 for Automatic.")  # modelled
    if rec.get("proxied") and t not in PROXIABLE:
        raise Refused(400, 9004, "This record type cannot be proxied.")  # modelled
    for r in recs.values():
        if r["id"] == skip or r["name"] != name:
            continue
        if t == "CNAME" and r["type"] in ("A", "AAAA", "CNAME"):
            raise Refused(400, 81053, "An A, AAAA, or CNAME record with that host "
                          "already exists.")
        if t in ("A", "AAAA") and r["type"] == "CNAME":
            raise Refused(400, 81054, "A CNAME record with that host already exists.")
        if r["type"] == t and r["content"] == content:
            raise Refused(400, 81057, "The record already exists.")


def store_txt(content):
    """Cloudflare splits bare text over 255 bytes into quoted strings."""
    if content.startswith('"') or len(content.encode()) <= 255:
        return content
    b = content.encode()
    parts = [b[i:i + 255].decode("utf-8", "replace") for i in range(0, len(b), 255)]
    return " ".join('"%s"' % p.replace("\\", "\\\\").replace('"', '\\"') for p in parts)


def make(zone, z, body, rid=None):
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                             for k in ("type", "name", "content")):
        raise Refused(400, 9000, "type, name and content are required")  # modelled
    name = body["name"].lower().rstrip(".")
    if name == "@":
        name = zone
    elif not in_zone(name, zone):
        name = name + "." + zone  # Cloudflare accepts names relative to the zone
    prox = bool(body.get("proxied", False))
    content = body["content"]
    if body["type"] == "TXT":
        content = store_txt(content)
    if body["type"] in ("CNAME", "NS"):
        content = content.lower().rstrip(".")
    return {"id": rid or uuid.uuid4().hex, "zone_id": z["id"], "zone_name": zone,
            "name": name, "type": body["type"], "content": content,
            "proxiable": body["type"] in PROXIABLE, "proxied": prox,
            "ttl": 1 if prox else body.get("ttl", 1),
            "created_on": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "comment": None, "tags": []}


def create(recs, zone, z, body):
    rec = make(zone, z, body)
    check(recs, zone, rec)
    recs[rec["id"]] = rec
    return rec


def existing(recs, rid):
    if not isinstance(rid, str) or rid not in recs:
        raise Refused(404, 81044, "Record does not exist.")  # modelled
    return recs[rid]


def put(recs, zone, z, rid, body):
    existing(recs, rid)
    rec = make(zone, z, body, rid)
    check(recs, zone, rec, skip=rid)
    recs[rid] = rec
    return rec


def patch(recs, zone, z, rid, body):
    old = existing(recs, rid)
    merged = {k: old[k] for k in ("type", "name", "content", "ttl", "proxied")}
    merged.update({k: v for k, v in (body or {}).items()
                   if k in ("type", "name", "content", "ttl", "proxied")})
    if "content" not in (body or {}) and old["type"] == "TXT":
        merged["content"] = old["content"]
    return put(recs, zone, z, rid, merged)


def batch(st, zone, z, body):
    if not isinstance(body, dict):
        raise Refused(400, 9000, "Malformed batch")  # modelled
    ops = {k: body.get(k) or [] for k in ("deletes", "patches", "puts", "posts")}
    n = sum(len(v) for v in ops.values())
    st.batch_ops.append(n)
    if n > st.cfg["batch_limit"]:
        raise Refused(400, 1004, "Batch of %d operations exceeds the limit of %d "
                      "for this zone's plan" % (n, st.cfg["batch_limit"]))  # modelled
    recs = copy.deepcopy(z["recs"])  # the transaction
    out = {k: [] for k in ops}
    for d in ops["deletes"]:
        out["deletes"].append(recs.pop(existing(recs, (d or {}).get("id"))["id"]))
    for p in ops["patches"]:
        out["patches"].append(patch(recs, zone, z, (p or {}).get("id"), p))
    for p in ops["puts"]:
        out["puts"].append(put(recs, zone, z, (p or {}).get("id"), p))
    for p in ops["posts"]:
        out["posts"].append(create(recs, zone, z, p))
    z["recs"] = recs  # commit
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-cloudflare/1.0"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake-cf: " + (fmt % args) + "\n")

    def send(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def ok(self, result, info=None):
        env = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            env["result_info"] = info
        self.send(200, env)

    def fail(self, status, code, message, headers=None):
        with LOCK:
            e = self.server.st.errors
            e[str(code)] = e.get(str(code), 0) + 1
        self.send(status, {"success": False, "errors": [{"code": code, "message": message}],
                           "messages": [], "result": None}, headers)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path.startswith("/_control/"):
            return self.control(method, url.path[len("/_control/"):], q, raw)
        if not url.path.startswith("/client/v4/"):
            return self.fail(404, 7000, "No route for that URI")
        path = url.path[len("/client/v4"):]
        st = self.server.st
        key = "%s %s" % (method, norm(path))
        with LOCK:
            st.total += 1
            st.calls[key] = st.calls.get(key, 0) + 1
            if len(st.order) < 100000:
                st.order.append(key)
            cfg = dict(st.cfg)
            throttled = cfg["throttle"] > 0
            if throttled:
                st.cfg["throttle"] -= 1
            failing = cfg["fail_count"] > 0 and cfg["fail_path"] in key
            if failing:
                st.cfg["fail_count"] -= 1
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)
        if throttled:
            return self.fail(429, 971, "Please wait and consider throttling your request "
                             "speed", {"Retry-After": str(cfg["retry_after"])})
        if failing:
            return self.fail(cfg["fail_status"], 10001 if cfg["fail_status"] >= 500 else 1000,
                             "Injected failure (HTTP %d)" % cfg["fail_status"])  # modelled
        if self.headers.get("Authorization") != "Bearer " + cfg["token"] or \
                (method != "GET" and cfg["scope"] != "edit"):
            return self.fail(403, 10000, "Authentication error")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.fail(400, 9000, "Malformed JSON in request body")  # modelled
        try:
            self.api(method, path, q, body, cfg)
        except Refused as e:
            self.fail(e.status, e.code, e.message)

    def page(self, items, q):
        try:
            page = int(q.get("page", ["1"])[0])
            per = int(q.get("per_page", ["100"])[0])
        except ValueError:
            raise Refused(400, 1004, "page and per_page must be numbers")  # modelled
        if page < 1 or not 1 <= per <= 5000000:
            raise Refused(400, 1004, "per_page must be between 1 and 5000000")  # modelled
        cap = self.server.st.cfg["page_cap"]
        if cap:
            per = min(per, cap)
        total = len(items)
        chunk = items[(page - 1) * per: page * per]
        self.ok(chunk, {"page": page, "per_page": per, "count": len(chunk),
                        "total_count": total, "total_pages": (total + per - 1) // per})

    def api(self, method, path, q, body, cfg):
        st = self.server.st
        if path == "/zones" and method == "GET":
            name = q.get("name", [None])[0]
            with LOCK:
                zs = [{"id": z["id"], "name": n, "status": "active"}
                      for n, z in sorted(st.zones.items()) if name in (None, n)]
            return self.page(zs, q)
        m = re.fullmatch(r"/zones/([^/]+)/dns_records(?:/([^/]+))?", path)
        if not m:
            raise Refused(404, 7000, "No route for that URI")
        with LOCK:
            zone, z = st.zone_by_id(m.group(1))
            rid = m.group(2)
            if rid is None and method == "GET":
                t, name = q.get("type", [None])[0], q.get("name", q.get("name.exact", [None]))[0]
                items = sorted((r for r in z["recs"].values()
                                if (t is None or r["type"] == t) and
                                (name is None or r["name"] == name.lower())),
                               key=lambda r: (r["name"], r["type"], r["created_on"], r["id"]))
                items = copy.deepcopy(items)
            elif rid is None and method == "POST":
                return self.ok(create(z["recs"], zone, z, body))
            elif rid == "batch" and method == "POST":
                res = batch(st, zone, z, body)
                lose = st.cfg["lose_batch"] > 0
                if lose:
                    st.cfg["lose_batch"] -= 1
                if lose:
                    raise Refused(500, 10001, "Answer lost (injected)")  # modelled
                return self.ok(res)
            elif rid and method == "GET":
                return self.ok(existing(z["recs"], rid))
            elif rid and method == "PUT":
                return self.ok(put(z["recs"], zone, z, rid, body))
            elif rid and method == "PATCH":
                return self.ok(patch(z["recs"], zone, z, rid, body))
            elif rid and method == "DELETE":
                existing(z["recs"], rid)
                del z["recs"][rid]
                return self.ok({"id": rid})
            else:
                raise Refused(405, 7001, "Method not allowed for this route")  # modelled
        return self.page(items, q)

    def control(self, method, what, q, raw):
        st = self.server.st
        with LOCK:
            if what == "stats":
                return self.send(200, {"calls": st.calls, "total": st.total,
                                       "order": st.order, "batch_ops": st.batch_ops,
                                       "errors": st.errors})
            if what == "reset" and method == "POST":
                st.reset()
                return self.send(200, None)
            if what == "config" and method == "POST":
                for k, v in json.loads(raw or b"{}").items():
                    if k not in st.cfg:
                        return self.send(400, {"message": "unknown " + k})
                    st.cfg[k] = v if isinstance(st.cfg[k], str) else int(v)
                return self.send(200, st.cfg)
            if what == "zone":
                z = st.zones.get(q.get("zone", [""])[0])
                if z is None:
                    return self.send(404, {"message": "no such zone"})
                return self.send(200, sorted(z["recs"].values(),
                                             key=lambda r: (r["name"], r["type"], r["content"])))
            if what == "seed" and method == "POST":
                b = json.loads(raw)
                zone = b.pop("zone")
                z = st.zones[zone]
                rec = make(zone, z, b)
                z["recs"][rec["id"]] = rec  # no checks: a hand edit may do anything
                return self.send(200, rec)
        return self.send(404, {"message": "unknown control " + what})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--zones", default="")
    ap.add_argument("--watch-pid", type=int, default=0)
    ap.add_argument("--max-seconds", type=int, default=900)
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    srv = TLSServer(("127.0.0.1", args.port), Handler)
    srv.st = State(args)
    srv.verbose = args.v
    serve(srv, args)


if __name__ == "__main__":
    main()
