#!/bin/sh
# End-to-end: the dnsfollow binary with the static backend and the mock
# provider, asserting on the mock's state file.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfe2e.XXXXXX)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
MS="python3 $TOP/tests/lib/mockstate.py"
S="$T/state.json"
DF_ERR="$T/err"

# config FILE [extra record keys] — the usual test config.
write_config() {
	cat >"$1" <<EOF
[dnsfollow]
owner_id   = e2e
plugin_dir = $PLUGINS
interval   = ${INTERVAL:-60}
debounce_ms = 100
retries    = ${RETRIES:-3}

[backend lab]
type = static
file = placements.ini

[provider m]
type  = mock
zones = example.test, sub.example.test
state = state.json
${MOCK_EXTRA:-}

[record git.example.test]
provider = m
backend  = lab
service  = gogs
type     = A, AAAA
ttl      = 60
${REC_EXTRA:-}
EOF
}
placements() { printf '%s\n' "$@" >"$T/placements.ini.new" && mv "$T/placements.ini.new" "$T/placements.ini"; }
get() { $MS "$S" "${3:-example.test}" "$1" "$2"; }
serial() { $MS "$S" "${1:-example.test}" --serial; }
stamp() { stat -c '%i %Y %s' "$S"; }

write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.10, 2001:db8::10, 192.0.2.9, 192.0.2.10'

# --- first sync -----------------------------------------------------------
df -c "$T/df.ini" --once; rc=$?
check "first sync exits 0" [ "$rc" = 0 ]
check "A RRset is sorted and de-duplicated" [ "$(get git.example.test A)" = "192.0.2.10 192.0.2.9" ]
check "A RRset holds both addresses in numeric order" \
	python3 -c "import json,sys; d=json.load(open('$S')); sys.exit(d['zones']['example.test']['rrsets']['git.example.test']['A']['rdata']!=['192.0.2.9','192.0.2.10'])"
check "AAAA set" [ "$(get git.example.test AAAA)" = "2001:db8::10" ]
check "ownership marker written" [ "$(get _dnsfollow.git.example.test TXT)" = "heritage=dnsfollow,owner=e2e" ]
check "one write for the zone" [ "$(serial)" = 1 ]

# --- in sync: no write at all ------------------------------------------------
before=$(stamp)
sleep 1.1
df -c "$T/df.ini" --once; rc=$?
check "in-sync pass exits 0" [ "$rc" = 0 ]
check "in-sync pass leaves the state file untouched" [ "$(stamp)" = "$before" ]

# --- placement change ------------------------------------------------------------
placements '[gogs]' 'addresses = 192.0.2.11'
df -c "$T/df.ini" --once; rc=$?
check "placement change exits 0" [ "$rc" = 0 ]
check "A follows the new placement" [ "$(get git.example.test A)" = "192.0.2.11" ]
check "AAAA removed once the service runs on an IPv4-only node" \
	[ -z "$(get git.example.test AAAA)" ]

# --- dry run ---------------------------------------------------------------------
placements '[gogs]' 'addresses = 192.0.2.12'
before=$(stamp)
out=$(df -c "$T/df.ini" --once --dry-run); rc=$?
check "dry run exits 0" [ "$rc" = 0 ]
check "dry run prints the plan" sh -c "echo '$out' | grep -q 'm example.test: set git.example.test A 60 192.0.2.12'"
check "dry run writes nothing" [ "$(stamp)" = "$before" ]

# --- foreign records ----------------------------------------------------------------
python3 - "$S" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["zones"]["example.test"]["rrsets"]["ssh.example.test"] = {"A": {"ttl": 300, "rdata": ["198.51.100.7"]}}
json.dump(d, open(sys.argv[1], "w"))
EOF
cat >>"$T/df.ini" <<'EOF'

[record ssh.example.test]
provider = m
backend  = lab
service  = gogs
EOF
df -c "$T/df.ini" --once; rc=$?
check "foreign record: exit 1 (permanent)" [ "$rc" = 1 ]
check "foreign record: error names adopt = yes" grep -q "ssh.example.test already exists and is not owned by dnsfollow.*adopt = yes" "$T/err"
check "foreign record untouched" [ "$(get ssh.example.test A)" = "198.51.100.7" ]
check "no marker on the foreign record" [ -z "$(get _dnsfollow.ssh.example.test TXT)" ]
check "the other record still converged in the same pass" [ "$(get git.example.test A)" = "192.0.2.12" ]
echo "adopt = yes" >>"$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "adopt = yes takes it over" eval '[ "$rc" = 0 ] && [ "$(get ssh.example.test A)" = "192.0.2.12" ]'
check "adopted record carries the marker" [ "$(get _dnsfollow.ssh.example.test TXT)" = "heritage=dnsfollow,owner=e2e" ]

