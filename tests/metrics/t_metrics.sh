#!/bin/sh
# /metrics, /healthz, /readyz and --healthcheck of running daemons (static
# backend; mock, and pdns against tests/pdns/fake_pdns.py), then a real
# Prometheus on loopback scraping them, asserted through Prometheus's own
# query API. Ports 15441-15449, loopback only.
. "$(dirname "$0")/../lib/tap.sh"

P_MAIN=15441   # daemon A (mock): its change counter is followed in Prometheus
P_SLOW=15442   # a daemon whose first pass is slow (mock latency_ms)
P_HTTP=15443   # daemon B: HTTP providers and a failing one
P_PROM=15444   # Prometheus' web/API
P_MOVED=15445  # B's listen after a reload (where nothing must listen)
P_V6=15446     # [::1] and :PORT listeners
P_DEAD=15448   # nothing listens here (B's unreachable provider)
T=$(mktemp -d /tmp/dfmet.XXXXXX)
PIDS=""
cleanup() {
	exec 8>&- 2>/dev/null # fake_pdns.py ends when its stdin closes
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
MS="python3 $TOP/tests/lib/mockstate.py"

# An HTTP client in python3 (curl is not among the test packages;
# http.client uses no proxy):  webget.py METHOD PORT PATH code|type|body
cat >"$T/webget.py" <<'EOF'
import http.client, sys
method, port, path, what = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, body="x=1" if method == "POST" else None)
    r = c.getresponse()
    body = r.read()
except Exception:
    if what == "code":
        print("000")
    sys.exit(0 if what == "code" else 1)
if what == "code":
    print(r.status)
elif what == "type":
    print(r.getheader("Content-Type"))
else:
    sys.stdout.write(body.decode())
EOF
code() { python3 "$T/webget.py" "${3:-GET}" "$1" "$2" code; } # PORT PATH [METHOD]
is_code() { [ "$(code "$2" "$3" "${4:-GET}")" = "$1" ]; }   # WANT PORT PATH [METHOD]
scrape() { python3 "$T/webget.py" GET "$1" /metrics body; }   # PORT
# The value of one series (exactly as rendered) in /metrics on PORT.
metric() { scrape "$1" | awk -v s="$2" 'index($0, s " ") == 1 { print $NF }'; }
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
# The value of the one series matching ERE (whole line before the value).
metric_re() { scrape "$1" | RE="^$2 " awk '$0 ~ ENVIRON["RE"] { print $NF }'; }
# The plugin label of a series, whatever it is called (see the
# Prometheus part: `instance` clashes with Prometheus's own).
PL='[a-z_]+'

# lacks PORT ERE: /metrics answers (build_info in it) without ERE.
lacks() {
	scrape "$1" >"$T/lacks" || return 1
	grep -q '^dnsfollow_build_info' "$T/lacks" && ! grep -qE -- "$2" "$T/lacks"
}
metric_ge() { _v=$(metric "$1" "$2"); [ -n "$_v" ] && awk -v v="$_v" -v m="$3" 'BEGIN { exit !(v >= m) }'; }
metric_re_ge() { _v=$(metric_re "$1" "$2"); [ -n "$_v" ] && awk -v v="$_v" -v m="$3" 'BEGIN { exit !(v >= m) }'; }

for p in $P_MAIN $P_SLOW $P_HTTP $P_PROM $P_MOVED $P_V6 $P_DEAD; do
	if ss -Hltn "sport = :$p" | grep -q .; then
		diag "port $p is busy: another run of this test? Stop it first."
		not_ok "port $p free"; tap_done; exit 1
	fi
done

