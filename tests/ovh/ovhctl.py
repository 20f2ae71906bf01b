#!/usr/bin/env python3
"""Talk to the fake OVH server's control endpoints from shell tests.

  ovhctl.py DIR stats                      -> JSON stats
  ovhctl.py DIR calls 'PUT /domain/zone/{zone}/record/{id}'  -> count (0 if none)
  ovhctl.py DIR writes                     -> POST+PUT+DELETE record calls
  ovhctl.py DIR total                      -> number of API calls
  ovhctl.py DIR last                       -> time of the last API answer
  ovhctl.py DIR refresh ZONE               -> refresh calls for ZONE
  ovhctl.py DIR refresh_failed ZONE        -> refresh calls failed on purpose
  ovhctl.py DIR reset                      -> zero counters
  ovhctl.py DIR config '{"fail_every": 3}'
  ovhctl.py DIR get ZONE SUB TYPE [staged] -> targets (TXT unquoted), sorted, space-separated
  ovhctl.py DIR ttl ZONE SUB TYPE          -> TTLs of the published records
  ovhctl.py DIR count ZONE SUB TYPE [staged] -> number of records
  ovhctl.py DIR seed ZONE SUB TYPE TARGET [TTL]
  ovhctl.py DIR serial ZONE                -> the zone's SOA serial
DIR is the folder given to fakectl.sh start (port and ca.pem; OVHCTL_CA
overrides the CA file, for a server started with --rogue).
"""
import json
import os
import ssl
import sys
import urllib.request


def call(d, method, path, body=None):
    port = open(os.path.join(d, "port")).read().strip()
    ca = os.environ.get("OVHCTL_CA") or os.path.join(d, "ca.pem")
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request("https://127.0.0.1:%s/_control/%s" % (port, path),
                                 data=body.encode() if body is not None else None,
                                 method=method)
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.loads(r.read() or b"null")


def unquote(t):
    if t.startswith('"') and t.endswith('"'):
        return t[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return t


def records(d, zone, sub, rtype, state="published"):
    recs = call(d, "GET", "zone?zone=%s&state=%s" % (zone, state))
    return [r for r in recs if r["subDomain"] == sub and r["fieldType"] == rtype]


def main(a):
    d, cmd = a[1], a[2]
    if cmd == "stats":
        print(json.dumps(call(d, "GET", "stats"), indent=1, sort_keys=True))
    elif cmd == "calls":
        print(call(d, "GET", "stats")["calls"].get(a[3], 0))
    elif cmd == "writes":
        c = call(d, "GET", "stats")["calls"]
        print(sum(v for k, v in c.items() if k.split()[0] in ("POST", "PUT", "DELETE")
                  and "/record" in k))
    elif cmd == "last":
        print("%.3f" % call(d, "GET", "stats")["last_ts"])
    elif cmd == "total":
        print(call(d, "GET", "stats")["total"])
    elif cmd == "refresh":
        print(call(d, "GET", "stats")["refresh"].get(a[3], 0))
    elif cmd == "refresh_failed":
        print(call(d, "GET", "stats")["refresh_failed"].get(a[3], 0))
    elif cmd == "reset":
        call(d, "POST", "reset", "")
    elif cmd == "config":
        call(d, "POST", "config", a[3])
    elif cmd == "get":
        state = a[6] if len(a) > 6 else "published"
        print(" ".join(sorted(unquote(r["target"]) for r in records(d, a[3], a[4], a[5], state))))
    elif cmd == "count":
        state = a[6] if len(a) > 6 else "published"
        print(len(records(d, a[3], a[4], a[5], state)))
    elif cmd == "ttl":
        print(" ".join(str(r["ttl"]) for r in records(d, a[3], a[4], a[5])))
    elif cmd == "serial":
        print(call(d, "GET", "serial?zone=%s" % a[3]))
    elif cmd == "seed":
        rec = {"zone": a[3], "subDomain": a[4], "fieldType": a[5], "target": a[6],
               "ttl": int(a[7]) if len(a) > 7 else 0}
        print(call(d, "POST", "seed", json.dumps(rec))["id"])
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
