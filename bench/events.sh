#!/bin/bash
# bench/events.sh [CONNECTIONS] [CLIENTS] - sustained close events per second
# that xtcp-dump -E writes, and its CPU per event.
#
# In a private namespace, CLIENTS processes (default 2) each open, use and
# close CONNECTIONS/CLIENTS short connections (tests/data/closer.py: 100+i
# bytes each way) as fast as they can, while `xtcp-dump -E` listens and
# writes into /dev/null.  Reported: connections/s the clients reached, close
# records written, events lost (the kernel's count), and xtcp-dump's user and
# system CPU time per close record (from /proc/PID/stat), so the CPU per
# event can be compared with the cost of making the event.  Default 50000
# connections (100,004 events): a client's connections to one listener must
# fit the ephemeral port range with the closed ends in TIME_WAIT, and a
# client that fails (EADDRNOTAVAIL) fails the run.
#
# Results go to bench/results/events-CONNECTIONS.md.  It measures a shared
# machine: compare ratios, run it more than once.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
CONNS=${1:-50000}
CLIENTS=${2:-2}
NS="xtcp-bench-events-$$"
tmp=$(mktemp -d)
trap 'kill "${dump:-}" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p bench/results
export PATH="$PWD/$B/bin:$PATH"

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" xtcp-dump -E -o "$tmp/events.pb" 2>"$tmp/dump.err" &
dump=$!
# listening: a sock_diag socket of the namespace in both destroy groups
for _ in $(seq 200); do
	ip netns exec "$NS" awk '$2 == 4 && $4 == "00000005" { f = 1 } END { exit !f }' \
		/proc/net/netlink && break
	sleep 0.05
done
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$dump/stat"; }
cpu0=$(cpu)
t0=$(date +%s.%N)
clients=()
for c in $(seq "$CLIENTS"); do
	ip netns exec "$NS" python3 tests/data/closer.py $((CONNS / CLIENTS)) "$tmp/c$c.log" >/dev/null &
	clients+=($!)
done
for c in "${clients[@]}"; do
	wait "$c" || { echo "events.sh: a client failed: fewer connections than asked" >&2; exit 1; }
done
t1=$(date +%s.%N)
sleep 0.5
cpu1=$(cpu)
kill -INT "$dump"
wait "$dump" || true
dump=
records=$(xtcp-filter -c 'kind == close' "$tmp/events.pb")
lost=$(sed -n "s/.*close events\? lost in all.*/&/p" "$tmp/dump.err" | grep -o '[0-9]* close event' | grep -o '^[0-9]*' || echo 0)
python3 - "$CONNS" "$CLIENTS" "$t0" "$t1" "$records" "${lost:-0}" "$cpu0" "$cpu1" "$ticks" \
	>"bench/results/events-$CONNS.md" <<'PY'
import sys
conns, clients = int(sys.argv[1]), int(sys.argv[2])
t0, t1 = float(sys.argv[3]), float(sys.argv[4])
records, lost = int(sys.argv[5]), int(sys.argv[6])
cpu = (int(sys.argv[8]) - int(sys.argv[7])) / int(sys.argv[9])
secs = t1 - t0
print("# xtcp-dump -E: %d connections closed by %d clients" % (conns, clients))
print()
print("| connections/s | close records | lost | records/s | xtcp-dump CPU | CPU per record |")
print("|---:|---:|---:|---:|---:|---:|")
print("| %.0f | %d | %d | %.0f | %.2f s | %.2f us |" % (
    conns / secs, records, lost, records / secs, cpu, cpu / max(records, 1) * 1e6))
PY
cat "bench/results/events-$CONNS.md"
