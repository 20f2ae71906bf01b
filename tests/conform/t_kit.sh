#!/bin/sh
# The conformance kit (dnsfollow-conform): it passes every shipped plugin
# that needs no server, and names each flaw of tests/conform/memprov.c
# (one plugin per flaw). Providers with a server are one function each
# (see "targets" below), so rfc2136 on named/knotd, ovh on its fake API
# and pdns are added beside mock the same way.
. "$(dirname "$0")/../lib/tap.sh"

KIT="$B/dnsfollow-conform"
FLAWS="$B/conform/plugins"
T=$(mktemp -d /tmp/dfkit.XXXXXX)
_at_exit=":"
# at_exit CMD: run CMD when the script ends, also on failure (servers).
at_exit() { _at_exit="$1; $_at_exit"; }
trap 'eval "$_at_exit"; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

if [ ! -x "$KIT" ]; then
	not_ok "dnsfollow-conform is built (make B=$B sdk-tests)"
	tap_done; exit 1
fi

# kit NAME ARGS...: run the kit; TAP in $T/NAME.tap, stderr in
# $T/NAME.err, exit status in $kit_rc. Bounded by --timeout.
kit() {
	_n=$1; shift
	"$KIT" "$@" >"$T/$_n.tap" 2>"$T/$_n.err"; kit_rc=$?
}
# failed NAME: the descriptions of its "not ok" lines, one per line.
failed() { sed -n 's/^not ok [0-9]* - //p' "$T/$1.tap"; }
show() { sed 's/^/#   /' "$T/$1.tap" "$T/$1.err" | grep -v '^#   ok' | head -30; }

# ---- targets: one function each ----------------------------------------
# target_NAME DIR prepares the instance under test: starts its server if
# it has one (stopping it through at_exit), writes DIR/kit.ini and sets
# KIT_ARGS (--provider/--backend, --zone, --service ...). It returns 0
# when ready, or 2 after setting SKIP_WHY (server binary missing). Add
# NAME to TARGETS.
TARGETS="mock static example_provider example_backend ovh cloudflare"

target_mock() {
	# Markers the scratch zone must not show: one of other.test, and one
	# a hand edit filed under scratch.test with a name outside it.
	cat >"$1/state.json" <<EOF
{"zones": {"other.test": {"serial": 1, "rrsets": {"_dnsfollow.seed.other.test":
   {"TXT": {"ttl": 60, "rdata": ["heritage=dnsfollow,owner=seed"]}}}},
 "scratch.test": {"serial": 1, "rrsets": {"_dnsfollow.stray.other.test":
   {"TXT": {"ttl": 60, "rdata": ["heritage=dnsfollow,owner=stray"]}}}}}}
EOF
	cat >"$1/kit.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[provider m]
type = mock
zones = scratch.test, other.test
state = $1/state.json
EOF
	KIT_ARGS="--provider m --zone scratch.test"
}

target_static() {
	printf '[gogs]\naddresses = 192.0.2.10, 2001:db8::10\nhostname = node1.example.test\nnames = git.example.test\nrecord.ttl = 60\n' \
		>"$1/placements.ini"
	cat >"$1/kit.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[backend lab]
type = static
file = $1/placements.ini
EOF
	KIT_ARGS="--backend lab --service gogs"
}

# The SDK's examples, built as a third party builds them (public headers).
build_example() { # SRC NAME DIR
	mkdir -p "$3/plugins"
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
		-Wl,--no-undefined -I"$TOP/include" -o "$3/plugins/$2.so" "$TOP/docs/examples/$1" \
		-ljansson >"$3/cc.out" 2>&1 || { sed 's/^/# /' "$3/cc.out"; return 1; }
}

target_example_provider() {
	build_example filesprovider.c files "$1" || return 1
	mkdir -p "$1/zones"
	printf '[dnsfollow]\nplugin_dir = %s/plugins\n[provider f]\ntype = files\nzones = scratch.test\ndir = %s/zones\n' \
		"$1" "$1" >"$1/kit.ini"
	KIT_ARGS="--provider f"
}

target_example_backend() {
	build_example envbackend.c env "$1" || return 1
	printf '[dnsfollow]\nplugin_dir = %s/plugins\n[backend e]\ntype = env\n' "$1" >"$1/kit.ini"
	export DNSFOLLOW_ADDRS_WEB="192.0.2.7 2001:db8::7"
	KIT_ARGS="--backend e --service web"
}

