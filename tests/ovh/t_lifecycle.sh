#!/bin/sh
# Lifecycle against the fake OVH API: a refresh owed when the daemon is
# reloaded (SIGHUP destroys the provider instance and creates a new one)
# or restarted (the new process refreshes each zone at first contact; a
# dry run does not), and two daemons with one owner_id writing at the same moment (a Swarm
# failover, or a start-first update).
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/ovh/lib.sh"
DPID=""
stop_daemon() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; DPID=""; }
trap 'stop_daemon; cleanup' EXIT

fake_start || { not_ok "fake OVH server starts"; tap_done; exit 1; }
write_ovh_conf
write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10' '[web]' 'addresses = 198.51.100.20'
published_is() { [ "$(get "$1" "$2" "$3")" = "$4" ]; }
staged_is() { [ "$(get "$1" "$2" "$3" staged)" = "$4" ]; }
refresh_failed() { [ "$($CTL refresh_failed a.test)" -ge 1 ]; }
logged() { grep -q "$1" "$T/daemon.err" 2>/dev/null; }

# --- SIGHUP while a refresh is owed -------------------------------------------
# The daemon stages a change but every refresh fails, so it owes one. A
# reload then replaces the provider instance: the new one must still send
# that refresh, or the change stays staged while every pass reads it back
# as converged.
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" -v 2>"$T/daemon.err" &
DPID=$!
check "reload: first sync published" wait_for 10 published_is a.test git A 192.0.2.10
$CTL config '{"fail_refresh": 1000000}'
placements '[gogs]' 'addresses = 192.0.2.11' '[web]' 'addresses = 198.51.100.20'
check "reload: the change is staged" wait_for 10 staged_is a.test git A 192.0.2.11
check "reload: its refresh failed" wait_for 10 refresh_failed
check "reload: not published yet" published_is a.test git A 192.0.2.10
kill -HUP "$DPID"
check "reload: configuration reloaded" wait_for 10 logged "configuration reloaded"
$CTL config '{"fail_refresh": 0}'
check "reload: the owed refresh is sent by the new instance" \
	wait_for 20 published_is a.test git A 192.0.2.11
check "reload: the owed refresh is logged" \
	logged "publishing changes an earlier pass staged"
stop_daemon
[ "$_tap_fail" = 0 ] || sed 's/^/# daemon: /' "$T/daemon.err" | tail -40

# --- a restart while a refresh is owed ------------------------------------------
# The daemon stages a change whose refresh fails, then is stopped: the
# list of zones owing a refresh dies with it, and OVH cannot tell staged
# from published records (a read finds the change already there). So a
# new process refreshes every zone at first contact: a --once run
# publishes the change although it has nothing to write. A --dry-run in
# the same situation must send no refresh (it writes nothing).
$CTL config '{"fail_refresh": 0}'
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" -v 2>"$T/daemon.err" &
DPID=$!
check "restart: the daemon has synced" wait_for 10 logged " pass\( done\)\{0,1\}:"
$CTL config '{"fail_refresh": 1000000}'
placements '[gogs]' 'addresses = 192.0.2.12' '[web]' 'addresses = 198.51.100.20'
check "restart: the change is staged" wait_for 10 staged_is a.test git A 192.0.2.12
check "restart: its refresh failed" wait_for 10 refresh_failed
kill -TERM "$DPID"
stopped_in_time() { ! kill -0 "$DPID" 2>/dev/null; }
check "restart: the daemon stops on SIGTERM" wait_for 5 stopped_in_time
wait "$DPID" 2>/dev/null
DPID=""
$CTL config '{"fail_refresh": 0}'
check "restart: the change is still unpublished" published_is a.test git A 192.0.2.11
$CTL reset
df -c "$T/df.ini" --once --dry-run >"$T/plan.out"; rc=$?
check "restart: --dry-run sends no refresh" \
	[ "$rc:$($CTL refresh a.test)$($CTL refresh b.test):$($CTL writes)" = "0:00:0" ]
