#!/bin/bash
# bench/stat.sh [ROWS] - how fast xtcp-stat is, in rows per second.
#
#  1. kernel-sized rows: a capture replayed until it holds about ROWS records
#     (default 1000000; one poll, as a host with that many sockets gives),
#     summarised by netns,state with rtt,cwnd,retrans and three quantiles,
#     and by a key of many groups (src,sport); against `cat` (the floor) and
#     `xtcp-filter -c` (the cheapest other reader of every row);
#  2. generated rows (xtcp-bench gen: 784-byte rows, a poll every 1000), the
#     same summaries, and -f openmetrics;
#  3. allocations per row: xtcp-bench micro's StatPerRow (0 allocs/op: the
#     poll's arrays are reused, so a run allocates only for its largest poll).
#  4. memory with churn: the peak RSS of xtcp-stat over 10 and over 100
#     polls of 10000 sockets with 5% replaced each poll (flat: a poll's
#     groups are released when it is written).
#
# Results go to bench/results/stat-*.{json,md}.  Compare ratios: absolute
# times drift on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
ROWS=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results
export PATH="$PWD/$B/bin:$PATH"

rate() {
	python3 - "$1" "$2" <<'PY'
import json, sys
rows = int(sys.argv[1])
for r in json.load(open(sys.argv[2]))["results"]:
    print("%-58s mean %6.3f s  min %6.3f s  %5.2f M rows/s (at min %5.2f)" % (
        r["command"], r["mean"], r["min"], rows / r["mean"] / 1e6, rows / r["min"] / 1e6))
PY
}

echo "== 1. kernel rows"
xtcp-dump -r tests/data/netlink/6_6_44/tcp_100_sockets.pcap >"$tmp/cap1.pb"
per=$(xtcp-filter -c 'family != 0' "$tmp/cap1.pb")
copies=$(( (ROWS + per - 1) / per ))
for _ in $(seq "$copies"); do cat "$tmp/cap1.pb"; done >"$tmp/cap.pb"
krows=$((copies * per))
echo "stream: $krows rows, $(stat -c %s "$tmp/cap.pb") bytes"
hyperfine -N --warmup 2 --min-runs 10 \
	--export-json bench/results/stat-kernel.json \
	--export-markdown bench/results/stat-kernel.md \
	-n "cat (floor)" "sh -c 'cat $tmp/cap.pb > /dev/null'" \
	-n "xtcp-filter -c" "xtcp-filter -c 'family != 0' $tmp/cap.pb" \
	-n "xtcp-stat (netns,state; rtt,cwnd,retrans)" "sh -c 'xtcp-stat -f json $tmp/cap.pb > /dev/null'" \
	-n "xtcp-stat --by src,sport" "sh -c 'xtcp-stat -f json --by src,sport $tmp/cap.pb > /dev/null'"
rate "$krows" bench/results/stat-kernel.json

echo "== 2. generated rows"
xtcp-bench gen -n "$ROWS" -o "$tmp/gen.pb"
hyperfine -N --warmup 2 --min-runs 10 \
	--export-json bench/results/stat-gen.json \
	--export-markdown bench/results/stat-gen.md \
	-n "cat (floor)" "sh -c 'cat $tmp/gen.pb > /dev/null'" \
	-n "xtcp-stat (netns,state; rtt,cwnd,retrans)" "sh -c 'xtcp-stat -f json $tmp/gen.pb > /dev/null'" \
	-n "xtcp-stat -f openmetrics" "sh -c 'xtcp-stat -f openmetrics $tmp/gen.pb > /dev/null'"
rate "$ROWS" bench/results/stat-gen.json

echo "== 3. allocations per row"
xtcp-bench micro -run StatPerRow -benchtime 1s

echo "== 4. memory with churn (5% a poll): 10 and 100 polls of 10000 sockets"
for polls in 10 100; do
	xtcp-bench gen -n $((polls * 10000)) --sockets 10000 --churn 5 |
		/usr/bin/time -f "$polls polls: max RSS %M KiB, %e s" xtcp-stat --by src,sport >/dev/null
done 2>&1 | tee bench/results/stat-memory.txt
