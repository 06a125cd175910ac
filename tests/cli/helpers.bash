# Shared setup for the bats files: binaries on PATH, a private network namespace.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${XTCP_BUILD:=$TOP/build}"
PATH="$XTCP_BUILD/bin:$PATH"
FIXTURES=$TOP/tests/data/netlink
export XTCP_BUILD PATH

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
	for _ in $(seq 100); do
		grep -q READY "$fifo" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$fifo" >&2
	return 1
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
	for _ in $(seq 100); do
		BROKERS=$(head -1 "$BATS_TEST_TMPDIR/mock.out")
		[ -n "$BROKERS" ] && return 0
		sleep 0.05
	done
	return 1
}

mock_stop() {
	[ -z "${MOCK_PID:-}" ] || { kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; } || true
	MOCK_PID=
}
