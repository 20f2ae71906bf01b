#!/bin/sh
# End-to-end: dnsfollow + static backend + OVH provider against the fake
# OVH API: first sync, in-sync pass, placement change, foreign records,
# refreshes counted (each new process sends one per zone at first contact,
# since a restart cannot know what an earlier run left staged; then one
# per zone it writes), credentials from ovh.conf, no secret in the logs.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/ovh/lib.sh"

fake_start || { not_ok "fake OVH server starts"; tap_done; exit 1; }
write_ovh_conf
write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
# Someone else's records in the zone, at names dnsfollow does not manage.
$CTL seed a.test www A 203.0.113.5 3600 >/dev/null
$CTL seed a.test '' TXT 'v=spf1 -all' 3600 >/dev/null

# --- first sync -----------------------------------------------------------
$CTL reset
df -c "$T/df.ini" --once -v; rc=$?
check "first sync exits 0" [ "$rc" = 0 ]
check "A published" [ "$(get a.test git A)" = "192.0.2.10" ]
check "AAAA published" [ "$(get a.test git AAAA)" = "2001:db8::10" ]
check "ownership marker published" \
	[ "$(get a.test _dnsfollow.git TXT)" = "heritage=dnsfollow,owner=e2e" ]
check "second zone published" [ "$(get b.test www A)" = "198.51.100.20" ]
check "TTL as configured" [ "$($CTL ttl a.test git A)" = "60" ]
# First contact (new process) + the one refresh of the pass that wrote.
check "zone a.test refreshed twice: first contact, then its writes" [ "$($CTL refresh a.test)" = 2 ]
check "zone b.test refreshed twice: first contact, then its writes" [ "$($CTL refresh b.test)" = 2 ]
check "first contact: a refresh is the first zone call" \
	python3 -c "import json,sys
o=[c for c in json.loads(sys.argv[1])['order'] if ' /domain/zone/' in c]
sys.exit(o[:1] != ['POST /domain/zone/{zone}/refresh'])" "$($CTL stats)"
check "every call signed and accepted (no 4xx)" \
	python3 -c "import json,sys; s=json.loads(sys.argv[1]); sys.exit(any(k.startswith('4') for k in s['errors']))" \
	"$($CTL stats)"
check "secrets never in the logs (debug level)" \
	sh -c "! grep -q -e '$OVH_AS' -e '$OVH_CK' '$DF_ERR'"
check "debug log shows the zone read whole: its SOA, then its id list" \
	sh -c "grep -q 'GET /domain/zone/a.test/soa -> 200' '$DF_ERR' && grep -q 'GET /domain/zone/a.test/record -> 200' '$DF_ERR'"

# --- in sync: no write, no refresh -------------------------------------------
$CTL reset
df -c "$T/df.ini" --once; rc=$?
check "in-sync pass exits 0" [ "$rc" = 0 ]
check "in-sync pass makes no write call" [ "$($CTL writes)" = 0 ]
check "in-sync pass (new process): one first-contact refresh per zone, none more" \
	[ "$($CTL refresh a.test)$($CTL refresh b.test)" = 11 ]
calls=$($CTL total)
diag "in-sync pass (new process, empty cache): $calls calls"
# 1 time + 2 first-contact refreshes (one per zone) + per zone its SOA and
# id list (4) + 5 GETs (each record once: the cache is empty).
check "in-sync pass reads each zone whole once (<= 15 calls, 2 of them first-contact refreshes)" [ "$calls" -le 15 ]

# --- placement change -----------------------------------------------------------
placements '[gogs]' 'addresses = 192.0.2.11, 192.0.2.12, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
$CTL reset
df -c "$T/df.ini" --once; rc=$?
check "placement change exits 0" [ "$rc" = 0 ]
check "A follows the placement" [ "$(get a.test git A)" = "192.0.2.11 192.0.2.12" ]
check "AAAA unchanged" [ "$(get a.test git AAAA)" = "2001:db8::10" ]
check "a.test refreshed for its writes, b.test only at first contact" \
	[ "$($CTL refresh a.test)$($CTL refresh b.test)" = 21 ]
check "existing record updated in place (one PUT), one created (one POST)" \
	[ "$($CTL calls 'PUT /domain/zone/{zone}/record/{id}') $($CTL calls 'POST /domain/zone/{zone}/record')" = "1 1" ]
check "staged equals published after the pass" \
	[ "$(get a.test git A staged)" = "$(get a.test git A)" ]

# --- foreign records untouched ------------------------------------------------------
check "foreign A record untouched" [ "$(get a.test www A)" = "203.0.113.5" ]
check "foreign apex TXT untouched" [ "$(get a.test '' TXT)" = "v=spf1 -all" ]
check "foreign record TTL untouched" [ "$($CTL ttl a.test www A)" = "3600" ]

# --- a record without ownership is not taken over ------------------------------------
$CTL seed b.test api A 203.0.113.9 600 >/dev/null
RECORDS='
[record api.b.test]
provider = ovh
backend  = lab
service  = web
type     = A
ttl      = 60
' write_config "$T/df2.ini"
$CTL reset
df -c "$T/df2.ini" --once; rc=$?
check "unowned existing record: pass fails permanently (exit 1)" [ "$rc" = 1 ]
check "unowned existing record left alone" [ "$(get b.test api A)" = "203.0.113.9" ]
check "no write for the unowned record" [ "$($CTL writes)" = 0 ]

# --- removal of an address ----------------------------------------------------------
placements '[gogs]' 'addresses = 192.0.2.11, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
$CTL reset
df -c "$T/df.ini" --once; rc=$?
check "address removed: exits 0" [ "$rc" = 0 ]
check "address removed: one DELETE" [ "$($CTL calls 'DELETE /domain/zone/{zone}/record/{id}')" = 1 ]
check "address removed: published" [ "$(get a.test git A)" = "192.0.2.11" ]

# --- plain http:// to a remote host is refused at start -------------------------------
sed "s|^endpoint = .*|endpoint = http://192.0.2.1:8080/1.0|" "$T/df.ini" >"$T/clear.ini"
df -c "$T/clear.ini" --once; rc=$?
check "plain http:// to a remote host: refused at start (exit 78)" [ "$rc" = 78 ]
check "plain http:// to a remote host: one clear line" \
	grep -q 'refusing http:// to "192.0.2.1".*clear text' "$DF_ERR"

# --- credentials as config keys, secrets through KEY_file (Docker secrets) -----
printf '%s\n' "$OVH_AS" >"$T/as.secret"
printf '%s\n' "$OVH_CK" >"$T/ck.secret"
sed -e '/^credentials = /d' -e "s|^ca_file = ca.pem|ca_file = ca.pem\napplication_key = $OVH_AK\napplication_secret_file = as.secret\nconsumer_key_file = ck.secret|" \
	"$T/df.ini" >"$T/df3.ini"
mkdir -p "$T/home"
placements '[gogs]' 'addresses = 192.0.2.13, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
(cd "$T/home" && HOME="$T/home" df -c "$T/df3.ini" --once -v); rc=$?
check "credentials from config keys and *_file: exit 0" [ "$rc" = 0 ]
check "credentials from config keys: published" [ "$(get a.test git A)" = "192.0.2.13" ]
check "credentials from config keys: secrets not logged" \
	sh -c "! grep -q -e '$OVH_AS' -e '$OVH_CK' '$DF_ERR'"

tap_done