# config DIR PORT [mock keys]: a daemon's folder with its INI.
config() {
	mkdir -p "$1"
	cat >"$1/df.ini" <<EOF
[dnsfollow]
owner_id    = met
plugin_dir  = $PLUGINS
interval    = 300
debounce_ms = 100
listen      = 127.0.0.1:$2

[backend lab]
type = static
file = placements.ini

[provider m]
type  = mock
zones = example.test
state = state.json
${3:-}

[record git.example.test]
provider = m
backend  = lab
service  = gogs
type     = A, AAAA
ttl      = 60
EOF
	placements "$1" 192.0.2.10 2001:db8::10
}
# placements DIR ADDR...: rewritten atomically, as the static README asks.
placements() {
	_d=$1; shift
	printf '[gogs]\naddresses = %s\n' "$(echo "$*" | sed 's/ /, /g')" >"$_d/placements.new"
	mv "$_d/placements.new" "$_d/placements.ini"
}
# start DIR: the daemon in the background; its pid in $DPID.
start() {
	$DF_WRAP "$DNSFOLLOW" -c "$1/df.ini" >"$1/log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
}
# PID has exited (a zombie not yet waited for counts as gone).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; }
# stop PID: SIGTERM, then its exit status (bounded: 10 s, then KILL).
stop() {
	kill "$1" 2>/dev/null
	_n=100
	while ! gone "$1" && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	gone "$1" || kill -KILL "$1"
	_p=""; for _q in $PIDS; do [ "$_q" = "$1" ] || _p="$_p $_q"; done; PIDS=$_p
	wait "$1"
}
# Sum of the daemon's own "N change(s)" log lines.
logged_changes() { sed -n 's/.*; \([0-9][0-9]*\) change(s).*/\1/p' "$1/log" | awk '{s += $1} END {print s + 0}'; }
one_line() { [ "$(wc -l <"$1")" = 1 ] && grep -q -- "$2" "$1"; } # FILE PATTERN

# --- bad listen values: refused by --check-config with FILE:LINE, exit 78 --
config "$T/bad" 1
for v in localhost:9109 127.0.0.1:0 127.0.0.1:65536 127.0.0.1 '[::1:9109'; do
	sed -i "s/^listen .*/listen      = $v/" "$T/bad/df.ini"
	"$DNSFOLLOW" -c "$T/bad/df.ini" --check-config >"$T/bad/out" 2>"$T/bad/err"; rc=$?
	check "listen = $v: --check-config exits 78 (got $rc)" [ "$rc" = 78 ]
	check "listen = $v: one line naming FILE:6" one_line "$T/bad/err" "^$T/bad/df.ini:6: listen"
done
sed 's/^/#   /' "$T/bad/err"
sed -i "s/^listen .*/listen      = 127.0.0.1:9109/" "$T/bad/df.ini"
"$DNSFOLLOW" -c "$T/bad/df.ini" --check-config >/dev/null 2>&1
check "listen = 127.0.0.1:9109 passes --check-config" [ $? = 0 ]

# --- readiness waits for the first pass (slow provider) --------------------
config "$T/slow" $P_SLOW "latency_ms = 1500"
start "$T/slow"; SLOW=$DPID
wait_for 10 is_code 200 $P_SLOW /healthz
check "slow first pass: /healthz 200 while it runs" is_code 200 $P_SLOW /healthz
check "slow first pass: /readyz 503 before it is done" is_code 503 $P_SLOW /readyz
wait_for 20 is_code 200 $P_SLOW /readyz
check "slow first pass: /readyz 200 once done" is_code 200 $P_SLOW /readyz
check "slow first pass: the records were written" \
	[ "$($MS "$T/slow/state.json" example.test git.example.test A)" = 192.0.2.10 ]
# The mock sleeps 1.5 s in its read and again in its apply.
check "pass duration counts the provider's time (sum >= 3)" \
	metric_ge $P_SLOW dnsfollow_pass_duration_seconds_sum 3
stop "$SLOW"; rc=$?
check "slow first pass: exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]

