#!/usr/bin/env python3
"""A fake OVH API (v1.0) for dnsfollow's tests. Python 3 standard library.

It enforces what the real API enforces for the calls dnsfollow makes:
  * every authenticated call is signed: X-Ovh-Signature = "$1$" + SHA1 of
    AS+CK+METHOD+URL+BODY+TIMESTAMP, the timestamp within WINDOW seconds of
    the server's clock (GET /auth/time is unauthenticated);
  * record changes are staged per zone and published only by
    POST /domain/zone/{zone}/refresh;
  * errors in both of OVH's shapes, with an X-Ovh-QueryID header.
  * GET /domain/zone/{zone}/record takes exactly the two filters OVH's API
    schema documents (api.ovh.com/1.0/domain.json): fieldType, a
    zone.NamedResolutionFieldTypeEnum value (anything else is a 400), and
    subDomain, "Filter the value of subDomain property (ilike)": a
    case-insensitive LIKE pattern where '_' matches any one character and
    '%' any run (like_subdomain = 0 makes it an exact match instead). The
    answer is the ids only (long[]), never paged.
  * GET /domain/zone/{zone}/soa answers domain.zone.Soa as the schema
    describes it (email, expire, nxDomainTtl, refresh, serial, server,
    ttl); the serial moves (+1) on every refresh that goes through, and
    only then: a record changed through the API but not refreshed leaves
    it where it was (what OVH does; see providers/ovh/README.md).
It counts calls, and injects latency, 500s every Nth call, 500s on the
next N refresh calls only (of zone fail_refresh_zone when set, after
letting fail_refresh_skip of them through) or the next N record writes
only (before carrying them out), 429s with Retry-After (seconds, or an HTTP date
with retry_after_date) and clock skew. It can also return records of any
type for a list call (ignore_type), and put the consumer key it received
into its 403 messages (echo_credentials, after echo_pad filler characters,
to prove the client masks it wherever a cut would fall). Faults hit the calls
whose "METHOD /normalised/path" contains fault_path ("" = every API call),
the next fault_count of them (0 = all): hang_ms (no answer for that long,
then the real one), trickle_ms (the answer one byte at a time, that many ms
apart), truncate (announce the whole answer, send half, close), huge_mb
(a 200 whose JSON list is that many MiB, without carrying the call out),
garbage (a 200 whose body is that text, without carrying the call out:
not JSON, or JSON of the wrong shape) and status (an error answer with
that HTTP status instead of the call: 404 as for a record deleted
meanwhile, 403 as for a call the consumer key is not granted).
HTTPS only.

Control (unauthenticated, not counted), under /_control/:
  GET  stats                -> {"calls": {"GET /domain/zone/{zone}/record": n},
                                "total": n, "refresh": {zone: n},
                                "max_inflight": n, "errors": {code: n},
                                "writes": ["POST zone TXT", ...] in order,
                                "last_ts": time of the last answer,
                                "connections": TLS connections accepted,
                                "inflight": API calls being answered now,
                                "order": ["METHOD /normalised/path", ...]
                                         every API call in arrival order,
                                "refresh_failed": {zone: n}}
  POST reset                -> zero the counters
  POST config   {latency_ms, fail_every, fail_refresh, fail_refresh_zone
                 (text), fail_refresh_skip, fail_writes,
                 lose_answers (record POSTs carried out, then answered 500),
                 throttle_every,
                 retry_after, retry_after_date, skew, window,
                 like_subdomain, ignore_type, echo_credentials, echo_pad,
                 fault_path (text), fault_count, hang_ms, trickle_ms,
                 truncate, huge_mb, garbage (text), status}
  GET  zone?zone=Z&state=published|staged -> [records]
  GET  serial?zone=Z        -> the zone's SOA serial
  POST seed {zone, subDomain, fieldType, target, ttl} -> record, published
                            (the serial does not move: seed before reading)
Usage:
  fake_ovh.py --cert C --key K --port-file F --app-key AK --app-secret AS
              --consumer-key CK --zones a.test,b.test [--port 0] [options]
"""
import argparse
import copy
import hashlib
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tlsfake import TLSServer, serve  # noqa: E402

