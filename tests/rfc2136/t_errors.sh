#!/bin/sh
# rfc2136 provider, what goes wrong, against both named and knotd: wrong
# secret, unknown key, zone not served, unsigned update, clock skew,
# server down or silent, the server list, and a daemon that keeps
# retrying until the server comes up. Each: one clear error line, the
# zone untouched, no secret in the logs.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init

NAMED=15321 KNOT=15322 LATE=15323 DOWN=15329 SILENT=15328
r2136_key ddns
r2136_knot_key ddns
tsig-keygen -a hmac-sha256 ddns >"$W/wrong.key"     # same name, other secret
keymgr -t ddns hmac-sha256 >"$W/wrong.knot.key"
tsig-keygen -a hmac-sha256 nobody >"$W/nobody.key"
r2136_named $NAMED ddns example.test || { not_ok "named starts"; tap_done; exit 1; }
r2136_knotd $KNOT ddns example.test || { not_ok "knotd starts"; tap_done; exit 1; }
r2136_place gogs "192.0.2.10"

# once PORT KEYFILE ZONE [provider lines...]: one pass for git.ZONE; sets RC
once() {
	_p=$1 _k=$2 _z=$3; shift 3
	r2136_conf "$W/df.ini" "$_p" "$_k" "$_z" "$@"
	sed -i 's/^\[dnsfollow\]$/&\nretries = 1/' "$W/df.ini"
	r2136_record "$W/df.ini" "git.$_z" gogs "type = A"
	df -c "$W/df.ini" --once
	RC=$?
}

# expect NAME RC PATTERN PORT ZONE: the pass failed with RC, one error
# line matching PATTERN, the zone the run targeted (on PORT; "-" when no
# server answers there) as it was before ($BEFORE, its serial), no secret
# printed.
expect() {
	_name=$1 _rc=$2 _pat=$3 _port=$4 _zone=$5
	check "$_name: exit $_rc (got $RC)" [ "$RC" = "$_rc" ]
	_n=$(grep -c "^[^ ]* error .*\($_pat\)" "$DF_ERR")
	check "$_name: one error line with '$_pat' (got $_n)" [ "$_n" = 1 ]
	[ "$_n" = 1 ] || grep "^[^ ]* error .*\($_pat\)" "$DF_ERR" | sed "s/^/# /" | head -5
	if [ "$_port" != - ]; then
		check "$_name: serial of $_zone unchanged (${BEFORE:-not served})" \
			[ "$(r2136_serial "$_port" "$_zone")" = "$BEFORE" ]
		check "$_name: no git.$_zone record" [ -z "$(r2136_dig "$_port" "git.$_zone" A)" ]
	fi
	for s in $(r2136_secret "$W/ddns.key") $(r2136_secret "$W/wrong.key"); do
		if grep -qF "$s" "$DF_ERR"; then not_ok "$_name: secret leaked"; return; fi
	done
}

for srv in named knot; do
	if [ $srv = named ]; then P=$NAMED K=$W/ddns.key WK=$W/wrong.key
	else P=$KNOT K=$W/ddns.knot.key WK=$W/wrong.knot.key; fi
	BEFORE=$(r2136_serial $P example.test)
	once $P "$WK" example.test
	expect "$srv wrong secret" 1 "BADSIG" $P example.test
	once $P "$W/nobody.key" example.test
	expect "$srv unknown key" 1 "BADKEY" $P example.test
	BEFORE=$(r2136_serial $P other.test)
	once $P "$K" other.test
	expect "$srv zone not served" 1 "REFUSED\|NOTAUTH" $P other.test
	BEFORE=$(r2136_serial $P example.test)
	t0=$(date +%s)
	DNSFOLLOW_TIME_OFFSET=1000 once $P "$K" example.test
	t1=$(date +%s)
	expect "$srv clock off by 1000 s" 1 "BADTIME.*server time" $P example.test
	r2136_badtime_numbers "$srv BADTIME" "$(grep "^[^ ]* error .*BADTIME" "$DF_ERR" | head -1)" "$t0" "$t1"
	once $P "" example.test
	# Servers differ: BIND refuses unsigned updates, Knot says NOTAUTH.
	if [ $srv = named ]; then expect "named unsigned update" 1 "(REFUSED)" $P example.test
	else expect "knot unsigned update" 1 "(NOTAUTH)" $P example.test; fi
	check "$srv unsigned: warned at start" grep -q "no TSIG key configured" "$DF_ERR"
