#!/usr/bin/env bats
# xtcp-dump -r: captures read as they come (standard input, pipes, inputs
# that never end) in bounded memory, stopping at the first bad header.

load helpers

PCAP10=$FIXTURES/6_6_44/tcp_10_sockets.pcap

teardown() {
	[ -z "${DUMP_PID:-}" ] || kill "$DUMP_PID" 2>/dev/null || true
}

# the peak RSS in KiB that `/usr/bin/time -f %M -o $BATS_TEST_TMPDIR/rss` noted
rss_kb() {
	tail -1 "$BATS_TEST_TMPDIR/rss"
}

# A replay holds one record at most (256 KiB): the program itself is most of
# its 2 MB (6 MB under the sanitizers); reading a 50 MB input whole was 50 MB.
RSS_BOUND_KB=16384

# --- bounded memory, first bad header ------------------------------------------------

@test "-r /dev/zero fails at byte 0 at once, in bounded memory" {
	run -1 --separate-stderr timeout 10 /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" xtcp-dump -r /dev/zero
	[ "$stderr" = "xtcp-dump: '/dev/zero': at byte 0: netlink message length 0 is shorter than its header" ]
	[ -z "$output" ]
	echo "peak RSS $(rss_kb) KiB"
	[ "$(rss_kb)" -lt "$RSS_BOUND_KB" ]
}

@test "a 50 MB file of zeros is rejected at byte 0 without being read whole" {
	head -c 50000000 /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	run -1 --separate-stderr timeout 10 /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" xtcp-dump -r "$BATS_TEST_TMPDIR/zeros"
	[ "$stderr" = "xtcp-dump: '$BATS_TEST_TMPDIR/zeros': at byte 0: netlink message length 0 is shorter than its header" ]
	echo "peak RSS $(rss_kb) KiB"
	[ "$(rss_kb)" -lt "$RSS_BOUND_KB" ]
}

