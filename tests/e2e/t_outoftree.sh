#!/bin/sh
# The pdns provider built OUT OF TREE, as a third party would: `make
# install` into a staging root, then its sources alone (copied to a temp
# dir, no core headers, no Makefile) compiled with
# `pkg-config --cflags dnsfollow` against the staged SDK. The result must
# export one symbol, load (`--list-plugins`), publish a record through a
# real pdns_server and, when the conformance kit is installed, pass
# `dnsfollow-conform` there.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/pdns/lib.sh"

pdns_init dfoot
DF_ERR="$W/err"
STAGE="$W/stage"
mkdir "$W/src" "$W/plugins"
cp "$TOP"/providers/pdns/*.c "$W/src/"

# Own build folder: PREFIX is compiled into the binary.
make -s -j2 -C "$TOP" install B="$W/build" DESTDIR="$STAGE" PREFIX=/usr >"$W/make.out" 2>&1; rc=$?
check "make install DESTDIR=... PREFIX=/usr succeeds" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { tail -5 "$W/make.out" | sed 's/^/# /'; tap_done; exit 1; }
DFBIN="$STAGE/usr/bin/dnsfollow"

# The SDK as installed. PKG_CONFIG_SYSROOT_DIR maps the .pc's /usr paths
# into the staging root (and keeps -I/usr/include, which pkg-config would
# otherwise drop as a system folder, pointing there).
pc=$(find "$STAGE" -name dnsfollow.pc | head -1)
if [ -n "$pc" ]; then
	ok "dnsfollow.pc installed (${pc#$STAGE})"
	# jansson (Requires:) comes from the system's own pkg-config folders.
	export PKG_CONFIG_PATH="$(dirname "$pc")"
	export PKG_CONFIG_SYSROOT_DIR="$STAGE" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
	CFLAGS_SDK=$(pkg-config --cflags dnsfollow 2>"$W/pc.err"); rc=$?
	check "pkg-config --cflags dnsfollow works (Requires: jansson found)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/pc.err"
	pdir=$(env -u PKG_CONFIG_SYSROOT_DIR pkg-config --variable=plugindir dnsfollow)
	check "pkg-config names the plugin folder, where the plugins are (plugindir=$pdir)" \
		eval '[ "$pdir" = /usr/lib/dnsfollow ] && [ -f "$STAGE$pdir/static.so" ]'
else
	not_ok "dnsfollow.pc installed by make install"
	CFLAGS_SDK="-I$STAGE/usr/include"
fi
diag "cflags: $CFLAGS_SDK"

cc -std=c11 -Wall -Wextra -Werror -O2 $CFLAGS_SDK -shared -fPIC -fvisibility=hidden \
	-Wl,--no-undefined -MD -MF "$W/deps" -o "$W/plugins/pdns.so" "$W"/src/*.c \
	$(pkg-config --libs jansson) >"$W/cc.out" 2>&1; rc=$?
check "pdns builds out of tree against the installed SDK alone" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { head -10 "$W/cc.out" | sed 's/^/# /'; tap_done; exit 1; }
# Every dnsfollow header the compiler opened, from the dependency file.
hdrs=$(tr ' \\' '\n\n' <"$W/deps" | grep 'dnsfollow/.*\.h$' | sort -u)
elsewhere=$(echo "$hdrs" | grep -v "^$STAGE/usr/include/dnsfollow/")
from_sdk() { [ -z "$elsewhere" ] && echo "$hdrs" | grep -qx "$STAGE/usr/include/dnsfollow/plugin.h"; }
check "every dnsfollow header it used came from the staged SDK" from_sdk
[ -z "$elsewhere" ] || echo "$elsewhere" | sed 's/^/# not from the SDK: /'
check "it exports exactly one symbol" \
	[ "$(nm -D --defined-only "$W/plugins/pdns.so" | awk '$2 ~ /[A-Z]/ {print $3}' | grep -v '^_' | tr '\n' ' ')" = "dnsfollow_plugin " ]

cat >"$W/list.ini" <<EOF
[dnsfollow]
plugin_dir = $W/plugins
EOF
out=$("$DFBIN" --list-plugins -c "$W/list.ini" 2>&1); rc=$?
check "the installed dnsfollow loads it (--list-plugins, rc=$rc)" eval \
	'echo "$out" | grep -q "pdns .*provider" && echo "$out" | grep -q api_key'
echo "$out" | grep -A8 "pdns" | sed 's/^/# /'

# It works: one record through a real PowerDNS with the out-of-tree build.
if ! pdns_have; then
	ok "out-of-tree build against PowerDNS # SKIP $PDNS_MISSING missing"
	tap_done; exit
fi
DNS=15383
API=15384
KEY="df-oot-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
if ! pdns_start $DNS $API "$KEY" example.test; then
	not_ok "pdns_server starts"
	tap_done; exit 1
fi
PLUGINS="$W/plugins"
ln -s "$STAGE/usr/lib/dnsfollow/static.so" "$W/plugins/static.so"
pdns_place gogs "addresses = 192.0.2.10"
pdns_conf "$W/df.ini" $API example.test "api_key = $KEY"
pdns_record "$W/df.ini" git.example.test gogs "type = A"
DNSFOLLOW="$DFBIN"
df -c "$W/df.ini" --once; rc=$?
check "the out-of-tree build publishes a record (rc=$rc)" \
	[ "$rc/$(pdns_dig $DNS git.example.test A)" = 0/192.0.2.10 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$DF_ERR" | grep -v ' debug ' | tail -5

KIT="$STAGE/usr/bin/dnsfollow-conform"
if [ ! -x "$KIT" ]; then
	not_ok "dnsfollow-conform installed by make install"
	tap_done; exit
fi
timeout 300 "$KIT" -c "$W/df.ini" --provider dns --zone example.test >"$W/kit.out" 2>&1; rc=$?
grep -E '^(not ok|# )' "$W/kit.out" | head -20
check "the out-of-tree build passes dnsfollow-conform against pdns_server ($(grep -c '^ok' "$W/kit.out") ok, $(grep -c '^not ok' "$W/kit.out") not ok, rc=$rc)" \
	[ "$rc" = 0 ]
no_dfc() { pdns_api $API "$KEY" GET example.test >"$W/zone.json" && ! grep -q 'dfc-' "$W/zone.json"; }
check "the kit left no dfc-* names behind" no_dfc
tap_done
