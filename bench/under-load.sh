#!/bin/bash
# bench/under-load.sh CONNECTIONS ROUNDS [cpu.py options] NAME=COMMAND...
#
# bench/cpu.py's interleaved rounds of the commands, inside the namespace of
# `xtcp-bench load -n CONNECTIONS` (2 sockets a connection, plus listeners),
# niced to -20 with autogroup scheduling off for the run (root). For A/B
# comparisons beside the floor: for example
#   bench/under-load.sh 5000 41 -o /tmp/x.tsv floor="build/bin/xtcp-bench floor" \
#       dump=build/bin/xtcp-dump "info=build/bin/xtcp-dump --ext info"
# Commands name programs by paths from the top of the tree, or absolute.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
B=${XTCP_BUILD:-$PWD/build}
conns=$1 rounds=$2
shift 2
. bench/load.sh
autogroup=$(cat /proc/sys/kernel/sched_autogroup_enabled)
trap 'stop_load; echo "$autogroup" > /proc/sys/kernel/sched_autogroup_enabled' EXIT
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
start_load "$B/bin/xtcp-bench" -n "$conns"
echo "sockets: $(ip netns exec "$netns" ss -tan | tail -n +2 | wc -l) in $netns, load $(cut -d' ' -f1-3 /proc/loadavg)"
nice -n -20 ip netns exec "$netns" python3 bench/cpu.py -r "$rounds" -w 3 "$@"