LOCK = threading.Lock()
# zone.NamedResolutionFieldTypeEnum, as OVH's API schema lists it.
FIELD_TYPES = ("A", "AAAA", "CAA", "CNAME", "DKIM", "DMARC", "DNAME", "HTTPS",
               "LOC", "MX", "NAPTR", "NS", "PTR", "RP", "SPF", "SRV", "SSHFP",
               "SVCB", "TLSA", "TXT")


class State:
    def __init__(self, args):
        self.ak, self.as_, self.ck = args.app_key, args.app_secret, args.consumer_key
        self.zones = {}
        for z in filter(None, args.zones.split(",")):
            # A serial in OVH's usual YYYYMMDDnn form.
            self.zones[z.strip()] = {"staged": {}, "published": {},
                                     "serial": int(time.strftime("%Y%m%d00"))}
        self.next_id = 5000000001
        self.cfg = {"latency_ms": args.latency_ms, "fail_every": args.fail_every,
                    "fail_refresh": args.fail_refresh, "fail_writes": 0,
                    "fail_refresh_zone": "", "fail_refresh_skip": 0,
                    "lose_answers": 0,
                    "throttle_every": args.throttle_every,
                    "retry_after": args.retry_after, "retry_after_date": 0,
                    "skew": args.skew, "window": args.window,
                    "like_subdomain": 1, "ignore_type": 0,
                    "echo_credentials": 0, "echo_pad": 0,
                    "fault_path": "", "fault_count": 0, "hang_ms": 0,
                    "trickle_ms": 0, "truncate": 0, "huge_mb": 0,
                    "garbage": "", "status": 0}
        self.inflight = 0  # not reset: calls may be under way
        self.reset()

    def reset(self):
        self.calls, self.refresh, self.errors = {}, {}, {}
        self.refresh_failed = {}
        self.total, self.max_inflight = 0, 0
        self.last_ts = 0.0  # when the last API answer was sent
        self.connections = 0  # TLS connections accepted (keep-alive check)
        self.recent = []  # "METHOD path [fieldType]" of accepted writes, in order
        self.order = []  # every API call, normalised, in arrival order
        self.faults = 0  # calls a transport fault was injected into

    def now(self):
        return int(time.time()) + int(self.cfg["skew"])