done

once $DOWN "$W/ddns.key" example.test
expect "server down" 75 "Connection refused" - -
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", '$SILENT')); time.sleep(30)' &
SILENT_PID=$!
R2136_PIDS="$R2136_PIDS $SILENT_PID"
sleep 0.3
once $SILENT "$W/ddns.key" example.test "timeout_ms = 300"
expect "server silent" 75 "no answer.*300 ms" - -
once $SILENT "$W/ddns.key" example.test "timeout_ms = 300" "server = 127.0.0.1:$DOWN, 127.0.0.1:$NAMED"
check "server list: the third server answers (rc=$RC)" [ "$RC" = 0 ]
check "server list: the record is set there" [ "$(r2136_dig $NAMED git.example.test A)" = 192.0.2.10 ]
check "server list: each failure was logged" [ "$(grep -c 'trying\|asking' "$DF_ERR")" -ge 2 ]

# A daemon keeps running while its server is down, backs off, and
# converges once the server comes up.
r2136_conf "$W/d.ini" $LATE "$W/ddns.key" example.test "timeout_ms = 300"
r2136_record "$W/d.ini" git.example.test gogs "type = A"
$DF_WRAP "$DNSFOLLOW" -c "$W/d.ini" 2>"$W/daemon.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
sleep 3
check "daemon alive while the server is down" kill -0 $DPID
# One error line per try (debug lines may name the failure more than
# once: read = auto tries a transfer, then queries).
n=$(grep -c "^[^ ]* error .*\(Connection refused\|no answer\)" "$W/daemon.err")
check "daemon retried (failures logged: $n)" [ "$n" -ge 2 ]
check "daemon backs off (fewer than 8 tries in 3 s)" [ "$n" -lt 8 ]
r2136_named $LATE ddns example.test
check "daemon converges once the server is up" \
	wait_for 40 sh -c "[ \"\$(dig @127.0.0.1 -p $LATE git.example.test A +short)\" = 192.0.2.10 ]"
kill -TERM $DPID
wait $DPID
check "daemon stops cleanly on SIGTERM" [ $? = 0 ]

# A permanent error (wrong secret) does not stop the daemon either: it
# tries again at each resync, and a reload with the right key converges.
r2136_conf "$W/p.ini" $KNOT "$W/wrong.knot.key" example.test
r2136_record "$W/p.ini" git.example.test gogs "type = A"
$DF_WRAP "$DNSFOLLOW" -c "$W/p.ini" 2>"$W/perm.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
badsigs() { grep -c "^[^ ]* error .*BADSIG" "$W/perm.err"; }
check "BADSIG tried again at the next resync" wait_for 15 sh -c "[ \"\$(grep -c '^[^ ]* error .*BADSIG' '$W/perm.err' 2>/dev/null)\" -ge 2 ] 2>/dev/null"
check "daemon alive after BADSIG" kill -0 $DPID
n1=$(badsigs); sleep 2; n2=$(badsigs)
check "not in a loop: $((n2 - n1)) more tries in 2 s (interval 1 s)" [ $((n2 - n1)) -le 4 ]
check "zone untouched meanwhile" [ "$(r2136_serial $KNOT example.test)" = 1 ]
sed -i "s#$W/wrong.knot.key#$W/ddns.knot.key#" "$W/p.ini"
kill -HUP $DPID
check "after SIGHUP with the right key the record converges" \
	wait_for 20 sh -c "[ \"\$(dig @127.0.0.1 -p $KNOT git.example.test A +short)\" = 192.0.2.10 ]"
kill -TERM $DPID
wait $DPID
check "daemon stops cleanly" [ $? = 0 ]
tap_done