# --- [::1]:PORT and :PORT, asked by --healthcheck -------------------------------
hc_ok() { "$DNSFOLLOW" --healthcheck -c "$1" >/dev/null 2>&1; }
for l in "[::1]:$P_V6" ":$P_V6"; do
	config "$T/v6" $P_V6
	sed -i "s/^listen .*/listen      = $l/" "$T/v6/df.ini"
	if [ "$l" = "[::1]:$P_V6" ] && ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
		ok "# SKIP no IPv6 loopback"; continue
	fi
	start "$T/v6"; V6=$DPID
	wait_for 10 hc_ok "$T/v6/df.ini"
	check "listen = $l: --healthcheck reaches it" hc_ok "$T/v6/df.ini"
	stop "$V6" >/dev/null
	rm -rf "$T/v6"
done

# --- daemon A, which Prometheus will scrape ----------------------------------
config "$T/d" $P_MAIN
# A time stamp in the future makes the static backend wait >= 200 ms for
# the file to settle: each resolution takes that long.
touch -d '+1 hour' "$T/d/placements.ini"
start "$T/d"; D=$DPID
wait_for 10 is_code 200 $P_MAIN /healthz
check "/healthz 200" is_code 200 $P_MAIN /healthz
wait_for 10 is_code 200 $P_MAIN /readyz
check "/readyz 200 after the first pass" is_code 200 $P_MAIN /readyz
SET='dnsfollow_changes_total{provider="m",zone="example.test",op="set"}'
# A, AAAA and the ownership TXT marker: three RRsets set.
wait_for 10 metric_is $P_MAIN "$SET" 3
scrape $P_MAIN >"$T/m1"
check "changes_total op=set is 3 after the first pass (A, AAAA, marker)" metric_is $P_MAIN "$SET" 3
check "changes_total agrees with the daemon's log ($(logged_changes "$T/d"))" [ "$(logged_changes "$T/d")" = 3 ]
check "the mock holds what was counted (one write)" [ "$($MS "$T/d/state.json" example.test --serial)" = 1 ]
ver=$("$DNSFOLLOW" --version | awk '{print $2}')
check "build_info names version $ver" grep -q "^dnsfollow_build_info{version=\"$ver\",abi=\"[0-9]*\"} 1\$" "$T/m1"
check "records_managed is 1" grep -qx 'dnsfollow_records_managed 1' "$T/m1"
check "zone_failing is 0" grep -qx 'dnsfollow_zone_failing{provider="m",zone="example.test"} 0' "$T/m1"
check "passes_total counted" grep -qE '^dnsfollow_passes_total [1-9]' "$T/m1"
check "promtool check metrics accepts /metrics" sh -c "promtool check metrics <'$T/m1' >'$T/lint' 2>&1"
sed 's/^/#   /' "$T/lint"
check "pass duration counts the backend's resolution too (sum >= 0.2)" \
	metric_ge $P_MAIN dnsfollow_pass_duration_seconds_sum 0.2
grep '^dnsfollow_pass_duration_seconds_sum' "$T/m1" | sed 's/^/#   /'
ctype=$(python3 "$T/webget.py" GET $P_MAIN /metrics type)
check "/metrics is text/plain version 0.0.4 ($ctype)" sh -c "echo '$ctype' | grep -q '^text/plain; version=0.0.4'"
check "unknown path: 404" is_code 404 $P_MAIN /nope
check "POST /metrics: 405" is_code 405 $P_MAIN /metrics POST
check "HEAD /healthz: 200" is_code 200 $P_MAIN /healthz HEAD
"$DNSFOLLOW" --healthcheck -c "$T/d/df.ini" >"$T/hc.out" 2>"$T/hc.err"; rc=$?
check "--healthcheck exits 0 while it runs (got $rc)" [ "$rc" = 0 ]
check "--healthcheck says nothing when healthy" sh -c "[ ! -s '$T/hc.err' ] && [ ! -s '$T/hc.out' ]"
http_proxy=http://127.0.0.1:$P_DEAD HTTP_PROXY=http://127.0.0.1:$P_DEAD ALL_PROXY=http://127.0.0.1:$P_DEAD \
	"$DNSFOLLOW" --healthcheck -c "$T/d/df.ini" >/dev/null 2>&1; rc=$?
check "--healthcheck ignores proxy variables (got $rc)" [ "$rc" = 0 ]

