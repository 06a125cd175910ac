#!/usr/bin/env bats
# xtcp-rate: every delta and rate against Python's, live sockets at known
# rates, --changed, bad input, the stream's shape, the docs.

load helpers

setup_file() {
	# one namespace with two connections paced at 2 MB/s and 500 kB/s, one idle
	export NS="xtcp-bats-rate-$$"
	netns_up "$NS"
	ip netns exec "$NS" python3 "$TOP/tests/data/paced.py" 7300 2000000,500000,0 \
		"$BATS_FILE_TMPDIR/sent.log" >"$BATS_FILE_TMPDIR/paced.out" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/paced.pid"
	wait_until grep -q READY "$BATS_FILE_TMPDIR/paced.out"
	# a recorded multi-poll stream of them
	ip netns exec "$NS" xtcp-dump -c 3 -i 200ms >"$BATS_FILE_TMPDIR/live.pb"
	python3 "$TOP/tests/data/rate-cases.py" | xtcp-fmt --from json >"$BATS_FILE_TMPDIR/cases.pb"
	xtcp-bench gen -n 30000 --sockets 1000 --churn 10 --seed 9 >"$BATS_FILE_TMPDIR/gen.pb"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/paced.pid")" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$NS-idle" 2>/dev/null || true
	ip netns del "$NS-close" 2>/dev/null || true
}

setup() {
	T=$BATS_TEST_TMPDIR
	LIVE=$BATS_FILE_TMPDIR/live.pb
	CASES=$BATS_FILE_TMPDIR/cases.pb
	GEN=$BATS_FILE_TMPDIR/gen.pb
}

teardown() {
	[ -z "${IDLE_PID:-}" ] || kill "$IDLE_PID" 2>/dev/null || true
}

# check IN.pb [xtcp-rate options]: xtcp-rate's output against tests/data/rate-check.py
check() {
	local in=$1
	shift
	xtcp-fmt -f json "$in" >"$T/in.json"
	xtcp-rate "$@" "$in" | xtcp-fmt -f json >"$T/out.json"
	xtcp-fmt --list-fields >"$T/fields.tsv"
	python3 "$TOP/tests/data/rate-check.py" "$T/in.json" "$T/out.json" --fields "$T/fields.tsv" \
		"$@"
}

# total NAME LINE: the value of NAME=N in rate-check.py's totals line
total() {
	sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$2"
}

# --- options ------------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr xtcp-rate --help
	[[ "$output" == "usage: xtcp-rate [options] [FILE...]"* ]]
	[[ "$output" == *"--changed"* ]]
	[ -z "$stderr" ]
	run -0 xtcp-rate --version
	[[ "$output" == "xtcp-rate "* ]]
}

@test "usage errors: one line, exit 2" {
	run -2 --separate-stderr xtcp-rate --forget 0 "$LIVE"
	[ "$stderr" = "xtcp-rate: invalid --forget '0': want a number of polls from 1 to 1000000 (see 'xtcp-rate --help')" ]
	run -2 --separate-stderr xtcp-rate --forget lots "$LIVE"
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr xtcp-rate --bogus "$LIVE"
	[ "$stderr" = "xtcp-rate: unknown option '--bogus' (see 'xtcp-rate --help')" ]
	run -2 --separate-stderr xtcp-rate --forget
	[ "$stderr" = "xtcp-rate: option '--forget' needs a value (see 'xtcp-rate --help')" ]
}

# --- every value against Python's ---------------------------------------------------

@test "a recorded live stream (3 polls of paced connections): every delta and rate is Python's" {
	run -0 check "$LIVE"
	echo "$output"
	[ "$(total records "$output")" -ge 15 ]
	# the paced connections moved in both later polls, at both ends
	[ "$(total moving "$output")" -ge 8 ]
	run -0 check "$LIVE" --changed
	echo "$output"
}

@test "every rule's case (wrap, decrease, reused cookie, forgetting, hosts, no tcp_info, a poll twice): Python's" {
	local forget
	for forget in 1 2 3 5; do
		run -0 check "$CASES" --forget $forget
		echo "$output"
	done
	run -0 check "$CASES"
	[ "$(total wrapped "$output")" -eq 1 ]
	[ "$(total forgotten "$output")" -eq 4 ]
	[ "$(total new "$output")" -eq 19 ]
	run -0 check "$CASES" --changed
	[ "$(total kept "$output")" -eq 38 ]
	# and a few by hand: the wrap, the 30 s absence, the 64-bit values above 2^63
	xtcp-rate "$CASES" | xtcp-fmt -f tsv --no-header --fields \
		inet_diag_msg_socket_cookie,poll_sequence,hostname,rate_interval_ns,tcp_info_segs_out_delta,tcp_info_bytes_acked_per_s,tcp_info_bytes_received_delta \
		>"$T/cases.tsv"
	grep -qx '1	3	web-1	10000000000	1000	100000	0' "$T/cases.tsv"
	grep -qx '6	4	web-1	30000000000	0	10	99' "$T/cases.tsv"
	grep -qx '11	2	web-1	10000000000	0	109951162777	100' "$T/cases.tsv"
}

