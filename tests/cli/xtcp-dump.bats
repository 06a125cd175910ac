#!/usr/bin/env bats
# xtcp-dump: options, live dumps in a private namespace, replay, bad input.

load helpers

setup_file() {
	export NS="xtcp-bats-dump-$$"
	netns_up "$NS"
	hold_start "$NS" 3 2
	echo "$HOLD_PID" >"$BATS_FILE_TMPDIR/hold.pid"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/hold.pid")" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

# a dump a test left running (or stopped) when it failed
teardown() {
	[ -z "${DUMP_PID:-}" ] || { kill -CONT "$DUMP_PID"; kill "$DUMP_PID"; } 2>/dev/null || true
}

in_ns() {
	ip netns exec "$NS" "$@"
}

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr xtcp-dump --help
	[[ "$output" == usage:* ]]
	[[ "$output" == *"--states"* ]]
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run -0 xtcp-dump --version
	[[ "$output" == "xtcp-dump "* ]]
}

@test "a live dump lists every socket of the namespace" {
	in_ns xtcp-dump >"$BATS_TEST_TMPDIR/s.pb"
	run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/s.pb"
	# 2 listeners + (3 + 2) connections * 2 ends
	[ "${#lines[@]}" -eq 12 ]
	[ "$stderr" = "frames=1 rows=12" ]
	run -0 bash -c "xtcp-show '$BATS_TEST_TMPDIR/s.pb' 2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
listen = [r for r in rows if r[\"inet_diag_msg_state\"] == 10]
assert sorted(r[\"inet_diag_msg_socket_source_port\"] for r in listen) == [7001, 7002], listen
v4 = [r for r in rows if r[\"inet_diag_msg_family\"] == 2]
v6 = [r for r in rows if r[\"inet_diag_msg_family\"] == 10]
assert len(v4) == 7 and len(v6) == 5, (len(v4), len(v6))
assert all(r[\"inet_diag_msg_socket_source\"] == \"127.0.0.1\" for r in v4)
assert all(r[\"inet_diag_msg_socket_source\"] == \"::1\" for r in v6)
assert all(r[\"schema_version\"] == 1 and r[\"netns\"] == \"$NS\" for r in rows)
assert all(r[\"poll_sequence\"] == 1 for r in rows)
assert [r[\"record_counter\"] for r in rows] == list(range(1, 13))
est = [r for r in rows if r[\"inet_diag_msg_state\"] == 1]
assert all(r[\"tcp_info_state\"] == 1 and r[\"tcp_info_snd_mss\"] > 0 for r in est)
assert all(r[\"congestion_algorithm_string\"] != \"\" for r in est)
assert all(r[\"sk_mem_info_rcv_buf\"] > 0 for r in rows)
'"
}

@test "static: xtcp-dump and xtcp-fmt run in a root holding only them and /proc" {
	[ -z "${XTCP_SANITIZED:-}" ] || skip "the sanitizer builds are linked dynamically"
	local r=$BATS_TEST_TMPDIR/root
	mkdir -p "$r/bin" "$r/proc"
	cp "$XTCP_BUILD/bin/xtcp-dump" "$XTCP_BUILD/bin/xtcp-fmt" "$r/bin/"
	run -0 ldd "$r/bin/xtcp-dump"
	[[ "$output" == *"statically linked"* ]]
	# no /lib, no /etc, no /sys: nothing to load a library from
	run -0 --separate-stderr ip netns exec "$NS" unshare -m sh -c \
		"mount -t proc proc '$r/proc' && chroot '$r' /bin/xtcp-dump | chroot '$r' /bin/xtcp-fmt -f csv --fields netns,inet_diag_msg_state"
	[ "${#lines[@]}" -eq 13 ]
	[ "${lines[0]}" = "netns,inet_diag_msg_state" ]
	# no /run/netns in there: the namespace is named by its inode
	local ino
	ino=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
	[ "$(printf '%s\n' "${lines[@]:1}" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" = \
		"10 netns:[$ino],ESTABLISHED 2 netns:[$ino],LISTEN " ]
}

@test "-4 and -6 select one family" {
	run -0 bash -c "ip netns exec $NS xtcp-dump -4 | xtcp-show 2>/dev/null | grep -c '\"inet_diag_msg_family\":2,'"
	[ "$output" -eq 7 ]
	run -0 bash -c "ip netns exec $NS xtcp-dump -6 | xtcp-show 2>/dev/null | wc -l"
	[ "$output" -eq 5 ]
}

@test "--states filters in the kernel" {
	run -0 bash -c "ip netns exec $NS xtcp-dump --states listen | xtcp-show 2>/dev/null | wc -l"
	[ "$output" -eq 2 ]
	run -0 bash -c "ip netns exec $NS xtcp-dump --states established,time-wait | xtcp-show 2>/dev/null | wc -l"
	[ "$output" -eq 10 ]
}

@test "both families in one request: the rows of an IPv4 and an IPv6 dump" {
	local f=inet_diag_msg_family,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination_port
	in_ns xtcp-dump | xtcp-fmt -f tsv --no-header --fields "$f" | sort >"$BATS_TEST_TMPDIR/both"
	{ in_ns xtcp-dump -4; in_ns xtcp-dump -6; } | xtcp-fmt -f tsv --no-header --fields "$f" | sort \
		>"$BATS_TEST_TMPDIR/each"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/both")" -eq 12 ]
	diff "$BATS_TEST_TMPDIR/both" "$BATS_TEST_TMPDIR/each"
}

@test "a kernel that refuses a request of both families: asked per family from then on, the same rows" {
	local f=poll_sequence,netns,inet_diag_msg_family,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination_port
	# the dynamically linked twin: a static program loads no LD_PRELOAD
	local refuse="$XTCP_BUILD/preload/refuse-both.so" dump="$XTCP_BUILD/dyn/xtcp-dump" T=$BATS_TEST_TMPDIR p
	{ in_ns xtcp-dump -4; in_ns xtcp-dump -6; } | xtcp-fmt -f tsv --no-header --fields "$f" |
		cut -f3- | sort >"$T/each"
	[ "$(wc -l <"$T/each")" -eq 12 ]
	# one thread: refused once, then three polls of IPv4 and IPv6 dumps
	run -0 --separate-stderr bash -c "ip netns exec '$NS' env XTCP_REFUSED_LOG='$T/one.log' \
		LD_PRELOAD='$refuse' '$dump' -c 3 -i 20ms | xtcp-fmt -f tsv --no-header --fields '$f' >'$T/one'"
	[ -z "$(without_schedule_notes <<<"$stderr")" ]
	[ "$(cat "$T/one.log")" = refused ]
	for p in 1 2 3; do
		awk -F'\t' -v p=$p '$1 == p' "$T/one" | cut -f3- | sort | diff "$T/each" -
	done
	# threads: each may find the refusal before the first says so, then none asks again
	run -0 --separate-stderr bash -c "env XTCP_REFUSED_LOG='$T/two.log' LD_PRELOAD='$refuse' \
		'$dump' -n '$NS' -n default -j 2 -c 3 -i 20ms | xtcp-fmt -f tsv --no-header --fields '$f' >'$T/two'"
	[ -z "$(without_schedule_notes <<<"$stderr")" ]
	[ "$(wc -l <"$T/two.log")" -ge 1 ] && [ "$(wc -l <"$T/two.log")" -le 2 ]
	for p in 1 2 3; do
		awk -F'\t' -v p=$p -v ns="$NS" '$1 == p && $2 == ns' "$T/two" | cut -f3- | sort | diff "$T/each" -
	done
}

# bound_inactive_seen: in $NS, hold sockets bound to 127.0.0.1:7099 and
# [::1]:7100, neither listening nor connected, and for each line of the input
# (xtcp-dump's arguments, separated by |) print the CLOSE rows it reports
bound_inactive_seen() {
	in_ns python3 -c '
import socket, subprocess, sys
s4 = socket.socket(); s4.bind(("127.0.0.1", 7099))
s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", 7100))
for line in sys.stdin:
    dump = subprocess.run(["xtcp-dump"] + line.rstrip("\n").split("|"), stdout=subprocess.PIPE,
                          check=True).stdout
    tsv = subprocess.run(["xtcp-fmt", "-f", "tsv", "--no-header", "--fields",
                          "inet_diag_msg_state,inet_diag_msg_socket_source_port"],
                         input=dump, stdout=subprocess.PIPE, check=True).stdout.decode()
    rows = sorted(l.replace("\t", ":") for l in tsv.splitlines() if l.startswith("CLOSE"))
    print(" ".join(rows) or "-")
'
}

@test "bound, unconnected sockets: left out by default, dumped with --states all or bound-inactive" {
	# Linux 6.10 and later report them when asked (ss -a, ss -B)
	[ "$(printf '%s\n' 6.10 "$(uname -r | cut -d- -f1)" | sort -V | head -1)" = 6.10 ] ||
		skip "the kernel does not report bound-inactive sockets"
	run -0 bound_inactive_seen <<-END
		--rows=1000
		--states=all
		--states=bound-inactive
		--filter=sport = :7099
		--states=all|--filter=sport = :7099
		--states=all|--filter=state == CLOSE
		--states=close
	END
	[ "${lines[0]}" = "-" ]
	[ "${lines[1]}" = "CLOSE:7099 CLOSE:7100" ]
	[ "${lines[2]}" = "CLOSE:7099 CLOSE:7100" ]
	[ "${lines[3]}" = "-" ]
	[ "${lines[4]}" = "CLOSE:7099" ]
	[ "${lines[5]}" = "CLOSE:7099 CLOSE:7100" ]
	[ "${lines[6]}" = "-" ]
}

@test "--ext none asks for no attributes, --ext cong only the congestion name" {
	run -0 bash -c "ip netns exec $NS xtcp-dump --ext none | xtcp-show 2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 12
assert all(r[\"tcp_info_snd_mss\"] == 0 and r[\"congestion_algorithm_string\"] == \"\" for r in rows)
assert all(r[\"sk_mem_info_rcv_buf\"] == 0 and r[\"mem_info_rmem\"] == 0 for r in rows)
'"
	run -0 bash -c "ip netns exec $NS xtcp-dump --ext cong | xtcp-show 2>/dev/null | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert all(r[\"tcp_info_snd_mss\"] == 0 and r[\"congestion_algorithm_string\"] != \"\" for r in rows)
'"
}

@test "metadata flags fill hostname, label, tag and location" {
	run -0 bash -c "ip netns exec $NS xtcp-dump --hostname h1 --label 'a,b' --tag t --location 'rack \"7\"' | xtcp-show 2>/dev/null | head -1"
	[[ "$output" == *'"hostname":"h1"'* ]]
	[[ "$output" == *'"label":"a,b"'* ]]
	[[ "$output" == *'"tag":"t"'* ]]
	[[ "$output" == *'"location":"rack \"7\""'* ]]
	[[ "$output" == *'"daemon_version":"xtcp '* ]]
}

@test "--rows and --bytes cap the frames" {
	run -0 --separate-stderr bash -c "ip netns exec $NS xtcp-dump --rows 1 | xtcp-show >/dev/null"
	[ "$stderr" = "frames=12 rows=12" ]
	run -0 --separate-stderr bash -c "ip netns exec $NS xtcp-dump --rows 5 | xtcp-show >/dev/null"
	# per family: IPv4 7 rows -> 5+2, IPv6 5 rows -> 5 (frames close per poll, not per family)
	[ "$stderr" = "frames=3 rows=12" ]
	run -0 --separate-stderr bash -c "ip netns exec $NS xtcp-dump --bytes 100 | xtcp-show >/dev/null"
	[ "$stderr" = "frames=12 rows=12" ]
}

@test "-c and -i poll on a schedule with increasing poll_sequence" {
	local launch
	launch=$(date +%s%N)
	in_ns xtcp-dump -c 4 -i 200ms --states listen >"$BATS_TEST_TMPDIR/s.pb" 2>"$BATS_TEST_TMPDIR/err"
	xtcp-show "$BATS_TEST_TMPDIR/s.pb" 2>/dev/null >"$BATS_TEST_TMPDIR/rows"
	run -0 python3 - "$BATS_TEST_TMPDIR/rows" "$BATS_TEST_TMPDIR/err" "$launch" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["poll_sequence"] for r in rows] == [1, 1, 2, 2, 3, 3, 4, 4], rows
assert [r["record_counter"] for r in rows] == list(range(1, 9))
ts = sorted({r["timestamp_ns"] for r in rows})
assert len(ts) == 4
# slot i starts i * 200 ms after xtcp-dump started, which was after launch: a
# loaded machine makes polls late, never early
launch = int(sys.argv[3])
assert all(t - launch >= i * 200e6 for i, t in enumerate(ts)), (launch, ts)
# a poll that ends after the next slot's start makes xtcp-dump say it skipped
# slots; when it did not, every poll but the last started inside its own slot
notes = open(sys.argv[2]).read().splitlines()
assert all(' scheduled poll' in n for n in notes), notes
if not notes:
    assert all(t - ts[0] < (i + 1) * 200e6 for i, t in enumerate(ts[:-1])), ts
PY
}

@test "a poll that overruns its slot skips ahead on the schedule and says so once" {
	local s=$BATS_TEST_TMPDIR/s.pb pid launch t0 now wake
	launch=$(date +%s%N)
	ip netns exec "$NS" xtcp-dump -c 6 -i 500ms --states listen >"$s" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	DUMP_PID=$pid
	wait_until has_polls "$s" 1
	kill -STOP $pid
	# stopped for two slots or more, woken mid-slot: a schedule that drifted with
	# the late poll would stay mid-slot, the fixed one is back on the grid
	t0=$(xtcp-fmt -f tsv --no-header --fields timestamp_ns <"$s" | head -1)
	now=$(date +%s%N)
	wake=$((t0 + 250000000))
	while [ "$wake" -lt $((now + 1000000000)) ]; do wake=$((wake + 500000000)); done
	sleep "$(((wake - now) / 1000000000)).$(printf %09d $(((wake - now) % 1000000000)))"
	kill -CONT $pid
	wait $pid
	DUMP_PID=
	run -0 cat "$BATS_TEST_TMPDIR/err"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "xtcp-dump: polls are slower than the 0.5s interval; skipped "*" scheduled poll"*" so far" ]]
	xtcp-fmt -f tsv --no-header --fields poll_sequence,timestamp_ns <"$s" | sort -u >"$BATS_TEST_TMPDIR/polls"
	run -0 python3 - "$BATS_TEST_TMPDIR/polls" "$output" "$launch" <<'PY'
import re, sys
rows = [l.split() for l in open(sys.argv[1])]
assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5, 6], rows
ts = [int(r[1]) for r in rows]
skipped = int(re.search(r'skipped (\d+) ', sys.argv[2]).group(1))
# polls run late on a loaded machine, never early: slot N starts N * 500 ms
# after xtcp-dump started (after launch); the polls take slots 0-5 and the
# skipped ones (a burst catching up would not), so the last is that far on
assert ts[-1] - int(sys.argv[3]) >= (5 + skipped) * 500e6, (ts, skipped)
# the poll that woke late runs at once, mid-slot; the rest start on the grid,
# none more than 200 ms late (400: the first poll, the origin here, may have
# run up to 100 ms after the grid's); a schedule that drifted would be at 250
offs = [((t - ts[0]) / 1e6) % 500 for t in ts]
late = max(range(1, 6), key=lambda i: ts[i] - ts[i - 1])
assert all(o < 200 or o > 400 for i, o in enumerate(offs) if i != late), (late, offs)
PY
}

@test "-o writes the file atomically and leaves no temporary file" {
	mkdir "$BATS_TEST_TMPDIR/out"
	run -0 in_ns xtcp-dump -o "$BATS_TEST_TMPDIR/out/s.pb"
	[ "$(ls -A "$BATS_TEST_TMPDIR/out")" = "s.pb" ]
	run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/out/s.pb"
	[ "$stderr" = "frames=1 rows=12" ]
}

@test "-o into a missing directory fails with one line and exit 1" {
	run -1 --separate-stderr xtcp-dump -o /nonexistent/dir/s.pb
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: cannot create '/nonexistent/dir/s.pb': No such file or directory" ]]
}

@test "-w saves the raw replies and -r replays them to the same records" {
	in_ns xtcp-dump -w "$BATS_TEST_TMPDIR/raw.nl" >"$BATS_TEST_TMPDIR/live.pb"
	xtcp-dump -r "$BATS_TEST_TMPDIR/raw.nl" >"$BATS_TEST_TMPDIR/replay.pb"
	xtcp-show "$BATS_TEST_TMPDIR/live.pb" 2>/dev/null | cut -d, -f5- | sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/a"
	xtcp-show "$BATS_TEST_TMPDIR/replay.pb" 2>/dev/null | cut -d, -f5- | sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/b"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -eq 12 ]
	python3 - "$BATS_TEST_TMPDIR/live.pb" "$BATS_TEST_TMPDIR/replay.pb" <<'PY'
import json, subprocess, sys
def rows(p):
    out = subprocess.run(['xtcp-show', p], capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]
live, replay = rows(sys.argv[1]), rows(sys.argv[2])
assert len(live) == len(replay) == 12
meta = {'timestamp_ns', 'netns', 'netns_inode'}
for a, b in zip(live, replay):
    for k in a:
        if k not in meta and (k.startswith('inet_diag') or k.startswith('tcp_info') or
                              k.startswith('sk_mem') or k.startswith('congestion')):
            assert a[k] == b[k], (k, a[k], b[k])
PY
}

@test "-r reads a raw dump as ss -D writes it" {
	python3 "$TOP/tests/data/pcaptool.py" raw "$FIXTURES/6_6_44/tcp_10_sockets.pcap" "$BATS_TEST_TMPDIR/raw"
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_10_sockets.pcap" | xtcp-show 2>/dev/null |
		sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/a"
	xtcp-dump -r "$BATS_TEST_TMPDIR/raw" | xtcp-show 2>/dev/null |
		sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/b"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -gt 10 ]
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "protoc --decode_raw reads every frame" {
	in_ns xtcp-dump --rows 4 >"$BATS_TEST_TMPDIR/s.pb"
	mkdir "$BATS_TEST_TMPDIR/frames"
	run -0 python3 "$TOP/tests/data/pcaptool.py" frames "$BATS_TEST_TMPDIR/s.pb" "$BATS_TEST_TMPDIR/frames"
	[ "$output" -eq 3 ]
	local rows=0 f
	for f in "$BATS_TEST_TMPDIR"/frames/*.bin; do
		protoc --decode_raw <"$f" >"$f.txt"
		rows=$((rows + $(grep -c '^10 {' "$f.txt")))
		grep -q '^  1001: ' "$f.txt"
	done
	[ "$rows" -eq 12 ]
}

@test "writing to a terminal is refused with a hint" {
	run -2 script -qec "$XTCP_BUILD/bin/xtcp-dump" /dev/null
	[[ "$output" == *"refusing to write binary records to a terminal"*"xtcp-fmt"* ]]
}

@test "a closed pipe ends xtcp-dump quietly" {
	run -0 --separate-stderr bash -c "set -o pipefail; ip netns exec $NS xtcp-dump -c 0 -i 10ms | head -c 10 | wc -c"
	[ "$output" -eq 10 ]
	# not a word about the pipe (a loaded machine may miss 10 ms slots: that note is allowed)
	[ -z "$(without_schedule_notes <<<"$stderr")" ]
}

@test "SIGTERM between polls ends with exit 0 and complete frames" {
	ip netns exec "$NS" xtcp-dump -c 0 -i 100ms --states listen >"$BATS_TEST_TMPDIR/s.pb" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! rc=0
	DUMP_PID=$pid
	wait_until has_polls "$BATS_TEST_TMPDIR/s.pb" 2
	kill -TERM $pid
	wait $pid || rc=$?
	DUMP_PID=
	cat "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 0 ]
	[ -z "$(without_schedule_notes <"$BATS_TEST_TMPDIR/err")" ]
	run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/s.pb"
	[[ "$stderr" == frames=* ]]
	[ "${#lines[@]}" -ge 4 ]
}

# --- bad input -------------------------------------------------------------

@test "-r of a missing file: one line, exit 1" {
	run -1 --separate-stderr xtcp-dump -r /nonexistent.pcap
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: cannot read '/nonexistent.pcap': "*"No such file or directory"* ]]
	[ -z "$output" ]
}

@test "-r of a truncated pcap keeps every complete socket, then one error line" {
	local pcap=$FIXTURES/6_6_44/tcp_10_sockets.pcap
	local size
	size=$(stat -c %s "$pcap")
	python3 "$TOP/tests/data/pcaptool.py" truncate "$pcap" "$BATS_TEST_TMPDIR/t.pcap" $((size / 2))
	xtcp-dump -r "$BATS_TEST_TMPDIR/t.pcap" >"$BATS_TEST_TMPDIR/s.pb" 2>"$BATS_TEST_TMPDIR/err" && false
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
	grep -q "^xtcp-dump: '.*t.pcap': packet [0-9]* at byte [0-9]*: " "$BATS_TEST_TMPDIR/err"
	run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/s.pb"
	[ "${#lines[@]}" -gt 0 ]
}

@test "-r of a pcap with a corrupted attribute length: one line, exit 1" {
	python3 "$TOP/tests/data/pcaptool.py" corrupt-attr "$FIXTURES/6_6_44/tcp_10_sockets.pcap" "$BATS_TEST_TMPDIR/c.pcap"
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/c.pcap"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: '"*"c.pcap': message 1 at byte "*": malformed sock_diag reply: "* ]]
}

@test "-r of a pcap with a corrupted message length: one line, exit 1" {
	python3 "$TOP/tests/data/pcaptool.py" corrupt-nlmsg "$FIXTURES/6_6_44/tcp_10_sockets.pcap" "$BATS_TEST_TMPDIR/c.pcap"
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/c.pcap"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: '"*"c.pcap': packet "*" at byte "* ]]
}

@test "-r of random bytes: one line, exit 1" {
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/r.bin"
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/r.bin"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: '"*"r.bin': "* ]]
}

@test "-r of an empty file: one line, exit 1" {
	: >"$BATS_TEST_TMPDIR/empty"
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/empty"
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "bad option values are usage errors (exit 2, one line)" {
	local args
	for args in "-i 0" "-i 0ms" "-i abc" "-c abc" "-c -1" "--rows x" "--bytes 1Q" \
		"--bytes 65Mi" "--states bogus" "--ext bogus" "--nope" "extra" "-r a -w b"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr xtcp-dump $args
		[ "${#stderr_lines[@]}" -ge 1 ]
		[[ "${stderr_lines[0]}" == xtcp-dump:* ]] || [[ "${stderr_lines[0]}" == *"unrecognized option"* ]]
		[ -z "$output" ]
	done
	run -2 --separate-stderr xtcp-dump -i 0
	[ "$stderr" = "xtcp-dump: invalid interval '0': want a duration above 0 such as 500ms, 10s or 1m (see 'xtcp-dump --help')" ]
	run -2 --separate-stderr xtcp-dump -c abc
	[ "$stderr" = "xtcp-dump: invalid poll count 'abc': want a whole number, 0 for no end (see 'xtcp-dump --help')" ]
}

@test "a full disk is an error, not a silent success" {
	[ -e /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr bash -c "ip netns exec $NS xtcp-dump >/dev/full"
	[[ "$stderr" == "xtcp-dump: cannot write to standard output: No space left on device" ]]
}

@test "-r of a capture holding several ss runs numbers each run as a poll" {
	run -0 bash -c "xtcp-dump -r '$FIXTURES/6_6_44/tcp_100_sockets.pcap' | xtcp-show 2>/dev/null | python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)[\"poll_sequence\"] for l in sys.stdin)
print(sorted(c.items()))'"
	[ "$output" = "[(1, 400), (2, 400), (3, 400)]" ]
}
