#!/bin/sh
# Issue 8 item 1, in the fault suite: the Swarm leader (the manager
# dnsfollow talks to) is killed with SIGKILL and restarted on the same
# data-root. For seconds afterwards it reports the workers "unknown" (then
# "down" or "ready") while their tasks keep running. With on_empty =
# delete and no grace period in the core (on_empty_grace = 0), the record
# must never be deleted: the backend's answer is "not known", not "runs
# nowhere". The mock state is sampled every 200 ms over the whole restart
# window; then the daemon must still follow the next move, without
# deleting the record while nothing runs during the move either.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
	ok "# SKIP needs root, dockerd and busybox"
	tap_done; exit 0
fi
if ! sw_lock; then
	not_ok "the swarm lock (another swarm test or bench still running)"
	tap_done; exit 1
fi
T=$(mktemp -d /tmp/dfswl.XXXXXX)
DFPID= SAMPLER= WATCHER=
cleanup() {
	for p in $SAMPLER $WATCHER; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$DFPID" ] && sw_end "$DFPID"
	sw_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

STATE=$T/state.json
LOG=$T/dnsfollow.log
rec() { python3 "$TOP/tests/lib/mockstate.py" "$STATE" example.test git.example.test A; }
rec_is() { [ "$(rec)" = "$1" ]; }
host_addr() { echo "$SW_SUBNET.1${1#dfsw-n}"; }
task_on() { [ -n "$(sw_task_node "$1")" ]; }
task_moved() { _n=$(sw_task_node "$1"); [ -n "$_n" ] && [ "$_n" != "$2" ]; }

if ! sw_up 3; then
	not_ok "bring up a three-node swarm"
	tap_done; exit 1
fi
ok "three-node swarm up ($SW_DIR)"
dk 1 service create --detach --stop-grace-period 2s --name gogs \
	--constraint node.role==worker "$SW_IMAGE" sleep 1000000 >/dev/null 2>&1
check "the service starts on a worker" wait_for 60 task_on gogs

# The core's grace period would hide a backend that answers "runs
# nowhere" for a few seconds: switch it off when the core knows the key.
GRACE="on_empty_grace = 0"
printf '[dnsfollow]\nowner_id = x\n%s\n' "$GRACE" >"$T/probe.ini"
if ! "$DNSFOLLOW" -c "$T/probe.ini" --check-config >/dev/null 2>"$T/probe.err" &&
	grep -q on_empty_grace "$T/probe.err"; then
	GRACE=
	diag "the core does not know on_empty_grace: running without it"
fi
cat >"$T/df.ini" <<EOF
[dnsfollow]
owner_id = swleader
interval = 600
plugin_dir = $PLUGINS
log_level = debug
$GRACE

[backend sw]
type = swarm
host = unix://$(sw_sock 1)
poll_interval = 300

[provider m]
type = mock
zones = example.test
state = $STATE

[record git.example.test]
provider = m
backend = sw
service = gogs
type = A
ttl = 30
on_empty = delete
EOF
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$LOG" &
DFPID=$!
n=$(sw_task_node gogs)
want=$(host_addr "$n")
check "the record points at the node running the task ($n)" wait_for 20 rec_is "$want"

# Sample the record every 200 ms into FILE, for at most 90 s. One python
# process: a new one per sample would take longer than 200 ms.
sample() { # FILE
	python3 - "$STATE" >"$1" <<'EOF' &
import json, sys, time
end = time.time() + 90
while time.time() < end:
    try:
        with open(sys.argv[1]) as f:
            z = json.load(f)["zones"]["example.test"]["rrsets"]
        v = " ".join(sorted(z.get("git.example.test", {}).get("A", {}).get("rdata", [])))
    except (OSError, ValueError, KeyError) as e:
        v = "unreadable: %s" % e
    print("%.2f [%s]" % (time.time(), v), flush=True)
    time.sleep(0.2)
EOF
	SAMPLER=$!
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=; }
sample "$T/samples"
# To know the fault really happened: the nodes' states as the restarted
# manager reports them.
(
	end=$(( $(date +%s) + 90 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		timeout 2 "$SW_DOCKER" -H "unix://$(sw_sock 1)" node ls \
			--format '{{.Hostname}}={{.Status}}' 2>/dev/null | tr '\n' ' '
		echo
		sleep 0.2
	done
) >"$T/nodes" &
WATCHER=$!
sleep 1

t0=$(date +%s)
sw_kill 1
# Down for a few seconds, as a crash restarted by its supervisor would be:
# the workers' agents back off meanwhile, so they come back later than
# the manager and it reports them "unknown" for seconds.
sleep 3
if ! sw_start 1 >/dev/null; then
	not_ok "the manager restarts on its data-root"
	tap_done; exit 1
fi
ok "the manager was killed (SIGKILL) and restarted on its data-root"
# The window: until every node is ready again, plus the time a late
# "down" takes to turn "ready", plus the watcher's fast polling.
sw_wait 45 sw_all_ready || diag "not every node ready again after 45 s"
sleep 5
stop_sampler
kill "$WATCHER" 2>/dev/null; wait "$WATCHER" 2>/dev/null; WATCHER=
diag "restart window: $(( $(date +%s) - t0 )) s, $(wc -l <"$T/samples") samples"

check "the fault happened: the restarted manager reported a worker not ready" \
	grep -q -E 'dfsw-n[23]=(Unknown|Down|Disconnected)' "$T/nodes"
bad=$(grep -v -F " [$want]" "$T/samples" | head -3)
check "the record was never deleted nor changed in the window (on_empty = delete)" \
	eval '[ "$(wc -l <"$T/samples")" -gt 30 ] && [ -z "$bad" ]'
[ -n "$bad" ] && diag "bad samples: $(echo "$bad" | tr '\n' ';')"
check "... because the backend said 'not known', never 'runs nowhere'" \
	eval 'grep -q "not ready, while a task of the service should run there\|no node ready, not even itself" "$LOG" &&
		! grep -q "runs nowhere" "$LOG"'

# The next move is still followed, and while it is under way (the old
# task stops for its 2 s grace period before the new one may start:
# nothing runs for a while) the record is not deleted either.
n=$(sw_task_node gogs)
want=$(host_addr "$n")
check "before the move the record points at $n" wait_for 15 rec_is "$want"
sample "$T/move"
sleep 0.5
dk 1 node update --availability drain "$n" >/dev/null
wait_for 60 task_moved gogs "$n"
m=$(sw_task_node gogs)
check "after draining $n the record follows the task to $m" \
	wait_for 15 rec_is "$(host_addr "$m")"
sleep 1
stop_sampler
bad=$(grep -v -F -e " [$want]" -e " [$(host_addr "$m")]" "$T/move" | head -3)
check "... never deleted while the task moved ($(wc -l <"$T/move") samples)" \
	eval 'grep -q -F " [$want]" "$T/move" && [ -z "$bad" ]'
[ -n "$bad" ] && diag "bad samples: $(echo "$bad" | tr '\n' ';')"
check "... the backend said the move was under way" \
	grep -q "still stopping on node $n\|one is on its way up" "$LOG"
check "dnsfollow is still running" kill -0 "$DFPID"
sw_end "$DFPID"; rc=$SW_RC; DFPID=
check "dnsfollow stops cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]

if [ "$_tap_fail" != 0 ]; then
	diag "dnsfollow log (tail):"
	tail -40 "$LOG" | sed 's/^/# /'
fi
tap_done
