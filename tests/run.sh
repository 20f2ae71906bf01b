#!/bin/sh
# Runs every test: unit binaries (cmocka, TAP output) and test scripts
# (tests/*/t_*.sh, TAP output), and prints one summary line.
#   B        build folder (default build)
#   DF_WRAP  prefix for binaries (valgrind)
#   ONLY     run only tests whose path contains this string
#   DF_SANITIZED  set by check-asan: scripts marked "# check-asan: skip"
#            (they test what the sanitized build does not run, such as
#            the image, which is built without sanitizers) count as one
#            skip each
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
: "${B:=build}"
export B TOP
export CMOCKA_MESSAGE_OUTPUT=TAP
: "${DF_WRAP:=}"
export DF_WRAP
LOG="$B/test-logs"
mkdir -p "$LOG"  # per-test logs are overwritten, not wiped: runs may overlap
pass=0; fail=0; skip=0; failed=""

run_one() { # NAME COMMAND...
	name=$1; shift
	log="$LOG/$(echo "$name" | tr '/' '_').log"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^ok .*# [Ss][Kk][Ii][Pp]' "$log")
	p=$((p - s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	t=$(( $(date +%s) - start ))
	if [ "$f" = 0 ]; then
		echo "PASS $name ($p passed, $s skipped, ${t}s)"
	else
		echo "FAIL $name ($p passed, $f failed, ${t}s) — log: $log"
		grep -E '^(not ok|# )' "$log" | head -40 | sed 's/^/    /'
		failed="$failed $name"
	fi
}

for t in $(find "$B/tests/unit" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	case "$t" in *"${ONLY:-}"*) ;; *) continue ;; esac
	run_one "${t#$B/tests/}" $DF_WRAP "$t"
done
for t in $(ls tests/*/t_*.sh 2>/dev/null | sort); do
	case "$t" in *"${ONLY:-}"*) ;; *) continue ;; esac
	why=$(sed -n 's/^# check-asan: skip *//p' "$t" | head -1)
	if [ -n "${DF_SANITIZED:-}" ] && [ -n "$why" ]; then
		echo "SKIP ${t#tests/} under sanitizers: $why"
		skip=$((skip + 1))
		continue
	fi
	run_one "${t#tests/}" sh "$t"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