@test "polls of 1000 generated sockets, 10% replaced each poll: Python's, with and without --changed" {
	run -0 check "$GEN"
	echo "$output"
	[ "$(total moving "$output")" -ge 10000 ]
	[ "$(total wrapped "$output")" -ge 1 ]
	run -0 check "$GEN" --changed
	run -0 check "$GEN" --forget 1
}

# --- live rates -----------------------------------------------------------------------

@test "live: connections paced at 2 MB/s and 500 kB/s read within 5%, at both ends" {
	local ports
	ports=$(sed -n 's/^READY //p' "$BATS_FILE_TMPDIR/paced.out")
	ip netns exec "$NS" xtcp-dump -c 4 -i 500ms | xtcp-rate | xtcp-fmt -f json >"$T/rates.json"
	run python3 - "$T/rates.json" "$BATS_FILE_TMPDIR/sent.log" $ports <<'PY'
import bisect, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
log = {}
for line in open(sys.argv[2]):
    port, t, total = map(int, line.split())
    log.setdefault(port, ([], []))
    log[port][0].append(t)
    log[port][1].append(total)

def sent_by(port, t):
    times, totals = log[port]
    i = bisect.bisect_right(times, t)
    return totals[i - 1] if i else 0

for port, nominal in zip(map(int, sys.argv[3:5]), (2000000, 500000)):
    for side, match, field in (("sender", lambda r: r["inet_diag_msg_socket_source_port"] == port,
                                "tcp_info_bytes_acked_per_s"),
                               ("receiver", lambda r: r["inet_diag_msg_socket_destination_port"] == port,
                                "tcp_info_bytes_received_per_s")):
        rows = sorted((r for r in recs if match(r)), key=lambda r: r["poll_sequence"])
        assert len(rows) == 4 and rows[0]["rate_interval_ns"] == 0, (side, len(rows))
        total_bytes = total_ns = 0
        for prev, r in zip(rows, rows[1:]):
            iv = r["rate_interval_ns"]
            assert iv == int(r["timestamp_ns"]) - int(prev["timestamp_ns"])
            # what the sender had written by the two poll times, from its own log;
            # a poll's timestamp is taken before the kernel reads the counters, up to
            # LAG later on a loaded machine (a preempted poll): the bytes lie between
            # those written from the later bound of one poll to the earlier of the
            # next, and those from the earlier of one to the later of the next
            t0, t1 = int(prev["timestamp_ns"]), int(r["timestamp_ns"])
            LAG = 50 * 10**6
            want = (sent_by(port, t1) - sent_by(port, t0)) * 10**9 / iv
            lo = (sent_by(port, t1) - sent_by(port, t0 + LAG)) * 10**9 / iv
            hi = (sent_by(port, t1 + LAG) - sent_by(port, t0)) * 10**9 / iv
            got = r[field]
            print("%s %d: %s %d B/s, the log says %d [%d-%d], paced at %d" %
                  (side, port, field, got, want, lo, hi, nominal))
            # the writes of a burst just as the poll began may or may not be in
            assert 0.95 * lo <= got <= 1.05 * hi, (got, want, lo, hi)
            total_bytes += got * iv / 10**9
            total_ns += iv
        mean = total_bytes * 10**9 / total_ns
        print("%s %d: %d B/s over %.2f s" % (side, port, mean, total_ns / 1e9))
        assert abs(mean - nominal) <= 0.05 * nominal, (mean, nominal)
print("ok")
PY
	echo "$output"
	[ "$status" -eq 0 ] && [ "${lines[-1]}" = ok ]
}

