#!/bin/sh
# rfc2136 benchmark against one named: BENCH_ZONES x BENCH_PER_ZONE A
# records (10,000 in 100 zones by default), each with its ownership TXT.
# For each read mode (BENCH_MODES):
#  - first sync: a FRESH `dnsfollow --once` process (cold: empty cache,
#    nothing read before it) creating every record and its marker, timed
#    from exec to exit (startup and config included), against a fresh
#    nsupdate writing the same RRsets (one `send` per zone) into twin
#    zones. BENCH_RUNS runs (default 5), the zones emptied in between
#    (untimed); the MEDIAN ratio is what gates;
#  - change all: a daemon pass (its cache warm) changing every record,
#    timed from the trigger to its last log line, against nsupdate doing
#    the same writes; median ratio of BENCH_RUNS runs;
#  - steady state: a pass with nothing to change sends no UPDATE.
# Targets: first sync and change all at most 1.5x nsupdate (modes that
# may transfer the zone: default, default-no-cache, axfr; read = query
# costs two signed queries per record on a cold read and is shown without
# a target); steady state 0 UPDATE in every mode. Exit 1 when one is
# missed, after printing everything. Messages are counted by named itself
# (statistics channel).
#   BENCH_ZONES (100) BENCH_PER_ZONE (100) BENCH_RUNS (5)
#   BENCH_MODES ("default default-no-cache query axfr")
#   BENCH_BEFORE=DIR  also measure the build in DIR (an older version,
#       e.g. `git worktree add /tmp/r2136-before HEAD && make B=build`)
#       in the modes BENCH_BEFORE_MODES ("default default-no-cache") and
#       print a before/after table; its misses do not fail the run.
#   B (build)  BENCH_KEEP (keep the work folder)
# Run time on 2 CPUs: about 2 minutes at 10,000 records for the four
# modes; 100,000 records in 1,000 zones (BENCH_ZONES=1000) with
# BENCH_MODES=default: about 4 minutes.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init
# BENCH_KEEP: the servers are stopped all the same, the folder kept.
[ -n "${BENCH_KEEP:-}" ] && trap 'KEPT=$W; W=; r2136_cleanup; echo "kept $KEPT"' EXIT
NZ=${BENCH_ZONES:-100}
PER=${BENCH_PER_ZONE:-100}
RUNS=${BENCH_RUNS:-5}
MODES=${BENCH_MODES:-default default-no-cache query axfr}
PORT=15436 STATS=15437
# dnsfollow writes to z*.bench, nsupdate the same into y*.bench: equal
# zones on the same server, and a transfer reads only dnsfollow's own.
ZONES=$(awk -v n="$NZ" 'BEGIN { for (k = 0; k < n; k++) print "z" k ".bench" }')
NSZONES=$(echo "$ZONES" | sed 's/^z/y/')
RESULTS=$W/results # TAG MODE PHASE DF_MS NS_MS RATIO GATED

now_ms() { date +%s%N | cut -c1-13; }
fail() { echo "FAIL: $*"; exit 1; }

# UPDATE and QUERY requests named has received so far.
named_ops() {
	python3 -c '
import json, sys, urllib.request
u = urllib.request.urlopen("http://127.0.0.1:%s/json/v1/server" % sys.argv[1], timeout=10)
d = json.load(u).get("opcodes", {})
print(d.get("UPDATE", 0), d.get("QUERY", 0))' "$STATS"
}

# placements.ini: services s0..s(PER-1), address 10.B.x.y.
# Written aside and renamed, so the daemon sees one complete change.
placements() {
	awk -v per="$PER" -v b="$1" 'BEGIN {
		for (i = 0; i < per; i++)
			printf "[s%d]\naddresses = 10.%d.%d.%d\n\n", i, b, int(i / 250), i % 250 + 1 }' >"$W/placements.tmp"
	mv "$W/placements.tmp" "$W/placements.ini"
}

