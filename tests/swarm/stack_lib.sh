# Helpers for t_stack.sh (sourced after tap.sh, lib.sh and
# tests/rfc2136/lib.sh): an all-manager Swarm whose nodes share one socket
# path, the test variant of deploy/stack.yml, timing and the DNS sampler.
# Everything lives under $SW_DIR (sw_down) or $W (r2136_cleanup).

STK_PORT=15451                  # named for this test (15451-15459)
STK_ZONE=stk.example.test
STK_NAME=git.$STK_ZONE
STK_OWN=heritage=dnsfollow,owner=stktest
STK_STACK=stk
STK_SAMPLER=

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The stack bind-mounts ONE path as the Docker socket on whatever manager
# runs dnsfollow, so every node must have its own engine's socket there.
# Each dockerd gets a mount namespace of its own (besides lib.sh's net and
# UTS ones) in which its node folder's run/ is bound on $SW_DIR/run: the
# same path, a different socket per node. The host still talks to node I
# through $SW_DIR/nI.sock. This replaces lib.sh's sw_start (same
# arguments, same files), so sw_up, sw_kill and sw_down work unchanged.
sw_start() { # I [extra dockerd args]
	_i=$1; shift
	d=$SW_DIR/n$_i
	mkdir -p "$d/data" "$d/exec" "$d/run" "$SW_DIR/run"
	nsenter --net="/var/run/netns/dfsw-n$_i" unshare --uts --mount --propagation private sh -c \
		'hostname "$0" && mount --bind "$1" "$2" && shift 2 && exec dockerd "$@"' \
		"dfsw-n$_i" "$d/run" "$SW_DIR/run" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$SW_DIR/n$_i.sock" -H "unix://$SW_DIR/run/docker.sock" \
		--pidfile "$d/pid" --storage-driver vfs --iptables=false --bridge=none \
		--log-level warn "$@" >>"$d/dockerd.log" 2>&1 9>&- &
	echo $! >"$d/launcher.pid"
	sw_wait 40 dk "$_i" version || { sw_log "dockerd n$_i did not start"; tail -5 "$d/dockerd.log" >&2; return 1; }
}

# A node dies: its engine, containerd and every container on it (lib.sh's
# sw_kill leaves the shims and their containers running, which a real
# node failure does not).
stk_kill() { # I
	sw_kill "$1"
	sw_kill_shims "$SW_DIR/n$1/"
}