@test "--changed on idle sockets: each only once, its first record" {
	netns_up "$NS-idle"
	ip netns exec "$NS-idle" python3 "$TOP/tests/data/paced.py" 7301 0,0,0 "$T/idle.log" \
		>"$T/idle.out" 2>&1 &
	IDLE_PID=$!
	wait_until grep -q READY "$T/idle.out"
	ip netns exec "$NS-idle" xtcp-dump -c 4 -i 200ms >"$T/idle.pb"
	# a listener and three connections, both ends: 7 sockets, 4 polls
	[ "$(xtcp-fmt -f tsv --no-header --fields inet_diag_msg_socket_cookie "$T/idle.pb" | wc -l)" -eq 28 ]
	xtcp-rate --changed "$T/idle.pb" |
		xtcp-fmt -f tsv --no-header --fields inet_diag_msg_socket_cookie,poll_sequence,rate_interval_ns >"$T/kept.tsv"
	cat "$T/kept.tsv"
	[ "$(wc -l <"$T/kept.tsv")" -eq 7 ]
	[ "$(cut -f1 "$T/kept.tsv" | sort -u | wc -l)" -eq 7 ]
	[ "$(cut -f2,3 "$T/kept.tsv" | sort -u)" = "1	0" ]
}

# --- the stream ---------------------------------------------------------------------

@test "rows go out as they came, the rate fields in number order among them; xtcp-rate twice is xtcp-rate once" {
	local in
	for in in "$LIVE" "$CASES" "$GEN"; do
		xtcp-rate "$in" >"$T/once.pb"
		run -0 python3 "$TOP/tests/data/rate-rows.py" check "$in" "$T/once.pb"
		echo "$output"
		[[ "$output" != *" suffixed=0" ]]
		xtcp-rate "$T/once.pb" | cmp - "$T/once.pb"
	done
	# each frame is a frame out, a poll's grouping kept
	[ "$(xtcp-show "$LIVE" 2>&1 >/dev/null | tail -1)" = \
	  "$(xtcp-rate "$LIVE" | xtcp-show 2>&1 >/dev/null | tail -1)" ]
}

@test "unknown fields (a newer writer) pass through, the rate fields before those numbered above them" {
	python3 "$TOP/tests/data/rate-rows.py" unknown "$T/u.pb"
	xtcp-rate "$T/u.pb" >"$T/out.pb"
	run -0 python3 "$TOP/tests/data/rate-rows.py" check "$T/u.pb" "$T/out.pb"
	[ "$output" = "frames=2 rows=2 suffixed=1" ]
	xtcp-fmt -f protobuf "$T/out.pb" >"$T/rows.bin"
	run -0 bash -c "python3 '$TOP/tests/data/delimited.py' body '$T/rows.bin' 2 | protoc --decode_raw"
	[ "${lines[-5]}" = '3100: 10000000000' ]
	[ "${lines[-4]}" = '3102: 4096' ]
	[ "${lines[-3]}" = '3130: 409' ]
	[ "${lines[-2]}" = '5000: 7' ]
	[ "${lines[-1]}" = '5001: "newer"' ]
}

@test "a close record (xtcp-dump -E) gets the final deltas and ends its socket" {
	local s='"hostname":"h","netns_inode":9,"inet_diag_msg_socket_cookie":5,"tcp_info_state":1'
	printf '%s\n' "{$s,\"poll_sequence\":1,\"timestamp_ns\":1000000000,\"tcp_info_bytes_acked\":100}" \
		"{$s,\"poll_sequence\":1,\"timestamp_ns\":1250000000,\"tcp_info_bytes_acked\":600,\"record_kind\":\"close\"}" \
		"{$s,\"poll_sequence\":2,\"timestamp_ns\":2000000000,\"tcp_info_bytes_acked\":700}" |
		xtcp-fmt --from json >"$T/close.pb"
	run -0 bash -c "xtcp-rate '$T/close.pb' | xtcp-fmt -f csv --no-header \
		--fields record_kind,rate_interval_ns,tcp_info_bytes_acked_delta,tcp_info_bytes_acked_per_s"
	[ "${lines[0]}" = "RECORD_KIND_POLL,0,0,0" ]
	[ "${lines[1]}" = "RECORD_KIND_CLOSE,250000000,500,2000" ]
	# the cookie again after its close: a new socket, not 100 more bytes
	[ "${lines[2]}" = "RECORD_KIND_POLL,0,0,0" ]
	run -0 bash -c "xtcp-rate --changed '$T/close.pb' | xtcp-fmt -f csv --no-header --fields record_kind"
	[ "${#lines[@]}" -eq 3 ]
	# and tests/data/rate-check.py's own model of close records agrees
	run -0 check "$T/close.pb"
	[ "$(total closed "$output")" -eq 1 ] && [ "$(total closed_followed "$output")" -eq 1 ]
	run -0 check "$T/close.pb" --changed
}

