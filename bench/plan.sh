#!/bin/sh
# Core planning benchmark: 1k / 10k / 100k records over 100 zones, with
# in-memory plugins (bench/plugins), so only the core's work is timed.
# Peer: qsort of the same N names in the same process.
# Target: a pass (first sync, steady, or changing every record) grows at
# most ~12x from 10k to 100k records. Steady and change passes are the
# best of 5 (the machine may be shared).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${B:=build}"
case "$B" in /*) ;; *) B="$TOP/$B" ;; esac
T=$(mktemp -d /tmp/dfbench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
printf '%-8s %9s %10s %10s %10s %9s %10s %11s\n' records load_ms create_ms steady_ms change_ms qsort_ms peak_rss changes
for n in 1000 10000 100000; do
	"$B/bench/planbench" "$n" 100 "$B/bench/plugins" "$T/bench.ini" >"$T/$n.out"
	read -r N load create steady change sort rss changes <"$T/$n.out"
	printf '%-8s %9s %10s %10s %10s %9s %7s MiB %11s\n' "$N" "$load" "$create" "$steady" "$change" "$sort" \
		"$((rss / 1024))" "$changes"
done
awk -v a="$(cat "$T/10000.out")" -v b="$(cat "$T/100000.out")" 'BEGIN {
	split(a, x, " "); split(b, y, " ");
	printf "growth 10k -> 100k: load %.1fx, first sync %.1fx, steady pass %.1fx, change pass %.1fx, peak RSS %.1fx (target: passes <= 12x)\n",
		y[2]/x[2], y[3]/x[3], y[4]/x[4], y[5]/x[5], y[7]/x[7];
	printf "steady pass vs qsort of the names (peer, same run): %.1fx at 10k, %.1fx at 100k\n",
		x[4]/x[6], y[4]/y[6];
	ok = (y[3]/x[3] <= 12 && y[4]/x[4] <= 12 && y[5]/x[5] <= 12);
	print ok ? "plan benchmark: PASS" : "plan benchmark: FAIL";
	exit !ok }'
