#!/bin/sh
# sd_notify(3) as systemd's Type=notify sees it: a unix datagram listener
# as $NOTIFY_SOCKET (a path, then an abstract '@' name) records what the
# daemon sends: READY=1 at start, WATCHDOG=1 every half of
# $WATCHDOG_USEC, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on
# SIGTERM.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfnot.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
MS="python3 $TOP/tests/lib/mockstate.py"

# The listener: one line per datagram ("MONOTONIC TEXT", newlines in the
# datagram shown as '|'), "BOUND" once it listens; it ends by itself
# after 120 s at most.
cat >"$T/listen.py" <<'EOF'
import socket, sys, time
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(0.2)
f = open(out, "a", buffering=1)
f.write("BOUND\n")
end = time.monotonic() + 120
while time.monotonic() < end:
    try:
        d = s.recv(4096)
    except socket.timeout:
        continue
    f.write("%.3f %s\n" % (time.monotonic(), d.decode(errors="replace").replace("\n", "|")))
EOF

# config DIR: static backend, mock provider, one record.
config() {
	mkdir -p "$1"
	cat >"$1/df.ini" <<EOF
[dnsfollow]
owner_id    = notify
plugin_dir  = $PLUGINS
interval    = 300
debounce_ms = 100

[backend lab]
type = static
file = placements.ini

[provider m]
type  = mock
zones = example.test
state = state.json

[record git.example.test]
provider = m
backend  = lab
service  = gogs
type     = A
ttl      = 60
EOF
	printf '[gogs]\naddresses = 192.0.2.10\n' >"$1/placements.ini"
}
# listener ADDR FILE: started; its pid in $LPID.
listener() {
	python3 "$T/listen.py" "$1" "$2" &
	LPID=$!
	PIDS="$PIDS $LPID"
	wait_for 5 grep -qs BOUND "$2"
}
# count FILE TEXT: datagrams that hold the line TEXT.
cat >"$T/count.awk" <<'EOF'
{ n = split($2, a, "|"); for (i = 1; i <= n; i++) if (a[i] == t) { c++; break } }
END { print c + 0 }
EOF
count() { awk -v t="$2" -f "$T/count.awk" "$1"; }
has() { [ "$(count "$1" "$2")" -ge "${3:-1}" ]; }
# after FILE FIRST THEN: a datagram with THEN comes after one with FIRST.
after() {
	awk -v a="$2" -v b="$3" '
		{ n = split($2, f, "|"); for (i = 1; i <= n; i++) { if (f[i] == a) seen = 1; else if (f[i] == b && seen) ok = 1 } }
		END { exit !ok }' "$1"
}
# PID has exited (a zombie not yet waited for counts as gone).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
forget() { _p=""; for _q in $PIDS; do [ "$_q" = "$1" ] || _p="$_p $_q"; done; PIDS=$_p; }