@test "live xtcp-dump -E: sockets followed across polls, then closed: their close records' final deltas equal Python's" {
	netns_up "$NS-close"
	ip netns exec "$NS-close" python3 "$TOP/tests/data/hold.py" 2 1 >"$T/hold.out" 2>&1 &
	local hold=$! dump last
	wait_until grep -q READY "$T/hold.out"
	ip netns exec "$NS-close" xtcp-dump -c 0 -i 300ms -E >"$T/ev.pb" 2>"$T/ev.err" &
	dump=$!
	wait_until has_polls "$T/ev.pb" 2
	kill "$hold"
	wait "$hold" || true
	# the three connections' six ends and the two listeners close, then one more poll
	wait_until bash -c "xtcp-filter -c 'kind == close' '$T/ev.pb' | grep -qx 8"
	last=$(xtcp-fmt -f tsv --no-header --fields poll_sequence "$T/ev.pb" | tail -1)
	wait_until has_polls "$T/ev.pb" $((last + 1))
	kill -INT "$dump"
	wait "$dump"
	ip netns del "$NS-close"
	[ -z "$(without_schedule_notes <"$T/ev.err")" ]
	run -0 check "$T/ev.pb"
	echo "$output"
	# every close record is of a socket a poll saw: its interval and deltas since that poll
	[ "$(total closed "$output")" -eq 8 ] && [ "$(total closed_followed "$output")" -eq 8 ]
	run -0 check "$T/ev.pb" --changed
}

@test "several FILEs and - are one stream, as cat would make it" {
	xtcp-filter 'poll <= 12' "$GEN" >"$T/p1.pb"
	xtcp-filter 'poll > 12' "$GEN" >"$T/p2.pb"
	cat "$T/p1.pb" "$T/p2.pb" | xtcp-rate >"$T/whole.pb"
	xtcp-rate "$T/p1.pb" - <"$T/p2.pb" | cmp - "$T/whole.pb"
	xtcp-rate "$T/p1.pb" "$T/p2.pb" | cmp - "$T/whole.pb"
	[ "$(xtcp-filter -c 'poll == 13 && interval == 10s' "$T/whole.pb")" -ge 800 ]
}

@test "the README's top talkers: xtcp-filter takes the rate aliases" {
	# (tests/data/rate-cases.py) K's 110 GB/s in polls 2-6; A's exactly 100 kB/s is not above
	run -0 bash -c "xtcp-rate '$CASES' | xtcp-filter -c 'rate_bytes_acked > 100k'"
	[ "$output" = 5 ]
	# A retransmits in polls 2, 4 and 6; F comes back after 30 s
	run -0 bash -c "xtcp-rate '$CASES' | xtcp-filter -c 'retrans_delta > 0 || drops_delta > 0 || interval > 20s'"
	[ "$output" = 4 ]
	# A, polls 2-6
	run -0 bash -c "xtcp-rate '$CASES' | xtcp-filter -c 'bytes_acked_delta == 1M'"
	[ "$output" = 5 ]
}

# --- bad input, output ----------------------------------------------------------------

