# Helpers for the rfc2136 tests (sourced after tests/lib/tap.sh): real
# named and knotd on 127.0.0.1, each in its own folder under $W, torn
# down by r2136_cleanup (set as the EXIT trap by r2136_init).
#   r2136_init                    make $W, set the trap
#   r2136_key NAME [ALG]          tsig-keygen key → $W/NAME.key (BIND format)
#   r2136_knot_key NAME [ALG]     keymgr -t key   → $W/NAME.knot.key
#   r2136_zonefile ZONE FILE      zone with SOA, NS and foreign records
#   r2136_named PORT "KEY..." ZONE...  start named serving ZONEs, updatable by the KEYs
#                                 (also on ::1 when R2136_NAMED_V6=::1; the zones
#                                 in R2136_NAMED_NOXFR refuse every transfer;
#                                 R2136_NAMED_OPTIONS_EXTRA goes in options)
#   r2136_knotd PORT KEY ZONE...  the same with knotd
#   r2136_pdns PORT KEY ZONE...   the same with PowerDNS (gsqlite3 in $W)
#   r2136_named_restart PORT      start named again on its folder as it is
#   r2136_serial PORT ZONE        the zone's SOA serial
#   r2136_dig PORT NAME TYPE      sorted short answer
#   r2136_conf FILE PORT KEYFILE ZONES [extra provider lines]   dnsfollow.ini head
#   r2136_place SERVICE ADDRESSES / r2136_place_host SERVICE ADDRESSES HOSTNAME
#                                 placements.ini for one service
#   r2136_badtime_numbers LABEL TEXT T0 T1   TAP checks of a BADTIME error text

R2136_PIDS=""

r2136_cleanup() {
	for p in $R2136_PIDS; do kill "$p" 2>/dev/null; done
	for p in $R2136_PIDS; do
		_i=0
		while kill -0 "$p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${W:-}" ] && [ -d "$W" ] && rm -rf "$W"
}

r2136_init() {
	W=$(mktemp -d /tmp/dnsfollow-rfc2136.XXXXXX)
	trap 'r2136_cleanup' EXIT
	trap 'exit 1' INT TERM HUP PIPE
	OUT=$W
	DF_ERR=$W/last.err
}

r2136_key() {
	tsig-keygen -a "${2:-hmac-sha256}" "$1" >"$W/$1.key"
}

r2136_knot_key() {
	keymgr -t "$1" "${2:-hmac-sha256}" >"$W/$1.knot.key"
}

# The secret of a BIND-format key file.
r2136_secret() {
	sed -n 's/.*secret "\(.*\)".*/\1/p' "$1"
}
r2136_alg() {
	sed -n 's/.*algorithm \([a-z0-9-]*\).*/\1/p' "$1"
}

r2136_zonefile() { # ZONE FILE
	cat >"$2" <<EOF
\$TTL 300
@	IN SOA ns1.$1. hostmaster.$1. 1 3600 900 604800 60
@	IN NS ns1.$1.
ns1	IN A 127.0.0.1
www	IN A 198.51.100.7
foreign	IN A 198.51.100.8
mail	IN TXT "foreign text, not ours"
EOF
	# More records (benchmarks, big transfers) from a file if asked.
	[ -n "${R2136_ZONE_EXTRA:-}" ] && cat "$R2136_ZONE_EXTRA" >>"$2"
	return 0
}

r2136_wait_up() { # PORT ZONE
	wait_for 15 sh -c "dig +time=1 +tries=1 @127.0.0.1 -p $1 $2 SOA +short | grep -q ." 
}

