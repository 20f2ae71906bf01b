#!/usr/bin/env python3
"""Control the fake Cloudflare API from shell tests. DIR is fakectl.sh's.
  cfctl.py DIR total              API calls since the last reset
  cfctl.py DIR calls              calls by "METHOD /normalised/path", one a line
  cfctl.py DIR writes             POST/PUT/PATCH/DELETE calls
  cfctl.py DIR reads              GET calls
  cfctl.py DIR batches            batch calls, then the operations of each
  cfctl.py DIR reset              zero the counters
  cfctl.py DIR config JSON        set fault injection / limits
  cfctl.py DIR dump ZONE          "name TYPE content ttl" lines, sorted
  cfctl.py DIR api METHOD PATH [JSON]   an API call with the fake's token
"""
import json
import os
import ssl
import sys
import urllib.error
import urllib.request


def call(d, method, path, body=None, token=None):
    port = open(os.path.join(d, "port")).read().strip()
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    req = urllib.request.Request("https://127.0.0.1:%s%s" % (port, path), method=method,
                                 data=body.encode() if body is not None else None)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"null")


def main():
    d, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd in ("total", "calls", "writes", "reads", "batches"):
        st = call(d, "GET", "/_control/stats")
        c = st["calls"]
        if cmd == "total":
            print(st["total"])
        elif cmd == "calls":
            for k in sorted(c):
                print("%s %d" % (k, c[k]))
        elif cmd == "writes":
            print(sum(n for k, n in c.items() if not k.startswith("GET ")))
        elif cmd == "reads":
            print(sum(n for k, n in c.items() if k.startswith("GET ")))
        else:
            print(len(st["batch_ops"]), *st["batch_ops"])
    elif cmd == "reset":
        call(d, "POST", "/_control/reset", "")
    elif cmd == "config":
        call(d, "POST", "/_control/config", args[0])
    elif cmd == "dump":
        for r in call(d, "GET", "/_control/zone?zone=" + args[0]):
            print(r["name"], r["type"], r["content"], r["ttl"], "proxied" if r["proxied"] else "")
    elif cmd == "api":
        tok = os.popen("sh %s/fakectl.sh token" % os.path.dirname(os.path.abspath(__file__))).read().strip()
        print(json.dumps(call(d, args[0], "/client/v4" + args[1], args[2] if len(args) > 2 else None, tok)))
    else:
        sys.exit("cfctl.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