# --- another owner --------------------------------------------------------------
sed 's/owner_id   = e2e/owner_id = other/' "$T/df.ini" | grep -v '^adopt' >"$T/other.ini"
before=$(stamp)
df -c "$T/other.ini" --once; rc=$?
check "another owner's record is refused" eval '[ "$rc" = 1 ] && grep -q "belongs to another dnsfollow" "$T/err"'
check "and left untouched" [ "$(stamp)" = "$before" ]

# --- on_empty ------------------------------------------------------------------------
write_config "$T/df.ini"
placements '[gogs]' 'addresses ='
df -c "$T/df.ini" --once; rc=$?
check "empty service, on_empty = keep: exit 0" [ "$rc" = 0 ]
check "empty service, on_empty = keep: value kept" [ "$(get git.example.test A)" = "192.0.2.12" ]
check "empty service warns" grep -q "runs nowhere; git.example.test keeps its value" "$T/err"
REC_EXTRA="on_empty = delete" write_config "$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "on_empty = delete removes the records" eval '[ "$rc" = 0 ] && [ -z "$(get git.example.test A)" ]'
check "on_empty = delete keeps the marker" [ -n "$(get _dnsfollow.git.example.test TXT)" ]

# --- backend error: keep the value ---------------------------------------------------
write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.30'
df -c "$T/df.ini" --once
placements '[gogs]' 'addresses = 192.0.2.31, not-an-address'
RETRIES=1 write_config "$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "malformed placements: exit 1" [ "$rc" = 1 ]
check "malformed placements: record keeps its value" [ "$(get git.example.test A)" = "192.0.2.30" ]
check "malformed placements: clear error" grep -q "'not-an-address' is not an IP address" "$T/err"

# --- temporary failures ----------------------------------------------------------------
placements '[gogs]' 'addresses = 192.0.2.40'
RETRIES=2 MOCK_EXTRA="fail_every = 1" write_config "$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "provider always failing: exit 75" [ "$rc" = 75 ]
check "failure logged as temporary with a retry" grep -q "read failed: read: injected failure.*temporary; retry" "$T/err"
check "nothing changed" [ "$(get git.example.test A)" = "192.0.2.30" ]
# Two zones, every 3rd call failing: the second zone's read fails first
# (calls: read, apply, READ), then its retry goes through.
RETRIES=3 MOCK_EXTRA="fail_every = 3" write_config "$T/df.ini"
printf '[record a.sub.example.test]\nprovider = m\nbackend = lab\nservice = gogs\n' >>"$T/df.ini"
df -c "$T/df.ini" --once; rc=$?
check "every 3rd call failing: converges within the retries" eval '[ "$rc" = 0 ] &&
	[ "$(get git.example.test A)" = "192.0.2.40" ] && [ "$(get a.sub.example.test A sub.example.test)" = "192.0.2.40" ]'
check "the failure was retried" grep -q "injected failure (call 3" "$T/err"

# --- one failing zone does not block another -----------------------------------------------
cat >"$T/multi.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
retries = 1
[backend lab]
type = static
file = placements.ini
[provider bad]
type = mock
zones = broken.test
state = state.json
fail_every = 1
[provider good]
type = mock
zones = example.test, sub.example.test
state = state2.json
[record a.broken.test]
provider = bad
backend = lab
service = gogs
[record a.sub.example.test]
provider = good
backend = lab
service = gogs
[record b.example.test]
provider = good
backend = lab
service = gogs
EOF
df -c "$T/multi.ini" --once; rc=$?
check "failing provider: exit 75" [ "$rc" = 75 ]
check "other provider's zones converged" eval '
	[ "$($MS "$T/state2.json" sub.example.test a.sub.example.test A)" = "192.0.2.40" ] &&
	[ "$($MS "$T/state2.json" example.test b.example.test A)" = "192.0.2.40" ]'
check "a.sub.example.test went to the longest zone" [ "$($MS "$T/state2.json" example.test a.sub.example.test A)" = "" ]

