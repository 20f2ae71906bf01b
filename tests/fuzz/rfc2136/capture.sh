#!/bin/sh
# Refresh the seed corpus of the rfc2136 decoder fuzzer with real answers
# from named and knotd (each zone with 3000 extra records, so the AXFR
# spans several messages).   sh tests/fuzz/rfc2136/capture.sh
set -u
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init
CORPUS=$TOP/tests/fuzz/rfc2136/corpus
mkdir -p "$CORPUS"
i=0
while [ $i -lt 3000 ]; do
	echo "h$i IN A 10.$((i / 256)).$((i % 256)).1"
	i=$((i + 1))
done >"$W/extra"
R2136_ZONE_EXTRA=$W/extra
r2136_key ddns
r2136_knot_key ddns
r2136_named 15391 ddns example.test || exit 1
r2136_knotd 15392 ddns example.test || exit 1
python3 "$TOP/tests/fuzz/rfc2136/capture.py" 15391 ddns "$(r2136_secret "$W/ddns.key")" \
	example.test "$W/named"
python3 "$TOP/tests/fuzz/rfc2136/capture.py" 15392 ddns \
	"$(sed -n 's/.*secret: *//p' "$W/ddns.knot.key")" example.test "$W/knot"
for d in named knot; do
	for f in "$W/$d"/*; do cp "$f" "$CORPUS/$d-$(basename "$f")"; done
done
ls "$CORPUS" | wc -l
