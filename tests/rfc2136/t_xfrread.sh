#!/bin/sh
# Full reads by zone transfer (read = auto, the default) against a real
# named, counting what named itself logs in its query log:
#  - a cold --once read of N records makes ONE transfer of the zone and
#    no query per record (before: a signed query per RRset, 3N);
#  - a zone whose server refuses the transfer (allow-transfer { none; }
#    for that zone only) is read by queries instead, said once in the
#    log, and its records are written all the same;
#  - the refusal is remembered: a daemon doing a full read every pass
#    asks for that zone's transfer once, the other zone's every pass;
#  - a large zone asked for few RRsets: the transfer is cut after
#    R2136_AUTO_RECORDS_PER_KEY records per RRset asked, the read goes
#    on by queries, and the next full read does not transfer it again;
#  - read = query never transfers (compatibility);
#  - the zone cache after our own UPDATE: the next pass uses it (the
#    serial moved by exactly one), a hand change made later is repaired.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
if [ ! -x "$DNSFOLLOW" ]; then
	not_ok "dnsfollow built (make all)"
	tap_done; exit 0
fi
r2136_init
[ -n "${R2136_DEBUG:-}" ] && trap 'cp -r "$W" /tmp/r2-debug; r2136_cleanup' EXIT
PORT=15431 BIGPORT=15433
N=60 # A records per zone
K=$((3 * N)) # RRsets the core asks: each record as A and CNAME, and its marker

# named -g logs to its stderr (lib.sh: named-PORT/log), queries too
# with querylog on.
QLOG=$W/named-$PORT/log
BIGQLOG=$W/named-$BIGPORT/log
# Query-log lines since mark_log: "NAME IN TYPE" per query received.
mark_log() { MARK=$(wc -l <"$1" 2>/dev/null || echo 0); }
since() { # FILE
	tail -n +"$((MARK + 1))" "$1" 2>/dev/null | sed -n 's/.*query: \([^ ]*\) IN \([A-Z0-9]*\) .*/\1 \2/p'
}
# queries ZONE TYPE-RE FILE: how many queries below/at ZONE of those types
queries() {
	since "$3" | grep -c -i -E "(^|\.)$1 ($2)\$"
}

placements() { # services s0..s(N-1) at 10.B.0.x
	awk -v n="$N" -v b="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "[s%d]\naddresses = 10.%d.0.%d\n\n", i, b, i + 1 }' >"$W/placements.ini"
}
config() { # FILE PORT ZONES N EXTRA...
	_f=$1 _p=$2 _z=$3 _n=$4; shift 4
	r2136_conf "$_f" "$_p" "$W/ddns.key" "$_z" "$@"
	for z in $(echo "$_z" | tr , ' '); do
		awk -v n="$_n" -v z="$z" 'BEGIN { for (i = 0; i < n; i++)
			printf "[record h%d.%s]\nprovider = dns\nbackend = lab\nservice = s%d\ntype = A\n\n", i, z, i }' >>"$_f"
	done
}

r2136_key ddns
chmod 600 "$W/ddns.key"
R2136_NAMED_OPTIONS_EXTRA="querylog yes;"
if ! R2136_NAMED_NOXFR=closed.test r2136_named $PORT ddns open.test closed.test; then
	not_ok "named starts"; tap_done; exit 1
fi

# 1. A cold --once read of both zones.
placements 1
config "$W/df.ini" $PORT open.test,closed.test $N
mark_log "$QLOG"
"$DNSFOLLOW" -c "$W/df.ini" --once 2>"$W/once.err"
rc=$?
check "cold --once: exit 0 (got $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || grep -v debug "$W/once.err" | tail -5 | sed 's/^/# /'
ax=$(queries open.test AXFR "$QLOG")
check "open.test: one transfer (named saw $ax)" [ "$ax" = 1 ]
q=$(queries open.test 'A|AAAA|TXT|CNAME' "$QLOG")
check "open.test: no query per record: 0 queries by name, not $K (named saw $q)" [ "$q" = 0 ]
check "open.test: the transfer reported the zone's records" \
	grep -q "zone open.test: $K RRset(s) asked, 0 found among the 6 record(s) transferred" "$W/once.err"
axc=$(queries closed.test AXFR "$QLOG")
check "closed.test: the transfer was asked once (named saw $axc)" [ "$axc" = 1 ]
qc=$(queries closed.test 'A|AAAA|TXT|CNAME' "$QLOG")
check "closed.test: read by $K queries instead (named saw $qc)" [ "$qc" = $K ]
w=$(grep -c 'zone closed.test: no zone transfer' "$W/once.err")
check "the fall back is said once (WARN lines: $w)" [ "$w" = 1 ]
check "it names the refusal and the way out: $(grep 'no zone transfer' "$W/once.err" | head -1 | cut -c1-200)" \
	grep -q 'zone closed.test: no zone transfer (.*REFUSED.*allow transfers.*); reading it by queries from now on.*read = query' "$W/once.err"
check "open.test is not said to fall back" [ -z "$(grep 'zone open.test: no zone transfer' "$W/once.err")" ]
check "the provider counts 2 transfers" grep -q 'provider dns: sent .* queries, 2 transfers' "$W/once.err"
# (dig after counting: its queries are in the log too)
check "the records are written in the zone that transfers" \
	[ "$(r2136_dig $PORT h7.open.test A)" = "10.1.0.8" ]
check "and in the zone that refuses" \
	[ "$(r2136_dig $PORT h7.closed.test A)" = "10.1.0.8" ]

