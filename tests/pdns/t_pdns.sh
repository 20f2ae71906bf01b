#!/bin/sh
# pdns provider against a real PowerDNS Authoritative (HTTP API on
# 127.0.0.1:15382, DNS on 15381, gsqlite3 in a temp dir): records appear
# and move, a pass in sync writes nothing, foreign records are left alone,
# a CNAME PowerDNS refuses (422) is reported while the zone's other
# records still converge, and a wrong API key or a zone not served gives
# one clear line and exit 1, no secret printed; dnsfollow-conform (when
# built) passes against the same server, its markers() checks included
# (on kit.test, whose only marker is disabled, none of them skipped).
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/pdns/lib.sh"
if ! pdns_have; then
	ok "PowerDNS # SKIP $PDNS_MISSING missing (apt-get install pdns-server pdns-backend-sqlite3 sqlite3 dnsutils)"
	tap_done; exit 0
fi
pdns_init dnsfollow-pdns
DNS=15381
API=15382
KEY="df-test-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
WRONG="df-wrong-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
pgrep -x pdns_server >/dev/null && diag "a system pdns_server runs; not used"
if ! pdns_start $DNS $API "$KEY" example.test kit.test; then
	not_ok "pdns_server starts"
	tap_done; exit 1
fi
# Foreign data dnsfollow cannot see (HINFO is not a type the provider
# manages, so the core never asks for it): only PowerDNS knows that a
# CNAME at alias.example.test would stand beside it.
pdns_util $DNS add-record example.test alias HINFO 300 '"PC" "Linux"'
pdns_util $DNS add-record example.test legacy A 300 198.51.100.9
printf '%s\n' "$KEY" >"$W/api.key"
chmod 600 "$W/api.key"

# once [EXTRA PROVIDER LINE...]: one pass with the records of $RECORDS; sets RC
RECORDS=git
once() {
	pdns_conf "$W/df.ini" $API "${ZONE:-example.test}" "$@"
	for r in $RECORDS; do
		case $r in
		git) pdns_record "$W/df.ini" "git.${ZONE:-example.test}" gogs "type = A" "ttl = 60" ;;
		alias) pdns_record "$W/df.ini" alias.example.test wiki "type = CNAME" ;;
		legacy) pdns_record "$W/df.ini" legacy.example.test wiki "type = CNAME" ;;
		docs) pdns_record "$W/df.ini" docs.example.test wiki "type = CNAME" ;;
		tmp) pdns_record "$W/df.ini" tmp.example.test tmp "type = A" "on_empty = delete" ;;
		esac
	done
	df -c "$W/df.ini" --once
	RC=$?
	cat "$DF_ERR" >>"$W/all.err"
}
errors() { grep -c "^[^ ]* error " "$DF_ERR"; }
leaked() { cat "$DF_ERR" >>"$W/all.err"; grep -qF -e "$KEY" -e "$WRONG" "$W/all.err"; }
# api_lacks TEXT: the zone as the API shows it (disabled records too) lacks TEXT
api_lacks() { pdns_api $API "$KEY" GET example.test >"$W/zone.json" && grep -q rrsets "$W/zone.json" && ! grep -qF "$1" "$W/zone.json"; }
show() { sed 's/^/# /' "$DF_ERR" | grep -v ' debug ' | tail -${1:-5}; }
foreign_ok() {
	[ "$(pdns_dig $DNS www.example.test A) $(pdns_dig $DNS foreign.example.test A)" = "198.51.100.7 198.51.100.8" ] &&
	[ "$(pdns_dig $DNS mail.example.test TXT)" = '"foreign text, not ours"' ] &&
	[ "$(pdns_dig $DNS legacy.example.test A)" = 198.51.100.9 ] &&
	[ "$(pdns_dig $DNS alias.example.test HINFO)" = '"PC" "Linux"' ]
}

pdns_place gogs "addresses = 192.0.2.10"
pdns_place wiki "addresses = 192.0.2.20" "hostname = node1.example.net"
once "api_key_file = $W/api.key"
check "first pass ok (rc=$RC)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || show
check "record written" [ "$(pdns_dig $DNS git.example.test A)" = 192.0.2.10 ]
check "record TTL 60" sh -c "dig @127.0.0.1 -p $DNS git.example.test A +noall +answer | awk '{print \$2}' | grep -qx 60"
check "ownership marker written" sh -c "dig +short @127.0.0.1 -p $DNS _dnsfollow.git.example.test TXT | grep -q test-owner"
check "foreign records untouched" foreign_ok

S1=$(pdns_serial $DNS example.test)
once "api_key_file = $W/api.key"
check "pass in sync ok (rc=$RC)" [ "$RC" = 0 ]
check "pass in sync writes nothing (serial $S1 = $(pdns_serial $DNS example.test))" \
	[ "$(pdns_serial $DNS example.test)" = "$S1" ]