# --- a port already in use ---------------------------------------------------
config "$T/busy" $P_MAIN
timeout 10 "$DNSFOLLOW" -c "$T/busy/df.ini" >"$T/busy/out" 2>"$T/busy/err"; rc=$?
check "port in use: exits 1 (got $rc)" [ "$rc" = 1 ]
check "port in use: one line naming the address" one_line "$T/busy/err" "127.0.0.1:$P_MAIN"
sed 's/^/#   /' "$T/busy/err"
check "port in use: nothing written" [ ! -e "$T/busy/state.json" ]

# --- daemon B: HTTP calls by status class, errors, a failing zone -------------
mkdir -p "$T/b/fake"
mkfifo "$T/b/fake/stdin"
python3 "$TOP/tests/pdns/fake_pdns.py" "$T/b/fake" <"$T/b/fake/stdin" >"$T/b/fake/out" 2>&1 &
PIDS="$PIDS $!"
exec 8>"$T/b/fake/stdin"
wait_for 10 grep -q READY "$T/b/fake/out"
FAKE=$(awk '/READY/ {print $2}' "$T/b/fake/out")
cat >"$T/b/df.ini" <<EOF
[dnsfollow]
owner_id    = met
plugin_dir  = $PLUGINS
interval    = 300
debounce_ms = 100
listen      = 127.0.0.1:$P_HTTP

[backend lab]
type = static
file = placements.ini

[provider p]
type    = pdns
zones   = example.test
url     = http://127.0.0.1:$FAKE
api_key = test-key

[provider dead]
type    = pdns
zones   = dead.test
url     = http://127.0.0.1:$P_DEAD
api_key = test-key
timeout = 2s

[provider flaky]
type       = mock
zones      = other.test
state      = flaky.json
fail_every = 1

[record git.example.test]
provider = p
backend  = lab
service  = gogs
type     = A

[record git.dead.test]
provider = dead
backend  = lab
service  = gogs
type     = A

[record git.other.test]
provider = flaky
backend  = lab
service  = gogs
type     = A

[record ghost.other.test]
provider = flaky
backend  = lab
service  = ghost
type     = A
EOF
placements "$T/b" 192.0.2.10
start "$T/b"; B_PID=$DPID
wait_for 10 is_code 200 $P_HTTP /healthz || { diag "daemon B did not start:"; sed "s/^/#   /" "$T/b/log"; }
check "daemon B runs" is_code 200 $P_HTTP /healthz
wait_for 10 is_code 200 $P_HTTP /readyz
H2="dnsfollow_http_requests_total\\{$PL=\"provider p\",class=\"2xx\"\\}"
# Every request the fake PowerDNS logged was counted, once, as 2xx.
fake_requests() { grep -c . "$T/b/fake/requests.log" 2>/dev/null || echo 0; }
same_count() { n=$(fake_requests); [ "$n" -gt 0 ] && [ "$(metric_re $P_HTTP "$H2")" = "$n" ]; }
wait_for 10 same_count
check "http_requests_total 2xx == requests the server saw ($(fake_requests))" same_count
scrape $P_HTTP | grep '^dnsfollow_http_requests_total' | sed 's/^/#   /'
HERR="dnsfollow_http_requests_total\\{$PL=\"provider dead\",class=\"error\"\\}"
wait_for 10 metric_re_ge $P_HTTP "$HERR" 1
check "http_requests_total class=error for a refused connection" metric_re_ge $P_HTTP "$HERR" 1
check "no 2xx counted for the provider nothing answers" \
	lacks $P_HTTP '="provider dead",class="2xx"'
EFL="dnsfollow_errors_total\\{$PL=\"provider flaky\",class=\"temporary\"\\}"
wait_for 10 metric_re_ge $P_HTTP "$EFL" 1
check "errors_total counts the failing provider (temporary)" metric_re_ge $P_HTTP "$EFL" 1
EGH="dnsfollow_errors_total\\{$PL=\"backend lab\",class=\"permanent\"\\}"
check "errors_total counts the backend's failed resolution (service without a section)" \
	metric_re_ge $P_HTTP "$EGH" 1
