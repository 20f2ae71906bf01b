#!/bin/sh
# End-to-end faults: dnsfollow + static backend + OVH provider against the
# fake OVH API injecting 500s, 429s, failed refreshes and clock skew; wrong
# credentials (never logged, even when the server repeats them); a server
# whose certificate is not from the configured CA; daemon mode.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/ovh/lib.sh"
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup' EXIT

fake_start --skew 7200 || { not_ok "fake OVH server starts"; tap_done; exit 1; }
write_ovh_conf
write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10, 192.0.2.11, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'

# --- every 3rd call fails: repeated passes converge ---------------------------
$CTL config '{"fail_every": 3}'
codes=""
i=0
while [ $i -lt 12 ]; do
	i=$((i + 1))
	df -c "$T/df.ini" --once; rc=$?
	codes="$codes $rc"
	[ "$rc" = 0 ] && break
done
diag "exit codes with every 3rd call failing:$codes"
check "faults: converges within 12 passes" [ "$rc" = 0 ]
only_0_75() { for c in $codes; do case $c in 0 | 75) ;; *) return 1 ;; esac; done; }
check "faults: only 0 (done) or 75 (temporary) exit codes" only_0_75
check "faults: 500s were injected" \
	python3 -c "import json,sys; sys.exit(json.loads(sys.argv[1])['errors'].get('500',0)==0)" "$($CTL stats)"
check "faults: A published exactly, no duplicate" [ "$(get a.test git A)" = "192.0.2.10 192.0.2.11" ]
check "faults: AAAA published" [ "$(get a.test git AAAA)" = "2001:db8::10" ]
check "faults: marker published" [ "$(get a.test _dnsfollow.git TXT)" = "heritage=dnsfollow,owner=e2e" ]
check "faults: second zone published" [ "$(get b.test www A)" = "198.51.100.20" ]
check "faults: staged equals published" \
	[ "$(get a.test git A staged)|$(get b.test www A staged)" = "$(get a.test git A)|$(get b.test www A)" ]
$CTL config '{"fail_every": 0}'
$CTL reset
df -c "$T/df.ini" --once; rc=$?
check "faults: next clean pass is in sync, no write" [ "$rc:$($CTL writes)" = "0:0" ]
check "clock skew (server 2 h ahead): no out-of-time refusal" \
	python3 -c "import json,sys; sys.exit(json.loads(sys.argv[1])['errors'].get('400',0)!=0)" "$($CTL stats)"

# --- 429 with Retry-After: waited out inside the pass ------------------------------
placements '[gogs]' 'addresses = 192.0.2.12, 2001:db8::10' '[web]' 'addresses = 198.51.100.21'
$CTL config '{"throttle_every": 4, "retry_after": 1}'
$CTL reset
df -c "$T/df.ini" --once; rc=$?
$CTL config '{"throttle_every": 0}'
check "429: pass converges in one run" [ "$rc" = 0 ]
check "429: throttling was injected" \
	python3 -c "import json,sys; sys.exit(json.loads(sys.argv[1])['errors'].get('429',0)==0)" "$($CTL stats)"
check "429: published" [ "$(get a.test git A)|$(get b.test www A)" = "192.0.2.12|198.51.100.21" ]

# --- a failed refresh: owed to the zone, paid by the next pass ----------------------
# The first-contact refresh of a.test (a new process) goes through; then
# every attempt at the refresh of its write fails, so the write stays
# staged. The run's retry pass reads that staged state (in sync, nothing
# to apply): the plugin sends the refresh it owes first, and the change is
# published.
placements '[gogs]' 'addresses = 192.0.2.13, 2001:db8::10' '[web]' 'addresses = 198.51.100.21'
$CTL reset
$CTL config '{"fail_refresh": 3, "fail_refresh_zone": "a.test", "fail_refresh_skip": 1}'
df -c "$T/df.ini" --once -v; rc=$?
$CTL config '{"fail_refresh": 0, "fail_refresh_zone": "", "fail_refresh_skip": 0}'
check "failed refresh: the run converges on its retry pass (exit 0)" [ "$rc" = 0 ]
check "failed refresh: three refresh attempts failed" [ "$($CTL refresh_failed a.test)" = 3 ]
check "failed refresh: the change is published" [ "$(get a.test git A)" = "192.0.2.13" ]
check "failed refresh: first contact, then exactly one owed refresh succeeded" [ "$($CTL refresh a.test)" = 2 ]
check "failed refresh: the retry pass wrote nothing again" [ "$($CTL writes)" = 1 ]
check "failed refresh: the owed refresh is logged" grep -q "publishing changes an earlier pass staged" "$DF_ERR"
$CTL reset
df -c "$T/df.ini" --once; rc=$?
check "failed refresh: next run in sync, no write, only the first-contact refresh per zone" \
	[ "$rc:$($CTL writes):$($CTL refresh a.test)$($CTL refresh b.test)" = "0:0:11" ]

# --- wrong secret: permanent error, nothing changes ------------------------------------
write_ovh_conf wrongSecretWrongSecretWrongSecre
placements '[gogs]' 'addresses = 192.0.2.99' '[web]' 'addresses = 198.51.100.99'
$CTL reset
df -c "$T/df.ini" --once -v; rc=$?
check "wrong secret: exit 1 (permanent)" [ "$rc" = 1 ]
check "wrong secret: error names the OVH refusal" grep -q "INVALID_SIGNATURE" "$DF_ERR"
check "wrong secret: error carries the query id" grep -q "query id FAKE" "$DF_ERR"
check "wrong secret: error names the file each key came from" \
	grep -q "credentials used: application_key from $T/ovh.conf, application_secret from $T/ovh.conf, consumer_key from $T/ovh.conf" "$DF_ERR"
