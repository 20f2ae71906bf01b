#!/bin/sh
# rfc2136 key_file problems, end to end (no server needed): a FIFO or a
# directory is refused at once, a name defined twice with different
# algorithms, a NUL byte and a statement given twice each get one
# FILE:LINE line and exit 78; a key file others may read is warned about.
# The secret is never printed. Then the provider's typed keys (ABI 2): a
# bad transport, read, timeout_ms, full_read_interval or key_algorithm is
# one FILE:LINE line from the core's type check, exit 78.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
. "$TOP/tests/rfc2136/lib.sh"
r2136_init

S=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
r2136_place gogs "192.0.2.10"
# run KEYFILE: --check-config with that key file; sets RC, MS
run() {
	r2136_conf "$W/df.ini" 9 "$1" example.test
	r2136_record "$W/df.ini" git.example.test gogs "type = A"
	t0=$(date +%s%N)
	timeout 10 "$DNSFOLLOW" -c "$W/df.ini" --check-config 2>"$DF_ERR" >/dev/null
	RC=$?
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
# refused NAME FILE PATTERN
refused() {
	check "$1: exit 78 (got $RC)" [ "$RC" = 78 ]
	n=$(grep -v " debug " "$DF_ERR" | grep -c -- "$3")
	check "$1: one line '$3' (got $n)" [ "$n" = 1 ]
	[ "$n" = 1 ] || sed 's/^/# /' "$DF_ERR" | head -3
	check "$1: secret not printed" sh -c "! grep -qF '$S' '$DF_ERR'"
}

mkfifo -m 600 "$W/fifo.key"
run "$W/fifo.key"
refused "FIFO" "$W/fifo.key" "$W/fifo.key: is a FIFO; give a regular file"
check "FIFO: refused at once (${MS} ms)" [ "$MS" -lt 2000 ]
mkdir "$W/dir.key"
run "$W/dir.key"
refused "directory" "$W/dir.key" "$W/dir.key: is a directory"

printf 'key "upd" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\nkey "upd" {\n\talgorithm hmac-sha512;\n\tsecret "%s";\n};\n' $S $S >"$W/dup.key"
chmod 600 "$W/dup.key"
run "$W/dup.key"
refused "same name, other algorithm" "$W/dup.key" \
	"$W/dup.key:5: key 'upd' is defined again (first at line 1)"
printf 'key:\n  - id: upd\n    algorithm: hmac-sha256\n    secret: %s\n  - id: upd\n    algorithm: hmac-sha256\n    secret: YWJjZA==\n' $S >"$W/dup.knot.key"
chmod 600 "$W/dup.knot.key"
run "$W/dup.knot.key"
refused "keymgr format, same name, other secret" "$W/dup.knot.key" \
	"$W/dup.knot.key:5: key 'upd' is defined again (first at line 2)"
printf 'key "upd" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n\talgorithm hmac-sha1;\n};\n' $S >"$W/twice.key"
chmod 600 "$W/twice.key"
run "$W/twice.key"
refused "statement twice" "$W/twice.key" "$W/twice.key:4: key 'upd' has a second algorithm statement"
printf 'key "upd" {\n\talgorithm hmac-sha256;\0\n\tsecret "%s";\n};\n' $S >"$W/nul.key"
chmod 600 "$W/nul.key"
run "$W/nul.key"
refused "NUL byte" "$W/nul.key" "$W/nul.key:2: contains a NUL byte"

printf 'key "upd" { algorithm hmac-sha256; secret "%s"; };\n' $S >"$W/ok.key"
chmod 600 "$W/ok.key"
run "$W/ok.key"
check "mode 600: accepted (rc=$RC)" [ "$RC" = 0 ]
check "mode 600: no warning" sh -c "! grep -q 'chmod 600' '$DF_ERR'"
chmod 640 "$W/ok.key"
run "$W/ok.key"
check "mode 640: accepted (rc=$RC)" [ "$RC" = 0 ]
check "mode 640: warned, readable by its group, chmod 600 it" \
	grep -q "$W/ok.key holds a secret but is readable by its group (mode 640); chmod 600 it" "$DF_ERR"

# typed LINE PATTERN: --check-config with LINE in the provider section
# (line 16 of the file) is refused with PATTERN; PATTERN "" means accepted.
typed() {
	r2136_conf "$W/df.ini" 9 "$W/ok.key" example.test "$1"
	r2136_record "$W/df.ini" git.example.test gogs "type = A"
	timeout 10 "$DNSFOLLOW" -c "$W/df.ini" --check-config 2>"$DF_ERR" >/dev/null
	RC=$?
	if [ -z "$2" ]; then
		check "'$1' accepted (rc=$RC)" [ "$RC" = 0 ]
		return
	fi
	check "'$1': exit 78 (got $RC)" [ "$RC" = 78 ]
	n=$(grep -c -- "^$W/df.ini:16: $2" "$DF_ERR")
	check "'$1': one line 'df.ini:16: $2' (got $n)" [ "$n" = 1 ]
	[ "$n" = 1 ] || sed 's/^/# /' "$DF_ERR" | head -3
}
chmod 600 "$W/ok.key"
typed "transport = quic" "transport must be udp or tcp"
typed "read = ixfr" "read must be query, axfr or auto"
typed "timeout_ms = 5" "timeout_ms must be a whole number from 10 to 600000"
typed "timeout_ms = 1x" "timeout_ms must be a whole number"
typed "full_read_interval = 25h" "full_read_interval must be a duration from 0s to 24h"
typed "key_algorithm = hmac-md5" "key_algorithm must be hmac-sha1, "
typed "transport = TCP" ""
typed "full_read_interval = 5m" ""
tap_done
