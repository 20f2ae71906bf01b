#!/bin/sh
# Convergence on a real Swarm: how long after Swarm reports the moved task
# running does the DNS record (mock provider) hold the new node's address?
# Ten drains back and forth with the event-driven configuration, beside a
# few with `interval = 60` polling and no events (each of those takes up to
# a minute; BENCH_POLL_MOVES sets how many, default 3).
#   BENCH_MOVES (10)  BENCH_POLL_MOVES (3; 0 skips)  BENCH_DEBOUNCE_MS (50)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${B:=build}"
case "$B" in /*) ;; *) B="$TOP/$B" ;; esac
MOVES=${BENCH_MOVES:-10}
POLL_MOVES=${BENCH_POLL_MOVES:-3}
DEBOUNCE=${BENCH_DEBOUNCE_MS:-50}
. "$TOP/tests/swarm/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null; then
	echo "swarm bench: skipped (needs root and dockerd)"
	exit 0
fi
T=$(mktemp -d /tmp/dfswb.XXXXXX)
DFPID=
cleanup() {
	[ -n "$DFPID" ] && kill "$DFPID" 2>/dev/null && wait "$DFPID" 2>/dev/null
	sw_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sw_up 3 || { echo "swarm bench: cannot bring up the swarm"; exit 1; }
# Workers only, so each drain moves the task between n2 and n3.
dk 1 service create --detach --name gogs --constraint node.role==worker \
	--stop-grace-period 1s "$SW_IMAGE" sleep 1000000 >/dev/null 2>&1
sw_wait 60 sh -c "[ -n \"\$(DOCKER_API_VERSION=1.41 $SW_DOCKER -H unix://$(sw_sock 1) service ps -q --filter desired-state=running gogs)\" ]"

config() { # NAME INTERVAL EVENTS
	cat >"$T/$1.ini" <<EOF
[dnsfollow]
owner_id = bench
interval = $2
debounce_ms = $DEBOUNCE
plugin_dir = $B/plugins
log_level = info

[backend sw]
type = swarm
host = unix://$(sw_sock 1)
events = $3

[provider m]
type = mock
zones = example.test
state = $T/$1.json

[record git.example.test]
provider = m
backend = sw
service = gogs
type = A
ttl = 30
EOF
}

run() { # NAME MOVES JITTER_S
	"$B/dnsfollow" -c "$T/$1.ini" 2>"$T/$1.log" &
	DFPID=$!
	python3 "$TOP/bench/swarm/measure.py" "$(sw_sock 1)" "$T/$1.json" \
		example.test git.example.test gogs "$2" "$SW_DOCKER" "$3" | tee "$T/$1.out" |
		sed "s/^/  [$1] /" >&2
	kill "$DFPID"; wait "$DFPID" 2>/dev/null; DFPID=
	awk '/^RESULT/ { print $2, $3 }' "$T/$1.out"
}

config events 600 yes
config polling 60 no
echo "swarm bench: 3-node swarm, one-replica service, drains back and forth"
echo "  added latency = DNS answer (mock state) minus Swarm reporting the task running"
# A random wait before each drain (up to the polling interval) keeps moves
# out of step with the polling configuration's resync cadence.
ev=$(run events "$MOVES" 1 | tail -1)
po="skipped -"
[ "$POLL_MOVES" -gt 0 ] && po=$(run polling "$POLL_MOVES" 60 | tail -1)
printf '%-34s %8s %10s %10s\n' "configuration" "moves" "median ms" "max ms"
printf '%-34s %8s %10s %10s\n' "events (debounce_ms=$DEBOUNCE)" "$MOVES" ${ev:-fail fail}
printf '%-34s %8s %10s %10s\n' "polling (interval=60, events=no)" "$POLL_MOVES" ${po:-fail fail}
[ -n "$ev" ] && [ -n "$po" ]
