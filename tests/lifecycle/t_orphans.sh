#!/bin/sh
# Orphan cleanup after a config reload (issue 10, item 4), on every
# provider: mock, rfc2136 on named (15401) and on knotd (15402), pdns on a
# real PowerDNS (DNS 15403, API 15404), ovh on the fake API (15405).
#
# Each provider runs one daemon (static backend, interval 1 s,
# orphan_grace 2 s) through these phases:
#   sync        keep + gone converge (and solo, alone in example.net); a
#               reload drops [record gone] and [record solo]: gone's
#               A, AAAA and marker are still there right after the reload,
#               gone not before the grace, and keep, a foreign record, a
#               foreign "_dnsfollow." TXT and a name of another owner_id
#               (test-owner2, a prefix trap for test-owner) stay; solo
#               goes too though its zone has no [record] left, except an
#               MX and a TXT an admin put at its name (never dnsfollow's).
#   safety      the same reload while the placements file is half written
#               (no final newline), then while it is missing: nothing is
#               deleted past the grace; once the file is whole, gone goes.
#   upsert-only (the default policy) the same reload deletes nothing.
#   dry run     --once --dry-run, orphan_grace = 0: a line with "orphan"
#               names gone, and nothing is written; a plain --once with
#               orphan_grace = 2 deletes nothing either.
#   restart     a new daemon (sync, grace 2) deletes gone only a grace after
#               its start.
# A provider whose markers op is not built yet is skipped with its reason.
# ORPH_PROVIDERS picks providers, LOG_LEVEL the daemon's, ORPH_KEEP=1 keeps
# the work folder (logs).
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
. "$TOP/tests/pdns/lib.sh"

Z=example.test
Z2=example.net # holds only solo: the zone has no record left after the reload
OWNER=test-owner
OTHER=test-owner2
GRACE=2
NAMED_PORT=15401
KNOT_PORT=15402
PDNS_DNS=15403
PDNS_API=15404
OVH_PORT=15405
: "${LOG_LEVEL:=info}"
W=$(mktemp -d /tmp/dfor.XXXXXX)
DF_ERR=$W/last.err
DPID=""
CTL="python3 $TOP/tests/ovh/ovhctl.py $W/ovh"

stop_daemon() { # sets DRC to the daemon's exit status
	DRC=""
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	_i=0
	while kill -0 "$DPID" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID"; DRC=$?
	DPID=""
}
stop_servers() {
	R2136_PIDS="$R2136_PIDS $PDNS_PIDS"
	for p in $R2136_PIDS; do kill "$p" 2>/dev/null; done
	for p in $R2136_PIDS; do
		_i=0
		while kill -0 "$p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	R2136_PIDS=""; PDNS_PIDS=""
	[ -d "$W/ovh" ] && sh "$TOP/tests/ovh/fakectl.sh" stop "$W/ovh" 2>/dev/null
	return 0
}
cleanup() {
	stop_daemon
	stop_servers
	if [ -n "${ORPH_KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- configuration ---------------------------------------------------------
provider_lines() {
	case $PV in
	mock) printf '%s\n' 'type = mock' "state = $W/mock.json" ;;
	named) printf '%s\n' 'type = rfc2136' "server = 127.0.0.1:$NAMED_PORT" "key_file = $W/ddns.key" ;;
	knot) printf '%s\n' 'type = rfc2136' "server = 127.0.0.1:$KNOT_PORT" "key_file = $W/ddns.knot.key" ;;
	pdns) printf '%s\n' 'type = pdns' "url = http://127.0.0.1:$PDNS_API" "api_key_file = $W/api.key" ;;
	ovh) printf '%s\n' 'type = ovh' "endpoint = https://127.0.0.1:$OVH_PORT/1.0" \
		"credentials = $W/ovh.conf" "ca_file = $W/ovh/ca.pem" 'rate_limit = 0' ;;
	esac
}

