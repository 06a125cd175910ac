#!/usr/bin/env bats
# PGO never breaks the build: the committed profile is used, and a changed hot
# function, a missing profile or an unreadable one still build working binaries.
# Each case builds xtcp-dump from a copy of the sources.

load helpers

setup() {
	[ -z "${XTCP_SANITIZED:-}" ] || skip "build checks run once, in the plain pass"
	SRC=$BATS_TEST_TMPDIR/src
	mkdir -p "$SRC"
	cp -r "$TOP"/Makefile "$TOP"/lib "$TOP"/cmd "$TOP"/proto "$TOP"/tools "$TOP"/pgo "$SRC"/
	mkdir -p "$SRC/bench"
	cp -r "$TOP"/bench/src "$SRC"/bench/
	mkdir -p "$SRC/tests"
	cp -r "$TOP"/tests/unit "$TOP"/tests/helpers "$TOP"/tests/fuzz "$SRC"/tests/
	PCAP=$FIXTURES/5_15_164/5_15_164_tcp_1000_sockets.pcap
}

# a top-level make, as a user types it, even when the tests run under make check
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" --no-print-directory B="$SRC/build" "$@"
}

build_dump() {
	mk "$SRC/build/bin/xtcp-dump" 2>&1
}

rows_of() {
	"$SRC/build/bin/xtcp-dump" -r "$PCAP" | xtcp-show 2>&1 >/dev/null
}

@test "make uses the committed profile and says so" {
	[ -f "$TOP/pgo/default.proftext" ] || skip "no committed profile"
	run -0 build_dump
	[[ "$output" == *"pgo: using pgo/default.proftext"* ]]
	[[ "$output" == *"-fprofile-instr-use"* ]] || [[ "$output" == *"PGO     using"* ]]
	run -0 rows_of
	[ "$output" = "frames=3 rows=2173" ]
}

@test "a changed hot function builds with the old profile" {
	[ -f "$TOP/pgo/default.proftext" ] || skip "no committed profile"
	# change the control flow of the netlink parser: its profile no longer matches
	python3 - "$SRC/lib/netlink.c" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
m = re.search(r'\nint xtcp_netlink_parse\([^)]*\)\n\{\n', s)
assert m, 'xtcp_netlink_parse not found'
s = s[:m.end()] + '\tif (nlh->nlmsg_len == 0xdeadbeef)\n\t\treturn -2;\n' + s[m.end():]
open(p, 'w').write(s)
PY
	run -0 build_dump
	[[ "$output" == *"sources changed since training"* ]]
	[[ "$output" != *"error"* ]]
	run -0 rows_of
	[ "$output" = "frames=3 rows=2173" ]
}

@test "a missing profile builds without PGO and says so once" {
	rm -f "$SRC/pgo/default.proftext"
	run -0 build_dump
	[ "$(grep -c 'pgo: no profile' <<<"$output")" -eq 1 ]
	run -0 rows_of
	[ "$output" = "frames=3 rows=2173" ]
}

@test "an unreadable profile builds without PGO and says so once" {
	echo "this is not a profile" >"$SRC/pgo/default.proftext"
	run -0 build_dump
	[ "$(grep -c 'pgo: llvm-profdata cannot read' <<<"$output")" -eq 1 ]
	run -0 rows_of
	[ "$output" = "frames=3 rows=2173" ]
}

@test "PGO=0 opts out" {
	run -0 mk PGO=0 "$SRC/build/bin/xtcp-dump"
	[[ "$output" != *"pgo: using"* ]]
}
