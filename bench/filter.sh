#!/bin/bash
# bench/filter.sh [ROWS] - how fast xtcp-filter is, and its share of a pipeline.
#
#  1. rows per second: xtcp-filter with a three-clause expression over a
#     generated stream of ROWS records (xtcp-bench gen, default 1000000),
#     against `cat` (reading the file, the floor) and xtcp-fmt -f json alone
#     on the same stream, in one hyperfine run;
#  2. the cost per row of the two ways of evaluating (scanning the row bytes,
#     or decoding the whole record first), on the same stream, from the unit
#     test's timer (tests/unit/t-filter.c);
#  3. the filter's share of dump | filter | fmt: the pipeline with and without
#     the filter, in one hyperfine run, on a replayed capture and, when run as
#     root, on live sockets (xtcp-bench load, 20000 connections).
#
# Results go to bench/results/filter-*.{json,md}.  Compare ratios: absolute
# times drift on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
ROWS=${1:-1000000}
EXPR='state == ESTABLISHED && rtt > 5ms && dst in 10.0.0.0/8'
# three clauses that keep every row, so fmt has the same work with and without the filter
KEEP='family != 0 && rtt >= 0 && cong != none'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results
export PATH="$PWD/$B/bin:$PATH"

echo "== 1. $ROWS generated records"
xtcp-bench gen -n "$ROWS" -o "$tmp/gen.pb"
echo "stream: $(stat -c %s "$tmp/gen.pb") bytes, $(xtcp-filter -c "$EXPR" "$tmp/gen.pb") rows match '$EXPR'"
hyperfine -N --warmup 2 --min-runs 10 \
	--export-json bench/results/filter-rows.json \
	--export-markdown bench/results/filter-rows.md \
	-n "cat (floor)" "sh -c 'cat $tmp/gen.pb > /dev/null'" \
	-n "xtcp-filter -c" "xtcp-filter -c '$EXPR' $tmp/gen.pb" \
	-n "xtcp-filter" "sh -c \"xtcp-filter '$EXPR' $tmp/gen.pb > /dev/null\"" \
	-n "xtcp-fmt -f json" "sh -c 'xtcp-fmt -f json $tmp/gen.pb > /dev/null'" \
	-n "xtcp-filter (keep all) | xtcp-fmt -f json" \
	"sh -c \"xtcp-filter '$KEEP' $tmp/gen.pb | xtcp-fmt -f json > /dev/null\""
python3 - "$ROWS" bench/results/filter-rows.json <<'PY'
import json, sys
rows = int(sys.argv[1])
for r in json.load(open(sys.argv[2]))["results"]:
    print("%-42s mean %6.3f s  min %6.3f s  %5.2f M rows/s (at min %5.2f)  cpu %6.3f s" % (
        r["command"], r["mean"], r["min"], rows / r["mean"] / 1e6, rows / r["min"] / 1e6,
        r["user"] + r["system"]))
PY

echo "== 2. cost per row: scanning the bytes vs decoding the record"
xtcp-bench gen -n 20000 -o "$tmp/gen20k.pb"
XTCP_FILTER_BENCH=$tmp/gen20k.pb "$B/tests/t-filter" | sed -n 's/^# scan/scan/p'

echo "== 3. kernel rows (a capture, replayed 500 times), and the share of dump | filter | fmt"
xtcp-dump -r "tests/data/netlink/6_6_44/tcp_100_sockets.pcap" >"$tmp/cap1.pb"
for i in $(seq 500); do cat "$tmp/cap1.pb"; done >"$tmp/cap.pb"
hyperfine -N --warmup 2 --min-runs 10 \
	--export-json bench/results/filter-pipeline.json \
	--export-markdown bench/results/filter-pipeline.md \
	-n "filter -c, 600000 kernel rows" "xtcp-filter -c '$EXPR' $tmp/cap.pb" \
	-n "cat | fmt" "sh -c 'cat $tmp/cap.pb | xtcp-fmt -f json > /dev/null'" \
	-n "cat | filter | fmt" "sh -c \"cat $tmp/cap.pb | xtcp-filter '$KEEP' | xtcp-fmt -f json > /dev/null\""
if [ "$(id -u)" = 0 ]; then
	ns=xtcp-bench-filter-$$
	xtcp-bench load -n 20000 --netns "$ns" >"$tmp/load.out" 2>&1 &
	load=$!
	trap 'kill $load 2>/dev/null; wait $load 2>/dev/null; rm -rf "$tmp"' EXIT
	until grep -q "^ready" "$tmp/load.out" 2>/dev/null; do sleep 0.5; done
	in="ip netns exec $ns"
	hyperfine -N --warmup 2 --min-runs 10 \
		--export-json bench/results/filter-live.json \
		--export-markdown bench/results/filter-live.md \
		-n "dump > /dev/null" "$in sh -c 'xtcp-dump > /dev/null'" \
		-n "dump | fmt" "$in sh -c 'xtcp-dump | xtcp-fmt -f json > /dev/null'" \
		-n "dump | filter | fmt" "$in sh -c \"xtcp-dump | xtcp-filter '$KEEP' | xtcp-fmt -f json > /dev/null\""
	kill $load
	wait $load 2>/dev/null || true
	trap 'rm -rf "$tmp"' EXIT
fi
for f in bench/results/filter-rows.json bench/results/filter-pipeline.json \
	bench/results/filter-live.json; do
	[ -f "$f" ] || continue
	python3 - "$f" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
names = list(res)
cpu = lambda r: r["user"] + r["system"]
without, with_ = res[names[-2]], res[names[-1]]
share = (cpu(with_) - cpu(without)) / cpu(with_)
print("%s: %s vs %s: wall %.3f s -> %.3f s; cpu %.3f s -> %.3f s: the filter is %.0f%% of "
      "the pipeline's cpu" % (sys.argv[1], names[-2], names[-1], without["mean"], with_["mean"],
                              cpu(without), cpu(with_), 100 * share))
PY
done