# 2. A daemon reading in full every pass (full_read_interval = 0): the
# refusal is remembered, the other zone transfers each pass.
config "$W/dd.ini" $PORT open.test,closed.test $N "full_read_interval = 0"
mark_log "$QLOG"
"$DNSFOLLOW" -c "$W/dd.ini" 2>"$W/daemon.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
# passes FILE: passes ended (the core also logs a line per zone group:
# "(zones still in flight)")
passes() { grep -c 'pass: .* change(s)$' "$1" 2>/dev/null; }
wait_for 30 sh -c "[ \"\$(grep -c 'pass: .* change(s)\$' '$W/daemon.err' 2>/dev/null)\" -ge 3 ] 2>/dev/null"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
np=$(passes "$W/daemon.err")
check "daemon: 3 passes or more ($np)" [ "$np" -ge 3 ]
axo=$(queries open.test AXFR "$QLOG")
axc=$(queries closed.test AXFR "$QLOG")
check "daemon: open.test transferred on each pass ($axo transfers, $np passes)" \
	between "$axo" "$np" "$((np + 1))"
check "daemon: closed.test asked once only ($axc), the refusal remembered" [ "$axc" = 1 ]
w=$(grep -c 'zone closed.test: no zone transfer' "$W/daemon.err")
check "daemon: said once ($w)" [ "$w" = 1 ]
qc=$(queries closed.test 'A|AAAA|TXT|CNAME' "$QLOG")
check "daemon: closed.test read by queries each pass ($qc >= $((K * np)))" \
	[ "$qc" -ge $((K * (np - 1))) ]

# 3. read = query (as before this version): no transfer at all.
config "$W/q.ini" $PORT open.test,closed.test $N "read = query"
mark_log "$QLOG"
"$DNSFOLLOW" -c "$W/q.ini" --once 2>"$W/q.err"
rc=$?
check "read = query: exit 0 ($rc)" [ "$rc" = 0 ]
check "read = query: no transfer asked" [ "$(queries 'test' AXFR "$QLOG")" = 0 ]
check "read = query: $K queries for open.test ($(queries open.test 'A|AAAA|TXT|CNAME' "$QLOG"))" \
	[ "$(queries open.test 'A|AAAA|TXT|CNAME' "$QLOG")" = $K ]

# 4. The zone cache around our own UPDATE (default full_read_interval):
# the pass after it takes the zone from the cache (the serial moved by
# exactly our one message: checked on that pass's SOA query), and a hand
# change made after it is seen and repaired by a new transfer.
placements 2
config "$W/c.ini" $PORT open.test $N
mark_log "$QLOG"
"$DNSFOLLOW" -c "$W/c.ini" 2>"$W/cache.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
wait_for 30 sh -c "[ \"\$(grep -c 'pass: .* change(s)\$' '$W/cache.err' 2>/dev/null)\" -ge 3 ] 2>/dev/null"
s=$(r2136_serial $PORT open.test)
check "cache: the daemon changed every record ($(r2136_dig $PORT h2.open.test A))" \
	[ "$(r2136_dig $PORT h2.open.test A)" = "10.2.0.3" ]
check "cache: the passes after our UPDATE use the cache at serial $s" \
	grep -q "zone open.test: serial $s unchanged: $K RRset(s) from the cache" "$W/cache.err"
check "cache: one transfer so far ($(queries open.test AXFR "$QLOG"))" [ "$(queries open.test AXFR "$QLOG")" = 1 ]
printf 'server 127.0.0.1 %s\nzone open.test\nupdate delete h2.open.test A\nupdate add h2.open.test 60 A 192.0.2.99\nsend\n' $PORT |
	nsupdate -k "$W/ddns.key"
check "cache: a hand change is repaired on the next pass" \
	wait_for 20 sh -c "[ \"\$(dig +short @127.0.0.1 -p $PORT h2.open.test A)\" = 10.2.0.3 ]"
check "cache: by a new transfer ($(queries open.test AXFR "$QLOG"))" [ "$(queries open.test AXFR "$QLOG")" = 2 ]
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# 5. A zone of 3000 records asked for 2 records (6 RRsets): the transfer
# is cut after 6 x 8 + 1 records (the SOA), queries read them, and the next full
# read goes to queries at once.
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "x%d IN A 10.9.%d.%d\n", i, int(i / 250), i % 250 + 1 }' >"$W/extra"
if ! R2136_ZONE_EXTRA=$W/extra r2136_named $BIGPORT ddns big.test; then
	not_ok "named starts (big zone)"; tap_done; exit 1
fi
placements 1
config "$W/big.ini" $BIGPORT big.test 2 "full_read_interval = 0"
mark_log "$BIGQLOG"
"$DNSFOLLOW" -c "$W/big.ini" 2>"$W/big.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
wait_for 30 sh -c "[ \"\$(grep -c 'pass: .* change(s)\$' '$W/big.err' 2>/dev/null)\" -ge 3 ] 2>/dev/null"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
check "big zone: the records are written" [ "$(r2136_dig $BIGPORT h1.big.test A)" = "10.1.0.2" ]
check "big zone: the transfer was cut, queries instead" \
	grep -q 'zone big.test: more than 48 records for 6 RRset(s) asked: transfer stopped, queries instead' "$W/big.err"
axb=$(queries big.test AXFR "$BIGQLOG")
check "big zone: one transfer asked over $(passes "$W/big.err") passes ($axb)" [ "$axb" = 1 ]
check "big zone: not taken for a refusal" [ -z "$(grep 'no zone transfer' "$W/big.err")" ]
tap_done