# conf FILE POLICY GRACE "RECORDS" [OWNER]: POLICY sync | upsert-only |
# default (no policy line); GRACE "" leaves orphan_grace out; RECORDS
# among keep (A), gone (A, AAAA), other (A), solo (A, in example.net).
# Written atomically.
conf() {
	_f=$1; _pol=$2; _gr=$3; _recs=$4; _own=${5:-$OWNER}
	{
		printf '%s\n' '[dnsfollow]' "owner_id = $_own" "plugin_dir = $PLUGINS" \
			'interval = 1' 'retries = 1' 'backoff_max = 1' 'debounce_ms = 100' \
			"log_level = $LOG_LEVEL"
		[ -n "$_gr" ] && echo "orphan_grace = $_gr"
		printf '\n[backend lab]\ntype = static\nfile = %s\n\n[provider dns]\nzones = %s\n' \
			"$W/placements.ini" "$Z, $Z2"
		provider_lines
		[ "$_pol" = default ] || echo "policy = $_pol"
		for r in $_recs; do
			_t=A; _z=$Z
			case $r in
			gone) _t="A, AAAA" ;;
			solo) _z=$Z2 ;;
			esac
			printf '\n[record %s.%s]\nprovider = dns\nbackend = lab\nservice = %s\ntype = %s\nttl = 60\n' \
				"$r" "$_z" "$r" "$_t"
		done
	} >"$_f.new" && mv "$_f.new" "$_f"
}

placements_ok() {
	printf '%s\n' '[keep]' 'addresses = 192.0.2.1' '' '[gone]' 'addresses = 192.0.2.2, 2001:db8::2' \
		'' '[other]' 'addresses = 192.0.2.3' '' '[solo]' 'addresses = 192.0.2.4' >"$W/placements.new" && mv "$W/placements.new" "$W/placements.ini"
}
# What an editor leaves in the middle of a save: the last line cut short.
placements_half() {
	printf '[keep]\naddresses = 192.0.2.1\n\n[gone]\naddresses = 192.0.2.' >"$W/placements.new" &&
		mv "$W/placements.new" "$W/placements.ini"
}

# --- reading the zone --------------------------------------------------------
# get NAME TYPE: the RRset's data, sorted, on one line (TXT unquoted); fails
# when the zone could not be read (so "absent" is never a dead server).
get() {
	case $1 in *.$Z2) _z=$Z2 ;; *) _z=$Z ;; esac
	case $PV in
	mock) python3 "$TOP/tests/lib/mockstate.py" "$W/mock.json" $_z "$1" "$2" ;;
	ovh) $CTL get $_z "${1%."$_z"}" "$2" 2>>"$W/ctl.err" ;;
	*)
		_o=$(dig +time=2 +tries=2 @127.0.0.1 -p "$DNSPORT" "$1" "$2" +short) || return 1
		printf '%s\n' "$_o" | tr -d '"' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
		;;
	esac
}
is() { _v=$(get "$1" "$2") && [ "$_v" = "$3" ]; }
marker() { echo "heritage=dnsfollow,owner=$1"; }

gone_present() {
	is gone.$Z A 192.0.2.2 && is gone.$Z AAAA 2001:db8::2 && is _dnsfollow.gone.$Z TXT "$(marker $OWNER)"
}
gone_absent() {
	is gone.$Z A "" && is gone.$Z AAAA "" && is _dnsfollow.gone.$Z TXT ""
}
keep_ok() { is keep.$Z A 192.0.2.1 && is _dnsfollow.keep.$Z TXT "$(marker $OWNER)"; }
foreign_ok() {
	is foreign.$Z A 198.51.100.8 && is odd.$Z A 198.51.100.9 &&
		is _dnsfollow.odd.$Z TXT not-a-dnsfollow-marker
}
other_ok() { is other.$Z A 192.0.2.3 && is _dnsfollow.other.$Z TXT "$(marker $OTHER)"; }
converged() { gone_present && keep_ok; }
solo_present() { is solo.$Z2 A 192.0.2.4 && is _dnsfollow.solo.$Z2 TXT "$(marker $OWNER)"; }
# check_gone DESCRIPTION COMMAND...: check, and on failure show gone's data.
check_gone() {
	_d=$1; shift
	if "$@"; then ok "$_d"; return 0; fi
	not_ok "$_d"
	diag "  gone A '$(get gone.$Z A)' AAAA '$(get gone.$Z AAAA)' marker '$(get _dnsfollow.gone.$Z TXT)'"
	[ -s "$W/ctl.err" ] && tail -3 "$W/ctl.err" | sed 's/^/#   ctl: /'
	return 1
}
# Everything but gone as it should be.
others_ok() { keep_ok && foreign_ok && other_ok; }

