#!/bin/bash
# A short run of each libFuzzer target over its seed corpus (TAP).  Longer runs:
#   build/fuzz/fuzz-NAME -max_total_time=600 tests/fuzz/corpus/NAME
set -u
B=${XTCP_BUILD:?}
secs=${XTCP_FUZZ_SECONDS:-15}
fuzzers=("$B"/fuzz/fuzz-*)
echo "1..${#fuzzers[@]}"
n=0
for f in "${fuzzers[@]}"; do
	n=$((n + 1))
	name=${f##*/fuzz-}
	corpus=tests/fuzz/corpus/$name
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	if "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		"$work" >"$work.log" 2>&1; then
		echo "ok $n - fuzz-$name ran ${secs}s without a finding"
	else
		echo "not ok $n - fuzz-$name found a failure"
		sed 's/^/# /' "$work.log" | tail -40
	fi
	rm -rf "$work" "$work.log"
done
