#!/usr/bin/env bats
# xtcp-kafka: delivery into librdkafka's mock cluster (tests/helpers/xtcp-mock-kafka),
# read back with kcat, checked with protoc and xtcp-show; faults; options.

load helpers

setup_file() {
	local pcap=$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap i
	# 2173 real rows, distinct; and 25 copies told apart by --label (54325 rows)
	xtcp-dump -r "$pcap" >"$BATS_FILE_TMPDIR/s.pb"
	for i in $(seq 25); do
		xtcp-dump --label "rep$i" -r "$pcap"
	done >"$BATS_FILE_TMPDIR/big.pb"
	# three hosts, frames interleaved a, b, a, c: the key changes mid-stream
	for i in a b a c; do
		xtcp-dump --hostname "host-$i" --label "$RANDOM$i" -r "$pcap"
	done >"$BATS_FILE_TMPDIR/hosts.pb"
	# three rows, the middle one 1.2 MB (a huge hostname): over librdkafka's
	# and a default broker's 1 MB message limit, over the default --bytes
	xtcp-fmt -f json "$BATS_FILE_TMPDIR/s.pb" | head -3 | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
rows[1]["hostname"] = "h" * 1200000
for r in rows: print(json.dumps(r))' | xtcp-fmt --from json >"$BATS_FILE_TMPDIR/bigrow.pb"
}

setup() {
	S=$BATS_FILE_TMPDIR/s.pb
	BIG=$BATS_FILE_TMPDIR/big.pb
	HOSTS=$BATS_FILE_TMPDIR/hosts.pb
	BIGROW=$BATS_FILE_TMPDIR/bigrow.pb
	T=$BATS_TEST_TMPDIR
	MOCK_PID=
}

teardown() {
	mock_stop
}

# brokers_down: every broker refuses connections (after SIGUSR1)
brokers_down() {
	local b
	for b in ${BROKERS//,/ }; do
		! (exec 6<>"/dev/tcp/${b%:*}/${b##*:}") 2>/dev/null || return 1
	done
}

# messages_in TOPIC N: the topic's partition 0 holds N messages
messages_in() {
	[ "$(kcat -C -b "$BROKERS" -t "$1" -p 0 -o beginning -e -q -f '%o\n' | wc -l)" -ge "$2" ]
}

# outage TIMEOUT: xtcp-kafka --timeout TIMEOUT reads what the test writes to
# fd 5; its first copy of the capture is delivered (in the topic), then every
# broker goes down. Sets KAFKA_PID; stderr goes to $T/err.
outage() {
	mock_start -t t1
	mkfifo "$T/in"
	xtcp-kafka -b "$BROKERS" -t t1 --timeout "$1" <"$T/in" 2>"$T/err" 3>&- &
	KAFKA_PID=$!
	exec 5>"$T/in"
	cat "$S" >&5
	wait_until messages_in t1 1
	kill -USR1 "$MOCK_PID"
	wait_until brokers_down
}

# consume TOPIC PARTITION OUT: every message of one partition, checked as one
# frame each (kafka-messages.py); OUT.pb gets the frames, OUT.keys the keys
consume() {
	kcat -C -b "$BROKERS" -t "$1" -p "$2" -o beginning -e -q -f '%K:%k%R%s' |
		python3 "$TOP/tests/data/kafka-messages.py" --protoc "${PROTOC_MAX:-1000}" \
			--keys "$3.keys" >"$3.pb"
}

# rows FILE: the stream's rows as xtcp-show JSON lines
rows() {
	xtcp-show "$1" 2>/dev/null
}

# --- options ------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr xtcp-kafka --help
	[[ "$output" == usage:* ]]
	[[ "$output" == *"--timeout"* ]]
	[ -z "$stderr" ]
	run -0 xtcp-kafka --version
	[[ "$output" == "xtcp-kafka "* ]]
}

