#!/usr/bin/env bats
# Into ClickHouse, on the real engine: the shipped DDL (clickhouse/*.sql,
# generated from the proto) and the three ways in -- the Kafka engine reading
# xtcp-kafka's messages, an INSERT ... FORMAT Protobuf body, file() over an
# `xtcp-fmt -f protobuf` file -- and back out (FORMAT Protobuf, ProtobufList),
# every column of every row against `xtcp-fmt -f json`.  The engine is
# ClickHouse itself, in-process: chdb's libchdb.so, which `make deps` fetches
# (tools/deps.sh), through tests/data/chdb.py.  Without it these tests fail;
# they are not skipped.

load helpers

SCHEMA="format_schema='xtcp_flat_record.proto:XtcpFlatRecord'"

setup_file() {
	local f
	# every capture with sockets (IPv4 and IPv6; the BBR, DCTCP and Vegas
	# ones; four kernels), one xtcp-dump -r run each: many frames
	for f in "$FIXTURES"/*/*.pcap; do
		xtcp-dump -r "$f"
	done >"$BATS_FILE_TMPDIR/caps.pb"
	xtcp-fmt --list-fields >"$BATS_FILE_TMPDIR/fields.tsv"
	# and three rows made by hand: every field at its largest (64-bit maxima,
	# strings that need escaping), every field small but set (int64 minimum,
	# 2^53 + 1), and the empty record (a row of zero bytes)
	python3 - "$BATS_FILE_TMPDIR/fields.tsv" >"$BATS_FILE_TMPDIR/extremes.json" <<'PY'
import json, sys
kinds = [line.split("\t")[:2] for line in open(sys.argv[1]) if line.strip()]
hi = {"uint32": 4294967295, "uint64": "18446744073709551615", "int64": "9223372036854775807",
      "string": "a \"quoted\" back\\slash\nnew line\ttab 'single' \u00e9 \U0001f600",
      "state": 4294967295, "family": 10, "address": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "enum": "CONGESTION_ALGORITHM_BBR3"}
lo = {"uint32": 1, "uint64": "9007199254740993", "int64": "-9223372036854775808", "string": "x",
      "state": "NEW_SYN_RECV", "family": 2, "address": "0.0.0.0",
      "enum": "CONGESTION_ALGORITHM_CUBIC"}
# each enum's largest value, and its smallest that is set
enums = {"record_kind": ("RECORD_KIND_CLOSE", "RECORD_KIND_CLOSE")}
for i, values in enumerate((hi, lo)):
    print(json.dumps({name: enums[name][i] if name in enums else values[kind]
                      for name, kind in kinds}, ensure_ascii=False))
print("{}")
PY
	xtcp-fmt --from json "$BATS_FILE_TMPDIR/extremes.json" >"$BATS_FILE_TMPDIR/extremes.pb"
	cat "$BATS_FILE_TMPDIR/caps.pb" "$BATS_FILE_TMPDIR/extremes.pb" >"$BATS_FILE_TMPDIR/s.pb"
	xtcp-fmt -f json "$BATS_FILE_TMPDIR/s.pb" >"$BATS_FILE_TMPDIR/s.json"
	xtcp-fmt -f protobuf "$BATS_FILE_TMPDIR/s.pb" >"$BATS_FILE_TMPDIR/s.bin"
}

setup() {
	S=$BATS_FILE_TMPDIR/s.pb
	SJSON=$BATS_FILE_TMPDIR/s.json
	SBIN=$BATS_FILE_TMPDIR/s.bin
	FIELDS=$BATS_FILE_TMPDIR/fields.tsv
	# every field of the spec table is a column compared
	NCOLS=$(($(wc -l <"$TOP/proto/record-fields.tsv") - 1))
	T=$BATS_TEST_TMPDIR
	DDL=$TOP/clickhouse
	CHDB_LIB=$("$TOP/tools/deps.sh" chdb)
	MOCK_PID=
}

teardown() {
	mock_stop
}

# chdb [chdb.py options] STEP...: run on the engine, a database of this test's own
chdb() {
	python3 "$TOP/tests/data/chdb.py" --lib "$CHDB_LIB" --db "$T/db" --schemas "$TOP/proto" "$@"
}

# compare TABLE ORACLE.json [options and STEPs]: every column of every row
compare() {
	python3 "$TOP/tests/data/clickhouse-compare.py" --lib "$CHDB_LIB" --db "$T/db" \
		--schemas "$TOP/proto" --fields "$FIELDS" "$@"
}

# the SQL as the README shows it, which these tests run
readme_has() {
	grep -qF -- "$1" "$TOP/README.md" || { echo "README lacks: $1"; return 1; }
}

@test "the engine is there: make deps installs it, and these tests do not skip without it" {
	[ -f "$CHDB_LIB" ] || { echo "no $CHDB_LIB: run 'make deps'"; false; }
	run -0 chdb "SELECT version()"
	[[ "$output" == 26.7.* ]]
	run -1 --separate-stderr python3 "$TOP/tests/data/chdb.py" --lib "$T/none.so" --db "$T/db" \
		--schemas "$TOP/proto" "SELECT 1"
	[[ "$stderr" == "chdb: cannot load the ClickHouse engine: "*"(make deps fetches it)" ]]
}

@test "the shipped DDL is what tools/gen-clickhouse.py makes of the proto today" {
	python3 "$TOP/tools/gen-clickhouse.py" "$TOP/proto/xtcp_flat_record.proto" "$T/ddl"
	diff -r "$DDL" "$T/ddl" || { echo "clickhouse/ is stale: run 'make clickhouse-ddl'"; false; }
	# and a field added to the proto is a difference, so a stale DDL fails the line above
	sed 's|^  string ulp_name = 3003;.*|&\n  uint64 new_counter = 3999;  // [bytes] a field added later|' \
		"$TOP/proto/xtcp_flat_record.proto" >"$T/grown.proto"
	python3 "$TOP/tools/gen-clickhouse.py" "$T/grown.proto" "$T/grown"
	run -1 diff -r "$DDL" "$T/grown"
	grep -q "^    new_counter  *UInt64 COMMENT 'a field added later \[bytes\]'$" "$T/grown/xtcp_sockets.sql"
	grep -q "^    new_counter  *UInt64$" "$T/grown/xtcp_queue.sql"
}

@test "the DDL has a column for every field of the spec table, and no other" {
	local sql
	for sql in xtcp_sockets xtcp_queue; do
		diff <(sed -n 's/^    \([a-z][a-z0-9_]*\) .*/\1/p' "$DDL/$sql.sql" | sort) \
			<(tail -n +2 "$TOP/proto/record-fields.tsv" | cut -f2 | sort)
	done
}

