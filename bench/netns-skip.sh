#!/bin/bash
# bench/netns-skip.sh [EMPTY] [BUSY] [CONNS] - what skipping empty namespaces saves (issue 16).
# EMPTY namespaces with no socket (default 1000) and BUSY ones (default 10) holding CONNS
# established connections each (default 500: 1,002 sockets with the listeners).  Wall
# and CPU (user + sys) per poll, from /usr/bin/time over back-to-back polls, of
#   xtcp-dump --no-skip   over all EMPTY + BUSY namespaces (named with -n), -j 1 and -j 2;
#   xtcp-dump             the same namespaces, skipping what the counts show empty;
#   xtcp-dump -n all      skipping, every namespace of the host (its own and others too);
#   xtcp-floor            the raw floor: dumps of the BUSY namespaces only.
# Results on stdout and in bench/results/netns-skip.txt.  Run it alone, under nice -n -20.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
EMPTY=${1:-1000}
BUSY=${2:-10}
CONNS=${3:-500}
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

# per_poll NAME POLLS CMD...: one line, wall and CPU per poll in ms
per_poll() {
	local name=$1 polls=$2 t
	shift 2
	/usr/bin/time -o bench/results/.skip-time -f '%e %U %S' "$@" >/dev/null 2>&1
	t=$(tail -1 bench/results/.skip-time)
	awk -v n="$name" -v p="$polls" -v t="$t" 'BEGIN {
		split(t, a, " ");
		printf "%-40s wall %8.1f ms/poll   cpu %8.1f ms/poll (user %.1f, sys %.1f)\n",
			n, a[1] * 1000 / p, (a[2] + a[3]) * 1000 / p, a[2] * 1000 / p, a[3] * 1000 / p }'
}

{
	echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $EMPTY empty namespaces + $BUSY with $CONNS connections each"
	per_poll "xtcp-dump --no-skip -j 1 ($((EMPTY + BUSY)) ns)" 2 \
		"$B/bin/xtcp-dump" "${all[@]}" --no-skip -j 1 -c 2 -i 1ms
	per_poll "xtcp-dump --no-skip -j 2 ($((EMPTY + BUSY)) ns)" 2 \
		"$B/bin/xtcp-dump" "${all[@]}" --no-skip -j 2 -c 2 -i 1ms
	per_poll "xtcp-dump, skipping ($((EMPTY + BUSY)) ns)" 20 \
		"$B/bin/xtcp-dump" "${all[@]}" -c 20 -i 1ms
	per_poll "xtcp-dump -n all, skipping" 20 "$B/bin/xtcp-dump" -n all -c 20 -i 1ms
	per_poll "xtcp-floor ($BUSY busy ns)" 20 "$B/bin/xtcp-floor" "${busy[@]}" -c 20
} | tee bench/results/netns-skip.txt
