#!/bin/bash
# bench/pgo-compare.sh (make pgo-compare) - PGO off against on, in one run, for
# each stage and the whole pipeline: callgrind instruction counts (stable on a
# noisy machine), hyperfine wall times, and xtcp-bench micro.
# Writes bench/results/pgo-compare.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results/pgo-compare.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results

make --no-print-directory PGO=0 B=build/nopgo bins >/dev/null
make --no-print-directory bins >/dev/null
for b in build/nopgo/bin/xtcp-dump build/bin/xtcp-dump; do
	valgrind --tool=none "$b" --version >/dev/null 2>&1 ||
		{ echo "pgo-compare: valgrind cannot run $b" >&2; exit 1; }
done
OFF=build/nopgo/bin
ON=build/bin

pcap=tests/data/netlink/5_15_164/5_15_164_tcp_1000_sockets.pcap
"$ON/xtcp-bench" gen -n 50000 --seed 11 >"$work/gen.pb"
"$ON/xtcp-fmt" -f json "$work/gen.pb" | head -5000 >"$work/gen.json"
expr='state == ESTABLISHED && rtt > 1ms && cong != "reno"'

# "name::command" (BIN is replaced by the binary directory)
stages=(
	"dump -r (2173 sockets x 3)::BIN/xtcp-dump -r $pcap -o $work/o1 && BIN/xtcp-dump -r $pcap -o $work/o2 && BIN/xtcp-dump -r $pcap -o $work/o3"
	"filter (50k rows)::BIN/xtcp-filter -o $work/f.pb '$expr' $work/gen.pb"
	"fmt -f json (50k rows)::BIN/xtcp-fmt -f json $work/gen.pb -o $work/j"
	"fmt -f csv (50k rows)::BIN/xtcp-fmt -f csv $work/gen.pb -o $work/c"
	"fmt -f text (50k rows)::BIN/xtcp-fmt -f text $work/gen.pb -o $work/t"
	"fmt --from json (5k lines)::BIN/xtcp-fmt --from json $work/gen.json -o $work/p"
	"filter, then fmt -f json (50k rows)::BIN/xtcp-filter '$expr' $work/gen.pb | BIN/xtcp-fmt -f json -o $work/fj"
)

instr() {   # instructions of every process of a command under callgrind
	rm -f "$work"/cg.*
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/cg.%p" \
		bash -c "$1" >/dev/null 2>&1
	cat "$work"/cg.* | awk '/^summary:/ {s += $2} END {print s}'
}

{
	echo "# PGO off against on"
	echo
	echo "\`bench/pgo-compare.sh\` (\`make pgo-compare\`), $(date -u +%Y-%m-%d), clang $(clang --version | head -1 | grep -o '[0-9][0-9.]*' | head -1)."
	echo "PGO off: \`make PGO=0 B=build/nopgo\`; on: \`make\` with \`pgo/default.proftext\`."
	echo
	echo "## Instructions (callgrind, all processes of the command)"
	echo
	echo "| stage | PGO off | PGO on | on / off |"
	echo "|:---|---:|---:|---:|"
} >"$out"
hf=()
for s in "${stages[@]}"; do
	name=${s%%::*}
	cmd=${s#*::}
	a=$(instr "${cmd//BIN/$OFF}")
	b=$(instr "${cmd//BIN/$ON}")
	awk -v n="$name" -v a="$a" -v b="$b" \
		'BEGIN { printf "| %s | %.0f | %.0f | %.3f |\n", n, a, b, b / a }' >>"$out"
	hf+=(-n "off: $name" "${cmd//BIN/$OFF}" -n "on: $name" "${cmd//BIN/$ON}")
done

hyperfine --warmup 2 --min-runs 10 --export-markdown "$work/hf.md" \
	--export-json bench/results/pgo-compare.json "${hf[@]}" >/dev/null
{
	echo
	echo "## Wall time (hyperfine, --warmup 2 --min-runs 10)"
	echo
	cat "$work/hf.md"
	echo
	echo "## xtcp-bench micro (-benchtime 300ms -count 3)"
	echo
	echo '```'
	echo "# PGO off"
	"$OFF/xtcp-bench" micro -benchtime 300ms -count 3
	echo "# PGO on"
	"$ON/xtcp-bench" micro -benchtime 300ms -count 3
	echo '```'
} >>"$out"
cat "$out"
