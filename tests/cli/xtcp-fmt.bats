#!/usr/bin/env bats
# xtcp-fmt: formats, field lists, round trips, independent parsers, ss, bad input.

load helpers

setup_file() {
	# short enough for the text view's NETNS column: the records name it
	export NS="xf-$$"
	netns_up "$NS"
	hold_start "$NS" 3 2
	echo "$HOLD_PID" >"$BATS_FILE_TMPDIR/hold.pid"
	# a live stream of the namespace, and a large realistic one from a capture
	ip netns exec "$NS" xtcp-dump --hostname 'host"1,x' >"$BATS_FILE_TMPDIR/live.pb"
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_100_sockets.pcap" >"$BATS_FILE_TMPDIR/cap.pb"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/hold.pid")" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

setup() {
	LIVE=$BATS_FILE_TMPDIR/live.pb
	CAP=$BATS_FILE_TMPDIR/cap.pb
	T=$BATS_TEST_TMPDIR
	JCHECK=$XTCP_BUILD/tests/t-json
}

# rows FILE: number of records in a stream, by the independent reader
rows() {
	xtcp-show "$1" 2>&1 >/dev/null | sed -n 's/^frames=[0-9]* rows=//p'
}

# --- options and defaults -----------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr xtcp-fmt --help
	[[ "$output" == usage:* ]]
	[[ "$output" == *"--from FMT       json"* ]]
	[[ "$output" == *"protobuf"* ]]
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run -0 xtcp-fmt --version
	[[ "$output" == "xtcp-fmt "* ]]
}

@test "--list-fields lists every schema field with its kind, unit, aliases and meaning" {
	run -0 xtcp-fmt --list-fields
	# one line per field of the spec table
	[ "${#lines[@]}" -eq "$(($(wc -l <"$TOP/proto/record-fields.tsv") - 1))" ]
	[ "${lines[0]}" = "schema_version	uint32	-	-	version of this record schema (1)" ]
	[[ "$output" == *$'\ninet_diag_msg_state\tstate\t-\tstate\t'* ]]
	[[ "$output" == *$'\ninet_diag_msg_socket_source\taddress\t-\tsrc\t'* ]]
	[[ "$output" == *$'\ncongestion_algorithm_enum\tenum\t'* ]]
	[[ "$output" == *$'\ntcp_info_rtt\tuint32\tus\trtt\tsmoothed round-trip time\n'* ]]
	# five columns on every line, a meaning on every line
	awk -F'\t' 'NF != 5 || $5 == "" { print "bad line " NR ": " $0; bad = 1 } END { exit bad }' <<<"$output"
	# the same names, in the same order, as the independent reader's
	xtcp-show "$LIVE" 2>/dev/null | head -1 | python3 -c '
import json, sys
print("\n".join(k for k in json.loads(sys.stdin.readline()) if k != "_unknown_fields"))' >"$T/show"
	cut -f1 <<<"$output" | diff - "$T/show"
}

@test "default format: json into a pipe, the table on a terminal" {
	run -0 bash -c "xtcp-fmt '$LIVE' | head -c 1"
	[ "$output" = "{" ]
	run -0 script -qec "xtcp-fmt '$LIVE'" /dev/null
	[[ "${lines[0]}" == STATE*LOCAL*PEER*"RTT(ms)"*CWND*RETRANS*SENT*RECV*CONG*NETNS* ]]
	[ "${#lines[@]}" -eq 13 ]
}

@test "-o is json by default, written atomically, no temporary file left" {
	mkdir "$T/out"
	run -0 xtcp-fmt -o "$T/out/s.json" "$LIVE"
	[ -z "$output" ]
	[ "$(ls -A "$T/out")" = "s.json" ]
	xtcp-fmt -f json "$LIVE" | cmp - "$T/out/s.json"
	run -0 xtcp-fmt -f csv -o "$T/out/s.csv" "$LIVE"
	[ "$(wc -l <"$T/out/s.csv")" -eq 13 ]
}

@test "-o into a missing directory: one line, exit 1" {
	run -1 --separate-stderr xtcp-fmt -o /nonexistent/dir/s.json "$LIVE"
	[ "$stderr" = "xtcp-fmt: cannot create '/nonexistent/dir/s.json': No such file or directory" ]
}

# --- JSON lines -----------------------------------------------------------------

@test "json: one object per record with every field, values equal xtcp-show's" {
	for pb in "$LIVE" "$CAP"; do
		xtcp-fmt -f json "$pb" >"$T/a.json"
		xtcp-show "$pb" >"$T/show.json" 2>/dev/null
		python3 - "$T/a.json" "$T/show.json" <<'PY'
import ipaddress, json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
show = [json.loads(l) for l in open(sys.argv[2])]
assert len(ours) == len(show) > 10, (len(ours), len(show))
states = ["UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"]
cong = ["CONGESTION_ALGORITHM_UNSPECIFIED", "CONGESTION_ALGORITHM_CUBIC",
        "CONGESTION_ALGORITHM_DCTCP", "CONGESTION_ALGORITHM_VEGAS", "CONGESTION_ALGORITHM_PRAGUE",
        "CONGESTION_ALGORITHM_BBR1", "CONGESTION_ALGORITHM_BBR2", "CONGESTION_ALGORITHM_BBR3"]
n = 0
for o, s in zip(ours, show):
    del s["_unknown_fields"]
    assert list(o) == list(s), "same keys in the same order"
    for k, v in s.items():
        w = o[k]
        if k in ("inet_diag_msg_state", "tcp_info_state"):
            v = states[v]
        elif k == "congestion_algorithm_enum":
            v = cong[v]
        elif k == "record_kind":
            v = ["RECORD_KIND_POLL", "RECORD_KIND_CLOSE"][v]
        elif k in ("inet_diag_msg_socket_source", "inet_diag_msg_socket_destination"):
            v, w = ipaddress.ip_address(v), ipaddress.ip_address(w)
        elif isinstance(v, int) and abs(v) > 2 ** 53:
            assert isinstance(w, str), (k, w)
            w = int(w)
        else:
            assert type(w) is type(v), (k, w, v)
        assert w == v, (k, w, v)
        n += 1
print(n, "values equal")
PY
	done
}

@test "json: jansson parses every line (live, capture, the 1000-socket capture)" {
	xtcp-fmt -f json "$LIVE" >"$T/live.json"
	xtcp-fmt -f json "$CAP" >"$T/cap.json"
	xtcp-dump -r "$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap" | xtcp-fmt -f json >"$T/big.json"
	run -0 "$JCHECK" --check "$T/live.json" "$T/cap.json" "$T/big.json"
	[[ "${lines[0]}" == *"live.json: 12 lines parse with jansson" ]]
	[[ "${lines[1]}" == *"cap.json: 1200 lines parse with jansson" ]]
}

