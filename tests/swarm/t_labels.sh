#!/bin/sh
# Swarm label discovery end to end (issue 10): a real two-node Swarm in
# network namespaces (n1 manager, n2 worker running every task), a real
# named on 127.0.0.1:15391 behind the rfc2136 provider (policy = sync),
# and two mocks (sync and upsert-only). Phase 1 runs with no [record]
# section at all: (a) a labelled service's name appears within about a
# second of its task starting, (b) a label change moves the name (old
# one deleted after orphan_grace under sync, kept under upsert-only),
# (d) a manager restart and a dnsfollow restart delete nothing,
# (c) a removed service's name is deleted under sync, kept under
# upsert-only. Phase 2 adds [record] sections: (e) the fence, two
# services claiming one name, an INI record against a label — each as
# labels.md says, with one log line each over many passes; (f) split
# horizon, one name in two providers from two address sources.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null ||
	! command -v named >/dev/null; then
	ok "# SKIP needs root, dockerd, busybox and named"
	tap_done; exit 0
fi
T_LOCK=$(date +%s)
if ! sw_lock; then
	not_ok "the swarm lock (another swarm test or bench still running)"
	tap_done; exit 1
fi
. "$TOP/tests/rfc2136/lib.sh"
. "$(dirname "$0")/labels_lib.sh"
r2136_init
DFPID=
cleanup() {
	# LBL_KEEP=DIR keeps the logs and the swarm's last view for a post-mortem.
	if [ -n "${LBL_KEEP:-}" ] && [ -d "$W" ]; then
		mkdir -p "$LBL_KEEP" && cp "$W"/*.log "$W"/*.ini "$W"/*.json "$LBL_KEEP"/ 2>/dev/null
		# shellcheck disable=SC2046 # one argument per service id
		[ "$SW_N" -gt 0 ] && dk 1 service ps $(dk 1 service ls -q) >"$LBL_KEEP/service-ps.txt" 2>&1
	fi
	sampler_stop
	dwatch_stop
	[ -n "${LBL_KEEP:-}" ] && cp "$W/dwatch.log" "$LBL_KEEP"/ 2>/dev/null
	df_stop
	_c0=$(now_ms)
	sw_down
	_c1=$(now_ms)
	r2136_cleanup
	echo "# cleanup: swarm $((_c1 - _c0)) ms, named $(( $(now_ms) - _c1 )) ms" >&2
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
T_START=$(now_ms)
diag "waited $(( T_START / 1000 - T_LOCK )) s for the swarm lock"
re() { echo "$1" | sed 's/\./\\./g'; }   # a name as an ERE

r2136_key ddns >/dev/null 2>&1 && chmod 600 "$W/ddns.key"
if ! r2136_named $LP ddns $ZONE other.example.test >/dev/null; then
	not_ok "named on 127.0.0.1:$LP"
	tap_done; exit 1
fi
if ! sw_up 2; then
	not_ok "bring up a two-node swarm"
	tap_done; exit 1
fi
ok "two-node swarm and named up ($(( ($(now_ms) - T_START) / 1000 )) s)"
N2=$SW_SUBNET.12   # the worker: every task of this test runs there
dwatch_start

# ============================ phase 1 ====================================
# interval 5: the resync must not be what makes a name appear in time.
conf_labels "$W/p1.ini" 5
L1=$W/p1.log
df_start "$W/p1.ini" "$L1"
check "dnsfollow starts with discovery and no [record] section" \
	wait_for 10 grep -qs "dnsfollow .* running: " "$L1"

# --- (a) a labelled service: its name appears within a second ---
t0ms=$(now_ms); t0=$((t0ms / 1000))
lsvc lbl-a --label dnsfollow.name=git.$ZONE
check "service lbl-a (label dnsfollow.name=git.$ZONE) created" [ $? = 0 ]
wait_ms 30 has dns git.$ZONE; t_dns=$WAITED_AT
check "git.$ZONE appears in named with its marker" [ -n "$t_dns" ]
check "... pointing at the node running the task ($N2)" has dns git.$ZONE "$N2"
s_ns=$(started_ns 2 lbl-a "$t0")
lat=
[ -n "$s_ns" ] && [ -n "$t_dns" ] && lat=$(( t_dns - s_ns / 1000000 ))
diag "a: task container started -> name in named: ${lat:-?} ms (service create -> name: $(( ${t_dns:-0} - t0ms )) ms)"
check "a: name within about a second of the task running (${lat:-?} ms <= 1500)" \
	within "$lat" -500 1500

# Services for the next cases, all at once (their tasks start together).
lsvc lbl-k --label dnsfollow.name=keep1.$ZONE --label dnsfollow.provider=k
lsvc lbl-d --label "dnsfollow.name=stay.$ZONE,stay2.$ZONE"
lsvc lbl-dm --label dnsfollow.name=staym.$ZONE --label dnsfollow.provider=m
lsvc lbl-c --label dnsfollow.name=gone.$ZONE
lsvc lbl-cm --label dnsfollow.name=gonem.$ZONE --label dnsfollow.provider=m
lsvc lbl-ck --label dnsfollow.name=gonek.$ZONE --label dnsfollow.provider=k
check "six more labelled services run" wait_for 60 running lbl-k lbl-d lbl-dm lbl-c lbl-cm lbl-ck
all_up() {
	has k keep1.$ZONE && has dns stay.$ZONE "$N2" && has dns stay2.$ZONE "$N2" &&
	has m staym.$ZONE "$N2" && has dns gone.$ZONE && has m gonem.$ZONE && has k gonek.$ZONE
}
check "their names appear in named and the mocks (a comma list gives two names)" \
	wait_ms 20 all_up

# --- (b) a label change moves the name ---
t_b=$(now_ms)
dk 1 service update --detach --label-add dnsfollow.name=git2.$ZONE lbl-a >/dev/null 2>&1
dk 1 service update --detach --label-add dnsfollow.name=keep2.$ZONE lbl-k >/dev/null 2>&1
wait_ms 20 has dns git2.$ZONE "$N2"; t_git2=$WAITED_AT
check "b: after the label change git2.$ZONE appears in named ($(( ${t_git2:-0} - t_b )) ms)" \
	[ -n "$t_git2" ]
wait_ms 20 has k keep2.$ZONE; t_keep2=$WAITED_AT
check "b: ... and keep2.$ZONE in the upsert-only mock" [ -n "$t_keep2" ]
wait_ms 20 gone dns git.$ZONE; t_gone=$WAITED_AT
d_b=$(( ${t_gone:-0} - t_b ))
diag "b: label change -> new name ${t_git2:+$((t_git2 - t_b))} ms, -> old name deleted ${t_gone:+$d_b} ms (orphan_grace ${GRACE} s)"
check "b: sync deletes the old name git.$ZONE, A and marker" [ -n "$t_gone" ]
check "b: ... not before orphan_grace ($d_b ms >= $((GRACE * 1000)))" \
	within "$d_b" $((GRACE * 1000)) 20000
check "b: ... and git2.$ZONE stays" has dns git2.$ZONE "$N2"
sleep_until $(( ${t_keep2:-0} + 2 * GRACE * 1000 + 1000 ))
check "b: upsert-only keeps keep1.$ZONE past 2x orphan_grace" has k keep1.$ZONE

# --- (d) a manager restart and a dnsfollow restart delete nothing ---
WATCH="dns:git2.$ZONE dns:stay.$ZONE dns:stay2.$ZONE dns:gone.$ZONE m:staym.$ZONE m:gonem.$ZONE"
sampler_start
sleep 1
t_d=$(now_ms)
sw_stop 1
diag "d: manager n1 stopped in $(( $(now_ms) - t_d )) ms"
sleep $((GRACE + 1))    # passes run while the manager is away
sw_start 1 >/dev/null
check "d: the manager's dockerd is back" sw_wait 30 dk 1 node ls
check "d: ... with lbl-a's task running again on n2" sw_wait 40 task_running lbl-a
check "d: passes ran while the manager was away (the log says discovery failed)" \
	grep -q "cannot discover" "$L1"
t_back=$(now_ms)
diag "d: manager down and back in $(( t_back - t_d )) ms"
sleep_until $(( t_back + 2 * GRACE * 1000 + 1000 ))
check "d: no name disappeared during and 2x orphan_grace after the manager restart" \
	[ ! -s "$W/miss" ]
df_stop; rc=$SW_RC
check "d: dnsfollow stops cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]
sleep 1
df_start "$W/p1.ini" "$L1"
check "d: dnsfollow runs again" wait_for 10 sh -c "[ \$(grep -c 'dnsfollow .* running: ' '$L1') = 2 ]"
sleep $((2 * GRACE + 1))
sampler_stop
check "d: no name disappeared during and 2x orphan_grace after the dnsfollow restart" \
	[ ! -s "$W/miss" ]
check "d: the sampler looked often ($(cat "$W/rounds" 2>/dev/null) rounds >= 15)" \
	within "$(cat "$W/rounds" 2>/dev/null)" 15 100000
[ -s "$W/miss" ] && sed 's/^/# miss: /' "$W/miss"
# Swarm may have replaced the worker's tasks (it saw n2 "unknown"): the
# next case measures deletion times, so let every task settle first.
t_s=$(now_ms)
check "d: every task settles after the restarts" wait_for 90 swarm_settled
diag "d: swarm settled $(( $(now_ms) - t_s )) ms after the sampler stopped"

# --- (c) the service removed (after the restarts: sync still works) ---
t_c=$(now_ms)
dk 1 service rm lbl-c lbl-cm lbl-ck >/dev/null 2>&1
wait_ms 20 gone dns gone.$ZONE; t1=$WAITED_AT
wait_ms 20 gone m gonem.$ZONE; t2=$WAITED_AT
diag "c: service removed -> name deleted: named ${t1:+$((t1 - t_c))} ms, mock ${t2:+$((t2 - t_c))} ms"
check "c: sync deletes gone.$ZONE from named after the grace ($(( ${t1:-0} - t_c )) ms >= $((GRACE * 1000)))" \
	within "$(( ${t1:-0} - t_c ))" $((GRACE * 1000)) 20000
check "c: sync deletes gonem.$ZONE from the mock after the grace ($(( ${t2:-0} - t_c )) ms)" \
	within "$(( ${t2:-0} - t_c ))" $((GRACE * 1000)) 20000
sleep_until $(( t_c + 2 * GRACE * 1000 + 2000 ))
check "c: upsert-only keeps gonek.$ZONE" has k gonek.$ZONE
check "c: names still asked for stay (git2, stay, staym)" \
	eval "has dns git2.$ZONE && has dns stay.$ZONE && has m staym.$ZONE"
df_stop

# ============================ phase 2 ====================================
conf_records "$W/p2.ini"
L2=$W/p2.log
lsvc fence-zone --label dnsfollow.name=x.nowhere.example
lsvc fence-glob --label dnsfollow.name=x.other.example.test
lsvc dup-1 --label dnsfollow.name=dup.$ZONE
lsvc lbl-ini --label dnsfollow.name=ini.$ZONE
lsvc lbl-split
check "phase 2 services run" wait_for 60 running fence-zone fence-glob dup-1 lbl-ini lbl-split
df_start "$W/p2.ini" "$L2"
p2_up() {
	has dns dup.$ZONE "$N2" && has dns ini.$ZONE 192.0.2.88 &&
	has m split.$ZONE 192.0.2.77 && has dns split.$ZONE "$N2"
}
check "phase 2: dup, ini and split names written" wait_ms 20 p2_up

# --- (f) split horizon ---
check "f: split.$ZONE in the mock holds the static backend's 192.0.2.77" \
	has m split.$ZONE 192.0.2.77
check "f: split.$ZONE in named holds the Swarm task's node $N2" has dns split.$ZONE "$N2"

# --- (e) two services claiming one name ---
sleep 1.5
ttl0=$(dns_ttl dup.$ZONE); serial0=$(r2136_serial $LP $ZONE)
from=$(( $(lines "$L2") + 1 ))
lsvc dup-2 --label dnsfollow.name=dup.$ZONE --label dnsfollow.ttl=77
id1=$(svc_id dup-1); id2=$(svc_id dup-2)
check "e: dup-2 runs" wait_for 30 running dup-2
conflict_said() { [ "$(said_n "$L2" "$from" "$(re dup.$ZONE)" "dup-2|${id2:-none}")" -ge 1 ]; }
check "e: the conflict over dup.$ZONE is logged" wait_for 15 conflict_said
t_e=$(now_ms)
# Several passes (interval 1, and SIGUSR1) before counting.
for i in 1 2 3; do kill -USR1 "$DFPID"; sleep 1; done
sleep_until $(( t_e + 2 * GRACE * 1000 + 2000 ))
check "e: dup.$ZONE is still there under sync (wanted by two services)" has dns dup.$ZONE "$N2"
check "e: ... nothing written: TTL still $ttl0 (not dup-2's 77)" [ "$(dns_ttl dup.$ZONE)" = "$ttl0" ]
check "e: ... nothing written to $ZONE at all, no flapping (serial $serial0)" \
	[ "$(r2136_serial $LP $ZONE)" = "$serial0" ]
n=$(said_n "$L2" "$from" "$(re dup.$ZONE)")
check "e: the conflict is said at most once per service over the passes ($n line(s))" within "$n" 1 2
for s in "dup-1:${id1:-none}" "dup-2:${id2:-none}"; do
	n=$(said_n "$L2" "$from" "$(re dup.$ZONE)" "${s%%:*}|${s#*:}")
	check "e: ... naming ${s%%:*} exactly once ($n)" [ "$n" = 1 ]
done

# --- (e) outside the fence ---
check "e: x.other.example.test (outside discover_names) is not written" \
	gone dns x.other.example.test
check "e: no state file mentions a refused name" \
	eval "! grep -qs -e x.nowhere.example -e x.other.example.test '$W/m.json' '$W/k.json'"
for c in "fence-zone x.nowhere.example" "fence-glob x.other.example.test"; do
	s=${c% *}; nm=${c#* }; id=$(svc_id "$s")
	n=$(said_n "$L2" 1 "$(re "$nm")")
	check "e: $nm ($s) is refused in exactly one log line ($n)" [ "$n" = 1 ]
	check "e: ... which names the service" [ "$(said_n "$L2" 1 "$(re "$nm")" "$s|${id:-none}")" = 1 ]
done

# --- (e) an INI record and a label with the same name ---
check "e: ini.$ZONE holds the INI record's 192.0.2.88, not the label's" has dns ini.$ZONE 192.0.2.88
id=$(svc_id lbl-ini)
n=$(said_n "$L2" 1 "$(re ini.$ZONE)" "lbl-ini|${id:-none}")
check "e: the label losing to the INI record is said exactly once ($n)" [ "$n" = 1 ]

# --- what no one asked for is untouched ---
foreign_ok() { # ZONE: the zone file's own records, as r2136_zonefile wrote them
	[ "$(r2136_dig $LP "www.$1" A)" = 198.51.100.7 ] &&
	[ "$(r2136_dig $LP "foreign.$1" A)" = 198.51.100.8 ] &&
	[ -n "$(r2136_dig $LP "mail.$1" TXT)" ]
}
for z in $ZONE other.example.test; do
	check "foreign records of $z untouched under sync" foreign_ok "$z"
done
check "dnsfollow still running" kill -0 "$DFPID"
df_stop; rc=$SW_RC
check "dnsfollow stops cleanly (exit $rc)" [ "$rc" = 0 ]

if [ "$_tap_fail" != 0 ]; then
	for l in "$L1" "$L2"; do
		[ -f "$l" ] || continue
		diag "$(basename "$l"), not debug, tail:"
		said "$l" 1 | tail -40 | sed 's/^/#   /'
	done
fi
diag "run time $(( ($(now_ms) - T_START) / 1000 )) s"
tap_done