config() { # EXTRA_PROVIDER_LINE...
	r2136_conf "$W/df.ini" $PORT "$W/ddns.key" "$(echo $ZONES | tr ' ' ',')" "$@"
	sed -i 's/^log_level = debug/log_level = debug\nretries = 1\ndebounce_ms = 0/; s/^interval = 1$/interval = 3600/' "$W/df.ini"
	awk -v per="$PER" -v zones="$ZONES" 'BEGIN {
		n = split(zones, z, " ")
		for (k = 1; k <= n; k++) for (i = 0; i < per; i++)
			printf "[record r%d.%s]\nprovider = dns\nbackend = lab\nservice = s%d\ntype = A\nttl = 60\n\n", i, z[k], i }' \
		>>"$W/df.ini"
}

# nsupdate script writing the same RRsets into the y* zones: A, plus the
# ownership TXT when $2 = 1.  $1 = the address block.
nsupdate_script() {
	awk -v per="$PER" -v zones="$NSZONES" -v b="$1" -v txt="$2" -v port=$PORT 'BEGIN {
		print "server 127.0.0.1 " port
		n = split(zones, z, " ")
		for (k = 1; k <= n; k++) {
			print "zone " z[k]
			for (i = 0; i < per; i++) {
				h = "r" i "." z[k]
				print "update delete " h " A"
				printf "update add %s 60 A 10.%d.%d.%d\n", h, b, int(i / 250), i % 250 + 1
				if (txt) {
					print "update delete _dnsfollow." h " TXT"
					print "update add _dnsfollow." h " 60 TXT \"heritage=dnsfollow,owner=test-owner\""
				}
			}
			print "send"
		}
	}' >"$W/nsupdate.txt"
}

# Every record and marker of both sets of zones deleted (untimed), so
# that the next first sync creates them all again.
empty_zones() {
	awk -v per="$PER" -v zones="$ZONES $NSZONES" -v port=$PORT 'BEGIN {
		print "server 127.0.0.1 " port
		n = split(zones, z, " ")
		for (k = 1; k <= n; k++) {
			print "zone " z[k]
			for (i = 0; i < per; i++)
				print "update delete r" i "." z[k] "\nupdate delete _dnsfollow.r" i "." z[k]
			print "send"
		}
	}' >"$W/empty.txt"
	nsupdate -k "$W/ddns.key" "$W/empty.txt" || fail "nsupdate (emptying) failed"
}

log_ms() { # the time stamp of a log line, in ms since the epoch
	date -d "$(echo "$1" | cut -d' ' -f1)" +%s%3N
}

# A pass has read the last zone when this line appears (once per pass).
LASTZ="zone z$((NZ - 1)).bench: \(asked for\|transfer of\|serial [0-9]* unchanged\)"
count() { grep -c "$1" "$W/daemon.err"; }
# The end of a whole pass (the core also logs one per zone group).
PASSEND='pass: .* change(s)$'

daemon_start() {
	"$DNSFOLLOW" -c "$W/df.ini" 2>"$W/daemon.err" &
	DPID=$!
	R2136_PIDS="$DPID $R2136_PIDS"
	wait_for 300 sh -c "grep -q '$PASSEND' '$W/daemon.err' 2>/dev/null" ||
		fail "daemon: no first pass"
}
daemon_stop() {
	kill -TERM "$DPID"; wait "$DPID"
}