# What a dry run must leave as it is.
snap() {
	case $PV in
	mock) stat -c "%i %Y %s" "$W/mock.json" ;;
	ovh) echo "$($CTL writes) $($CTL refresh $Z) $($CTL refresh $Z2)" ;;
	*) for _z in $Z $Z2; do dig +time=2 +tries=2 @127.0.0.1 -p "$DNSPORT" $_z SOA +short | awk '{print $3}'; done ;;
	esac
}

# --- servers --------------------------------------------------------------------
# Foreign data: foreign (A) comes with the lib zones; odd (A) and a TXT at
# _dnsfollow.odd that is no marker are added here.
printf '%s\n' 'odd	IN A 198.51.100.9' '_dnsfollow.odd	IN TXT "not-a-dnsfollow-marker"' >"$W/extra.zone"

start_server() { # sets DNSPORT; fails with SKIPWHY set when a tool is missing
	SKIPWHY=""
	case $PV in
	mock)
		python3 - "$W/mock.json" <<'EOF'
import json, sys
rr = {"foreign.example.test": {"A": {"ttl": 300, "rdata": ["198.51.100.8"]}},
      "odd.example.test": {"A": {"ttl": 300, "rdata": ["198.51.100.9"]}},
      "_dnsfollow.odd.example.test": {"TXT": {"ttl": 300, "rdata": ["not-a-dnsfollow-marker"]}}}
json.dump({"zones": {"example.test": {"serial": 0, "rrsets": rr}}}, open(sys.argv[1], "w"))
EOF
		;;
	named)
		for c in named tsig-keygen dig; do command -v $c >/dev/null || { SKIPWHY="$c missing"; return 1; }; done
		DNSPORT=$NAMED_PORT
		r2136_key ddns hmac-sha256 &&
			R2136_ZONE_EXTRA=$W/extra.zone r2136_named $NAMED_PORT ddns $Z $Z2
		;;
	knot)
		for c in knotd keymgr dig; do command -v $c >/dev/null || { SKIPWHY="$c missing"; return 1; }; done
		DNSPORT=$KNOT_PORT
		r2136_knot_key ddns hmac-sha256 &&
			R2136_ZONE_EXTRA=$W/extra.zone r2136_knotd $KNOT_PORT ddns $Z $Z2
		;;
	pdns)
		pdns_have || { SKIPWHY="$PDNS_MISSING missing"; return 1; }
		DNSPORT=$PDNS_DNS
		_key="df-orph-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
		printf '%s\n' "$_key" >"$W/api.key" && chmod 600 "$W/api.key" &&
			pdns_start $PDNS_DNS $PDNS_API "$_key" $Z $Z2 &&
			pdns_util $PDNS_DNS add-record $Z odd A 300 198.51.100.9 &&
			pdns_util $PDNS_DNS add-record $Z _dnsfollow.odd TXT 300 '"not-a-dnsfollow-marker"'
		;;
	ovh)
		command -v openssl >/dev/null || { SKIPWHY="openssl missing"; return 1; }
		FAKE_WATCH_PID=$$ sh "$TOP/tests/ovh/fakectl.sh" start "$W/ovh" --zones $Z,$Z2 \
			--port $OVH_PORT >/dev/null || return 1
		# shellcheck disable=SC2046
		set -- $(sh "$TOP/tests/ovh/fakectl.sh" creds)
		printf '%s\n' '[default]' 'endpoint=ovh-eu' '' '[ovh-eu]' "application_key=$1" \
			"application_secret=$2" "consumer_key=$3" >"$W/ovh.conf"
		chmod 600 "$W/ovh.conf"
		$CTL seed $Z foreign A 198.51.100.8 300 >/dev/null &&
			$CTL seed $Z odd A 198.51.100.9 300 >/dev/null &&
			$CTL seed $Z _dnsfollow.odd TXT not-a-dnsfollow-marker 300 >/dev/null
		;;
	esac
}

# Foreign data an admin adds at solo's own name once dnsfollow manages it:
# an MX and a TXT (types dnsfollow never writes there). The orphan's
# deletion must leave them.
seed_at_solo() {
	case $PV in
	mock)
		python3 - "$W/mock.json" <<'EOF2'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["zones"]["example.net"]["rrsets"]["solo.example.net"].update(
    {"MX": {"ttl": 300, "rdata": ["10 ns1.example.net."]},
     "TXT": {"ttl": 300, "rdata": ["v=spf1 -all"]}})