# Managers that answer: "Leader" or "Reachable", and a leader among them.
stk_managers() { # ASKING-NODE
	dk "$1" node ls --format '{{.ManagerStatus}}' 2>/dev/null | grep -c '^\(Leader\|Reachable\)$'
}
stk_quorum() { # ASKING-NODE COUNT: COUNT managers reachable, one leader
	_ml=$(dk "$1" node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' 2>/dev/null) || return 1
	[ "$(echo "$_ml" | grep -c ' Ready \(Leader\|Reachable\)$')" -ge "$2" ] &&
		echo "$_ml" | grep -q ' Ready Leader$'
}
stk_promote() { # the workers sw_up made become managers: 3 of 3
	dk 1 node promote dfsw-n2 dfsw-n3 >/dev/null || return 1
	sw_wait 60 stk_quorum 1 3
}
stk_leader() { # ASKING-NODE: hostname of the leader
	dk "$1" node ls --format '{{.Hostname}} {{.ManagerStatus}}' 2>/dev/null | awk '$2 == "Leader" { print $1 }'
}
stk_addr() { echo "$SW_SUBNET.1${1#dfsw-n}"; }   # dfsw-n2 -> 10.231.0.12
stk_idx() { echo "${1#dfsw-n}"; }                 # dfsw-n2 -> 2

# Nodes (hostnames) running SERVICE's tasks, asked of node I (any
# manager). Until a dead node is noticed its task still shows running.
stk_task_nodes() { # I SERVICE
	dk "$1" service ps "$2" --filter desired-state=running \
		--format '{{.Node}} {{.CurrentState}}' 2>/dev/null |
		awk '$2 == "Running" { print $1 }' | sort -u
}
stk_task_node() { stk_task_nodes "$@" | head -1; }
# A node other than FROM running SERVICE's task (empty if none).
stk_elsewhere() { # I SERVICE FROM
	stk_task_nodes "$1" "$2" | grep -vx "$3" | head -1
}
stk_moved() { [ -n "$(stk_elsewhere "$@")" ]; }
# Nanosecond time SERVICE's container last started on node I since S (s):
# the node engine's own event, the earliest moment "the task runs".
stk_started_ns() { # I SERVICE SINCE
	dk "$1" events --since "$3" --until "$(date +%s.%N)" --filter type=container \
		--filter event=start --filter "label=com.docker.swarm.service.name=$2" \
		--format '{{.TimeNano}}' 2>/dev/null | tail -1
}
# The running container of SERVICE on node I.
stk_cid() { # I SERVICE
	dk "$1" ps -q -f "label=com.docker.swarm.service.name=$2" -f status=running 2>/dev/null | head -1
}

# wait_ms SECONDS COMMAND...: poll every 50 ms; WAITED_AT = the time (ms)
# the command first succeeded. Bounded by SECONDS.
wait_ms() {
	_wd=$(( $(now_ms) + $1 * 1000 )); shift
	while :; do
		if "$@" >/dev/null 2>&1; then WAITED_AT=$(now_ms); return 0; fi
		[ "$(now_ms)" -ge "$_wd" ] && { WAITED_AT=; return 1; }
		sleep 0.05
	done
}

# --- DNS at named on the bridge ----------------------------------------
stk_dig() { # NAME TYPE: sorted short answer
	dig +time=1 +tries=2 @"$SW_SUBNET.1" -p $STK_PORT "$1" "$2" +short 2>/dev/null |
		tr -d '"' | sort | tr '\n' ' ' | sed 's/ $//'
}
stk_is() { [ "$(stk_dig $STK_NAME A)" = "$1" ]; }
# The name and its marker, with dig's status (NOERROR, NXDOMAIN, ...).
stk_probe() {
	_pa=$(dig +time=1 +tries=2 @"$SW_SUBNET.1" -p $STK_PORT $STK_NAME A +noall +comments +answer 2>/dev/null)
	_pt=$(dig +time=1 +tries=2 @"$SW_SUBNET.1" -p $STK_PORT _dnsfollow.$STK_NAME TXT +short 2>/dev/null | tr -d '"')
	_ps=$(echo "$_pa" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
	_pv=$(echo "$_pa" | awk '$4 == "A" { print $5 }' | sort | tr '\n' ' ' | sed 's/ $//')
	echo "${_ps:-NOANSWER} ${_pv:--} ${_pt:--}"
}

# The sampler: probes the name and its marker about 5 times a second for
# the whole test (bounded: 3000 rounds, about 10 minutes). A round where
# either is missing is probed again 100 ms later (a lost UDP answer is not
# a deletion); if still missing it goes to $W/miss. Every change of the
# answer goes to $W/seen with its time.
stk_sampler() {
	_sn=0; _last=
	while [ ! -f "$W/sampler.stop" ] && [ "$_sn" -lt 3000 ]; do
		_r=$(stk_probe)
		case "$_r" in "NOERROR 10.231.0.1"[0-9]" $STK_OWN") ;; *)
			sleep 0.1; _r2=$(stk_probe)
			case "$_r2" in "NOERROR 10.231.0.1"[0-9]" $STK_OWN") ;; *)
				echo "$(date +%T.%N) $_r / $_r2" >>"$W/miss" ;; esac ;;
		esac
		[ "$_r" != "$_last" ] && echo "$(date +%T.%N) $_r" >>"$W/seen"
		_last=$_r
		_sn=$((_sn + 1)); echo "$_sn" >"$W/rounds"
		sleep 0.2
	done
}
stk_sampler_start() {
	rm -f "$W/sampler.stop" "$W/miss" "$W/rounds"
	: >"$W/seen"
	stk_sampler &
	STK_SAMPLER=$!
}
stk_sampler_stop() {
	[ -n "$STK_SAMPLER" ] || return 0
	touch "$W/sampler.stop"
	timeout 20 tail --pid="$STK_SAMPLER" -f /dev/null 2>/dev/null || kill -9 "$STK_SAMPLER" 2>/dev/null
	wait "$STK_SAMPLER" 2>/dev/null
	STK_SAMPLER=
}

