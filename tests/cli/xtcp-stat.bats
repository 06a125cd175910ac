#!/usr/bin/env bats
# xtcp-stat: summaries against Python on generated and live streams, the
# formats, the Prometheus exposition through promtool and a real
# node_exporter, --max-series, bad input, signals, -o.

load helpers

setup_file() {
	export NS="xtcp-bats-stat-$$"
	netns_up "$NS"
	hold_start "$NS" 3 2
	echo "$HOLD_PID" >"$BATS_FILE_TMPDIR/hold.pid"
	# three polls of 1000 generated records; three live polls of the namespace
	xtcp-bench gen -n 3000 --seed 7 >"$BATS_FILE_TMPDIR/gen.pb"
	xtcp-fmt -f json "$BATS_FILE_TMPDIR/gen.pb" >"$BATS_FILE_TMPDIR/gen.json"
	ip netns exec "$NS" xtcp-dump -c 3 -i 100ms >"$BATS_FILE_TMPDIR/live.pb"
	xtcp-fmt -f json "$BATS_FILE_TMPDIR/live.pb" >"$BATS_FILE_TMPDIR/live.json"
	xtcp-stat --list-fields >"$BATS_FILE_TMPDIR/fields.tsv"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/hold.pid")" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

setup() {
	GEN=$BATS_FILE_TMPDIR/gen.pb
	LIVE=$BATS_FILE_TMPDIR/live.pb
	T=$BATS_TEST_TMPDIR
	NE_PID=
}

teardown() {
	[ -z "$NE_PID" ] || { kill "$NE_PID" 2>/dev/null; wait "$NE_PID" 2>/dev/null; } || true
}

# check STREAM RECORDS.json OPTION...: xtcp-stat -f json with OPTIONs (--by=, --fields=,
# --quantiles=, --max-series=) equals Python's figures on the same records
check() {
	local stream=$1 records=$2
	shift 2
	xtcp-stat -f json "$@" "$stream" >"$T/stat.json" 2>"$T/stat.err"
	python3 "$TOP/tests/data/stat-check.py" "$BATS_FILE_TMPDIR/fields.tsv" "$records" \
		"$T/stat.json" "$@"
}

# fetch URL FILE: an HTTP GET over loopback
fetch() {
	python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=5).read())' "$1" "$2"
}

samples() {
	python3 "$TOP/tests/data/prom-samples.py" "$@"
}

