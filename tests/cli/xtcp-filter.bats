#!/usr/bin/env bats
# xtcp-filter: options, bad expressions, byte-exact pass-through, grouping,
# corrupt streams, and an independent evaluation in Python.

load helpers

setup_file() {
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_100_sockets.pcap" >"$BATS_FILE_TMPDIR/cap.pb"
}

setup() {
	CAP=$BATS_FILE_TMPDIR/cap.pb
	T=$BATS_TEST_TMPDIR
}

# rows FILE: "frames=N rows=M" of a stream, by the independent reader
shape() {
	xtcp-show "$1" 2>&1 >/dev/null | tail -1
}

# json_stream FILE JSON...: a one-frame stream of the given records
json_stream() {
	local out=$1
	shift
	printf '%s\n' "$@" | xtcp-fmt --from json >"$out"
}

# --- options ------------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr xtcp-filter --help
	[[ "$output" == "usage: xtcp-filter [options] EXPR [FILE...]"* ]]
	[[ "$output" == *"--count"* ]]
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run -0 xtcp-filter --version
	[[ "$output" == "xtcp-filter "* ]]
}

@test "--list-fields prints the schema table, the same as xtcp-fmt's, with aliases and units" {
	run -0 xtcp-filter --list-fields
	[[ "$output" == *$'\ntcp_info_rtt\tuint32\tus\trtt\t'* ]]
	[[ "$output" == *$'\ntcp_info_last_data_sent\tuint32\tms\tlastsnd\t'* ]]
	[[ "$output" == *$'\ntcp_info_bytes_acked\tuint64\tbytes\tbytes_acked\t'* ]]
	[[ "$output" == *$'\ninet_diag_msg_socket_interface\tuint32\t-\tdev,ifindex\t'* ]]
	diff <(xtcp-fmt --list-fields) - <<<"$output"
}

