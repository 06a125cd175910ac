#!/bin/bash
# Superseded by bench/run.sh (xtcp-bench load, pipelines, memory, plot); kept for the
# numbers in docs/performance.md "Earlier run".
# bench/dump-vs-ss.sh [N...] - xtcp-dump against ss and the raw netlink floor,
# in one hyperfine run per socket count, inside a private namespace holding N
# established connections (2N sockets + listeners).  Results go to
# bench/results/dump-vs-ss-<N>.{json,md}; ratios are what to compare, since
# absolute times drift on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
counts=("${@:-5000 50000}")
mkdir -p bench/results
for n in ${counts[@]}; do
	ns=xtcp-bench-$$
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" python3 bench/load.py "$n" >"bench/results/load.$$" &
	load=$!
	trap 'kill $load 2>/dev/null; wait $load 2>/dev/null; ip netns del $ns 2>/dev/null; rm -f bench/results/load.$$' EXIT
	until grep -q READY "bench/results/load.$$"; do sleep 0.5; done
	sockets=$(ip netns exec "$ns" ss -tan | tail -n +2 | wc -l)
	echo "== $n connections, $sockets sockets"
	in="ip netns exec $ns"
	hyperfine -N --warmup 3 --min-runs 15 \
		--export-json "bench/results/dump-vs-ss-$n.json" \
		--export-markdown "bench/results/dump-vs-ss-$n.md" \
		-n floor "$in $B/bin/xtcp-floor" \
		-n "xtcp-dump" "$in sh -c '$B/bin/xtcp-dump > /dev/null'" \
		-n "ss -tin" "$in sh -c 'ss -tin > /dev/null'" \
		-n "ss -tinm" "$in sh -c 'ss -tinm > /dev/null'" \
		-n "ss -tinem" "$in sh -c 'ss -tinem > /dev/null 2>&1'"
	kill $load
	wait $load 2>/dev/null || true
	ip netns del "$ns"
	trap - EXIT
	rm -f "bench/results/load.$$"
done
