#!/usr/bin/env bats
# PGO never breaks the build: the committed profile is used, and a changed hot
# function, a missing profile or an unreadable one still build working binaries.
# Each case builds xtcp-dump from a copy of the sources.  tools/pgo-stale judges
# whether the profile still fits them (the compiler's front end only, no timing).

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

# add_branch FUNCTION...: a new branch at the top of each lib/ function, so its
# control-flow hash no longer matches its profile
add_branch() {
	python3 - "$SRC" "$@" <<'PY'
import glob, re, sys
src, names = sys.argv[1], sys.argv[2:]
for name in names:
    for path in sorted(glob.glob(src + '/lib/*.c')):
        s = open(path).read()
        m = re.search(r'\n[^\n;]*\b' + name + r'\([^;{]*\)\n\{\n', s)
        if m:
            branch = '\t{ static volatile int pgo_test; if (pgo_test) pgo_test = 0; }\n'
            open(path, 'w').write(s[:m.end()] + branch + s[m.end():])
            break
    else:
        sys.exit(name + ' not found in lib/*.c')
PY
}

# hot_functions PCT: the heaviest functions of lib/ in the profile, as many as
# hold more than PCT % of its counted executions
hot_functions() {
	python3 - "$SRC/pgo/default.proftext" "$1" "$SRC"/lib/*.c <<'PY'
import re, sys
profile, share, sources = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
records = [r.split('\n') for r in open(profile).read().split('\n\n') if r.strip()]
weight = {}
for r in records:
    weight[r[0]] = weight.get(r[0], 0) + sum(int(v) for v in r[6:6 + int(r[4])])
total = sum(weight.values())
text = ''.join(open(p).read() for p in sources)
picked = 0
for name in sorted(weight, key=lambda n: -weight[n]):
    if ':' not in name and re.search(r'\n[^\n;]*\b' + name + r'\([^;{]*\)\n\{\n', text):
        print(name)
        picked += weight[name]
        if picked > share / 100 * total:
            break
PY
}

# the report's "N% of the profile's weight still applies"
applies() {
	sed -n "s/^pgo: \([0-9.]*\)% of the profile's weight still applies.*/\1/p"
}

stale() {
	(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL tools/pgo-stale)
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
	add_branch xtcp_netlink_parse
	run -0 build_dump
	[[ "$output" == *"sources changed since training"* ]]
	[[ "$output" != *"error"* ]]
	run -0 rows_of
	[ "$output" = "frames=3 rows=2173" ]
}

@test "pgo-stale: the committed profile fits, a changed hot function does not" {
	[ -f "$TOP/pgo/default.proftext" ] || skip "no committed profile"
	run -0 stale
	[[ "$output" == *"fresh enough"* ]]
	before=$(applies <<<"$output")
	[ -n "$before" ]

	# a changed function loses its share of the weight, and the report says so
	add_branch xtcp_netlink_parse
	run stale
	[ "$status" -le 1 ]
	[[ "$output" == *" changed  xtcp_netlink_parse (lib/netlink.c)"* ]]
	after=$(applies <<<"$output")
	awk -v a="$after" -v b="$before" 'BEGIN { exit !(a < b) }'

	# the hot lib/ functions holding over 12% of it (more than the 10% rule
	# allows; the rest of the weight is in static and generated functions): retrain
	hot=$(hot_functions 12)
	[ -n "$hot" ]
	add_branch $hot
	run -1 stale
	[[ "$output" == *"retrain advised"* ]]
	for f in $hot; do [[ "$output" == *" changed  $f "* ]]; done
}

@test "make pgo-status reports without building; a broken source is undecided" {
	[ -f "$TOP/pgo/default.proftext" ] || skip "no committed profile"
	run -0 mk pgo-status
	[[ "$output" == *"of the profile's weight still applies"* ]]
	[ ! -e "$SRC/build/bin" ]
	echo 'int broken(' >>"$SRC/lib/netlink.c"
	run -2 stale
	[[ "$output" == *"could not decide"* ]]
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
