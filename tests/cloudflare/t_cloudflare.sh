#!/bin/sh
# The cloudflare provider in the daemon (--once, static backend) against
# the fake Cloudflare API on 127.0.0.1:15422: a first sync writes records
# and markers (proxied where asked), a second pass writes nothing, a hand
# edit is repaired, a token without edit rights fails with one line naming
# the scope (exit non-zero, token never shown), a 429 is temporary,
# policy = sync deletes an orphan through markers(), and the config is checked (FILE:LINE for a bad proxied value, https only).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/cloudflare/lib.sh"

if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
	ok "cloudflare tests # SKIP python3 or openssl missing"; tap_done; exit 0
fi
if [ ! -x "$DNSFOLLOW" ]; then
	not_ok "dnsfollow is built ($DNSFOLLOW)"; tap_done; exit 1
fi
cf_start 15422 || { not_ok "the fake Cloudflare API starts"; tap_done; exit 1; }
cd "$T" || exit 1
write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10, 2001:db8::10' '[web]' 'addresses = 192.0.2.20'

once() { df -c "$T/df.ini" --once; }

check "--check-config accepts the section" df -c "$T/df.ini" --check-config
check "first sync: exit 0" once
dump=$($CTL dump a.test; $CTL dump b.test)
check "git.a.test A and AAAA written, TTL 300, not proxied" \
	eval 'echo "$dump" | grep -qx "git.a.test A 192.0.2.10 300 " &&
	      echo "$dump" | grep -qx "git.a.test AAAA 2001:db8::10 300 "'
check "www.b.test written proxied (TTL automatic)" \
	eval 'echo "$dump" | grep -qx "www.b.test A 192.0.2.20 1 proxied"'
check "ownership markers written as quoted TXT" \
	eval 'echo "$dump" | grep -q "^_dnsfollow.git.a.test TXT \"" &&
	      echo "$dump" | grep -q "^_dnsfollow.www.b.test TXT \""'

$CTL reset
check "second pass: exit 0" once
check "second pass: no write (proxied record in sync too)" [ "$($CTL writes)" = 0 ]
diag "steady pass, 2 zones, 3 records: $($CTL total) calls ($($CTL reads) reads)"

# A hand edit in the Cloudflare dashboard: the A record's content changed.
zid=$($CTL api GET "/zones?name=a.test" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][0]["id"])')
rid=$($CTL api GET "/zones/$zid/dns_records?type=A&name=git.a.test" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][0]["id"])')
$CTL api PATCH "/zones/$zid/dns_records/$rid" '{"content": "198.51.100.1"}' >/dev/null
$CTL reset
check "a hand edit is repaired in one pass" \
	eval 'once && $CTL dump a.test | grep -qx "git.a.test A 192.0.2.10 300 "'
check "the repair is one call on the record" \
	eval '$CTL calls | grep -qx "PUT /zones/{zone}/dns_records/{id} 1" && [ "$($CTL writes)" = 1 ]'

# A placement change: both records of git.a.test in one batch call.
placements '[gogs]' 'addresses = 192.0.2.11, 2001:db8::11' '[web]' 'addresses = 192.0.2.20'
$CTL reset
check "a change of A and AAAA goes in one batch" \
	eval 'once && [ "$($CTL batches)" = "1 2" ] && [ "$($CTL writes)" = 1 ]'

# A token that may read but not edit: permanent, one line, scope named.
$CTL config '{"scope": "read"}'
placements '[gogs]' 'addresses = 192.0.2.12' '[web]' 'addresses = 192.0.2.20'
once; rc=$?
check "a read-only token: --once fails" [ "$rc" != 0 ]
check "the error names HTTP 403, Cloudflare's code and Zone:DNS:Edit" \
	grep -q "HTTP 403: Cloudflare error 10000: Authentication error.*Zone:DNS:Edit" "$T/err"
check "the token is never shown" eval '! grep -q "$(cat "$T/token")" "$T/err"'
$CTL config '{"scope": "edit"}'

# 429 with Retry-After: temporary (the pass fails, the next one works).
$CTL config '{"throttle": 1, "retry_after": 1}'
RETRIES=1 write_config "$T/df429.ini"
df -c "$T/df429.ini" --once; rc=$?
check "a 429 fails the pass as temporary (exit 75), naming the rate limit" \
	eval '[ "$rc" = 75 ] && grep -q "HTTP 429: Cloudflare error 971.*temporary" "$T/err"'
check "the next pass goes through" once

# policy = sync: markers() finds the names this owner holds; one nothing
# asks for any more goes (record and marker), after orphan_grace.
CF_EXTRA='policy = sync' DF_EXTRA='orphan_grace = 0' write_config "$T/sync.ini"
check "policy = sync: a pass with every record asked keeps www.b.test" \
	eval 'df -c "$T/sync.ini" --once && $CTL dump b.test | grep -q "^www.b.test A "'
RECORDS="$(printf '%s\n' '[record git.a.test]' 'provider = cf' 'backend = lab' \
	'service = gogs' 'type = A, AAAA' 'ttl = 300')" CF_EXTRA='policy = sync' \
	DF_EXTRA='orphan_grace = 0' write_config "$T/sync.ini"
df -c "$T/sync.ini" --once && df -c "$T/sync.ini" --once
check "policy = sync: www.b.test and its marker deleted, git.a.test kept" \
	eval '[ -z "$($CTL dump b.test)" ] && $CTL dump a.test | grep -q "^git.a.test A "'

# Config: proxied is a typed record key; http:// only to loopback.
RECORDS="$(printf '%s\n' '[record x.a.test]' 'provider = cf' 'backend = lab' \
	'service = web' 'type = A' 'proxied = perhaps')" write_config "$T/bad.ini"
df -c "$T/bad.ini" --check-config; rc=$?
line=$(grep -n '^proxied = perhaps' "$T/bad.ini" | cut -d: -f1)
check "proxied = perhaps: exit 78 with FILE:LINE" \
	eval '[ "$rc" = 78 ] && grep -q "bad.ini:$line:" "$T/err"'
sed 's|^endpoint = .*|endpoint = http://api.example.com/client/v4|' "$T/df.ini" >"$T/http.ini"
df -c "$T/http.ini" --check-config; rc=$?
check "http:// off loopback refused at --check-config" \
	eval '[ "$rc" = 78 ] && grep -q "loopback" "$T/err"'
tap_done
