#!/bin/sh
# Core faults with the static backend and mock providers: a hung provider
# beside a healthy one, SIGTERM during a hung pass, the on_empty grace,
# retries per group, dry runs that end, unusable addresses.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dffault.XXXXXX)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
MS="python3 $TOP/tests/lib/mockstate.py"
DF_ERR="$T/err"
now_ms() { date +%s%3N; }
placements() { printf '%s\n' "$@" >"$T/p.new" && mv "$T/p.new" "$T/placements.ini"; }

# Two providers: "slow" (first, so a serial pass would wait on it) and
# "fast", each with one zone and one record.
two_providers() { # SLOW_LATENCY_MS
	cat >"$T/df.ini" <<EOF
[dnsfollow]
owner_id = faults
plugin_dir = $PLUGINS
interval = 3600
debounce_ms = 50
on_empty_grace = 2

[backend lab]
type = static
file = placements.ini

[provider slow]
type = mock
zones = slow.test
state = slow.json
latency_ms = $1

[provider fast]
type = mock
zones = fast.test
state = fast.json

[record a.slow.test]
provider = slow
backend = lab
service = s

[record a.fast.test]
provider = fast
backend = lab
service = f
EOF
}

# --- a hung provider delays only its own zones --------------------------------
two_providers 30000
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.2'
t0=$(now_ms)
$DF_WRAP "$DNSFOLLOW" -v -c "$T/df.ini" 2>"$T/daemon.err" & DPID=$!
fast_is() { [ "$($MS "$T/fast.json" fast.test a.fast.test A 2>/dev/null)" = "$1" ]; }
wait_for 10 fast_is 192.0.2.2
t1=$(now_ms)
check "healthy zone's first sync while the other provider hangs ($((t1 - t0)) ms)" \
	[ $((t1 - t0)) -lt 5000 ]
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.3'
t0=$(now_ms)
wait_for 10 fast_is 192.0.2.3
t1=$(now_ms)
diag "placement change to DNS in the healthy zone: $((t1 - t0)) ms while the other hangs"
check "healthy zone follows a change in normal time while the other hangs ($((t1 - t0)) ms)" \
	[ $((t1 - t0)) -lt 3000 ]
check "the hung zone was not written yet" [ -z "$($MS "$T/slow.json" slow.test a.slow.test A 2>/dev/null)" ]

# --- SIGTERM during the hung pass -----------------------------------------------
t0=$(now_ms)
kill -TERM "$DPID"
i=0; while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$DPID"; rc=$?
t1=$(now_ms)
DPID=""
diag "SIGTERM to exit: $((t1 - t0)) ms"
check "SIGTERM during a hung pass: exit within 3 s ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 3000 ]
check "SIGTERM: exit status 0" [ "$rc" = 0 ]
check "SIGTERM: no write started after it" [ -z "$($MS "$T/slow.json" slow.test a.slow.test A 2>/dev/null)" ]
check "SIGTERM: logged, and the hung zone wrote nothing" \
	eval 'grep -q " stopping$" "$T/daemon.err" && ! grep -q "set a.slow.test" "$T/daemon.err"'