def norm_path(path):
    """/domain/zone/a.test/record/5000000001 -> .../{zone}/record/{id}"""
    p = re.sub(r"^/domain/zone/[^/]+", "/domain/zone/{zone}", path)
    return re.sub(r"/record/\d+$", "/record/{id}", p)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-ovh/1.0"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("fake-ovh: " + (fmt % args) + "\n")

    # ---- answers ----
    def send(self, code, obj, headers=None):
        body = json.dumps(obj).encode()  # void answers are "null"
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Ovh-QueryID", "FAKE.ext-1.%08x" % (id(self) & 0xffffffff))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.write_body(body)
        if code >= 400:
            with LOCK:
                st = self.server.st
                st.errors[str(code)] = st.errors.get(str(code), 0) + 1

    def write_body(self, body):
        fault = getattr(self, "fault", None) or {}
        if fault.get("truncate"):
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.get("trickle_ms"):
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(fault["trickle_ms"] / 1000.0)
            return
        self.wfile.write(body)

    def fault_status(self, code):
        if code == 403:
            return self.old_error(403, "This call has not been granted",
                                  "NOT_GRANTED_CALL")
        if code == 404:
            return self.new_error(404, "Client::NotFound",
                                  "The requested object does not exist")
        return self.new_error(code, "Server::InternalServerError",
                              "Injected status %d" % code)

    def send_raw(self, code, body):
        """An answer whose body is exactly `body` (bytes)."""
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_huge(self, mb):
        """A 200 with a JSON list of about `mb` MiB of ids."""
        chunk = b"5000000001," * 4096
        n = max(1, (mb << 20) // len(chunk))
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(n * len(chunk) + 1))
        self.end_headers()
        try:
            self.wfile.write(b"[")
            for i in range(n):
                self.wfile.write(chunk if i < n - 1 else chunk[:-1] + b"]")
        except OSError:
            pass  # the client gave up, as it should

    def take_fault(self, key):
        """The transport fault configured for this call, if it matches."""
        with LOCK:
            cfg = self.server.st.cfg
            kinds = {k: cfg[k] for k in ("hang_ms", "trickle_ms", "truncate",
                                         "huge_mb", "garbage", "status")
                     if cfg[k]}
            if not kinds or cfg["fault_path"] not in key:
                return {}
            if cfg["fault_count"] < 0:
                return {}
            if cfg["fault_count"] > 0:
                cfg["fault_count"] -= 1
                if cfg["fault_count"] == 0:
                    cfg["fault_count"] = -1  # used up
            self.server.st.faults += 1
            return kinds

    def old_error(self, code, text, error_code):
        # The older shape.
        self.send(code, {"errorCode": error_code,
                         "httpCode": "%d %s" % (code, self.responses.get(code, ("",))[0]),
                         "message": text})

    def new_error(self, code, cls, text):
        # The newer shape.
        self.send(code, {"class": cls, "message": text, "details": {}})

    # ---- plumbing ----
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        self.fault = {}  # one handler serves a keep-alive connection
        raw = self.body()
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_control/"):
            return self.control(method, url, raw)
        st = self.server.st
        if not url.path.startswith("/1.0/"):
            return self.new_error(404, "Client::NotFound", "Not found")
        path = url.path[len("/1.0"):]
        with LOCK:
            st.total += 1
            n = st.total
            key = "%s %s" % (method, norm_path(path))
            st.calls[key] = st.calls.get(key, 0) + 1
            if len(st.order) < 100000:
                st.order.append(key)
            st.inflight += 1
            st.max_inflight = max(st.max_inflight, st.inflight)
            cfg = dict(st.cfg)
        self.fault = self.take_fault(key)
        try:
            if self.fault.get("hang_ms"):
                time.sleep(self.fault["hang_ms"] / 1000.0)
            if self.fault.get("huge_mb"):
                return self.send_huge(self.fault["huge_mb"])
            if self.fault.get("garbage"):
                return self.send_raw(200, self.fault["garbage"].encode())
            if self.fault.get("status"):
                return self.fault_status(self.fault["status"])
            if cfg["latency_ms"]:
                time.sleep(cfg["latency_ms"] / 1000.0)
            if cfg["fail_every"] and n % cfg["fail_every"] == 0:
                return self.new_error(500, "Server::InternalServerError",
                                      "Internal server error (injected)")
            if method != "GET" and "/record" in path and self.take_write_fault():
                return self.new_error(500, "Server::InternalServerError",
                                      "Write failed (injected)")
            if cfg["throttle_every"] and n % cfg["throttle_every"] == 0:
                return self.send(429, {"message": "Too many requests (injected)"},
                                 {"Retry-After": self.retry_after(cfg)})
            if method == "GET" and path == "/auth/time":
                return self.send(200, st.now())
            if not self.authenticated(method, raw, cfg):
                return
            self.api(method, path, urllib.parse.parse_qs(url.query,
                                                         keep_blank_values=True),
                     raw, cfg)
        finally:
            with LOCK:
                st.inflight -= 1
                st.last_ts = time.time()

    def take_write_fault(self):
        with LOCK:
            cfg = self.server.st.cfg
            if cfg["fail_writes"] <= 0:
                return False
            cfg["fail_writes"] -= 1
            return True

    def retry_after(self, cfg):
        if not cfg["retry_after_date"]:
            return str(cfg["retry_after"])
        when = self.server.st.now() + cfg["retry_after"]
        return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))

    def authenticated(self, method, raw, cfg):
        st = self.server.st
        h = self.headers
        echo = ""
        if cfg["echo_credentials"]:
            echo = " %s(consumer key received: %s)" % (
                "." * cfg["echo_pad"], h.get("X-Ovh-Consumer"))
        if h.get("X-Ovh-Application") != st.ak:
            self.old_error(403, "Invalid application key" + echo, "INVALID_KEY")
            return False
        if h.get("X-Ovh-Consumer") != st.ck:
            self.old_error(403, "Invalid credential" + echo, "INVALID_CREDENTIAL")
            return False
        ts = h.get("X-Ovh-Timestamp", "")
        if not ts.isdigit():
            self.old_error(400, "Invalid signature", "INVALID_SIGNATURE")
            return False
        # The signed URL is the full one the client used.
        full = "https://%s%s" % (h.get("Host"), self.path)
        want = "$1$" + hashlib.sha1("+".join(
            [st.as_, st.ck, method, full, raw.decode("utf-8", "replace"), ts]
        ).encode()).hexdigest()
        if h.get("X-Ovh-Signature") != want:
            self.old_error(400, "Invalid signature", "INVALID_SIGNATURE")
            return False
        if abs(int(ts) - st.now()) > cfg["window"]:
            self.old_error(400, "Query out of time", "QUERY_TIME_OUT")
            return False
        return True

    # ---- the API ----
    def api(self, method, path, q, raw, cfg):
        st = self.server.st
        m = re.fullmatch(r"/domain/zone/([^/]+)/(record|refresh|soa|record/(\d+))", path)
        if not m:
            return self.new_error(404, "Client::NotFound",
                                  "Got an invalid (or empty) URL")
        zname = urllib.parse.unquote(m.group(1))
        with LOCK:
            zone = st.zones.get(zname)
        if zone is None:
            return self.new_error(404, "Client::NotFound::ResourceNotFound",
                                  "This service does not exist")
        what, rid = m.group(2), m.group(3)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.new_error(400, "Client::BadRequest", "Invalid JSON")
        if what == "refresh" and method == "POST":
            with LOCK:
                failing = st.cfg["fail_refresh"] > 0 and \
                    st.cfg["fail_refresh_zone"] in ("", zname)
                if failing and st.cfg["fail_refresh_skip"] > 0:
                    st.cfg["fail_refresh_skip"] -= 1
                    failing = False
                if failing:
                    st.cfg["fail_refresh"] -= 1
                    st.refresh_failed[zname] = st.refresh_failed.get(zname, 0) + 1
                else:
                    zone["published"] = copy.deepcopy(zone["staged"])
                    zone["serial"] += 1
                    st.refresh[zname] = st.refresh.get(zname, 0) + 1
            if failing:
                return self.new_error(500, "Server::InternalServerError",
                                      "Refresh failed (injected)")
            return self.send(200, None)
        if what == "soa":
            if method != "GET":  # PUT exists at OVH; dnsfollow never sends it
                return self.new_error(405, "Client::MethodNotAllowed",
                                      "Method not allowed")
            with LOCK:
                serial = zone["serial"]
            return self.send(200, {"email": "tech.ovh.net", "expire": 3600000,
                                   "nxDomainTtl": 86400, "refresh": 86400,
                                   "serial": serial,
                                   "server": "dns200.anycast.me.",
                                   "ttl": 86400})
        if what == "record" and method == "GET":
            return self.list_records(zone, q, cfg)
        if what == "record" and method == "POST":
            return self.create(zname, zone, body)
        if rid and method == "GET":
            with LOCK:
                rec = zone["staged"].get(int(rid))
            if rec is None:
                return self.new_error(404, "Client::NotFound",
                                      "The requested object (id = %s) does not exist" % rid)
            return self.send(200, rec)
        if rid and method == "PUT":
            return self.update(zone, int(rid), body)
        if rid and method == "DELETE":
            with LOCK:
                gone = zone["staged"].pop(int(rid), None)
                if gone:
                    st.recent.append("DELETE %s %s" % (zname, gone["fieldType"]))
            if gone is None:
                return self.new_error(404, "Client::NotFound",
                                      "The requested object (id = %s) does not exist" % rid)
            return self.send(200, None)
        return self.new_error(405, "Client::MethodNotAllowed", "Method not allowed")

    @staticmethod
    def sub_matches(pattern, sub, like):
        if not like:
            return sub == pattern.lower()
        # SQL LIKE: '_' is any one character, '%' any run; case ignored.
        rx = "".join("." if c == "_" else ".*" if c == "%" else re.escape(c)
                     for c in pattern)
        return re.fullmatch(rx, sub, re.IGNORECASE) is not None

    def list_records(self, zone, q, cfg):
        ft = q.get("fieldType", [None])[0]
        sub = q.get("subDomain", [None])[0]
        if ft is not None and ft not in FIELD_TYPES:
            # Modelled on OVH's enum check (its exact words are not documented).
            return self.new_error(400, "Client::BadRequest",
                                  "[fieldType] Given data (%s) does not belong "
                                  "to the NamedResolutionFieldTypeEnum "
                                  "enumeration" % ft)
        if cfg["ignore_type"]:
            ft = None
        with LOCK:
            ids = [i for i, r in sorted(zone["staged"].items())
                   if (ft is None or r["fieldType"] == ft)
                   and (sub is None or
                        self.sub_matches(sub, r["subDomain"], cfg["like_subdomain"]))]
        return self.send(200, ids)

    def check_target(self, ftype, target):
        try:
            if ftype == "A":
                ipaddress.IPv4Address(target)
            elif ftype == "AAAA":
                ipaddress.IPv6Address(target)
        except ValueError:
            self.new_error(400, "Client::BadRequest",
                           "Invalid target %r for a %s record" % (target, ftype))
            return None
        if ftype == "TXT" and not target.startswith('"'):
            # OVH wraps TXT values in double quotes.
            target = '"' + target.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return target

    def create(self, zname, zone, body):
        if not isinstance(body, dict) or not body.get("fieldType") or \
                not isinstance(body.get("target"), str):
            return self.new_error(400, "Client::BadRequest",
                                  "Missing parameter fieldType or target")
        ftype = body["fieldType"]
        if ftype not in ("A", "AAAA", "TXT", "CNAME", "MX", "NS"):
            return self.new_error(400, "Client::BadRequest", "Invalid fieldType")
        target = self.check_target(ftype, body["target"])
        if target is None:
            return
        st = self.server.st
        sub = str(body.get("subDomain") or "").lower()
        with LOCK:
            clash = self.cname_clash(zone, sub, ftype)
            if clash:
                st.recent.append("REFUSED %s %s" % (zname, ftype))
        if clash:
            # Modelled (OVH documents no exact text): a 400 naming CNAME.
            return self.new_error(
                400, "Client::BadRequest",
                "Invalid subDomain %r: a CNAME record cannot coexist with "
                "another record on the same subDomain (%s exists)" % (sub, clash))
        with LOCK:
            rid = st.next_id
            st.next_id += 1
            rec = {"id": rid, "zone": zname,
                   "subDomain": sub,
                   "fieldType": ftype, "target": target,
                   "ttl": int(body.get("ttl") or 0)}
            zone["staged"][rid] = rec
            st.recent.append("POST %s %s" % (zname, ftype))
            lost = st.cfg["lose_answers"] > 0
            if lost:
                st.cfg["lose_answers"] -= 1
        if lost:  # done, but the client is told it failed
            return self.new_error(500, "Server::InternalServerError",
                                  "Answer lost (injected)")
        return self.send(200, rec)

    @staticmethod
    def cname_clash(zone, sub, ftype):
        """The type of a staged record at sub that forbids a new ftype
        record there (RFC 1034 3.6.2), or None. Called with LOCK held."""
        for r in zone["staged"].values():
            if r["subDomain"] != sub:
                continue
            if ftype == "CNAME" or r["fieldType"] == "CNAME":
                return r["fieldType"]
        return None

    def update(self, zone, rid, body):
        if not isinstance(body, dict) or \
                set(body) - {"subDomain", "target", "ttl"}:
            return self.new_error(400, "Client::BadRequest",
                                  "Only subDomain, target and ttl can be changed")
        with LOCK:
            rec = zone["staged"].get(rid)
        if rec is None:
            return self.new_error(404, "Client::NotFound",
                                  "The requested object (id = %d) does not exist" % rid)
        new = dict(rec)
        if "target" in body:
            t = self.check_target(rec["fieldType"], str(body["target"]))
            if t is None:
                return
            new["target"] = t
        if "ttl" in body:
            new["ttl"] = int(body["ttl"])
        if "subDomain" in body:
            new["subDomain"] = str(body["subDomain"]).lower()
        with LOCK:
            zone["staged"][rid] = new
            self.server.st.recent.append("PUT %s %s" % (rec["zone"], rec["fieldType"]))
        return self.send(200, None)

    # ---- control ----
    def control(self, method, url, raw):
        st = self.server.st
        what = url.path[len("/_control/"):]
        q = urllib.parse.parse_qs(url.query)
        with LOCK:
            if what == "stats":
                return self.send(200, {"calls": st.calls, "total": st.total,
                                       "refresh": st.refresh,
                                       "max_inflight": st.max_inflight,
                                       "errors": st.errors, "writes": st.recent,
                                       "last_ts": st.last_ts,
                                       "connections": st.connections,
                                       "inflight": st.inflight,
                                       "order": st.order,
                                       "refresh_failed": st.refresh_failed,
                                       "faults": st.faults})
            if what == "reset" and method == "POST":
                st.reset()
                return self.send(200, None)
            if what == "config" and method == "POST":
                for k, v in json.loads(raw or b"{}").items():
                    if k not in st.cfg:
                        return self.send(400, {"message": "unknown " + k})
                    st.cfg[k] = str(v) if k in ("fault_path", "fail_refresh_zone",
                                                "garbage") \
                        else int(v)
                return self.send(200, st.cfg)
            if what == "zone":
                z = st.zones.get(q.get("zone", [""])[0])
                if z is None:
                    return self.send(404, {"message": "no such zone"})
                state = q.get("state", ["published"])[0]
                return self.send(200, sorted(z[state].values(), key=lambda r: r["id"]))
            if what == "serial":
                z = st.zones.get(q.get("zone", [""])[0])
                if z is None:
                    return self.send(404, {"message": "no such zone"})
                return self.send(200, z["serial"])
            if what == "seed" and method == "POST":
                r = json.loads(raw)
                z = st.zones[r["zone"]]
                rid = st.next_id
                st.next_id += 1
                rec = {"id": rid, "zone": r["zone"], "subDomain": r["subDomain"],
                       "fieldType": r["fieldType"], "target": r["target"],
                       "ttl": int(r.get("ttl", 0))}
                z["staged"][rid] = rec
                z["published"][rid] = dict(rec)
                return self.send(200, rec)
        return self.send(404, {"message": "unknown control " + what})


class Server(TLSServer):
    def connected(self):
        with LOCK:
            self.st.connections += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--app-key", required=True)
    ap.add_argument("--app-secret", required=True)
    ap.add_argument("--consumer-key", required=True)
    ap.add_argument("--zones", default="")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--fail-every", type=int, default=0)
    ap.add_argument("--fail-refresh", type=int, default=0,
                    help="fail the next N refresh calls with a 500")
    ap.add_argument("--throttle-every", type=int, default=0)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--skew", type=int, default=0)
    ap.add_argument("--window", type=int, default=180)
    ap.add_argument("--watch-pid", type=int, default=0,
                    help="exit when this process is gone")
    ap.add_argument("--max-seconds", type=int, default=900)
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.st = State(args)
    srv.verbose = args.v
    serve(srv, args)


if __name__ == "__main__":
    main()
