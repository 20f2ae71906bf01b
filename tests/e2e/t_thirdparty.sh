#!/bin/sh
# Third-party plugins built out of tree from docs/examples with only the
# public headers (and jansson, part of the SDK): the env backend and the
# files provider, run together by dnsfollow, A/AAAA and CNAME records.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dftp.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
DF_ERR="$T/err"
mkdir "$T/plugins" "$T/inc" "$T/zones"
# Only the public tree is visible to the compiler: nothing from core/.
cp -r "$TOP/include/dnsfollow" "$T/inc/"
build() { # NAME SOURCE [LIBS]
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
		-Wl,--no-undefined -I"$T/inc" -o "$T/plugins/$1.so" "$TOP/docs/examples/$2" $3
}
exports() { nm -D --defined-only "$1" | awk '$2 ~ /[A-Z]/ {print $3}' | grep -v '^_' | tr '\n' ' '; }
check "example backend builds against the public headers alone" build env envbackend.c
check "example provider builds against the public headers alone" build files filesprovider.c -ljansson
check "each exports exactly one symbol" eval '
	[ "$(exports "$T/plugins/env.so")" = "dnsfollow_plugin " ] &&
	[ "$(exports "$T/plugins/files.so")" = "dnsfollow_plugin " ]'
cat >"$T/df.ini" <<EOF2
[dnsfollow]
plugin_dir = plugins
[backend e]
type = env
[provider f]
type = files
zones = example.test
dir = zones
[record web.example.test]
provider = f
backend = e
service = web-1
type = A, AAAA
[record alias.example.test]
provider = f
backend = e
service = web-1
type = CNAME
EOF2
# One RRset of the files provider's zone file: its data, sorted.
Z() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1])).get(sys.argv[2], {})
print(" ".join(sorted(d.get("rdata", []))))' "$T/zones/example.test.json" "$1"; }
df --check-config -c "$T/df.ini" >/dev/null; rc=$?
check "--check-config accepts both plugins' keys" [ "$rc" = 0 ]
DNSFOLLOW_ADDRS_WEB_1="192.0.2.7 2001:db8::7" DNSFOLLOW_ADDRS_WEB_1_HOST=Node1.Example.NET. \
	df -c "$T/df.ini" --once; rc=$?
check "dnsfollow runs with the third-party plugins" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$(cat "$T/err")"
check "the addresses are published" eval '
	[ "$(Z "web.example.test A")" = 192.0.2.7 ] && [ "$(Z "web.example.test AAAA")" = 2001:db8::7 ]'
check "the CNAME points at the node's DNS name" [ "$(Z "alias.example.test CNAME")" = node1.example.net ]
check "ownership markers are written as raw TXT" eval '
	Z "_dnsfollow.web.example.test TXT" | grep -q "heritage=dnsfollow" &&
	! Z "_dnsfollow.web.example.test TXT" | grep -q "\""'
df -c "$T/df.ini" --once; rc=$?
check "unset variable: permanent error, records kept" eval '[ "$rc" = 1 ] &&
	grep -q "DNSFOLLOW_ADDRS_WEB_1 is not set" "$T/err" && [ "$(Z "web.example.test A")" = 192.0.2.7 ] &&
	[ "$(Z "alias.example.test CNAME")" = node1.example.net ]'
printf '[dnsfollow]\nplugin_dir = plugins\n[provider g]\ntype = files\nzones = example.org\n' >"$T/bad.ini"
df --check-config -c "$T/bad.ini"; rc=$?
check "its required key missing is a config error (78) naming the file" eval '
	[ "$rc" = 78 ] && grep -q "bad.ini" "$T/err" && grep -q dir "$T/err"'
# The example provider keeps the semantics every provider must keep.
if [ -x "$B/dnsfollow-conform" ]; then
	mkdir "$T/kit"
	printf '[dnsfollow]\nplugin_dir = plugins\n[provider k]\ntype = files\nzones = kit.test\ndir = kit\n' \
		>"$T/kit.ini"
	$DF_WRAP "$B/dnsfollow-conform" -c "$T/kit.ini" --provider k >"$T/kit.out" 2>&1; rc=$?
	check "the example provider passes dnsfollow-conform" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || diag "$(grep -A1 '^not ok' "$T/kit.out")"
else
	ok "the example provider passes dnsfollow-conform # SKIP $B/dnsfollow-conform not built"
fi
out=$(df --list-plugins -c "$T/df.ini")
check "--list-plugins shows both with their keys" eval '
	echo "$out" | grep -q "env .*backend, version 2.0" && echo "$out" | grep -q "prefix" &&
	echo "$out" | grep -q "files .*provider, version 1.0" && echo "$out" | grep -q "dir"'
tap_done