json.dump(d, open(sys.argv[1] + ".new", "w"))
os.rename(sys.argv[1] + ".new", sys.argv[1])
EOF2
		;;
	named | knot)
		if [ $PV = named ]; then _sec=$(r2136_secret "$W/ddns.key"); else
			_sec=$(sed -n 's/^ *secret: *//p' "$W/ddns.knot.key"); fi
		printf '%s\n' "server 127.0.0.1 $DNSPORT" "zone $Z2" \
			"update add solo.$Z2 300 MX 10 ns1.$Z2." \
			"update add solo.$Z2 300 TXT \"v=spf1 -all\"" send |
			nsupdate -y "hmac-sha256:ddns:$_sec"
		;;
	pdns)
		pdns_util $PDNS_DNS add-record $Z2 solo MX 300 "10 ns1.$Z2." &&
			pdns_util $PDNS_DNS add-record $Z2 solo TXT 300 '"v=spf1 -all"'
		;;
	ovh)
		$CTL seed $Z2 solo MX "10 ns1.$Z2." 300 >/dev/null &&
			$CTL seed $Z2 solo TXT "v=spf1 -all" 300 >/dev/null
		;;
	esac
}
solo_foreign_ok() { is solo.$Z2 MX "10 ns1.$Z2." && is solo.$Z2 TXT "v=spf1 -all"; }

plugin_of() { case $PV in named | knot) echo rfc2136 ;; *) echo "$PV" ;; esac; }

# --- the daemon -----------------------------------------------------------------
LOG=""
start_daemon() {
	LOG=$W/$PV.daemon.err
	$DF_WRAP "$DNSFOLLOW" -c "$W/df.ini" 2>>"$LOG" &
	DPID=$!
}
reloads() { grep -c 'configuration reloaded' "$LOG"; }
# reload POLICY GRACE "RECORDS": rewrite df.ini, SIGHUP, wait until the
# daemon says it took it; T0 is the time of the signal.
reload() {
	_n=$(reloads)
	conf "$W/df.ini" "$@"
	T0=$(now_ms)
	kill -HUP "$DPID"
	wait_for 10 sh -c "[ \$(grep -c 'configuration reloaded' '$LOG') -gt $_n ]"
}
# since N PATTERN: lines after line N of the log matching PATTERN
since() { tail -n +$(($1 + 1)) "$LOG" | grep -c -e "$2"; }
# stamp_after N PATTERN: the log time (ms) of the first such line
stamp_after() {
	_s=$(tail -n +$(($1 + 1)) "$LOG" | grep -m1 -e "$2" | cut -d' ' -f1)
	[ -n "$_s" ] && date -d "$_s" +%s%3N
}
# still_there DESCRIPTION T: gone must still be there, T ms (our clock)
# after the event that made it an orphan. A look that ends past the grace
# proves nothing either way (a loaded machine): skipped, not failed; the
# log's own clock is checked as well (not_before).
still_there() {
	if gone_present; then
		ok "$1"
	elif [ $(( $(now_ms) - $2 )) -lt $((GRACE * 1000)) ]; then
		check_gone "$1" false
	else
		ok "$1 # SKIP the look ended past the grace (slow machine)"
	fi
}
# not_before DESCRIPTION N T [MS]: by the daemon's log clock, the first
# delete of gone after line N comes at least MS (default: the grace) after
# T (our clock, taken just before the event), whatever the machine's load.
not_before() {
	_b=$(stamp_after "$2" "delete gone\.$Z "); _e=$3; _min=${4:-$((GRACE * 1000))}
	check "$1 (log: $(( ${_b:-0} - _e )) ms)" \
		eval '[ -n "$_b" ] && [ $((_b - _e)) -ge "$_min" ]'
}

