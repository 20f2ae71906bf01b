#!/usr/bin/env python3
"""Capture real server answers as the seed corpus of the rfc2136 decoder
fuzzer: signed and unsigned queries, an AXFR, UPDATEs and TSIG errors.

    capture.py PORT KEYNAME SECRET_B64 ZONE OUTDIR

Run by capture.sh against a named or knotd it starts; talks to 127.0.0.1.
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import time


def name(n):
    out = b""
    for label in n.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def sign(msg, key, secret, now):
    """Append a TSIG RR (hmac-sha256) to msg; ARCOUNT is incremented."""
    alg = name("hmac-sha256")
    variables = name(key) + struct.pack(">HI", 255, 0) + alg + \
        struct.pack(">HIHHH", now >> 32, now & 0xffffffff, 300, 0, 0)
    mac = hmac.new(secret, msg + variables, hashlib.sha256).digest()
    qid = msg[:2]
    ar = struct.unpack(">H", msg[10:12])[0] + 1
    rdata = alg + struct.pack(">HIHH", now >> 32, now & 0xffffffff, 300, len(mac)) + \
        mac + qid + struct.pack(">HH", 0, 0)
    rr = name(key) + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    return msg[:10] + struct.pack(">H", ar) + msg[12:] + rr


def query(qname, qtype, qid=0x4242):
    return header(qid, 0, 1, 0, 0, 0) + name(qname) + struct.pack(">HH", qtype, 1)


def update(zone, owner, ip, qid=0x5151):
    body = name(zone) + struct.pack(">HH", 6, 1)
    body += name(owner) + struct.pack(">HHIH", 1, 255, 0, 0)
    body += name(owner) + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
    return header(qid, 5 << 11, 1, 0, 2, 0) + body


def udp(port, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(msg, ("127.0.0.1", port))
    try:
        return [s.recv(65535)]
    except socket.timeout:
        return []
    finally:
        s.close()


def tcp(port, msg, many=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(struct.pack(">H", len(msg)) + msg)
    out, buf = [], b""
    deadline = time.time() + 5
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                out.append(buf[2:2 + n])
                buf = buf[2 + n:]
            if out and not many:
                break
            if many and out and out[-1][3] & 0x0f == 0 and soa_count(out) >= 2:
                break
    except socket.timeout:
        pass
    s.close()
    return out


def soa_count(msgs):
    # Good enough for a capture script: count the SOA type in answers.
    return sum(m.count(b"\x00\x06\x00\x01") for m in msgs)


def main():
    port, key, secret, zone, outdir = sys.argv[1:6]
    port, secret = int(port), base64.b64decode(secret)
    os.makedirs(outdir, exist_ok=True)
    now = int(time.time())
    cases = {
        "soa": udp(port, query(zone, 6)),
        "a-signed": udp(port, sign(query("www." + zone, 1), key, secret, now)),
        "txt-signed": udp(port, sign(query("mail." + zone, 16), key, secret, now)),
        "nx-signed": udp(port, sign(query("nope." + zone, 1), key, secret, now)),
        "ns": udp(port, query(zone, 2)),
        "badkey": udp(port, sign(query(zone, 6), "nobody", secret, now)),
        "badsig": udp(port, sign(query(zone, 6), key, b"x" * 32, now)),
        "badtime": udp(port, sign(query(zone, 6), key, secret, now - 5000)),
        "update-signed": udp(port, sign(update(zone, "cap." + zone, "192.0.2.99"),
                                        key, secret, now)),
        "update-unsigned": udp(port, update(zone, "cap." + zone, "192.0.2.98")),
        "refused": udp(port, query("other.invalid", 1)),
        "axfr": tcp(port, sign(query(zone, 252), key, secret, now), many=True),
    }
    for tag, msgs in cases.items():
        for i, m in enumerate(msgs):
            with open(os.path.join(outdir, "%s-%s-%d" % (zone, tag, i)), "wb") as f:
                f.write(m)
    print("captured %d messages" % sum(len(m) for m in cases.values()))


if __name__ == "__main__":
    main()
