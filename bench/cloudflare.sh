#!/bin/sh
# Cloudflare provider benchmark: API calls (counted by the fake Cloudflare
# API, tests/cloudflare/fake_cf.py, on 127.0.0.1:15424) of a first sync,
# a steady pass from a fresh process (--once: the zone id looked up again)
# and the daemon's next steady pass (zone id known), for 10 and 200
# records in one zone and 200 records over 10 zones. Each record is an A
# RRset plus its ownership marker (TXT), so 200 records are 400 Cloudflare
# records and 400 operations: two batches at batch_max = 200.
# Targets: a steady pass writes nothing and costs one call per zone (warm;
# two cold) while a zone holds at most per_page records; a first sync costs
# at most 2 + ceil(operations / batch_max) calls per zone.
# The client rate limit is off (rate_limit = 0) to count calls, not waits.
# Usage: B=build sh bench/cloudflare.sh   (make bench runs it)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/cloudflare/lib.sh"
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cf_cleanup' EXIT

records() { # NZONES PERZONE
	for z in $(seq 0 $(($1 - 1))); do
		for r in $(seq 1 "$2"); do
			printf '[record h%s.z%s.bench]\nprovider = cf\nbackend = lab\nservice = s%s\ntype = A\nttl = 300\n\n' \
				"$r" "$z" "$z"
		done
	done
}

place() { # NZONES LAST-OCTET
	for z in $(seq 0 $(($1 - 1))); do
		printf '[s%s]\naddresses = 192.0.2.%s\n' "$z" "$2"
	done >"$T/placements.ini.new"
	mv "$T/placements.ini.new" "$T/placements.ini"
}

# once: one --once pass, prints "calls writes batches"
once() {
	$CTL reset
	"$DNSFOLLOW" -c "$T/df.ini" --once 2>"$T/err" ||
		{ echo "bench: pass failed:" >&2; tail -3 "$T/err" >&2; return 1; }
	echo "$($CTL total) $($CTL writes) $($CTL batches | cut -d' ' -f1)"
}

# The fake answered something and then nothing new for a second.
settled() {
	prev=-1 i=0
	while [ $i -lt 120 ]; do
		n=$($CTL total)
		[ "$n" -gt 0 ] && [ "$n" = "$prev" ] && return 0
		prev=$n; sleep 1; i=$((i + 1))
	done
	return 1
}

# warm: the daemon's second pass (SIGUSR1), zone ids known.
warm() {
	"$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" &
	DPID=$!
	$CTL reset
	settled || { echo "bench: the daemon's first pass did not end" >&2; return 1; }
	$CTL reset
	kill -USR1 "$DPID"
	settled || { echo "bench: the daemon's pass did not end" >&2; return 1; }
	echo "$($CTL total) $($CTL writes) $($CTL batches | cut -d' ' -f1)"
	stop_daemon
}

miss=0
run() { # NZONES PERZONE
	nz=$1 per=$2 n=$(($1 * $2))
	ZONES=$(seq -s, 0 $((nz - 1)) | sed 's/\([0-9]\)/z\1.bench/g')
	sh "$TOP/tests/cloudflare/fakectl.sh" stop "$FAKE"
	cf_start 15424 || exit 1
	cd "$T" || exit 1
	RECORDS=$(records "$nz" "$per") # not exported: it can be larger than an env string may be
	write_config "$T/df.ini"
	place "$nz" 10
	first=$(once) || exit 1
	steady=$(once) || exit 1
	hot=$(warm) || exit 1
	ops=$((per * 2))
	max_first=$(( nz * (2 + (ops + 199) / 200) ))
	printf '%-22s | %-20s | %-20s | %s\n' "$n records, $nz zone(s)" \
		"$(echo "$first" | awk '{printf "%d calls (%d w, %d b)", $1, $2, $3}')" \
		"$(echo "$steady" | awk '{printf "%d calls (%d w)", $1, $2}')" \
		"$(echo "$hot" | awk '{printf "%d calls (%d w)", $1, $2}')"
	# shellcheck disable=SC2086 # "calls writes batches": three words
	set -- $first
	if [ "$1" -gt "$max_first" ]; then echo "  MISS: first sync $1 calls > $max_first"; miss=1; fi
	# shellcheck disable=SC2086
	set -- $steady
	if [ "$1" -gt $((2 * nz)) ] || [ "$2" != 0 ]; then echo "  MISS: cold steady pass"; miss=1; fi
	# shellcheck disable=SC2086
	set -- $hot
	if [ "$1" -gt "$nz" ] || [ "$2" != 0 ]; then echo "  MISS: warm steady pass"; miss=1; fi
}

[ -x "$DNSFOLLOW" ] || { echo "bench: build $DNSFOLLOW first (make)" >&2; exit 1; }
echo "Cloudflare provider: API calls per pass (per_page 1000, batch_max 200)"
printf '%-22s | %-20s | %-20s | %s\n' "records" "first sync" "steady (cold)" "steady (warm)"
run 1 10
run 1 200
run 10 20
echo "(w) writes: record calls and batch calls; (b) batch calls."
[ "$miss" = 0 ] || { echo "bench/cloudflare.sh: a target was missed"; exit 1; }
