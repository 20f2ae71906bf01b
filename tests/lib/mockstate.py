#!/usr/bin/env python3
"""Read the mock provider's state file in tests.

  mockstate.py STATE ZONE NAME TYPE   -> the RRset's rdata, sorted, space-separated
                                         ("" when absent); exit 0
  mockstate.py STATE ZONE --serial    -> the zone's write serial (0 when absent)
  mockstate.py STATE ZONE NAME TYPE --ttl -> the RRset's TTL
  mockstate.py STATE ZONE NAME TYPE --comment -> the RRset's comment (a record's
                                         `comment` option; "" when none)

TYPE is the type's name as the mock stores it: A, AAAA, TXT, CNAME, MX, ...,
TYPE<n> for a type without a name. TXT data is the raw text.

State format (providers/mock/README.md):
  {"zones": {ZONE: {"serial": N, "rrsets": {NAME: {TYPE: {"ttl": T, "rdata": [..]}}}}}}
"""
import json
import sys

def main(argv):
    state, zone = argv[1], argv[2]
    try:
        with open(state) as f:
            doc = json.load(f)
    except FileNotFoundError:
        doc = {}
    z = doc.get("zones", {}).get(zone, {})
    if len(argv) > 3 and argv[3] == "--serial":
        print(z.get("serial", 0))
        return 0
    name, rtype = argv[3], argv[4]
    rr = z.get("rrsets", {}).get(name, {}).get(rtype)
    if len(argv) > 5 and argv[5] == "--ttl":
        print(rr["ttl"] if rr else "")
        return 0
    if len(argv) > 5 and argv[5] == "--comment":
        print(rr.get("comment", "") if rr else "")
        return 0
    print(" ".join(sorted(rr["rdata"])) if rr else "")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