phase_sync() {
	conf "$W/df.ini" sync $GRACE "keep gone solo"
	start_daemon
	check "$PV sync: keep and gone (A, AAAA) converge with their markers" wait_for 20 converged
	check "$PV sync: solo.$Z2, alone in its zone, converges" wait_for 10 solo_present
	seed_at_solo
	check "$PV sync: an admin's MX and TXT added at solo.$Z2" solo_foreign_ok
	_l=$(wc -l <"$LOG")
	check "$PV sync: a reload without [record gone.$Z] is taken" reload sync $GRACE keep
	still_there "$PV sync: right after the reload gone's A, AAAA and marker are still there" "$T0"
	if wait_for 15 gone_absent; then
		_el=$(( $(now_ms) - T0 ))
		ok "$PV sync: gone's A, AAAA and marker deleted after the grace"
		check "$PV sync: not before orphan_grace = $GRACE s (gone ${_el} ms after SIGHUP)" \
			[ "$_el" -ge $((GRACE * 1000)) ]
		not_before "$PV sync: deleted at least orphan_grace after the reload" "$_l" "$T0"
	else
		not_ok "$PV sync: gone's A, AAAA and marker deleted after the grace (A '$(get gone.$Z A)', AAAA '$(get gone.$Z AAAA)', marker '$(get _dnsfollow.gone.$Z TXT)')"
	fi
	check "$PV sync: solo.$Z2 and its marker deleted too (its zone has no [record] left)" \
		wait_for 10 is solo.$Z2 A ""
	check "$PV sync: ... marker included" is _dnsfollow.solo.$Z2 TXT ""
	check "$PV sync: ... but the admin's MX and TXT at solo.$Z2 stay" solo_foreign_ok
	check "$PV sync: keep untouched" keep_ok
	check "$PV sync: foreign A and a non-marker _dnsfollow TXT untouched" foreign_ok
	check "$PV sync: a name of owner_id $OTHER untouched" other_ok
	check "$PV sync: the log says gone.$Z was deleted as an orphan" \
		sh -c "grep -i orphan '$LOG' | grep -q 'gone\.$Z'"
}

# failed_passes N PATTERN: at least two failures matching PATTERN logged
# after line N (two passes: one could be the last of a pass in flight).
failed_passes() { [ "$(since "$1" "$2")" -ge 2 ]; }

# backoff_max = 1 keeps failing passes coming every second or so.
phase_safety() {
	reload sync $GRACE "keep gone"
	check_gone "$PV safety: gone back under sync" wait_for 15 gone_present
	placements_half
	check "$PV safety: reload without gone while placements.ini is half written" reload sync $GRACE keep
	sleep $GRACE.2
	_l=$(wc -l <"$LOG")
	check "$PV safety: passes past the grace fail on the half-written file" \
		wait_for 10 failed_passes "$_l" 'middle of a line'
	check_gone "$PV safety: half-written file: nothing deleted past the grace" gone_present
	rm -f "$W/placements.ini"
	_l=$(wc -l <"$LOG")
	check "$PV safety: passes fail on the missing file" wait_for 10 failed_passes "$_l" 'cannot open'
	check_gone "$PV safety: missing file: nothing deleted past the grace" gone_present
	check "$PV safety: keep, foreign and other owner untouched meanwhile" others_ok
	_l=$(wc -l <"$LOG")
	placements_ok
	_tr=$(now_ms)
	if wait_for 15 gone_absent; then
		_el=$(( $(now_ms) - _tr ))
		ok "$PV safety: once the file is whole again, gone is deleted"
		# The clock starts again at the first pass that knows everything
		# (a clock kept through the failures would delete at once). That
		# pass may have started a moment before the file came back, so
		# half the grace is the bound.
		check "$PV safety: ... not at once: the orphan's clock starts again (${_el} ms)" \
			[ "$_el" -ge $((GRACE * 500)) ]
		not_before "$PV safety: ... by the log's clock" "$_l" "$_tr" $((GRACE * 500))
	else
		not_ok "$PV safety: once the file is whole again, gone is deleted"
	fi
	check "$PV safety: keep still untouched" keep_ok
}

phase_upsert() {
	reload default $GRACE "keep gone"
	check_gone "$PV upsert-only: gone back" wait_for 15 gone_present
	check "$PV upsert-only (default): a reload without gone is taken" reload default $GRACE keep
	sleep $((GRACE + 1)).5
	check_gone "$PV upsert-only: gone's A, AAAA and marker kept past the grace" gone_present
	check "$PV upsert-only: everything else untouched" others_ok
	stop_daemon
	check "$PV: daemon stops on SIGTERM with exit 0" [ "$DRC" = 0 ]
}