r2136_named() { # PORT KEYNAME ZONE...
	_port=$1; _key=$2; shift 2
	_d=$W/named-$_port; mkdir -p "$_d"
	cat >"$_d/named.conf" <<EOF
options {
	directory "$_d";
	listen-on port $_port { 127.0.0.1; };
	listen-on-v6 port $_port { ${R2136_NAMED_V6:-none}; };
	pid-file "$_d/named.pid";
	session-keyfile "$_d/session.key";
	recursion no;
	notify no;
	dnssec-validation no;
	allow-transfer { $(for k in $_key; do printf 'key %s; ' "$k"; done) };
	${R2136_NAMED_OPTIONS_EXTRA:-}
};
controls { };
EOF
	for k in $_key; do echo "include \"$W/$k.key\";" >>"$_d/named.conf"; done
	echo "${R2136_NAMED_CONF_EXTRA:-}" >>"$_d/named.conf"
	for z in "$@"; do
		r2136_zonefile "$z" "$_d/$z.zone"
		{
			echo "zone \"$z\" { type primary; file \"$_d/$z.zone\"; update-policy {"
			for k in $_key; do echo "	grant $k zonesub ANY;"; done
			echo "};"
			case " ${R2136_NAMED_NOXFR:-} " in *" $z "*)
				echo "	allow-transfer { none; };" ;; esac
			echo "};"
		} >>"$_d/named.conf"
	done
	named -g -c "$_d/named.conf" -u root >"$_d/log" 2>&1 &
	R2136_PIDS="$R2136_PIDS $!"
	# named answers before it has settled its sockets: wait for "running".
	{ wait_for 30 grep -qs ' running$' "$_d/log" && r2136_wait_up "$_port" "$1"; } ||
		{ diag "named did not start:"; tail -5 "$_d/log" | sed 's/^/# /'; return 1; }
}

r2136_knotd() { # PORT KEYNAME ZONE...   (key from $W/KEYNAME.knot.key)
	_port=$1; _key=$2; shift 2
	_d=$W/knot-$_port; mkdir -p "$_d/db" "$_d/zones"
	{
		echo "server:"
		echo "    rundir: \"$_d\""
		echo "    listen: 127.0.0.1@$_port"
		echo "database:"
		echo "    storage: \"$_d/db\""
		sed -n '/^key:/,$p' "$W/$_key.knot.key"
		# Keys the server knows but no acl names (t_axfr.sh).
		for k in ${R2136_KNOT_KEYS_EXTRA:-}; do
			sed -n '/^ *- id:/,$p' "$W/$k.knot.key"
		done
		echo "acl:"
		echo "  - id: upd"
		echo "    key: $_key"
		echo "    action: [update, transfer]"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$_d/zones\""
		echo "    file: \"%s.zone\""
		echo "    zonefile-sync: -1"
		echo "    journal-content: changes"
		echo "zone:"
		for z in "$@"; do
			echo "  - domain: $z"
			echo "    acl: upd"
			r2136_zonefile "$z" "$_d/zones/$z.zone"
		done
	} >"$_d/knot.conf"
	knotd -c "$_d/knot.conf" >"$_d/log" 2>&1 &
	R2136_PIDS="$R2136_PIDS $!"
	{ wait_for 30 grep -qs 'server started' "$_d/log" && r2136_wait_up "$_port" "$1"; } ||
		{ diag "knotd did not start:"; tail -5 "$_d/log" | sed 's/^/# /'; return 1; }
}

# named on the folder r2136_named made, zone files and journals as they
# are (a restart after a crash); its PID in R2136_NAMED_PID.
r2136_named_restart() { # PORT
	_d=$W/named-$1
	named -g -c "$_d/named.conf" -u root >"$_d/log" 2>&1 &
	R2136_NAMED_PID=$!
	R2136_PIDS="$R2136_PIDS $!"
	wait_for 30 grep -qs ' running$' "$_d/log" ||
		{ diag "named did not start again:"; tail -5 "$_d/log" | sed 's/^/# /'; return 1; }
}

# PowerDNS Authoritative with the gsqlite3 backend, all in $W/pdns-PORT
# (no guardian, no daemon, its own config dir: a system pdns is not
# used), RFC 2136 on, key KEY (from $W/KEY.key) allowed to update ZONEs
# and to transfer them (markers() of policy = sync).
r2136_pdns() { # PORT KEYNAME ZONE...
	_port=$1; _key=$2; shift 2
	_d=$W/pdns-$_port; mkdir -p "$_d"
	sqlite3 "$_d/db.sqlite3" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ||
		return 1
	printf '%s\n' launch=gsqlite3 "gsqlite3-database=$_d/db.sqlite3" \
		local-address=127.0.0.1 "local-port=$_port" "socket-dir=$_d" \
		guardian=no daemon=no disable-syslog=yes dnsupdate=yes \
		allow-dnsupdate-from=127.0.0.0/8 >"$_d/pdns.conf"
	_u() { pdnsutil --config-dir="$_d" "$@" >>"$_d/setup.log" 2>&1; }
	_u import-tsig-key "$_key" "$(r2136_alg "$W/$_key.key")" "$(r2136_secret "$W/$_key.key")" ||
		{ diag "pdnsutil import-tsig-key failed"; return 1; }
	for z in "$@"; do
		_u create-zone "$z" "ns1.$z" &&
		_u add-record "$z" ns1 A 300 127.0.0.1 &&
		_u add-record "$z" www A 300 198.51.100.7 &&
		_u add-record "$z" foreign A 300 198.51.100.8 &&
		_u add-record "$z" mail TXT 300 '"foreign text, not ours"' &&
		_u set-meta "$z" TSIG-ALLOW-DNSUPDATE "$_key" &&
		_u set-meta "$z" TSIG-ALLOW-AXFR "$_key" ||
			{ diag "pdnsutil could not set up $z:"; tail -3 "$_d/setup.log" | sed 's/^/# /'; return 1; }
	done
	pdns_server --config-dir="$_d" >"$_d/log" 2>&1 &
	R2136_PIDS="$R2136_PIDS $!"
	r2136_wait_up "$_port" "$1" ||
		{ diag "pdns_server did not start:"; tail -5 "$_d/log" | sed 's/^/# /'; return 1; }
}