@test "a long input streams through in bounded memory" {
	# the replies of a capture of three polls 500 times over (1500 polls) through a pipe
	python3 "$TOP/tests/data/pcaptool.py" raw "$PCAP10" "$BATS_TEST_TMPDIR/raw"
	run -0 --separate-stderr bash -o pipefail -c "python3 -c '
import sys
d = open(sys.argv[1], \"rb\").read()
for _ in range(500):
    sys.stdout.buffer.write(d)' '$BATS_TEST_TMPDIR/raw' |
		/usr/bin/time -f %M -o '$BATS_TEST_TMPDIR/rss' xtcp-dump -r - |
		xtcp-fmt -f tsv --no-header --fields poll_sequence | uniq -c | tail -1"
	[[ "$output" =~ ^\ *32\ 1500$ ]]
	echo "peak RSS $(rss_kb) KiB"
	[ "$(rss_kb)" -lt "$RSS_BOUND_KB" ]
}

@test "a record claiming more than 256 KiB is an error before it is read" {
	python3 - "$PCAP10" "$BATS_TEST_TMPDIR/big.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
struct.pack_into('<I', d, 24 + 8, 262145)
open(sys.argv[2], 'wb').write(d)
PY
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/big.pcap"
	[ "$stderr" = "xtcp-dump: '$BATS_TEST_TMPDIR/big.pcap': packet 1 at byte 24: packet length 262145 is impossible (more than 262144)" ]
	printf '\x00\x00\x10\x00\x14\x00\x02\x00' >"$BATS_TEST_TMPDIR/big.raw"
	head -c 8 /dev/zero >>"$BATS_TEST_TMPDIR/big.raw"
	run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/big.raw"
	[ "$stderr" = "xtcp-dump: '$BATS_TEST_TMPDIR/big.raw': at byte 0: netlink message length 1048576 is impossible (more than 262144)" ]
}

# cut_expect PCAP OUT WHERE: cut PCAP inside a record (WHERE: header or data) of
# its third packet; prints the message xtcp-dump must give, found independently
cut_expect() {
	python3 - "$@" <<'PY'
import struct, sys
src, out, where = sys.argv[1:]
d = open(src, 'rb').read()
pos, n = 24, 0
while True:
    n += 1
    incl = struct.unpack('<I', d[pos + 8:pos + 12])[0]
    if n == 3:
        break
    pos += 16 + incl
if where == 'header':
    open(out, 'wb').write(d[:pos + 5])
    print('packet %d at byte %d: truncated pcap record header (5 of 16 bytes)' % (n, pos))
else:
    open(out, 'wb').write(d[:pos + 16 + 100])
    print('packet %d at byte %d: packet length %d overruns the file (100 bytes left)' % (n, pos, incl))
PY
}

@test "a pcap cut inside a record says where, after writing every whole packet before it" {
	local where want
	for where in header data; do
		want=$(cut_expect "$PCAP10" "$BATS_TEST_TMPDIR/cut.pcap" $where)
		run -1 --separate-stderr xtcp-dump -r "$BATS_TEST_TMPDIR/cut.pcap" -o "$BATS_TEST_TMPDIR/cut.pb"
		[ "$stderr" = "xtcp-dump: '$BATS_TEST_TMPDIR/cut.pcap': $want" ]
		run -1 --separate-stderr bash -c "cat '$BATS_TEST_TMPDIR/cut.pcap' | xtcp-dump -r - >'$BATS_TEST_TMPDIR/cut.pb'"
		[ "$stderr" = "xtcp-dump: standard input: $want" ]
		run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/cut.pb"
		[ "${#lines[@]}" -gt 0 ]
	done
}

# --- standard input ------------------------------------------------------------------

# same_records A B: two streams hold the same records (but for the replay's time)
same_records() {
	xtcp-show "$1" 2>/dev/null | sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/a.jsonl"
	xtcp-show "$2" 2>/dev/null | sed 's/"timestamp_ns":[0-9]*//' >"$BATS_TEST_TMPDIR/b.jsonl"
	[ -s "$BATS_TEST_TMPDIR/a.jsonl" ] && cmp "$BATS_TEST_TMPDIR/a.jsonl" "$BATS_TEST_TMPDIR/b.jsonl"
}

@test "-r - reads a capture from a pipe and from a redirect, as -r FILE does" {
	local f raw=$BATS_TEST_TMPDIR/raw
	python3 "$TOP/tests/data/pcaptool.py" raw "$PCAP10" "$raw"
	for f in "$PCAP10" "$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap" "$raw"; do
		xtcp-dump -r "$f" >"$BATS_TEST_TMPDIR/file.pb"
		cat "$f" | xtcp-dump -r - >"$BATS_TEST_TMPDIR/pipe.pb"
		xtcp-dump -r - <"$f" >"$BATS_TEST_TMPDIR/redirect.pb"
		xtcp-dump --read=- <"$f" >"$BATS_TEST_TMPDIR/long.pb"
		[ -s "$BATS_TEST_TMPDIR/file.pb" ]
		same_records "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/pipe.pb"
		same_records "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/redirect.pb"
		same_records "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/long.pb"
	done
}

@test "-r - from a pipe that delivers a few bytes at a time" {
	xtcp-dump -r "$PCAP10" >"$BATS_TEST_TMPDIR/file.pb"
	python3 - "$PCAP10" <<'PY' | xtcp-dump -r - >"$BATS_TEST_TMPDIR/slow.pb"
import os, sys, time
d = open(sys.argv[1], 'rb').read()
for i in range(0, len(d), 997):
    os.write(1, d[i:i + 997])
    if i % (997 * 8) == 0:
        time.sleep(0.01)
PY
	same_records "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/slow.pb"
}

@test "-r - names standard input in its errors" {
	run -1 --separate-stderr xtcp-dump -r - </dev/null
	[ "$stderr" = "xtcp-dump: cannot read standard input: empty file" ]
	run -1 --separate-stderr bash -c "printf '\x01\x00\x00\x00' | xtcp-dump -r -"
	[ "$stderr" = "xtcp-dump: standard input: at byte 0: 4 trailing bytes are too short for a netlink message header" ]
	run -1 --separate-stderr bash -c "xtcp-dump -r - <&-"
	[ "$stderr" = "xtcp-dump: cannot read standard input: Bad file descriptor" ]
}

@test "SIGINT while -r - waits inside a record ends cleanly with what was read" {
	local size pid rc=0
	mkfifo "$BATS_TEST_TMPDIR/in"
	xtcp-dump -r - <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/s.pb" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	DUMP_PID=$pid
	exec 5>"$BATS_TEST_TMPDIR/in"
	size=$(stat -c %s "$PCAP10")
	head -c $((size / 2)) "$PCAP10" >&5
	wait_until drained "$BATS_TEST_TMPDIR/in"
	kill -INT $pid
	wait $pid || rc=$?
	exec 5>&-
	DUMP_PID=
	cat "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	run -0 --separate-stderr xtcp-show "$BATS_TEST_TMPDIR/s.pb"
	[ "${#lines[@]}" -gt 0 ]
}
