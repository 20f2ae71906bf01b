#!/bin/sh
# Engine API cost against the number of Swarm services (issue 10, item 6).
# A one-node Swarm (tests/swarm/lib.sh) runs S = 1, 20, 100, 500 services
# s1..sS of `sleep`, each labelled dnsfollow.name=sN.lab.example.test;
# dnsfollow talks to the engine through a counting proxy
# (bench/swarm/proxy.py) and publishes into the mock provider. Per S:
# Engine calls and wall time of one `--once` pass, the daemon's idle
# safety-net poll (calls per minute), the calls after one unrelated label
# change, and, against them, `docker service ps` once per service (what
# the original cron script did). bench/swarm/labels.py does the measuring
# and prints the table.
#   BENCH_MODES  "labels" (discover = yes, no [record]) and/or "ini" (one
#                [record] per service); default: "labels ini" once the
#                swarm backend can discover, else "ini"
#   BENCH_SIZES ("1 20 100 500")  BENCH_EVENT_S (5)
#   BENCH_IDLE_S (30 with one mode, 20 with two: the run stays near 6 min)
#   BENCH_CREATE_BUDGET_S (90): beyond S = 100, services whose tasks would
#                not start within this are created with --replicas 0
#   BENCH_KEEP_DIR: copy the proxies' request logs (EPOCH METHOD PATH)
#                and dnsfollow's logs there before cleaning up
# Gate (exit 1): a pass costs more than 4 Engine calls (handshake aside)
# at any S (a different number at different S is noted); the idle poll or
# the calls after a label change grow with S; or a pass does not publish
# one record per running service.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/swarm/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
	echo "swarm labels bench: skipped (needs root, dockerd and busybox)"
	exit 0
fi
W=$(mktemp -d /tmp/dfswl.XXXXXX)
# Labels mode needs a dnsfollow that takes `discover = yes`: ask it.
if [ -z "${BENCH_MODES:-}" ]; then
	cat >"$W/probe.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[backend sw]
type = swarm
host = unix://$W/none.sock
discover = yes
discover_provider = m
[provider m]
type = mock
zones = lab.example.test
state = $W/probe.json
EOF
	if "$DNSFOLLOW" -c "$W/probe.ini" --check-config >/dev/null 2>&1
	then BENCH_MODES="labels ini"; else BENCH_MODES=ini; fi
fi
L0=$(date +%s)
sw_lock || { echo "swarm labels bench: another swarm test or bench holds the lock"; rm -rf "$W"; exit 1; }
T0=$(date +%s)
[ "$T0" -gt $((L0 + 1)) ] && echo "swarm labels bench: waited $((T0 - L0)) s for the swarm lock"
PROXIES=
cleanup() {
	for p in $PROXIES; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# Removing 500 services one by one would take minutes, and a graceful
	# stop of an engine with 500 tasks as long: the whole swarm goes
	# instead, the engine killed first (sw_down then takes the shims).
	D0=$(date +%s)
	if [ -n "$SW_DIR" ]; then
		# sw_down takes the shims one by one (a pkill each): all at once.
		shims=$(pgrep -d, -f "containerd-shim.* -address $SW_DIR/")
		# shellcheck disable=SC2046 # one pid per word
		if [ -n "$shims" ]; then pkill -9 -P "$shims"; kill -9 $(echo "$shims" | tr , ' '); fi
		sw_kill 1
	fi
	sw_down
	[ -n "${BENCH_KEEP_DIR:-}" ] && mkdir -p "$BENCH_KEEP_DIR" &&
		cp "$W"/*.calls "$W"/*.log "$BENCH_KEEP_DIR"/ 2>/dev/null
	rm -rf "$W"
	echo "swarm labels bench: teardown $(( $(date +%s) - D0 )) s;" \
		"$(( $(date +%s) - T0 )) s in all, swarm start-up included"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sw_up 1 || { echo "swarm labels bench: cannot bring up the swarm"; exit 1; }
echo "swarm labels bench: swarm up in $(( $(date +%s) - T0 )) s"
proxy() { # LISTEN LOG
	: >"$2"
	python3 "$TOP/bench/swarm/proxy.py" "$(sw_sock 1)" "$1" "$2" 9>&- &
	PROXIES="$PROXIES $!"
	sw_wait 10 test -S "$1" || { echo "swarm labels bench: proxy did not start"; exit 1; }
}
proxy "$W/df.sock" "$W/df.calls"
proxy "$W/cli.sock" "$W/cli.calls"

echo "swarm labels bench: 1-node swarm ($(dk 1 version --format '{{.Server.Version}}')," \
	"vfs), modes: $BENCH_MODES, dnsfollow $B"
LB_DOCKER=$SW_DOCKER LB_ENGINE=$(sw_sock 1) \
LB_DF_SOCK=$W/df.sock LB_DF_LOG=$W/df.calls \
LB_CLI_SOCK=$W/cli.sock LB_CLI_LOG=$W/cli.calls \
LB_DNSFOLLOW=$DNSFOLLOW LB_PLUGINS=$PLUGINS LB_DIR=$W LB_MODES=$BENCH_MODES \
LB_SIZES=${BENCH_SIZES:-1 20 100 500} LB_IDLE_S=${BENCH_IDLE_S:-} \
LB_EVENT_S=${BENCH_EVENT_S:-5} LB_CREATE_BUDGET_S=${BENCH_CREATE_BUDGET_S:-90} \
	timeout 1200 python3 "$TOP/bench/swarm/labels.py" 9>&-
rc=$?
[ "$rc" = 0 ] || for f in "$W"/*-once.log; do
	[ -s "$f" ] && { echo "  $(basename "$f"):"; tail -3 "$f" | sed 's/^/    /'; }
done
exit "$rc"
