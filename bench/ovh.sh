#!/bin/sh
# OVH provider benchmark, against the fake OVH API (tests/ovh/fake_ovh.py).
#
# 1. Calls per steady pass (issue 12: a pass over an unchanged zone must
#    cost O(zones), not O(records)): 10 zones holding 10 records (1 per
#    zone) and 200 records (20 per zone), under policy = sync (markers()
#    then read() per zone, the dearer case) and the default upsert-only
#    (read() only). "cold" is a new --once process (empty cache, plus the
#    one refresh per zone a process sends at first contact); "warm" is the
#    daemon's next pass. Target: warm <= 2 calls per zone at both sizes;
#    the script exits non-zero when it is missed. With BEFORE_B=DIR (the
#    build folder of another checkout, e.g. HEAD's) the same figures are
#    measured with that build too and printed beside, for comparison only.
# 2. Wall time and calls of a first sync, a change of every record and a
#    steady pass, 200 records over 10 zones with 30 ms per call,
#    max_inflight = 1 against the default (4). Skipped with CALLS_ONLY=1.
# The client rate limit is off (rate_limit = 0) to measure the plugin, not
# the limiter. Usage: B=build [BEFORE_B=dir] sh bench/ovh.sh (make bench)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/tap.sh"
ZONES=$(seq -s, 0 9 | sed 's/\([0-9]\)/z\1.bench/g')
. "$TOP/tests/ovh/lib.sh"
NZONES=10 PERZONE=20 LATENCY=${LATENCY:-30}
AFTER_DF=$DNSFOLLOW AFTER_PLUGINS=$PLUGINS
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup' EXIT

records() {
	for z in $(seq 0 $((NZONES - 1))); do
		for r in $(seq 1 $PERZONE); do
			printf '[record h%s.z%s.bench]\nprovider = ovh\nbackend = lab\nservice = s%s\ntype = A\nttl = 60\n\n' \
				"$r" "$z" "$z"
		done
	done
}

place() { # LAST-OCTET
	for z in $(seq 0 $((NZONES - 1))); do
		printf '[s%s]\naddresses = 192.0.2.%s\n' "$z" "$1"
	done >"$T/placements.ini.new"
	mv "$T/placements.ini.new" "$T/placements.ini"
}

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }
refreshes() { python3 -c "import json,sys; print(sum(json.loads(sys.argv[1])['refresh'].values()))" "$($CTL stats)"; }

# once NAME: one --once pass, prints "seconds calls writes refreshes"
once() {
	$CTL reset
	t0=$(now)
	"$DNSFOLLOW" -c "$T/df.ini" --once 2>"$T/err"
	rc=$?
	t1=$(now)
	[ "$rc" = 0 ] || { echo "bench: pass failed (exit $rc):" >&2; tail -3 "$T/err" >&2; return 1; }
	echo "$(elapsed "$t0" "$t1") $($CTL total) $($CTL writes) $(refreshes)"
}