@test "the shipped DDL creates its tables in the engine, in the types ClickHouse gives the proto" {
	run -0 chdb "@$DDL/xtcp_sockets.sql" "@$DDL/xtcp_queue.sql" "@$DDL/xtcp_consumer.sql" \
		"SELECT name, engine, partition_key, sorting_key FROM system.tables
		 WHERE database = currentDatabase() ORDER BY name"
	[ "${lines[0]}" = "xtcp_consumer	MaterializedView		" ]
	[ "${lines[1]}" = "xtcp_queue	Kafka		" ]
	[ "${lines[2]}" = "xtcp_sockets	MergeTree	toDate(fromUnixTimestamp64Nano(timestamp_ns))	hostname, netns_inode, inet_diag_msg_socket_cookie, timestamp_ns" ]
	# the columns: what ClickHouse itself infers from the .proto for a Protobuf file
	chdb "DESCRIBE file('$SBIN', 'Protobuf') SETTINGS $SCHEMA" | cut -f1,2 >"$T/inferred"
	[ "$(wc -l <"$T/inferred")" -eq "$(wc -l <"$FIELDS")" ]
	diff <(chdb "DESCRIBE xtcp_sockets" | cut -f1,2) "$T/inferred"
	diff <(chdb "DESCRIBE xtcp_queue" | cut -f1,2) "$T/inferred"
	# every column of the table says what it is
	run -0 chdb "SELECT countIf(comment != ''), count() FROM system.columns
		WHERE database = currentDatabase() AND table = 'xtcp_sockets'"
	[ "$output" = "$(wc -l <"$FIELDS")	$(wc -l <"$FIELDS")" ]
	run -0 chdb "SELECT comment FROM system.columns WHERE table = 'xtcp_sockets' AND name = 'tcp_info_rtt'"
	[ "$output" = "smoothed round-trip time [us]" ]
	# the shipped files run again without error (IF NOT EXISTS)
	chdb "@$DDL/xtcp_sockets.sql" "@$DDL/xtcp_queue.sql" "@$DDL/xtcp_consumer.sql"
}

