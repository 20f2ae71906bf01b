# Shared by tests/cloudflare/t_*.sh and bench/cloudflare.sh (sourced after
# tap.sh): a temp folder, the fake Cloudflare API, a dnsfollow config.
#   cf_start PORT [fake_cf.py options]   start the fake ($ZONES)
#   write_config FILE                    provider "cf" + static backend lab
#   placements LINES...                  rewrite placements.ini atomically
#   $CTL ...                             tests/cloudflare/cfctl.py on the fake
T=$(mktemp -d /tmp/dfcf.XXXXXX)
FAKE="$T/fake"
: "${ZONES:=a.test,b.test}"
cf_cleanup() {
	sh "$TOP/tests/cloudflare/fakectl.sh" stop "$FAKE" 2>/dev/null
	rm -rf "$T"
}
trap cf_cleanup EXIT
trap 'exit 130' INT TERM
CTL="python3 $TOP/tests/cloudflare/cfctl.py $FAKE"
DF_ERR="$T/err"

cf_start() { # PORT [options]
	_p=$1; shift
	FAKE_WATCH_PID=$$ sh "$TOP/tests/cloudflare/fakectl.sh" start "$FAKE" "$_p" \
		--zones "$ZONES" "$@" >/dev/null || return 1
	PORT=$(cat "$FAKE/port")
	sh "$TOP/tests/cloudflare/fakectl.sh" token >"$T/token"
	chmod 600 "$T/token"
}

DEFAULT_RECORDS='
[record git.a.test]
provider = cf
backend  = lab
service  = gogs
type     = A, AAAA
ttl      = 300

[record www.b.test]
provider = cf
backend  = lab
service  = web
type     = A
ttl      = 300
proxied  = yes
'

# write_config FILE: CF_EXTRA adds provider keys, RECORDS replaces the
# records, DF_EXTRA adds [dnsfollow] keys.
write_config() {
	{
		printf '%s\n' '[dnsfollow]' 'owner_id = e2e' "plugin_dir = $PLUGINS" \
			'interval = 60' 'debounce_ms = 100' "retries = ${RETRIES:-2}" "${DF_EXTRA:-}" '' \
			'[backend lab]' 'type = static' 'file = placements.ini' '' \
			'[provider cf]' 'type = cloudflare' "zones = $(echo "$ZONES" | sed 's/,/, /g')" \
			"endpoint = https://127.0.0.1:${PORT}/client/v4" \
			'token_file = token' 'ca_file = fake/ca.pem' \
			"rate_limit = ${RATE:-0}" "${CF_EXTRA:-}"
		printf '%s\n' "${RECORDS:-$DEFAULT_RECORDS}"
	} >"$1"
}

placements() {
	printf '%s\n' "$@" >"$T/placements.ini.new" && mv "$T/placements.ini.new" "$T/placements.ini"
}
