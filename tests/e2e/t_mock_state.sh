#!/bin/sh
# The mock keeps its state parsed and writes it per zone (issue 12): the
# state file must still hold every change the moment `dnsfollow --once`
# exits, or a daemon logs its pass as done; a steady pass writes nothing;
# and a daemon that holds the state parsed sees edits other processes
# make to the file (in place, same size; or a new file renamed over it).
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfmockst.XXXXXX)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
S="$T/state.json"
N=60
Z=12

# 60 records r0..r59 over 12 zones z0..z11.test, ten services s0..s9.
awk -v n=$N -v z=$Z -v plugins="$PLUGINS" 'BEGIN {
	printf "[dnsfollow]\nowner_id = e2e\nplugin_dir = %s\ninterval = 3600\ndebounce_ms = 100\n\n", plugins
	printf "[backend lab]\ntype = static\nfile = placements.ini\n\n"
	printf "[provider m]\ntype = mock\nstate = state.json\nzones = "
	for (j = 0; j < z; j++) printf "%sz%d.test", j ? ", " : "", j
	printf "\n"
	for (i = 0; i < n; i++)
		printf "\n[record r%d.z%d.test]\nprovider = m\nbackend = lab\nservice = s%d\ntype = A\nttl = 60\n",
			i, i % z, i % 10
}' >"$T/df.ini"

placements() { # GEN: service sK runs at 198.51.(100+GEN).(K+1)
	awk -v g="$1" 'BEGIN { for (s = 0; s < 10; s++)
		printf "[s%d]\naddresses = 198.51.%d.%d\n", s, 100 + g, s + 1 }' >"$T/placements.ini.new"
	mv "$T/placements.ini.new" "$T/placements.ini"
}

# holds GEN [SERIAL [quiet]]: every record is in the file with GEN's
# address and its ownership marker, and nothing else is (each zone at
# SERIAL writes, unless ""); says what is wrong unless quiet (polled).
holds() {
	python3 - "$S" $N $Z "$1" "${2:-}" "${3:-}" <<'EOF'
import json, sys
path, n, z, gen, serial = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
quiet = sys.argv[6] == "quiet"
zones = json.load(open(path))["zones"]
bad = []
for i in range(n):
    zone = "z%d.test" % (i % z)
    sets = zones.get(zone, {}).get("rrsets", {})
    a = sets.get("r%d.%s" % (i, zone), {}).get("A", {}).get("rdata")
    if a != ["198.51.%d.%d" % (100 + gen, i % 10 + 1)]:
        bad.append("r%d: %s" % (i, a))
    if not sets.get("_dnsfollow.r%d.%s" % (i, zone), {}).get("TXT"):
        bad.append("r%d: no marker" % i)
for name, zd in zones.items():
    if serial and zd.get("serial") != int(serial):
        bad.append("%s: serial %s, not %s" % (name, zd.get("serial"), serial))
    if len(zd["rrsets"]) != 2 * (n // z):
        bad.append("%s: %d names" % (name, len(zd["rrsets"])))
if len(zones) != z:
    bad.append("%d zones" % len(zones))
if bad and not quiet:
    print("# " + "; ".join(bad[:5]))
sys.exit(1 if bad else 0)
EOF
}

cd "$T" || exit 1
placements 0
df -c "$T/df.ini" --once; rc=$?
check "--once: first sync exits 0" [ "$rc" = 0 ]
check "--once: at exit the state file holds every record of every zone (one write each)" holds 0 1
placements 1
df -c "$T/df.ini" --once; rc=$?
check "--once: every record moved, exit 0" [ "$rc" = 0 ]
check "--once: at exit the state file holds every change" holds 1 2
before=$(stat -c '%d %i %s %y %z' "$S")
df -c "$T/df.ini" --once; rc=$?
check "--once: a steady pass exits 0 and writes no file" \
	eval '[ "$rc" = 0 ] && [ "$(stat -c "%d %i %s %y %z" "$S")" = "$before" ]'

# --- daemon: passes logged done, edits by other processes -------------------
passes() { grep -c 'pass: .* change(s)$' "$T/daemon.err"; }
$DF_WRAP "$DNSFOLLOW" -c "$T/df.ini" 2>"$T/daemon.err" &
DPID=$!
sleep 0.5 # its first pass: in sync, nothing to log
p0=$(passes)
placements 2
# Read at once when the pass is logged done: no write may be pending.
check "daemon: the pass that moves every record is logged done" \
	wait_for 20 sh -c "[ \"\$(grep -c 'pass: .* change(s)\$' '$T/daemon.err')\" -gt $p0 ]"
check "daemon: when its pass is logged, the state file holds every change" holds 2 3

# Another process edits the file in place, same size, same inode (the
# daemon wrote it last and holds it parsed).
python3 - "$S" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
old = '"198.51.102.4"'
assert text.count(old) > 0
with open(path, "r+") as f:
    f.write(text.replace(old, '"198.51.199.4"', 1))
EOF
kill -USR1 "$DPID"
check "daemon: an edit in place by another process is seen and repaired" wait_for 10 holds 2 "" quiet
# A new file renamed over it: a record removed, another one's address changed.
python3 - "$S" <<'EOF'
import json, os, sys
path = sys.argv[1]
d = json.load(open(path))
del d["zones"]["z5.test"]["rrsets"]["r5.z5.test"]
d["zones"]["z7.test"]["rrsets"]["r7.z7.test"]["A"]["rdata"] = ["203.0.113.7"]
json.dump(d, open(path + ".new", "w"))
os.rename(path + ".new", path)
EOF
kill -USR1 "$DPID"
check "daemon: a file renamed over the state is seen and repaired" wait_for 10 holds 2 "" quiet
kill "$DPID"
wait "$DPID"; rc=$?
DPID=""
check "daemon: stops cleanly" [ "$rc" = 0 ]
check "daemon: the state file still holds every record after it stopped" holds 2
tap_done
