#!/bin/sh
# `make install` into a staging folder: the binary, every plugin, the
# public headers and the docs land under PREFIX, and the installed binary
# runs with the installed plugins.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfinst.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
DF_ERR="$T/err"
D="$T/stage"
# A build folder of its own: PREFIX is compiled into the binary (the
# plugin folder it falls back to), so the suite's build must not be touched.
make -s -j2 -C "$TOP" install B="$T/build" DESTDIR="$D" PREFIX=/opt/df >"$T/make.out" 2>&1; rc=$?
check "make install DESTDIR=... PREFIX=/opt/df succeeds" [ "$rc" = 0 ]
check "binary installed" [ -x "$D/opt/df/bin/dnsfollow" ]
nplug=$(ls -d "$TOP"/providers/*/ "$TOP"/backends/*/ | wc -l)
check "every plugin installed ($nplug)" [ "$(ls "$D/opt/df/lib/dnsfollow" | wc -l)" = "$nplug" ]
check "public headers installed" eval '[ -f "$D/opt/df/include/dnsfollow/plugin.h" ] &&
	[ -f "$D/opt/df/include/dnsfollow/abi.h" ] && [ ! -e "$D/opt/df/include/dnsfollow/config.h" ]'
check "README and plugin guide installed" eval '[ -f "$D/opt/df/share/doc/dnsfollow/README.md" ] &&
	[ -f "$D/opt/df/share/doc/dnsfollow/plugin-guide.md" ]'
cat >"$T/p.ini" <<EOF
[gogs]
addresses = 192.0.2.10
EOF
cat >"$T/df.ini" <<EOF
[dnsfollow]
plugin_dir = $D/opt/df/lib/dnsfollow
[backend lab]
type = static
file = p.ini
[provider m]
type = mock
zones = example.test
state = state.json
[record git.example.test]
provider = m
backend = lab
service = gogs
EOF
DNSFOLLOW="$D/opt/df/bin/dnsfollow" df -c "$T/df.ini" --once; rc=$?
check "the installed binary knows its plugin folder" eval '"$D/opt/df/bin/dnsfollow" --list-plugins 2>&1 | grep -q "cannot read plugin folder /opt/df/lib/dnsfollow"'
check "the installed binary runs with the installed plugins" eval '[ "$rc" = 0 ] &&
	[ "$(python3 "$TOP/tests/lib/mockstate.py" "$T/state.json" example.test git.example.test A)" = 192.0.2.10 ]'
tap_done