check "wrong secret: nothing written" [ "$($CTL writes)" = 0 ]
check "wrong secret: published records unchanged" \
	[ "$(get a.test git A)|$(get b.test www A)" = "192.0.2.13|198.51.100.21" ]
check "wrong secret: no retry storm (<= 8 calls)" [ "$($CTL total)" -le 8 ]
check "wrong secret: the secret is not logged" sh -c "! grep -q wrongSecret '$DF_ERR'"

# --- a 403 repeating the consumer key read from ovh.conf: masked in the debug log ---------
write_ovh_conf "$OVH_AS" wrongConsumerKeyFromFile0001
$CTL config '{"echo_credentials": 1}'
$CTL reset
df -c "$T/df.ini" --once -v; rc=$?
$CTL config '{"echo_credentials": 0}'
check "wrong consumer key: exit 1 (permanent)" [ "$rc" = 1 ]
check "wrong consumer key: INVALID_CREDENTIAL, naming the file it came from" \
	grep -q "INVALID_CREDENTIAL.*consumer_key from $T/ovh.conf" "$DF_ERR"
check "wrong consumer key: the server's echo of it is masked" \
	grep -q "consumer key received: \*\*\*" "$DF_ERR"
check "wrong consumer key: never in the debug log" sh -c "! grep -q wrongConsumerKey '$DF_ERR'"
check "wrong consumer key: nothing written" [ "$($CTL writes)" = 0 ]

# --- the same echo placed where a cut of the text would split the key ----------------------
# The error line is about 130 characters before the filler; pads from 296
# to 372 put the key across every position a 480-byte cut could fall on.
# Masking must come before any cut: not even a prefix of the key is logged.
$CTL reset
ck_prefix=$(printf %.8s wrongConsumerKeyFromFile0001)
leaks="" pad=296
while [ $pad -le 372 ]; do
	$CTL config "{\"echo_credentials\": 1, \"echo_pad\": $pad}"
	df -c "$T/df.ini" --once -v
	grep -q "$ck_prefix" "$DF_ERR" && leaks="$leaks $pad"
	pad=$((pad + 4))
done
$CTL config '{"echo_credentials": 0, "echo_pad": 0}'
[ -z "$leaks" ] || diag "a prefix of the consumer key was logged with pads:$leaks"
check "long error text: no prefix of the consumer key in the log" [ -z "$leaks" ]
check "long error text: the whole echo reached the log, masked" \
	grep -q "\.\.\.\.(consumer key received: \*\*\*)" "$DF_ERR"

# --- environment overrides the file -------------------------------------------------------
write_ovh_conf wrongSecretWrongSecretWrongSecre
OVH_APPLICATION_SECRET=$OVH_AS df -c "$T/df.ini" --once; rc=$?
check "OVH_APPLICATION_SECRET overrides ovh.conf" [ "$rc" = 0 ]
check "env credentials: published" [ "$(get a.test git A)" = "192.0.2.99" ]
write_ovh_conf

# --- a server whose certificate is not from the given CA ---------------------------------
ROGUE="$T/rogue"
mkdir -p "$ROGUE" && cp "$FAKE"/*.pem "$FAKE"/*.key "$ROGUE"/
FAKE_WATCH_PID=$$ sh "$TOP/tests/ovh/fakectl.sh" start "$ROGUE" --rogue --zones "$ZONES" >/dev/null
GOOD_PORT=$PORT
PORT=$(cat "$ROGUE/port")
write_config "$T/rogue.ini"
PORT=$GOOD_PORT
df -c "$T/rogue.ini" --once; rc=$?
check "untrusted certificate: refused (exit 1)" [ "$rc" = 1 ]
check "untrusted certificate: the class, then the host's words naming the cause" \
	grep -q "TLS or protocol failure (GET https://127.0.0.1:[0-9]*/1.0/auth/time: the server's TLS certificate is not trusted (.*); is the right CA file given?)" "$DF_ERR"
check "untrusted certificate: no request reached the server" \
	[ "$(OVHCTL_CA="$ROGUE/rogue-ca.pem" python3 "$TOP/tests/ovh/ovhctl.py" "$ROGUE" total)" = 0 ]

# --- daemon: a placement change is published within seconds --------------------------------
$CTL reset
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" -v 2>"$T/daemon.err" &
DPID=$!
wait_for 10 grep -qE " pass( done)?:" "$T/daemon.err" 2>/dev/null
check "daemon: one refresh per zone at first contact" \
	[ "$($CTL refresh a.test)$($CTL refresh b.test)" = 11 ]
placements '[gogs]' 'addresses = 192.0.2.77' '[web]' 'addresses = 198.51.100.99'
published_is() { [ "$(get "$1" "$2" "$3")" = "$4" ]; }
check "daemon: placement change published" wait_for 10 published_is a.test git A 192.0.2.77
check "daemon: then one refresh for that change" [ "$($CTL refresh a.test)" = 2 ]
stop_daemon
[ "$_tap_fail" = 0 ] || sed 's/^/# daemon: /' "$T/daemon.err" | head -60
check "daemon: no secret in its log" sh -c "! grep -q -e '$OVH_AS' -e '$OVH_CK' '$T/daemon.err'"

tap_done
