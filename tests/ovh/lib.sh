# Shared by tests/ovh/t_*.sh and bench/ovh.sh (sourced after tap.sh):
# a temp folder, the fake OVH API, a dnsfollow config and helpers.
#   fake_start [fake_ovh.py options]   start the fake server ($ZONES)
#   write_ovh_conf [SECRET [CK]]       python-ovh ovh.conf in $T
#   write_config FILE                  provider "ovh" + static backend lab
#   placements LINES...                rewrite placements.ini atomically
#   $CTL ...                           tests/ovh/ovhctl.py on the fake
T=$(mktemp -d /tmp/dfovh.XXXXXX)
FAKE="$T/fake"
: "${ZONES:=a.test,b.test}"
cleanup() {
	sh "$TOP/tests/ovh/fakectl.sh" stop "$FAKE" 2>/dev/null
	[ -n "${ROGUE:-}" ] && sh "$TOP/tests/ovh/fakectl.sh" stop "$ROGUE" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
CTL="python3 $TOP/tests/ovh/ovhctl.py $FAKE"
DF_ERR="$T/err"
# shellcheck disable=SC2046
set -- $(sh "$TOP/tests/ovh/fakectl.sh" creds)
OVH_AK=$1 OVH_AS=$2 OVH_CK=$3
set --

fake_start() {
	FAKE_WATCH_PID=$$ sh "$TOP/tests/ovh/fakectl.sh" start "$FAKE" \
		--zones "$ZONES" "$@" >/dev/null || return 1
	PORT=$(cat "$FAKE/port")
	cp "$FAKE/ca.pem" "$T/ca.pem"
}

# python-ovh's ovh.conf, as users have it (secret and consumer key
# overridable).
write_ovh_conf() {
	printf '%s\n' '[default]' 'endpoint=ovh-eu' '' '[ovh-eu]' \
		"application_key=$OVH_AK" "application_secret=${1:-$OVH_AS}" \
		"consumer_key=${2:-$OVH_CK}" >"$T/ovh.conf"
	chmod 600 "$T/ovh.conf"
}

DEFAULT_RECORDS='
[record git.a.test]
provider = ovh
backend  = lab
service  = gogs
type     = A, AAAA
ttl      = 60

[record www.b.test]
provider = ovh
backend  = lab
service  = web
type     = A
ttl      = 300
'

# write_config FILE: records git.a.test (A, AAAA) and www.b.test (A).
# OVH_EXTRA adds provider keys, RECORDS replaces the records.
write_config() {
	{
		printf '%s\n' '[dnsfollow]' 'owner_id = e2e' "plugin_dir = $PLUGINS" \
			'interval = 60' 'debounce_ms = 100' "retries = ${RETRIES:-2}" '' \
			'[backend lab]' 'type = static' 'file = placements.ini' '' \
			'[provider ovh]' 'type = ovh' "zones = $ZONES" \
			"endpoint = https://127.0.0.1:${PORT}/1.0" \
			'credentials = ovh.conf' 'ca_file = ca.pem' \
			"rate_limit = ${RATE:-0}" "${OVH_EXTRA:-}"
		printf '%s\n' "${RECORDS:-$DEFAULT_RECORDS}"
	} >"$1"
}

placements() {
	printf '%s\n' "$@" >"$T/placements.ini.new" && mv "$T/placements.ini.new" "$T/placements.ini"
}

# get ZONE SUB TYPE [staged] -> published targets (TXT unquoted), sorted
get() { $CTL get "$@"; }