# --- the stack ---------------------------------------------------------
# The test's variant of deploy/stack.yml, derived from it (so an edit of
# the stack is tested), changed only where this lab differs from a real
# Swarm: the image tag; the socket's path ($SW_DIR/run, see sw_start);
# the host network instead of published ports (no iptables or overlay in
# the namespaces; dnsfollow then reaches named on the bridge and serves
# :9109 on its node's address); health probes every 2 s instead of 30 s;
# the forge is busybox sleeping (no registry), stops in 1 s (sleep as PID
# 1 ignores SIGTERM) and restarts without delay, its name label is in the
# test's zone, and it avoids nodes labelled stk.noforge=yes (the test
# puts that on dnsfollow's node, so that killing the forge's node and
# killing dnsfollow's are two separate steps).
stk_stack_yml() { # SRC DST SOCKET NAME
	python3 - "$@" <<'EOF'
import sys, yaml
src, dst, sock, name = sys.argv[1:5]
with open(src) as f:
    st = yaml.safe_load(f)
svcs = st["services"]
forge = [k for k, v in svcs.items()
         if "dnsfollow.name" in ((v.get("deploy") or {}).get("labels") or {})]
if "dnsfollow" not in svcs or len(forge) != 1:
    sys.exit("stack.yml: want a dnsfollow service and one service labelled dnsfollow.name")
d = svcs["dnsfollow"]
for v in d.get("volumes", []):
    if v.get("target") == "/var/run/docker.sock":
        v["source"] = sock
d.pop("ports", None)
d["networks"] = ["hostnet"]
d.setdefault("healthcheck", {}).update(interval="2s", start_period="5s")
f = svcs[forge[0]]
f.update(image="local/busybox:1", command=["sleep", "1000000"],
         networks=["hostnet"], stop_grace_period="1s")
f.pop("volumes", None); f.pop("ports", None)
f["deploy"]["labels"]["dnsfollow.name"] = name
f["deploy"].setdefault("restart_policy", {})["delay"] = "0s"
f["deploy"].setdefault("placement", {}).setdefault("constraints", []).append(
    "node.labels.stk.noforge != yes")
st.pop("volumes", None)
st["networks"] = {"hostnet": {"external": True, "name": "host"}}
with open(dst, "w") as out:
    yaml.safe_dump(st, out, default_flow_style=False, sort_keys=False)
print(forge[0])
EOF
}

# dnsfollow.ini for the stack: the swarm backend through the mounted
# socket with discovery, RFC 2136 to named on the bridge with the TSIG
# key from the stack's secret, policy = sync (a wrong delete would show).
stk_ini() { # FILE
	cat >"$1" <<EOF
[dnsfollow]
owner_id = stktest
listen = :9109
log_level = debug

[backend swarm]
type = swarm
host = unix:///var/run/docker.sock
discover = yes
discover_provider = lan

[provider lan]
type = rfc2136
zones = $STK_ZONE
server = $SW_SUBNET.1:$STK_PORT
key_file = /run/secrets/tsig.key
policy = sync
EOF
}

# GET http://ADDR:9109/PATH from the host; the body on stdout, fails
# unless 200.
stk_http() { # ADDR PATH
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())' \
		"http://$1:9109$2" 2>/dev/null
}
# Run a command with its output out of the TAP stream.
quiet() { "$@" >/dev/null 2>&1; }

# Median and max of numbers, one a line, on stdin: "median max count".
stk_stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[NR], NR }'
}

# STK_KEEP=DIR keeps, for a post-mortem: every dnsfollow container's log
# (the dead instance's too, once its node is back), the sampler's view,
# the latencies, named's log and the stack file.
stk_keep() { # DIR
	mkdir -p "$1" || return 0
	cp "$W/seen" "$W/miss" "$W/lat" "$W/stack/stack.yml" "$W/stack/dnsfollow.ini" "$1"/ 2>/dev/null
	cp "$W/named-$STK_PORT/log" "$1/named.log" 2>/dev/null
	for _ki in 1 2 3; do
		for _kc in $(dk $_ki ps -aq -f "label=com.docker.swarm.service.name=${STK_STACK}_dnsfollow" 2>/dev/null); do
			dk $_ki logs -t "$_kc" >"$1/dnsfollow-n$_ki-$_kc.log" 2>&1
		done
		dk $_ki events --since 0 --until "$(date +%s)" >"$1/events-n$_ki.txt" 2>&1
	done
	dk 1 service ps --no-trunc "${STK_STACK}_dnsfollow" ${FORGE:-} >"$1/service-ps.txt" 2>&1
	return 0
}