check "zone_failing is 1 for the failing zone" \
	metric_is $P_HTTP 'dnsfollow_zone_failing{provider="flaky",zone="other.test"}' 1
check "no last_success time for a zone that never converged" \
	lacks $P_HTTP '^dnsfollow_last_success_timestamp_seconds\{provider="flaky"'
check "the converged zone has its last_success time" \
	metric_ge $P_HTTP 'dnsfollow_last_success_timestamp_seconds{provider="p",zone="example.test"}' "$(($(date +%s) - 60))"

# --- a real Prometheus --------------------------------------------------------
PROM=$(command -v prometheus)
NPROM=9
if [ -z "$PROM" ]; then
	i=0; while [ $i -lt $NPROM ]; do ok "# SKIP prometheus not installed"; i=$((i + 1)); done
else
	mkdir -p "$T/prom/data"
	cat >"$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dnsfollow
    static_configs:
      - targets: ['127.0.0.1:$P_MAIN']
  - job_name: dnsfollow-http
    static_configs:
      - targets: ['127.0.0.1:$P_HTTP']
EOF
	"$PROM" --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
		--web.listen-address=127.0.0.1:$P_PROM --log.level=warn >"$T/prom/log" 2>&1 &
	PP=$!; PIDS="$PIDS $PP"
	t0=$(date +%s)
	wait_for 30 is_code 200 $P_PROM /-/ready
	check "Prometheus ready in $(( $(date +%s) - t0 )) s" is_code 200 $P_PROM /-/ready
	# q EXPR [LABEL|--labels]: the first result's value (or its LABEL;
	# --labels: every result's labels, one "k=v" a line); "" if none.
	q() {
		python3 - "http://127.0.0.1:$P_PROM/api/v1/query" "$@" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    res = json.load(opener.open(url, timeout=5))["data"]["result"]
except Exception as e:
    print("error: %s" % e)
    sys.exit(0)
if res and len(sys.argv) > 3 and sys.argv[3] == "--labels":
    for r in res:
        for k, v in sorted(r["metric"].items()):
            print("%s=%s" % (k, v))
elif res:
    print(res[0]["metric"].get(sys.argv[3], "") if len(sys.argv) > 3 else res[0]["value"][1])
EOF
	}
	q_is() { [ "$(q "$1")" = "$2" ]; }
	SUM='sum(dnsfollow_changes_total{job="dnsfollow"})'
	wait_for 15 q_is 'up{job="dnsfollow"}' 1
	check "Prometheus: up{job=\"dnsfollow\"} == 1 (got $(q 'up{job="dnsfollow"}'))" q_is 'up{job="dnsfollow"}' 1
	wait_for 10 q_is 'up{job="dnsfollow-http"}' 1
	check "Prometheus: up{job=\"dnsfollow-http\"} == 1" q_is 'up{job="dnsfollow-http"}' 1
	wait_for 10 q_is "$SUM" 3
	check "Prometheus: sum(dnsfollow_changes_total) == 3, the daemon's changes (got $(q "$SUM"))" q_is "$SUM" 3
	check "Prometheus: the pass duration histogram's +Inf bucket equals its _count" \
		q_is 'dnsfollow_pass_duration_seconds_bucket{job="dnsfollow",le="+Inf"} == on() dnsfollow_pass_duration_seconds_count{job="dnsfollow"}' 1
	# The service moves: exactly one change (A), seen by Prometheus.
	placements "$T/d" 192.0.2.11 2001:db8::10
	t0=$(date +%s)
	wait_for 10 q_is "$SUM" 4
	check "Prometheus: the counter grows to 4 after a move (in $(( $(date +%s) - t0 )) s)" q_is "$SUM" 4
	check "the move was one change, A set" \
		sh -c "[ '$(logged_changes "$T/d")' = 4 ] && [ \"\$($MS '$T/d/state.json' example.test git.example.test A)\" = 192.0.2.11 ]"
	# Prometheus owns the `instance` label (the scrape target): an
	# exposed `instance` is renamed exported_instance, and a query by
	# instance then means the target, not the plugin. Whatever the label
	# is called, the plugin's name must reach Prometheus under its own
	# name.
	q_some() { [ -n "$(q "$1")" ]; }
	for fam in errors_total http_requests_total; do
		e="dnsfollow_$fam{job=\"dnsfollow-http\"}"
		wait_for 5 q_some "$e"
		q "$e" --labels >"$T/labels"
		check "Prometheus: $fam keeps its plugin label (no exported_instance)" \
			sh -c "grep -q . '$T/labels' && ! grep -q '^exported_' '$T/labels' && grep -Eq '^[a-z_]+=(provider )?(flaky|p|dead)\$' '$T/labels'"
		sort -u "$T/labels" | grep -v '^job=' | tr '\n' ' ' | sed 's/^/#   labels: /; s/$/\n/'
	done
	grep -v 'level=info' "$T/prom/log" | head -5 | sed 's/^/#   prometheus: /'