# Wait until the fake server has answered something and then nothing new
# for a second: the daemon's pass is over (a steady pass logs nothing).
settled() {
	prev=-1
	i=0
	while [ $i -lt 600 ]; do
		n=$($CTL total)
		[ "$n" -gt 0 ] && [ "$n" = "$prev" ] && return 0
		prev=$n
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# warm: the daemon's second pass (cache filled by its first), started by
# SIGUSR1 and timed to the fake server's last answer.
warm() {
	"$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" &
	DPID=$!
	$CTL reset
	settled
	$CTL reset
	t0=$(now)
	kill -USR1 "$DPID"
	settled
	t1=$($CTL last)
	stop_daemon
	echo "$(elapsed "$t0" "$t1") $($CTL total) $($CTL writes) $(refreshes)"
}

# steady DNSFOLLOW PLUGINS PERZONE POLICY -> "cold warm": API calls of a
# steady pass over NZONES zones, on a fresh fake server.
steady() {
	DNSFOLLOW=$1 PLUGINS=$2 PERZONE=$3
	sh "$TOP/tests/ovh/fakectl.sh" stop "$FAKE"
	fake_start || exit 1
	write_ovh_conf
	RECORDS=$(records) OVH_EXTRA="policy = $4" write_config "$T/df.ini"
	place 10
	once >/dev/null || exit 1 # first sync
	c=$(once) || exit 1
	w=$(warm)
	echo "$(echo "$c" | cut -d' ' -f2) $(echo "$w" | cut -d' ' -f2)"
}

calls_table() {
	printf '%-8s %-12s | %-24s | %s\n' "records" "policy" \
		"before: cold, warm (/zone)" "after: cold, warm (/zone)"
	: >"$T/miss"
	for per in 1 20; do
		for policy in sync upsert-only; do
			before="(not measured)"
			if [ -n "${BEFORE_B:-}" ]; then
				set -- $(steady "$BEFORE_B/dnsfollow" "$BEFORE_B/plugins" $per $policy) x x
				before=$(printf '%5d, %4d (%.1f)' "$1" "$2" "$(echo "$2 $NZONES" | awk '{ print $1 / $2 }')")
			fi
			set -- $(steady "$AFTER_DF" "$AFTER_PLUGINS" $per $policy)
			if [ $# != 2 ]; then
				echo "$((per * NZONES)) records, $policy: measurement failed" >>"$T/miss"
				continue
			fi
			after=$(printf '%5d, %4d (%.1f)' "$1" "$2" "$(echo "$2 $NZONES" | awk '{ print $1 / $2 }')")
			printf '%-8s %-12s | %-24s | %s\n' $((per * NZONES)) "$policy" "$before" "$after"
			[ "$2" -le $((2 * NZONES)) ] || echo "$((per * NZONES)) records, $policy: $2 calls per warm steady pass over $NZONES zones" >>"$T/miss"
		done
	done
	DNSFOLLOW=$AFTER_DF PLUGINS=$AFTER_PLUGINS PERZONE=20
}

run() { # INFLIGHT -> results in $T/res.INFLIGHT
	sh "$TOP/tests/ovh/fakectl.sh" stop "$FAKE"
	fake_start --latency-ms "$LATENCY" || exit 1
	write_ovh_conf
	RECORDS=$(records) OVH_EXTRA="max_inflight = $1" write_config "$T/df.ini"
	place 10
	first=$(once) || exit 1
	place 20
	change=$(once) || exit 1
	steady=$(once) || exit 1
	hot=$(warm)
	printf '%s\n' "first sync|$first" "change all|$change" \
		"steady (cold)|$steady" "steady (warm)|$hot" >"$T/res.$1"
}

[ -x "$DNSFOLLOW" ] || { echo "bench: build $DNSFOLLOW first (make)" >&2; exit 1; }
[ -z "${BEFORE_B:-}" ] || [ -x "$BEFORE_B/dnsfollow" ] || { echo "bench: no $BEFORE_B/dnsfollow" >&2; exit 1; }
echo "OVH provider: API calls per steady pass, $NZONES zones, no latency"
calls_table
echo "target: warm <= 2 calls per zone ($((2 * NZONES)) over $NZONES zones) at 10 and 200 records"
if [ -s "$T/miss" ]; then
	sed 's/^/MISSED: /' "$T/miss"
	exit 1
fi
[ "${CALLS_ONLY:-0}" = 1 ] && exit 0
echo
echo "OVH provider: $((NZONES * PERZONE)) records, $NZONES zones, ${LATENCY} ms per call"
run 1
run 4
printf '%-14s | %-30s | %-30s | %s\n' "pass" "max_inflight=1: s, calls (w, r)" \
	"max_inflight=4: s, calls (w, r)" "speed-up"
# speed-up A/B, where a timing of 0 (below the 0.01 s resolution) must
# not divide by zero: "n/a" when both are 0, ">(A/0.01)x" when only B is.
SPEEDUP='function speedup(a, b) {
	if (b > 0) return sprintf("%.1fx", a / b)
	if (a > 0) return sprintf(">%.0fx", a / 0.01)
	return "n/a"
}'
paste -d'|' "$T/res.1" "$T/res.4" | awk -F'|' "$SPEEDUP"'{
	split($2, a, " "); split($4, b, " ");
	printf "%-14s | %6.2f s %5d calls (%d, %d) | %6.2f s %5d calls (%d, %d) | %s\n",
		$1, a[1], a[2], a[3], a[4], b[1], b[2], b[3], b[4], speedup(a[1], b[1])
}'
ratio=$(paste -d'|' "$T/res.1" "$T/res.4" | awk -F'|' "$SPEEDUP"'/change all/ { split($2,a," "); split($4,b," "); print speedup(a[1], b[1]) }')
# A new process refreshes each zone once on first contact (a restart
# must not lose a refresh an earlier run owed): the cold steady pass
# sends NZONES refreshes and writes nothing; the warm one sends nothing.
steady_w=$(awk -F'|' '/steady/ { split($2,a," "); w += a[3] } END { print w + 0 }' "$T/res.4")
cold_r=$(awk -F'|' '/steady \(cold\)/ { split($2,a," "); print a[4] + 0 }' "$T/res.4")
warm_r=$(awk -F'|' '/steady \(warm\)/ { split($2,a," "); print a[4] + 0 }' "$T/res.4")
echo "(w, r) = record writes, refresh calls."
echo "change all: default is ${ratio} faster than max_inflight = 1 (target >= 3x)"
echo "steady passes: $steady_w writes (target 0); refreshes: cold $cold_r (target $NZONES, first contact), warm $warm_r (target 0)"
# ">Nx" (only the default measured 0 s) meets the target; "n/a" does not.
awk -v r="$ratio" -v w="$steady_w" -v c="$cold_r" -v h="$warm_r" -v z="$NZONES" \
	'BEGIN { sub(/^>/, "", r); exit !(r != "n/a" && r + 0 >= 3 && w == 0 && c == z && h == 0) }'
