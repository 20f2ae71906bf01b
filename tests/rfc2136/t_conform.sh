#!/bin/sh
# The conformance kit (dnsfollow-conform, docs/conformance.md) against the
# rfc2136 provider on a real named, knotd and (when installed) PowerDNS:
# every check the kit makes must pass on each server (round trips of A,
# AAAA, TXT and CNAME, SET/DELETE semantics, type isolation, CNAME
# exclusivity, all or nothing, unknown zones, markers() by zone
# transfer: each server's config allows the key to transfer, see lib.sh).
# The kit's own TAP lines
# are shown as diagnostics; one line per server says how it went.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
KIT=$B/dnsfollow-conform
if [ ! -x "$KIT" ]; then
	not_ok "conformance kit built (make tests-build)"
	tap_done; exit 0
fi
r2136_init

# kit NAME PORT KEYFILE: run the kit on zone example.test of that server.
kit() {
	cat >"$W/kit-$1.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS

[provider dns]
type = rfc2136
zones = example.test
server = 127.0.0.1:$2
key_file = $3
EOF
	timeout 300 "$KIT" -c "$W/kit-$1.ini" >"$W/kit-$1.out" 2>"$W/kit-$1.err"
	_rc=$?
	_n=$(grep -c '^ok ' "$W/kit-$1.out")
	_f=$(grep -c '^not ok ' "$W/kit-$1.out")
	check "$1: the kit passes (exit $_rc, $_n ok, $_f not ok)" \
		[ "$_rc" = 0 -a "$_f" = 0 -a "$_n" -ge 20 ]
	[ "$_rc" = 0 ] || grep -e '^not ok' -e '^# ' -e '^Bail' "$W/kit-$1.out" |
		head -20 | sed 's/^/# /'
	check "$1: the kit names CNAME among the types" \
		grep -q '^# .*types A AAAA TXT CNAME' "$W/kit-$1.out"
	# markers() (a TSIG-signed AXFR): its checks ran, none skipped, and
	# they pass; the server must allow the key to transfer (lib.sh).
	_m=$(grep -c '^ok [0-9]* - markers()' "$W/kit-$1.out")
	check "$1: the kit's markers() checks ran and pass ($_m ok)" \
		[ "$_m" -ge 3 -a -z "$(grep -e '^not ok .*markers' -e '^ok .*markers.*# *[Ss][Kk][Ii][Pp]' "$W/kit-$1.out")" ]
}

r2136_key ddns
chmod 600 "$W/ddns.key"
r2136_knot_key ddns
chmod 600 "$W/ddns.knot.key"
if r2136_named 15351 ddns example.test; then
	kit named 15351 "$W/ddns.key"
else
	not_ok "named starts"
fi
if r2136_knotd 15352 ddns example.test; then
	kit knotd 15352 "$W/ddns.knot.key"
else
	not_ok "knotd starts"
fi
if command -v pdns_server >/dev/null && command -v pdnsutil >/dev/null &&
   command -v sqlite3 >/dev/null; then
	if r2136_pdns 15353 ddns example.test; then
		kit pdns 15353 "$W/ddns.key"
	else
		not_ok "pdns_server starts"
	fi
else
	ok "PowerDNS # SKIP pdns_server, pdnsutil or sqlite3 missing"
fi
tap_done