@test "json: 64-bit values above 2^53 are strings, below are numbers" {
	run -0 bash -c "xtcp-fmt --fields inet_diag_msg_state,tcp_info_max_pacing_rate,tcp_info_snd_ssthresh '$CAP' | head -2"
	[ "${lines[0]}" = '{"inet_diag_msg_state":"LISTEN","tcp_info_max_pacing_rate":"18446744073709551615","tcp_info_snd_ssthresh":0}' ]
	[ "${lines[1]}" = '{"inet_diag_msg_state":"ESTABLISHED","tcp_info_max_pacing_rate":"18446744073709551615","tcp_info_snd_ssthresh":2147483647}' ]
	run -0 bash -c "xtcp-fmt --fields timestamp_ns '$CAP' | head -1"
	[[ "$output" =~ ^\{\"timestamp_ns\":\"1[0-9]{18}\"\}$ ]]
}

@test "json: --fields chooses and orders the keys" {
	run -0 bash -c "xtcp-fmt -f json --fields tcp_info_rtt,netns,inet_diag_msg_socket_source_port '$LIVE' | head -1"
	[[ "$output" =~ ^\{\"tcp_info_rtt\":[0-9]+,\"netns\":\"$NS\",\"inet_diag_msg_socket_source_port\":700[12]\}$ ]]
}

@test "json: states, congestion algorithm and addresses as names and text" {
	run -0 bash -c "xtcp-fmt --fields inet_diag_msg_family,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_destination,congestion_algorithm_string,congestion_algorithm_enum '$LIVE' | sort | uniq -c | sort -k2"
	[[ "$output" == *'{"inet_diag_msg_family":10,"inet_diag_msg_state":"LISTEN","inet_diag_msg_socket_source":"::1","inet_diag_msg_socket_destination":"::","congestion_algorithm_string":"'* ]]
	[[ "$output" == *'{"inet_diag_msg_family":2,"inet_diag_msg_state":"LISTEN","inet_diag_msg_socket_source":"127.0.0.1","inet_diag_msg_socket_destination":"0.0.0.0","congestion_algorithm_string":"'* ]]
	[[ "$output" == *'"congestion_algorithm_enum":"CONGESTION_ALGORITHM_'* ]]
	[[ "$output" == *' 6 {"inet_diag_msg_family":2,"inet_diag_msg_state":"ESTABLISHED","inet_diag_msg_socket_source":"127.0.0.1","inet_diag_msg_socket_destination":"127.0.0.1"'* ]]
}

# --- CSV, TSV, text ------------------------------------------------------------------

@test "csv: Python's csv reads the default columns with xtcp-show's values" {
	for pb in "$LIVE" "$CAP"; do
		xtcp-fmt -f csv "$pb" >"$T/a.csv"
		xtcp-show "$pb" >"$T/show.json" 2>/dev/null
		python3 - "$T/a.csv" "$T/show.json" <<'PY'
import csv, ipaddress, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
show = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(show)
assert list(rows[0])[:5] == ["timestamp_ns", "hostname", "netns", "inet_diag_msg_family",
                             "inet_diag_msg_state"], list(rows[0])
assert len(rows[0]) == 32
for r, s in zip(rows, show):
    for k, cell in r.items():
        v = s[k]
        if k == "inet_diag_msg_state":
            assert ["UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                    "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN"][v] == cell, (cell, v)
        elif k.startswith("inet_diag_msg_socket_") and not k.endswith("port"):
            assert ipaddress.ip_address(cell) == ipaddress.ip_address(v)
        else:
            assert cell == str(v), (k, cell, v)
print(len(rows), "rows equal")
PY
	done
	run -0 head -1 "$T/a.csv"
	[[ "$output" == "timestamp_ns,hostname,netns,inet_diag_msg_family,inet_diag_msg_state,"* ]]
}

@test "csv: a hostname with a quote and a comma is quoted (RFC 4180)" {
	run -0 bash -c "xtcp-fmt -f csv --fields hostname,netns --no-header '$LIVE' | head -1"
	[ "$output" = "\"host\"\"1,x\",$NS" ]
}

@test "csv --fields all: every field, in schema order" {
	xtcp-fmt -f csv --fields all "$CAP" >"$T/all.csv"
	local n=$(($(wc -l <"$TOP/proto/record-fields.tsv") - 1))
	run -0 python3 -c "
import csv, sys
rows = list(csv.reader(open('$T/all.csv', newline='')))
assert len(rows) == 1201 and all(len(r) == $n for r in rows), len(rows)
print(rows[0][0], rows[0][-1])"
	[ "$output" = "schema_version process_count" ]
}

@test "tsv: a header and tab-separated values" {
	run -0 xtcp-fmt -f tsv --fields netns,hostname,inet_diag_msg_socket_source_port,inet_diag_msg_state "$LIVE"
	[ "${lines[0]}" = 'netns	hostname	inet_diag_msg_socket_source_port	inet_diag_msg_state' ]
	[ "$(grep -c "^$NS	host\"1,x	7001	LISTEN\$" <<<"$output")" -eq 1 ]
	[ "$(grep -c "^$NS	host\"1,x	[0-9]*	ESTABLISHED\$" <<<"$output")" -eq 10 ]
}

@test "--no-header drops the header of csv, tsv and text, not of json" {
	[ "$(xtcp-fmt -f csv --no-header "$LIVE" | wc -l)" -eq 12 ]
	[ "$(xtcp-fmt -f tsv --no-header "$LIVE" | wc -l)" -eq 12 ]
	[ "$(xtcp-fmt -f text --no-header "$LIVE" | wc -l)" -eq 12 ]
	[ "$(xtcp-fmt -f json --no-header "$LIVE" | wc -l)" -eq 12 ]
	[ "$(xtcp-fmt -f csv "$LIVE" | wc -l)" -eq 13 ]
}

@test "text: a header and one aligned line per socket" {
	run -0 xtcp-fmt -f text "$LIVE"
	[ "${#lines[@]}" -eq 13 ]
	[ "${lines[0]}" = "STATE          LOCAL                                           PEER                                              RTT(ms)   CWND RETRANS   SENT   RECV CONG            OWNER                    NETNS" ]
	local l
	l=$(grep '127.0.0.1:7001 *0.0.0.0:\*' <<<"$output")
	[[ "$l" =~ ^LISTEN\ +127\.0\.0\.1:7001\ +0\.0\.0\.0:\*\ +-\ +[0-9]+\ +0\ +0\ +0\ [a-z]+\ +-\ +$NS$ ]]
	l=$(grep '\[::1\]:7002 *\[::\]:\*' <<<"$output")
	[[ "$l" =~ ^LISTEN\ +\[::1\]:7002 ]]
	# bytes in readable units
	[[ "$output" == *" 100 "* ]]
	# columns line up, by the header (IPv4 and IPv6 rows alike)
	run -0 python3 "$TOP/tests/data/text-columns.py" --right 'RTT(ms),CWND,RETRANS,SENT,RECV' <<<"$output"
	[ "$output" = "12 lines, 11 columns aligned" ]
}

@test "text --fields: the chosen columns" {
	run -0 bash -c "xtcp-fmt -f text --no-header --fields netns,inet_diag_msg_socket_source_port,inet_diag_msg_state '$LIVE' | sort -u | head -2"
	[ "${lines[0]}" = "$(printf '%-45s%s' "$NS" '7001 ESTABLISHED')" ]
}

@test "text: columns stay in place for every family, address, name length and value, across frames" {
	# IPv4 and full-length IPv6 (and mapped, and wildcard) endpoints, the longest
	# state, unnamed states, every number at its maximum, names long and short,
	# UTF-8; then the same records again as a second frame
	cat >"$T/mix.json" <<'EOF'
{"netns":"default","inet_diag_msg_family":"AF_INET","inet_diag_msg_state":"ESTABLISHED","inet_diag_msg_socket_source":"255.255.255.255","inet_diag_msg_socket_source_port":65535,"inet_diag_msg_socket_destination":"10.0.0.2","inet_diag_msg_socket_destination_port":443,"tcp_info_rtt":1234,"tcp_info_snd_cwnd":10,"tcp_info_bytes_sent":1234567,"tcp_info_bytes_received":999,"congestion_algorithm_string":"cubic"}
{"netns":"cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d-and-a-much-longer-name-after-it","inet_diag_msg_family":"AF_INET6","inet_diag_msg_state":"BOUND_INACTIVE","inet_diag_msg_socket_source":"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff","inet_diag_msg_socket_source_port":65535,"inet_diag_msg_socket_destination":"fe80:1234:5678:9abc:def0:1234:5678:9abc","inet_diag_msg_socket_destination_port":65535,"tcp_info_rtt":4294967295,"tcp_info_snd_cwnd":4294967295,"tcp_info_total_retrans":4294967295,"tcp_info_bytes_sent":"18446744073709551615","tcp_info_bytes_received":"18446744073709551615","congestion_algorithm_string":"a-rather-long-congestion-control-name"}
{"inet_diag_msg_family":"AF_INET6","inet_diag_msg_state":"LISTEN","inet_diag_msg_socket_source":"::","inet_diag_msg_socket_destination":"::"}
{"netns":"café-ns","inet_diag_msg_family":"AF_INET6","inet_diag_msg_state":4294967295,"inet_diag_msg_socket_source":"::ffff:192.0.2.1","inet_diag_msg_socket_source_port":443,"inet_diag_msg_socket_destination":"2001:db8::1","inet_diag_msg_socket_destination_port":4294967295,"tcp_info_rtt":99999999,"tcp_info_snd_cwnd":999999,"tcp_info_total_retrans":10000000,"tcp_info_rto":1,"congestion_algorithm_string":"bbr"}
{"netns":"x","inet_diag_msg_family":"AF_INET6","inet_diag_msg_state":"ESTABLISHED","inet_diag_msg_socket_source":"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff","inet_diag_msg_socket_source_port":4294967295,"inet_diag_msg_socket_destination":"0x00","tcp_info_rtt":100000000,"tcp_info_snd_mss":1448,"congestion_algorithm_string":"reno"}
EOF
	xtcp-fmt --from json "$T/mix.json" >"$T/one.pb"
	cat "$T/one.pb" "$T/one.pb" >"$T/mix.pb"
	run -0 xtcp-fmt -f text "$T/mix.pb"
	[ "${#lines[@]}" -eq 11 ]
	[[ "$output" == *"cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d-and-a-much-longer-name-after-it"* ]]
	[[ "$output" == *" a-rather-long-… "* ]]
	run -0 python3 "$TOP/tests/data/text-columns.py" --right 'RTT(ms),CWND,RETRANS,SENT,RECV' <<<"$output"
	[ "$output" = "10 lines, 11 columns aligned" ]
	# with --fields: every column but the last as wide as any value of its kind
	run -0 xtcp-fmt -f text --fields netns,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_source_port,tcp_info_rtt,tcp_info_bytes_sent,congestion_algorithm_enum,congestion_algorithm_string "$T/mix.pb"
	[[ "$output" == *"cni-a13c77d2-0b… "* ]]
	[[ "$output" == *" a-rather-long-congestion-control-name"* ]]
	run -0 python3 "$TOP/tests/data/text-columns.py" --right inet_diag_msg_socket_source_port,tcp_info_rtt,tcp_info_bytes_sent <<<"$output"
	[ "$output" = "10 lines, 8 columns aligned" ]
}

# --- round trips ------------------------------------------------------------------------

@test "round trip: dump | fmt -f json | fmt --from json | fmt -f json gives identical text" {
	run -0 bash -c "set -o pipefail; ip netns exec $NS xtcp-dump >'$T/s.pb' &&
		xtcp-fmt -f json '$T/s.pb' | tee '$T/1.json' | xtcp-fmt --from json | tee '$T/rt.pb' |
		xtcp-fmt -f json >'$T/2.json'"
	[ "$(wc -l <"$T/1.json")" -eq 12 ]
	cmp "$T/1.json" "$T/2.json"
	# the stream after the round trip decodes (protobuf-c) equal to the original
	xtcp-show "$T/s.pb" >"$T/a" 2>/dev/null
	xtcp-show "$T/rt.pb" >"$T/b" 2>/dev/null
	cmp "$T/a" "$T/b"
}

@test "round trip of 1200 captured records: same text, same records" {
	xtcp-fmt -f json "$CAP" >"$T/1.json"
	xtcp-fmt --from json "$T/1.json" >"$T/rt.pb"
	xtcp-fmt -f json "$T/rt.pb" >"$T/2.json"
	cmp "$T/1.json" "$T/2.json"
	[ "$(rows "$T/rt.pb")" -eq 1200 ]
	xtcp-show "$CAP" >"$T/a" 2>/dev/null
	xtcp-show "$T/rt.pb" >"$T/b" 2>/dev/null
	cmp "$T/a" "$T/b"
}

@test "--from json reads hand-written lines: names, numbers as strings, blank lines" {
	printf '%s\n' '{"inet_diag_msg_family":"AF_INET6","inet_diag_msg_state":"established","inet_diag_msg_socket_source":"2001:DB8::1","tcp_info_bytes_acked":"18446744073709551615","congestion_algorithm_enum":"bbr1"}' \
		'' '   ' '{"netns":"ns-2","tcp_info_rtt":1500}' >"$T/in.json"
	xtcp-fmt --from json "$T/in.json" >"$T/s.pb"
	run -0 xtcp-fmt -f json --fields netns,inet_diag_msg_family,inet_diag_msg_state,inet_diag_msg_socket_source,tcp_info_bytes_acked,tcp_info_rtt,congestion_algorithm_enum "$T/s.pb"
	[ "${lines[0]}" = '{"netns":"","inet_diag_msg_family":10,"inet_diag_msg_state":"ESTABLISHED","inet_diag_msg_socket_source":"2001:db8::1","tcp_info_bytes_acked":"18446744073709551615","tcp_info_rtt":0,"congestion_algorithm_enum":"CONGESTION_ALGORITHM_BBR1"}' ]
	[ "${lines[1]}" = '{"netns":"ns-2","inet_diag_msg_family":0,"inet_diag_msg_state":"UNKNOWN","inet_diag_msg_socket_source":"","tcp_info_bytes_acked":0,"tcp_info_rtt":1500,"congestion_algorithm_enum":"CONGESTION_ALGORITHM_UNSPECIFIED"}' ]
}

@test "several inputs and - are read in order" {
	run -0 bash -c "xtcp-fmt -f csv --no-header '$LIVE' - '$LIVE' <'$LIVE' | wc -l"
	[ "$output" -eq 36 ]
	run -0 bash -c "xtcp-fmt -f json '$LIVE' | xtcp-fmt --from json - | xtcp-fmt -f json | wc -l"
	[ "$output" -eq 12 ]
}

@test "empty input: json writes nothing, csv only its header" {
	run -0 xtcp-fmt -f json </dev/null
	[ -z "$output" ]
	run -0 xtcp-fmt -f csv --fields netns,tcp_info_rtt </dev/null
	[ "$output" = "netns,tcp_info_rtt" ]
	run -0 bash -c "xtcp-fmt --from json </dev/null | wc -c"
	[ "$output" -eq 0 ]
}

# --- independent parsers and oracles ---------------------------------------------------------

@test "adversarial strings: Python's json and csv read the values back, jansson parses" {
	run -0 python3 "$TOP/tests/data/fmt-adversarial.py" "$T"
	[[ "$output" == *" records, "*" values equal in json, csv and tsv" ]]
	run -0 "$JCHECK" --check "$T/adv.json"
}

@test "adversarial metadata from xtcp-dump: quotes, newlines, control bytes, invalid UTF-8" {
	local host=$'h"o,s\\t\n\r\x01\x1b[0m\xff\xc3(' label=$'caf\xc3\xa9 \xe2\x82 \xf0\x9f\x98\x80'
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_10_sockets.pcap" --hostname "$host" --label "$label" \
		--tag ',' --location '"' >"$T/s.pb"
	xtcp-fmt -f json "$T/s.pb" >"$T/a.json"
	xtcp-fmt -f csv --fields hostname,label,tag,location "$T/s.pb" >"$T/a.csv"
	"$JCHECK" --check "$T/a.json"
	HOST=$host LABEL=$label python3 - "$T/a.json" "$T/a.csv" <<'PY'
import csv, json, os, sys
host = os.environb[b"HOST"].decode("utf-8", "replace")
label = os.environb[b"LABEL"].decode("utf-8", "replace")
assert "\ufffd" in host and "\ufffd" in label
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert rows and all(r["hostname"] == host and r["label"] == label for r in rows)
assert all(r["tag"] == "," and r["location"] == '"' for r in rows)
c = list(csv.reader(open(sys.argv[2], newline="", encoding="utf-8")))
assert c[0] == ["hostname", "label", "tag", "location"]
assert all(r == [host, label, ",", '"'] for r in c[1:]) and len(c) == len(rows) + 1
print(len(rows))
PY
	# text stays one line per socket (and one before each poll after the first)
	local polls
	polls=$(xtcp-fmt -f tsv --no-header --fields poll_sequence,timestamp_ns "$T/s.pb" | uniq | wc -l)
	[ "$(xtcp-fmt -f text --fields hostname,label "$T/s.pb" | wc -l)" -eq \
	  "$(($(wc -l <"$T/a.json") + 1 + polls - 1))" ]
}

@test "values equal ss's for the same sockets (captures), through the JSON output" {
	local pair pcap ss
	for pair in 6_6_44/tcp_100_sockets.pcap:6_6_44/ss_tcp_info_a_100 \
		6_6_44/tcp_100_sockets_bbr.pcap:6_6_44/ss_tcp_info_a_100_bbr \
		6_6_44/tcp_100_sockets_dctcp.pcap:6_6_44/ss_tcp_info_a_100_dctcp \
		5_15_164/5_15_164_tcp_1000_sockets.pcap:5_15_164/5_15_164_ss_tcp_info_a_1000 \
		4_19_319/4_19_319_tcp_100_sockets.pcap:4_19_319/4_19_319_ss_tcp_info_a_100; do
		pcap=${pair%%:*} ss=${pair##*:}
		xtcp-dump -r "$FIXTURES/$pcap" | xtcp-fmt -f json >"$T/a.json"
		run -0 python3 "$TOP/tests/data/fmt-ss-compare.py" "$T/a.json" "$FIXTURES/$ss"
		[[ "$output" =~ ^[0-9]+\ sockets,\ [0-9]+\ values\ equal$ ]]
	done
}

@test "values equal ss's for the same sockets (live namespace), through the JSON output" {
	ip netns exec "$NS" ss -tinema 2>/dev/null >"$T/ss.txt"
	ip netns exec "$NS" xtcp-dump | xtcp-fmt -f json >"$T/a.json"
	run -0 python3 "$TOP/tests/data/fmt-ss-compare.py" --live "$T/a.json" "$T/ss.txt"
	[[ "$output" =~ ^12\ sockets,\ [0-9]+\ values\ equal$ ]]
}

@test "the man page's examples run" {
	run -0 bash -c "ip netns exec $NS xtcp-dump | xtcp-fmt -f text | head -1"
	[[ "$output" == STATE* ]]
	run -0 bash -c "ip netns exec $NS xtcp-dump | xtcp-fmt -f tsv --fields netns,inet_diag_msg_state,tcp_info_rtt | sort -u | head -2"
	local l
	l=$(grep -v '^netns	' <<<"$output" | head -1)
	[ "$(cut -f1,2 <<<"$l")" = "$NS	ESTABLISHED" ]
	[[ "$(cut -f3 <<<"$l")" =~ ^[0-9]+$ ]]
	# the cron line, into this test's directory (% is special only in crontab)
	run -0 bash -c "ip netns exec $NS xtcp-dump --states established | xtcp-fmt -f csv -o '$T/sockets-\$(date +%Y%m%d-%H%M).csv'"
	[ "$(cat "$T"/sockets-*.csv | wc -l)" -eq 11 ]
	run -0 bash -c "cd '$T' && echo '{\"inet_diag_msg_state\":\"LISTEN\",\"tcp_info_rtt\":1500}' | xtcp-fmt --from json > test.pb"
	run -0 xtcp-fmt -f csv --no-header --fields inet_diag_msg_state,tcp_info_rtt "$T/test.pb"
	[ "$output" = "LISTEN,1500" ]
	command -v jq >/dev/null || skip "no jq"
	run -0 bash -c "ip netns exec $NS xtcp-dump | xtcp-fmt -f json |
  jq -c 'select(.inet_diag_msg_state == \"ESTABLISHED\") | {netns,
    local: \"\\(.inet_diag_msg_socket_source):\\(.inet_diag_msg_socket_source_port)\",
    rtt_ms: (.tcp_info_rtt / 1000)}' | head -1"
	[[ "$output" =~ ^\{\"netns\":\"$NS\",\"local\":\"(127\.0\.0\.1|::1):[0-9]+\",\"rtt_ms\":[0-9.e-]+\}$ ]]
	run -0 bash -c "ip netns exec $NS xtcp-dump | xtcp-fmt -f json --fields tcp_info_bytes_acked |
  jq -s 'map(.tcp_info_bytes_acked | tonumber) | add'"
	[ "$output" -gt 0 ]
	# a value above 2^53 reaches jq exact, as a string
	run -0 bash -c "xtcp-fmt -f json '$CAP' | jq -r .tcp_info_max_pacing_rate | head -1"
	[ "$output" = "18446744073709551615" ]
}

# --- ClickHouse's Protobuf format ---------------------------------------------------------

@test "-f protobuf: uvarint(len) || record per row, the bytes of the stream's rows" {
	xtcp-fmt -f protobuf "$CAP" >"$T/s.bin"
	# the rows of the stream's envelopes, one after the other
	delimited rows "$CAP" | cmp - "$T/s.bin"
	run -0 delimited count "$T/s.bin"
	[ "${output% *}" -eq "$(rows "$CAP")" ]
	# the first row is an XtcpFlatRecord to protoc
	delimited body "$T/s.bin" 1 >"$T/row1"
	run -0 protoc --decode=xtcp_flat_record.v1.XtcpFlatRecord -I"$TOP/proto" \
		"$TOP/proto/xtcp_flat_record.proto" <"$T/row1"
	[[ "$output" == *"inet_diag_msg_socket_source_port: "* ]]
	# -o is atomic as for every format
	xtcp-fmt -f protobuf -o "$T/o.bin" "$CAP"
	cmp "$T/s.bin" "$T/o.bin"
	[ -z "$(ls -A "$T" | grep '^\.o\.bin\.')" ]
}

@test "--from protobuf reads -f protobuf back into the same records, framed as xtcp-dump frames" {
	xtcp-fmt -f protobuf "$CAP" >"$T/s.bin"
	xtcp-fmt --from protobuf "$T/s.bin" >"$T/rt.pb"
	diff <(xtcp-fmt -f json "$CAP") <(xtcp-fmt -f json "$T/rt.pb")
	diff <(xtcp-show "$CAP" 2>/dev/null) <(xtcp-show "$T/rt.pb" 2>/dev/null)
	# at most 1000 rows a frame
	run -0 --separate-stderr xtcp-show "$T/rt.pb"
	[[ "$stderr" == "frames=2 rows=$(rows "$CAP")" ]]
	# and round and round: the same bytes
	xtcp-fmt -f protobuf "$T/rt.pb" | cmp - "$T/s.bin"
	# from a pipe, and an empty input is an empty stream
	run -0 bash -c "xtcp-fmt --from protobuf <'$T/s.bin' | xtcp-fmt -f protobuf | cmp - '$T/s.bin'"
	run -0 bash -c "xtcp-fmt --from protobuf </dev/null | wc -c"
	[ "$output" -eq 0 ]
}

@test "--from protobuf: a cut keeps every row before it and names the row and byte" {
	xtcp-fmt -f protobuf "$CAP" >"$T/s.bin"
	# cut 3 bytes into row 601: where does it start, how long is it?
	local at len
	read -r at len < <(delimited row "$T/s.bin" 601)
	head -c $((at + 3)) "$T/s.bin" >"$T/cut.bin"
	run -1 --separate-stderr bash -c "xtcp-fmt --from protobuf '$T/cut.bin' >'$T/cut.pb'"
	[ "$stderr" = "xtcp-fmt: '$T/cut.bin': row 601 at byte $at: input ends inside the row ($((3 - 2)) of $len bytes)" ]
	# every row before the cut is there, exact
	[ "$(rows "$T/cut.pb")" -eq 600 ]
	diff <(xtcp-fmt -f json "$CAP" | head -600) <(xtcp-fmt -f json "$T/cut.pb")
	[ "$(xtcp-fmt -f protobuf "$T/cut.pb" | wc -c)" -eq "$at" ]
}

@test "--from protobuf refuses what is not rows of records, naming the row" {
	run -1 --separate-stderr xtcp-fmt --from protobuf "$CAP"
	[ "$stderr" = "xtcp-fmt: '$CAP': row 1 at byte 0: not a valid record (a stream of frames? read it without --from)" ]
	printf '\x02\x00\x01' >"$T/zero.bin"
	run -1 --separate-stderr xtcp-fmt --from protobuf "$T/zero.bin"
	[ "$stderr" = "xtcp-fmt: '$T/zero.bin': row 1 at byte 0: malformed record at row byte 0" ]
	# and rows read as a stream are an error, not an empty result
	xtcp-fmt -f protobuf "$CAP" >"$T/s.bin"
	run -1 --separate-stderr xtcp-fmt -f json "$T/s.bin"
	[ -z "$output" ]
	[[ "$stderr" == "xtcp-fmt: '$T/s.bin': frame 1 at byte 0: "*" bytes and no row: field 1 (a varint) at frame byte 0 is not a row of an Envelope (field 10, or 1)" ]]
}

@test "rows in Envelope field 1 (ClickHouse's ProtobufList) read as rows; an unknown field alone is an error" {
	# the stream's envelopes with their rows (field 10) moved to field 1 or field 7
	delimited retag "$CAP" 1 >"$T/field1.pb"
	delimited retag "$CAP" 7 >"$T/field7.pb"
	[ "$(delimited fields "$T/field1.pb")" = 1 ]
	diff <(xtcp-fmt -f json "$CAP") <(xtcp-fmt -f json "$T/field1.pb")
	# xtcp-filter takes them too, and writes them in field 10
	xtcp-filter 'rtt >= 0' "$T/field1.pb" | cmp - "$CAP"
	run -1 --separate-stderr xtcp-fmt -f json "$T/field7.pb"
	[ -z "$output" ]
	[[ "$stderr" =~ ^xtcp-fmt:\ \'$T/field7.pb\':\ frame\ 1\ at\ byte\ 0:\ [0-9]+\ bytes\ and\ no\ row:\ field\ 7\ \(length-delimited\)\ at\ frame\ byte\ 0\ is\ not\ a\ row\ of\ an\ Envelope\ \(field\ 10,\ or\ 1\)$ ]]
	run -1 --separate-stderr xtcp-filter 'rtt >= 0' "$T/field7.pb"
	[[ "$stderr" == *"frame 1 at byte 0: "*" bytes and no row: field 7"* ]]
	# an empty frame is still an envelope of no rows
	printf '\x00' >"$T/empty.pb"
	run -0 xtcp-fmt -f json "$T/empty.pb"
	[ -z "$output" ]
}

# --- bad input ------------------------------------------------------------------------------

@test "garbage on stdin: one line naming frame and byte, exit 1" {
	run -1 --separate-stderr bash -c "printf 'hello world\n' | xtcp-fmt -f json"
	[ "$stderr" = "xtcp-fmt: standard input: frame 1 at byte 0: input ends inside the frame (11 of 104 bytes)" ]
	[ -z "$output" ]
	head -c 5000 /dev/urandom >"$T/r.bin"
	run -1 --separate-stderr xtcp-fmt -f json "$T/r.bin"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-fmt: '$T/r.bin': frame "*" at byte "*": "* ]]
}

@test "a truncated stream: every complete frame is written, then one error line" {
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_100_sockets.pcap" --rows 100 >"$T/s.pb"
	# the end of frame 2, plus a few bytes of frame 3
	local cut
	cut=$(python3 -c "
data = open('$T/s.pb', 'rb').read()
off = 0
for _ in range(2):
    n = shift = 0
    while True:
        b = data[off]; off += 1
        n |= (b & 0x7f) << shift; shift += 7
        if b < 0x80: break
    off += n
print(off)")
	head -c $((cut + 20)) "$T/s.pb" >"$T/t.pb"
	run -1 --separate-stderr xtcp-fmt -f csv --no-header "$T/t.pb"
	[ "${#lines[@]}" -eq 200 ]
	[[ "$stderr" == "xtcp-fmt: '$T/t.pb': frame 3 at byte $cut: input ends inside the frame (1"*" of "*" bytes)" ]]
	# -o commits only a run that succeeded: the file is not made
	run -1 --separate-stderr xtcp-fmt -f json -o "$T/o.json" "$T/t.pb"
	[ ! -e "$T/o.json" ]
}

@test "a row that is not a record: the rows before it, then frame, byte and row" {
	# frame 1: one good row; frame 2: a good row, then a row cut inside a varint
	python3 -c "
import sys
def frame(rows):
    env = b''.join(b'\x52' + bytes([len(r)]) + r for r in rows)
    return bytes([len(env)]) + env
good = b'\x08\x01' + b'\xf2\x01\x02ns'            # schema_version 1, netns 'ns'
sys.stdout.buffer.write(frame([good]) + frame([good, b'\x08\xff']))" >"$T/s.pb"
	run -1 --separate-stderr xtcp-fmt -f csv --no-header --fields netns "$T/s.pb"
	[ "$output" = $'ns\nns' ]
	[ "$stderr" = "xtcp-fmt: '$T/s.pb': frame 2 at byte 10: row 2 is not a valid record" ]
	# -f protobuf, which copies rows without decoding them, checks each whole first;
	# here the bad row is good up to a last field (3001) whose varint is cut short
	python3 -c "
import sys
data = open('$T/s.pb', 'rb').read()
bad = b'\x08\x01\xf2\x01\x02ns\xc8\xbb\x01\x80'
env = data[11:-4] + b'\x52' + bytes([len(bad)]) + bad
sys.stdout.buffer.write(data[:10] + bytes([len(env)]) + env)" >"$T/tail.pb"
	run -1 --separate-stderr bash -c "xtcp-fmt -f protobuf '$T/tail.pb' >'$T/out.bin'"
	[ "$stderr" = "xtcp-fmt: '$T/tail.pb': frame 2 at byte 10: row 2 is not a valid record" ]
	run -0 bash -c "xtcp-fmt --from protobuf '$T/out.bin' | xtcp-fmt -f csv --no-header --fields netns"
	[ "$output" = $'ns\nns' ]
}

@test "JSON given as a stream: the error suggests --from json" {
	xtcp-fmt -f json "$LIVE" >"$T/a.json"
	run -1 --separate-stderr xtcp-fmt "$T/a.json"
	[[ "$stderr" == "xtcp-fmt: '$T/a.json': frame 1 at byte 0: "*" (JSON lines? read them with --from json)" ]]
}

@test "malformed JSON lines: the line number, records before it written, exit 1" {
	xtcp-fmt -f json "$LIVE" | head -3 >"$T/a.json"
	printf '{"tcp_info_rtt":12,}\n{"tcp_info_rtt":13}\n' >>"$T/a.json"
	run -1 --separate-stderr bash -c "xtcp-fmt --from json '$T/a.json' >'$T/s.pb'"
	[ "$stderr" = "xtcp-fmt: '$T/a.json': line 4: column 20: string or '}' expected near '}'" ] ||
		[ "$stderr" = "xtcp-fmt: '$T/a.json': line 4: column 20: string expected near '}'" ]
	[ "$(rows "$T/s.pb")" -eq 3 ]
}

@test "bad JSON values: exact messages with line numbers" {
	local -a cases=(
		'{"rtt":1}|line 1: unknown field '"'"'rtt'"'"' (did you mean '"'"'tcp_info_rtt'"'"'?)'
		'{"tcp_info_rtt":-1}|line 1: field '"'"'tcp_info_rtt'"'"': want an integer from 0 to 4294967295, got -1'
		'{"tcp_info_bytes_acked":18446744073709551615}|line 1: column 44: too big integer near '"'"'18446744073709551615'"'"''
		'{"inet_diag_msg_state":"ESTAB"}|line 1: field '"'"'inet_diag_msg_state'"'"': unknown TCP state '"'"'ESTAB'"'"''
		'[]|line 1: want a JSON object, got an array'
		'{"netns":"a","netns":"b"}|line 1: column 20: duplicate object key near '"'"'"netns"'"'"''
	)
	local c
	for c in "${cases[@]}"; do
		printf '\n%s\n' "${c%%|*}" >"$T/in.json"
		run -1 --separate-stderr bash -c "xtcp-fmt --from json <'$T/in.json' >/dev/null"
		local want=${c#*|}
		[ "$stderr" = "xtcp-fmt: standard input: line 2: ${want#line 1: }" ] || {
			echo "got:  $stderr"
			echo "want: xtcp-fmt: standard input: line 2: ${want#line 1: }"
			return 1
		}
	done
}

@test "--fields with an unknown name: exit 2 with a suggestion" {
	run -2 --separate-stderr xtcp-fmt --fields netns,rtt "$LIVE"
	[ "$stderr" = "xtcp-fmt: unknown field 'rtt' in --fields; did you mean 'tcp_info_rtt'? (see 'xtcp-fmt --list-fields')" ]
	[ -z "$output" ]
	run -2 --separate-stderr xtcp-fmt -f csv --fields hostnmae "$LIVE"
	[ "$stderr" = "xtcp-fmt: unknown field 'hostnmae' in --fields; did you mean 'hostname'? (see 'xtcp-fmt --list-fields')" ]
	run -2 --separate-stderr xtcp-fmt --fields zzzzzzzzzz "$LIVE"
	[ "$stderr" = "xtcp-fmt: unknown field 'zzzzzzzzzz' in --fields (see 'xtcp-fmt --list-fields')" ]
}

@test "bad options are usage errors (exit 2, one line)" {
	local args
	for args in "-f yaml" "--fields netns,netns" "--fields netns," "--from csv" \
		"--from json -f csv" "--from json --fields netns" "--from json --no-header" \
		"--from protobuf -f json" "-f protobuf --fields netns" "-f protobuf --no-header" \
		"--nope" "-f"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr xtcp-fmt $args "$LIVE"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == xtcp-fmt:* ]]
		[ -z "$output" ]
	done
	run -2 --separate-stderr xtcp-fmt -f yaml
	[ "$stderr" = "xtcp-fmt: invalid format 'yaml': want json, csv, tsv, text or protobuf (see 'xtcp-fmt --help')" ]
	run -2 --separate-stderr xtcp-fmt --fields netns,netns
	[ "$stderr" = "xtcp-fmt: field 'netns' is listed twice in --fields (see 'xtcp-fmt --help')" ]
	run -2 --separate-stderr xtcp-fmt --from json -f csv
	[ "$stderr" = "xtcp-fmt: --from json writes a stream; -f, --fields and --no-header do not apply (see 'xtcp-fmt --help')" ]
	run -2 --separate-stderr xtcp-fmt --from csv
	[ "$stderr" = "xtcp-fmt: invalid --from 'csv': want json or protobuf (see 'xtcp-fmt --help')" ]
	run -2 --separate-stderr xtcp-fmt -f protobuf --fields netns
	[ "$stderr" = "xtcp-fmt: -f protobuf copies whole rows; --fields and --no-header do not apply (see 'xtcp-fmt --help')" ]
}

@test "a missing file: one line, exit 1" {
	run -1 --separate-stderr xtcp-fmt -f json /nonexistent.pb
	[ "$stderr" = "xtcp-fmt: cannot open '/nonexistent.pb': No such file or directory" ]
	run -1 --separate-stderr xtcp-fmt --from json /nonexistent.json
	[ "$stderr" = "xtcp-fmt: cannot open '/nonexistent.json': No such file or directory" ]
}

@test "a stream is not written to a terminal, nor read from one" {
	xtcp-fmt -f json "$LIVE" >"$T/a.json"
	run -2 script -qec "$XTCP_BUILD/bin/xtcp-fmt --from json '$T/a.json'" /dev/null
	[[ "$output" == *"xtcp-fmt: refusing to write binary records to a terminal; pipe into xtcp-fmt, xtcp-filter or xtcp-kafka, or use -o FILE"* ]]
	run -0 script -qec "$XTCP_BUILD/bin/xtcp-fmt --from json -o '$T/s.pb' '$T/a.json'" /dev/null
	[ "$(rows "$T/s.pb")" -eq 12 ]
	run -2 script -qec "$XTCP_BUILD/bin/xtcp-fmt -f json" /dev/null
	[[ "$output" == *"xtcp-fmt: refusing to read binary records from a terminal"* ]]
	# ClickHouse's Protobuf format is binary too, both ways
	run -2 script -qec "$XTCP_BUILD/bin/xtcp-fmt -f protobuf '$LIVE'" /dev/null
	[[ "$output" == *"xtcp-fmt: refusing to write binary records to a terminal; pipe into clickhouse-client (INSERT ... FORMAT Protobuf), or use -o FILE"* ]]
	run -0 script -qec "$XTCP_BUILD/bin/xtcp-fmt -f protobuf -o '$T/s.bin' '$LIVE'" /dev/null
	run -2 script -qec "$XTCP_BUILD/bin/xtcp-fmt --from protobuf '$T/s.bin'" /dev/null
	[[ "$output" == *"refusing to write binary records to a terminal"* ]]
}

@test "a closed pipe ends xtcp-fmt quietly" {
	run -0 --separate-stderr bash -c "set -o pipefail; xtcp-fmt -f json '$CAP' | head -c 10 | wc -c"
	[ "$output" -eq 10 ]
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c "set -o pipefail; xtcp-fmt -f json '$CAP' | xtcp-fmt --from json | head -c 10 | wc -c"
	[ "$output" -eq 10 ]
	[ -z "$stderr" ]
}

@test "a full disk is an error, not a silent success" {
	[ -e /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr bash -c "xtcp-fmt -f json '$LIVE' >/dev/full"
	[ "$stderr" = "xtcp-fmt: cannot write to standard output: No space left on device" ]
	run -1 --separate-stderr bash -c "xtcp-fmt -f json '$LIVE' | xtcp-fmt --from json >/dev/full"
	[ "$stderr" = "xtcp-fmt: cannot write to standard output: No space left on device" ]
}

@test "SIGTERM, SIGINT and SIGHUP end the input cleanly: what was read is written and committed" {
	local sig pid rc
	xtcp-fmt -f json "$LIVE" >"$T/a.json"
	for sig in TERM INT HUP; do
		rm -f "$T/fifo" "$T/s.pb"
		mkfifo "$T/fifo"
		xtcp-fmt --from json -o "$T/s.pb" "$T/fifo" &
		pid=$! rc=0
		# the test is the writer and keeps the fifo open: the input never ends by itself
		exec 5>"$T/fifo"
		cat "$T/a.json" >&5
		wait_until drained "$T/fifo"
		kill -$sig $pid
		wait $pid || rc=$?
		exec 5>&-
		[ "$rc" -eq 0 ] || { echo "SIG$sig: exit $rc"; return 1; }
		[ "$(rows "$T/s.pb")" -eq 12 ]
		[ -z "$(ls -A "$T" | grep '^\.s\.pb\.')" ]
	done
}

@test "records flow through a pipe as they come, not at the end" {
	mkfifo "$T/fifo"
	xtcp-fmt --from json "$T/fifo" | xtcp-fmt -f csv --no-header --fields netns | cat >"$T/out" &
	local reader=$!
	# two records, and the writer (the test) keeps the fifo open until they are out
	exec 5>"$T/fifo"
	xtcp-fmt -f json "$LIVE" | head -2 >&5
	two_lines() { [ "$(wc -l <"$T/out")" -eq 2 ]; }
	wait_until two_lines
	exec 5>&-
	wait $reader
	two_lines
}

@test "into a file, a frame's lines are out before the wait for the next (tail -f), in every format" {
	local fmt lines
	for fmt in text json csv; do
		rm -f "$T/fifo"
		mkfifo "$T/fifo"
		xtcp-fmt -f $fmt "$T/fifo" >"$T/out.$fmt" &
		local reader=$!
		# one frame of two records, and the writer (the test) keeps the fifo open
		exec 5>"$T/fifo"
		xtcp-bench gen -n 2 --seed 3 >&5
		lines=$([ $fmt = json ] && echo 2 || echo 3)
		written() { [ "$(wc -l <"$T/out.$fmt")" -eq "$lines" ]; }
		wait_until written
		exec 5>&-
		wait $reader
		written
	done
	# a file to a file still goes out in large writes, not one a frame
	xtcp-bench gen -n 20000 --rows 10 --seed 3 -o "$T/many.pb"
	# (LeakSanitizer cannot work under ptrace)
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=write -o "$T/trace" \
		xtcp-fmt -f text "$T/many.pb" >"$T/many.txt"
	[ "$(grep -c '^[0-9]* *write(1,' "$T/trace")" -le $(($(stat -c %s "$T/many.txt") / 65536 + 2)) ]
}

@test "text: a line between polls, with the poll and its time; nothing in one poll, nor in other formats" {
	xtcp-bench gen -n 2500 --seed 7 | xtcp-fmt -f text >"$T/polls.txt"
	run -0 grep -n '^---' "$T/polls.txt"
	[ "${lines[0]}" = "1002:--- poll 2, 2026-01-01T00:00:10.000Z ---" ]
	[ "${lines[1]}" = "2003:--- poll 3, 2026-01-01T00:00:20.000Z ---" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(wc -l <"$T/polls.txt")" -eq 2503 ]
	run -0 bash -c "xtcp-bench gen -n 2500 --seed 7 | xtcp-fmt -f text --fields poll_sequence,tcp_info_rtt | grep -c '^---'"
	[ "$output" = 2 ]
	run -1 bash -c "xtcp-bench gen -n 2500 --seed 7 | xtcp-fmt -f csv | grep -c '^---'"
	run -1 grep -c '^---' <(xtcp-fmt -f text "$LIVE")
	# without a time, or without a sequence
	printf '%s\n' '{"poll_sequence":1}' '{"poll_sequence":2}' '{"timestamp_ns":1767225600123456789}' |
		xtcp-fmt --from json | xtcp-fmt -f text --no-header --fields tcp_info_rtt >"$T/bare.txt"
	[ "$(sed -n 2p "$T/bare.txt")" = "--- poll 2 ---" ]
	[ "$(sed -n 4p "$T/bare.txt")" = "--- 2026-01-01T00:00:00.123Z ---" ]
}

@test "close records (xtcp-dump -E): the kind by name, a marker in the table, no poll line of their own" {
	printf '%s\n' '{"poll_sequence":1,"timestamp_ns":1767225600000000000,"inet_diag_msg_state":"ESTABLISHED"}' \
		'{"poll_sequence":1,"timestamp_ns":1767225603000000000,"inet_diag_msg_state":"CLOSE","record_kind":"close","events_lost":4}' \
		'{"poll_sequence":2,"timestamp_ns":1767225610000000000,"inet_diag_msg_state":"ESTABLISHED"}' |
		xtcp-fmt --from json >"$T/k.pb"
	run -0 xtcp-fmt -f json --fields record_kind,events_lost "$T/k.pb"
	[ "${lines[0]}" = '{"record_kind":"RECORD_KIND_POLL","events_lost":0}' ]
	[ "${lines[1]}" = '{"record_kind":"RECORD_KIND_CLOSE","events_lost":4}' ]
	run -0 xtcp-fmt -f csv --no-header --fields record_kind "$T/k.pb"
	[ "$output" = $'RECORD_KIND_POLL\nRECORD_KIND_CLOSE\nRECORD_KIND_POLL' ]
	run -0 xtcp-fmt -f text "$T/k.pb"
	[[ "${lines[1]}" == 'ESTABLISHED '* ]]
	[[ "${lines[2]}" == 'CLOSE (event) '* ]]
	[ "${lines[3]}" = "--- poll 2, 2026-01-01T00:00:10.000Z ---" ]
	[ "${#lines[@]}" -eq 5 ]
	# JSON back to the same bytes
	xtcp-fmt -f json "$T/k.pb" | xtcp-fmt --from json | cmp - "$T/k.pb"
}

@test "a frame length that overflows 64 bits is an error naming the frame and byte" {
	printf '\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02' >"$BATS_TEST_TMPDIR/o.pb"
	run -1 --separate-stderr xtcp-fmt -f json "$BATS_TEST_TMPDIR/o.pb"
	[ -z "$output" ]
	[[ "$stderr" == *"'$BATS_TEST_TMPDIR/o.pb': frame 1 at byte 0: frame length is not a varint" ]]
	# a valid frame before it is still written
	{ xtcp-bench gen -n 2 --seed 3; cat "$BATS_TEST_TMPDIR/o.pb"; } >"$BATS_TEST_TMPDIR/o2.pb"
	run -1 --separate-stderr xtcp-fmt -f json "$BATS_TEST_TMPDIR/o2.pb"
	[ "${#lines[@]}" -eq 2 ]
	[[ "$stderr" == *"frame 2 at byte "*": frame length is not a varint" ]]
}

@test "--from json refuses a line over 64 MiB in a regular file too, after writing the rows before it" {
	python3 -c '
import json
print(json.dumps({"hostname": "ok"}))
print(json.dumps({"hostname": "h" * (70 << 20)}), end="")' >"$T/big.json"
	run -1 --separate-stderr xtcp-fmt --from json -o "$T/big.pb" "$T/big.json"
	[[ "$stderr" == *"'$T/big.json': line 2: longer than 67108864 bytes"* ]]
	run -1 --separate-stderr bash -o pipefail -c "xtcp-fmt --from json '$T/big.json' | xtcp-fmt -f tsv --no-header --fields hostname"
	[ "$output" = ok ]
	# a pipe alike
	run -1 --separate-stderr bash -o pipefail -c "cat '$T/big.json' | xtcp-fmt --from json | xtcp-fmt -f tsv --no-header --fields hostname"
	[ "$output" = ok ]
	[[ "$stderr" == *"line 2: "*"67108864"* ]]
}