@test "Kafka: xtcp-kafka into the mock cluster, the Kafka engine, the shipped view: every row, every value" {
	# real captures, several thousand rows, and the extremes; under the mock's ~5 MiB a partition
	[ "$(wc -l <"$SJSON")" -gt 8000 ]
	[ "$(stat -c %s "$S")" -lt $((4 << 20)) ]
	mock_start -t xtcp
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t xtcp --rows 500 "$S"
	local rows
	rows=$(wc -l <"$SJSON")
	[[ "$stderr" == "xtcp-kafka: rows=$rows messages=$(((rows + 499) / 500)) bytes="*" failed=0" ]]
	# the shipped DDL, with this broker, and a short flush interval (default 7.5 s)
	run -0 compare --wait 120 \
		--replace "'localhost:9092'" "'$BROKERS'" \
		--replace "kafka_format = 'ProtobufList'," \
		"kafka_format = 'ProtobufList', kafka_flush_interval_ms = 500," \
		xtcp_sockets "$SJSON" "@$DDL/xtcp_sockets.sql" "@$DDL/xtcp_queue.sql" \
		"@$DDL/xtcp_consumer.sql"
	echo "$output"
	[[ "$output" == "$(wc -l <"$SJSON") rows, $NCOLS columns: "*" values equal" ]]
}

@test "file(): xtcp-fmt -f protobuf of a many-frame stream loads with every row and value" {
	local query="INSERT INTO xtcp_sockets SELECT * FROM file('sockets.bin', 'Protobuf') SETTINGS $SCHEMA"
	readme_has "$query"
	# many frames: the stream itself does not load as ProtobufList (one Envelope per input)
	run -0 --separate-stderr xtcp-show "$S"
	[[ "$stderr" =~ ^frames=([0-9]+)\  ]] && [ "${BASH_REMATCH[1]}" -gt 20 ]
	run -1 --separate-stderr timeout 60 python3 "$TOP/tests/data/chdb.py" --lib "$CHDB_LIB" \
		--db "$T/db" --schemas "$TOP/proto" "SELECT * FROM file('$S', 'ProtobufList') SETTINGS $SCHEMA"
	[[ "$stderr" == *"Unexpected end of ProtobufList message"* ]]
	# its rows as ClickHouse's Protobuf format do
	chdb "@$DDL/xtcp_sockets.sql"
	run -0 compare xtcp_sockets "$SJSON" "${query/sockets.bin/$SBIN}"
	echo "$output"
	[[ "$output" == "$(wc -l <"$SJSON") rows, $NCOLS columns: "*" values equal" ]]
}

@test "INSERT ... FORMAT Protobuf with xtcp-fmt -f protobuf as its body loads every row and value" {
	local query="INSERT INTO xtcp_sockets SETTINGS $SCHEMA FORMAT Protobuf"
	readme_has "$query"
	chdb "@$DDL/xtcp_sockets.sql"
	# the body is what clickhouse-client would send from its standard input
	xtcp-fmt -f protobuf "$S" | cmp - "$SBIN"
	chdb --data "$SBIN" "$query"
	run -0 compare xtcp_sockets "$SJSON"
	echo "$output"
	[[ "$output" == "$(wc -l <"$SJSON") rows, $NCOLS columns: "*" values equal" ]]
}