@test "usage errors: one line, exit 2" {
	run -2 --separate-stderr xtcp-kafka -t x "$S"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-kafka: no brokers"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 "$S"
	[[ "$stderr" == "xtcp-kafka: no topic"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x --key ip "$S"
	[[ "$stderr" == *"invalid --key 'ip'"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x --rows 0 "$S"
	[[ "$stderr" == *"invalid --rows '0'"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x --bytes 1Q "$S"
	[[ "$stderr" == *"invalid --bytes '1Q'"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x --timeout soon "$S"
	[[ "$stderr" == *"invalid --timeout 'soon'"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x -X no.such.property=1 "$S"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"invalid -X 'no.such.property=1'"*"No such configuration property"* ]]
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x -X acks "$S"
	[[ "$stderr" == *"want PROP=VALUE"* ]]
}

@test "-F reads properties; a bad line names the file and line" {
	mock_start -t t1
	printf '# comment\n\nclient.id = xtcp-test\nlinger.ms=1\n' >"$T/good.conf"
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 -F "$T/good.conf" "$S"
	printf 'acks=all\nlinger.ms=fast\n' >"$T/bad.conf"
	run -2 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 -F "$T/bad.conf" "$S"
	[[ "$stderr" == *"'$T/bad.conf' line 2:"* ]]
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 -F "$T/missing.conf" "$S"
	[[ "$stderr" == *"cannot open '$T/missing.conf': No such file or directory" ]]
}

@test "-F reads a line no longer than 1 MiB and no NUL byte: /dev/zero is refused at once" {
	run -2 --separate-stderr timeout 10 /usr/bin/time -f %M -o "$T/rss" \
		xtcp-kafka -b 127.0.0.1:1 -t x -F /dev/zero "$S"
	[ "$stderr" = "xtcp-kafka: '/dev/zero' line 1: a NUL byte: not a text file (see 'xtcp-kafka --help')" ]
	[ "$(tail -1 "$T/rss")" -lt 32768 ]
	python3 -c 'print("linger.ms=1"); print("client.id=" + "a" * (1 << 20))' >"$T/long.conf"
	run -2 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t x -F "$T/long.conf" "$S"
	[ "$stderr" = "xtcp-kafka: '$T/long.conf' line 2: longer than 1048576 bytes (see 'xtcp-kafka --help')" ]
	# a line of exactly 1 MiB is read, and so is the line after it
	mock_start -t t1
	python3 -c 'print("#" + "a" * ((1 << 20) - 1)); print("linger.ms=fast")' >"$T/max.conf"
	run -2 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 -F "$T/max.conf" "$S"
	[[ "$stderr" == "xtcp-kafka: '$T/max.conf' line 2: Invalid value for configuration property "* ]]
}

# --- end to end -------------------------------------------------------------------

@test "a capture's rows arrive in order, one frame per message, batched by --rows" {
	mock_start -t t1
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 --rows 500 "$S"
	[[ "$stderr" == "xtcp-kafka: rows=2173 messages=5 bytes="*" delivered=2173 failed=0" ]]
	consume t1 0 "$T/p0"
	# 500-row messages and the rest, each a valid frame (protoc read every one)
	[ "$(cat "$T/p0.keys")" = "$(printf -- '- 500\n- 500\n- 500\n- 500\n- 173')" ]
	rows "$S" >"$T/sent.json"
	rows "$T/p0.pb" | diff "$T/sent.json" -
}

@test "rows in Envelope field 1 (ClickHouse's ProtobufList export) go out in field 10" {
	delimited retag "$S" 1 >"$T/field1.pb"
	mock_start -t t1
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 --rows 1000 "$T/field1.pb"
	[[ "$stderr" == "xtcp-kafka: rows=2173 messages=3 bytes="*" delivered=2173 failed=0" ]]
	# kafka-messages.py: each message one frame of field-10 rows only
	consume t1 0 "$T/p0"
	rows "$S" | diff - <(rows "$T/p0.pb")
	# and a frame of bytes without a row is refused, the input named
	delimited retag "$S" 7 >"$T/field7.pb"
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 "$T/field7.pb"
	[[ "$stderr" == "xtcp-kafka: '$T/field7.pb': frame 1 at byte 0: "*" bytes and no row: field 7"* ]]
}

@test "--bytes caps each message's size; a default run makes one message" {
	mock_start -t t1
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 --bytes 64KiB "$S"
	consume t1 0 "$T/p0"
	kcat -C -b "$BROKERS" -t t1 -e -q -f '%S\n' >"$T/sizes"
	[ "$(sort -n "$T/sizes" | tail -1)" -le $((65536 + 3)) ]
	[ "$(wc -l <"$T/sizes")" -ge 8 ]
	rows "$S" | diff - <(rows "$T/p0.pb")
	mock_start -t t2
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t2 "$S"
	[[ "$stderr" == *" messages=1 "* ]]
}

@test "54325 rows over 8 partitions: none missing, none doubled, in order per partition" {
	mock_start -t t8 -p 8
	# one message per --rows 1000 batch, each to a random partition
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t8 --rows 1000 \
		-X sticky.partitioning.linger.ms=0 "$BIG"
	[[ "$stderr" == "xtcp-kafka: rows=54325 messages=55 bytes="*" delivered=54325 failed=0" ]]
	local p parts=()
	for p in $(seq 0 7); do
		PROTOC_MAX=2 consume t8 "$p" "$T/p$p"
		rows "$T/p$p.pb" >"$T/p$p.json"
		parts+=("$T/p$p.json")
	done
	# the mock keeps a partition's first offsets while it holds under 5 MB
	[ "$(kcat -C -b "$BROKERS" -t t8 -o beginning -e -q -f '%o\n' | sort -n | head -1)" = 0 ]
	[ "$(cat "$T"/p*.keys | wc -l)" -eq 55 ]
	rows "$BIG" >"$T/sent.json"
	run -0 python3 "$TOP/tests/data/kafka-compare.py" "$T/sent.json" "${parts[@]}"
	[ "$output" = "rows=54325 partitions=8 ok" ]
}

@test "--key hostname: each message holds one host's rows and has its name as key" {
	mock_start -t tk -p 3
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t tk --key hostname "$HOSTS"
	# a, b, a, c: the key changes three times, so four messages
	[[ "$stderr" == "xtcp-kafka: rows=8692 messages=4 "* ]]
	local p parts=()
	for p in 0 1 2; do
		consume tk "$p" "$T/p$p"
		rows "$T/p$p.pb" >"$T/p$p.json"
		parts+=("$T/p$p.json")
		# every row of a partition has a hostname among that partition's keys
		[ -z "$(field hostname <"$T/p$p.json" | sort -u |
			comm -23 - <(cut -d' ' -f1 "$T/p$p.keys" | sort -u))" ]
	done
	[ "$(cat "$T"/p*.keys | sort)" = "$(printf 'host-a 2173\nhost-a 2173\nhost-b 2173\nhost-c 2173')" ]
	rows "$HOSTS" >"$T/sent.json"
	python3 "$TOP/tests/data/kafka-compare.py" "$T/sent.json" "${parts[@]}"
}

@test "no socket: nothing to send, exit 0; no frame at all (a failed writer): exit 1" {
	mock_start -t t1
	xtcp-filter "tcp_info_state == 99" "$S" >"$BATS_TEST_TMPDIR/none.pb"
	[ -s "$BATS_TEST_TMPDIR/none.pb" ]
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 "$BATS_TEST_TMPDIR/none.pb"
	[ "$stderr" = "xtcp-kafka: rows=0 messages=0 bytes=0 delivered=0 failed=0" ]
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 </dev/null
	[ "${stderr_lines[0]}" = "xtcp-kafka: standard input: not a single frame, as a failed xtcp-dump leaves; nothing sent" ]
	[ "${stderr_lines[1]}" = "xtcp-kafka: rows=0 messages=0 bytes=0 delivered=0 failed=0" ]
	run -1 --separate-stderr bash -c "xtcp-dump -n xtcp-no-such-ns | xtcp-kafka -q -b $BROKERS -t t1"
	[[ "$stderr" == *"not a single frame"* ]]
	run -0 --separate-stderr xtcp-kafka -q -b "$BROKERS" -t t1 "$S"
	[ -z "$stderr" ]
}

# --- faults -----------------------------------------------------------------------

# The --timeout tests bound the run at 15 s: far over the 3 s asked for (a
# loaded machine is slow), far under the 30 s default (not honoured).
@test "no broker listening: a clear error within the timeout, exit 1" {
	SECONDS=0
	run -1 --separate-stderr xtcp-kafka -b 127.0.0.1:1 -t t1 --timeout 3s "$S"
	[ "$SECONDS" -le 15 ]
	[[ "${stderr_lines[0]}" == "xtcp-kafka: 2173 of 2173 rows not delivered: Local: Message timed out"*"127.0.0.1:1"*"Connection refused"* ]]
	[[ "${stderr_lines[1]}" == *" delivered=0 failed=2173" ]]
}

@test "a missing or refused topic: the topic and the broker's error are named, exit 1" {
	# a broker without auto.create.topics.enable answers UNKNOWN_TOPIC_OR_PART (3)
	mock_start -T nope:3
	SECONDS=0
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t nope --timeout 3s "$S"
	[ "$SECONDS" -le 15 ]
	[ "${stderr_lines[0]}" = "xtcp-kafka: 2173 of 2173 rows not delivered: Local: Message timed out (topic 'nope' does not exist: broker error UNKNOWN_TOPIC_OR_PART)" ]
	[[ "${stderr_lines[1]}" == *" delivered=0 failed=2173" ]]
	# an ACL refusing it: TOPIC_AUTHORIZATION_FAILED (29)
	mock_start -T t2:29
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t2 --timeout 3s "$S"
	[ "${stderr_lines[0]}" = "xtcp-kafka: 2173 of 2173 rows not delivered: Local: Message timed out (topic 't2': broker error TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed)" ]
}

@test "broker down mid-stream and back within the timeout: every row delivered once" {
	local rc=0
	outage 10s
	cat "$S" >&5
	sleep 1.5       # the outage, well inside the timeout
	kill -USR2 "$MOCK_PID"
	cat "$S" >&5
	exec 5>&-
	wait "$KAFKA_PID" || rc=$?
	[ "$rc" -eq 0 ]
	[[ "$(cat "$T/err")" == *" delivered=6519 failed=0" ]]
	consume t1 0 "$T/p0"
	cat "$S" "$S" "$S" | rows /dev/stdin | diff - <(rows "$T/p0.pb")
}

@test "broker down mid-stream for longer than the timeout: rows counted failed, exit 1" {
	local rc=0
	outage 3s
	SECONDS=0
	cat "$S" >&5
	exec 5>&-
	wait "$KAFKA_PID" || rc=$?
	[ "$SECONDS" -le 15 ]
	[ "$rc" -eq 1 ]
	mapfile -t stderr_lines <"$T/err"
	[[ "${stderr_lines[0]}" == "xtcp-kafka: 2173 of 4346 rows not delivered: "*"Connection refused"* ]]
	[[ "${stderr_lines[1]}" == *" delivered=2173 failed=2173" ]]
}

@test "a row over librdkafka's message.max.bytes is reported, the others delivered" {
	mock_start -t t1
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 "$BIGROW"
	[ "${stderr_lines[0]}" = "xtcp-kafka: 1 of 3 rows not delivered: Broker: Message size too large" ]
	[[ "${stderr_lines[1]}" == "xtcp-kafka: rows=3 messages=3 "*" delivered=2 failed=1" ]]
	consume t1 0 "$T/p0"
	[ "$(cat "$T/p0.keys")" = "$(printf -- '- 1\n- 1')" ]
}

@test "a row over --bytes goes alone when the limit allows it" {
	mock_start -t t1
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 -X message.max.bytes=2000000 "$BIGROW"
	[[ "$stderr" == "xtcp-kafka: rows=3 messages=3 "*" delivered=3 failed=0" ]]
	PROTOC_MAX=0 consume t1 0 "$T/p0"
	rows "$BIGROW" | diff - <(rows "$T/p0.pb")
}

@test "the broker refusing a message as too large: reported, exit 1" {
	# error 10: MESSAGE_TOO_LARGE, what a broker with a smaller message.max.bytes answers
	mock_start -t t1 -e 10:1
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 --timeout 3s "$S"
	[ "${stderr_lines[0]}" = "xtcp-kafka: 2173 of 2173 rows not delivered: Broker: Message size too large" ]
}

@test "corrupt input: the rows before the bad frame are delivered, then an error" {
	mock_start -t t1
	{ cat "$S"; printf '\x05\x52\x09abc'; } >"$T/bad.pb"
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 "$T/bad.pb"
	[[ "${stderr_lines[0]}" == "xtcp-kafka: '$T/bad.pb': frame 4 at byte $(stat -c %s "$S"): "* ]]
	[[ "${stderr_lines[1]}" == "xtcp-kafka: rows=2173 messages=1 bytes="*" delivered=2173 failed=0" ]]
	consume t1 0 "$T/p0"
	rows "$S" | diff - <(rows "$T/p0.pb")
	# truncated inside a frame
	head -c 1000 "$S" >"$T/trunc.pb"
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 "$T/trunc.pb"
	[[ "${stderr_lines[0]}" == *"frame 1 at byte 0: input ends inside the frame"* ]]
}

@test "a row malformed after its key field: its frame goes nowhere, the row is named, exit 1" {
	mock_start -t t1
	# frame 4: rtt 9000, then field 3001 with its varint cut short (no hostname: key "")
	{ cat "$S"; printf '\x0a\x52\x08\xf0\x4c\xa8\x46\xc8\xbb\x01\x80'; } >"$T/bad.pb"
	run -1 --separate-stderr xtcp-kafka -b "$BROKERS" -t t1 --key hostname "$T/bad.pb"
	[ "${stderr_lines[0]}" = "xtcp-kafka: '$T/bad.pb': frame 4 at byte $(stat -c %s "$S"): row 1 is not a valid record" ]
	[[ "${stderr_lines[1]}" == "xtcp-kafka: rows=2173 messages=1 bytes="*" delivered=2173 failed=0" ]]
}

@test "SIGTERM: stop reading, deliver what was read, exit 0" {
	mock_start -t t1
	mkfifo "$T/in"
	xtcp-kafka -b "$BROKERS" -t t1 <"$T/in" 2>"$T/err" 3>&- &
	local pid=$! rc=0
	exec 5>"$T/in"
	cat "$S" >&5
	wait_until drained "$T/in"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	exec 5>&-
	[ "$rc" -eq 0 ]
	[[ "$(cat "$T/err")" == *" delivered=2173 failed=0 (interrupted)" ]]
	consume t1 0 "$T/p0"
	rows "$S" | diff - <(rows "$T/p0.pb")
}
