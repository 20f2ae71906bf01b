#!/bin/sh
# ops.markers of the rfc2136 provider (a TSIG-signed AXFR) against a real
# named and knotd: it reports exactly the `_dnsfollow.` TXT RRsets of the
# zone (those written with apply(), and a hand-made one), nothing else,
# from a transfer of several messages each verified; and a transfer that
# the server refuses (key not allowed, no key) or that is signed with a
# wrong secret fails with one clear, permanent error naming the fix.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
DRV=$B/tests/unit/rfc2136/drv_markers
if [ ! -x "$DRV" ]; then
	not_ok "driver built (make tests-build)"
	tap_done; exit 0
fi
r2136_init

# 3000 more records (the transfer spans several messages) and names that
# look like markers but are not: another type, a deeper label.
awk 'BEGIN { for (i = 0; i < 3000; i++)
	printf "h%d IN A 10.%d.%d.1\n", i, int(i / 256), i % 256 }' >"$W/extra"
cat >>"$W/extra" <<'EOF2'
_dnsfollow.handmade IN TXT "heritage=dnsfollow,owner=someone-else"
_dnsfollow.handmade IN TXT "a second datum: the RRset comes whole"
_dnsfollow.notxt IN CNAME www
x._dnsfollow.deeper IN TXT "heritage=dnsfollow,owner=driver"
EOF2
R2136_ZONE_EXTRA=$W/extra

# drv SERVER KEYFILE ARG...: run the driver, output in $W/out.
drv() {
	_s=$1; _k=$2; shift 2
	timeout 120 "$DRV" "127.0.0.1:$_s" "$_k" example.test opt:timeout_ms=3000 "$@" \
		>"$W/out" 2>&1
}
val() { sed -n "s/^$1=//p" "$W/out" | head -1; }
# The markers reported, as "NAME TTL DATA" lines, sorted.
markers() { sed -n 's/^marker=//p' "$W/out" | sort; }

# want N: the expected list with handmade and a1..aN except the deleted.
want() {
	{
		echo "_dnsfollow.handmade 300 heritage=dnsfollow,owner=someone-else"
		echo "_dnsfollow.handmade 300 a second datum: the RRset comes whole"
		for i in $(seq 1 "$1"); do
			case " $2 " in *" $i "*) continue ;; esac
			echo "_dnsfollow.a$i.example.test 60 heritage=dnsfollow,owner=driver"
		done
	} | sed 's/^_dnsfollow.handmade /_dnsfollow.handmade.example.test /' | sort
}

# suite NAME PORT KEYFILE BADKEYFILE NOXFRKEYFILE NOXFR-ANSWER NOKEY-ANSWER
suite() {
	n=$1; port=$2
	drv "$port" "$3" markers
	check "$n: markers of a fresh zone: ok (rc=$(val rc) $(val error))" [ "$(val rc)" = 0 ]
	check "$n: only the hand-made marker, both its data" [ "$(markers)" = "$(want 0)" ]
	check "$n: reported as one RRset of 2" \
		[ "$(grep -c '^rrset=_dnsfollow.handmade.example.test 2$' "$W/out")" = 1 ]
	check "$n: one RRset per marker name" \
		[ "$(grep -c '^rrset=' "$W/out")" = "$(grep '^rrset=' "$W/out" | sort -u | wc -l)" ]
	check "$n: nothing but markers reported" [ -z "$(grep '^other=' "$W/out")" ]
	msgs=$(sed -n 's/^log=.*transfer of [0-9]* records in \([0-9]*\) message(s), TSIG verified on each.*/\1/p' "$W/out")
	check "$n: a transfer of ${msgs:-no} messages, TSIG verified on each" [ "${msgs:-0}" -gt 1 ]

	adds=""; for i in $(seq 1 40); do adds="$adds +a$i.example.test"; done
	# shellcheck disable=SC2086
	drv "$port" "$3" $adds markers
	check "$n: 40 markers written, then listed (rc=$(val rc) $(val error))" [ "$(val rc)" = 0 ]
	check "$n: exactly those 40 and the hand-made one" [ "$(markers)" = "$(want 40)" ]
	if [ "$(markers)" != "$(want 40)" ]; then
		markers >"$W/got"; want 40 >"$W/want"
		diff "$W/want" "$W/got" | head -5 | sed 's/^/# /'
	fi

	dels=""; for i in 3 7 11 40; do dels="$dels -a$i.example.test"; done
	# shellcheck disable=SC2086
	drv "$port" "$3" $dels markers
	check "$n: 4 deleted, the rest listed exactly" [ "$(markers)" = "$(want 40 "3 7 11 40")" ]
	check "$n: dig agrees: the deleted marker is gone" \
		[ -z "$(r2136_dig "$port" _dnsfollow.a3.example.test TXT)" ]

	drv "$port" "$4" markers
	check "$n: wrong secret: permanent error (rc=$(val rc))" [ "$(val kind)" = permanent ]
	check "$n: wrong secret: says BADSIG: $(val error)" grep -q '^error=.*(BADSIG): wrong secret' "$W/out"
	check "$n: wrong secret: no marker reported" [ -z "$(markers)" ]

	drv "$port" "$5" markers
	check "$n: key without transfer rights: permanent error (rc=$(val rc))" [ "$(val kind)" = permanent ]
	check "$n: key without transfer rights: $6, naming allow-transfer and acl action transfer: $(val error)" \
		sh -c "grep -q '^error=.*($6.*allow-transfer { key noxfr; }.*acl with key noxfr and action transfer' '$W/out'"

	drv "$port" - markers
	check "$n: no key: permanent error (rc=$(val rc))" [ "$(val kind)" = permanent ]
	check "$n: no key: $7, says to configure a TSIG key: $(val error)" \
		sh -c "grep -q '^error=.*($7).*configure a TSIG key.*allow-transfer' '$W/out'"
	check "$n: no key: no marker reported" [ -z "$(markers)" ]

	drv "$port" "$3" opt:transport=tcp markers
	check "$n: transport = tcp: the same list" [ "$(markers)" = "$(want 40 "3 7 11 40")" ]
}

mkdir -p "$W/bad"
r2136_key ddns
r2136_key noxfr
r2136_knot_key ddns
r2136_knot_key noxfr
chmod 600 "$W"/*.key
# The same key names with other secrets.
tsig-keygen ddns >"$W/bad/ddns.key"
keymgr -t ddns hmac-sha256 >"$W/bad/ddns.knot.key"
chmod 600 "$W"/bad/*.key

# Ports: tests/lifecycle holds 15401-15405 (its notes reserve up to
# 15409); these two are the last of the range handed to this test.
# named: noxfr is known but not in allow-transfer: REFUSED. Knot answers
# BADKEY for a known key no acl names, NOTAUTH without a key.
if R2136_NAMED_CONF_EXTRA="include \"$W/noxfr.key\";" r2136_named 15408 ddns example.test; then
	suite named 15408 "$W/ddns.key" "$W/bad/ddns.key" "$W/noxfr.key" REFUSED REFUSED
else
	not_ok "named starts"
fi
if R2136_KNOT_KEYS_EXTRA=noxfr r2136_knotd 15409 ddns example.test; then
	suite knotd 15409 "$W/ddns.knot.key" "$W/bad/ddns.knot.key" "$W/noxfr.knot.key" BADKEY NOTAUTH
else
	not_ok "knotd starts"
fi
tap_done
