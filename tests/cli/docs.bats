#!/usr/bin/env bats
# Every option that a tool's --help lists is in its man page and in both completions.

load helpers

check_tool() {
	local tool=$1 opt missing=
	local help
	help=$("$tool" --help)
	# options are the words that start the option lines ("  -c, --count N  ...")
	for opt in $(grep -E '^ +-' <<<"$help" | sed -E 's/^ +//; s/   .*//' |
		grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u); do
		grep -qF -- "${opt//-/\\-}" "$TOP/man/$tool.1" || missing+=" man:$opt"
		grep -qF -- "$opt" "$TOP/completions/bash/$tool" || missing+=" bash:$opt"
		grep -qE -- "(^|[^a-zA-Z0-9-])$opt([^a-zA-Z0-9-]|$)" "$TOP/completions/zsh/_$tool" || missing+=" zsh:$opt"
	done
	[ -z "$missing" ] || { echo "$tool: undocumented:$missing"; return 1; }
}

@test "xtcp-dump: --help, man page and completions list the same options" {
	check_tool xtcp-dump
}

@test "xtcp-fmt: --help, man page and completions list the same options" {
	check_tool xtcp-fmt
}

@test "xtcp-bench: --help, man page and completions list the same options" {
	check_tool xtcp-bench
}

@test "xtcp-kafka: --help, man page and completions list the same options" {
	check_tool xtcp-kafka
}

@test "xtcp-filter: --help, man page and completions list the same options" {
	check_tool xtcp-filter
}

@test "xtcp-stat: --help, man page and completions list the same options" {
	check_tool xtcp-stat
}

@test "xtcp-rate: --help, man page and completions list the same options" {
	check_tool xtcp-rate
}

@test "every man page renders without warnings" {
	local page
	for page in "$TOP"/man/*.[17]; do
		run -0 --separate-stderr env MANWIDTH=80 man --warnings -l "$page"
		[ -z "$stderr" ] || { echo "$page: $stderr"; false; }
	done
}

@test "the bash completion loads and completes options" {
	run -0 bash -c "source '$TOP/completions/bash/xtcp-dump'; COMP_WORDS=(xtcp-dump --sta); COMP_CWORD=1; _xtcp_dump; echo \${COMPREPLY[@]}"
	[ "$output" = "--states" ]
}

@test "the proto declares every field of the spec table with its number, name and type" {
	run -0 python3 - "$TOP/proto/xtcp_flat_record.proto" "$TOP/proto/record-fields.tsv" <<'PY'
import re, sys
proto = open(sys.argv[1]).read()
body = proto[proto.index('message XtcpFlatRecord'):]
decl = {int(n): (t, name) for t, name, n in re.findall(r'^\s+(\w+)\s+(\w+)\s*=\s*(\d+);', body, re.M)
        if not name.startswith('CONGESTION_')}
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[2])][1:]
want = {int(n): (t, name) for n, name, t, _ in rows}
assert decl == want, (set(decl.items()) ^ set(want.items()))
print(len(want), 'fields match')
PY
}

@test "the repository stands alone: no file refers to the steering folder beside it" {
	run -1 git -C "$TOP" grep -n -e '\.\./shared' -e 'XTCP_SHAR[E]D'
	echo "$output"
}

@test "--version: the release number, and the commit when built from git" {
	local tool
	for tool in xtcp-dump xtcp-fmt xtcp-filter xtcp-kafka xtcp-stat xtcp-rate xtcp-bench; do
		run -0 "$tool" --version
		[[ "$output" =~ ^$tool\ [0-9]+\.[0-9]+\.[0-9]+(\+[0-9a-f]{7,}(-dirty)?)?$ ]] ||
			{ echo "$output"; return 1; }
	done
	# the release number is the Makefile's
	grep -q "^RELEASE := ${output#xtcp-bench }" "$TOP/Makefile" ||
		grep -q "^RELEASE := $(sed 's/^xtcp-bench //; s/+.*//' <<<"$output")$" "$TOP/Makefile"
}

@test "--help, --version and --list-fields report a failed write, exit 1" {
	[ -e /dev/full ] || skip "no /dev/full"
	local tool opt
	for tool in xtcp-dump xtcp-fmt xtcp-filter xtcp-kafka xtcp-bench xtcp-stat xtcp-rate; do
		for opt in --help --version; do
			run -1 --separate-stderr bash -c "$tool $opt > /dev/full"
			[ "$stderr" = "$tool: cannot write standard output: No space left on device" ] ||
				{ echo "$tool $opt: $stderr"; return 1; }
			run -0 bash -c "$tool $opt > /dev/null"
		done
	done
	for tool in xtcp-fmt xtcp-filter xtcp-stat; do
		run -1 --separate-stderr bash -c "$tool --list-fields > /dev/full"
		[ "$stderr" = "$tool: cannot write standard output: No space left on device" ]
	done
	run -1 --separate-stderr bash -c "xtcp-bench gen --help > /dev/full"
}

@test "a closed standard input or output is an error, not an empty stream" {
	local tool
	for tool in "xtcp-fmt" "xtcp-fmt --from json" "xtcp-filter rtt" "xtcp-kafka -b 127.0.0.1:1 -t t" "xtcp-stat" "xtcp-rate"; do
		run -1 --separate-stderr bash -c "$tool <&-"
		[[ "$stderr" == *"standard input"*"Bad file descriptor"* ]] || { echo "$tool: $stderr"; return 1; }
	done
	run -1 --separate-stderr bash -c "xtcp-dump -r '$FIXTURES/6_6_44/tcp_10_sockets.pcap' >&-"
	[[ "$stderr" == *"standard output: Bad file descriptor"* ]]
	run -1 --separate-stderr bash -c "xtcp-bench gen -n 3 >&-"
}