# run_case NAME ADDR: the whole protocol over one socket.
run_case() {
	name=$1 addr=$2 d="$T/$1" out="$T/$1.dgrams"
	config "$d"
	listener "$addr" "$out"
	NOTIFY_SOCKET=$addr WATCHDOG_USEC=1000000 $DF_WRAP "$DNSFOLLOW" -c "$d/df.ini" >"$d/log" 2>&1 &
	dpid=$!; PIDS="$PIDS $dpid"
	wait_for 10 has "$out" READY=1
	check "$name: READY=1 at start" has "$out" READY=1
	check "$name: STATUS= beside it" grep -q 'READY=1|STATUS=' "$out"
	w0=$(count "$out" WATCHDOG=1)
	sleep 3
	w=$(( $(count "$out" WATCHDOG=1) - w0 ))
	check "$name: WATCHDOG=1 at least twice in 3 s (got $w)" [ "$w" -ge 2 ]
	check "$name: WATCHDOG=1 not in a busy loop (got $w in 3 s, want about 6)" [ "$w" -le 12 ]
	wait_for 5 sh -c "[ -s '$d/state.json' ]"
	check "$name: the daemon did its work" [ "$($MS "$d/state.json" example.test git.example.test A)" = 192.0.2.10 ]
	check "$name: no RELOADING=1 before a SIGHUP" [ "$(count "$out" RELOADING=1)" = 0 ]
	kill -HUP "$dpid"
	wait_for 10 after "$out" RELOADING=1 READY=1
	check "$name: SIGHUP gives RELOADING=1 then READY=1" after "$out" RELOADING=1 READY=1
	check "$name: READY=1 twice in all (start, reload)" [ "$(count "$out" READY=1)" = 2 ]
	# A reload that fails keeps the running configuration: systemd must
	# still hear READY=1, or the unit stays "reloading".
	echo 'interval = often' >>"$d/df.ini"
	kill -HUP "$dpid"
	wait_for 10 has "$out" READY=1 3
	check "$name: a rejected reload still ends with READY=1" \
		sh -c "[ \$(awk -v t=RELOADING=1 -f '$T/count.awk' '$out') = 2 ] && [ \$(awk -v t=READY=1 -f '$T/count.awk' '$out') = 3 ]"
	check "$name: ... it was rejected, and the daemon keeps running" \
		sh -c "grep -q 'reload of .* failed' '$d/log' && kill -0 $dpid"
	check "$name: no STOPPING=1 before SIGTERM" [ "$(count "$out" STOPPING=1)" = 0 ]
	kill -TERM "$dpid"
	wait_for 10 has "$out" STOPPING=1
	check "$name: SIGTERM gives STOPPING=1" has "$out" STOPPING=1
	wait_for 10 gone "$dpid"
	wait "$dpid"; rc=$?
	forget "$dpid"
	check "$name: the daemon exits 0 (got $rc)" [ "$rc" = 0 ]
	check "$name: STOPPING=1 is the last word" sh -c "tail -n 1 '$out' | grep -q 'STOPPING=1'"
	diag "$name: $(grep -c . "$out") datagrams: $(awk 'NR > 1 {print $2}' "$out" | sort | uniq -c | tr -s ' \n' ' ')"
	kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; forget "$LPID"
}

run_case path "$T/notify.sock"
run_case abstract "@dnsfollow-test-$$"

# WATCHDOG_PID names another process: the watchdog is not ours to feed.
config "$T/other"
listener "$T/other.sock" "$T/other.dgrams"
NOTIFY_SOCKET="$T/other.sock" WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
	$DF_WRAP "$DNSFOLLOW" -c "$T/other/df.ini" >"$T/other/log" 2>&1 &
dpid=$!; PIDS="$PIDS $dpid"
wait_for 10 has "$T/other.dgrams" READY=1
sleep 1
check "WATCHDOG_PID of another process: READY=1 but no WATCHDOG=1" \
	sh -c "grep -q READY=1 '$T/other.dgrams' && ! grep -q WATCHDOG=1 '$T/other.dgrams'"
kill -TERM "$dpid"; wait_for 10 gone "$dpid"; wait "$dpid"; forget "$dpid"

# Nobody listens on $NOTIFY_SOCKET: the daemon runs all the same.
config "$T/deaf"
NOTIFY_SOCKET="$T/nobody.sock" WATCHDOG_USEC=1000000 \
	$DF_WRAP "$DNSFOLLOW" -c "$T/deaf/df.ini" >"$T/deaf/log" 2>&1 &
dpid=$!; PIDS="$PIDS $dpid"
wait_for 10 sh -c "[ -s '$T/deaf/state.json' ]"
check "no listener on NOTIFY_SOCKET: the daemon still syncs" \
	[ "$($MS "$T/deaf/state.json" example.test git.example.test A)" = 192.0.2.10 ]
kill -TERM "$dpid"; wait_for 10 gone "$dpid"; wait "$dpid"; rc=$?; forget "$dpid"
check "no listener on NOTIFY_SOCKET: exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]
tap_done