# run_df CHANGES TRIGGER...: one daemon pass woken by TRIGGER (a command).
# It ends with its "pass:" line when CHANGES = 1, else with the read of
# the last zone. Sets DF_MS, DF_UPD, DF_Q (counted by named).
run_df() {
	changes=$1; shift
	o=$(named_ops)
	reads=$(count "$LASTZ") passes=$(count "$PASSEND")
	t0=$(now_ms)
	"$@"
	wait_for 300 sh -c "[ \$(grep -c '$LASTZ' '$W/daemon.err') -gt $reads ]" ||
		fail "daemon: pass did not finish"
	line=$(grep "$LASTZ" "$W/daemon.err" | tail -1)
	if [ "$changes" = 1 ]; then
		wait_for 300 sh -c "[ \$(grep -c '$PASSEND' '$W/daemon.err') -gt $passes ]" ||
			fail "daemon: pass did not finish"
		line=$(grep "$PASSEND" "$W/daemon.err" | tail -1)
		case "$line" in *" 0 failed temporarily, 0 permanently"*) ;; *)
			grep -v debug "$W/daemon.err" | tail -3; fail "dnsfollow pass failed: $line" ;; esac
	fi
	DF_MS=$(( $(log_ms "$line") - t0 ))
	n=$(named_ops)
	DF_UPD=$(( ${n% *} - ${o% *} )) DF_Q=$(( ${n#* } - ${o#* } ))
}

# run_once: a whole fresh --once process; sets DF_MS, DF_UPD, DF_Q, SENT.
run_once() {
	o=$(named_ops)
	t0=$(now_ms)
	"$DNSFOLLOW" -c "$W/df.ini" --once 2>"$W/once.err" ||
		{ grep -v debug "$W/once.err" | tail -3; fail "--once failed"; }
	DF_MS=$(( $(now_ms) - t0 ))
	n=$(named_ops)
	DF_UPD=$(( ${n% *} - ${o% *} )) DF_Q=$(( ${n#* } - ${o#* } ))
	SENT=$(sed -n 's/.*provider dns: sent \(.*\)/\1/p' "$W/once.err" | tail -1)
}

# run_ns: nsupdate on the script; sets NS_MS, NS_UPD
run_ns() {
	o=$(named_ops)
	t0=$(now_ms)
	nsupdate -k "$W/ddns.key" "$W/nsupdate.txt" || fail "nsupdate failed"
	NS_MS=$(( $(now_ms) - t0 ))
	n=$(named_ops)
	NS_UPD=$(( ${n% *} - ${o% *} ))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b ? b : 1) }'; }
# median of the lines "RATIO DF_MS NS_MS ..." on stdin (odd count: the
# middle one; even: the upper middle)
median() { sort -n | awk '{ l[NR] = $0 } END { print l[int(NR / 2) + 1] }'; }

TARGET=1.5
gated() { [ "$1" != query ]; } # MODE

# record TAG MODE PHASE DF NS RATIO
record() {
	g=no; gated "$2" && g=yes
	echo "$1 $2 $3 $4 $5 $6 $g" >>"$RESULTS"
}

measure_mode() { # TAG MODE
	tag=$1 mode=$2
	echo "-- [$tag] read = $mode"
	case $mode in
	default) config ;;
	default-no-cache) config "full_read_interval = 0" ;;
	query) config "read = query" ;;
	axfr) config "read = axfr" ;;
	*) fail "unknown mode $mode" ;;
	esac
	runs=""
	for r in $(seq 1 "$RUNS"); do
		empty_zones
		placements 1
		run_once
		nsupdate_script 1 1
		run_ns
		runs="$runs$(ratio "$DF_MS" "$NS_MS") $DF_MS $NS_MS $DF_UPD $DF_Q
"
		printf '   first sync run %d: fresh --once %6d ms (%d UPDATE, %d queries seen by named; %s), nsupdate %6d ms (%d UPDATE): %sx\n' \
			"$r" "$DF_MS" "$DF_UPD" "$DF_Q" "$SENT" "$NS_MS" "$NS_UPD" "$(ratio "$DF_MS" "$NS_MS")"
	done
	# shellcheck disable=SC2046 # the median line's fields
	set -- $(printf '%s' "$runs" | median)
	record "$tag" "$mode" first-sync "$2" "$3" "$1"
	# The daemon starts on what the last first sync wrote: its own first
	# pass finds nothing to do.
	daemon_start
	runs=""
	for b in $(seq 2 $((RUNS + 1))); do
		run_df 1 placements "$b"
		nsupdate_script "$b" 0
		run_ns
		runs="$runs$(ratio "$DF_MS" "$NS_MS") $DF_MS $NS_MS $DF_UPD $DF_Q
