#!/usr/bin/env bats
# The README's transcripts (blocks marked <!-- example: exact -->) run as
# written, from the top of the repository, and print what the README shows.

load helpers

setup() {
	MOCK_PID=
}

teardown() {
	mock_stop
}

@test "README: every marked transcript prints what the README shows" {
	mock_start -t xtcp
	run -0 python3 "$TOP/tests/data/readme-examples.py" "$TOP/README.md" \
		--sub "127.0.0.1:45207=$BROKERS" \
		--mask ' bytes=[0-9]+ '     # each record holds the version string, whose length varies
	echo "$output"
	# the filter, Kafka and gen transcripts at least: a test that ran none is no test
	[ "$(grep -c '^ok README' <<<"$output")" -ge 3 ]
}
