#!/bin/sh
# A third-party plugin built out of tree from docs/examples with only the
# public headers, loaded next to the shipped ones.
. "$(dirname "$0")/../lib/tap.sh"

T=$(mktemp -d /tmp/dftp.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
DF_ERR="$T/err"
mkdir "$T/plugins" "$T/inc"
# Only the public tree is visible to the compiler: nothing from core/.
cp -r "$TOP/include/dnsfollow" "$T/inc/"
check "example builds against the public headers alone" \
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
	-Wl,--no-undefined -I"$T/inc" -o "$T/plugins/env.so" "$TOP/docs/examples/envbackend.c"
check "it exports exactly one symbol" \
	[ "$(nm -D --defined-only "$T/plugins/env.so" | awk '$2 ~ /[A-Z]/ {print $3}' | grep -v '^_' | tr '\n' ' ')" = "dnsfollow_plugin " ]
ln -s "$PLUGINS/mock.so" "$T/plugins/mock.so"
cat >"$T/df.ini" <<EOF2
[dnsfollow]
plugin_dir = plugins
[backend e]
type = env
[provider m]
type = mock
zones = example.test
state = state.json
[record web.example.test]
provider = m
backend = e
service = web-1
type = A, AAAA
EOF2
DNSFOLLOW_ADDRS_WEB_1="192.0.2.7 2001:db8::7" df -c "$T/df.ini" --once; rc=$?
check "dnsfollow runs with the third-party backend" [ "$rc" = 0 ]
MS="python3 $TOP/tests/lib/mockstate.py $T/state.json example.test"
check "its addresses are published" eval '
	[ "$($MS web.example.test A)" = 192.0.2.7 ] && [ "$($MS web.example.test AAAA)" = 2001:db8::7 ]'
df -c "$T/df.ini" --once; rc=$?
check "unset variable: permanent error, record kept" eval '[ "$rc" = 1 ] &&
	grep -q "DNSFOLLOW_ADDRS_WEB_1 is not set" "$T/err" && [ "$($MS web.example.test A)" = 192.0.2.7 ]'
out=$(df --list-plugins -c "$T/df.ini")
check "--list-plugins shows it with its key" eval 'echo "$out" | grep -q "env .*backend, version 1.0" && echo "$out" | grep -q "prefix"'
tap_done
