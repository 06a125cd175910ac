#!/bin/bash
# bench/netns-skip.sh [EMPTY] [BUSY] [CONNS] - what skipping empty namespaces saves (issue 16).
# EMPTY namespaces with no socket (default 1000) and BUSY ones (default 10) holding CONNS
# established connections each (default 500: 1,002 sockets with the listeners), and ROUNDS
# (default 5) rounds.  Wall and CPU (user + sys) per poll, from /usr/bin/time over
# back-to-back polls, of
#   xtcp-dump --no-skip   over all EMPTY + BUSY namespaces (named with -n), -j 1 and -j 2;
#   xtcp-dump             the same namespaces, skipping what the counts show empty, -j 1, -j 2;
#   xtcp-dump -n all      skipping, every namespace of the host (its own and others too);
#   xtcp-floor            the raw floor: dumps of the BUSY namespaces only.
# Every round runs each command once, in turn, so a busy moment hits them all alike; the
# table gives the median of the rounds with their range, and the ratios of the medians.
# Results on stdout and in bench/results/netns-skip.{txt,tsv}.  Run it alone, under nice -n -20.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
EMPTY=${1:-1000}
BUSY=${2:-10}
CONNS=${3:-500}
ROUNDS=${4:-5}
P=xtcp-skip-$$
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	for i in $(seq "$BUSY"); do ip netns del "$P-busy$i" 2>/dev/null || true; done
	for i in $(seq "$EMPTY"); do ip netns del "$P-empty$i" 2>/dev/null || true; done
	rm -f "bench/results/.skip-ready-"* bench/results/.skip-time
}
trap cleanup EXIT
mkdir -p bench/results
busy=() all=()
for i in $(seq "$BUSY"); do
	ip netns add "$P-busy$i"
	ip -n "$P-busy$i" link set lo up
	ip netns exec "$P-busy$i" python3 bench/load.py "$CONNS" >"bench/results/.skip-ready-$i" &
	pids+=($!)
	busy+=(-n "$P-busy$i")
done
for i in $(seq "$EMPTY"); do
	ip netns add "$P-empty$i"
	all+=(-n "$P-empty$i")
done
all+=("${busy[@]}")
for i in $(seq "$BUSY"); do
	until grep -q READY "bench/results/.skip-ready-$i" 2>/dev/null; do sleep 0.2; done
done

# sample NAME POLLS CMD...: one row of the TSV, seconds of wall, user and sys per poll
sample() {
	local name=$1 polls=$2
	shift 2
	/usr/bin/time -o bench/results/.skip-time -f '%e %U %S' "$@" >/dev/null 2>&1
	tail -1 bench/results/.skip-time | awk -v n="$name" -v p="$polls" \
		'{ printf "%s\t%.6f\t%.6f\t%.6f\n", n, $1 / p, $2 / p, $3 / p }'
}

N=$((EMPTY + BUSY))
{
	printf 'command\twall_s\tuser_s\tsys_s\n'
	for r in $(seq "$ROUNDS"); do
		sample "--no-skip -j 1 ($N ns)" 2 "$B/bin/xtcp-dump" "${all[@]}" --no-skip -j 1 -c 2 -i 1ms
		sample "--no-skip -j 2 ($N ns)" 2 "$B/bin/xtcp-dump" "${all[@]}" --no-skip -j 2 -c 2 -i 1ms
		sample "skipping -j 1 ($N ns)" 20 "$B/bin/xtcp-dump" "${all[@]}" -j 1 -c 20 -i 1ms
		sample "skipping -j 2 ($N ns)" 20 "$B/bin/xtcp-dump" "${all[@]}" -j 2 -c 20 -i 1ms
		sample "-n all, skipping, default -j" 20 "$B/bin/xtcp-dump" -n all -c 20 -i 1ms
		sample "xtcp-floor ($BUSY busy ns)" 20 "$B/bin/xtcp-floor" "${busy[@]}" -c 20
	done
} >bench/results/netns-skip.tsv
{
	echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $EMPTY empty namespaces + $BUSY with $CONNS connections each; $ROUNDS rounds"
	python3 - bench/results/netns-skip.tsv <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
names = list(dict.fromkeys(r["command"] for r in rows))
med = {}
print(f"{'command':<34} {'wall ms/poll (range)':>28} {'cpu ms/poll (range)':>28}")
for n in names:
    w = [float(r["wall_s"]) * 1e3 for r in rows if r["command"] == n]
    c = [(float(r["user_s"]) + float(r["sys_s"])) * 1e3 for r in rows if r["command"] == n]
    med[n] = (statistics.median(w), statistics.median(c))
    print(f"{n:<34} {med[n][0]:>10.1f} ({min(w):8.1f}-{max(w):8.1f}) "
          f"{med[n][1]:>10.1f} ({min(c):8.1f}-{max(c):8.1f})")
floor = names[-1]
def ratio(a, b, what):
    print(f"{a} / {b}: wall {med[a][0] / med[b][0]:.2f}x, cpu {med[a][1] / med[b][1]:.2f}x  ({what})")
ratio(names[1], names[0], "target: wall at most 0.6x")
ratio(names[2], floor, "target: within 1.5x")
ratio(names[3], floor, "target: within 1.5x")
ratio(names[3], names[2], "what -j 2 saves when skipping")
PY
} | tee bench/results/netns-skip.txt
