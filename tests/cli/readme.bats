#!/usr/bin/env bats
# The README's transcripts (blocks marked <!-- example: exact -->) run as
# written, from the top of the repository, and print what the README shows.

load helpers

setup() {
	MOCK_PID=
}

teardown() {
	[ -z "$MOCK_PID" ] || { kill "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null; } || true
}

@test "README: every marked transcript prints what the README shows" {
	local brokers=
	xtcp-mock-kafka -t xtcp >"$BATS_TEST_TMPDIR/mock.out" 3>&- &
	MOCK_PID=$!
	wait_until grep -q . "$BATS_TEST_TMPDIR/mock.out"
	brokers=$(head -1 "$BATS_TEST_TMPDIR/mock.out")
	[ -n "$brokers" ]
	run -0 python3 "$TOP/tests/data/readme-examples.py" "$TOP/README.md" \
		--sub "127.0.0.1:45207=$brokers" \
		--mask ' bytes=[0-9]+ '     # each record holds the version string, whose length varies
	echo "$output"
	# the filter, Kafka and gen transcripts at least: a test that ran none is no test
	[ "$(grep -c '^ok README' <<<"$output")" -ge 3 ]
}