# --- config errors, usage, plugins ------------------------------------------------------------
printf '[dnsfollow]\nplugin_dir = %s\ninterval = soon\n[record x.example.test]\nprovider = nope\n' "$PLUGINS" >"$T/bad.ini"
df -c "$T/bad.ini" --check-config; rc=$?
check "bad config: exit 78" [ "$rc" = 78 ]
check "bad config: FILE:LINE lines" grep -q "^$T/bad.ini:3: interval must be" "$T/err"
check "bad config: every error listed" [ "$(grep -c "^$T/bad.ini:" "$T/err")" -ge 2 ]
write_config "$T/df.ini"
out=$(df -c "$T/df.ini" --check-config); rc=$?
check "--check-config on a good config: exit 0" eval '[ "$rc" = 0 ] && echo "$out" | grep -q "configuration OK"'
printf '[dnsfollow]\nplugin_dir = %s/../badplugins\n[provider x]\ntype = bad_abi\n' "$PLUGINS" >"$T/abi.ini"
df -c "$T/abi.ini" --once; rc=$?
check "plugin with a wrong ABI: exit 78" [ "$rc" = 78 ]
check "plugin refusal is one line naming the file" eval '[ "$(wc -l <"$T/err")" = 1 ] && grep -q "bad_abi.so: refused: built for plugin ABI 999" "$T/err"'
df --bogus; rc=$?
check "unknown option: exit 64" [ "$rc" = 64 ]
df --once; rc=$?
check "missing -c: exit 64" [ "$rc" = 64 ]
check "--version" sh -c "'$DNSFOLLOW' --version | grep -q '^dnsfollow [0-9].*plugin ABI 2'"
out=$(df --list-plugins -c "$T/df.ini"); rc=$?
check "--list-plugins lists mock and static with their keys" eval '[ "$rc" = 0 ] &&
	echo "$out" | grep -q "mock .*provider" && echo "$out" | grep -q "static .*backend" &&
	echo "$out" | grep -q "key    state .*required"'

df -c "$T" --check-config; rc=$?
check "a folder given as config: exit 78, one clear line" eval '[ "$rc" = 78 ] && grep -q "^$T:0: not a regular file" "$T/err"'
# Every broken test plugin is listed as refused, each with its reason
# (bad_keys and bad_bkeys are sound: keys of every type); none of their
# code runs (each of their functions aborts).
printf '[dnsfollow]\nplugin_dir = %s/../badplugins\n' "$PLUGINS" >"$T/bad-list.ini"
out=$(df --list-plugins -c "$T/bad-list.ini"); rc=$?
check "--list-plugins refuses every broken plugin without running it" eval '[ "$rc" = 0 ] &&
	[ "$(echo "$out" | grep -c " refused: ")" = 10 ] && echo "$out" | grep -q "^  bad_keys  *provider" &&
	echo "$out" | grep -q "bad_abi1 *refused: built for plugin ABI 1"'
# Instances that cannot be made are all reported at once.
cat >"$T/two-bad.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[backend lab]
type = static
file = /nonexistent-dnsfollow-dir/p.ini
[provider m]
type = mock
zones = example.test
state = state.json
[provider r]
type = rfc2136
zones = example.net
server = 127.0.0.1:1
key_file = /nonexistent-dnsfollow-dir/k.key
[record a.example.test]
provider = m
backend = lab
service = gogs
EOF
df -c "$T/two-bad.ini" --check-config; rc=$?
check "every instance that cannot be made is reported, exit 78" eval '[ "$rc" = 78 ] &&
	grep -q "two-bad.ini:3: backend lab (static): cannot watch /nonexistent-dnsfollow-dir" "$T/err" &&
	grep -q "two-bad.ini:10: provider r (rfc2136): .*nonexistent-dnsfollow-dir/k.key" "$T/err"'

# --- --check-config touches nothing -------------------------------------------------
write_config "$T/check.ini"
sed -i 's/^state = state.json/state = never.json/' "$T/check.ini"
df -c "$T/check.ini" --check-config; rc=$?
check "--check-config: exit 0 and no state file written" eval '[ "$rc" = 0 ] && [ ! -e "$T/never.json" ]'

# --- latency injection ---------------------------------------------------------------
MOCK_EXTRA="latency_ms = 400" write_config "$T/slow.ini"
sed -i 's/^state = state.json/state = slow.json/' "$T/slow.ini"
t0=$(date +%s%N)
df -c "$T/slow.ini" --once; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "latency_ms = 400: a read and a write take at least 800 ms ($ms ms)" eval '[ "$rc" = 0 ] && [ "$ms" -ge 800 ]'