@test "a truncated stream: the frames before it are written, then one line, exit 1" {
	local size
	size=$(stat -c %s "$LIVE")
	head -c $((size - 5)) "$LIVE" >"$T/cut.pb"
	run -1 --separate-stderr bash -c "xtcp-rate '$T/cut.pb' >'$T/out.pb'"
	[[ "$stderr" == "xtcp-rate: '$T/cut.pb': frame "*" at byte "*": "* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(xtcp-show "$T/out.pb" 2>&1 >/dev/null | tail -1 | sed 's/ rows=.*//')" = \
	  "frames=$(($(xtcp-show "$LIVE" 2>&1 >/dev/null | tail -1 | sed 's/frames=//; s/ .*//') - 1))" ]
}

@test "garbage, a malformed row, JSON lines: one line each, exit 1" {
	head -c 3000 /dev/urandom | tr -d '\000-\010' >"$T/junk.pb"
	run -1 --separate-stderr xtcp-rate "$T/junk.pb"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-rate: '$T/junk.pb': frame 1 at byte 0: "* ]]
	# frame 2 holds one row whose only field has a truncated varint
	printf '\x05\x52\x03\xf0\x4c\x80' | cat "$CASES" - >"$T/badrow.pb"
	run -1 --separate-stderr bash -c "xtcp-rate '$T/badrow.pb' >'$T/out.pb'"
	[[ "$stderr" == "xtcp-rate: '$T/badrow.pb': frame "*" at byte "*": row 1 is not a valid record" ]]
	xtcp-rate "$CASES" | cmp - "$T/out.pb"
	echo '{"tcp_info_rtt":1}' >"$T/x.json"
	run -1 --separate-stderr xtcp-rate "$T/x.json"
	[[ "$stderr" == *"xtcp-fmt --from json"* ]]
	run -1 --separate-stderr xtcp-rate "$T/nope.pb"
	[ "$stderr" = "xtcp-rate: cannot open '$T/nope.pb': No such file or directory" ]
}

@test "refuses a terminal; -o writes atomically; a reader that goes away ends it quietly" {
	run -2 script -qec "xtcp-rate '$LIVE'" /dev/null
	[[ "$output" == *"refusing to write binary records to a terminal"* ]]
	mkdir "$T/out"
	xtcp-rate -o "$T/out/r.pb" "$LIVE"
	[ "$(ls -A "$T/out")" = "r.pb" ]
	xtcp-rate "$LIVE" | cmp - "$T/out/r.pb"
	run -1 --separate-stderr xtcp-rate -o /nonexistent/dir/r.pb "$LIVE"
	[[ "$stderr" == "xtcp-rate: cannot create '/nonexistent/dir/r.pb': "* ]]
	run -0 --separate-stderr bash -c "xtcp-rate '$GEN' | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}"
	[ -z "$stderr" ]
	[ -e /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr bash -c "xtcp-rate '$LIVE' >/dev/full"
	[ "$stderr" = "xtcp-rate: cannot write to standard output: No space left on device" ]
}

@test "-o commits only a run that succeeded; an empty input is refused; no record in is one empty frame out" {
	local size
	size=$(stat -c %s "$LIVE")
	head -c $((size - 5)) "$LIVE" >"$T/cut.pb"
	run -1 --separate-stderr xtcp-rate -o "$T/r.pb" "$T/cut.pb"
	[ ! -e "$T/r.pb" ] && [ -z "$(ls -A "$T" | grep '^\.r\.pb')" ]
	: >"$T/empty.pb"
	run -1 --separate-stderr xtcp-rate -o "$T/r.pb" "$T/empty.pb"
	[[ "$stderr" == *"not a single frame"*"'$T/r.pb' not written" ]]
	[ ! -e "$T/r.pb" ]
	# a filter that matched nothing says so with one empty frame; so does xtcp-rate after it
	xtcp-filter 'rtt > 1h' "$LIVE" >"$T/none.pb"
	[ "$(od -An -tx1 "$T/none.pb")" = " 00" ]
	xtcp-rate "$T/none.pb" | cmp - "$T/none.pb"
	xtcp-rate --changed -o "$T/r.pb" "$T/none.pb"
	cmp "$T/r.pb" "$T/none.pb"
}

@test "SIGTERM ends a run cleanly: what was read is written, exit 0" {
	local pid rc=0
	mkfifo "$T/fifo"
	xtcp-rate -o "$T/s.pb" "$T/fifo" &
	pid=$!
	exec 5>"$T/fifo"
	cat "$CASES" >&5
	wait_until drained "$T/fifo"
	kill -TERM $pid
	wait $pid || rc=$?
	exec 5>&-
	[ "$rc" -eq 0 ]
	xtcp-rate "$CASES" | cmp - "$T/s.pb"
}

# --- docs -------------------------------------------------------------------------------

@test "the man page lists every counter the schema follows, and says which are not counters" {
	local name missing=
	for name in $(xtcp-fmt --list-fields | cut -f1 | sed -n 's/_delta$//p'); do
		sed -n '/^\.SH COUNTERS/,/^\.SH NOT/p' "$TOP/man/xtcp-rate.1" | grep -qw -- "$name" ||
			missing+=" $name"
	done
	[ -z "$missing" ] || { echo "not under COUNTERS in man/xtcp-rate.1:$missing"; return 1; }
	sed -n '/^\.SH NOT COUNTERS/,/^\.SH WHICH/p' "$TOP/man/xtcp-rate.1" >"$T/not"
	grep -qx '\.B tcp_info_lost' "$T/not"
	grep -qx '\.B tcp_info_retrans' "$T/not"
	run -0 env MANWIDTH=80 man --warnings -l "$TOP/man/xtcp-rate.1"
	[[ "$output" == *"rate_bytes_acked > 1M"* ]]
}
