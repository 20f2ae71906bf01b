#!/bin/sh
# Issue 8 item 12: when the Docker socket is not what it should be, one
# clear line names the socket and says what to check (curl alone said
# "Invalid argument" for a peer that is no HTTP server and "Connection
# refused" for a socket without permission). No dockerd needed: small
# python3 listeners on unix sockets stand in for the wrong peers.
. "$(dirname "$0")/../lib/tap.sh"

if ! command -v python3 >/dev/null; then
	ok "# SKIP needs python3"
	tap_done; exit 0
fi
T=$(mktemp -d /tmp/dfsock.XXXXXX)
chmod 755 "$T" # the unprivileged run below must reach its sockets
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# listen PATH MODE: garbage (a non-HTTP banner), close (hang up at once),
# stale (bound, never listening: a socket left behind).
cat >"$T/srv.py" <<'EOF'
import os, socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
if mode == "stale":
    time.sleep(120)
    sys.exit(0)
s.listen(8)
s.settimeout(1)
end = time.time() + 120  # bounded, whatever happens to the test
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    try:
        c.settimeout(2)
        c.recv(4096)
        if mode == "garbage":
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    except OSError:
        pass
    c.close()
EOF
listen() {
	python3 "$T/srv.py" "$T/$1.sock" "$2" &
	PIDS="$PIDS $!"
	wait_for 5 test -S "$T/$1.sock" || diag "listener $1 did not start"
}
listen garbage garbage
listen close close
listen stale stale
listen perm close
chmod 000 "$T/perm.sock"
: >"$T/plain"

config() { # NAME SOCKET
	cat >"$T/$1.ini" <<EOF
[dnsfollow]
owner_id = socktest
plugin_dir = $PLUGINS
retries = 1
[backend sw]
type = swarm
host = unix://$2
events = no
[provider m]
type = mock
zones = example.test
state = $T/state-$1/state.json
[record git.example.test]
provider = m
backend = sw
service = gogs
type = A
EOF
	mkdir -p "$T/state-$1"
	chmod 644 "$T/$1.ini"
}

# run NAME SOCKET [PREFIX...]: dnsfollow --once; exit status in RC, the
# error line in $T/NAME.err.
run() {
	_n=$1 _s=$2; shift 2
	config "$_n" "$_s"
	timeout 30 "$@" $DF_WRAP "$DNSFOLLOW" -c "$T/$_n.ini" --once 2>"$T/$_n.err"
	RC=$?
}
says() { # NAME TEXT
	grep -F -q -- "$2" "$T/$1.err" || { diag "$1 said:"; sed 's/^/#   /' "$T/$1.err"; return 1; }
}

run garbage "$T/garbage.sock"
check "a peer that is no HTTP server fails the pass permanently (exit $RC)" [ "$RC" = 1 ]
check "... one line naming the socket, saying it does not speak HTTP" \
	says garbage "the peer on $T/garbage.sock does not speak HTTP: is this the Docker engine's socket"
check "... not curl's bare 'Invalid argument'" sh -c "! grep -q 'Invalid argument' '$T/garbage.err'"

run close "$T/close.sock"
# A dockerd shutting down may hang up too: worth a retry.
check "a peer hanging up at once fails the pass temporarily (exit $RC)" [ "$RC" = 75 ]
check "... saying it closed without an HTTP answer" \
	says close "the peer on $T/close.sock closed the connection without an HTTP answer"

run stale "$T/stale.sock"
check "a socket nobody listens on: 'is dockerd running?'" \
	says stale "nothing listens on $T/stale.sock (a socket left behind?): is dockerd running?"

run missing "$T/missing.sock"
check "no socket at all: named, with what to check" \
	says missing "$T/missing.sock: No such file or directory: is dockerd running"

run plain "$T/plain"
check "a regular file is not a socket" says plain "$T/plain is not a socket"

# Permissions: root bypasses them, so this part runs as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	config perm "$T/perm.sock"
	chown nobody "$T/state-perm"
	run perm "$T/perm.sock" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
	check "a socket without permission fails permanently (exit $RC)" [ "$RC" = 1 ]
	check "... saying permission denied, the socket, its group and what to do" \
		says perm "permission denied on $T/perm.sock (mode 000, group root): run dnsfollow as a user in group root (or root)"
	check "... not curl's 'Connection refused'" sh -c "! grep -q 'Connection refused' '$T/perm.err'"
else
	ok "# SKIP the permission case needs root (to drop to nobody with setpriv): root itself bypasses socket permissions"
fi
tap_done
