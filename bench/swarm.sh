#!/bin/sh
# Convergence on a real Swarm: how long after Swarm reports the moved task
# running does a real named answer the new node's address? dnsfollow
# publishes through the rfc2136 provider. Ten drains back and forth with
# the event-driven configuration (defaults: events on, debounce_ms 200),
# beside ten with `interval = 60` polling and no events (each of those
# takes up to a minute; BENCH_POLL_MOVES sets how many).
#   BENCH_MOVES (10)  BENCH_POLL_MOVES (10; 0 skips)
# Targets (events): median added latency < 250 ms, max < 1000 ms; the
# script exits 1 when either is missed.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/tap.sh"
MOVES=${BENCH_MOVES:-10}
POLL_MOVES=${BENCH_POLL_MOVES:-10}
. "$TOP/tests/swarm/lib.sh"
. "$TOP/tests/rfc2136/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
	echo "swarm bench: skipped (needs root and dockerd)"
	exit 0
fi
sw_lock || { echo "swarm bench: another swarm test or bench holds the lock"; exit 1; }
r2136_init
DFPID=
cleanup() {
	[ -n "$DFPID" ] && sw_end "$DFPID"
	sw_down
	r2136_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM
PORT=15345
r2136_key ddns >/dev/null 2>&1
r2136_named $PORT ddns example.test ex2.test >/dev/null || { echo "swarm bench: named did not start"; exit 1; }

sw_up 3 || { echo "swarm bench: cannot bring up the swarm"; exit 1; }
# Workers only, so each drain moves the task between n2 and n3.
dk 1 service create --detach --name gogs --constraint node.role==worker \
	--stop-grace-period 1s "$SW_IMAGE" sleep 1000000 >/dev/null 2>&1
# A function of this shell, not `sh -c`: a new sh knows no sw_task_node,
# so that check always failed and the wait always ran its full 60 s.
gogs_placed() { [ -n "$(sw_task_node gogs)" ]; }
sw_wait 60 gogs_placed || { echo "swarm bench: gogs has no running task after 60 s"; exit 1; }

config() { # NAME ZONE INTERVAL EVENTS
	cat >"$W/$1.ini" <<EOF
[dnsfollow]
owner_id = bench
interval = $3
plugin_dir = $PLUGINS
log_level = info

[backend sw]
type = swarm
host = unix://$(sw_sock 1)
events = $4

[provider dns]
type = rfc2136
zones = $2
server = 127.0.0.1:$PORT
key_file = $W/ddns.key

[record git.$2]
provider = dns
backend = sw
service = gogs
type = A
ttl = 30
EOF
}

# Not in a subshell: the daemon must stay this shell's child, so that the
# EXIT trap can stop it. Sets RESULT ("median max", or "").
run() { # NAME ZONE MOVES JITTER_S
	"$DNSFOLLOW" -c "$W/$1.ini" 2>"$W/$1.log" &
	DFPID=$!
	timeout 3000 python3 "$TOP/bench/swarm/measure.py" "$(sw_sock 1)" $PORT \
		"git.$2" gogs "$3" "$SW_DOCKER" "$4" >"$W/$1.out"
	sed "s/^/  [$1] /" "$W/$1.out" >&2
	sw_end "$DFPID"; DFPID=
	RESULT=$(awk '/^RESULT/ { print $2, $3 }' "$W/$1.out")
}

# Two zones, so each configuration starts from a name it alone writes.
config events example.test 600 yes
config polling ex2.test 60 no
echo "swarm bench: 3-node swarm, one-replica service, drains back and forth;"
echo "  named (BIND $(named -v | awk '{print $2}')) on 127.0.0.1:$PORT, rfc2136 provider"
echo "  added latency = named answers the new address, minus Swarm reporting the task running"
# A random wait before each drain (up to the polling interval) keeps moves
# out of step with the polling configuration's resync cadence.
run events example.test "$MOVES" 1
ev=$RESULT
po="skipped -"
if [ "$POLL_MOVES" -gt 0 ]; then
	run polling ex2.test "$POLL_MOVES" 60
	po=$RESULT
fi
printf '%-38s %6s %10s %10s\n' "configuration" "moves" "median ms" "max ms"
printf '%-38s %6s %10s %10s\n' "events (defaults, debounce_ms=200)" "$MOVES" ${ev:-fail fail}
printf '%-38s %6s %10s %10s\n' "polling (interval=60, events=no)" "$POLL_MOVES" ${po:-fail fail}
[ -n "$ev" ] || { echo "swarm bench: FAIL (the events configuration gave no result)"; exit 1; }
set -- $ev
verdict() { [ "$1" -lt "$2" ] && echo "met" || echo "MISSED"; }
echo "target median < 250 ms: $(verdict "$1" 250) ($1 ms); target max < 1000 ms: $(verdict "$2" 1000) ($2 ms)"
# A missed target fails the run (make bench reports it), as does a
# polling run that gave no result.
[ "$1" -lt 250 ] && [ "$2" -lt 1000 ] && [ -n "$po" ] || { echo "swarm bench: FAIL"; exit 1; }
echo "swarm bench: PASS"
