#!/bin/sh
# rfc2136 provider, the UPDATE path against both named and knotd. dnsfollow
# reads before it writes, so its negative runs fail on the first signed
# query; here a driver (tests/unit/rfc2136/drv_realserver.c) calls the
# plugin's apply() directly: wrong secret, unknown key, clock skew, zone
# not served and an unsigned update, each with its exact text and
# classification, the zone unchanged; with the right key, per-change
# results and a CNAME round trip (A → CNAME → A). Then, through
# dnsfollow, a key that may query but not update gets REFUSED.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init

NAMED=15331 KNOT=15332
DRIVER=$B/tests/unit/rfc2136/drv_realserver
[ -x "$DRIVER" ] || { not_ok "driver $DRIVER is built"; tap_done; exit 1; }
r2136_key ddns
r2136_knot_key ddns
r2136_key reader
tsig-keygen -a hmac-sha256 ddns >"$W/wrong.key"
keymgr -t ddns hmac-sha256 >"$W/wrong.knot.key"
tsig-keygen -a hmac-sha256 nobody >"$W/nobody.key"
# reader is known to named (signed queries work) but not granted updates.
R2136_NAMED_CONF_EXTRA="include \"$W/reader.key\";"
r2136_named $NAMED ddns example.test || { not_ok "named starts"; tap_done; exit 1; }
R2136_NAMED_CONF_EXTRA=
r2136_knotd $KNOT ddns example.test || { not_ok "knotd starts"; tap_done; exit 1; }

# drive PORT KEYFILE|- ZONE [TARGET]: apply() git.ZONE A + marker (or
# CNAME TARGET + marker); sets RC KIND ERR, RESULTS and READ (what read()
# reports for git.ZONE A and CNAME afterwards, one line each).
drive() {
	_out=$(TESTHOST_VERBOSE=1 $DF_WRAP "$DRIVER" "127.0.0.1:$1" "$2" "$3" \
		"git.$3" ${4:+"$4"} 2>>"$W/driver.log")
	echo "$_out" >>"$W/driver.log"
	RC=$(echo "$_out" | sed -n 's/^rc=//p')
	KIND=$(echo "$_out" | sed -n 's/^kind=//p')
	ERR=$(echo "$_out" | sed -n 's/^error=//p')
	RESULTS=$(echo "$_out" | sed -n 's/^results=//p')
	READ=$(echo "$_out" | sed -n 's/^read=//p')
}

# expect NAME PORT ZONE RC KIND TEXT: the last drive() failed so, and the
# zone it targeted is as it was ($BEFORE: its serial before the run).
expect() {
	check "$1: rc $4 (got $RC)" [ "$RC" = "$4" ]
	check "$1: $5 (got $KIND)" [ "$KIND" = "$5" ]
	check "$1: error text" [ "$ERR" = "$6" ]
	[ "$ERR" = "$6" ] || { diag "got:  $ERR"; diag "want: $6"; }
	check "$1: serial of $3 unchanged ($BEFORE)" [ "$(r2136_serial "$2" "$3")" = "$BEFORE" ]
	check "$1: no git.$3 record" [ -z "$(r2136_dig "$2" "git.$3" A)" ]
}