phase_dry() {
	conf "$W/dry.ini" sync 0 keep
	[ "$PV" = ovh ] && $CTL reset
	_s=$(snap)
	_out=$(df -c "$W/dry.ini" --once --dry-run); _rc=$?
	cat "$DF_ERR" >>"$W/$PV.dry.err"
	check "$PV dry run: exit 0" [ "$_rc" = 0 ]
	check "$PV dry run: prints the orphan deletion of gone.$Z on a line with 'orphan'" \
		sh -c 'echo "$1" | grep -i orphan | grep -q "gone\.$2"' - "$_out" "$Z"
	check "$PV dry run: no other name is called an orphan" \
		sh -c '! echo "$1" | grep -i orphan | grep -q -e "keep[.]" -e "foreign[.]" -e "odd[.]" -e "other[.]"' - "$_out"
	check "$PV dry run: writes nothing" [ "$(snap)" = "$_s" ]
	check_gone "$PV dry run: gone and the rest still there" eval 'gone_present && others_ok'
	[ -n "$_out" ] && echo "$_out" | sed "s/^/# $PV dry run: /" | head -20
	# One pass cannot have watched an orphan for orphan_grace.
	conf "$W/once.ini" sync $GRACE keep
	df -c "$W/once.ini" --once
	check_gone "$PV --once under sync, orphan_grace = $GRACE: nothing deleted" gone_present
}

# A restarted daemon starts the orphan's clock again: its first passes
# delete nothing; the orphan goes a grace after the start.
phase_restart() {
	conf "$W/df.ini" sync $GRACE keep
	_l=$(wc -l <"$LOG")
	_tr=$(now_ms)
	start_daemon
	check "$PV restart: the new daemon sees gone as an orphan" \
		wait_for 10 sh -c "tail -n +$((_l + 1)) '$LOG' | grep -i orphan | grep -q 'gone\.$Z'"
	still_there "$PV restart: its first pass deletes nothing" "$_tr"
	if wait_for 15 gone_absent; then
		_el=$(( $(now_ms) - _tr ))
		check "$PV restart: gone deleted a grace after the start, not before (${_el} ms)" \
			[ "$_el" -ge $((GRACE * 1000)) ]
		not_before "$PV restart: deleted at least orphan_grace after the daemon started" "$_l" "$_tr"
	else
		not_ok "$PV restart: gone deleted a grace after the start"
	fi
	check "$PV restart: everything else untouched" others_ok
	stop_daemon
}

run_provider() {
	PV=$1
	_f0=$_tap_fail
	_p=$(plugin_of)
	if ! grep -q orphan_grace "$TOP/core/config.c"; then
		ok "$PV orphans # SKIP the core has no orphan_grace yet"; return
	fi
	if ! grep -q '\.markers *=' "$TOP"/providers/"$_p"/*.c; then
		ok "$PV orphans # SKIP provider $_p has no markers op yet"; return
	fi
	if ! start_server; then
		if [ -n "$SKIPWHY" ]; then ok "$PV orphans # SKIP $SKIPWHY"; else not_ok "$PV: server starts"; fi
		stop_servers; return
	fi
	placements_ok
	# A name dnsfollow wrote for another owner_id.
	conf "$W/other.ini" default "" other $OTHER
	df -c "$W/other.ini" --once; _rc=$?
	if [ "$_rc" = 0 ] && other_ok; then
		ok "$PV: owner $OTHER writes other.$Z"
	else
		not_ok "$PV: owner $OTHER writes other.$Z (exit $_rc)"
		sed 's/^/# /' "$DF_ERR" | tail -5
	fi
	conf "$W/df.ini" sync $GRACE "keep gone"
	if ! df -c "$W/df.ini" --check-config >/dev/null; then
		not_ok "$PV: policy = sync accepted by --check-config ($(head -1 "$DF_ERR"))"
		stop_servers; return
	fi
	phase_sync
	phase_safety
	phase_upsert
	phase_dry
	phase_restart
	if [ "$_tap_fail" != "$_f0" ]; then
		diag "$PV daemon log (last lines):"
		grep -v ' debug ' "$LOG" | tail -40 | sed 's/^/#   /'
	fi
	stop_servers
}

T_START=$(date +%s)
for pv in ${ORPH_PROVIDERS:-mock named knot pdns ovh}; do
	run_provider "$pv"
done
diag "run time $(( $(date +%s) - T_START )) s"
tap_done