fi
check "backend_events_total counted the file's change" \
	sh -c "python3 '$T/webget.py' GET $P_MAIN /metrics body | grep -qE '^dnsfollow_backend_events_total\{backend=\"lab\"\} [1-9]'"

# --- daemon B reloaded without the failing zone --------------------------------
# A zone no longer managed must not stay "failing": an alert on
# dnsfollow_zone_failing == 1 would fire until the next restart.
# The listen value changes too: documented to need a restart
# (dnsfollow.ini(5)), so the old listener must stay.
awk '/^\[provider flaky\]/ || /^\[record [a-z]*\.other\.test\]/ {skip = 1; next} /^\[/ {skip = 0} !skip' \
	"$T/b/df.ini" | sed "s/^listen .*/listen      = 127.0.0.1:$P_MOVED/" >"$T/b/df.new" &&
	mv "$T/b/df.new" "$T/b/df.ini"
kill -HUP "$B_PID"
wait_for 10 grep -q 'configuration reloaded' "$T/b/log"
check "B: SIGHUP reload accepted" grep -q 'configuration reloaded' "$T/b/log"
check "B: /readyz stays 200 across the reload" is_code 200 $P_HTTP /readyz
check "B: a reload does not move the listener (documented)" is_code 000 $P_MOVED /healthz
GONE='^dnsfollow_zone_failing\{provider="flaky",zone="other.test"\} 1'
wait_for 5 lacks $P_HTTP "$GONE"
check "B: a zone removed by a reload is no longer reported failing" lacks $P_HTTP "$GONE"
check "B: counters outlive the reload" metric_re_ge $P_HTTP "$H2" 1
stop "$B_PID"; rc=$?
check "B: exits 0 on SIGTERM after its reload (got $rc)" [ "$rc" = 0 ]

# --- after it stopped ---------------------------------------------------------
stop "$D"; rc=$?
check "SIGTERM: daemon A exits 0 (got $rc)" [ "$rc" = 0 ]
check "/healthz no longer answers" is_code 000 $P_MAIN /healthz
"$DNSFOLLOW" --healthcheck -c "$T/d/df.ini" >"$T/hc.out" 2>"$T/hc.err"; rc=$?
check "--healthcheck exits 1 once it stopped (got $rc)" [ "$rc" = 1 ]
check "--healthcheck says why in one line" one_line "$T/hc.err" "127.0.0.1:$P_MAIN"
sed 's/^/#   /' "$T/hc.err"
sed -i '/^listen/d' "$T/d/df.ini"
"$DNSFOLLOW" --healthcheck -c "$T/d/df.ini" >/dev/null 2>"$T/hc.err"; rc=$?
check "--healthcheck without listen: exit 1 (got $rc)" [ "$rc" = 1 ]
check "--healthcheck without listen: one line saying so" one_line "$T/hc.err" listen
tap_done