r2136_serial() { # PORT ZONE
	dig +time=2 +tries=3 @127.0.0.1 -p "$1" "$2" SOA +short | awk '{print $3}'
}

r2136_dig() { # PORT NAME TYPE
	dig +time=2 +tries=3 @127.0.0.1 -p "$1" "$2" "$3" +short | sort | tr '\n' ' ' | sed 's/ $//'
}

# A config with the static backend on $W/placements.ini and one provider
# "dns"; more lines for the provider section come as extra arguments.
r2136_conf() { # FILE PORT KEYFILE ZONES [LINE...]
	_f=$1; _port=$2; _kf=$3; _zones=$4; shift 4
	cat >"$_f" <<EOF
[dnsfollow]
owner_id = test-owner
interval = 1
plugin_dir = $PLUGINS
log_level = debug

[backend lab]
type = static
file = $W/placements.ini

[provider dns]
type = rfc2136
zones = $_zones
server = 127.0.0.1:$_port
EOF
	[ -n "$_kf" ] && echo "key_file = $_kf" >>"$_f"
	for l in "$@"; do echo "$l" >>"$_f"; done
	echo >>"$_f"
}

# r2136_record FILE FQDN SERVICE [LINE...]
r2136_record() {
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

r2136_place() { # SERVICE ADDRESSES...  (rewrites placements.ini for one service)
	_tmp=$W/placements.new
	: >"$_tmp"
	[ -f "$W/placements.ini" ] && awk -v s="[$1]" '
		/^\[/ { skip = ($0 == s) } !skip { print }' "$W/placements.ini" >"$_tmp"
	printf '[%s]\naddresses = %s\n' "$1" "$2" >>"$_tmp"
	[ -n "${R2136_HOSTNAME:-}" ] && printf 'hostname = %s\n' "$R2136_HOSTNAME" >>"$_tmp"
	echo >>"$_tmp"
	mv "$_tmp" "$W/placements.ini"
}

# The same with the node's DNS name, the target of `type = CNAME` records.
r2136_place_host() { # SERVICE ADDRESSES HOSTNAME
	R2136_HOSTNAME=$3 r2136_place "$1" "$2"
}

between() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# A BADTIME error TEXT carries the server's clock and ours, shifted by
# 1000 s (DNSFOLLOW_TIME_OFFSET) for a run that started at T0 and ended at
# T1 (wall seconds): check the numbers, not only the words.
r2136_badtime_numbers() { # LABEL TEXT T0 T1
	bt_srv=$(echo "$2" | sed -n 's/.*server time \([0-9]*\), ours.*/\1/p')
	bt_ours=$(echo "$2" | sed -n 's/.*, ours \([0-9]*\) (off by.*/\1/p')
	bt_off=$(echo "$2" | sed -n 's/.*(off by \([0-9-]*\) s).*/\1/p')
	check "$1: server time ${bt_srv:-missing} is the real time ($3..$4)" \
		between "$bt_srv" "$3" "$4"
	check "$1: our time ${bt_ours:-missing} is 1000 s ahead" \
		between "$bt_ours" $(($3 + 1000)) $(($4 + 1000))
	check "$1: off by ${bt_off:-missing} s, ours - server" \
		between "$bt_off" $((${bt_ours:-0} - ${bt_srv:-0})) $((${bt_ours:-0} - ${bt_srv:-0}))
}
