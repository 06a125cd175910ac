#!/bin/bash
# xtcp-kafka throughput: a generated stream into librdkafka's mock cluster.
#
#   bench/kafka.sh [ROWS [RUNS [xtcp-kafka options...]]]
#
# Writes ROWS synthetic records (xtcp-bench gen, seed 1; default 1000000) to
# a file, starts tests/helpers/xtcp-mock-kafka (1 broker, topic with 4
# partitions) on loopback, then runs `xtcp-kafka -b MOCK -t xtcp FILE` RUNS
# times (default 5) and prints, per run and as the median: wall time, rows per
# second, and xtcp-kafka's CPU (user + system) per row.  The mock broker runs
# in its own process, so its CPU is not in xtcp-kafka's.  Extra options go to
# xtcp-kafka (e.g. --rows 1000, --bytes 256KiB).
#
# Uses build/bin (set XTCP_BUILD to use another build).
set -euo pipefail

rows=${1:-1000000}
runs=${2:-5}
shift $(($# > 2 ? 2 : $#))
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${XTCP_BUILD:-$top/build}/bin
tmp=$(mktemp -d)
mock_pid=
cleanup() {
	[ -z "$mock_pid" ] || kill "$mock_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/xtcp-bench" gen -n "$rows" --seed 1 -o "$tmp/gen.pb"
size=$(stat -c %s "$tmp/gen.pb")
"$bin/xtcp-mock-kafka" -t xtcp -p 4 >"$tmp/mock.out" &
mock_pid=$!
for _ in $(seq 100); do
	brokers=$(head -1 "$tmp/mock.out")
	[ -n "$brokers" ] && break
	sleep 0.05
done
[ -n "$brokers" ] || { echo "kafka.sh: the mock cluster did not start" >&2; exit 1; }

echo "# $rows rows, $size bytes ($((size / rows)) bytes/row), $(nproc) CPUs, $(date -u +%F)"
echo "# xtcp-kafka -b MOCK -t xtcp $* FILE"
printf '%-4s %10s %14s %14s %8s\n' run wall_s rows_per_s cpu_ns_per_row messages
for i in $(seq "$runs"); do
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" \
		"$bin/xtcp-kafka" -b "$brokers" -t xtcp "$@" "$tmp/gen.pb" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	read -r wall user sys <"$tmp/time"
	messages=$(sed -n 's/.* messages=\([0-9]*\) .*/\1/p' "$tmp/err")
	awk -v i="$i" -v r="$rows" -v w="$wall" -v u="$user" -v s="$sys" -v m="$messages" 'BEGIN {
		printf "%-4s %10.2f %14.0f %14.0f %8s\n", i, w, r / w, (u + s) * 1e9 / r, m }'
done | tee "$tmp/runs"
sort -k2,2n "$tmp/runs" | awk -v n="$runs" 'NR == int((n + 1) / 2) {
	printf "median %8.2f %14.0f %14.0f %8s\n", $2, $3, $4, $5 }'
