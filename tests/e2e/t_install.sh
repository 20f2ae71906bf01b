#!/bin/sh
# `make install` into a staging folder (DESTDIR): the binaries, every
# plugin, and the SDK a third party builds on (headers, dnsfollow.pc, the
# test host, the examples, each plugin's page, the guides). Then the
# installed pieces are used from there, as an author would: pkg-config on
# the installed .pc, the examples and a unit test on the test host built
# against the installed tree alone, the installed kit and daemon run with
# the installed plugins.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dfinst.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
DF_ERR="$T/err"
D="$T/stage"
P="$D/opt/df"
# A build folder of its own: PREFIX is compiled into the binary (the
# plugin folder it falls back to), so the suite's build must not be touched.
make -s -j2 -C "$TOP" install B="$T/build" DESTDIR="$D" PREFIX=/opt/df >"$T/make.out" 2>&1; rc=$?
check "make install DESTDIR=... PREFIX=/opt/df succeeds" [ "$rc" = 0 ]
if [ "$rc" != 0 ]; then tail -5 "$T/make.out" | sed 's/^/# /'; tap_done; exit 1; fi

check "dnsfollow and dnsfollow-conform installed" \
	eval '[ -x "$P/bin/dnsfollow" ] && [ -x "$P/bin/dnsfollow-conform" ]'
nplug=$(ls -d "$TOP"/providers/*/ "$TOP"/backends/*/ | wc -l)
check "every plugin installed ($nplug)" [ "$(ls "$P/lib/dnsfollow" | wc -l)" = "$nplug" ]
want=$( (cd "$TOP/include/dnsfollow" && ls *.h; echo testhost.h) | sort | tr '\n' ' ')
got=$(ls "$P/include/dnsfollow" | sort | tr '\n' ' ')
check "the public headers and testhost.h installed, nothing of core/ ($got)" [ "$got" = "$want" ]
check "the test host library installed" [ -f "$P/lib/libdnsfollow-testhost.a" ]

# ---- pkg-config on the installed .pc ----
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
check "dnsfollow.pc installed, Version $version" \
	[ "$(pkg-config --modversion dnsfollow 2>/dev/null)" = "$version" ]
check "--cflags is -I/opt/df/include" \
	eval 'pkg-config --cflags dnsfollow | grep -q -- "-I/opt/df/include"'
check "--variable=plugindir is /opt/df/lib/dnsfollow" \
	[ "$(pkg-config --variable=plugindir dnsfollow)" = /opt/df/lib/dnsfollow ]
check "Requires: jansson (part of the SDK)" \
	eval 'pkg-config --print-requires dnsfollow | grep -q "^jansson"'
check "dnsfollow-testhost.pc links the test host" \
	eval 'pkg-config --libs dnsfollow-testhost | grep -q -- "-ldnsfollow-testhost"'
# From here on, the staged tree stands for /opt/df.
export PKG_CONFIG_SYSROOT_DIR="$D"

# ---- documentation ----
DOC="$P/share/doc/dnsfollow"
check "README, plugin guide and conformance guide installed" eval '[ -f "$DOC/README.md" ] &&
	[ -f "$DOC/plugin-guide.md" ] && [ -f "$DOC/conformance.md" ]'
missing=""
for ex in "$TOP"/docs/examples/*.c; do
	[ -f "$DOC/examples/$(basename "$ex")" ] || missing="$missing $(basename "$ex")"
done
check "the examples installed${missing:+ (missing:$missing)}" [ -z "$missing" ]
missing=""
for d in "$TOP"/providers/*/ "$TOP"/backends/*/; do
	n=$(basename "$d")
	[ ! -f "$d/README.md" ] || [ -f "$DOC/plugins/$n.md" ] || missing="$missing $n"
done
check "each plugin's page installed${missing:+ (missing:$missing)}" [ -z "$missing" ]

# ---- building against the installed SDK alone ----
mkdir "$T/plugins" "$T/ut"
for ex in "$DOC"/examples/*.c; do
	n=$(basename "$ex" .c)
	cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags dnsfollow) -shared -fPIC \
		-fvisibility=hidden -Wl,--no-undefined -o "$T/plugins/$n.so" "$ex" \
		$(pkg-config --libs dnsfollow) $(pkg-config --libs jansson) >"$T/$n.cc" 2>&1; rc=$?
	check "example $n.c builds with pkg-config --cflags dnsfollow" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || head -5 "$T/$n.cc" | sed 's/^/# /'
done
cp "$TOP/tests/conform/test_testhost.c" "$TOP/tests/conform/memprov.c" "$T/ut/"
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -DPLUGIN_NAME='"memprov"' -o "$T/ut/test" \
	"$T/ut/test_testhost.c" "$T/ut/memprov.c" \
	$(pkg-config --cflags --libs dnsfollow-testhost) >"$T/ut.cc" 2>&1; rc=$?
check "a plugin's unit test links the installed test host" [ "$rc" = 0 ]
[ "$rc" = 0 ] || head -5 "$T/ut.cc" | sed 's/^/# /'
"$T/ut/test" >"$T/ut.tap" 2>&1; rc=$?
check "it runs without the daemon ($(grep -c '^ok' "$T/ut.tap") checks)" \
	eval '[ "$rc" = 0 ] && ! grep -q "^not ok" "$T/ut.tap"'
[ "$rc" = 0 ] || grep -v '^ok' "$T/ut.tap" | sed 's/^/# /'

# ---- the installed programs with the installed plugins ----
cat >"$T/p.ini" <<EOF
[gogs]
addresses = 192.0.2.10
EOF
cat >"$T/df.ini" <<EOF
[dnsfollow]
plugin_dir = $P/lib/dnsfollow
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
DNSFOLLOW="$P/bin/dnsfollow" df -c "$T/df.ini" --once; rc=$?
check "the installed binary knows its plugin folder" eval '"$P/bin/dnsfollow" --list-plugins 2>&1 | grep -q "cannot read plugin folder /opt/df/lib/dnsfollow"'
check "the installed binary runs with the installed plugins" eval '[ "$rc" = 0 ] &&
	[ "$(python3 "$TOP/tests/lib/mockstate.py" "$T/state.json" example.test git.example.test A)" = 192.0.2.10 ]'
"$P/bin/dnsfollow-conform" -c "$T/df.ini" --provider m >"$T/kit.tap" 2>&1; rc=$?
check "the installed kit passes the installed mock ($(grep -c '^ok' "$T/kit.tap") checks)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || grep -v '^ok' "$T/kit.tap" | sed 's/^/# /'
tap_done