@test "out of ClickHouse: FORMAT Protobuf and ProtobufList read back through xtcp-fmt into the same rows" {
	chdb "@$DDL/xtcp_sockets.sql" "INSERT INTO xtcp_sockets SELECT * FROM file('$SBIN', 'Protobuf') SETTINGS $SCHEMA"
	readme_has "SELECT * FROM xtcp_sockets FORMAT Protobuf SETTINGS $SCHEMA"
	chdb -o "$T/out.bin" "SELECT * FROM xtcp_sockets FORMAT Protobuf SETTINGS $SCHEMA"
	diff <(xtcp-fmt --from protobuf "$T/out.bin" | xtcp-fmt -f json | sort) <(sort "$SJSON")
	readme_has "SELECT * FROM xtcp_sockets FORMAT ProtobufList SETTINGS $SCHEMA"
	chdb -o "$T/out.pbl" "SELECT * FROM xtcp_sockets FORMAT ProtobufList SETTINGS $SCHEMA"
	# one frame, its rows in Envelope field 1, whatever the schema says
	run -0 --separate-stderr xtcp-filter -c 'rtt >= 0' "$T/out.pbl"
	[ "$output" -eq "$(wc -l <"$SJSON")" ]
	[ "$(delimited fields "$T/out.pbl")" = 1 ]
	diff <(xtcp-fmt -f json "$T/out.pbl" | sort) <(sort "$SJSON")
	# and a stream again through the tools, which write field 10: protobuf-c's
	# Envelope (xtcp-show) sees every row
	xtcp-filter 'rtt >= 0' "$T/out.pbl" >"$T/f.pb"
	run -0 --separate-stderr xtcp-show "$T/f.pb"
	[ "$stderr" = "frames=1 rows=$(wc -l <"$SJSON")" ]
	run -0 --separate-stderr xtcp-show "$T/out.pbl"
	[ "$stderr" = "frames=1 rows=0" ]
}

@test "bad input: a ProtobufList file with an unknown envelope field is one clear error" {
	chdb "@$DDL/xtcp_sockets.sql" "INSERT INTO xtcp_sockets SELECT * FROM file('$SBIN', 'Protobuf') SETTINGS $SCHEMA"
	chdb -o "$T/out.pbl" "SELECT * FROM xtcp_sockets FORMAT ProtobufList SETTINGS $SCHEMA"
	# ClickHouse's export with its rows moved to an Envelope field the stream does not
	# know; and with an unknown field beside its rows, which is skipped
	delimited retag "$T/out.pbl" 9 >"$T/field9.pbl"
	delimited unknown "$T/out.pbl" >"$T/extra.pbl"
	run -1 --separate-stderr xtcp-fmt -f json "$T/field9.pbl"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" =~ ^xtcp-fmt:\ \'$T/field9.pbl\':\ frame\ 1\ at\ byte\ 0:\ [0-9]+\ bytes\ and\ no\ row:\ field\ 9\ \(length-delimited\)\ at\ frame\ byte\ 0\ is\ not\ a\ row\ of\ an\ Envelope\ \(field\ 10,\ or\ 1\)$ ]]
	diff <(xtcp-fmt -f json "$T/extra.pbl" | sort) <(sort "$SJSON")
}

@test "bad input: a truncated -f protobuf file keeps every row before the cut, and those load" {
	local at len kept=3000
	# 5 bytes into row 3001
	read -r at len < <(delimited row "$SBIN" 3001)
	head -c $((at + 5)) "$SBIN" >"$T/cut.bin"
	run -1 --separate-stderr bash -c "xtcp-fmt --from protobuf '$T/cut.bin' >'$T/cut.pb'"
	[ "$stderr" = "xtcp-fmt: '$T/cut.bin': row 3001 at byte $at: input ends inside the row (3 of $len bytes)" ]
	head -n "$kept" "$SJSON" >"$T/kept.json"
	diff <(xtcp-fmt -f json "$T/cut.pb") "$T/kept.json"
	chdb "@$DDL/xtcp_sockets.sql"
	xtcp-fmt -f protobuf "$T/cut.pb" >"$T/kept.bin"
	run -0 compare xtcp_sockets "$T/kept.json" \
		"INSERT INTO xtcp_sockets SELECT * FROM file('$T/kept.bin', 'Protobuf') SETTINGS $SCHEMA"
	echo "$output"
	[[ "$output" == "$kept rows, $NCOLS columns: "* ]]
}
