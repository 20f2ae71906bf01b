#!/bin/sh
# rfc2136 provider end to end against Knot DNS's knotd, with the key file
# `keymgr -t` writes.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
. "$TOP/tests/rfc2136/scenario.sh"
r2136_init
r2136_bigzone

PORT=15311
r2136_knot_key ddns hmac-sha512
KEYFILE=$W/ddns.knot.key
if ! r2136_knotd $PORT ddns example.test example.net fooexample.test; then
	not_ok "knotd starts"
	tap_done; exit 1
fi
r2136_scenario
tap_done
