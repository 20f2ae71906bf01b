# Helpers for t_labels.sh (sourced after tap.sh, lib.sh and
# tests/rfc2136/lib.sh): what each provider holds, timing, the sampler
# that watches names during restarts, log counting and the configs.
# Everything lives under $W (removed by r2136_cleanup).

LP=15391                      # named for this test (labels.md: 15391-15399)
OWN=heritage=dnsfollow,owner=lbltest
ZONE=lab.example.test
GRACE=2                       # orphan_grace in the test configs (s)
SAMPLER_PID=

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- what the providers hold -------------------------------------------
# "dns" is named (dig), any other word P is the mock state $W/P.json.
rr_of() { # P NAME TYPE
	if [ "$1" = dns ]; then
		r2136_dig $LP "$2" "$3" | tr -d '"'
	else
		python3 "$TOP/tests/lib/mockstate.py" "$W/$1.json" $ZONE "$2" "$3"
	fi
}
# The name has an A RRset (equal to VALUE when given) and our marker.
has() { # P NAME [VALUE]
	_ha=$(rr_of "$1" "$2" A); _ht=$(rr_of "$1" "_dnsfollow.$2" TXT)
	[ -n "$_ha" ] && [ "$_ht" = "$OWN" ] && { [ -z "${3:-}" ] || [ "$_ha" = "$3" ]; }
}
# Neither the A RRset nor the marker: deleted together.
gone() { # P NAME
	[ -z "$(rr_of "$1" "$2" A)" ] && [ -z "$(rr_of "$1" "_dnsfollow.$2" TXT)" ]
}
dns_ttl() { # NAME
	dig +time=2 +tries=3 @127.0.0.1 -p $LP "$1" A +noall +answer | awk '{print $2; exit}'
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
# sleep_until MS: sleep until the clock reads MS (no-op when past).
sleep_until() {
	_su=$(( $1 - $(now_ms) ))
	[ "$_su" -gt 0 ] && sleep "$(( _su / 1000 )).$(printf %03d $(( _su % 1000 )))"
	return 0
}
# True when $1 is a number between $2 and $3.
within() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# --- services ------------------------------------------------------------
# Every labelled task runs on the worker n2: a manager restart never moves
# it, so a name's value must not change while n1 restarts.
lsvc() { # NAME [docker service create options...]
	_ln=$1; shift
	dk 1 service create --detach --name "$_ln" --stop-grace-period 1s \
		--constraint node.role==worker "$@" "$SW_IMAGE" sleep 1000000 >/dev/null 2>&1
}
svc_id() { dk 1 service inspect -f '{{.ID}}' "$1" 2>/dev/null; }
# Every named service has its one replica running.
running() { # NAME...
	_rl=$(dk 1 service ls --format '{{.Name}} {{.Replicas}}' 2>/dev/null) || return 1
	for _rn in "$@"; do
		echo "$_rl" | grep -qx "$_rn 1/1" || return 1
	done
}
# SERVICE has a task that is desired and currently running.
task_running() {
	dk 1 service ps "$1" --filter desired-state=running \
		--format '{{.CurrentState}}' 2>/dev/null | grep -q '^Running'
}
# No task of any service on its way up or down: each desired-running task
# runs, and none meant to stop still runs. After a manager restart Swarm
# may replace every task of a worker it saw "unknown" for a while.
swarm_settled() {
	_ss=$(dk 1 service ls -q 2>/dev/null) || return 1
	[ -n "$_ss" ] || return 0
	# shellcheck disable=SC2086 # one argument per service
	dk 1 service ps $_ss --format '{{.DesiredState}} {{.CurrentState}}' 2>/dev/null |
		awk '$1 == "Running" && $2 != "Running" { bad = 1 }
		     $1 != "Running" && $2 == "Running" { bad = 1 }
		     END { exit bad }'
}
# Nanosecond time the container of SERVICE started on node I (Docker's
# own event, the earliest moment "its task runs" can mean), since S (s).
started_ns() { # I SERVICE SINCE
	dk "$1" events --since "$3" --until "$(date +%s.%N)" --filter type=container \
		--filter event=start --filter "label=com.docker.swarm.service.name=$2" \
		--format '{{.TimeNano}}' 2>/dev/null | head -1
}

# --- the sampler: names that must never disappear (case d) ---------------
# Checks each "P:NAME" of $WATCH about twice a second, records any miss
# (seen twice in a row, 100 ms apart, so one lost UDP answer is not a
# miss) in $W/miss, counts rounds in $W/rounds and sends SIGUSR1 to the
# daemon in $W/df.pid every other round, so passes run through the
# dangerous moments (manager down, coming back, dnsfollow starting).
sampler() {
	_sn=0
	while [ ! -f "$W/sampler.stop" ] && [ "$_sn" -lt 600 ]; do
		for _sp in $WATCH; do
			has "${_sp%%:*}" "${_sp#*:}" && continue
			sleep 0.1
			has "${_sp%%:*}" "${_sp#*:}" ||
				echo "$(date +%T.%N) $_sp A='$(rr_of "${_sp%%:*}" "${_sp#*:}" A)'" >>"$W/miss"
		done
		_sn=$((_sn + 1)); echo "$_sn" >"$W/rounds"
		[ $((_sn % 2)) = 0 ] && kill -USR1 "$(cat "$W/df.pid" 2>/dev/null)" 2>/dev/null
		sleep 0.2
	done
}
sampler_start() {
	rm -f "$W/sampler.stop" "$W/miss" "$W/rounds"
	sampler &
	SAMPLER_PID=$!
}
sampler_stop() {
	[ -n "$SAMPLER_PID" ] || return 0
	touch "$W/sampler.stop"
	timeout 20 tail --pid="$SAMPLER_PID" -f /dev/null 2>/dev/null || kill -9 "$SAMPLER_PID" 2>/dev/null
	wait "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=
}

# --- post-mortem aid (LBL_KEEP set): the swarm's view once a second ---
DWATCH_PID=
dwatch() {
	_dn=0
	while [ ! -f "$W/dwatch.stop" ] && [ "$_dn" -lt 600 ]; do
		{
			echo "== $(date +%T.%N)"
			dk 1 node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'
			# shellcheck disable=SC2046 # one argument per service id
			dk 1 service ps $(dk 1 service ls -q 2>/dev/null) \
				--format '{{.Name}} {{.ID}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}'
		} >>"$W/dwatch.log" 2>&1
		_dn=$((_dn + 1))
		sleep 1
	done
}
dwatch_start() { [ -n "${LBL_KEEP:-}" ] || return 0; rm -f "$W/dwatch.stop"; dwatch & DWATCH_PID=$!; }
dwatch_stop() {
	[ -n "$DWATCH_PID" ] || return 0
	touch "$W/dwatch.stop"
	timeout 130 tail --pid="$DWATCH_PID" -f /dev/null 2>/dev/null || kill -9 "$DWATCH_PID" 2>/dev/null
	wait "$DWATCH_PID" 2>/dev/null
	DWATCH_PID=
}

# --- the daemon ----------------------------------------------------------
df_start() { # CONFIG LOG
	$DF_WRAP "$DNSFOLLOW" -c "$1" 2>>"$2" &
	DFPID=$!
	echo "$DFPID" >"$W/df.pid"
}
df_stop() {
	[ -n "$DFPID" ] || return 0
	sw_end "$DFPID"; DFPID=
}
# Lines of LOG from line FROM on, debug lines left out: what a user at
# log_level = info reads.
said() { # LOG FROM
	tail -n "+$2" "$1" | grep -v '^[^ ]*Z debug '
}
# How many such lines contain every one of the PATTERNs (grep -E each).
said_n() { # LOG FROM PATTERN...
	_sl=$1; _sf=$2; shift 2
	said "$_sl" "$_sf" >"$W/said.tmp"
	for _sp in "$@"; do
		grep -E -- "$_sp" "$W/said.tmp" >"$W/said.tmp2"; mv "$W/said.tmp2" "$W/said.tmp"
	done
	wc -l <"$W/said.tmp" | tr -d ' '
}
lines() { wc -l <"$1" | tr -d ' '; }

# --- configs -------------------------------------------------------------
# Phase 1 (cases a-d): no [record] section at all. Three providers on
# one zone: named under sync (the default for labels), a mock under sync
# and a mock under upsert-only.
conf_labels() { # FILE INTERVAL
	cat >"$1" <<EOF
[dnsfollow]
owner_id = lbltest
interval = $2
orphan_grace = $GRACE
plugin_dir = $PLUGINS
log_level = debug

[backend sw]
type = swarm
host = unix://$(sw_sock 1)
discover = yes
discover_provider = dns
discover_names = *.$ZONE

[provider dns]
type = rfc2136
zones = $ZONE, other.example.test
server = 127.0.0.1:$LP
key_file = $W/ddns.key
policy = sync

[provider m]
type = mock
zones = $ZONE
state = $W/m.json
policy = sync

; policy: the default, upsert-only
[provider k]
type = mock
zones = $ZONE
state = $W/k.json

EOF
}

# Phase 2 (cases e-f): the same, plus a static backend and [record]
# sections: an INI record that a label also asks for, and one name in two
# providers from two address sources (split horizon).
conf_records() { # FILE
	conf_labels "$1" 1
	cat >>"$1" <<EOF
[backend st]
type = static
file = $W/placements.ini

[record ini.$ZONE]
provider = dns
backend = st
service = inisvc
type = A

[record split.$ZONE]
provider = m
backend = st
service = splitsvc
type = A

[record split.$ZONE]
provider = dns
backend = sw
service = lbl-split
type = A
EOF
	printf '[inisvc]\naddresses = 192.0.2.88\n\n[splitsvc]\naddresses = 192.0.2.77\n' \
		>"$W/placements.ini"
}
