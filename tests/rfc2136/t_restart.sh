#!/bin/sh
# Fault suite, rfc2136: the DNS server dies under a running daemon.
# named is killed (SIGKILL) while the daemon runs, the placement changes,
# named starts again on its zone files and journals: the daemon keeps
# retrying with temporary errors and backoff, converges after the restart,
# and nothing that was in the zone is lost. Then SIGTERM while the daemon
# waits on a server that never answers (timeout_ms 20 s): it exits within
# 3 s. Bounded: under 60 s in all.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init

PORT=15371 SILENT=15372
r2136_key ddns
chmod 600 "$W/ddns.key"
r2136_named $PORT ddns example.test || { not_ok "named starts"; tap_done; exit 1; }
NAMED_PID=${R2136_PIDS##* }
r2136_place gogs "192.0.2.10"
r2136_place web "192.0.2.20"
r2136_conf "$W/d.ini" $PORT "$W/ddns.key" example.test "timeout_ms = 300"
# Resyncs far apart: retries come from the backoff (capped at 2 s), and
# the placement change from the file watch.
sed -i 's/^interval = 1$/interval = 30\nbackoff_max = 2/' "$W/d.ini"
r2136_record "$W/d.ini" git.example.test gogs "type = A"
r2136_record "$W/d.ini" web.example.test web "type = A"
$DF_WRAP "$DNSFOLLOW" -c "$W/d.ini" 2>"$W/daemon.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
dig_is() { [ "$(r2136_dig $PORT "$1" A)" = "$2" ]; }
check "daemon converges with named up" wait_for 15 sh -c \
	"[ \"\$(dig +short @127.0.0.1 -p $PORT git.example.test A)\" = 192.0.2.10 ] &&
	 [ \"\$(dig +short @127.0.0.1 -p $PORT web.example.test A)\" = 192.0.2.20 ]"
SERIAL0=$(r2136_serial $PORT example.test)

# named dies; the placement moves while it is down.
kill -KILL "$NAMED_PID"
wait_for 5 sh -c "! kill -0 $NAMED_PID 2>/dev/null"
check "named is gone" sh -c "! kill -0 $NAMED_PID 2>/dev/null"
n0=$(grep -c "temporary" "$W/daemon.err")
r2136_place gogs "192.0.2.11"
sleep 5
check "daemon alive while named is down" kill -0 $DPID
n=$(( $(grep -c "temporary" "$W/daemon.err") - n0 ))
check "temporary failures logged while down ($n in 5 s)" [ "$n" -ge 2 ]
check "backoff: not a busy loop ($n failures in 5 s, cap 2 s)" [ "$n" -le 8 ]
check "no permanent failure while down" \
	sh -c "! grep -q 'failed: .*(permanent' '$W/daemon.err'"
grep "temporary" "$W/daemon.err" | tail -1 | sed 's/^/# /'

t0=$(date +%s)
r2136_named_restart $PORT || { not_ok "named starts again"; tap_done; exit 1; }
check "daemon converges after the restart" \
	wait_for 20 sh -c "[ \"\$(dig +short @127.0.0.1 -p $PORT git.example.test A)\" = 192.0.2.11 ]"
diag "converged $(( $(date +%s) - t0 )) s after named was started again"
check "the other record is still there" dig_is web.example.test 192.0.2.20
check "foreign records are still there" \
	[ "$(r2136_dig $PORT www.example.test A) $(r2136_dig $PORT foreign.example.test A)" = "198.51.100.7 198.51.100.8" ]
check "foreign TXT is still there" \
	[ "$(r2136_dig $PORT mail.example.test TXT)" = '"foreign text, not ours"' ]
check "both ownership markers are still there" \
	[ "$(r2136_dig $PORT _dnsfollow.git.example.test TXT | wc -w)" -ge 1 ] &&
	[ "$(r2136_dig $PORT _dnsfollow.web.example.test TXT | wc -w)" -ge 1 ]
check "the serial moved on (was $SERIAL0)" [ "$(r2136_serial $PORT example.test)" -gt "$SERIAL0" ]
kill -TERM $DPID
wait $DPID
check "daemon stops cleanly on SIGTERM" [ $? = 0 ]

# SIGTERM while a pass waits on a server that takes datagrams and never
# answers, with timeout_ms = 20000: out within 3 s, no UPDATE sent after.
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", '$SILENT')); time.sleep(50)' &
R2136_PIDS="$R2136_PIDS $!"
r2136_conf "$W/h.ini" $SILENT "$W/ddns.key" example.test "timeout_ms = 20000"
r2136_record "$W/h.ini" git.example.test gogs "type = A"
$DF_WRAP "$DNSFOLLOW" -c "$W/h.ini" 2>"$W/hung.err" &
DPID=$!
R2136_PIDS="$DPID $R2136_PIDS"
sleep 1.5
check "daemon waits on the silent server" kill -0 $DPID
t0=$(date +%s%N)
kill -TERM $DPID
wait_for 5 sh -c "! kill -0 $DPID 2>/dev/null"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM during a hung pass: exit within 3 s (took $ms ms)" [ "$ms" -le 3000 ]
# The core stops waiting for a zone after a grace period of its own; the
# provider must not need it: its waits end within a slice (200 ms).
check "the provider let go by itself, well within the core's grace ($ms ms <= 1000)" \
	[ "$ms" -le 1000 ]
wait $DPID
rc=$?
check "exit status 0 after SIGTERM (got $rc)" [ "$rc" = 0 ]
check "the wait was given up as the daemon stopped" grep -q "dnsfollow is stopping" "$W/hung.err"
check "no zone left in flight at exit" sh -c "! grep -q 'still in flight' '$W/hung.err'"
tap_done