# --- options -------------------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0; --version" {
	run -0 --separate-stderr xtcp-stat --help
	[[ "$output" == "usage: xtcp-stat [options] [FILE...]"* ]]
	[[ "$output" == *"--quantiles LIST"* ]]
	[ -z "$stderr" ]
	run -0 xtcp-stat --version
	[[ "$output" =~ ^xtcp-stat\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "usage errors: one line, exit 2; an unknown field gets a suggestion" {
	run -2 --separate-stderr xtcp-stat --by netnss "$GEN"
	[ "$stderr" = "xtcp-stat: unknown field 'netnss' in --by; did you mean 'netns'? (see 'xtcp-stat --list-fields')" ]
	[ -z "$output" ]
	run -2 --separate-stderr xtcp-stat --fields rtt,cwnf "$GEN"
	[ "$stderr" = "xtcp-stat: unknown field 'cwnf' in --fields; did you mean 'cwnd'? (see 'xtcp-stat --list-fields')" ]
	run -2 --separate-stderr xtcp-stat --fields rtt,state "$GEN"
	[ "$stderr" = "xtcp-stat: field 'state' in --fields is not a number; group by it with --by (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --by state,inet_diag_msg_state "$GEN"
	[ "$stderr" = "xtcp-stat: 'inet_diag_msg_state' is in --by twice (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --quantiles 0.5,1.01 "$GEN"
	[ "$stderr" = "xtcp-stat: invalid quantile '1.01' in --quantiles: want a number from 0 to 1 with at most 6 decimals (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --by timestamp_ns "$GEN"
	[ "$stderr" = "xtcp-stat: 'timestamp_ns' in --by is a column of the summary itself; name the field by its alias 'ts' (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --by netns, "$GEN"
	[ "$stderr" = "xtcp-stat: empty item in --by (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat -f yaml "$GEN"
	[ "$stderr" = "xtcp-stat: invalid format 'yaml': want text, json, csv or openmetrics (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --max-series many "$GEN"
	[ "$stderr" = "xtcp-stat: invalid --max-series 'many': want a count from 0 to 1000000000 (0: no cap) (see 'xtcp-stat --help')" ]
	run -2 --separate-stderr xtcp-stat --nope "$GEN"
	[ "$stderr" = "xtcp-stat: unknown option '--nope' (see 'xtcp-stat --help')" ]
}

@test "refuses to read binary records from a terminal" {
	run -0 script -qec "$XTCP_BUILD/bin/xtcp-stat; echo rc=\$?" /dev/null
	[[ "$output" == *"xtcp-stat: refusing to read binary records from a terminal"* ]]
	[[ "$output" == *"rc=2"* ]]
}

# --- the figures, against Python --------------------------------------------------------

@test "generated stream: counts, sums, min, max and quantiles equal Python's, exactly" {
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by=netns,state --fields=rtt,cwnd,retrans \
		--quantiles=0.5,0.9,0.99
	[[ "$output" == "ok: 3 polls, 3000 records, 89 groups, 3 fields, 3 quantiles match Python" ]]
	# numbers of every kind: 64-bit counters, a signed field, rates; quantiles at the ends
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by=cong,family --quantiles=0,0.25,0.999,1 \
		--fields=bytes_acked,ts,pacing_rate,delivery_rate,rttvar,minrtt,total_retrans,c_group
	[[ "$output" == "ok: 3 polls, 3000 records, "*" groups, 8 fields, 4 quantiles match Python" ]]
	# keys of every kind: addresses, ports, an enum, a number; one group; no fields
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by=dst,dport,congestion_algorithm_enum,uid \
		--fields=rtt --quantiles=0.5
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by= --fields=rtt,cwnd --quantiles=0.1,0.75
	[[ "$output" == "ok: 3 polls, 3000 records, 3 groups, 2 fields, 2 quantiles match Python" ]]
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by=netns,container_id --fields= --quantiles=
}

@test "live stream from xtcp-dump: the sockets held, and the figures equal Python's" {
	run -0 check "$LIVE" "$BATS_FILE_TMPDIR/live.json" --by=netns,state,family \
		--fields=rtt,rttvar,cwnd,bytes_acked,bytes_received,segs_out,mss --quantiles=0.5,0.9,0.99
	[[ "$output" == "ok: 3 polls, 36 records, 12 groups, 7 fields, 3 quantiles match Python" ]]
	# 3 IPv4 and 2 IPv6 connections and their two listeners, in each poll
	run -0 xtcp-stat -f csv --no-header --by family,state --fields= "$LIVE"
	[ "$(cut -d, -f1,3- <<<"$output" | head -4)" = "$(printf '%s\n' 1,RECORD_KIND_POLL,2,ESTABLISHED,6 \
		1,RECORD_KIND_POLL,2,LISTEN,1 1,RECORD_KIND_POLL,10,ESTABLISHED,4 1,RECORD_KIND_POLL,10,LISTEN,1)" ]
	[ "$(cut -d, -f1 <<<"$output" | uniq -c | awk '{print $1 "x" $2}' | paste -sd' ')" = "4x1 4x2 4x3" ]
}

@test "rows with poll_sequence 0 are polls by timestamp" {
	printf '%s\n' '{"timestamp_ns":5,"tcp_info_rtt":1}' '{"timestamp_ns":5,"tcp_info_rtt":3}' \
		'{"timestamp_ns":9,"tcp_info_rtt":10}' | xtcp-fmt --from json >"$T/ts.pb"
	run -0 xtcp-stat -f csv --by= --fields=rtt --quantiles=0.5 "$T/ts.pb"
	[ "$output" = "$(printf '%s\n' poll_sequence,timestamp_ns,record_kind,count,rtt_sum,rtt_min,rtt_p50,rtt_max \
		0,5,RECORD_KIND_POLL,2,4,1,2,3 0,9,RECORD_KIND_POLL,1,10,10,10,10)" ]
}

# close_stream RECORDS.json OUT.json: RECORDS (polls of xtcp-fmt -f json) with close
# records after polls 1 and 3 (every 7th socket of the poll, closed, its counters moved on,
# each with a time of its own), none after poll 2, as xtcp-dump -E writes them
close_stream() {
	python3 - "$1" "$2" <<'PY'
import json, sys
polls = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    polls.setdefault(int(r["poll_sequence"]), []).append(r)
with open(sys.argv[2], "w") as out:
    for seq, rows in polls.items():
        for r in rows:
            out.write(json.dumps(r) + "\n")
        if seq == 2:
            continue
        for j, r in enumerate(rows[::7]):
            c = dict(r, record_kind="RECORD_KIND_CLOSE", inet_diag_msg_state="CLOSE",
                     timestamp_ns=int(r["timestamp_ns"]) + 1000 * (j + 1),
                     tcp_info_rtt=int(r["tcp_info_rtt"]) + j,
                     tcp_info_bytes_acked=str(int(r["tcp_info_bytes_acked"]) + 1000 * j))
            out.write(json.dumps(c) + "\n")
PY
}

@test "close records (xtcp-dump -E): summarised apart, after the poll they follow; figures equal Python's" {
	close_stream "$BATS_FILE_TMPDIR/gen.json" "$T/c.json"
	xtcp-fmt --from json "$T/c.json" >"$T/c.pb"
	run -0 check "$T/c.pb" "$T/c.json" --by=netns,state --fields=rtt,cwnd,bytes_acked \
		--quantiles=0.5,0.9,0.99
	[ "$output" = "ok: 3 polls and 2 of close records, 3286 records, 99 groups, 3 fields, 3 quantiles match Python" ]
	# in stream order, each close summary after its poll, its time the first close record's
	run -0 xtcp-stat -f csv --no-header --by= --fields= "$T/c.pb"
	[ "$(cut -d, -f1,3,4 <<<"$output" | paste -sd' ')" = "1,RECORD_KIND_POLL,1000 1,RECORD_KIND_CLOSE,143 2,RECORD_KIND_POLL,1000 3,RECORD_KIND_POLL,1000 3,RECORD_KIND_CLOSE,143" ]
	[ "$(sed -n 2p <<<"$output" | cut -d, -f2)" -eq $(($(sed -n 1p <<<"$output" | cut -d, -f2) + 1000)) ]
	run -0 xtcp-stat --by state --fields '' "$T/c.pb"
	[ "$(grep -c '^poll [123] at ' <<<"$output")" -eq 3 ]
	[ "$(grep -c '^closed after poll [13], from 2026-01-01T00:00:[0-9]*Z: 143 sockets in 1 group$' <<<"$output")" -eq 2 ]
	# by kind, as a key: one value a summary
	run -0 xtcp-stat -f csv --no-header --by kind --fields '' "$T/c.pb"
	[ "$(cut -d, -f3,4 <<<"$output" | sort -u | paste -sd' ')" = "RECORD_KIND_CLOSE,RECORD_KIND_CLOSE RECORD_KIND_POLL,RECORD_KIND_POLL" ]
	run -2 --separate-stderr xtcp-stat --by record_kind "$T/c.pb"
	[ "$stderr" = "xtcp-stat: 'record_kind' in --by is a column of the summary itself; name the field by its alias 'kind' (see 'xtcp-stat --help')" ]
	# xtcp-dump -E alone (poll_sequence 0): the close records of the run are one summary
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["record_kind"] == "RECORD_KIND_CLOSE":
        print(json.dumps(dict(r, poll_sequence=0)))' "$T/c.json" >"$T/e.json"
	xtcp-fmt --from json "$T/e.json" >"$T/e.pb"
	run -0 check "$T/e.pb" "$T/e.json" --by=netns --fields=rtt,bytes_acked --quantiles=0.5
	[[ "$output" == "ok: 0 polls and 1 of close records, 286 records, "* ]]
}

@test "-f openmetrics leaves close records out, and says how many" {
	close_stream "$BATS_FILE_TMPDIR/gen.json" "$T/c.json"
	xtcp-fmt --from json "$T/c.json" >"$T/c.pb"
	xtcp-filter 'kind == poll' "$T/c.pb" | xtcp-stat -f openmetrics --by netns >"$T/want.prom"
	grep -q '^xtcp_sockets{netns="blue"} [0-9]' "$T/want.prom"
	run -0 --separate-stderr xtcp-stat -f openmetrics --by netns "$T/c.pb"
	diff -u "$T/want.prom" - <<<"$output"
	[ "$stderr" = "xtcp-stat: 286 close records (xtcp-dump -E) left out: -f openmetrics shows the sockets of the last poll" ]
}

@test "live xtcp-dump -E -i 1s: polls and the sockets closed between them, each summarised apart, as Python" {
	local n=100
	ip netns exec "$NS" xtcp-dump -c 0 -i 1s -E >"$T/ev.pb" 2>"$T/ev.err" &
	local dump=$!
	wait_until has_polls "$T/ev.pb" 1
	ip netns exec "$NS" python3 "$TOP/tests/data/closer.py" "$n" "$T/conns.log"
	# both ends of every connection and the two listeners, then one more poll
	wait_until bash -c "xtcp-filter -c 'kind == close' '$T/ev.pb' | grep -qx $((n * 2 + 2))"
	local last
	last=$(xtcp-filter 'kind == close' "$T/ev.pb" | xtcp-fmt -f tsv --no-header --fields poll_sequence | tail -1)
	wait_until has_polls "$T/ev.pb" $((last + 1))
	kill -INT "$dump"
	wait "$dump"
	[ -z "$(without_schedule_notes <"$T/ev.err")" ]
	xtcp-fmt -f json "$T/ev.pb" >"$T/ev.json"
	run -0 check "$T/ev.pb" "$T/ev.json" --by=state,family --fields=rtt,bytes_acked,bytes_received \
		--quantiles=0.5,0.9
	echo "$output"
	[[ "$output" == "ok: "*" polls and "*" of close records, "* ]]
	# the close summaries hold the 202 closed sockets, in CLOSE, none in a poll's groups
	xtcp-stat -f csv --no-header --by state --fields '' "$T/ev.pb" >"$T/s.csv"
	run -0 awk -F, '$3 == "RECORD_KIND_CLOSE" { n += $5; if ($4 != "CLOSE") bad = 1 }
		$3 == "RECORD_KIND_POLL" && $4 == "CLOSE" { bad = 1 } END { print n; exit bad }' "$T/s.csv"
	[ "$output" -eq $((n * 2 + 2)) ]
}

# --- formats ------------------------------------------------------------------------------------

@test "text: a table for each poll" {
	printf '%s\n' '{"poll_sequence":7,"timestamp_ns":1767225600000000000,"netns":"blue","inet_diag_msg_state":"ESTABLISHED","tcp_info_rtt":1500,"tcp_info_snd_cwnd":10}' \
		'{"poll_sequence":7,"timestamp_ns":1767225600000000000,"netns":"blue","inet_diag_msg_state":"ESTABLISHED","tcp_info_rtt":2500,"tcp_info_snd_cwnd":20}' \
		'{"poll_sequence":7,"timestamp_ns":1767225600000000000,"netns":"","inet_diag_msg_state":"LISTEN"}' \
		'{"poll_sequence":8,"timestamp_ns":1767225610000000000,"netns":"red","inet_diag_msg_state":"LISTEN"}' |
		xtcp-fmt --from json >"$T/t.pb"
	run -0 --separate-stderr xtcp-stat --fields rtt,cwnd --quantiles 0.5,0.9 "$T/t.pb"
	[ -z "$stderr" ]
	diff -u - <(echo "$output") <<'EOF'
poll 7 at 2026-01-01T00:00:00Z: 3 sockets in 2 groups
NETNS  STATE        SOCKETS  FIELD            SUM   MIN   P50   P90   MAX
-      LISTEN             1  rtt(us)            0     0     0     0     0
                             cwnd(segments)     0     0     0     0     0
blue   ESTABLISHED        2  rtt(us)         4000  1500  2000  2400  2500
                             cwnd(segments)    30    10    15    19    20

poll 8 at 2026-01-01T00:00:10Z: 1 socket in 1 group
NETNS  STATE   SOCKETS  FIELD           SUM  MIN  P50  P90  MAX
red    LISTEN        1  rtt(us)           0    0    0    0    0
                        cwnd(segments)    0    0    0    0    0
EOF
	run -0 xtcp-stat --no-header --by state --fields '' "$T/t.pb"
	[ "$output" = "$(printf '%s\n' 'poll 7 at 2026-01-01T00:00:00Z: 3 sockets in 2 groups' \
		'ESTABLISHED  2' 'LISTEN       1' '' 'poll 8 at 2026-01-01T00:00:10Z: 1 socket in 1 group' \
		'LISTEN  1')" ]
}

@test "csv: RFC 4180, the same figures as json (Python's csv module)" {
	xtcp-stat -f csv --by netns,state "$GEN" >"$T/s.csv"
	xtcp-stat -f json --by netns,state "$GEN" >"$T/s.json"
	run -0 python3 - "$T/s.csv" "$T/s.json" <<'PY'
import csv, json, sys
from decimal import Decimal
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
objs = [json.loads(l, parse_float=Decimal) for l in open(sys.argv[2])]
assert len(rows) == len(objs) == 89, (len(rows), len(objs))
for r, o in zip(rows, objs):
    assert int(r["poll_sequence"]) == o["poll_sequence"] and r["timestamp_ns"] == o["timestamp_ns"]
    assert (r["netns"], r["state"]) == (o["group"]["netns"], o["group"]["state"])
    assert int(r["count"]) == o["count"]
    for f in ("rtt", "cwnd", "retrans"):
        for s in ("sum", "min", "p50", "p90", "p99", "max"):
            assert Decimal(r["%s_%s" % (f, s)]) == Decimal(str(o[f][s])), (f, s, r, o)
print("ok", len(rows))
PY
	[ "$output" = "ok 89" ]
}

@test "a reader that goes away (| head) ends the run quietly, exit 0" {
	run -0 --separate-stderr bash -c "xtcp-stat -f json --by src,dst,sport '$GEN' | head -1"
	[ "${#lines[@]}" -eq 1 ]
	[ -z "$stderr" ]
}

# --- openmetrics -------------------------------------------------------------------------

@test "openmetrics: the last poll, names and units as Prometheus says, promtool check metrics passes" {
	run -0 --separate-stderr xtcp-stat -f openmetrics "$GEN"
	[ -z "$stderr" ]
	echo "$output" >"$T/x.prom"
	run -0 promtool check metrics <"$T/x.prom"
	[ -z "$output" ]
	# the last of the three polls: its time and its 1000 records
	grep -qx 'xtcp_stat_poll_timestamp_seconds 1767225620' "$T/x.prom"
	[ "$(grep '^xtcp_sockets{' "$T/x.prom" | awk '{n += $2} END {print n}')" = 1000 ]
	grep -qx '# TYPE xtcp_tcp_rtt_seconds summary' "$T/x.prom"
	grep -qx '# TYPE xtcp_tcp_snd_cwnd_segments summary' "$T/x.prom"
	grep -qx '# TYPE xtcp_tcp_total_retrans_max_segments gauge' "$T/x.prom"
	grep -q '^xtcp_tcp_rtt_seconds{netns="blue",state="ESTABLISHED",quantile="0.99"} 0\.' "$T/x.prom"
	run ! grep -q '# EOF' "$T/x.prom"
	# the values are the json figures in base units: rtt in microseconds as seconds
	grep -m1 'poll_sequence":3,.*"blue","state":"ESTABLISHED"' < <(xtcp-stat -f json --fields rtt --quantiles 0.5 "$GEN") >"$T/j"
	run -0 python3 -c "
import json, sys
from decimal import Decimal
o = json.load(open('$T/j'), parse_float=Decimal)
print(Decimal(o['rtt']['p50']) / 1000000, Decimal(o['rtt']['sum']) / 1000000)"
	read -r p50 sum <<<"$output"
	grep -qx "xtcp_tcp_rtt_seconds{netns=\"blue\",state=\"ESTABLISHED\",quantile=\"0.5\"} $p50" "$T/x.prom"
	grep -qx "xtcp_tcp_rtt_seconds_sum{netns=\"blue\",state=\"ESTABLISHED\"} $sum" "$T/x.prom"
}

@test "openmetrics: every numeric field, and keys that need escaping, pass promtool" {
	local all
	all=$(awk -F'\t' '($2 == "uint32" || $2 == "uint64" || $2 == "int64") && $1 != "poll_sequence" && $1 != "timestamp_ns" {print $1}' \
		"$BATS_FILE_TMPDIR/fields.tsv" | paste -sd,)
	xtcp-stat -f openmetrics --fields "$all" --by netns,state,dst,cong "$GEN" >"$T/all.prom"
	run -0 promtool check metrics <"$T/all.prom"
	[ -z "$output" ]
	printf '%s\n' '{"poll_sequence":1,"netns":"a\"b\\c\nd","tcp_info_rtt":1500}' \
		'{"poll_sequence":1,"netns":"x,y é","tcp_info_rtt":500}' | xtcp-fmt --from json >"$T/esc.pb"
	xtcp-stat -f openmetrics --by netns "$T/esc.pb" >"$T/esc.prom"
	run -0 promtool check metrics <"$T/esc.prom"
	grep -qxF 'xtcp_sockets{netns="a\"b\\c\nd"} 1' "$T/esc.prom"
	# our own reading of the exposition gives the names back
	run -0 samples "$T/esc.prom" xtcp_sockets
	[ "$output" = "$(printf '%s\n' 'xtcp_sockets{netns="a\"b\\c\nd"} 1.0' 'xtcp_sockets{netns="x,y é"} 1.0')" ]
}

@test "--max-series folds the smallest groups into one, says so, and Python agrees" {
	run -0 check "$GEN" "$BATS_FILE_TMPDIR/gen.json" --by=netns,state --fields=rtt,cwnd \
		--quantiles=0.5,0.9 --max-series=7
	[[ "$output" == "ok: 3 polls, 3000 records, 18 groups, 2 fields, 2 quantiles match Python" ]]
	[ "$(cat "$T/stat.err")" = "xtcp-stat: poll 1 has 30 groups, over --max-series 7: the 24 with the fewest sockets are folded into one (other); later polls are not noted" ]
	run -0 --separate-stderr xtcp-stat -f openmetrics --by netns,state --max-series 7 "$GEN"
	[ "$stderr" = "xtcp-stat: poll 3 has 29 groups, over --max-series 7: the 23 with the fewest sockets are folded into one (other)" ]
	echo "$output" >"$T/m.prom"
	[ "$(grep -c '^xtcp_sockets{' "$T/m.prom")" -eq 7 ]
	grep -q '^xtcp_sockets{other="true"} [0-9]' "$T/m.prom"
	grep -qx 'xtcp_stat_other_groups 23' "$T/m.prom"
	grep -q '^xtcp_tcp_rtt_seconds{other="true",quantile="0.9"} ' "$T/m.prom"
	run -0 promtool check metrics <"$T/m.prom"
	# 1000 series by default with openmetrics; no cap for the others
	python3 -c 'for p in range(1, 1201): print("{\"poll_sequence\":1,\"inet_diag_msg_socket_source_port\":%d}" % p)' |
		xtcp-fmt --from json >"$T/ports.pb"
	run -0 --separate-stderr xtcp-stat -f openmetrics --by sport --fields '' "$T/ports.pb"
	[ "$(grep -c '^xtcp_sockets{' <<<"$output")" -eq 1000 ]
	grep -qx 'xtcp_sockets{other="true"} 201' <<<"$output"
	[ "$stderr" = "xtcp-stat: poll 1 has 1200 groups, over --max-series 1000: the 201 with the fewest sockets are folded into one (other)" ]
	run -0 --separate-stderr xtcp-stat -f csv --by sport --fields '' "$T/ports.pb"
	[ "${#lines[@]}" -eq 1201 ]
	[ -z "$stderr" ]
}

@test "a real node_exporter serves the textfile over loopback: every series, the same values" {
	local dir=$T/textfile port
	mkdir "$dir"
	xtcp-stat -f openmetrics --by netns,state --max-series 10 -o "$dir/xtcp.prom" "$GEN" 2>/dev/null
	[ "$(ls -A "$dir")" = xtcp.prom ]
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$dir" >"$T/ne.log" 2>&1 &
	NE_PID=$!
	wait_until fetch "http://127.0.0.1:$port/metrics" "$T/metrics" || { cat "$T/ne.log"; false; }
	grep -qx 'node_textfile_scrape_error 0' "$T/metrics"
	samples "$dir/xtcp.prom" >"$T/ours"
	samples "$T/metrics" xtcp_ >"$T/theirs"
	[ "$(wc -l <"$T/ours")" -gt 100 ]
	diff -u "$T/ours" "$T/theirs"
	grep -q '^xtcp_tcp_rtt_seconds{netns="blue",quantile="0.5",state="ESTABLISHED"} ' "$T/theirs"
}

# --- -o, bad input, signals -------------------------------------------------------------

@test "-o: the file appears whole; bad input before any poll leaves the old one" {
	run -0 xtcp-stat -f openmetrics -o "$T/x.prom" "$GEN"
	[ -z "$output" ]
	run -0 promtool check metrics <"$T/x.prom"
	cp "$T/x.prom" "$T/before"
	printf 'garbage!' >"$T/bad.pb"
	run -1 --separate-stderr xtcp-stat -f openmetrics -o "$T/x.prom" "$T/bad.pb"
	[[ "$stderr" == "xtcp-stat: '$T/bad.pb': frame 1 at byte 0: "* ]]
	cmp "$T/x.prom" "$T/before"
	[ "$(ls -A "$T" | grep -c '^\.x\.prom')" -eq 0 ]
}

# frame_end STREAM N: the byte offset where frame N of STREAM ends
frame_end() {
	python3 -c "
import sys
data, off = open(sys.argv[1], 'rb').read(), 0
for _ in range(int(sys.argv[2])):
    n = shift = 0
    while True:
        b = data[off]; off += 1
        n |= (b & 0x7f) << shift; shift += 7
        if b < 0x80: break
    off += n
print(off)" "$1" "$2"
}

@test "a truncated stream: the polls before it are written, the one it cuts is not; exit 1" {
	local cut
	# xtcp-dump writes a frame a poll (of one namespace): cut into the third,
	# so the second poll may be incomplete and only the first is known whole
	cut=$(frame_end "$LIVE" 2)
	head -c $((cut + 20)) "$LIVE" >"$T/t.pb"
	run -1 --separate-stderr xtcp-stat -f csv --no-header --by= --fields= "$T/t.pb"
	[ "$(cut -d, -f1,4 <<<"$output")" = "1,12" ]
	[[ "$stderr" == "xtcp-stat: '$T/t.pb': frame 3 at byte $cut: input ends inside the frame (1"*" of "*" bytes)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	# openmetrics writes that last complete poll
	run -1 --separate-stderr xtcp-stat -f openmetrics --by= --fields= -o "$T/t.prom" "$T/t.pb"
	grep -qx 'xtcp_sockets 12' "$T/t.prom"
}

@test "garbage and JSON lines: one line naming frame and byte, exit 1" {
	run -1 --separate-stderr bash -c "printf 'hello world\n' | xtcp-stat"
	[ "$stderr" = "xtcp-stat: standard input: frame 1 at byte 0: input ends inside the frame (11 of 104 bytes)" ]
	[ -z "$output" ]
	head -c 200 "$BATS_FILE_TMPDIR/gen.json" >"$T/a.json"
	run -1 --separate-stderr xtcp-stat "$T/a.json"
	[[ "$stderr" == "xtcp-stat: '$T/a.json': frame 1 at byte 0: "*" (JSON lines? turn them into a stream with xtcp-fmt --from json)" ]]
	run -1 --separate-stderr xtcp-stat "$T/missing.pb"
	[ "$stderr" = "xtcp-stat: cannot open '$T/missing.pb': No such file or directory" ]
}

@test "SIGTERM ends the run cleanly: polls read are written, the cut one is not, exit 0" {
	mkfifo "$T/in"
	xtcp-stat -f csv --no-header --by= --fields= "$T/in" >"$T/out" 2>"$T/err" 3>&- &
	local stat=$!
	# three polls, then the writer stays open: poll 3 has not ended when the signal comes
	exec 5>"$T/in"
	cat "$LIVE" >&5
	wait_until drained "$T/in"
	kill -TERM "$stat"
	local rc=0
	wait "$stat" || rc=$?
	exec 5>&-
	[ "$rc" -eq 0 ]
	[ "$(cut -d, -f1,4 "$T/out" | paste -sd' ')" = "1,12 2,12" ]
	[ ! -s "$T/err" ]
}
