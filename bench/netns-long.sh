#!/bin/bash
# bench/netns-long.sh [NAMESPACES] [MINUTES] [INTERVAL] - a long -n all run over many
# namespaces (issue 16): NAMESPACES (default 5000), most of them empty, one in 50 holding a
# socket mix (tests/data/skipmix.py: listeners, TIME_WAIT, connections, IPv6, SYN_RECV);
# `xtcp-dump -n all -i INTERVAL` (default 10 s) for MINUTES (default 30), while every minute
# 50 empty namespaces are deleted and 50 new ones made.  Every interval it samples the dump's
# descriptors, RSS and CPU time; at the end it says whether they stayed flat and whether any
# poll was skipped for being late, and times single polls of every namespace with and
# without skipping.
#
# Everything runs in a mount namespace of its own with a private /run/netns, and in a PID
# namespace of its own with its own /proc: nothing of it is visible to another `-n all` on
# the host, and nothing of the host's other namespaces (tests', benchmarks' loads) to it,
# but the host's own namespace. (Before the PID namespace, a 100,000-socket load started
# beside a run was polled by it.) Tests may run beside it: the machine's load does not
# matter to what this measures, but the single-poll times at the end want a quiet machine.
# Results on stdout and in bench/results/netns-long-NAMESPACES.txt (samples in .tsv).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-$PWD/build}
N=${1:-5000}
MINUTES=${2:-30}
IV=${3:-10}
if [ -z "${XTCP_LONG_INNER:-}" ]; then
	XTCP_LONG_INNER=1 exec unshare --mount --propagation private --pid --fork --mount-proc \
		"$0" "$@"
fi
out=bench/results/netns-long-$N.txt
samples=bench/results/netns-long-$N.tsv
tmp=$(mktemp -d)
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
	# the namespaces go with this mount namespace: nothing else holds them
}
trap cleanup EXIT
mkdir -p /run/netns bench/results
mount -t tmpfs -o size=16m xtcp-long /run/netns

kinds=(listen tw est v6 synrecv)
start=$SECONDS
seq "$N" | sed 's/^/netns add long/' | ip -batch -
args=()
for i in $(seq 1 50 "$N"); do
	ip -n "long$i" link set lo up
	args+=("long$i:${kinds[$((i / 50 % 5))]}")
done
python3 tests/data/skipmix.py "${args[@]}" >"$tmp/mix" 2>&1 &
pids+=($!)
until grep -q READY "$tmp/mix"; do
	kill -0 "${pids[0]}" || { cat "$tmp/mix" >&2; exit 1; }
	sleep 0.2
done
echo "made $N namespaces (${#args[@]} with sockets) in $((SECONDS - start)) s"

# churn: every minute, 50 empty namespaces go and 50 new ones come
churn() {
	local round=0 k=2 i
	while sleep 60; do
		round=$((round + 1))
		for i in $(seq 50); do
			[ $((k % 50)) -ne 1 ] || k=$((k + 1))     # the mix stays
			echo "netns del long$k"
			echo "netns add churn$round-$i"
			k=$((k + 1))
		done | ip -batch - 2>/dev/null || true
	done
}
churn &
pids+=($!)

polls=$((MINUTES * 60 / IV))
hz=$(getconf CLK_TCK)
"$B/bin/xtcp-dump" -n all -i "${IV}s" -c "$polls" >/dev/null 2>"$tmp/err" &
dump=$!
printf 'sec\tfds\trss_kib\tcpu_s\tnamespaces\n' >"$samples"
t0=$SECONDS
while kill -0 "$dump" 2>/dev/null; do
	sleep "$IV"
	kill -0 "$dump" 2>/dev/null || break
	fds=$(find /proc/"$dump"/fd -mindepth 1 2>/dev/null | wc -l)
	rss=$(awk '/^VmRSS/ {print $2}' /proc/"$dump"/status 2>/dev/null || echo 0)
	cpu=$(awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' /proc/"$dump"/stat 2>/dev/null || echo 0)
	printf '%d\t%s\t%s\t%s\t%s\n' $((SECONDS - t0)) "$fds" "$rss" "$cpu" "$(ls /run/netns | wc -l)" >>"$samples"
done
rc=0
wait "$dump" || rc=$?
kill "${pids[1]}" 2>/dev/null || true

{
	echo "# bench/netns-long.sh $N $MINUTES $IV ($(date -u +%F), $(uname -r), $(nproc) cores)"
	echo "xtcp-dump -n all -i ${IV}s -c $polls over $N namespaces (+ the host's), 50 replaced a minute: exit $rc"
	# the first sample is taken after the first poll has opened every namespace
	awk -F'\t' 'NR > 2 {
		if (!n++ || $2 < fmin) fmin = $2; if ($2 > fmax) fmax = $2
		if (n == 1) rfirst = $3; if ($3 > rmax) rmax = $3; rlast = $3
		if (n == 1) c0 = $4; c1 = $4; s0 = (n == 1 ? $1 : s0); s1 = $1
	} END {
		printf "samples: %d over %d s\n", n, s1 - s0
		printf "descriptors: %d to %d\n", fmin, fmax
		printf "RSS: %d KiB at first, %d KiB at most, %d KiB at the end\n", rfirst, rmax, rlast
		printf "CPU: %.1f ms a poll (user + system, from /proc/PID/stat)\n", (c1 - c0) * 1000 / ((s1 - s0) / '"$IV"')
	}' "$samples"
	echo "polls skipped for being late: $(grep -c 'polls are slower' "$tmp/err" || true) notes"
	{ grep -v "cannot look up the namespace of process 1 " "$tmp/err" || true; } | sed "s/^/stderr: /" | head -5
	echo
	echo "single polls of every namespace (wall s, user s, system s; 3 each):"
	for mode in skip no-skip; do
		flag=()
		[ "$mode" = skip ] || flag=(--no-skip)
		for _ in 1 2 3; do
			/usr/bin/time -f "%e %U %S" -o "$tmp/t" "$B/bin/xtcp-dump" -n all "${flag[@]}" >/dev/null 2>/dev/null
			echo "  $mode: $(cat "$tmp/t")"
		done
	done
} | tee "$out"
