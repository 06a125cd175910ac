#!/usr/bin/env bats
# xtcp-bench: gen, load, micro, floor.

load helpers

setup() {
	NS=xtcp-bench-bats-$$-$BATS_TEST_NUMBER
	LOAD_PID=
}

teardown() {
	if [ -n "$LOAD_PID" ]; then
		kill "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
}

# load_start ARGS...: start xtcp-bench load in the background; sets LOAD_PID, READY.
# It waits while the load runs (60 s at most, however loaded the machine is).
load_start() {
	local out="$BATS_TEST_TMPDIR/ready"
	xtcp-bench load "$@" >"$out" 2>"$BATS_TEST_TMPDIR/load.err" &
	LOAD_PID=$!
	for _ in $(seq 1200); do
		if grep -q '^ready' "$out"; then
			READY=$(cat "$out")
			return 0
		fi
		kill -0 "$LOAD_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$out" "$BATS_TEST_TMPDIR/load.err" >&2
	return 1
}

@test "--help and --version" {
	run -0 xtcp-bench --help
	[[ $output == *"xtcp-bench load -n N"* ]]
	[[ $output == *"-run REGEX"* ]]
	run -0 xtcp-bench --version
	[[ $output == "xtcp-bench "* ]]
}

@test "no or unknown subcommand is a usage error" {
	run -2 --separate-stderr xtcp-bench
	[[ $stderr == *"subcommand is required"* ]]
	run -2 --separate-stderr xtcp-bench frobnicate
	[ "$stderr" = "xtcp-bench: unknown subcommand 'frobnicate' (see 'xtcp-bench --help')" ]
}

@test "gen: the same seed gives the same bytes, another seed other bytes" {
	xtcp-bench gen -n 3000 --seed 11 >"$BATS_TEST_TMPDIR/a.pb"
	xtcp-bench gen -n 3000 --seed 11 -o "$BATS_TEST_TMPDIR/b.pb"
	xtcp-bench gen -n 3000 --seed 12 >"$BATS_TEST_TMPDIR/c.pb"
	cmp "$BATS_TEST_TMPDIR/a.pb" "$BATS_TEST_TMPDIR/b.pb"
	run ! cmp -s "$BATS_TEST_TMPDIR/a.pb" "$BATS_TEST_TMPDIR/c.pb"
	# other frame sizes, the same rows
	xtcp-bench gen -n 3000 --seed 11 --rows 7 | xtcp-show >"$BATS_TEST_TMPDIR/small.json"
	xtcp-show <"$BATS_TEST_TMPDIR/a.pb" | cmp - "$BATS_TEST_TMPDIR/small.json"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/small.json")" -eq 3000 ]
}

@test "gen: decodes with xtcp-show; every field group is filled somewhere" {
	xtcp-bench gen -n 2000 --seed 3 | xtcp-show >"$BATS_TEST_TMPDIR/rows.json"
	run -0 python3 - "$BATS_TEST_TMPDIR/rows.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2000, len(rows)
groups = ['schema_version', 'daemon_version', 'timestamp_ns', 'hostname', 'location', 'netns',
          'netns_inode', 'container_', 'label', 'tag', 'record_counter', 'uplink1_', 'uplink2_',
          'inet_diag_msg_', 'mem_info_', 'tcp_info_', 'congestion_algorithm_string',
          'congestion_algorithm_enum', 'type_of_service', 'traffic_class', 'sk_mem_info_',
          'shutdown_state', 'vegas_info_', 'dctcp_info_', 'bbr_info_', 'class_id', 'sock_opt',
          'c_group', 'poll_sequence', 'socket_mark', 'ulp_name']
seen = set()
for r in rows:
    for k, v in r.items():
        if v not in (0, '', None, '0'):
            seen.update(g for g in groups if k.startswith(g))
missing = [g for g in groups if g not in seen]
assert not missing, missing
fam = {r['inet_diag_msg_family'] for r in rows}
assert fam == {2, 10}, fam
assert len({r.get('netns', '') for r in rows}) >= 4
est = sum(1 for r in rows if r['inet_diag_msg_state'] in (1, 'ESTABLISHED'))
assert est > 1500, est
for r in rows:
    assert int(r.get('tcp_info_bytes_acked', 0)) <= int(r.get('tcp_info_bytes_sent', 0))
print('ok', len(rows), sorted(fam))
PY
}

@test "gen: xtcp-fmt renders it and Python parses every JSON line" {
	xtcp-bench gen -n 500 --seed 4 | xtcp-fmt -f json >"$BATS_TEST_TMPDIR/rows.json"
	run -0 python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line); n += 1
    assert r["congestion_algorithm_string"] in ("", "cubic", "bbr", "dctcp", "reno", "vegas")
