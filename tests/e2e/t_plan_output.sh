#!/bin/sh
# Plan output for scripts and CI: --dry-run --output json (JSON Lines: one
# object per change or orphan, then a summary), --detailed-exitcode
# (Terraform's 0 / 2), and the combinations refused.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfplan.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
DF_ERR="$T/err"
cd "$T" || exit 1
printf '[gogs]\naddresses = 192.0.2.10, 2001:db8::10\n[b]\naddresses = 192.0.2.11\n' >placements.ini
write_config() { # POLICY [more records]
	cat >c.ini <<EOF
[dnsfollow]
owner_id = plan
plugin_dir = $PLUGINS
orphan_grace = 0
[backend lab]
type = static
file = placements.ini
[provider m]
type = mock
zones = example.test
state = state.json
policy = $1
[record git.example.test]
provider = m
backend = lab
service = gogs
type = A, AAAA
$2
EOF
}
# rc_and_says RC WANT TEXT: exit status RC is WANT and stderr says TEXT.
rc_and_says() { [ "$1" = "$2" ] && grep -q "$3" "$DF_ERR"; }
J() { python3 -c "import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))" "$@"; }

write_config sync
df -c c.ini --dry-run --output json --detailed-exitcode >plan.json; rc=$?
check "a dry run with changes exits 2 under --detailed-exitcode (got $rc)" [ "$rc" = 2 ]
check "every line of --output json is a JSON object with a kind" \
	[ "$(J plan.json 'all(isinstance(r, dict) and "kind" in r for r in rows)')" = True ]
check "the plan has three creates (marker, A, AAAA) with their data" \
	[ "$(J plan.json 'sorted((r["type"], r["action"], tuple(r["data"])) for r in rows if r["kind"] == "change")')" = "[('A', 'create', ('192.0.2.10',)), ('AAAA', 'create', ('2001:db8::10',)), ('TXT', 'create', ('heritage=dnsfollow,owner=plan',))]" ]
check "the summary comes last and counts 3 changes, exit 2" \
	[ "$(J plan.json '(rows[-1]["kind"], rows[-1]["changes"], rows[-1]["exit"])')" = "('summary', 3, 2)" ]
check "a dry run writes nothing" [ ! -e state.json ]

df -c c.ini --once --detailed-exitcode >/dev/null; rc=$?
check "--once that applied changes exits 2 (got $rc)" [ "$rc" = 2 ]
df -c c.ini --once --detailed-exitcode >/dev/null; rc=$?
check "--once in sync exits 0 (got $rc)" [ "$rc" = 0 ]
df -c c.ini --dry-run --output json --detailed-exitcode >plan.json; rc=$?
n=$(J plan.json 'len([r for r in rows if r["kind"] == "change"])')
check "a dry run in sync exits 0 (got $rc) and plans nothing (got $n)" [ "$rc.$n" = 0.0 ]

# An orphan: b was written, then its section goes; policy = sync.
write_config sync "[record b.example.test]
provider = m
backend = lab
service = b"
df -c c.ini --once >/dev/null
write_config sync
df -c c.ini --dry-run --output json >plan.json
check "an orphan is listed as such (kind orphan, state deleting)" \
	[ "$(J plan.json '[(r["name"], r["state"]) for r in rows if r["kind"] == "orphan"]')" = "[('b.example.test', 'deleting')]" ]
check "its deletions are in the plan (A and the marker)" \
	[ "$(J plan.json 'sorted((r["name"], r["type"]) for r in rows if r.get("action") == "delete")')" = "[('_dnsfollow.b.example.test', 'TXT'), ('b.example.test', 'A')]" ]
df -c c.ini --dry-run >plan.txt
check "the text plan says orphan too" grep -q "orphan b.example.test" plan.txt

df -c c.ini --output json >/dev/null; rc=$?
check "--output json without --dry-run is refused with 64 (got $rc)" \
	rc_and_says "$rc" 64 "goes with --dry-run"
df -c c.ini --dry-run --output yaml >/dev/null; rc=$?
check "--output yaml is refused with 64" rc_and_says "$rc" 64 "text or json"
timeout 10 "$DNSFOLLOW" -c c.ini --detailed-exitcode >/dev/null 2>"$DF_ERR"; rc=$?
check "--detailed-exitcode in daemon mode is refused with 64 (got $rc)" \
	rc_and_says "$rc" 64 "goes with --once or --dry-run"
tap_done
