#!/bin/sh
# Seeds of the transfer fuzzer (fuzz_axfr.c) from the captured transfers
# of ../corpus (capture.sh): each server's messages in one stream, once
# as they are (no TSIG check) and once re-signed by the harness.
#   sh tests/fuzz/rfc2136/axfr-corpus/make-seeds.sh
set -eu
D=$(cd "$(dirname "$0")" && pwd)
C=$D/../corpus
for srv in named knot; do
	for flags in 0 3 7; do
		python3 - "$flags" "$D/$srv-axfr-flags$flags" "$C/$srv"-example.test-axfr-* <<'PY'
import struct, sys
flags, out, files = int(sys.argv[1]), sys.argv[2], sorted(sys.argv[3:])
data = bytes([flags])
for f in files:
    m = open(f, "rb").read()
    if flags & 2:
        # The harness signs again: drop the server's TSIG (the last RR)
        # by taking ARCOUNT down and cutting at its start. Captured
        # answers end with the key name "ddns" (6 bytes + fixed part).
        ar = struct.unpack(">H", m[10:12])[0]
        i = m.rfind(b"\x04ddns\x00\x00\xfa\x00\xff")
        if ar and i > 12:
            m = m[:10] + struct.pack(">H", ar - 1) + m[12:i]
    data += struct.pack(">H", len(m)) + m
open(out, "wb").write(data)
PY
	done
done
ls "$D" | grep -c axfr
