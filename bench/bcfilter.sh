#!/bin/bash
# bench/bcfilter.sh [CONNECTIONS] - xtcp-dump --filter against the alternatives,
# at 2 x CONNECTIONS sockets (default 50000: 100,000 sockets) with a filter
# that matches about 1 % of them (a range of remote ports, chosen here from
# a dump):
#
#   xtcp-dump --filter EXPR            the kernel skips the other sockets
#   xtcp-dump | xtcp-filter EXPR       every socket dumped, filtered after
#   ss -tin 'EXPR'                     ss's bytecode, the same condition (ss's
#                                      default states: no listeners, closed,
#                                      TIME_WAIT or SYN_RECV sockets)
#   ss -tain 'EXPR'                    the same in every state, as xtcp-dump asks
#   xtcp-bench floor                   a full dump that only reads (the floor)
#
# in one hyperfine run, with the ratios to the floor.  Target (issue 17):
# --filter at most 0.15x the floor and faster than ss.  Needs root (a
# namespace of its own).  Results go to bench/results/bcfilter.{json,md};
# compare ratios: absolute times drift on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${XTCP_BUILD:-build}
N=${1:-50000}
RUNS=${RUNS:-10}
export PATH="$PWD/$B/bin:$PATH"
. bench/load.sh
trap stop_load EXIT
mkdir -p bench/results

start_load "$B/bin/xtcp-bench" -n "$N"
in="ip netns exec $netns"
total=$($in xtcp-dump | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_state | wc -l)
# the remote ports, sorted: a window holding 1 % of the sockets
read -r lo hi < <($in xtcp-dump | xtcp-fmt -f tsv --no-header \
	--fields inet_diag_msg_socket_destination_port | sort -n | python3 -c '
import sys
ports = [int(l) for l in sys.stdin if l.strip()]
want = max(1, len(ports) // 100)
mid = len(ports) // 2
print(ports[mid], ports[min(len(ports) - 1, mid + want - 1)])')
EXPR="dport >= :$lo and dport <= :$hi"
kept=$($in xtcp-dump --filter "$EXPR" | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_state | wc -l)
echo "== $total sockets; '$EXPR' keeps $kept"
$in xtcp-dump --filter "$EXPR" --explain

hyperfine -N --warmup 2 --min-runs "$RUNS" \
	--export-json bench/results/bcfilter.json \
	--export-markdown bench/results/bcfilter.md \
	-n "floor" "$in $B/bin/xtcp-bench floor" \
	-n "xtcp-dump --filter" "$in sh -c 'xtcp-dump --filter \"$EXPR\" > /dev/null'" \
	-n "xtcp-dump | xtcp-filter" "$in sh -c 'xtcp-dump | xtcp-filter \"$EXPR\" > /dev/null'" \
	-n "ss -tin" "$in sh -c 'ss -tin \"$EXPR\" > /dev/null'" \
	-n "ss -tain" "$in sh -c 'ss -tain \"$EXPR\" > /dev/null'"
python3 - bench/results/bcfilter.json <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
floor = res["floor"]["mean"]
cpu = lambda r: r["user"] + r["system"]
for name, r in res.items():
    print("%-26s wall %8.2f +- %5.2f ms  cpu %7.2f ms (user %6.2f sys %7.2f)  %5.3fx the floor"
          % (name, r["mean"] * 1e3, r["stddev"] * 1e3, cpu(r) * 1e3, r["user"] * 1e3,
             r["system"] * 1e3, r["mean"] / floor))
f, s, a = (res[k] for k in ("xtcp-dump --filter", "ss -tin", "ss -tain"))
print("--filter: %.3fx the floor (target <= 0.15); wall %.2fx ss -tin, %.2fx ss -tain (target < 1);"
      " cpu %.2fx ss -tin, %.2fx ss -tain"
      % (f["mean"] / floor, f["mean"] / s["mean"], f["mean"] / a["mean"], cpu(f) / cpu(s),
         cpu(f) / cpu(a)))
PY
