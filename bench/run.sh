#!/bin/bash
# bench/run.sh [SOCKETS...] - the xtcp pipeline against ss and the raw netlink
# floor, at each socket count (default: 10000 100000).
#
# For each count, `xtcp-bench load` holds SOCKETS/2 established loopback
# connections (IPv4 and IPv6, several congestion controls) in a private
# namespace, and hyperfine runs inside that namespace:
#
#   1. one comparison run through the shell (pipelines need one; hyperfine
#      measures the shell's start-up and subtracts it from every command):
#      the floor, the raw floor, xtcp-dump > /dev/null, xtcp-dump | xtcp-fmt
#      -f json / csv, xtcp-dump | xtcp-filter | xtcp-fmt, ss -tin, ss -tinm;
#   2. a run without a shell (-N) of the single commands: the floor, the raw
#      floor, xtcp-dump, ss -tin (hyperfine sends their stdout to /dev/null);
#
# The floor is `xtcp-bench floor` (lib/diag.c, as xtcp-dump reads); the raw
# floor is xtcp-rawfloor (tests/helpers/), the same request and reads written
# from the kernel's headers alone, an independent check on the first.
#   3. peak memory (/usr/bin/time -v) of xtcp-dump and ss -tin;
#   4. bench/cpu.py: the floor, the raw floor, the floor asking what xtcp-dump
#      asks (every attribute but MEMINFO, which it takes from SKMEMINFO),
#      xtcp-dump, the JSON pipeline and
#      ss -tin once each per round, interleaved, RUNS rounds: wall and CPU
#      (user + system, from wait4) with their quartiles and range, and the
#      ratios of medians to the floor (what hyperfine cannot give: the CPU
#      time of each run, so the spread of CPU).
#
# Results: bench/results/pipeline-N.{json,md}, direct-N.{json,md},
# memory-N.txt, cpu-N.{txt,tsv}; then bench/plot.sh draws docs/scaling.svg from every
# pipeline-N.json present.  Ratios are what to compare: absolute times drift
# on a shared machine.
#
# Environment: XTCP_BUILD (default build), RUNS (minimum runs, default 10),
# WARMUP (default 2), FILTER (the xtcp-filter expression).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${XTCP_BUILD:-build}" && pwd)
# A snapshot of the binaries, so that a rebuild during the run changes nothing.
snap=$(mktemp -d)
mkdir "$snap/bin"
cp "$build"/bin/xtcp-* "$snap/bin/"
cp -r "$build"/libexec "$snap/"        # xtcp-bench micro runs libexec/xtcp/xtcp-bench-micro
B=$snap
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
FILTER=${FILTER:-state == ESTABLISHED && cong != "reno"}
# What xtcp-dump asks by default: every attribute but MEMINFO (see --ext in xtcp-dump(1)).
DUMP_EXT=info,vegas,cong,tos,tclass,skmeminfo,shutdown
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000)
out=bench/results
mkdir -p "$out"

. bench/load.sh
trap 'stop_load; rm -rf "$snap"' EXIT

for sockets in "${counts[@]}"; do
	conns=$((sockets / 2))
	start_load "$B/bin/xtcp-bench" -n "$conns"
	in=(ip netns exec "$netns")
	have=$("${in[@]}" ss -tan | tail -n +2 | wc -l)
	echo "== $sockets sockets requested, $have in $netns (listeners included)"

	cmds=(
		-n floor "$B/bin/xtcp-bench floor 2>/dev/null"
		-n "raw floor" "$B/bin/xtcp-rawfloor 2>/dev/null"
		-n "xtcp-dump" "$B/bin/xtcp-dump > /dev/null"
		-n "xtcp-dump | xtcp-fmt -f json" "$B/bin/xtcp-dump | $B/bin/xtcp-fmt -f json > /dev/null"
		-n "xtcp-dump | xtcp-fmt -f csv" "$B/bin/xtcp-dump | $B/bin/xtcp-fmt -f csv > /dev/null"
	)
	if [ -x "$B/bin/xtcp-filter" ]; then
		cmds+=(-n "xtcp-dump | xtcp-filter | xtcp-fmt -f json"
			"$B/bin/xtcp-dump | $B/bin/xtcp-filter '$FILTER' | $B/bin/xtcp-fmt -f json > /dev/null")
	else
		echo "run.sh: no $B/bin/xtcp-filter: the filter pipeline is left out" >&2
	fi
	cmds+=(-n "ss -tin" "ss -tin > /dev/null" -n "ss -tinm" "ss -tinm > /dev/null")
	"${in[@]}" hyperfine --warmup "$WARMUP" --min-runs "$RUNS" \
		--export-json "$out/pipeline-$sockets.json" \
		--export-markdown "$out/pipeline-$sockets.md" "${cmds[@]}"

	"${in[@]}" hyperfine -N --warmup "$WARMUP" --min-runs "$RUNS" \
		--export-json "$out/direct-$sockets.json" \
		--export-markdown "$out/direct-$sockets.md" \
		-n floor "$B/bin/xtcp-bench floor" \
		-n "raw floor" "$B/bin/xtcp-rawfloor" \
		-n xtcp-dump "$B/bin/xtcp-dump" \
		-n "ss -tin" "ss -tin"

	mem=$(mktemp)
	for cmd in "xtcp-bench floor" xtcp-dump "ss -tin" "ss -tinm"; do
		bin=$cmd
		[ "${cmd#xtcp}" = "$cmd" ] || bin="$B/bin/$cmd"
		# shellcheck disable=SC2086
		"${in[@]}" /usr/bin/time -f '%M' -o "$mem" $bin >/dev/null 2>&1
		printf '%s\t%s\t%s KiB\n' "$sockets" "$cmd" "$(tail -n 1 "$mem")"
	done | tee "$out/memory-$sockets.txt"
	rm -f "$mem"

	"${in[@]}" python3 bench/cpu.py -r "$RUNS" -w "$WARMUP" -o "$out/cpu-$sockets.tsv" \
		floor="$B/bin/xtcp-bench floor" "raw floor=$B/bin/xtcp-rawfloor" \
		"floor, xtcp-dump's request=$B/bin/xtcp-bench floor --ext $DUMP_EXT" \
		xtcp-dump="$B/bin/xtcp-dump" \
		"xtcp-dump | xtcp-fmt -f json=$B/bin/xtcp-dump | $B/bin/xtcp-fmt -f json" \
		"ss -tin=ss -tin" | tee "$out/cpu-$sockets.txt"
	stop_load
done
bench/plot.sh
