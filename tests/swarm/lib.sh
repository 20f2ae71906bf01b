# A real multi-node Docker Swarm in network namespaces, for the swarm
# backend's tests and benchmark (sourced; needs root, dockerd, busybox).
#
#   sw_up N        start N nodes dfsw-n1..N on bridge dfsw-br0
#                  (10.231.0.1/24 on the host side, node i = 10.231.0.1i),
#                  n1 initialises the swarm as its only manager, the others
#                  join as workers; every node gets image local/busybox:1
#   sw_down        tear everything down (also called from the EXIT trap)
#   dk I ARGS...   the docker client against node I (API 1.41)
#   sw_sock I      node I's socket path
#   sw_kill I / sw_start I   kill -9 / start node I's dockerd
#   sw_task_node SVC         hostname of the node running SVC's task(s)
#   sw_tls_certs DIR         CA, server (n1) and client certificates
#   sw_lock                  take the machine-wide lock (one swarm at a time:
#                            the names, subnet and stale-cleanup are shared)
#   sw_end PID               SIGTERM a child process, wait at most 20 s
#                            (then SIGKILL); its exit status in SW_RC
#   SW_N1_ARGS               extra dockerd arguments for n1 (the manager)
#
# Every wait is bounded; everything created lives under $SW_DIR (mktemp)
# and the dfsw-* names, and sw_down removes it even after a failure.

SW_SUBNET=10.231.0
SW_BR=dfsw-br0
SW_N=0
SW_DIR=
SW_IMAGE=local/busybox:1
if [ -x /usr/bin/docker ]; then SW_DOCKER=/usr/bin/docker; else SW_DOCKER=docker; fi
# A newer client than the 20.10 engine would refuse to talk without this.
export DOCKER_API_VERSION=1.41

sw_log() { echo "# swarm: $*" >&2; }
sw_sock() { echo "$SW_DIR/n$1.sock"; }
sw_addr() { echo "$SW_SUBNET.1$1"; }
# Every docker call is bounded: a wedged engine fails the step, not the run.
dk() { _i=$1; shift; timeout 60 "$SW_DOCKER" -H "unix://$SW_DIR/n$_i.sock" "$@"; }

sw_lock() {
	exec 9>/tmp/dnsfollow-swarm.lock && flock -w 1200 9
}

sw_end() { # PID (not in a subshell: wait needs its parent)
	kill "$1" 2>/dev/null
	timeout 20 tail --pid="$1" -f /dev/null 2>/dev/null || kill -9 "$1" 2>/dev/null
	wait "$1"
	SW_RC=$?
}