for srv in named knot; do
	if [ $srv = named ]; then P=$NAMED K=$W/ddns.key WK=$W/wrong.key
	else P=$KNOT K=$W/ddns.knot.key WK=$W/wrong.knot.key; fi
	S="server 127.0.0.1:$P"
	BEFORE=$(r2136_serial $P example.test)
	check "$srv serves example.test (serial $BEFORE)" [ -n "$BEFORE" ]

	drive $P "$WK" example.test
	expect "$srv wrong secret" $P example.test -13 permanent \
		"$S rejected the signature of TSIG key 'ddns' on the UPDATE (BADSIG): wrong secret or algorithm"
	drive $P "$W/nobody.key" example.test
	expect "$srv unknown key" $P example.test -13 permanent \
		"$S does not know TSIG key 'nobody' with algorithm hmac-sha256 (BADKEY)"

	t0=$(date +%s)
	DNSFOLLOW_TIME_OFFSET=1000 drive $P "$K" example.test
	t1=$(date +%s)
	_pre=$(echo "$ERR" | sed 's/server time [0-9]*, ours [0-9]* (off by [0-9-]* s)/server time N, ours M (off by D s)/')
	ERR_FULL=$ERR
	ERR=$_pre
	expect "$srv clock off by 1000 s" $P example.test -13 permanent \
		"$S rejected the time of the UPDATE (BADTIME): server time N, ours M (off by D s); fix the clock"
	ERR=$ERR_FULL
	r2136_badtime_numbers "$srv BADTIME" "$ERR" "$t0" "$t1"

	# Servers differ: BIND signs its NOTAUTH for a zone it does not
	# serve, Knot does not; an unsigned update gets REFUSED from BIND
	# and NOTAUTH from Knot.
	BEFORE=
	drive $P "$K" other.test
	if [ $srv = named ]; then
		expect "named zone not served" $P other.test -2 permanent \
			"$S is not authoritative for zone other.test or did not authorize the UPDATE (NOTAUTH)"
	else
		# Unsigned, as PowerDNS answers a wrong key: both causes named.
		expect "knot zone not served" $P other.test -13 permanent \
			"$S answered the UPDATE for zone other.test with an unsigned NOTAUTH: the TSIG key 'ddns' (name, secret or algorithm hmac-sha256) may be wrong, or the server does not serve the zone"
	fi
	BEFORE=$(r2136_serial $P example.test)
	drive $P - example.test
	if [ $srv = named ]; then
		expect "named unsigned update" $P example.test -13 permanent \
			"$S refused the UPDATE for zone example.test (REFUSED): check its allow-update/update-policy (or ACL) and the TSIG key"
	else
		expect "knot unsigned update" $P example.test -13 permanent \
			"$S did not authorize the unsigned UPDATE for zone example.test (NOTAUTH): configure a TSIG key"
	fi
	for k in "$K" "$WK"; do
		sec=$(r2136_secret "$k"; sed -n 's/^ *secret: //p' "$k")
		check "$srv: no secret of $(basename "$k") in the driver's output and logs" \
			sh -c "! grep -qF '$sec' '$W/driver.log'"
	done

	# The control: with the right key the same call changes the zone, so
	# the checks above would have seen a change.
	drive $P "$K" example.test
	check "$srv right key: rc 0 (got $RC: $ERR)" [ "$RC" = 0 ]
	check "$srv right key: serial moved" [ "$(r2136_serial $P example.test)" = $((BEFORE + 1)) ]
	check "$srv right key: record set" [ "$(r2136_dig $P git.example.test A)" = 192.0.2.99 ]
	check "$srv right key: every change applied (results $RESULTS)" [ "$RESULTS" = 0,0,0 ]

	# CNAME round trip: A → CNAME in one UPDATE, the A delete given after
	# the CNAME (the server would ignore a CNAME added beside the A), the
	# target written in full and read back without the trailing dot.
	drive $P "$K" example.test Node-1.Hosts.Example.NET.
	check "$srv CNAME: rc 0 (got $RC: $ERR)" [ "$RC" = 0 ]
	check "$srv CNAME: results $RESULTS" [ "$RESULTS" = 0,0,0 ]
	check "$srv CNAME: the server holds it" \
		[ "$(r2136_dig $P git.example.test CNAME)" = node-1.hosts.example.net. ]
	check "$srv CNAME: the A RRset is gone" \
		[ -z "$(dig +short +norec @127.0.0.1 -p $P git.example.test A | grep -v '\.$')" ]
	check "$srv CNAME: read() reports only the CNAME, as a name (got '$READ')" \
		[ "$READ" = "git.example.test 5 node-1.hosts.example.net" ]
	# and back: CNAME → A, the CNAME delete given last
	drive $P "$K" example.test
	check "$srv back to A: rc 0 (got $RC: $ERR)" [ "$RC" = 0 ]
	check "$srv back to A: no CNAME left" [ -z "$(r2136_dig $P git.example.test CNAME)" ]
	check "$srv back to A: read() reports the A (got '$READ')" \
		[ "$READ" = "git.example.test 1 192.0.2.99" ]
done

# Through dnsfollow: a key named accepts for queries but not for updates.
r2136_place gogs "192.0.2.10"
r2136_conf "$W/df.ini" $NAMED "$W/reader.key" example.test
sed -i 's/^\[dnsfollow\]$/&\nretries = 1/' "$W/df.ini"
r2136_record "$W/df.ini" api.example.test gogs "type = A"
BEFORE=$(r2136_serial $NAMED example.test)
df -c "$W/df.ini" --once
RC=$?
check "query-only key: exit 1 (got $RC)" [ "$RC" = 1 ]
check "query-only key: the reads worked" grep -q "zone example.test: asked for" "$DF_ERR"
n=$(grep -c "^[^ ]* error .*refused the UPDATE for zone example.test (REFUSED): check its allow-update/update-policy" "$DF_ERR")
check "query-only key: one REFUSED error line for the UPDATE (got $n)" [ "$n" = 1 ]
check "query-only key: serial unchanged" [ "$(r2136_serial $NAMED example.test)" = "$BEFORE" ]
check "query-only key: no api record" [ -z "$(r2136_dig $NAMED api.example.test A)" ]
tap_done
