#!/bin/sh
# The swarm backend against a real three-node Swarm (n1 manager, n2 and n3
# workers) in network namespaces: dnsfollow runs as a daemon with the mock
# provider and the RFC 2136 provider on a real named, and the records must
# follow the tasks. n1 also serves the API over TCP with mutual TLS.
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
T=$(mktemp -d /tmp/dfswt.XXXXXX)
DFPID=
# A real named too (the rfc2136 tests' helpers): git.example.net is
# published through RFC 2136 and checked with dig.
. "$TOP/tests/rfc2136/lib.sh"
r2136_init
cleanup() {
	[ -n "$DFPID" ] && sw_end "$DFPID"
	sw_down
	r2136_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
NPORT=15341
r2136_key ddns >/dev/null 2>&1
r2136_named $NPORT ddns example.net >/dev/null || diag "named did not start"
dug() { [ "$(r2136_dig $NPORT git.example.net A)" = "$1" ]; }

STATE=$T/state.json
LOG=$T/dnsfollow.log
rec() { python3 "$TOP/tests/lib/mockstate.py" "$STATE" example.test "$1.example.test" A; }
rec_is() { [ "$(rec "$1")" = "$2" ]; }
host_addr() { echo "$SW_SUBNET.1${1#dfsw-n}"; }   # dfsw-n2 -> 10.231.0.12
addrs_of() { for h in "$@"; do host_addr "$h"; done | sort | tr '\n' ' ' | sed 's/ $//'; }
task_on() { [ -n "$(sw_task_node "$1")" ]; }
task_moved() { _n=$(sw_task_node "$1"); [ -n "$_n" ] && [ "$_n" != "$2" ]; }
svc() { dk 1 service create --detach --stop-grace-period 1s "$@" >/dev/null 2>&1; }

# n1 also listens on TCP with mutual TLS, for the tcp:// transport.
mkdir -p "$T/tls" && sw_tls_certs "$T/tls" || diag "cannot make certificates"
SW_N1_ARGS="-H tcp://$SW_SUBNET.11:2376 --tlsverify --tlscacert $T/tls/ca.pem
	--tlscert $T/tls/server.pem --tlskey $T/tls/server-key.pem"
if ! sw_up 3; then
	not_ok "bring up a three-node swarm"
	tap_done; exit 1
fi
ok "three-node swarm up ($SW_DIR)"

svc --name gogs --constraint node.role==worker "$SW_IMAGE" sleep 1000000
svc --name pair --replicas 2 --replicas-max-per-node 1 "$SW_IMAGE" sleep 1000000
svc --name idle --constraint node.role==worker "$SW_IMAGE" sleep 1000000
svc_ready() { task_on gogs && task_on idle && [ "$(sw_task_node pair | wc -w)" = 2 ]; }
check "services start" wait_for 60 svc_ready

cat >"$T/df.ini" <<EOF
[dnsfollow]
owner_id = swtest
interval = 600
plugin_dir = $PLUGINS
log_level = debug

[backend sw]
type = swarm
host = unix://$(sw_sock 1)
; events and the settle polling must do the work: no safety-net help
poll_interval = 300

[backend map]
type = swarm
host = unix://$(sw_sock 1)
node.dfsw-n2 = 192.0.2.22
poll_interval = 300

[provider m]
type = mock
zones = example.test
state = $STATE

[provider dns]
type = rfc2136
zones = example.net
server = 127.0.0.1:$NPORT
key_file = $W/ddns.key

[record git.example.test]
provider = m
backend = sw
service = gogs
type = A
ttl = 30

[record git.example.net]
provider = dns
backend = sw
service = gogs
type = A
ttl = 30

[record git6.example.test]
provider = m
backend = sw
service = gogs
type = AAAA

[record all.example.test]
provider = m
backend = sw
service = gogs
type = A
target = ready-nodes

[record pair.example.test]
provider = m
backend = sw
service = pair
type = A

[record idle.example.test]
provider = m
backend = sw
service = idle
type = A

[record mapped.example.test]
provider = m
backend = map
service = gogs
type = A
target = ready-nodes

[record www.example.test]
provider = m
backend = sw
service = gogs
type = CNAME
EOF

# Every node has a DNS name in its label (the CNAME target, ABI 2).
for i in 1 2 3; do
	dk 1 node update --label-add "dnsfollow.hostname=DFSW-N$i.Nodes.Example.TEST." \
		"dfsw-n$i" >/dev/null
done
cname() { python3 "$TOP/tests/lib/mockstate.py" "$STATE" example.test www.example.test CNAME | sed 's/\.$//'; }
cname_is() { [ "$(cname)" = "$1" ]; }

$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$LOG" &
DFPID=$!

# --- placement ---
n=$(sw_task_node gogs)
check "record points at the node running the task ($n)" \
	wait_for 20 rec_is git "$(host_addr "$n")"
check "named answers the same address (dig)" wait_for 10 dug "$(host_addr "$n")"
check "ready-nodes lists every ready node" \
	wait_for 10 rec_is all "10.231.0.11 10.231.0.12 10.231.0.13"
pn=$(sw_task_node pair)
check "two replicas give two addresses ($(echo $pn))" \
	wait_for 10 rec_is pair "$(addrs_of $pn)"
check "node.HOSTNAME overrides the engine's address" \
	wait_for 10 rec_is mapped "10.231.0.11 10.231.0.13 192.0.2.22"
check "type = CNAME points at the node's name from its label ($n)" \
	wait_for 10 cname_is "$n.nodes.example.test"

# --- the watch set: events of services the config does not ask about ---
svc --name other "$SW_IMAGE" sleep 1000000
check "an event of a service not in the config wakes nothing" \
	wait_for 20 grep -q "event not watched: service create other" "$LOG"
check "... and no pass was asked for it" \
	eval '! grep -q "wake the core: service [a-z]* other" "$LOG"'
check "the watch set is the config's 4 distinct queries" grep -q "watching 4 queries" "$LOG"
dk 1 service rm other >/dev/null 2>&1

# --- TCP with mutual TLS (relative paths: against the config's folder) ---
tls_config() { # NAME CERT KEY
	cat >"$T/$1.ini" <<EOF
[dnsfollow]
owner_id = swtest
plugin_dir = $PLUGINS
[backend sw]
type = swarm
host = tcp://$SW_SUBNET.11:2376
tls_ca = tls/ca.pem
tls_cert = tls/$2
tls_key = tls/$3
[provider m]
type = mock
zones = example.test
state = $1.json
[record git.example.test]
provider = m
backend = sw
service = gogs
type = A
EOF
}
tls_config tls cert.pem key.pem
tls_config tlsbad bad-cert.pem bad-key.pem
$DF_WRAP "$DNSFOLLOW" -c "$T/tls.ini" --once 2>"$T/tls.err"
rc=$?
tls_ok() {
	[ "$rc" = 0 ] && [ "$(python3 "$TOP/tests/lib/mockstate.py" "$T/tls.json" \
		example.test git.example.test A)" = "$(host_addr "$n")" ]
}
check "tcp:// with mutual TLS resolves (exit $rc)" tls_ok
$DF_WRAP "$DNSFOLLOW" -c "$T/tlsbad.ini" --once 2>"$T/tlsbad.err"
rc=$?
check "a client certificate from another CA is refused (exit $rc)" \
	sh -c "[ $rc != 0 ] && [ ! -s '$T/tlsbad.json' ] && grep -q 'cannot reach the Docker engine' '$T/tlsbad.err'"

# --- drain: the task moves, the name follows ---
dk 1 node update --availability drain "$n" >/dev/null
wait_for 60 task_moved gogs "$n"
m=$(sw_task_node gogs)
check "after draining $n the record points at $m" \
	wait_for 10 rec_is git "$(host_addr "$m")"
check "named answers the new node's address (dig)" wait_for 10 dug "$(host_addr "$m")"
check "the CNAME follows the task to $m's name" wait_for 10 cname_is "$m.nodes.example.test"
check "ready-nodes lists exactly the nodes still active" \
	wait_for 10 rec_is all "$(addrs_of $(for i in 1 2 3; do [ "dfsw-n$i" != "$n" ] && echo "dfsw-n$i"; done))"
dk 1 node update --availability active "$n" >/dev/null

# --- a node label overrides the address ---
dk 1 node update --label-add dnsfollow.ipv4=198.51.100.7 "$m" >/dev/null
check "label dnsfollow.ipv4 overrides the address" wait_for 10 rec_is git 198.51.100.7
dk 1 node update --label-add dnsfollow.ipv6=2001:DB8:0::7 "$m" >/dev/null
rec6() { python3 "$TOP/tests/lib/mockstate.py" "$STATE" example.test git6.example.test AAAA; }
rec6_is() { [ "$(rec6)" = "$1" ]; }
check "label dnsfollow.ipv6 gives the AAAA record" wait_for 10 rec6_is 2001:db8::7
dk 1 node update --label-add dnsfollow.ipv4=not-an-ip "$m" >/dev/null
check "a bad label is reported" \
	wait_for 10 grep -q "label dnsfollow.ipv4 'not-an-ip' is not an IPv4 address" "$LOG"
check "... and the record keeps its value" rec_is git 198.51.100.7
dk 1 node update --label-rm dnsfollow.ipv4 "$m" >/dev/null
check "removing the label restores the node's address" \
	wait_for 10 rec_is git "$(host_addr "$m")"

# --- no running task: keep the last value ---
before=$(rec idle)
dk 1 service scale --detach idle=0 >/dev/null 2>&1
check "a service scaled to zero is seen running nowhere" \
	wait_for 20 grep -q "service idle runs nowhere" "$LOG"
check "... and its record keeps the last value ($before)" \
	eval '[ -n "$before" ] && [ "$(rec idle)" = "$before" ]'

# --- the node running the task dies ---
dk 1 node update --availability active "$n" >/dev/null
k=$(sw_task_node gogs)
sw_kill "${k#dfsw-n}"
wait_for 60 task_moved gogs "$k"
s=$(sw_task_node gogs)
check "after $k's dockerd is killed the record points at survivor $s" \
	wait_for 10 rec_is git "$(host_addr "$s")"
check "named answers the survivor's address (dig)" wait_for 10 dug "$(host_addr "$s")"

# --- the manager's dockerd restarts: the stream reconnects ---
sw_stop 1
sw_start 1 >/dev/null
check "event stream reconnects after the manager restarts" \
	wait_for 40 grep -q "event stream reconnected" "$LOG"
sw_wait 30 dk 1 node ls
sleep 4 # past the fast polling that follows a reconnect: events alone now
woke=$(grep -c "wake the core: node update" "$LOG")
dk 1 node update --label-add dnsfollow.ipv4=198.51.100.9 "$s" >/dev/null
check "events flow again after the reconnect" wait_for 10 rec_is git 198.51.100.9
check "... woken by the node event itself" \
	eval '[ "$(grep -c "wake the core: node update" "$LOG")" -gt "$woke" ]'

check "dnsfollow is still running" kill -0 "$DFPID"
sw_end "$DFPID"; rc=$SW_RC; DFPID=
check "dnsfollow stops cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]

# --- a worker's socket: must run on a manager ---
sed "s|unix://$(sw_sock 1)|unix://$(sw_sock "${s#dfsw-n}")|" "$T/df.ini" >"$T/worker.ini"
$DF_WRAP "$DNSFOLLOW" -c "$T/worker.ini" --once --dry-run >/dev/null 2>"$T/worker.err"
rc=$?
check "worker $s's socket fails, retried as a manager restarting would be (exit $rc)" [ "$rc" = 75 ]
check "... saying dnsfollow must talk to a manager" \
	grep -q "not a swarm manager (now): dnsfollow must talk to a manager" "$T/worker.err"

if [ "$_tap_fail" != 0 ]; then
	diag "dnsfollow log (tail):"
	tail -40 "$LOG" | sed 's/^/# /'
fi
tap_done
