#!/bin/bash
# bench/rate.sh [ROWS] [SOCKETS] - how fast xtcp-rate is, and that its memory stays flat.
#
#  1. rows per second: xtcp-rate over ROWS generated records (default
#     2000000), polls of SOCKETS sockets (default 100000) of which 2% are
#     replaced each poll, kernel-sized (xtcp-bench gen --sockets --churn 2
#     --bare), and over kernel rows (a capture of 3 polls of 400 sockets,
#     replayed 500 times: each replay has the capture's times again, so from
#     the second on every socket starts over, about the same work), against
#     cat (the floor) and xtcp-filter keeping every row (a stream tool that
#     only copies its rows), in one hyperfine run each;
#  2. memory with churn: the peak RSS of xtcp-rate over 10 and over 100 polls
#     of the same socket count with 5% replaced each poll: flat when the
#     sockets that went away are forgotten (--forget, default 3 polls).
#
# Results go to bench/results/rate-*.{json,md}.  Compare ratios: absolute
# times drift on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
ROWS=${1:-2000000}
SOCKETS=${2:-100000}
KEEP='family != 0 || family == 0'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results
export PATH="$PWD/$B/bin:$PATH"

rates() {
	python3 - "$1" "$2" <<'PY'
import json, sys
rows = int(sys.argv[1])
for r in json.load(open(sys.argv[2]))["results"]:
    cpu = r["user"] + r["system"]
    print("%-36s mean %6.3f s  min %6.3f s  %5.2f M rows/s (at min %5.2f)  cpu %6.3f s, %5.2f M rows/s" % (
        r["command"], r["mean"], r["min"], rows / r["mean"] / 1e6, rows / r["min"] / 1e6,
        cpu, rows / cpu / 1e6))
PY
}

echo "== 1. $ROWS generated records, polls of $SOCKETS sockets"
xtcp-bench gen -n "$ROWS" --sockets "$SOCKETS" --churn 2 --bare -o "$tmp/gen.pb"
echo "stream: $(stat -c %s "$tmp/gen.pb") bytes, $((ROWS / SOCKETS)) polls"
hyperfine -N --warmup 1 --min-runs 5 \
	--export-json bench/results/rate-gen.json --export-markdown bench/results/rate-gen.md \
	-n "cat (floor)" "sh -c 'cat $tmp/gen.pb > /dev/null'" \
	-n "xtcp-filter (keeps all)" "sh -c \"xtcp-filter '$KEEP' $tmp/gen.pb > /dev/null\"" \
	-n "xtcp-rate" "sh -c 'xtcp-rate $tmp/gen.pb > /dev/null'" \
	-n "xtcp-rate --changed" "sh -c 'xtcp-rate --changed $tmp/gen.pb > /dev/null'"
rates "$ROWS" bench/results/rate-gen.json

echo "== 1b. kernel rows: a capture of 3 polls, replayed 500 times"
for _ in $(seq 500); do
	xtcp-dump -r tests/data/netlink/6_6_44/tcp_100_sockets.pcap
done >"$tmp/cap.pb"
caprows=$(xtcp-filter -c "$KEEP" "$tmp/cap.pb")
hyperfine -N --warmup 1 --min-runs 5 \
	--export-json bench/results/rate-kernel.json --export-markdown bench/results/rate-kernel.md \
	-n "cat (floor)" "sh -c 'cat $tmp/cap.pb > /dev/null'" \
	-n "xtcp-filter (keeps all)" "sh -c \"xtcp-filter '$KEEP' $tmp/cap.pb > /dev/null\"" \
	-n "xtcp-rate" "sh -c 'xtcp-rate $tmp/cap.pb > /dev/null'"
rates "$caprows" bench/results/rate-kernel.json

echo "== 2. memory with churn (5% a poll): 10 and 100 polls of $SOCKETS sockets"
for polls in 10 100; do
	xtcp-bench gen -n $((polls * SOCKETS)) --sockets "$SOCKETS" --churn 5 --bare |
		/usr/bin/time -f "$polls polls: max RSS %M KiB, %e s" xtcp-rate >/dev/null
done 2>&1 | tee bench/results/rate-memory.txt