print(n)' "$BATS_TEST_TMPDIR/rows.json"
	[ "$output" = 500 ]
}

@test "gen: bad input is a usage error" {
	run -2 --separate-stderr xtcp-bench gen -n 0
	[[ $stderr == *"-n: '0' is out of range"* ]]
	run -2 --separate-stderr xtcp-bench gen -n 5 --seed banana
	[ "$stderr" = "xtcp-bench: --seed: 'banana' is not a number (see 'xtcp-bench --help')" ]
	run -2 --separate-stderr xtcp-bench gen --seed 1
	[[ $stderr == *"-n N is required"* ]]
	run -2 xtcp-bench gen -n 5 --v6 101
	run -2 xtcp-bench gen -n 5 extra
	run -2 --separate-stderr xtcp-bench gen -n 5 --churn 5
	[[ $stderr == *"--churn needs --sockets"* ]]
	run -2 xtcp-bench gen -n 5 --sockets 0
	run -2 xtcp-bench gen -n 5 --sockets 3 --churn 101
}

@test "gen --sockets: polls of the same sockets, counters growing, some replaced" {
	xtcp-bench gen -n 4000 --sockets 200 --churn 10 --seed 5 | xtcp-show >"$BATS_TEST_TMPDIR/polls.json"
	run -0 python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4000
polls = [rows[i:i + 200] for i in range(0, 4000, 200)]
same = replaced = grew = idle = 0
for p, poll in enumerate(polls):
    # one poll: its sequence and time on every record, 10 s after the one before
    assert {r["poll_sequence"] for r in poll} == {p + 1}
    assert {int(r["timestamp_ns"]) for r in poll} == {1767225600 * 10**9 + p * 10**10}
    if not p:
        continue
    for a, b in zip(polls[p - 1], poll):
        if a["inet_diag_msg_socket_cookie"] != b["inet_diag_msg_socket_cookie"]:
            replaced += 1
            continue
        same += 1
        # the same socket: the same identity, counters never down (64-bit ones)
        for k in ("inet_diag_msg_socket_source_port", "inet_diag_msg_socket_destination_port",
                  "inet_diag_msg_state", "hostname", "netns_inode"):
            assert a.get(k) == b.get(k), k
        d = int(b.get("tcp_info_bytes_acked", 0)) - int(a.get("tcp_info_bytes_acked", 0))
        assert d >= 0
        grew += d > 0
        idle += d == 0
print(same, replaced, grew, idle)
# about 10% replaced a poll, most sockets moving, some idle
assert 0.07 < replaced / (same + replaced) < 0.13
assert grew > idle > 0' "$BATS_TEST_TMPDIR/polls.json"
	echo "$output"
}

@test "load: 300 connections in a private namespace, counted by ss; removed after SIGTERM" {
	load_start -n 300 --netns "$NS"
	[[ $READY == "ready netns=$NS connections=300 sockets=600 "* ]]
	run -0 ip netns exec "$NS" ss -Htan state established
	[ "${#lines[@]}" -eq 600 ]
	run -0 ip netns exec "$NS" ss -Htan
	[ "${#lines[@]}" -eq 602 ]          # and one listener per family
	[ "$(ip netns exec "$NS" ss -Htan state established '( dst [::1] )' | wc -l)" -gt 200 ]
	# more than one congestion control
	[ "$(ip netns exec "$NS" ss -Htin state established | grep -oE '^\s*(cubic|bbr|reno|dctcp)' | sort -u | wc -l)" -ge 2 ]
	workers=$(pgrep -P "$LOAD_PID")
	[ -n "$workers" ]
	kill -TERM "$LOAD_PID"
	wait "$LOAD_PID"
	LOAD_PID=
	[ ! -e "/run/netns/$NS" ]
	for w in $workers; do ! kill -0 "$w" 2>/dev/null; done
}

@test "load: an existing namespace is used and kept; connections spread over processes" {
	netns_up "$NS"
	load_start -n 250 --netns "$NS" --per-process 100 --cc reno
	[[ $READY == *"workers=3 cc=reno"* ]]
	[ "$(pgrep -P "$LOAD_PID" | wc -l)" -eq 3 ]
	[ "$(ip netns exec "$NS" ss -Htan state established | wc -l)" -eq 500 ]
	[ "$(ip netns exec "$NS" ss -Htin state established | grep -c reno)" -eq 500 ]
	kill -TERM "$LOAD_PID"
	wait "$LOAD_PID"
	LOAD_PID=
	[ -e "/run/netns/$NS" ]
	[ "$(ip netns exec "$NS" ss -Htan state established | wc -l)" -eq 0 ]
}