# ovh on its fake API (tests/ovh/fakectl.sh), stopped through at_exit.
target_ovh() {
	# Registered first: a start that times out leaves the server running.
	at_exit "sh '$TOP/tests/ovh/fakectl.sh' stop '$1/fake'"
	FAKE_WATCH_PID=$$ sh "$TOP/tests/ovh/fakectl.sh" start "$1/fake" \
		--zones scratch.test,other.test >"$1/port" 2>"$1/fake.err" || {
		sed 's/^/# /' "$1/fake.err"; return 1; }
	# shellcheck disable=SC2046 # three words: AK AS CK
	set -- "$1" $(sh "$TOP/tests/ovh/fakectl.sh" creds)
	printf '%s\n' '[default]' 'endpoint=ovh-eu' '' '[ovh-eu]' \
		"application_key=$2" "application_secret=$3" "consumer_key=$4" \
		>"$1/ovh.conf"
	chmod 600 "$1/ovh.conf"
	cat >"$1/kit.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[provider o]
type = ovh
zones = scratch.test, other.test
endpoint = https://127.0.0.1:$(cat "$1/port")/1.0
credentials = $1/ovh.conf
ca_file = $1/fake/ca.pem
rate_limit = 0
EOF
	KIT_ARGS="--provider o --zone scratch.test"
}

# cloudflare on its fake API (tests/cloudflare/fakectl.sh, port 15423),
# with small pages (per_page = 2) so every list is paged.
target_cloudflare() {
	at_exit "sh '$TOP/tests/cloudflare/fakectl.sh' stop '$1/fake'"
	FAKE_WATCH_PID=$$ sh "$TOP/tests/cloudflare/fakectl.sh" start "$1/fake" 15423 \
		--zones scratch.test,other.test >"$1/port" 2>"$1/fake.err" || {
		sed 's/^/# /' "$1/fake.err"; return 1; }
	sh "$TOP/tests/cloudflare/fakectl.sh" token >"$1/token"
	chmod 600 "$1/token"
	cat >"$1/kit.ini" <<EOF
[dnsfollow]
plugin_dir = $PLUGINS
[provider c]
type = cloudflare
zones = scratch.test, other.test
endpoint = https://127.0.0.1:$(cat "$1/port")/client/v4
token_file = $1/token
ca_file = $1/fake/ca.pem
per_page = 2
rate_limit = 0
EOF
	KIT_ARGS="--provider c --zone scratch.test"
}

for t in $TARGETS; do
	mkdir -p "$T/$t"
	KIT_ARGS=""; SKIP_WHY=""
	target_$t "$T/$t"; rc=$?
	if [ "$rc" = 2 ]; then
		ok "kit passes $t # SKIP $SKIP_WHY"
		continue
	fi
	check "$t is set up for the kit" [ "$rc" = 0 ] || continue
	# shellcheck disable=SC2086 # KIT_ARGS holds several words
	kit "$t" -c "$T/$t/kit.ini" $KIT_ARGS --timeout 120
	if [ "$kit_rc" = 0 ] && [ -z "$(failed "$t")" ] && grep -q '^1\.\.' "$T/$t.tap"; then
		ok "kit passes $t ($(grep -c '^ok' "$T/$t.tap") checks)"
		# Providers get markers() one by one: say which still skip.
		grep -m1 '# SKIP no markers op' "$T/$t.tap" | sed "s/^ok [0-9]* - /# $t: /"
	else
		not_ok "kit passes $t (exit $kit_rc)"; show "$t"
	fi
done

# The markers() checks ran on the mock (it has the op), none skipped.
# markers_ran NAME: its four markers() lines are "ok" without SKIP.
markers_ran() {
	[ "$(grep -c '^ok [0-9]* - .*markers()' "$T/$1.tap")" -ge 4 ] &&
	! grep -q '^ok [0-9]* - .*markers().*# SKIP' "$T/$1.tap" &&
	! grep -q '^not ok [0-9]* - .*markers()' "$T/$1.tap"
}
check "the markers() checks ran and passed on mock" markers_ran mock

# The mock's state holds none of the kit's names afterwards, and a second
# run on the same state (leftovers or not) passes again.
check "the kit leaves no dfc- name in the mock's zone" \
	eval '! grep -q "dfc-" "$T/mock/state.json"'
kit mock2 -c "$T/mock/kit.ini" --timeout 120
check "a second run on the same zone passes" [ "$kit_rc" = 0 ]

