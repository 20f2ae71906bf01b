# Shell helpers for test scripts (sourced). Scripts print TAP; tests/run.sh
# adds up every "ok" / "not ok" line.
#   TOP       repository root          B        build folder (build/)
#   DNSFOLLOW the binary to run        PLUGINS  the plugin folder
#   DF_WRAP   prefix for the binary (valgrind in check-valgrind)
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${B:=build}"
case "$B" in /*) ;; *) B="$TOP/$B" ;; esac
DNSFOLLOW="$B/dnsfollow"
PLUGINS="$B/plugins"
: "${DF_WRAP:=}"
_tap_n=0
_tap_fail=0

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else not_ok "$_d"; fi; }
diag() { echo "# $*"; }
# Runs dnsfollow under $DF_WRAP; stderr goes to $OUT/last.err.
df() { $DF_WRAP "$DNSFOLLOW" "$@" 2>"${DF_ERR:-/dev/null}"; }
tap_done() { echo "1..$_tap_n"; [ "$_tap_fail" = 0 ]; }
# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	_t=$(( $1 * 10 )); shift
	while [ "$_t" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; _t=$((_t - 1))
	done
	return 1
}
