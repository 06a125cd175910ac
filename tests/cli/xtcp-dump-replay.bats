#!/usr/bin/env bats
# xtcp-dump -r: captures read as they come (standard input, pipes, inputs
# that never end) in bounded memory, stopping at the first bad header; and
# replayed records that carry the capture's times and no host of their own.

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

@test "-r - reads a capture from a pipe and from a redirect, as -r FILE does" {
	local f raw=$BATS_TEST_TMPDIR/raw
	python3 "$TOP/tests/data/pcaptool.py" raw "$PCAP10" "$raw"
	for f in "$PCAP10" "$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap" "$raw"; do
		xtcp-dump -r "$f" >"$BATS_TEST_TMPDIR/file.pb"
		cat "$f" | xtcp-dump -r - >"$BATS_TEST_TMPDIR/pipe.pb"
		xtcp-dump -r - <"$f" >"$BATS_TEST_TMPDIR/redirect.pb"
		xtcp-dump --read=- <"$f" >"$BATS_TEST_TMPDIR/long.pb"
		[ -s "$BATS_TEST_TMPDIR/file.pb" ]
		cmp "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/pipe.pb"
		cmp "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/redirect.pb"
		cmp "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/long.pb"
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
	cmp "$BATS_TEST_TMPDIR/file.pb" "$BATS_TEST_TMPDIR/slow.pb"
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

# --- the capture's own times, no host ---------------------------------------------

# check_times PCAP MONTH [XTCP-DUMP OPTIONS]: every poll's records carry the
# time of the poll's first reply packet, read here from the pcap's own record
# headers (poll N begins with the (2N-1)th sock_diag request: one IPv4 and
# one IPv6 dump a run), all in MONTH (2024-07); prints the hostnames seen
check_times() {
	local pcap=$1 month=$2
	shift 2
	xtcp-dump -r "$pcap" "$@" | xtcp-fmt -f json --fields poll_sequence,timestamp_ns,hostname >"$BATS_TEST_TMPDIR/t.json"
	python3 - "$pcap" "$BATS_TEST_TMPDIR/t.json" "$month" <<'PY'
import datetime, json, struct, sys
d = open(sys.argv[1], 'rb').read()
endian = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
nano = d[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
pos, requests, starts = 24, 0, []
waiting = False
while pos + 16 <= len(d):
    sec, frac, incl, _ = struct.unpack(endian + 'IIII', d[pos:pos + 16])
    body = d[pos + 16:pos + 16 + incl]
    pos += 16 + incl
    if struct.unpack('>H', body[14:16])[0] != 4 or len(body) < 32:
        continue                      # not NETLINK_SOCK_DIAG
    flags = struct.unpack('<H', body[16 + 6:16 + 8])[0]
    if flags & 1:                     # NLM_F_REQUEST
        requests += 1
        waiting = requests % 2 == 1
    elif waiting:
        starts.append(sec * 10**9 + frac * (1 if nano else 1000))
        waiting = False
rows = [json.loads(l) for l in open(sys.argv[2])]
assert rows, 'no records'
polls = {}
for r in rows:
    polls.setdefault(r['poll_sequence'], set()).add(int(r['timestamp_ns']))
assert sorted(polls) == list(range(1, len(starts) + 1)), (sorted(polls), len(starts))
for p, ts in polls.items():
    assert ts == {starts[p - 1]}, (p, ts, starts[p - 1])
    t = datetime.datetime.fromtimestamp(starts[p - 1] / 1e9, datetime.timezone.utc)
    assert t.strftime('%Y-%m') == sys.argv[3], (t, sys.argv[3])
print(' '.join(sorted({r['hostname'] for r in rows})) or '(empty)')
PY
}

@test "replayed records carry the pcap's own packet times and no hostname" {
	run -0 check_times "$FIXTURES/6_6_44/tcp_100_sockets.pcap" 2024-07
	[ "$output" = "(empty)" ]
	run -0 check_times "$PCAP10" 2024-07
	[ "$output" = "(empty)" ]
	run -0 check_times "$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap" 2024-08
	[ "$output" = "(empty)" ]
	run -0 check_times "$FIXTURES/4_19_319/4_19_319_tcp_10_sockets.pcap" 2024-08
	[ "$output" = "(empty)" ]
}

@test "a nanosecond big-endian pcap gives the same times" {
	python3 - "$FIXTURES/6_6_44/tcp_100_sockets.pcap" "$BATS_TEST_TMPDIR/ns.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out = bytearray(b'\xa1\xb2\x3c\x4d') + struct.pack('>HH', *struct.unpack('<HH', d[4:8]))
out += struct.pack('>IIII', *struct.unpack('<IIII', d[8:24]))
pos = 24
while pos + 16 <= len(d):
    s, u, incl, orig = struct.unpack('<IIII', d[pos:pos + 16])
    out += struct.pack('>IIII', s, u * 1000 + 7, incl, orig) + d[pos + 16:pos + 16 + incl]
    pos += 16 + incl
open(sys.argv[2], 'wb').write(out)
PY
	run -0 check_times "$BATS_TEST_TMPDIR/ns.pcap" 2024-07
	[ "$output" = "(empty)" ]
	# the nanoseconds themselves, not rounded to microseconds
	xtcp-dump -r "$BATS_TEST_TMPDIR/ns.pcap" | xtcp-fmt -f tsv --no-header --fields timestamp_ns >"$BATS_TEST_TMPDIR/ts"
	! grep -qv '007$' "$BATS_TEST_TMPDIR/ts"
}

@test "--hostname names the capture's host" {
	run -0 check_times "$PCAP10" 2024-07 --hostname db1.example
	[ "$output" = "db1.example" ]
}

@test "a raw dump has no times: timestamp_ns is 0, hostname empty" {
	python3 "$TOP/tests/data/pcaptool.py" raw "$PCAP10" "$BATS_TEST_TMPDIR/raw"
	run -0 bash -c "xtcp-dump -r '$BATS_TEST_TMPDIR/raw' | xtcp-fmt -f tsv --no-header --fields timestamp_ns,hostname | sort | uniq -c"
	[[ "$output" =~ ^\ *[0-9]+\ 0$'\t'$ ]]
}