@test "usage errors: one line, exit 2" {
	run -2 --separate-stderr xtcp-filter
	[ "$stderr" = "xtcp-filter: missing EXPR (see 'xtcp-filter --help')" ]
	run -2 --separate-stderr xtcp-filter --bogus 'rtt > 1'
	[ "$stderr" = "xtcp-filter: unknown option '--bogus' (see 'xtcp-filter --help')" ]
	run -2 --separate-stderr xtcp-filter -o
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "an expression may start with '!' and options stop at EXPR" {
	run -0 xtcp-filter -c '!(state == ESTABLISHED)' "$CAP"
	[ "$output" = 600 ]
}

# --- bad expressions ------------------------------------------------------------------

@test "bad expressions: the column and why, one line, exit 2, nothing on stdout" {
	local -a cases=(
		''                      'column 1: empty expression'
		'(rtt > 1'              "column 9: expected ')' to close '(' at column 1, found the end of the expression"
		'rtt > 1)'              "column 8: unexpected ')' with no '(' before it"
		'rttt > 5ms'            "column 1: unknown field 'rttt'; did you mean 'rtt'?"
		'tcp_info_rttt > 5'     "column 1: unknown field 'tcp_info_rttt'; did you mean 'tcp_info_rtt'?"
		'dst in 10.0.0.0/33'    "column 17: bad prefix length '/33' in '10.0.0.0/33' (want 0 to 32)"
		'dst in 10.0.0.300/8'   "column 8: bad address '10.0.0.300'"
		'dst in fe80::/129'     "column 15: bad prefix length '/129' in 'fe80::/129' (want 0 to 128)"
		'cong ~ "(bbr"'         "column 8: bad regular expression \"(bbr\": "
		'rtt ~ "x"'             "column 5: '~' needs a string field; 'rtt' (tcp_info_rtt) is a number"
		'src > 5'               "column 5: '>' does not apply to 'src' (inet_diag_msg_socket_source), an address; use ==, != or in"
		'cwnd > 5ms'            "column 9: 'ms' is a time unit but 'cwnd' (tcp_info_snd_cwnd) is not a time"
		'state == ESTABLSHED'   "column 10: unknown state 'ESTABLSHED'"
	)
	local k  # not i: bats's run uses that name
	for ((k = 0; k < ${#cases[@]}; k += 2)); do
		run -2 --separate-stderr xtcp-filter "${cases[k]}" "$CAP"
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "xtcp-filter: bad expression at ${cases[k+1]}"* ]] ||
			{ echo "${cases[k]}: $stderr"; false; }
	done
}

# --- what is kept ----------------------------------------------------------------------

@test "-c counts, -v inverts, and the two add up" {
	run -0 xtcp-filter -c 'state == ESTABLISHED && rtt > 0' "$CAP"
	local n=$output
	run -0 xtcp-filter -v -c 'state == ESTABLISHED && rtt > 0' "$CAP"
	[ $((n + output)) -eq 1200 ]
	[ "$n" -gt 0 ] && [ "$output" -gt 0 ]
	run -0 xtcp-filter -c 'rtt > 1000s' "$CAP"
	[ "$output" = 0 ]
}

@test "the kept rows are the ones Python picks from xtcp-fmt's JSON" {
	xtcp-filter 'state == ESTABLISHED && rtt > 50us && dport != 22' "$CAP" | xtcp-fmt -f json >"$T/got"
	xtcp-fmt -f json "$CAP" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if (r["inet_diag_msg_state"] == "ESTABLISHED" and r["tcp_info_rtt"] > 50
            and r["inet_diag_msg_socket_destination_port"] != 22):
        sys.stdout.write(line)' >"$T/want"
	[ -s "$T/want" ]
	cmp "$T/got" "$T/want"
}

@test "kept rows are copied byte for byte: keeping everything gives the input back" {
	xtcp-filter 'rtt >= 0' "$CAP" >"$T/all.pb"
	cmp "$CAP" "$T/all.pb"
}

@test "unknown fields (a newer writer) pass through untouched" {
	# two rows: a known record with extra fields 5000 (varint) and 5001 (bytes) appended
	python3 - "$T/unknown.pb" <<'PY'
import sys
def uv(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, wt, payload):
    return uv(num << 3 | wt) + payload
def row(rtt, extra):
    r = field(1230, 0, uv(rtt)) + extra            # tcp_info_rtt
    return field(10, 2, uv(len(r)) + r)
extra = field(5000, 0, uv(123456789)) + field(5001, 2, uv(5) + b"hello")
env = row(9000, extra) + row(10, extra)
open(sys.argv[1], "wb").write(uv(len(env)) + env)
PY
	xtcp-filter 'rtt > 5ms' "$T/unknown.pb" >"$T/out.pb"
	python3 - "$T/unknown.pb" "$T/out.pb" <<'PY'
import sys
src = open(sys.argv[1], "rb").read()
out = open(sys.argv[2], "rb").read()
# the first row of the input, framed alone
row_len = src[2]                                  # 1-byte prefix, tag 0x52, 1-byte length
first = src[1:3 + row_len]
assert out == bytes([len(first)]) + first, (out.hex(), first.hex())
assert b"hello" in out
PY
}

@test "frames keep their grouping; frames with no kept row are dropped" {
	json_stream "$T/1.pb" '{"tcp_info_rtt":9000}' '{"tcp_info_rtt":1}' '{"tcp_info_rtt":7000}'
	json_stream "$T/2.pb" '{"tcp_info_rtt":1}' '{"tcp_info_rtt":2}'
	json_stream "$T/3.pb" '{"tcp_info_rtt":6000}'
	cat "$T/1.pb" "$T/2.pb" "$T/3.pb" >"$T/in.pb"
	[ "$(shape "$T/in.pb")" = "frames=3 rows=6" ]
	xtcp-filter 'rtt > 5ms' "$T/in.pb" >"$T/out.pb"
	[ "$(shape "$T/out.pb")" = "frames=2 rows=3" ]
	# per frame: 2 rows, then 1
	run -0 python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
sizes = []
while b:
    n = b[0]; env = b[1:1 + n]; b = b[1 + n:]
    rows = 0; i = 0
    while i < len(env):
        i += 1; l = env[i]; i += 1 + l; rows += 1
    sizes.append(rows)
print(sizes)' "$T/out.pb"
	[ "$output" = "[2, 1]" ]
}

@test "several FILEs and - for standard input" {
	run -0 bash -c "xtcp-filter -c 'state == ESTABLISHED' '$CAP' - '$CAP' <'$CAP'"
	[ "$output" = 1800 ]
}

@test "IPv4 and IPv6 prefixes, mapped addresses" {
	json_stream "$T/a.pb" \
		'{"record_counter":1,"inet_diag_msg_family":2,"inet_diag_msg_socket_destination":"10.1.2.3"}' \
		'{"record_counter":2,"inet_diag_msg_family":10,"inet_diag_msg_socket_destination":"::ffff:10.9.9.9"}' \
		'{"record_counter":3,"inet_diag_msg_family":10,"inet_diag_msg_socket_destination":"2001:db8::7"}' \
		'{"record_counter":4,"inet_diag_msg_family":2,"inet_diag_msg_socket_destination":"192.168.0.1"}'
	ids() { xtcp-filter "$1" "$T/a.pb" | xtcp-fmt -f csv --no-header --fields record_counter | paste -sd' '; }
	[ "$(ids 'dst in 10.0.0.0/8')" = "1 2" ]
	[ "$(ids 'dst in 0.0.0.0/0')" = "1 2 4" ]
	[ "$(ids 'dst in ::/0')" = "2 3" ]
	[ "$(ids 'dst in ::ffff:0:0/96')" = "2" ]
	[ "$(ids 'dst == 10.9.9.9')" = "2" ]
	[ "$(ids 'dst in 2001:db8::/32 || dst == 192.168.0.1/32')" = "3 4" ]
}

# --- bad input ----------------------------------------------------------------------------

@test "a corrupt stream: earlier frames are written, then frame and byte, exit 1" {
	json_stream "$T/good.pb" '{"tcp_info_rtt":9000}' '{"tcp_info_rtt":1}'
	local size
	size=$(stat -c %s "$T/good.pb")
	cp "$T/good.pb" "$T/bad.pb"
	head -c $((size - 3)) "$T/good.pb" >>"$T/bad.pb"
	run -1 --separate-stderr bash -c "xtcp-filter 'rtt > 5ms' '$T/bad.pb' >'$T/out.pb'"
	[[ "$stderr" == "xtcp-filter: '$T/bad.pb': frame 2 at byte $size: "* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(shape "$T/out.pb")" = "frames=1 rows=1" ]
}

@test "a malformed row inside a well-formed frame names the row, exit 1" {
	# frame 2 holds one row whose only field has a truncated varint
	json_stream "$T/good.pb" '{"tcp_info_rtt":9000}'
	printf '\x05\x52\x03\xf0\x4c\x80' >"$T/badrow.pb"
	cat "$T/good.pb" "$T/badrow.pb" >"$T/in.pb"
	run -1 --separate-stderr bash -c "xtcp-filter 'rtt > 5ms' '$T/in.pb' >'$T/out.pb'"
	[[ "$stderr" == "xtcp-filter: '$T/in.pb': frame 2 at byte "*": row 1 is not a valid record" ]]
	[ "$(shape "$T/out.pb")" = "frames=1 rows=1" ]
}

@test "a kept row malformed after the fields the expression reads: frame and row named, exit 1" {
	# frame 2: row 1 is rtt 9000 (field 1230) and then field 3001 with its varint cut
	# short; the expression needs nothing past field 1230, the row is checked whole anyway
	json_stream "$T/good.pb" '{"tcp_info_rtt":9000}'
	printf '\x0a\x52\x08\xf0\x4c\xa8\x46\xc8\xbb\x01\x80' >"$T/badtail.pb"
	cat "$T/good.pb" "$T/badtail.pb" >"$T/in.pb"
	local at
	at=$(stat -c %s "$T/good.pb")
	run -1 --separate-stderr bash -c "xtcp-filter 'rtt > 5ms' '$T/in.pb' >'$T/out.pb'"
	[ "$stderr" = "xtcp-filter: '$T/in.pb': frame 2 at byte $at: row 1 is not a valid record" ]
	[ "$(shape "$T/out.pb")" = "frames=1 rows=1" ]
	# counted is kept too; -v keeps it when it does not match
	run -1 --separate-stderr xtcp-filter -c 'rtt > 5ms' "$T/in.pb"
	[ "$stderr" = "xtcp-filter: '$T/in.pb': frame 2 at byte $at: row 1 is not a valid record" ]
	run -1 --separate-stderr bash -c "xtcp-filter -v 'rtt < 5ms' '$T/in.pb' >/dev/null"
	[[ "$stderr" == *": frame 2 at byte $at: row 1 is not a valid record" ]]
	# the next decoder agrees that the row is bad
	run -1 --separate-stderr xtcp-fmt -f json "$T/badtail.pb"
	[[ "$stderr" == *"row 1 is not a valid record" ]]
}

@test "a dropped row is read only as far as the expression needs" {
	# as above, the row does not match: it goes nowhere, and nothing reads its tail
	printf '\x0a\x52\x08\xf0\x4c\xa8\x46\xc8\xbb\x01\x80' >"$T/badtail.pb"
	run -0 xtcp-filter -c 'rtt > 1s' "$T/badtail.pb"
	[ "$output" = 0 ]
}

@test "JSON lines instead of a stream: a hint" {
	echo '{"tcp_info_rtt":1}' >"$T/x.json"
	run -1 --separate-stderr xtcp-filter 'rtt > 0' "$T/x.json"
	[[ "$stderr" == *"xtcp-fmt --from json"* ]]
}

@test "a missing file: cannot open, exit 1" {
	run -1 --separate-stderr xtcp-filter 'rtt > 0' "$T/nope.pb"
	[ "$stderr" = "xtcp-filter: cannot open '$T/nope.pb': No such file or directory" ]
}

@test "refuses to write binary to a terminal, but counts on one" {
	run -2 script -qec "xtcp-filter 'rtt > 0' '$CAP'" /dev/null
	[[ "$output" == *"refusing to write binary records to a terminal"* ]]
	run -0 script -qec "xtcp-filter -c 'rtt > 0' '$CAP'" /dev/null
	[[ "$output" == [0-9]* ]]
}

@test "-o writes atomically and equals standard output" {
	mkdir "$T/out"
	run -0 xtcp-filter -o "$T/out/k.pb" 'state == ESTABLISHED' "$CAP"
	[ "$(ls -A "$T/out")" = "k.pb" ]
	xtcp-filter 'state == ESTABLISHED' "$CAP" | cmp - "$T/out/k.pb"
	run -1 --separate-stderr xtcp-filter -o /nonexistent/dir/k.pb 'rtt > 0' "$CAP"
	[[ "$stderr" == "xtcp-filter: cannot create '/nonexistent/dir/k.pb': "* ]]
}

@test "a reader that goes away: quiet exit 0" {
	for _ in $(seq 50); do cat "$CAP"; done >"$T/big.pb"
	run -0 --separate-stderr bash -c "xtcp-filter 'rtt >= 0' '$T/big.pb' | head -c 10 >/dev/null; exit \${PIPESTATUS[0]}"
	[ -z "$stderr" ]
}

# --- independent check, docs ------------------------------------------------------------------

@test "1000 generated records, 50 generated expressions: the same rows as Python's evaluation" {
	run -0 python3 "$TOP/tests/data/filter-check.py" --records 1000 --exprs 50
	[[ "${lines[-1]}" == *", 0 differences" ]]
}

@test "the man page's examples run" {
	local expr n=0
	while IFS= read -r expr; do
		run -0 xtcp-filter -c "$expr" "$CAP"
		n=$((n + 1))
	done < <(python3 -c '
import re, sys
text = open(sys.argv[1]).read()
for m in re.findall(r"xtcp-filter [^\n]*?\\\(aq(.*?)\\\(aq", text):
    print(m.replace("\\-", "-").replace("\\e", "\\"))' "$TOP/man/xtcp-filter.1")
	[ "$n" -ge 8 ]
}

@test "completions offer field names and aliases" {
	run -0 bash -c "source '$TOP/completions/bash/xtcp-filter'; COMP_WORDS=(xtcp-filter tcp_info_rt); COMP_CWORD=1; _xtcp_filter; echo \${COMPREPLY[@]}"
	[[ " $output " == *" tcp_info_rtt "* ]] && [[ " $output " == *" tcp_info_rtt_var "* ]]
	run -0 bash -c "source '$TOP/completions/bash/xtcp-filter'; COMP_WORDS=(xtcp-filter 'state == ESTABLISHED && rttv'); COMP_CWORD=1; _xtcp_filter; echo \${COMPREPLY[@]}"
	[ "$output" = "state == ESTABLISHED && rttvar" ]
	run -0 bash -c "source '$TOP/completions/bash/xtcp-filter'; COMP_WORDS=(xtcp-filter --cou); COMP_CWORD=1; _xtcp_filter; echo \${COMPREPLY[@]}"
	[ "$output" = "--count" ]
	grep -q 'xtcp-filter --list-fields' "$TOP/completions/zsh/_xtcp-filter"
}

@test "one number dialect: sizes and minutes in expressions mean what they mean in options" {
	local v
	for v in 262143 262144 262145 59999999 60000000 60000001; do
		echo "{\"tcp_info_bytes_acked\":$v,\"tcp_info_rtt\":$v}"
	done | xtcp-fmt --from json >"$BATS_TEST_TMPDIR/n.pb"
	run -0 xtcp-filter -c 'bytes_acked > 256KiB' "$BATS_TEST_TMPDIR/n.pb"
	[ "$output" = 4 ]
	diff <(xtcp-filter 'bytes_acked > 256KiB' "$BATS_TEST_TMPDIR/n.pb" | xtcp-fmt -f json) \
		<(xtcp-filter 'bytes_acked > 262144' "$BATS_TEST_TMPDIR/n.pb" | xtcp-fmt -f json)
	run -0 xtcp-filter -c 'rtt > 1m' "$BATS_TEST_TMPDIR/n.pb"
	[ "$output" = 1 ]
	diff <(xtcp-filter 'rtt > 1m' "$BATS_TEST_TMPDIR/n.pb" | xtcp-fmt -f json) \
		<(xtcp-filter 'rtt > 60000000us' "$BATS_TEST_TMPDIR/n.pb" | xtcp-fmt -f json)
	run -0 xtcp-filter -c 'rtt >= 1m && bytes_acked >= 0.06G && rtt < 0.5h' "$BATS_TEST_TMPDIR/n.pb"
	[ "$output" = 2 ]
	# a unit of the wrong kind is refused alike in both places
	run -2 --separate-stderr xtcp-filter 'bytes_acked > 1m' "$BATS_TEST_TMPDIR/n.pb"
	[[ "$stderr" == *"'m' is a time unit but 'bytes_acked' (tcp_info_bytes_acked) is not a time"* ]]
	run -2 --separate-stderr xtcp-dump --bytes 1m
	[[ "$stderr" == *"invalid --bytes '1m'"* ]]
	run -2 --separate-stderr xtcp-dump -i 1M
	[[ "$stderr" == *"invalid interval '1M'"* ]]
}

@test "regular expressions are bounded in time and memory, whatever the pattern or the data" {
	# glibc's regcomp took 36 s and 3 GB on this one: a syntax error at once now
	run -2 --separate-stderr timeout 10 xtcp-filter -c 'cong ~ "a++++++++++++++++++++++"' /dev/null
	[[ "$stderr" == *'bad regular expression "a++++++++++++++++++++++": '* ]]
	run -2 --separate-stderr timeout 10 xtcp-filter -c 'cong ~ "((a{1000}){1000}){1000}"' /dev/null
	[[ "$stderr" == *"too large"* ]]
	# catastrophic backtracking on a long value from the data: an error naming the row, not a hang
	python3 -c 'import json; print(json.dumps({"hostname": "short"})); print(json.dumps({"hostname": "a" * 10000 + "!"}))' |
		xtcp-fmt --from json >"$BATS_TEST_TMPDIR/h.pb"
	run -1 --separate-stderr timeout 10 xtcp-filter -c 'hostname ~ "(a+)+$"' "$BATS_TEST_TMPDIR/h.pb"
	[[ "$stderr" == *"frame 1 at byte 0: row 2: a regular expression went over its limit of 100000 steps"* ]]
	# the same pattern on values it can decide is fine
	run -0 xtcp-filter -c 'hostname ~ "^(s+h?o*)+rt$"' "$BATS_TEST_TMPDIR/h.pb"
	[ "$output" = 1 ]
	# a pattern at most 1024 bytes, nested at most 50 deep
	run -2 --separate-stderr xtcp-filter "cong ~ \"$(printf 'a%.0s' $(seq 1025))\"" /dev/null
	[[ "$stderr" == *"bad regular expression"* ]]
}

@test "retrans means what the text view's RETRANS column shows; retrans_inflight is the other one" {
	local f=$FIXTURES/6_6_44/netlink_sock_diag_reply_single_packet_port443v6.pcap
	xtcp-dump -r "$f" >"$BATS_TEST_TMPDIR/r.pb"
	# the rows whose RETRANS column is above 0, counted from the text view itself
	want=$(xtcp-fmt -f text "$BATS_TEST_TMPDIR/r.pb" | awk 'NR > 1 && $6 > 0' | wc -l)
	[ "$want" -ge 2 ]
	run -0 xtcp-filter -c 'retrans > 0' "$BATS_TEST_TMPDIR/r.pb"
	[ "$output" -eq "$want" ]
	run -0 xtcp-filter -c 'tcp_info_total_retrans > 0' "$BATS_TEST_TMPDIR/r.pb"
	[ "$output" -eq "$want" ]
	# none of them has a retransmission in flight at the moment of the capture
	run -0 xtcp-filter -c 'retrans_inflight > 0' "$BATS_TEST_TMPDIR/r.pb"
	[ "$output" -eq 0 ]
}

@test "state names: the kernel's with dashes or underscores, everywhere; nesting up to 200 exactly" {
	echo '{"inet_diag_msg_state":"NEW_SYN_RECV"}' | xtcp-fmt --from json >"$BATS_TEST_TMPDIR/s.pb"
	for w in new-syn-recv new_syn_recv NEW_SYN_RECV New-Syn-Recv; do
		run -0 xtcp-filter -c "state == $w" "$BATS_TEST_TMPDIR/s.pb"
		[ "$output" = 1 ]
	done
	run -0 --separate-stderr xtcp-dump --states new-syn-recv,bound-inactive,syn_recv \
		-r "$FIXTURES/6_6_44/tcp_10_sockets.pcap" -o "$BATS_TEST_TMPDIR/d.pb"
	# 200 parentheses are 200 levels: allowed; 201 are over
	run -0 xtcp-filter -c "$(printf '(%.0s' $(seq 200))rtt$(printf ')%.0s' $(seq 200))" "$BATS_TEST_TMPDIR/s.pb"
	run -2 --separate-stderr xtcp-filter -c "$(printf '(%.0s' $(seq 201))rtt$(printf ')%.0s' $(seq 201))" "$BATS_TEST_TMPDIR/s.pb"
	[[ "$stderr" == *"expression nested too deeply (over 200 levels)" ]]
}

@test "options after the expression and the files, as grep takes them; -- ends them" {
	run -0 xtcp-filter 'state == LISTEN' -c "$CAP"
	want=$output
	run -0 xtcp-filter -c 'state == LISTEN' "$CAP"
	[ "$output" = "$want" ]
	run -0 xtcp-filter 'state == LISTEN' "$CAP" -c
	[ "$output" = "$want" ]
	run -0 xtcp-filter -v 'state == LISTEN' "$CAP" -c
	[ "$output" -gt 0 ] && [ "$output" != "$want" ]
	# after --, a word that starts with '-' is the expression, not an option
	run -2 --separate-stderr xtcp-filter -c -- '- 5' "$CAP"
	[[ "$stderr" == "xtcp-filter: bad expression at column 1: "* ]]
}