@test "load --traffic: byte counters move between polls" {
	load_start -n 50 --netns "$NS" --traffic
	sum() { ip netns exec "$NS" xtcp-dump | xtcp-fmt -f csv --no-header --fields tcp_info_bytes_sent |
		awk '{ s += $1 } END { print s }'; }
	a=$(sum)
	moved() { [ "$(sum)" -gt "$a" ]; }
	wait_until moved
}

@test "load: bad input is a usage error and leaves no namespace" {
	run -2 --separate-stderr xtcp-bench load -n 0
	[[ $stderr == *"out of range"* ]]
	run -2 --separate-stderr xtcp-bench load
	[[ $stderr == *"-n N is required"* ]]
	run -2 --separate-stderr xtcp-bench load -n 10 --netns "$NS" --cc cubic,nosuchcc
	[ "$stderr" = "xtcp-bench: --cc: unknown congestion control 'nosuchcc' (see 'xtcp-bench --help')" ]
	[ ! -e "/run/netns/$NS" ]
	run -2 xtcp-bench load -n 10 --netns a/b
	run -2 xtcp-bench load -n 10 --v6 200
	run -2 xtcp-bench load -n 10 --per-process 15000
}

@test "micro: -run and -count give well-formed Go benchmark lines" {
	run -0 --separate-stderr xtcp-bench micro -run 'Parse|Encode$' -count 2 -benchtime 5ms
	[ "${lines[0]}" = "goos: linux" ]
	[ "${lines[-1]}" = "PASS" ]
	bench=$(grep -c '^Benchmark' <<<"$output")
	[ "$bench" -eq 4 ]
	[ "$(grep -c '^BenchmarkNetlinkParse' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^BenchmarkRecordEncode' <<<"$output")" -eq 2 ]
	if [ -z "${XTCP_SANITIZED:-}" ]; then
		re='^Benchmark[A-Za-z]+(-[0-9]+)?[[:space:]]+[0-9]+[[:space:]]+[0-9.]+ ns/op[[:space:]]+[0-9]+ B/op[[:space:]]+[0-9]+ allocs/op$'
	else
		re='^Benchmark[A-Za-z]+(-[0-9]+)?[[:space:]]+[0-9]+[[:space:]]+[0-9.]+ ns/op$'
	fi
	[ "$(grep '^Benchmark' <<<"$output" | grep -cE "$re")" -eq 4 ]
}

@test "micro: every per-socket benchmark allocates nothing, and the counter does count" {
	[ -z "${XTCP_SANITIZED:-}" ] || skip "allocations are not counted under ASan"
	run -0 --separate-stderr xtcp-bench micro -benchtime 2ms
	[ -z "$stderr" ]
	[ "$(grep -c '^Benchmark' <<<"$output")" -ge 8 ]
	! grep '^Benchmark' <<<"$output" | grep -vE '[[:space:]]0 B/op[[:space:]]+0 allocs/op$'
}

@test "micro: bad options are usage errors" {
	run -2 --separate-stderr xtcp-bench micro -run '('
	[[ $stderr == *"-run: bad regular expression '('"* ]]
	run -2 xtcp-bench micro -count 0
	run -2 xtcp-bench micro -benchtime forever
	run -0 --separate-stderr xtcp-bench micro -run NoSuchBenchmark
	[[ $stderr == *"no benchmark matches"* ]]
}

@test "floor: counts the sockets of a namespace" {
	load_start -n 40 --netns "$NS"
	run -0 --separate-stderr xtcp-bench floor --netns "$NS"
	[ "$stderr" = "82 sockets" ]
	run -0 --separate-stderr ip netns exec "$NS" xtcp-bench floor --ext none
	[ "$stderr" = "82 sockets" ]
	run -0 --separate-stderr xtcp-bench floor --netns "$NS" --per-family
	[ "$stderr" = "82 sockets" ]
	run -2 xtcp-bench floor --ext bogus
	run -1 --separate-stderr xtcp-bench floor --netns no-such-ns-$$
	[[ $stderr == "xtcp-bench: cannot enter namespace 'no-such-ns-$$': No such file or directory" ]]
	run -1 --separate-stderr xtcp-bench floor --netns /etc/passwd
	[ "$stderr" = "xtcp-bench: cannot enter namespace '/etc/passwd': not a network namespace file" ]
	run -2 --separate-stderr xtcp-bench load -n 1 --netns /etc/passwd
	[[ $stderr == "xtcp-bench: --netns: '/etc/passwd' is not a namespace name"* ]]
}