# Wait up to $1 seconds for "$@" (the rest) to succeed, polling every 0.2 s.
sw_wait() {
	_t=$(( $1 * 5 )); shift
	while [ "$_t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2; _t=$((_t - 1))
	done
	return 1
}

sw_net_node() { # I
	ns=dfsw-n$1
	ip netns add "$ns" || return 1
	ip link add "dfsw-v$1" type veth peer name "dfsw-p$1" || return 1
	ip link set "dfsw-p$1" netns "$ns" || return 1
	ip link set "dfsw-v$1" master "$SW_BR" up || return 1
	nsenter --net="/var/run/netns/$ns" sh -c "
		ip link set lo up &&
		ip link set dfsw-p$1 name eth0 &&
		ip addr add $(sw_addr "$1")/24 dev eth0 &&
		ip link set eth0 up" || return 1
}

sw_start() { # I [extra dockerd args]
	_i=$1; shift
	# shellcheck disable=SC2086 # word splitting wanted
	[ "$_i" = 1 ] && set -- ${SW_N1_ARGS:-} "$@"
	d=$SW_DIR/n$_i
	mkdir -p "$d/data" "$d/exec"
	# Own UTS namespace: each node gets its own hostname (dfsw-nI).
	nsenter --net="/var/run/netns/dfsw-n$_i" unshare --uts sh -c \
		'hostname "$0" && exec dockerd "$@"' "dfsw-n$_i" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$SW_DIR/n$_i.sock" --pidfile "$d/pid" \
		--storage-driver vfs --iptables=false --bridge=none \
		--log-level warn "$@" >>"$d/dockerd.log" 2>&1 9>&- &
	echo $! >"$d/launcher.pid"
	sw_wait 40 dk "$_i" version || { sw_log "dockerd n$_i did not start"; tail -5 "$d/dockerd.log" >&2; return 1; }
}

# Kill containerd shims whose command line mentions $1 (a folder), and
# the containers under them. Shims daemonize (their parent is init), so
# killing dockerd and containerd leaves them and their tasks running.
sw_kill_shims() { # FOLDER
	for p in $(pgrep -f "containerd-shim.* -address $1" 2>/dev/null); do
		pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null
	done
	return 0
}

sw_kill() { # I: SIGKILL dockerd and its containerd, as a crash would
	d=$SW_DIR/n$1
	[ -f "$d/pid" ] || return 0
	p=$(cat "$d/pid")
	# containerd is a child of dockerd; take it too.
	for c in $(pgrep -P "$p" 2>/dev/null); do
		pkill -9 -P "$c" 2>/dev/null; kill -9 "$c" 2>/dev/null
	done
	kill -9 "$p" 2>/dev/null
	sw_wait 10 sh -c "! kill -0 $p 2>/dev/null"
	# The killed containerd may linger as a zombie (nobody reaps it at
	# once here), and a restarted dockerd that finds its pid in this file
	# alive waits for it instead of starting a new one, then times out.
	rm -f "$d/pid" "$SW_DIR/n$1.sock" "$d/exec/containerd/containerd.pid"
}

sw_stop() { # I: SIGTERM, graceful
	d=$SW_DIR/n$1
	[ -f "$d/pid" ] || return 0
	p=$(cat "$d/pid")
	kill "$p" 2>/dev/null
	sw_wait 20 sh -c "! kill -0 $p 2>/dev/null" || sw_kill "$1"
	rm -f "$d/pid"
}

sw_image() { # I: import a busybox image (no registry is reachable)
	r=$SW_DIR/rootfs
	if [ ! -d "$r" ]; then
		mkdir -p "$r/bin" "$r/tmp" && cp "$(command -v busybox)" "$r/bin/busybox" || return 1
		for l in sh sleep true ls cat; do ln -sf busybox "$r/bin/$l"; done
	fi
	tar -C "$r" -c . | dk "$1" import - "$SW_IMAGE" >/dev/null
}

sw_up() { # N
	[ "$(id -u)" = 0 ] || { sw_log "needs root"; return 1; }
	command -v dockerd >/dev/null && command -v busybox >/dev/null ||
		{ sw_log "needs dockerd and busybox"; return 1; }
	sw_cleanup_stale
	SW_DIR=$(mktemp -d /tmp/dfsw.XXXXXX) || return 1
	SW_N=$1
	ip link add "$SW_BR" type bridge || return 1
	ip addr add "$SW_SUBNET.1/24" dev "$SW_BR" && ip link set "$SW_BR" up || return 1
	i=1
	while [ "$i" -le "$SW_N" ]; do
		sw_net_node "$i" && sw_start "$i" && sw_image "$i" || return 1
		i=$((i + 1))
	done
	dk 1 swarm init --advertise-addr "$(sw_addr 1)" --dispatcher-heartbeat 1s >/dev/null || return 1
	tok=$(dk 1 swarm join-token -q worker) || return 1
	i=2
	while [ "$i" -le "$SW_N" ]; do
		dk "$i" swarm join --token "$tok" --advertise-addr "$(sw_addr "$i")" "$(sw_addr 1):2377" >/dev/null || return 1
		i=$((i + 1))
	done
	sw_wait 60 sw_all_ready || { sw_log "nodes not ready"; return 1; }
}

# Certificates for dockerd on n1 with --tlsverify: ca.pem, server.pem,
# server-key.pem (for 10.231.0.11), cert.pem / key.pem (client), and a
# client pair from another CA (bad-cert.pem, bad-key.pem).
sw_tls_certs() { # DIR
	(
	cd "$1" || exit 1
	key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
	ca() { # NAME
		key "$1-key.pem" && openssl req -x509 -key "$1-key.pem" -out "$1.pem" \
			-days 2 -subj "/CN=dfsw-$1"
	}
	leaf() { # KEY CERT CA EXT CN
		key "$1" && openssl req -new -key "$1" -subj "/CN=$5" -out leaf.csr &&
		printf '%s\n' "$4" >leaf.ext &&
		openssl x509 -req -in leaf.csr -CA "$3.pem" -CAkey "$3-key.pem" \
			-CAcreateserial -days 2 -extfile leaf.ext -out "$2"
	}
	ca ca && ca other &&
	leaf server-key.pem server.pem ca \
		"subjectAltName=IP:$SW_SUBNET.11
extendedKeyUsage=serverAuth" dfsw-n1 &&
	leaf key.pem cert.pem ca "extendedKeyUsage=clientAuth" dnsfollow &&
	leaf bad-key.pem bad-cert.pem other "extendedKeyUsage=clientAuth" intruder
	) >/dev/null 2>&1
}

sw_all_ready() {
	[ "$(dk 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$SW_N" ]
}

# Hostnames of nodes running SVC (desired and current state running).
sw_task_node() {
	dk 1 service ps "$1" --filter desired-state=running \
		--format '{{.Node}} {{.CurrentState}}' 2>/dev/null |
		awk '$2 == "Running" { print $1 }' | sort
}

sw_node_id() { dk "$1" info --format '{{.Swarm.NodeID}}'; }

sw_down() {
	i=1
	while [ "$i" -le "$SW_N" ]; do
		[ -n "$SW_DIR" ] && sw_stop "$i" 2>/dev/null
		i=$((i + 1))
	done
	[ -n "$SW_DIR" ] && sw_kill_shims "$SW_DIR/"
	sw_cleanup_stale
	if [ -n "$SW_DIR" ] && [ -d "$SW_DIR" ]; then
		# vfs layers and container mounts can linger under exec-root.
		grep " $SW_DIR/" /proc/mounts | awk '{print $2}' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "$SW_DIR"
	fi
	SW_DIR=; SW_N=0
}

# Remove leftovers of an earlier run that died without its trap: dockerds
# whose data lives under /tmp/dfsw.*, dfsw-* namespaces, links and bridge.
sw_cleanup_stale() {
	for p in $(pgrep -x dockerd 2>/dev/null); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--data-root /tmp/dfsw\." || continue
		for c in $(pgrep -P "$p" 2>/dev/null); do
			pkill -9 -P "$c" 2>/dev/null; kill -9 "$c" 2>/dev/null
		done
		kill -9 "$p" 2>/dev/null
	done
	sw_kill_shims /tmp/dfsw.
	for ns in $(ip netns list 2>/dev/null | awk '/^dfsw-/ {print $1}'); do
		ip netns del "$ns" 2>/dev/null
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^dfsw-'); do
		ip link del "$l" 2>/dev/null
	done
	return 0
}
