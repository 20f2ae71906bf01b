# Helpers for the pdns provider tests (sourced after tests/lib/tap.sh): a
# real PowerDNS Authoritative (Debian pdns-server + pdns-backend-sqlite3)
# with its HTTP API on 127.0.0.1, everything in $W/pdns-PORT (own config
# dir, gsqlite3 database, no guardian, no daemon: a system pdns plays no
# part), stopped and removed by pdns_cleanup (the EXIT trap of pdns_init).
#   pdns_have                      0 when pdns_server, pdnsutil, sqlite3, dig exist
#   pdns_init PREFIX               make $W, set the traps
#   pdns_start DNSPORT APIPORT KEY ZONE...   start it serving ZONEs (each with
#                                  foreign records; the SOA serial counts API
#                                  writes), API key KEY, no answer cache
#   pdns_fake DIR                  start tests/pdns/fake_pdns.py on DIR; port in FAKE_PORT
#   pdns_util DNSPORT ARGS...      pdnsutil on that server's config
#   pdns_api APIPORT KEY METHOD ZONE [BODY]  one request on the zone's API URL
#                                  (ZONE "": the server's URL)
#   pdns_dig DNSPORT NAME TYPE     sorted short answer on one line
#   pdns_serial DNSPORT ZONE       the zone's SOA serial
#   pdns_conf FILE APIPORT ZONES [LINE...]  dnsfollow.ini head: static
#                                  backend on $W/placements.ini, provider "dns"
#   pdns_record FILE FQDN SERVICE [LINE...] a [record] section
#   pdns_place SERVICE LINE...     (re)write one service of placements.ini

PDNS_PIDS=""

pdns_have() {
	for c in pdns_server pdnsutil sqlite3 dig; do
		command -v $c >/dev/null || { PDNS_MISSING=$c; return 1; }
	done
	[ -f /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ] ||
		{ PDNS_MISSING=pdns-backend-sqlite3; return 1; }
}

pdns_cleanup() {
	for p in $PDNS_PIDS; do kill "$p" 2>/dev/null; done
	for p in $PDNS_PIDS; do
		_i=0
		while kill -0 "$p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${W:-}" ] && [ -d "$W" ] && rm -rf "$W"
}

pdns_init() { # PREFIX
	W=$(mktemp -d "/tmp/$1.XXXXXX")
	trap 'pdns_cleanup' EXIT
	trap 'exit 1' INT TERM HUP PIPE
	OUT=$W
	DF_ERR=$W/last.err
}

pdns_fake() { # DIR
	mkdir -p "$1" && mkfifo "$1/stdin" || return 1
	python3 "$TOP/tests/pdns/fake_pdns.py" "$1" <"$1/stdin" >"$1/out" 2>"$1/err" &
	PDNS_PIDS="$PDNS_PIDS $!"
	exec 9>"$1/stdin" # its stdin stays open while the test runs
	wait_for 10 grep -q READY "$1/out" ||
		{ diag "fake_pdns.py did not start:"; sed 's/^/# /' "$1/err"; return 1; }
	FAKE_PORT=$(awk '/READY/ {print $2}' "$1/out")
}

pdns_util() { # DNSPORT ARGS...
	_p=$1; shift
	pdnsutil --config-dir="$W/pdns-$_p" "$@" >>"$W/pdns-$_p/setup.log" 2>&1
}