@test "the raw floor (no lib/ code) counts what the floor, xtcp-dump and ss count" {
	load_start -n 40 --netns "$NS"
	run -0 --separate-stderr ip netns exec "$NS" xtcp-rawfloor -c 3
	[ "$stderr" = "82 sockets" ]
	# a buffer too small for one reply of every attribute still works: one socket a read
	run -0 --separate-stderr ip netns exec "$NS" xtcp-rawfloor -b 8192
	[ "$stderr" = "82 sockets" ]
	[ "$(ip netns exec "$NS" xtcp-dump | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_state | wc -l)" -eq 82 ]
	[ "$(ip netns exec "$NS" ss -tan | tail -n +2 | wc -l)" -eq 82 ]
	# -t: the same dump with memory touched between receives (more than the ring wraps)
	run -0 --separate-stderr ip netns exec "$NS" xtcp-rawfloor -t 300 -c 2
	[ "$stderr" = "82 sockets" ]
	run -2 xtcp-rawfloor -b 10
	run -2 xtcp-rawfloor -x
	run -2 --separate-stderr xtcp-rawfloor -t 4097
	[[ $stderr == *"[-t KIB] (at most 4096)" ]]
}

@test "bench/cpu.py: medians, and ratios paired within each round, against the first command" {
	run -0 python3 "$TOP/bench/cpu.py" -r 5 -w 1 -o "$BATS_TEST_TMPDIR/c.tsv" \
		a="sleep 0.1" b="sleep 0.2"
	echo "$output"
	[[ ${lines[0]} == "5 rounds, each command once a round"* ]]
	# b sleeps twice as long: about 2x, paired and not
	python3 - "$output" <<'PY'
import re, sys
m = re.search(r"b / a: wall ([0-9.]+)x.*paired wall ([0-9.]+)x \[([0-9.]+)-([0-9.]+)\]", sys.argv[1])
assert m, sys.argv[1]
ratio, paired, q1, q3 = map(float, m.groups())
assert 1.3 < ratio < 2.5 and 1.3 < paired < 2.5 and q1 <= paired <= q3, m.groups()
PY
	[ "$(wc -l <"$BATS_TEST_TMPDIR/c.tsv")" -eq 11 ]
	run -2 python3 "$TOP/bench/cpu.py" nonsense
}

@test "gen --bare: the same sockets without the enrichment fields, kernel-sized" {
	xtcp-bench gen -n 500 --sockets 100 --seed 4 | xtcp-show >"$BATS_TEST_TMPDIR/full.json"
	xtcp-bench gen -n 500 --sockets 100 --seed 4 --bare | xtcp-show >"$BATS_TEST_TMPDIR/bare.json"
	run -0 python3 -c '
import json, sys
full = [json.loads(l) for l in open(sys.argv[1])]
bare = [json.loads(l) for l in open(sys.argv[2])]
gone = ("location", "label", "tag", "container", "uplink", "inet_diag_msg_socket_dest_asn",
        "inet_diag_msg_socket_next_hop_asn")
assert len(full) == len(bare) == 500
for f, b in zip(full, bare):
    assert not [k for k in b if k.startswith(gone) and b[k] not in (0, "")], b
    assert {k: v for k, v in f.items() if not k.startswith(gone)} == \
           {k: v for k, v in b.items() if not k.startswith(gone)}
print("ok")' "$BATS_TEST_TMPDIR/full.json" "$BATS_TEST_TMPDIR/bare.json"
	[ "$output" = ok ]
	[ "$(xtcp-bench gen -n 1000 --bare | wc -c)" -lt "$(($(xtcp-bench gen -n 1000 | wc -c) * 6 / 10))" ]
}

@test "gen refuses a terminal with exit 2, as every stream writer does" {
	run -0 bash -c "script -qec 'xtcp-bench gen -n 1; echo rc=\$?' /dev/null"
	[[ "$output" == *"refusing to write a binary stream to a terminal"* ]]
	[[ "$output" == *"rc=2"* ]]
	run -0 bash -c "script -qec 'xtcp-dump; echo rc=\$?' /dev/null"
	[[ "$output" == *"rc=2"* ]]
}

@test "gen into a pipe closed early ends quietly, exit 0, nothing leaked (LeakSanitizer in the sanitized pass)" {
	run -0 --separate-stderr bash -c 'xtcp-bench gen -n 100000 | head -c 10 >/dev/null; exit ${PIPESTATUS[0]}'
	[ -z "$stderr" ]
}
