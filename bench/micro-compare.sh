#!/bin/bash
# bench/micro-compare.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [BENCHTIME] - xtcp-bench
# micro of two builds in one sitting, interleaved (old, new, old, new, ...)
# so that the machine's drift falls on both alike.  Prints, per benchmark, the
# best and the median ns/op of each and the ratio new/old of the bests and of
# the medians.  Example, against the build of an earlier commit:
#   git worktree add /tmp/old REV && make -C /tmp/old bins
#   bench/micro-compare.sh /tmp/old/build/bin build/bin 7 300ms
set -euo pipefail
old=${1:?usage: bench/micro-compare.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [BENCHTIME]}
new=${2:?usage: bench/micro-compare.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [BENCHTIME]}
rounds=${3:-5}
benchtime=${4:-300ms}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
	for side in old new; do
		dir=$old
		[ "$side" = new ] && dir=$new
		"$dir/xtcp-bench" micro -count 1 -benchtime "$benchtime" |
			awk -v s="$side" '/^Benchmark/ { print s, $1, $3 }' >>"$out"
	done
done
python3 - "$out" "$rounds" "$benchtime" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    side, name, ns = line.split()
    runs[name.replace("Benchmark", "").rsplit("-", 1)[0]][side].append(float(ns))
print("| benchmark | old best | old median | new best | new median | new/old (best) | new/old (median) |")
print("|:---|---:|---:|---:|---:|---:|---:|")
for name, r in runs.items():
    o, n = r["old"], r["new"]
    print("| %s | %.1f | %.1f | %.1f | %.1f | %.3f | %.3f |" % (
        name, min(o), statistics.median(o), min(n), statistics.median(n),
        min(n) / min(o), statistics.median(n) / statistics.median(o)))
print("\n%s rounds of `xtcp-bench micro -count 1 -benchtime %s`, old and new interleaved." %
      (sys.argv[2], sys.argv[3]))
PY
