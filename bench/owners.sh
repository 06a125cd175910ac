#!/bin/bash
# bench/owners.sh - what owners cost per poll: cgroup resolution (on by default)
# and -p (the process of each socket), against a poll without them and ss.
#
# Two loads (xtcp-bench load, private namespaces):
#   few:    SOCKETS sockets (default 100000) held by 4 processes (more when
#           RLIMIT_NOFILE's hard limit is below 2 * SOCKETS / 4)
#   spread: PROCS processes (default 10000) holding 4 sockets each
#           (one connection and the two listeners)
# For each, hyperfine without a shell (-N), inside the load's namespace:
#   one poll:   xtcp-dump --no-cgroup, xtcp-dump, xtcp-dump -p, ss -tn, ss -tpn
#               (a cold start: the cgroup walk and, with -p, every process read)
#   POLLS polls (-c POLLS -i 1ms, back to back): the same three xtcp-dump runs;
#               a warm poll costs (T(POLLS) - T(1)) / (POLLS - 1), which is
#               what a long-running collector pays per poll
# Results: bench/results/owners-LOAD-{one,many}.{json,md} and
# bench/results/owners-summary.md (per-poll costs and ratios).  Ratios are
# what to compare: absolute times drift on a shared machine.
#
# Environment: XTCP_BUILD (default build), SOCKETS, PROCS, POLLS (default 20),
# RUNS (minimum runs, default 10), WARMUP (default 2), LOADS (default
# "few spread").
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${XTCP_BUILD:-build}" && pwd)
snap=$(mktemp -d)
mkdir "$snap/bin"
cp "$build"/bin/xtcp-* "$snap/bin/"
B=$snap/bin
SOCKETS=${SOCKETS:-100000}
PROCS=${PROCS:-10000}
POLLS=${POLLS:-20}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
LOADS=${LOADS:-few spread}
out=bench/results
mkdir -p "$out"

. bench/load.sh
trap 'stop_load; rm -rf "$snap"' EXIT

summary=$out/owners-summary.md
{
	echo "# Owners: cost per poll ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r))"
	echo
	echo "Wall and CPU (user + system) in ms, means of hyperfine runs (± the standard deviation of wall)."
	echo
	echo "| load | sockets | processes | command | one poll: wall | one poll: CPU | warm poll: wall | warm poll: CPU | one poll / ss -tpn (wall, CPU) |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$summary"

for load in $LOADS; do
	case $load in
	few)
		# 4 processes, or as few as RLIMIT_NOFILE's hard limit allows
		conns=$((SOCKETS / 2))
		per=$(((conns + 3) / 4))
		max=$((($(ulimit -Hn) - 64) / 2))
		[ "$per" -le "$max" ] || per=$max
		;;
	spread)
		conns=$PROCS
		per=1
		;;
	*)
		echo "owners.sh: unknown load '$load' (few, spread)" >&2
		exit 2
		;;
	esac
	start_load "$B/xtcp-bench" -n "$conns" --per-process "$per"
	in=(ip netns exec "$netns")
	have=$("${in[@]}" ss -tan | tail -n +2 | wc -l)
	procs=$(("$(pgrep -c -P "$load_pid" || true)"))
	echo "== $load: $have sockets in $netns, held by $procs processes"

	"${in[@]}" hyperfine -N --warmup "$WARMUP" --min-runs "$RUNS" \
		--export-json "$out/owners-$load-one.json" --export-markdown "$out/owners-$load-one.md" \
		-n "no owners" "$B/xtcp-dump --no-cgroup" \
		-n "cgroup" "$B/xtcp-dump" \
		-n "with -p" "$B/xtcp-dump -p" \
		-n "ss -tn" "ss -tn" \
		-n "ss -tpn" "ss -tpn"
	"${in[@]}" hyperfine -N --warmup "$WARMUP" --min-runs "$RUNS" \
		--export-json "$out/owners-$load-many.json" --export-markdown "$out/owners-$load-many.md" \
		-n "no owners" "$B/xtcp-dump --no-cgroup -c $POLLS -i 1ms" \
		-n "cgroup" "$B/xtcp-dump -c $POLLS -i 1ms" \
		-n "with -p" "$B/xtcp-dump -p -c $POLLS -i 1ms"
	python3 - "$out/owners-$load-one.json" "$out/owners-$load-many.json" "$POLLS" \
		"$load" "$have" "$procs" >>"$summary" <<'PY'
import json, sys
def load(path):
    return {r['command']: r for r in json.load(open(path))['results']}
one, many = load(sys.argv[1]), load(sys.argv[2])
k = int(sys.argv[3])
cpu = lambda r: r['user'] + r['system']
ss = one['ss -tpn']
for c in ("no owners", "cgroup", "with -p", "ss -tn", "ss -tpn"):
    r = one[c]
    warm = '| - | -'
    if c in many:
        m = many[c]
        warm = '| %.1f | %.1f' % ((m['mean'] - r['mean']) / (k - 1) * 1e3, (cpu(m) - cpu(r)) / (k - 1) * 1e3)
    print('| %s | %s | %s | %s | %.1f ± %.1f | %.1f %s | %.2f, %.2f |' % (
        sys.argv[4], sys.argv[5], sys.argv[6], c, r['mean'] * 1e3, r['stddev'] * 1e3, cpu(r) * 1e3,
        warm, r['mean'] / ss['mean'], cpu(r) / cpu(ss)))
PY
	stop_load
done
echo >>"$summary"
echo "One poll: a run of xtcp-dump (cold maps). Warm poll: (T(-c $POLLS) - T(-c 1)) / $((POLLS - 1))." >>"$summary"
cat "$summary"