# --- the embedded default (make run), from another working directory --------------
mkdir "$T/shipped"
# No plugin_dir in it: the binary finds the plugins of its own build tree.
cp "$TOP/config/dnsfollow.ini" "$TOP/config/placements.ini" "$T/shipped/"
(cd / && $DF_WRAP "$DNSFOLLOW" -c "$T/shipped/dnsfollow.ini" --once 2>"$T/err"); rc=$?
check "shipped config: first run exits 0 from any folder" [ "$rc" = 0 ]
check "shipped config: records in the mock state next to the config" eval '
	[ "$($MS "$T/shipped/mock-state.json" example.test git.example.test A)" = 192.0.2.10 ] &&
	[ "$($MS "$T/shipped/mock-state.json" example.net www.example.net A)" = "192.0.2.20 192.0.2.21" ]'
S2="$T/shipped/mock-state.json"
before=$(stat -c '%i %Y %s' "$S2")
sleep 1.1
(cd / && $DF_WRAP "$DNSFOLLOW" -c "$T/shipped/dnsfollow.ini" --once 2>"$T/err"); rc=$?
check "shipped config: second run exits 0 and writes nothing" eval '[ "$rc" = 0 ] && [ "$(stat -c "%i %Y %s" "$S2")" = "$before" ]'

# --- daemon: events, SIGUSR1, SIGHUP, SIGTERM -------------------------------------------------------
INTERVAL=3600 write_config "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.50'
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" &
DPID=$!
check "daemon: first sync" wait_for 20 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.50 ]"
placements '[gogs]' 'addresses = 192.0.2.51'
check "daemon: placements edit applied without waiting for the interval" \
	wait_for 10 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.51 ]"
python3 - "$S" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["zones"]["example.test"]["rrsets"]["git.example.test"]["A"]["rdata"] = ["203.0.113.99"]
json.dump(d, open(sys.argv[1], "w"))
EOF
kill -USR1 "$DPID"
check "daemon: SIGUSR1 resyncs now" wait_for 10 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.51 ]"
REC_EXTRA="ttl = 90" write_config "$T/df.ini.new"
sed -i 's/^ttl      = 60$//' "$T/df.ini.new"
mv "$T/df.ini.new" "$T/df.ini"
kill -HUP "$DPID"
check "daemon: SIGHUP reload applies the new config" \
	wait_for 10 sh -c "[ \"\$($MS $S example.test git.example.test A --ttl)\" = 90 ]"
echo "nonsense line" >>"$T/df.ini"
kill -HUP "$DPID"
check "daemon: invalid config on reload is reported" \
	wait_for 10 grep -q "keeping the running configuration" "$T/daemon.err"
placements '[gogs]' 'addresses = 192.0.2.52'
check "daemon: still running on the old config after a bad reload" \
	wait_for 10 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.52 ]"
kill -TERM "$DPID"
wait "$DPID"; rc=$?
DPID=""
check "daemon: SIGTERM stops cleanly with exit 0" [ "$rc" = 0 ]
check "daemon: logged one line per event" grep -q "info  provider m: zone example.test: set git.example.test A 90 192.0.2.52" "$T/daemon.err"

# --- daemon: event throttling, SIGINT ---------------------------------------------------
# debounce_ms = 3000: the first edit is applied at once (well before the
# window ends); four more edits right after it are gathered into one
# trailing pass, so the zone is written at most twice.
INTERVAL=3600 write_config "$T/df.ini"
sed -i 's/^debounce_ms = 100/debounce_ms = 3000/' "$T/df.ini"
placements '[gogs]' 'addresses = 192.0.2.60'
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" &
DPID=$!
check "daemon: first sync" wait_for 20 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.60 ]"
sleep 3.5 # let the first pass's window end
s0=$(serial)
placements '[gogs]' 'addresses = 192.0.2.61'
check "daemon: an event after a quiet spell is applied at once, not after debounce_ms" \
	wait_for 2 sh -c "[ \"\$($MS $S example.test git.example.test A)\" != 192.0.2.60 ]"
for i in 62 63 64 65; do placements '[gogs]' "addresses = 192.0.2.$i"; sleep 0.1; done
check "daemon: the burst's last value is applied when the window ends" \
	wait_for 10 sh -c "[ \"\$($MS $S example.test git.example.test A)\" = 192.0.2.65 ]"
sleep 1
writes=$(( $(serial) - s0 ))
check "daemon: five edits in a burst cost at most two writes ($writes)" [ "$writes" -le 2 ]
kill -INT "$DPID"
wait "$DPID"; rc=$?
DPID=""
check "daemon: SIGINT stops cleanly with exit 0" [ "$rc" = 0 ]

tap_done
