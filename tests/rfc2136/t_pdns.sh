#!/bin/sh
# rfc2136 provider against PowerDNS Authoritative (Debian pdns-server,
# gsqlite3 backend, RFC 2136 with a TSIG key and TSIG-ALLOW-DNSUPDATE):
# records are written and moved with the right key; a wrong secret, an
# unknown key name and a wrong algorithm each get one clear line saying
# the key may be wrong (PowerDNS answers all three with an unsigned
# NOTAUTH), the zone untouched and no secret printed; a key file readable
# by others is warned about; a `type = CNAME` record is written, read
# back in sync and moved.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
for c in pdns_server pdnsutil sqlite3; do
	if ! command -v $c >/dev/null; then
		ok "PowerDNS # SKIP $c missing (apt-get install pdns-server pdns-backend-sqlite3 sqlite3)"
		tap_done; exit 0
	fi
done
r2136_init

PORT=15361
# A pdns the package may have started on port 53 plays no part: ours has
# its own config dir, database and port.
pgrep -x pdns_server >/dev/null && diag "a system pdns_server runs; not used"
r2136_key ddns
chmod 600 "$W/ddns.key"
tsig-keygen -a hmac-sha256 ddns >"$W/wrong.key"       # same name, other secret
tsig-keygen -a hmac-sha256 nobody >"$W/nobody.key"    # a name pdns does not know
sed 's/hmac-sha256/hmac-sha512/' "$W/ddns.key" >"$W/alg.key" # same secret, other algorithm
chmod 600 "$W/wrong.key" "$W/nobody.key" "$W/alg.key"
if ! r2136_pdns $PORT ddns example.test; then
	not_ok "pdns_server starts"
	tap_done; exit 1
fi

# once KEYFILE [ZONE]: one pass for git.ZONE; sets RC
once() {
	r2136_conf "$W/df.ini" $PORT "$1" "${2:-example.test}"
	sed -i 's/^\[dnsfollow\]$/&\nretries = 1/' "$W/df.ini"
	r2136_record "$W/df.ini" "git.${2:-example.test}" gogs "type = A"
	df -c "$W/df.ini" --once
	RC=$?
}
leaked() {
	for s in $(r2136_secret "$W/ddns.key") $(r2136_secret "$W/wrong.key") \
		$(r2136_secret "$W/nobody.key"); do
		grep -qF "$s" "$DF_ERR" && return 0
	done
	return 1
}

r2136_place gogs "192.0.2.10"
once "$W/ddns.key"
check "right key: pass ok (rc=$RC)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || sed 's/^/# /' "$DF_ERR" | tail -5
check "right key: record written" [ "$(r2136_dig $PORT git.example.test A)" = 192.0.2.10 ]
check "right key: ownership marker written" \
	sh -c "r=\$(dig +short @127.0.0.1 -p $PORT _dnsfollow.git.example.test TXT); [ -n \"\$r\" ]"
check "right key: key file mode 600 not warned about" sh -c "! grep -q 'chmod 600' '$DF_ERR'"
r2136_place gogs "192.0.2.11"
once "$W/ddns.key"
check "right key: record moved (rc=$RC)" [ "$(r2136_dig $PORT git.example.test A)" = 192.0.2.11 ]
check "foreign records untouched" [ "$(r2136_dig $PORT www.example.test A) $(r2136_dig $PORT foreign.example.test A)" = "198.51.100.7 198.51.100.8" ]
check "foreign TXT untouched" [ "$(r2136_dig $PORT mail.example.test TXT)" = '"foreign text, not ours"' ]

# Each wrong key: exit 1, one error line naming the key as the likely
# cause, nothing written.
r2136_place gogs "192.0.2.12"
for v in "wrong secret:wrong:ddns" "unknown key name:nobody:nobody" "wrong algorithm:alg:ddns"; do
	what=${v%%:*}; rest=${v#*:}; file=${rest%%:*}; name=${rest#*:}
	BEFORE=$(r2136_serial $PORT example.test)
	once "$W/$file.key"
	check "$what: exit 1 (got $RC)" [ "$RC" = 1 ]
	pat="unsigned NOTAUTH: the TSIG key '$name' (name, secret or algorithm"
	n=$(grep -c "^[^ ]* error .*$pat" "$DF_ERR")
	check "$what: one error line saying the key may be wrong (got $n)" [ "$n" = 1 ]
	[ "$n" = 1 ] || sed 's/^/# /' "$DF_ERR" | head -5
	grep "^[^ ]* error " "$DF_ERR" | head -1 | sed 's/^/# /'
	check "$what: the line says the zone may not be served" \
		grep -q "may be wrong, or the server does not serve the zone" "$DF_ERR"
	check "$what: no 'not authoritative' misdirection" sh -c "! grep -q 'is not authoritative' '$DF_ERR'"
	check "$what: record unchanged" [ "$(r2136_dig $PORT git.example.test A)" = 192.0.2.11 ]
	check "$what: serial unchanged" [ "$(r2136_serial $PORT example.test)" = "$BEFORE" ]
	if leaked; then not_ok "$what: secret leaked"; else ok "$what: no secret in the output"; fi
done

# A zone this server does not serve: one clear line too.
once "$W/ddns.key" other.test
check "zone not served: exit 1 (got $RC)" [ "$RC" = 1 ]
n=$(grep -c '^[^ ]* error .*other.test.*\(REFUSED\|NOTAUTH\)' "$DF_ERR")
check "zone not served: one error line naming the zone (got $n)" [ "$n" = 1 ]
[ "$n" = 1 ] || sed 's/^/# /' "$DF_ERR" | head -5

# A key file others may read: warned about (once), still used.
chmod 644 "$W/ddns.key"
once "$W/ddns.key"
check "key file mode 644: pass ok (rc=$RC)" [ "$RC" = 0 ]
check "key file mode 644: warned, chmod 600 it" \
	[ "$(grep -c "$W/ddns.key.*chmod 600" "$DF_ERR")" = 1 ]
check "key file mode 644: the record converged" [ "$(r2136_dig $PORT git.example.test A)" = 192.0.2.12 ]
# type = CNAME through dnsfollow (the static backend's hostname): the
# CNAME and its marker written, read back in sync, moved.
chmod 600 "$W/ddns.key"
r2136_place_host www2 "192.0.2.60" node-1.hosts.example.net
r2136_conf "$W/df.ini" $PORT "$W/ddns.key" example.test
r2136_record "$W/df.ini" alias.example.test www2 "type = CNAME"
df -c "$W/df.ini" --once
RC=$?
check "CNAME: pass ok (rc=$RC)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || grep ' error ' "$DF_ERR" | tail -3 | sed 's/^/# /'
check "CNAME: written" [ "$(r2136_dig $PORT alias.example.test CNAME)" = node-1.hosts.example.net. ]
BEFORE=$(r2136_serial $PORT example.test)
df -c "$W/df.ini" --once
RC=$?
check "CNAME: read back in sync, no UPDATE (rc=$RC)" \
	[ "$RC" = 0 -a "$(r2136_serial $PORT example.test)" = "$BEFORE" ]
r2136_place_host www2 "192.0.2.60" node-2.hosts.example.net
df -c "$W/df.ini" --once
check "CNAME: moved (rc=$?)" [ "$(r2136_dig $PORT alias.example.test CNAME)" = node-2.hosts.example.net. ]
check "pdns logged no crash" sh -c "! grep -qi 'segfault\|fatal' '$W/pdns-$PORT/log'"
tap_done
