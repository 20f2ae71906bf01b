#!/bin/sh
# rfc2136 provider end to end against BIND's named: dnsfollow with the
# static backend, a tsig-keygen key, zones holding foreign records.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
. "$TOP/tests/rfc2136/scenario.sh"
r2136_init
r2136_bigzone

PORT=15301
r2136_key ddns hmac-sha256
KEYFILE=$W/ddns.key
ALGS="sha1 sha224 sha384 sha512"
for a in $ALGS; do r2136_key "k$a" "hmac-$a"; done
V6=
if ip -6 addr show lo 2>/dev/null | grep -q 'inet6 ::1/'; then V6=::1; R2136_NAMED_V6=::1; fi
if ! r2136_named $PORT "ddns $(for a in $ALGS; do printf 'k%s ' $a; done)" \
	example.test example.net fooexample.test; then
	not_ok "named starts"
	tap_done; exit 1
fi
r2136_scenario

# Every algorithm, the key given as key_name + key_algorithm +
# key_secret_file (a Docker-secret style file) instead of key_file.
KEYFILE=
for a in $ALGS; do
	r2136_secret "$W/k$a.key" >"$W/k$a.secret"
	r2136_place gogs "192.0.2.$(echo "$a" | tr -dc 0-9 | cut -c1-2)"
	sc_conf "key_name = k$a" "key_algorithm = hmac-$a" "key_secret_file = $W/k$a.secret"
	sc_once
	check "hmac-$a via key_secret_file: pass ok (rc=$RC)" [ "$RC" = 0 ]
	check "hmac-$a: record written" \
		[ "$(r2136_dig "$PORT" git.example.test A)" = "192.0.2.$(echo "$a" | tr -dc 0-9 | cut -c1-2)" ]
	check "hmac-$a: secret not logged" sh -c "! grep -qF '$(cat "$W/k$a.secret")' '$DF_ERR'"
done
# The server given as an IPv6 address.
if [ -n "$V6" ]; then
	KEYFILE=$W/ddns.key
	r2136_place gogs "192.0.2.66, 2001:db8::66"
	sc_conf
	sed -i "s/^server = .*/server = [::1]:$PORT/" "$C"
	sc_once
	check "server = [::1]:$PORT works (rc=$RC)" \
		[ "$(r2136_dig "$PORT" git.example.test AAAA)" = "2001:db8::66" ]
else
	ok "server on ::1 # SKIP no IPv6 loopback"
fi
check "named logged no update failure" sh -c "! grep -q 'update failed' '$W/named-$PORT/log'"
tap_done
