#!/bin/bash
# bench/events.sh [--slow] [CONNECTIONS] [CLIENTS] - sustained close events per
# second that xtcp-dump -E writes, and its CPU per event; with --slow, a burst
# the reader cannot keep up with, and whether its loss count is exact.
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
# --slow (issue 13's burst): xtcp-dump is stopped (SIGSTOP) for the whole
# burst and until the kernel's queue (--event-buffer 32 MiB, doubled by the
# kernel: some 52,000 events) has overflowed, so the rest are dropped; then
# it goes on, drains and stops.
# Every close record must have arrived, or delivered + reported lost must be
# the number of sockets closed, exactly (2 per connection and each client's
# two listeners); the run fails otherwise.  Default there 100000 connections.
#
# Results go to bench/results/events-CONNECTIONS.md (events-slow-... with
# --slow).  It measures a shared machine: compare ratios, run it more than once.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
SLOW=
if [ "${1:-}" = --slow ]; then
	SLOW=1
	shift
fi
CONNS=${1:-$([ -n "$SLOW" ] && echo 100000 || echo 50000)}
CLIENTS=${2:-2}
CONNS=$((CONNS / CLIENTS * CLIENTS))    # what the clients make, CONNS/CLIENTS each
OUT=bench/results/events-${SLOW:+slow-}$CONNS.md
NS="xtcp-bench-events-$$"
tmp=$(mktemp -d)
trap 'kill "${dump:-}" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p bench/results
export PATH="$PWD/$B/bin:$PATH"

ip netns add "$NS"
ip -n "$NS" link set lo up
# not -o: a run that lost events exits 1, and -o keeps no file of a failed run
ip netns exec "$NS" xtcp-dump -E >"$tmp/events.pb" 2>"$tmp/dump.err" &
dump=$!
# listener: the /proc/net/netlink line of xtcp-dump's destroy-group socket
listener() { sh tests/data/events-listener.sh "$NS" "$dump"; }
drops() { listener | awk '{ print $9 }'; }
for _ in $(seq 200); do
	listener >/dev/null && break
	sleep 0.05
done
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$dump/stat"; }
cpu0=$(cpu)
[ -z "$SLOW" ] || kill -STOP "$dump"
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
if [ -n "$SLOW" ]; then
	# the kernel's work queue sends events for seconds after the clients end:
	# stay stopped until the queue has overflowed (at most 60 s)
	for _ in $(seq 600); do
		d=$(drops)
		[ "${d:-0}" -gt 0 ] && break
		sleep 0.1
	done
	kill -CONT "$dump"
fi
# The kernel sends each event from a work queue, which can lag well behind
# the clients: wait (at most 60 s) until what was written and what the kernel
# dropped (the socket's drop counter, as xtcp-dump reads it) cover every
# socket closed, so that a late event is not taken for a lost one.
closed=$((2 * CONNS + 2 * CLIENTS))
for _ in $(seq 600); do
	drops=$(drops)
	got=$(xtcp-filter -c 'kind == close' "$tmp/events.pb" 2>/dev/null | tail -1)
	[ $((${got:-0} + ${drops:-0})) -ge "$closed" ] && break
	sleep 0.1
done
cpu1=$(cpu)
kill -INT "$dump"
wait "$dump" || true
dump=
records=$(xtcp-filter -c 'kind == close' "$tmp/events.pb")
lost=$(sed -n "s/.*close events\? lost in all.*/&/p" "$tmp/dump.err" | grep -o '[0-9]* close event' | grep -o '^[0-9]*' || echo 0)
status=0
python3 - "$CONNS" "$CLIENTS" "$t0" "$t1" "$records" "${lost:-0}" "$cpu0" "$cpu1" "$ticks" \
	"${SLOW:-0}" >"$OUT" <<'PY' || status=$?
import sys
conns, clients, slow = int(sys.argv[1]), int(sys.argv[2]), sys.argv[10] == "1"
closed = 2 * conns + 2 * clients      # each client's two listeners too
t0, t1 = float(sys.argv[3]), float(sys.argv[4])
records, lost = int(sys.argv[5]), int(sys.argv[6])
cpu = (int(sys.argv[8]) - int(sys.argv[7])) / int(sys.argv[9])
secs = t1 - t0
print("# xtcp-dump -E: %d connections closed by %d clients%s" % (
    conns, clients, ", the reader stopped (SIGSTOP) through the burst" if slow else ""))
print()
print("| connections/s | sockets closed | close records | lost | delivered + lost | records/s | xtcp-dump CPU | CPU per record |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
print("| %.0f | %d | %d | %d | %d (%s) | %.0f | %.2f s | %.2f us |" % (
    conns / secs, closed, records, lost, records + lost,
    "exact" if records + lost == closed else "WRONG", records / secs, cpu,
    cpu / max(records, 1) * 1e6))
sys.exit(records + lost != closed)
PY
cat "$OUT"
[ "$status" -eq 0 ] || { echo "events.sh: delivered + lost is not the number of sockets closed" >&2; exit 1; }