check "restart: --dry-run leaves the change unpublished" published_is a.test git A 192.0.2.11
$CTL reset
df -c "$T/df.ini" --once -v; rc=$?
check "restart: a new --once run exits 0" [ "$rc" = 0 ]
check "restart: the new process publishes the staged change" published_is a.test git A 192.0.2.12
check "restart: by its first-contact refresh alone (one per zone, no write)" \
	[ "$($CTL refresh a.test)$($CTL refresh b.test):$($CTL writes)" = "11:0" ]
check "restart: staged equals published" staged_is a.test git A 192.0.2.12
[ "$_tap_fail" = 0 ] || sed 's/^/# daemon: /' "$T/daemon.err" | tail -40
placements '[gogs]' 'addresses = 192.0.2.11' '[web]' 'addresses = 198.51.100.20'

# --- two daemons with one owner_id ------------------------------------------
# Both read an empty name and both create it. Each round starts on a new
# name so it begins empty; after one more pass exactly one record and one
# marker remain.
$CTL config '{"latency_ms": 30}'
round=0 dup_seen=0 twins_bad=""
while [ $round -lt 4 ]; do
	round=$((round + 1))
	RECORDS="
[record r$round.a.test]
provider = ovh
backend  = lab
service  = gogs
type     = A
ttl      = 60
" write_config "$T/twin.ini"
	df -c "$T/twin.ini" --once 2>"$T/twin1.err" &
	p1=$!
	df -c "$T/twin.ini" --once 2>"$T/twin2.err" &
	p2=$!
	wait $p1; wait $p2
	[ "$($CTL count a.test "r$round" A)" -gt 1 ] && dup_seen=$((dup_seen + 1))
	df -c "$T/twin.ini" --once; rc=$?
	n_a=$($CTL count a.test "r$round" A) n_txt=$($CTL count a.test "_dnsfollow.r$round" TXT)
	n_sa=$($CTL count a.test "r$round" A staged)
	[ "$rc:$n_a:$n_txt:$n_sa" = "0:1:1:1" ] ||
		twins_bad="$twins_bad round $round: exit $rc, $n_a A, $n_txt TXT, $n_sa A staged;"
done
$CTL config '{"latency_ms": 0}'
diag "two daemons: duplicates created in $dup_seen of 4 rounds"
[ -z "$twins_bad" ] || diag "$twins_bad"
check "two daemons: after one more pass, one A and one marker (4 rounds)" \
	[ -z "$twins_bad" ]
check "two daemons: the value is the one wanted" \
	published_is a.test r4 A 192.0.2.11

# --- duplicates found in the zone are collapsed, not rewritten -----------------------
# Deterministic: two identical A records and two identical markers, as two
# daemons leave them. The pass deletes the extra ids and writes nothing else.
for i in 1 2; do
	$CTL seed a.test dup A 192.0.2.11 60 >/dev/null
	$CTL seed a.test _dnsfollow.dup TXT '"heritage=dnsfollow,owner=e2e"' 60 >/dev/null
done
RECORDS="
[record dup.a.test]
provider = ovh
backend  = lab
service  = gogs
type     = A
ttl      = 60
" write_config "$T/dup.ini"
$CTL reset
df -c "$T/dup.ini" --once; rc=$?
check "duplicates: pass exits 0" [ "$rc" = 0 ]
check "duplicates: one A and one marker left" \
	[ "$($CTL count a.test dup A):$($CTL count a.test _dnsfollow.dup TXT)" = "1:1" ]
check "duplicates: two DELETEs (the extra ids), nothing else written" \
	[ "$($CTL calls 'DELETE /domain/zone/{zone}/record/{id}'):$($CTL writes)" = "2:2" ]
check "duplicates: published" published_is a.test dup A 192.0.2.11

tap_done
