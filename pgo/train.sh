#!/bin/bash
# pgo/train.sh - the PGO training workload: the whole pipeline as users run it.
# Run by `make pgo` with XTCP_BIN pointing at instrumented binaries and
# LLVM_PROFILE_FILE set so that every process writes its own raw profile.
#
#   1. xtcp-bench load: 3000 connections with traffic in a private namespace
#   2. xtcp-dump polls of it with every attribute (and -4/-6, --states, --ext)
#   3. xtcp-filter with typical expressions
#   4. xtcp-fmt in every format, and --from json and protobuf
#   5. xtcp-kafka into librdkafka's mock cluster
#   6. xtcp-dump -r replays of every fixture capture
#   7. synthetic streams (xtcp-bench gen) through filter and fmt
#   8. xtcp-stat in every format, live and over the streams above
#   9. xtcp-rate over the live polls and over generated polls with churn
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${XTCP_BIN:?set XTCP_BIN to the instrumented binaries}
work=$(mktemp -d)
ns=xtcp-pgo-$$
load= mock=
cleanup() {
	[ -n "$load" ] && kill "$load" 2>/dev/null && { wait "$load" 2>/dev/null || true; }
	[ -n "$mock" ] && kill "$mock" 2>/dev/null && { wait "$mock" 2>/dev/null || true; }
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
step() { echo "pgo: $*" >&2; }

step "load: 3000 connections with traffic"
"$BIN/xtcp-bench" load -n 3000 --netns "$ns" --traffic >"$work/ready" &
load=$!
until grep -q ready "$work/ready" 2>/dev/null; do
	kill -0 "$load" 2>/dev/null || { echo "pgo: xtcp-bench load failed" >&2; exit 1; }
	sleep 0.2
done
in_ns() { ip netns exec "$ns" "$@"; }

step "dump: 5 polls with every attribute, and variants"
in_ns "$BIN/xtcp-dump" -c 5 -i 200ms >"$work/live.pb"
in_ns "$BIN/xtcp-dump" -4 --states established --ext info,cong >/dev/null
in_ns "$BIN/xtcp-dump" -6 --ext none >/dev/null
in_ns "$BIN/xtcp-dump" -n all -c 2 -i 100ms >/dev/null 2>&1
"$BIN/xtcp-dump" -n "$ns" -w "$work/raw.nl" --rows 100 >/dev/null

step "replay the fixture captures"
for pcap in tests/data/netlink/*/*.pcap; do
	"$BIN/xtcp-dump" -r "$pcap" >>"$work/replay.pb" 2>/dev/null || true
done
"$BIN/xtcp-dump" -r "$work/raw.nl" >/dev/null

step "synthetic stream"
"$BIN/xtcp-bench" gen -n 100000 --seed 3 >"$work/gen.pb"
cat "$work/live.pb" "$work/replay.pb" "$work/gen.pb" >"$work/all.pb"

step "filter"
for expr in 'state == ESTABLISHED && rtt > 5ms' 'cong == "bbr" || cong == "cubic"' \
	'dst in 10.0.0.0/8 || dst in fd00::/8' 'retrans > 0 && !(state in (LISTEN, TIME_WAIT))' \
	'netns ~ "^red" && bytes_acked > 1M' 'sport == 22 || dport == 443' 'cwnd < 10 && rttvar > 1ms'; do
	"$BIN/xtcp-filter" "$expr" "$work/all.pb" >/dev/null
	"$BIN/xtcp-filter" -c "$expr" "$work/all.pb" >/dev/null
done
"$BIN/xtcp-filter" -v 'state == LISTEN' "$work/all.pb" >"$work/filtered.pb"

step "fmt in every format"
for f in json csv tsv text; do
	"$BIN/xtcp-fmt" -f "$f" "$work/all.pb" >/dev/null
done
"$BIN/xtcp-fmt" -f protobuf "$work/all.pb" | "$BIN/xtcp-fmt" --from protobuf >/dev/null
"$BIN/xtcp-fmt" -f csv --fields all "$work/filtered.pb" >/dev/null
"$BIN/xtcp-fmt" -f json "$work/live.pb" "$work/replay.pb" >"$work/all.json"
"$BIN/xtcp-fmt" --from json "$work/all.json" >/dev/null
in_ns "$BIN/xtcp-dump" | "$BIN/xtcp-filter" 'state == ESTABLISHED' | "$BIN/xtcp-fmt" -f json >/dev/null

step "stat in every format"
for f in text json csv openmetrics; do
	"$BIN/xtcp-stat" -f "$f" "$work/all.pb" >/dev/null
done
"$BIN/xtcp-stat" -f json --by netns,state,cong,dport --fields rtt,rttvar,cwnd,retrans,bytes_acked \
	--quantiles 0.5,0.9,0.99,0.999 "$work/gen.pb" >/dev/null
"$BIN/xtcp-stat" -f openmetrics --by src,sport --max-series 100 "$work/gen.pb" >/dev/null 2>&1
in_ns "$BIN/xtcp-dump" -c 3 -i 100ms | "$BIN/xtcp-stat" --by state,family >/dev/null
step "rate"
"$BIN/xtcp-bench" gen -n 50000 --sockets 5000 --churn 2 --bare >"$work/polls.pb"
"$BIN/xtcp-rate" "$work/live.pb" | "$BIN/xtcp-filter" 'rate_bytes_acked > 1M || retrans_delta > 0' >/dev/null
"$BIN/xtcp-rate" "$work/polls.pb" >"$work/rated.pb"
"$BIN/xtcp-rate" --changed "$work/rated.pb" >/dev/null
in_ns "$BIN/xtcp-dump" -c 3 -i 100ms | "$BIN/xtcp-rate" | "$BIN/xtcp-fmt" -f text >/dev/null

step "kafka into the mock cluster"
"$BIN/xtcp-mock-kafka" -t xtcp -p 3 >"$work/brokers" &
mock=$!
until [ -s "$work/brokers" ]; do sleep 0.1; done
"$BIN/xtcp-kafka" -q -b "$(cat "$work/brokers")" -t xtcp --timeout 30s "$work/all.pb"
"$BIN/xtcp-kafka" -q -b "$(cat "$work/brokers")" -t xtcp --key netns --rows 500 "$work/gen.pb"

step "micro"
"$BIN/xtcp-bench" micro -benchtime 100ms >/dev/null
step "done"
