#!/bin/bash
# bench/netns-scale.sh [K] [CONNS] - xtcp-dump -n all over K namespaces holding CONNS
# established connections each (2*CONNS + 2 sockets), against the raw floor over
# the same namespaces, steady state: 20 back-to-back polls per run, so opening
# the sockets is amortised as in a long-running poller.  Results in
# bench/results/netns-K.{json,md}.  With CHILD_EHASH=N in the environment, the
# namespaces are created with net.ipv4.tcp_child_ehash_entries=N (their own
# established hash, Linux 6.1+) and the results go to netns-K-ehashN.*.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
K=${1:-100}
CONNS=${2:-50}
P=xtcp-scale-$$
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	for i in $(seq "$K"); do ip netns del "$P-$i" 2>/dev/null || true; done
}
trap cleanup EXIT
mkdir -p bench/results
tag=$K
if [ -n "${CHILD_EHASH:-}" ]; then
	old_ehash=$(sysctl -n net.ipv4.tcp_child_ehash_entries)
	sysctl -qw net.ipv4.tcp_child_ehash_entries="$CHILD_EHASH"
	tag=$K-ehash$CHILD_EHASH
fi
for i in $(seq "$K"); do
	ip netns add "$P-$i"
	ip -n "$P-$i" link set lo up
	[ -n "${CHILD_EHASH:-}" ] && [ "$i" -eq "$K" ] && sysctl -qw net.ipv4.tcp_child_ehash_entries="$old_ehash"
	ip netns exec "$P-$i" python3 bench/load.py "$CONNS" >"bench/results/.ready-$i" &
	pids+=($!)
done
for i in $(seq "$K"); do
	until grep -q READY "bench/results/.ready-$i" 2>/dev/null; do sleep 0.2; done
	rm -f "bench/results/.ready-$i"
done
"$B/bin/xtcp-floor" -n all
hyperfine --warmup 2 --min-runs 10 \
	--export-json "bench/results/netns-$tag.json" --export-markdown "bench/results/netns-$tag.md" \
	-n "xtcp-dump -n all (20 polls)" "$B/bin/xtcp-dump -n all -c 20 -i 1ms > /dev/null 2>&1" \
	-n "floor -n all (20 polls)" "$B/bin/xtcp-floor -n all -c 20 2>/dev/null" \
	-n "xtcp-dump -n all --states established (20 polls)" \
		"$B/bin/xtcp-dump -n all --states established -c 20 -i 1ms > /dev/null 2>&1"
