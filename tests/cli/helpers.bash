# Shared setup for the bats files: binaries on PATH, a private network namespace.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${XTCP_BUILD:=$TOP/build}"
PATH="$XTCP_BUILD/bin:$PATH"
FIXTURES=$TOP/tests/data/netlink
export XTCP_BUILD PATH

# wait_until CMD...: run CMD every 50 ms until it succeeds. Tests wait for a
# state they can see, never for a guessed time; the 60 s bound only ends a
# test that would otherwise hang, however loaded the machine is.
wait_until() {
	local _
	for _ in $(seq 1200); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "gave up waiting for: $*" >&2
	return 1
}

# gone PID: no such process any more (wait_until gone PID; a "!" in wait_until's
# arguments is a command name, not the shell's negation)
gone() {
	! kill -0 "$1" 2>/dev/null
}

# has_polls FILE N: the complete frames of a stream that xtcp-dump is still
# writing (it flushes after every poll) reach poll N
has_polls() {
	local n
	n=$(xtcp-fmt -f tsv --no-header --fields poll_sequence <"$1" 2>/dev/null | tail -1)
	[ "${n:-0}" -ge "$2" ]
}

# drained FIFO: nothing written to FIFO is still waiting to be read
drained() {
	python3 -c '
import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
sys.exit(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"0000"))[0] != 0)' "$1"
}

# without_schedule_notes: stdin without xtcp-dump's note that a loaded
# machine made it skip scheduled polls (the schedule's own test checks it)
without_schedule_notes() {
	grep -vE '^xtcp-dump: polls are slower than the [0-9.e+-]+s interval; skipped [0-9]+ scheduled polls? so far$' || true
}

# netns_up NAME: a fresh namespace with lo up.
netns_up() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	ip -n "$1" link set lo up
}

# hold_start NS V4 V6: start tests/data/hold.py in NS; sets HOLD_PID; waits for READY.
hold_start() {
	local fifo="$BATS_TEST_TMPDIR/hold.out"
	ip netns exec "$1" python3 "$TOP/tests/data/hold.py" "$2" "$3" >"$fifo" 2>&1 &
	HOLD_PID=$!
	wait_until grep -q READY "$fifo" || { cat "$fifo" >&2; return 1; }
}

hold_stop() {
	[ -n "${HOLD_PID:-}" ] && kill "$HOLD_PID" 2>/dev/null && wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
	return 0
}

# jq-free field extraction from xtcp-show JSON lines: field NAME < file
field() {
	python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)[sys.argv[1]])' "$1"
}

# delimited COMMAND FILE...: the tests' own reader of length-delimited
# protobuf (frames, envelopes, ClickHouse's Protobuf rows; tests/data/delimited.py)
delimited() {
	python3 "$TOP/tests/data/delimited.py" "$@"
}

# mock_start [xtcp-mock-kafka options]: librdkafka's mock cluster in the
# background; sets MOCK_PID and BROKERS.  mock_stop (in teardown) ends it.
mock_start() {
	mock_stop
	xtcp-mock-kafka "$@" >"$BATS_TEST_TMPDIR/mock.out" 3>&- &
	MOCK_PID=$!
	wait_until grep -q . "$BATS_TEST_TMPDIR/mock.out" || return 1
	BROKERS=$(head -1 "$BATS_TEST_TMPDIR/mock.out")
	[ -n "$BROKERS" ]
}

mock_stop() {
	[ -z "${MOCK_PID:-}" ] || { kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; } || true
	MOCK_PID=
}

# conns_up NS: a fresh namespace NS with tests/data/conns.py's sockets in it,
# idle (its output in $BATS_FILE_TMPDIR/conns.out); conns_down NS ends both.
# For setup_file and teardown_file.
conns_up() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up || { conns_down "$1"; return 1; }
	ip netns exec "$1" python3 "$TOP/tests/data/conns.py" \
		>"$BATS_FILE_TMPDIR/conns.out" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/conns.pid"
	for _ in $(seq 600); do        # 60 s at most, however loaded the machine is
		grep -q '^READY' "$BATS_FILE_TMPDIR/conns.out" && break
		sleep 0.1
	done
	if ! grep -q '^READY' "$BATS_FILE_TMPDIR/conns.out"; then
		cat "$BATS_FILE_TMPDIR/conns.out" >&2
		conns_down "$1"
		return 1
	fi
	sleep 0.5       # idle: delayed ACKs and FIN exchanges are over
}

conns_down() {
	if [ -s "$BATS_FILE_TMPDIR/conns.pid" ]; then
		kill "$(cat "$BATS_FILE_TMPDIR/conns.pid")" 2>/dev/null || true
		rm -f "$BATS_FILE_TMPDIR/conns.pid"
	fi
	ip netns del "$1" 2>/dev/null || true
}

# mix_up PIDFILE NAME:KIND...: namespaces NAME (lo up), each holding tests/data/skipmix.py's
# KIND of sockets, all held by one skipmix.py; its pid goes to PIDFILE, what it said to
# PIDFILE.out
mix_up() {
	local pidfile=$1 arg
	shift
	for arg in "$@"; do
		ip netns add "${arg%%:*}" || return 1
		ip -n "${arg%%:*}" link set lo up || return 1
	done
	python3 "$TOP/tests/data/skipmix.py" "$@" >"$pidfile.out" 2>&1 &
	echo $! >"$pidfile"
	wait_until grep -q READY "$pidfile.out" || { cat "$pidfile.out" >&2; return 1; }
}
