#!/bin/sh
# Transport faults against the fake OVH API (t_faults.sh has the 5xx, 429,
# failed refresh and credential cases): a server that hangs, one that
# sends its answer a byte at a time, an answer cut short, an answer larger
# than the client accepts. Each pass must end in bounded time with one
# clear temporary or permanent error, write nothing it should not, and the
# next clean pass must converge with exactly the records wanted.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/ovh/lib.sh"

fake_start || { not_ok "fake OVH server starts"; tap_done; exit 1; }
write_ovh_conf
RETRIES=1 OVH_EXTRA='timeout_ms = 1000' write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
df -c "$T/df.ini" --once; rc=$?
check "transport: first sync exits 0" [ "$rc" = 0 ]

LISTS='GET /domain/zone/{zone}/record'
# What the host says about a list call: "METHOD URL: detail".
ON_LIST='(GET https://127.0.0.1:[0-9]*/1.0/domain/zone/[ab].test/record'
NO_FAULT='{"fault_path": "", "fault_count": 0, "hang_ms": 0, "trickle_ms": 0, "truncate": 0, "huge_mb": 0}'
n=0
# fault NAME CONFIG WANT_RC WANT_TEXT: a pass with a change to publish
# while the fault is on.
fault() {
	n=$((n + 1))
	placements '[gogs]' "addresses = 192.0.2.$((20 + n)), 2001:db8::10" '[web]' 'addresses = 198.51.100.20'
	$CTL reset
	$CTL config "$2"
	t0=$(date +%s)
	df -c "$T/df.ini" --once; rc=$?
	secs=$(($(date +%s) - t0))
	$CTL config "$NO_FAULT"
	diag "$1: exit $rc after ${secs} s, $($CTL stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"])') call(s) faulted"
	check "$1: exit $3" [ "$rc" = "$3" ]
	check "$1: within 15 s" [ "$secs" -le 15 ]
	check "$1: one clear line ($4)" grep -q "$4" "$DF_ERR"
	check "$1: the call is named once (no \"PATH: METHOD URL\")" \
		sh -c "! grep -q ': [A-Z]* https://[^ ]*: ' '$DF_ERR'"
	[ "$_tap_fail" = 0 ] || sed 's/^/#   /' "$DF_ERR" | tail -5
}
# unchanged NAME: nothing written, nothing published, while the fault held.
unchanged() {
	check "$1: nothing written" [ "$($CTL writes)" = 0 ]
	check "$1: published records unchanged" \
		[ "$(get a.test git A)|$(get a.test git A staged)" = "192.0.2.10|192.0.2.10" ]
}
# converges NAME: the next clean pass publishes exactly what is wanted.
converges() {
	df -c "$T/df.ini" --once; rc=$?
	check "$1: next clean pass converges" [ "$rc" = 0 ]
	check "$1: exactly the wanted A, one marker" \
		[ "$(get a.test git A)|$($CTL count a.test _dnsfollow.git TXT)" = "192.0.2.$((20 + n))|1" ]
	placements '[gogs]' 'addresses = 192.0.2.10, 2001:db8::10' '[web]' 'addresses = 198.51.100.20'
	df -c "$T/df.ini" --once
}

# --- reads hang past timeout_ms -----------------------------------------------------
# The class of the failure first, then the host's precise words.
fault "hang" "{\"fault_path\": \"$LISTS\", \"hang_ms\": 4000}" 75 \
	"timed out $ON_LIST: Operation timed out after 1[0-9]* milliseconds"
unchanged "hang"
converges "hang"

# --- the answer comes a byte every 300 ms ------------------------------------------------
fault "trickle" "{\"fault_path\": \"$LISTS\", \"trickle_ms\": 300}" 75 \
	"timed out $ON_LIST: Operation timed out after 1[0-9]* milliseconds"
unchanged "trickle"
converges "trickle"

# --- the answer is cut short (connection closed mid-body) -----------------------------
fault "truncated" "{\"fault_path\": \"$LISTS\", \"truncate\": 1}" 75 \
	"network error (connection failed or reset, or the answer cut short) $ON_LIST: transfer closed with [0-9]* bytes remaining to read)"
unchanged "truncated"
converges "truncated"

# --- a 9 MiB answer (the host accepts 8 MiB) ----------------------------------------------
fault "huge" "{\"fault_path\": \"$LISTS\", \"huge_mb\": 9}" 1 \
	"answer too large $ON_LIST: answer larger than 8388608 bytes)"
unchanged "huge"
converges "huge"

# --- a write hangs: the server carries it out after the client gave up -------------------
# The PUT may land after the pass: the zone owes a refresh and the pass is
# temporary; the next pass publishes one A, never two, never none.
fault "hung write" '{"fault_path": "PUT ", "hang_ms": 3000}' 75 \
	"timed out (PUT https://127.0.0.1:[0-9]*/1.0/domain/zone/a.test/record/[0-9]*: Operation timed out after"
sleep 3
converges "hung write"

tap_done