# A disabled record in the RRset is not reported: it still reads as in
# sync (were it reported, the core would rewrite the RRset).
pdns_api $API "$KEY" PATCH example.test '{"rrsets": [{"name": "git.example.test.",
	"type": "A", "ttl": 60, "changetype": "REPLACE", "records": [
	{"content": "192.0.2.10", "disabled": false}, {"content": "192.0.2.99", "disabled": true}]}]}'
S1=$(pdns_serial $DNS example.test)
once "api_key_file = $W/api.key"
check "disabled record: pass ok (rc=$RC)" [ "$RC" = 0 ]
check "disabled record: not reported, nothing written (serial $S1 = $(pdns_serial $DNS example.test))" \
	[ "$(pdns_serial $DNS example.test)" = "$S1" ]

pdns_place gogs "addresses = 192.0.2.11 192.0.2.12"
once "api_key_file = $W/api.key"
check "move ok (rc=$RC)" [ "$RC" = 0 ]
check "record moved" [ "$(pdns_dig $DNS git.example.test A)" = "192.0.2.11 192.0.2.12" ]
check "the move replaced the whole RRset (the disabled record is gone)" api_lacks 192.0.2.99
check "foreign records untouched after the move" foreign_ok

# A CNAME and a record that will be deleted: written with the trailing dot
# (PowerDNS refuses a CNAME target without it), read back without it (else
# the next pass would rewrite it).
RECORDS="git docs tmp"
pdns_place tmp "addresses = 192.0.2.30"
once "api_key_file = $W/api.key"
check "CNAME written (rc=$RC)" [ "$RC/$(pdns_dig $DNS docs.example.test CNAME)" = 0/node1.example.net. ]
[ "$RC" = 0 ] || show
check "second record written" [ "$(pdns_dig $DNS tmp.example.test A)" = 192.0.2.30 ]
S1=$(pdns_serial $DNS example.test)
once "api_key_file = $W/api.key"
check "CNAME reads back in sync (rc=$RC; serial $S1 = $(pdns_serial $DNS example.test))" \
	[ "$RC/$(pdns_serial $DNS example.test)" = "0/$S1" ]
# Runs nowhere with on_empty = delete: the A RRset goes (a DELETE); the
# marker stays, the name is still claimed.
pdns_place tmp "addresses ="
i=0
while [ $i -lt 5 ] && [ -n "$(pdns_dig $DNS tmp.example.test A)" ]; do
	once "api_key_file = $W/api.key" && sleep 0.5
	i=$((i + 1))
done
check "on_empty = delete: record deleted (after $i pass(es), rc=$RC)" \
	[ -z "$(pdns_dig $DNS tmp.example.test A)" ]
check "on_empty = delete: gone from the zone, not only disabled" api_lacks 192.0.2.30
[ -z "$(pdns_dig $DNS tmp.example.test A)" ] || show

# A CNAME beside data the core cannot see: PowerDNS refuses the PATCH
# (422); the core splits the batch, so the move of git still lands.
pdns_place gogs "addresses = 192.0.2.13"
RECORDS="git alias"
once "api_key_file = $W/api.key"
check "refused CNAME: pass fails (rc=$RC)" [ "$RC" = 1 ]
n=$(grep -c "^[^ ]* error .*alias.example.test.*HTTP 422.*Conflicts with pre-existing RRset" "$DF_ERR")
check "refused CNAME: one error line with PowerDNS's 422 text (got $n)" [ "$n" = 1 ]
[ "$n" = 1 ] || show 8
grep "^[^ ]* error .*alias.example.test" "$DF_ERR" | head -1 | sed 's/^/# /'
check "refused CNAME: the zone's other record converged" [ "$(pdns_dig $DNS git.example.test A)" = 192.0.2.13 ]
check "refused CNAME: no CNAME written" [ -z "$(pdns_dig $DNS alias.example.test CNAME)" ]
check "refused CNAME: no marker written (atomic)" [ -z "$(pdns_dig $DNS _dnsfollow.alias.example.test TXT)" ]
check "refused CNAME: foreign records untouched" foreign_ok

# A CNAME beside a foreign A: refused, by the core's ownership check or by
# PowerDNS; either way the A stays and the other record converges.
pdns_place gogs "addresses = 192.0.2.14"
RECORDS="git legacy"
once "api_key_file = $W/api.key"
check "CNAME beside A: pass fails (rc=$RC)" [ "$RC" = 1 ]
check "CNAME beside A: one error line naming it" \
	[ "$(grep -c "^[^ ]* error .*legacy.example.test" "$DF_ERR")" = 1 ]
grep "^[^ ]* error .*legacy.example.test" "$DF_ERR" | head -1 | sed 's/^/# /'
check "CNAME beside A: the other record converged" [ "$(pdns_dig $DNS git.example.test A)" = 192.0.2.14 ]
check "CNAME beside A: A kept, no CNAME" \
	[ "$(pdns_dig $DNS legacy.example.test A)/$(pdns_dig $DNS legacy.example.test CNAME)" = "198.51.100.9/" ]