# --- on_empty = delete waits for the empty answer to settle ----------------------
rm -f "$T"/*.json
two_providers 0
sed -i 's/^service = f$/&\non_empty = delete/' "$T/df.ini"
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.2'
df -c "$T/df.ini" --once
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses ='
t0=$(now_ms)
df -c "$T/df.ini" --once; rc=$?
t1=$(now_ms)
check "--once with an empty answer: exit 0" [ "$rc" = 0 ]
check "deleted only after on_empty_grace across two resolutions ($((t1 - t0)) ms)" \
	eval '[ $((t1 - t0)) -ge 2000 ] && [ -z "$($MS "$T/fast.json" fast.test a.fast.test A)" ]'
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.2'
df -c "$T/df.ini" --once
# A daemon sees an empty answer for less than the grace: nothing goes.
sed -i 's/^on_empty_grace = 2$/on_empty_grace = 6/' "$T/df.ini"
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" & DPID=$!
wait_for 10 fast_is 192.0.2.2
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses ='
wait_for 5 grep -q "runs nowhere; deleted if that holds" "$T/daemon.err"
sleep 2
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.2'
gone=0
# Sample past the moment the grace would have ended.
i=0; while [ $i -lt 14 ]; do
	sleep 0.5; i=$((i + 1))
	fast_is 192.0.2.2 || gone=1
done
check "an empty answer shorter than on_empty_grace deletes nothing" [ "$gone" = 0 ]
kill -TERM "$DPID"; wait "$DPID"; DPID=""

# --- retries count attempts per group, and the log announces only real ones ----
rm -f "$T"/*.json
two_providers 0
sed -i 's/^latency_ms = 0$/fail_every = 1/' "$T/df.ini"
sed -i 's/^\[dnsfollow\]$/&\nretries = 2\nbackoff_max = 1/' "$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "always-failing zone: exit 75" [ "$rc" = 75 ]
check "two attempts for the failing zone, not more" [ "$(grep -c 'zone slow.test: read failed' "$T/err")" = 2 ]
check "one retry announced, none that never runs" \
	eval '[ "$(grep -c "retry 1 in" "$T/err")" = 1 ] && ! grep -q "retry 2 in" "$T/err" && grep -q "no retry left" "$T/err"'
check "the healthy zone converged once" [ "$($MS "$T/fast.json" fast.test a.fast.test A)" = "192.0.2.2" ]

# --- --dry-run ends and does not claim convergence --------------------------------
rm -f "$T"/*.json
two_providers 0
out=$(timeout 10 $DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" --dry-run 2>"$T/err"); rc=$?
check "--dry-run without --once ends after one plan (exit $rc)" [ "$rc" = 0 ]
check "--dry-run prints the plan" eval 'echo "$out" | grep -q "fast fast.test: set a.fast.test A"'
check "--dry-run's summary says what would change, not converged" \
	eval 'grep -q "2 would change" "$T/err" && ! grep -q "converged" "$T/err"'
check "--dry-run wrote nothing" [ ! -e "$T/fast.json" ]

# --- a batch refused because of one change: the others still converge ------
rm -f "$T"/*.json
two_providers 0
printf '\n[record b.fast.test]\nprovider = fast\nbackend = lab\nservice = f\n' >>"$T/df.ini"
# A hand-made CNAME where b's marker goes: the core reads TXT there and
# sees nothing, the mock (as a real server) refuses a TXT beside a CNAME.
printf '%s\n' '{"zones": {"fast.test": {"serial": 1, "rrsets": {' \
	'"_dnsfollow.b.fast.test": {"CNAME": {"ttl": 300, "rdata": ["elsewhere.fast.test"]}}}}}}' >"$T/fast.json"
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 192.0.2.2'
df -c "$T/df.ini" --once; rc=$?
check "one refused record: exit 1 (permanent)" [ "$rc" = 1 ]
check "the zone's other record converged in the same run" [ "$($MS "$T/fast.json" fast.test a.fast.test A)" = "192.0.2.2" ]
check "the offending record was not written" [ -z "$($MS "$T/fast.json" fast.test b.fast.test A)" ]
check "the refusal names the record" grep -q "b.fast.test refused: .*the zone's other records go on" "$T/err"
check "its changes are logged as not applied" grep -q "not applied: set b.fast.test A" "$T/err"
check "applied changes are logged as such, after the fact" grep -q "zone fast.test: set a.fast.test A 60 192.0.2.2" "$T/err"

# --- unusable addresses are refused with the source named -------------------------
rm -f "$T"/*.json
two_providers 0
for a in 224.0.0.1 255.255.255.255 169.254.0.1 fe80::1 ::ffff:192.0.2.1 127.0.0.1; do
	placements '[s]' 'addresses = 192.0.2.1' "[f]" "addresses = 192.0.2.2, $a"
	df -c "$T/df.ini" --once; rc=$?
	check "address $a: refused (exit $rc), the error names it and its service" \
		eval '[ "$rc" != 0 ] && grep -q "service f: .*$a" "$T/err"'
	check "address $a: not published" [ -z "$($MS "$T/fast.json" fast.test a.fast.test A 2>/dev/null)" ]
done
sed -i 's/^\[dnsfollow\]$/&\nallow_loopback = yes/' "$T/df.ini"
placements '[s]' 'addresses = 192.0.2.1' '[f]' 'addresses = 127.0.0.1'
df -c "$T/df.ini" --once; rc=$?
check "allow_loopback = yes publishes 127.0.0.1" \
	eval '[ "$rc" = 0 ] && [ "$($MS "$T/fast.json" fast.test a.fast.test A)" = "127.0.0.1" ]'

tap_done
