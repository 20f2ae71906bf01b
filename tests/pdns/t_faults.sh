#!/bin/sh
# pdns provider against a scripted fake of the PowerDNS API (answers a
# real server never gives on demand): the requests it sends (URL with an
# escaped server_id, X-API-Key, one PATCH per zone with REPLACE rrsets,
# TXT quoted), and one clear line, never a crash, for an answer that is
# not JSON, rrsets of the wrong shape, a 503 with Retry-After, a url
# that is not http(s), and a key file with a line break in the key.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/pdns/lib.sh"
pdns_init dnsfollow-pdnsfake
if ! pdns_fake "$W/fake"; then
	not_ok "fake PowerDNS API starts"
	tap_done; exit 1
fi
F=$W/fake
KEY="df-fake-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$KEY" >"$W/api.key"
chmod 600 "$W/api.key"
pdns_place gogs "addresses = 192.0.2.10"
# A trailing slash on url and a server_id that needs escaping.
pdns_conf "$W/df.ini" "$FAKE_PORT/" example.test "api_key_file = $W/api.key" "server_id = srv/1"
pdns_record "$W/df.ini" git.example.test gogs "type = A"
# once: one pass on a fresh request log; sets RC
once() { : >"$F/requests.log"; df -c "$W/df.ini" --once; RC=$?; }
nerr() { grep -c "^[^ ]* error " "$DF_ERR"; }
# req N FIELD: field of the Nth request (1-based)
req() { sed -n "${1}p" "$F/requests.log" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

once
check "empty zone: pass ok (rc=$RC)" [ "$RC" = 0 ]
[ "$RC" = 0 ] || sed 's/^/# /' "$DF_ERR" | grep -v ' debug ' | tail -5
check "one GET and one PATCH ($(awk -F'"' '{print $4}' "$F/requests.log" | tr '\n' ' '))" \
	[ "$(awk -F'"' '{print $4}' "$F/requests.log" | tr '\n' ' ')" = "GET PATCH " ]
check "URL: trailing slash dropped, server_id escaped ($(req 1 path))" \
	[ "$(req 1 path)" = "/api/v1/servers/srv%2F1/zones/example.test." ]
check "PATCH on the same URL" [ "$(req 2 path)" = "/api/v1/servers/srv%2F1/zones/example.test." ]
check "X-API-Key sent (from api_key_file) on both" [ "$(req 1 key)/$(req 2 key)" = "$KEY/$KEY" ]
req 2 body >"$W/patch.json"
python3 - "$W/patch.json" >"$W/patch.check" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
by = {(r["name"], r["type"]): r for r in d["rrsets"]}
a = by[("git.example.test.", "A")]
assert a["changetype"] == "REPLACE" and a["ttl"] == 60, a
assert a["records"] == [{"content": "192.0.2.10", "disabled": False}], a
t = by[("_dnsfollow.git.example.test.", "TXT")]
c = t["records"][0]["content"]
assert c.startswith('"') and c.endswith('"') and "test-owner" in c, c
print("ok", len(d["rrsets"]), "rrsets")
EOF
check "PATCH body: REPLACE rrsets with trailing dots, TXT quoted ($(tail -1 "$W/patch.check"))" \
	grep -q '^ok' "$W/patch.check"

printf '200\nContent-Type: application/json\n\nthis is not json' >"$F/answer.GET"
once
check "not JSON: exit 1, no crash (rc=$RC)" [ "$RC" = 1 ]
check "not JSON: one error line ($(nerr))" eval '[ "$(nerr)" = 1 ] && grep -q "^[^ ]* error .*GET zone example.test: the answer has no rrsets list" "$DF_ERR"'
check "not JSON: nothing written" [ "$(grep -c PATCH "$F/requests.log")" = 0 ]

printf '200\n\n{"rrsets": [{"name": 5}, {"name": "git.example.test.", "type": "A"}, {"name": "Git.Example.Test.", "type": "A", "ttl": 60, "records": [{"content": 7}]}]}' >"$F/answer.GET"
once
check "rrsets of the wrong shape: exit 1, no crash (rc=$RC)" [ "$RC" = 1 ]
check "rrsets of the wrong shape: one error line naming the RRset ($(nerr))" \
	eval '[ "$(nerr)" = 1 ] && grep -q "^[^ ]* error .*git.example.test A: unreadable content" "$DF_ERR"'

printf '503\nRetry-After: 1\nContent-Type: application/json\n\n{"error": "backend busy"}' >"$F/answer.GET"
once
check "503: the pass fails as temporary, exit 75 (rc=$RC)" [ "$RC" = 75 ]
check "503: the error line has PowerDNS's text, temporary" \
	grep -q "^[^ ]* error .*GET zone example.test: HTTP 503: backend busy (temporary" "$DF_ERR"
grep "^[^ ]* error " "$DF_ERR" | head -2 | sed 's/^/# /'
rm -f "$F/answer.GET"

pdns_conf "$W/ftp.ini" 1 example.test "api_key_file = $W/api.key"
sed -i 's|^url = .*|url = ftp://127.0.0.1/|' "$W/ftp.ini"
df -c "$W/ftp.ini" --check-config; RC=$?
check "url = ftp://: --check-config fails (rc=$RC)" eval '[ "$RC" != 0 ] && [ "$RC" -lt 128 ]'
check "url = ftp://: one line saying why" grep -q "url = ftp://127.0.0.1/: must start with http:// or https://" "$DF_ERR"
# A key file of two lines must not smuggle a second header in.
printf '%s\nX-Smuggled: 1\n' "$KEY" >"$W/two.key"
chmod 600 "$W/two.key"
sed "s|^api_key_file = .*|api_key_file = $W/two.key|" "$W/df.ini" >"$W/two.ini"
: >"$F/requests.log"
df -c "$W/two.ini" --once; RC=$?
check "two-line key file: refused (rc=$RC), no request sent" \
	eval '[ "$RC" != 0 ] && [ "$RC" -lt 128 ] && [ ! -s "$F/requests.log" ]'
grep -v ' debug ' "$DF_ERR" | head -2 | sed 's/^/# /'
if grep -qF "$KEY" "$W"/*.err "$DF_ERR" 2>/dev/null; then not_ok "the key was printed"; else ok "the key was never printed"; fi
tap_done