# Wrong API key: one clear line, exit 1, nothing written, no key printed.
RECORDS=git
pdns_place gogs "addresses = 192.0.2.15"
S1=$(pdns_serial $DNS example.test)
once "api_key = $WRONG"
check "wrong key: exit 1 (got $RC)" [ "$RC" = 1 ]
n=$(grep -c "^[^ ]* error .*HTTP 401: PowerDNS refused the API key" "$DF_ERR")
e=$(errors)
check "wrong key: one error line saying the key was refused (got $n; $e error lines)" \
	[ "$n/$e" = 1/1 ]
[ "$n" = 1 ] || show
grep "^[^ ]* error " "$DF_ERR" | sed "s/^/# /"
check "wrong key: nothing written" [ "$(pdns_serial $DNS example.test)" = "$S1" ]
if leaked; then not_ok "wrong key: a key was printed"; else ok "wrong key: no key in the output"; fi

# A zone this PowerDNS does not serve.
ZONE=other.test once "api_key_file = $W/api.key"
check "zone not served: exit 1 (got $RC)" [ "$RC" = 1 ]
n=$(grep -c "^[^ ]* error .*zone other.test: HTTP 404 from .*: zone not served" "$DF_ERR")
check "zone not served: one error line naming the zone (got $n)" [ "$n" = 1 ]
[ "$n" = 1 ] || show
grep "^[^ ]* error " "$DF_ERR" | sed 's/^/# /'

# Keys are typed: the core refuses a bad value before any request.
pdns_conf "$W/bad.ini" $API example.test "api_key_file = $W/api.key" "timeout = forever"
pdns_record "$W/bad.ini" git.example.test gogs
df -c "$W/bad.ini" --check-config; RC=$?
check "timeout = forever: --check-config exit 78 (got $RC)" [ "$RC" = 78 ]
check "timeout = forever: FILE:LINE named" grep -q "bad.ini:[0-9]*:.*timeout" "$DF_ERR"
if leaked; then not_ok "a key was printed in some run"; else ok "no key printed in any run"; fi

# The conformance kit against this server (it writes and removes dfc-*
# names in the zone): the semantics every provider must keep.
# kit ZONE: one run on ZONE; TAP in $W/kit-ZONE.out.
kit() {
	pdns_conf "$W/kit.ini" $API "$1" "api_key_file = $W/api.key"
	timeout 300 $DF_WRAP "$KIT" -c "$W/kit.ini" --provider dns >"$W/kit-$1.out" 2>&1; rc=$?
	grep -E '^not ok' "$W/kit-$1.out" | sed 's/^/# kit: /'
	check "dnsfollow-conform passes against pdns_server on $1 ($(grep -c '^ok' "$W/kit-$1.out") ok, rc=$rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || grep -E '^(not ok|# |Bail)' "$W/kit-$1.out" | head -10 | sed 's/^/# /'
}
# markers_ok ZONE: how many of the kit's four markers() checks passed, not skipped
markers_ok() {
	grep -E '^ok [0-9]+ - (markers\(\)|every RRset markers\(\))' "$W/kit-$1.out" | grep -vc '# SKIP'
}
# zone_has ZONE TEXT: the zone as the API shows it (disabled records too) holds TEXT
zone_has() { pdns_api $API "$KEY" GET "$1" | grep -qF "$2"; }
KIT="$B/dnsfollow-conform"
if [ -x "$KIT" ]; then
	kit example.test
	check "the kit left the foreign records alone" foreign_ok
	# example.test holds the markers of the passes above: "none" cannot
	# be judged there and is skipped, naming one; the other three ran.
	check "kit on example.test: 'zone without markers' skipped, naming a marker" \
		grep -q '^ok .*without markers reports none # SKIP .*_dnsfollow\.[a-z]*\.example\.test' \
		"$W/kit-example.test.out"
	check "kit on example.test: the other three markers() checks passed" \
		[ "$(markers_ok example.test)" = 3 ]
	# kit.test: foreign records, and a marker whose only record is
	# disabled; PowerDNS does not serve it, so markers() must not report
	# it (if it did, "none" would be skipped, naming it).
	pdns_api $API "$KEY" PATCH kit.test '{"rrsets": [{"name": "_dnsfollow.off.kit.test.",
		"type": "TXT", "ttl": 60, "changetype": "REPLACE", "records": [
		{"content": "\"heritage=dnsfollow,owner=gone\"", "disabled": true}]}]}' >/dev/null
	check "a marker whose only record is disabled sits in kit.test" \
		zone_has kit.test _dnsfollow.off.kit.test
	kit kit.test
	check "kit on kit.test: the four markers() checks passed, none skipped" \
		[ "$(markers_ok kit.test)" = 4 ]
	grep '^ok .*markers().*# SKIP' "$W/kit-kit.test.out" | sed 's/^/# /'
else
	not_ok "dnsfollow-conform built (make tests-build)"
fi
check "pdns logged no crash" sh -c "! grep -qi 'segfault\|fatal' '$W/pdns-$DNS/log'"
tap_done