"
		printf '   change all run %d: daemon pass %6d ms (%d UPDATE, %d queries), nsupdate %6d ms: %sx\n' \
			"$((b - 1))" "$DF_MS" "$DF_UPD" "$DF_Q" "$NS_MS" "$(ratio "$DF_MS" "$NS_MS")"
	done
	# shellcheck disable=SC2046 # the median line's fields
	set -- $(printf '%s' "$runs" | median)
	record "$tag" "$mode" change-all "$2" "$3" "$1"
	run_df 0 kill -USR1 "$DPID"
	printf '   steady state: daemon pass %6d ms, %d UPDATE (must be 0), %d queries\n' \
		"$DF_MS" "$DF_UPD" "$DF_Q"
	echo "$tag $mode steady $DF_MS $DF_UPD - steady" >>"$RESULTS"
	daemon_stop
}

measure() { # TAG BUILD MODES
	# shellcheck disable=SC2034 # PLUGINS: used by r2136_conf (lib.sh)
	DNSFOLLOW=$2/dnsfollow PLUGINS=$2/plugins
	[ -x "$DNSFOLLOW" ] || fail "no $DNSFOLLOW"
	for m in $3; do measure_mode "$1" "$m"; done
}

r2136_key ddns
R2136_NAMED_CONF_EXTRA="statistics-channels { inet 127.0.0.1 port $STATS allow { 127.0.0.1; }; };"
# shellcheck disable=SC2086
r2136_named $PORT ddns $ZONES $NSZONES || exit 1
echo "rfc2136 bench: $((NZ * PER)) A records (and as many markers) over $NZ zones, one named (BIND $(named -v | awk '{print $2}')), median of $RUNS runs"
T0=$(now_ms)
: >"$RESULTS"
if [ -n "${BENCH_BEFORE:-}" ]; then
	case "$BENCH_BEFORE" in /*) ;; *) BENCH_BEFORE=$TOP/$BENCH_BEFORE ;; esac
	measure before "$BENCH_BEFORE" "${BENCH_BEFORE_MODES:-default default-no-cache}"
fi
measure after "$B" "$MODES"

# verdicts: the current build's gated ratios and every steady state
MISSED=0
echo "-- targets (this build): first sync and change all <= ${TARGET}x nsupdate (median of $RUNS); steady state 0 UPDATE"
while read -r tag mode phase df ns r g; do
	[ "$tag" = after ] || continue
	if [ "$phase" = steady ]; then
		if [ "$ns" = 0 ]; then v="target met"; else v="TARGET MISSED"; MISSED=1; fi
		printf '  %-18s %-11s %-14s %s UPDATE\n' "$mode" "$phase" "$v" "$ns"
		continue
	fi
	met=$(awk -v r="$r" -v t="$TARGET" 'BEGIN { print (r <= t) ? 1 : 0 }')
	if [ "$g" = no ]; then v="(no target)"
	elif [ "$met" = 1 ]; then v="target met"
	else v="TARGET MISSED"; MISSED=1; fi
	printf '  %-18s %-11s %-14s %sx (%s ms vs nsupdate %s ms)\n' "$mode" "$phase" "$v" "$r" "$df" "$ns"
done <"$RESULTS"
if [ -n "${BENCH_BEFORE:-}" ]; then
	echo "-- before ($BENCH_BEFORE) / after ($B): median ratio to nsupdate (dnsfollow ms / nsupdate ms)"
	printf '  %-18s %-11s %-26s %s\n' mode phase before after
	awk '$1 == "before" && $3 != "steady" { b[$2 " " $3] = sprintf("%.2fx (%d/%d)", $6, $4, $5) }
	     $1 == "after" && $3 != "steady" { a[$2 " " $3] = sprintf("%.2fx (%d/%d)", $6, $4, $5); k[++n] = $2 " " $3 }
	     END { for (i = 1; i <= n; i++) { split(k[i], f, " ")
		printf "  %-18s %-11s %-26s %s\n", f[1], f[2], (k[i] in b) ? b[k[i]] : "-", a[k[i]] } }' "$RESULTS"
fi
echo "(bench run time: $(( ($(now_ms) - T0) / 1000 )) s)"
if [ "$MISSED" = 1 ]; then
	echo "some targets are missed (see above)"
	exit 1
fi
echo "every target is met"