# ---- the kit names each flaw ------------------------------------------
# flaw NAME STATUS PATTERN: memprov_NAME fails with STATUS and a "not ok"
# line matching PATTERN (or, for a crash, a Bail out line).
flaw() {
	cat >"$T/f_$1.ini" <<EOF
[dnsfollow]
plugin_dir = ${FLAWDIR:-$FLAWS}
[provider p]
type = memprov_$1
zones = scratch.test
EOF
	kit "f_$1" -c "$T/f_$1.ini" --timeout 60
	if [ "$kit_rc" = "$2" ] && { failed "f_$1"; grep '^Bail out!' "$T/f_$1.tap"; } |
		grep -q -- "$3"; then
		ok "flaw $1: exit $2, reported as '$3'"
	else
		not_ok "flaw $1: exit $2, reported as '$3' (exit $kit_rc)"; show "f_$1"
	fi
}
cat >"$T/none.ini" <<EOF
[dnsfollow]
plugin_dir = $FLAWS
[provider p]
type = memprov_none
zones = scratch.test
EOF
kit none -c "$T/none.ini" --timeout 60
check "a correct non-atomic provider passes every check" \
	eval '[ "$kit_rc" = 0 ] && [ -z "$(failed none)" ] && grep -q "^ok .*failing group stops" "$T/none.tap"'
flaw append 1 "SET replaces the whole RRset"
flaw dup 1 "given twice in one SET is stored once"
flaw cname 1 "a CNAME beside other data is refused"
flaw delabsent 1 "DELETE of an absent RRset succeeds"
flaw zone 1 "apply() to an unknown zone is a permanent error"
flaw results 1 "results\[\] hold only 0 or negative"
flaw atomic 1 "an atomic provider applies all or nothing"
flaw upper 1 "names lower-case without the final dot"
flaw crash 2 "Bail out! the plugin"

# markers() flaws, memprov built here as a third party builds it.
FLAWDIR="$T/mkflaws"
build_memprov() { # FLAW
	_f=$(echo "$1" | tr a-z A-Z)
	mkdir -p "$FLAWDIR"
	${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -shared -fPIC \
		-fvisibility=hidden -I"$TOP/include" -DPLUGIN_NAME="\"memprov_$1\"" -DFLAW_$_f \
		-o "$FLAWDIR/memprov_$1.so" "$TOP/tests/conform/memprov.c" >"$T/cc_$1.out" 2>&1 ||
		{ sed 's/^/# /' "$T/cc_$1.out"; return 1; }
}
for f in mknone mksplit mkstale mkzone mkabsent; do
	check "memprov_$f builds" build_memprov $f
done
check "the markers() checks ran and passed on memprov_none" markers_ran none
flaw mknone 1 "reports both markers written, whole"
flaw mksplit 1 "reports both markers written, whole"
flaw mkstale 1 "does not report a deleted marker"
flaw mkzone 1 "has a name inside its zone"
grep -h '^# .*\(reported\|outside\)' "$T"/f_mk*.tap
# No markers op: each markers() check is skipped, saying why; the run passes.
sed 's/memprov_none/memprov_mkabsent/; s|^plugin_dir = .*|plugin_dir = '"$FLAWDIR"'|' \
	"$T/none.ini" >"$T/mkabsent.ini"
kit mkabsent -c "$T/mkabsent.ini" --timeout 60
check "no markers op: exit 0, the four markers() checks say 'SKIP no markers op'" \
	eval '[ "$kit_rc" = 0 ] && [ "$(grep -c "^ok [0-9]* - .*markers().*# SKIP no markers op\$" "$T/mkabsent.tap")" = 4 ]'
FLAWDIR=""

# ---- usage and bad input ---------------------------------------------
kit u1 --provider m
check "no -c: usage, exit 64" [ "$kit_rc" = 64 ]
kit u2 -c "$T/mock/kit.ini" --provider nosuch
check "an unknown --provider: exit 78 naming it" \
	eval '[ "$kit_rc" = 78 ] && grep -q "no \[provider nosuch\] section" "$T/u2.err"'
kit u3 -c "$T/mock/kit.ini" --zone elsewhere.test
check "--zone outside the provider's zones: exit 78" \
	eval '[ "$kit_rc" = 78 ] && grep -q "not one of" "$T/u3.err"'
printf '[provider m]\ntype = mock\nzones = scratch.test\nstate = s.json\nbogus = 1\n' >"$T/bad.ini"
kit u4 -c "$T/bad.ini"
check "a config error: exit 78 with FILE:LINE" \
	eval '[ "$kit_rc" = 78 ] && grep -q "bad.ini:5:" "$T/u4.err"'
sed 's/^state = .*/&\nlatency_ms = 3000/' "$T/mock/kit.ini" >"$T/slow.ini"
start=$(date +%s)
kit slow -c "$T/slow.ini" --timeout 1
check "a hung provider: Bail out after --timeout, exit 2" \
	eval '[ "$kit_rc" = 2 ] && grep -q "did not finish within 1 s" "$T/slow.tap" &&
		[ $(( $(date +%s) - start )) -le 5 ]'
tap_done