pdns_start() { # DNSPORT APIPORT KEY ZONE...
	_port=$1; _api=$2; _key=$3; shift 3
	_d=$W/pdns-$_port; mkdir -p "$_d"
	sqlite3 "$_d/db.sqlite3" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ||
		return 1
	printf '%s\n' launch=gsqlite3 "gsqlite3-database=$_d/db.sqlite3" \
		local-address=127.0.0.1 "local-port=$_port" "socket-dir=$_d" \
		guardian=no daemon=no disable-syslog=yes \
		cache-ttl=0 negquery-cache-ttl=0 query-cache-ttl=0 \
		api=yes "api-key=$_key" webserver=yes webserver-address=127.0.0.1 \
		"webserver-port=$_api" webserver-allow-from=127.0.0.0/8 >"$_d/pdns.conf"
	chmod 600 "$_d/pdns.conf"
	for z in "$@"; do
		pdns_util "$_port" create-zone "$z" "ns1.$z" &&
		pdns_util "$_port" add-record "$z" ns1 A 300 127.0.0.1 &&
		pdns_util "$_port" add-record "$z" www A 300 198.51.100.7 &&
		pdns_util "$_port" add-record "$z" foreign A 300 198.51.100.8 &&
		pdns_util "$_port" add-record "$z" mail TXT 300 '"foreign text, not ours"' &&
		pdns_util "$_port" set-meta "$z" SOA-EDIT-API INCREASE ||
			{ diag "pdnsutil could not set up $z:"; tail -3 "$_d/setup.log" | sed 's/^/# /'; return 1; }
	done
	pdns_server --config-dir="$_d" >"$_d/log" 2>&1 &
	PDNS_PIDS="$PDNS_PIDS $!"
	# Both ears: DNS answers and the API answers (with the key).
	wait_for 15 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p $_port $1 SOA +short | grep -q ." &&
	wait_for 15 pdns_api "$_api" "$_key" GET "" >/dev/null 2>&1 ||
		{ diag "pdns_server did not start:"; tail -5 "$_d/log" | sed 's/^/# /'; return 1; }
}

# (python3, not curl: curl is not among the test packages) Prints the
# answer's body; fails on a non-2xx answer or no answer.
pdns_api() { # APIPORT KEY METHOD ZONE [BODY]
	python3 - "$@" <<'EOF'
import sys, urllib.request
port, key, method, zone = sys.argv[1:5]
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
url = "http://127.0.0.1:%s/api/v1/servers/localhost/zones/%s" % (port, zone + "." if zone else "")
req = urllib.request.Request(url.rstrip("/"), data=body, method=method, headers={"X-API-Key": key})
sys.stdout.write(urllib.request.urlopen(req, timeout=10).read().decode())
EOF
}

pdns_dig() { # DNSPORT NAME TYPE
	dig +time=2 +tries=3 @127.0.0.1 -p "$1" "$2" "$3" +short | sort | tr '\n' ' ' | sed 's/ $//'
}

pdns_serial() { # DNSPORT ZONE
	dig +time=2 +tries=3 @127.0.0.1 -p "$1" "$2" SOA +short | awk '{print $3}'
}

pdns_conf() { # FILE APIPORT ZONES [LINE...]
	_f=$1; _api=$2; _zones=$3; shift 3
	cat >"$_f" <<EOF
[dnsfollow]
owner_id = test-owner
interval = 1
retries = 1
on_empty_grace = 0
plugin_dir = $PLUGINS
log_level = debug

[backend lab]
type = static
file = $W/placements.ini

[provider dns]
type = pdns
zones = $_zones
url = http://127.0.0.1:$_api
EOF
	for l in "$@"; do echo "$l" >>"$_f"; done
	echo >>"$_f"
}

pdns_record() { # FILE FQDN SERVICE [LINE...]
	_f=$1; _n=$2; _s=$3; shift 3
	{
		echo "[record $_n]"
		echo "provider = dns"
		echo "backend = lab"
		echo "service = $_s"
		for l in "$@"; do echo "$l"; done
		echo
	} >>"$_f"
}

pdns_place() { # SERVICE LINE...   e.g. pdns_place gogs "addresses = 192.0.2.10"
	_s=$1; shift
	_tmp=$W/placements.new
	: >"$_tmp"
	[ -f "$W/placements.ini" ] && awk -v s="[$_s]" '
		/^\[/ { skip = ($0 == s) } !skip { print }' "$W/placements.ini" >"$_tmp"
	{ echo "[$_s]"; for l in "$@"; do echo "$l"; done; echo; } >>"$_tmp"
	mv "$_tmp" "$W/placements.ini"
}
