#!/usr/bin/env bats
# xtcp-dump skipping the families the kernel's counts show empty (issue 16): the same
# sockets as --no-skip, poll after poll, while namespaces come and go.

load helpers

# the mix of tests/data/skipmix.py, by namespace number
kind_of() {
	local kinds=(empty empty empty unix listen tw est v6 synrecv mapped)
	echo "${kinds[$(($1 % 10))]}"
}

# batch_up BATCH FIRST COUNT: namespaces $P-BATCH-FIRST... with their mix, held by one
# skipmix.py (its pid in $BATS_FILE_TMPDIR/BATCH.pid)
batch_up() {
	local i args=()
	for i in $(seq "$2" $(($2 + $3 - 1))); do
		args+=("$P-$1-$i:$(kind_of "$i")")
	done
	mix_up "$BATS_FILE_TMPDIR/$1.pid" "${args[@]}"
}

batch_down() {
	local ns
	[ ! -s "$BATS_FILE_TMPDIR/$1.pid" ] || kill "$(cat "$BATS_FILE_TMPDIR/$1.pid")" 2>/dev/null || true
	rm -f "$BATS_FILE_TMPDIR/$1.pid"
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-$1-"); do ip netns del "$ns"; done
}

setup_file() {
	export P="xtcp-bats-skip-$$"
	# the issue's 300; each --no-skip dump walks the host's tables: this file takes about
	# 60 s under ASan on 2 cores
	export N=${XTCP_SKIP_NAMESPACES:-300}
	batch_up base 0 "$N"
}

teardown_file() {
	local b
	for b in base churn1 churn2 churn3; do batch_down "$b"; done
}

teardown() {
	[ -z "${DUMP_PIDS:-}" ] || kill $DUMP_PIDS 2>/dev/null || true
}

FIELDS=netns_inode,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_destination,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination_port

# dumped ARGS...: how many bytes the dumps of xtcp-dump ARGS sent back (-w: each dump
# made saves at least its NLMSG_DONE; a dump skipped saves nothing)
dumped() {
	xtcp-dump "$@" -w "$BATS_TEST_TMPDIR/w.raw" >/dev/null && stat -c %s "$BATS_TEST_TMPDIR/w.raw"
}

@test "an empty namespace is not dumped; --no-skip dumps it; a family of sockets is" {
	# namespace 0 is empty, 3 holds unix sockets only, 7 IPv6 sockets only, 6 IPv4 only,
	# 5 a TIME_WAIT socket
	[ "$(dumped -n "$P-base-0" -n "$P-base-1")" -eq 0 ]
	[ "$(dumped -n "$P-base-3")" -eq 0 ]
	[ "$(dumped -n "$P-base-3" --no-skip)" -gt 0 ]
	[ "$(dumped -n "$P-base-0" -n "$P-base-1" --no-skip)" -gt 0 ]
	[ "$(dumped -n "$P-base-7" -4 --states established,listen)" -eq 0 ]
	[ "$(dumped -n "$P-base-7" -6 --states established,listen)" -gt 0 ]
	[ "$(dumped -n "$P-base-6" -6 --states established,listen)" -eq 0 ]
	[ "$(dumped -n "$P-base-5" -6 --states established)" -eq 0 ]
	# TIME_WAIT is counted for both families together: both are dumped
	[ "$(dumped -n "$P-base-5" -6 --states time-wait)" -gt 0 ]
	# IPv6 sockets of another namespace's kind do not leak in: all states, all kinds
	local k out
	for k in 0 3 4 5 6 7 8 9; do
		out=$(xtcp-dump -n "$P-base-$k" | xtcp-fmt -f tsv --no-header --fields $FIELDS | sort)
		[ "$out" = "$(xtcp-dump -n "$P-base-$k" --no-skip | xtcp-fmt -f tsv --no-header --fields $FIELDS | sort)" ]
	done
}

@test "each kind of socket of the mix is there, skipping or not" {
	local rows=$BATS_TEST_TMPDIR/rows
	xtcp-dump -n "$P-base-5" -n "$P-base-7" -n "$P-base-8" -n "$P-base-9" |
		xtcp-fmt -f tsv --no-header --fields netns,inet_diag_msg_family,inet_diag_msg_state >"$rows"
	grep -q "^$P-base-5	2	TIME_WAIT$" "$rows"
	grep -q "^$P-base-7	10	ESTABLISHED$" "$rows"
	[ -z "$(grep "^$P-base-7	2	" "$rows")" ]
	grep -q "^$P-base-8	2	SYN_RECV$" "$rows"
	# v4-mapped: the accepted side of an IPv4 client is an IPv6 socket
	grep -q "^$P-base-9	10	ESTABLISHED$" "$rows"
	grep -q "^$P-base-9	2	ESTABLISHED$" "$rows"
	# the bound-only socket is bound-inactive: dumped when asked for (--states all)
	[ -z "$(grep "^$P-base-9	2	CLOSE$" "$rows")" ]
	xtcp-dump -n "$P-base-9" --states all |
		xtcp-fmt -f tsv --no-header --fields netns,inet_diag_msg_family,inet_diag_msg_state >"$rows"
	grep -q "^$P-base-9	2	CLOSE$" "$rows"
}

# nsinodes FILE: the inodes of this file's namespaces into FILE
nsinodes() {
	local f
	for f in /run/netns/"$P"-*; do stat -L -c %i "$f"; done >"$1"
}

# nsargs: -n NAME for each of this file's namespaces
nsargs() {
	local f
	for f in /run/netns/"$P"-*; do printf -- '-n\n%s\n' "${f##*/}"; done
}

@test "-n all skipping returns the sockets of --no-skip, poll after poll, while namespaces come and go" {
	local T=$BATS_TEST_TMPDIR round t0 t1 args
	# one with every state (bound-inactive ones too), one with states whose sockets inuse
	# counts exactly
	xtcp-dump -n all -j 2 -c 0 -i 100ms --states all >"$T/all.pb" 2>"$T/all.err" 3>&- &
	DUMP_PIDS=$!
	xtcp-dump -n all -j 2 -c 0 -i 100ms --states established,listen >"$T/est.pb" 2>"$T/est.err" 3>&- &
	DUMP_PIDS="$DUMP_PIDS $!"
	for round in 1 2 3; do
		# churn: the previous round's namespaces go, new ones come
		[ "$round" -eq 1 ] || batch_down churn$((round - 1))
		batch_up churn$round $((round * 10)) 10
		wait_until has_polls "$T/all.pb" $(($(xtcp-fmt -f tsv --no-header --fields poll_sequence <"$T/all.pb" 2>/dev/null | tail -1) + 2))
		nsinodes "$T/inodes"
		mapfile -t args < <(nsargs)
		t0=$(date +%s%N)
		xtcp-dump "${args[@]}" --no-skip -j 1 --states all | xtcp-fmt -f tsv --no-header --fields $FIELDS >"$T/before"
		wait_until has_polls "$T/est.pb" $(($(xtcp-fmt -f tsv --no-header --fields poll_sequence <"$T/est.pb" 2>/dev/null | tail -1) + 2))
		xtcp-dump "${args[@]}" --no-skip -j 1 --states all | xtcp-fmt -f tsv --no-header --fields $FIELDS >"$T/after"
		t1=$(date +%s%N)
		xtcp-fmt -f tsv --no-header --fields poll_sequence,timestamp_ns,$FIELDS <"$T/all.pb" >"$T/all" 2>/dev/null || true
		xtcp-fmt -f tsv --no-header --fields poll_sequence,timestamp_ns,$FIELDS <"$T/est.pb" >"$T/est" 2>/dev/null || true
		python3 "$TOP/tests/data/skipcheck.py" "$T/inodes" "$T/before" "$T/after" "$T/all" "$t0" "$t1"
		python3 "$TOP/tests/data/skipcheck.py" "$T/inodes" "$T/before" "$T/after" "$T/est" "$t0" "$t1" ESTABLISHED,LISTEN
	done
	kill -TERM $DUMP_PIDS
	wait $DUMP_PIDS
	DUMP_PIDS=
	# nothing to say but what the host hides (a line at the start) and a slow machine
	cat "$T/all.err" "$T/est.err"
	[ -z "$(cat "$T/all.err" "$T/est.err" | grep -vE '^xtcp-dump: polling [0-9]+ network namespaces; ' | without_schedule_notes)" ]
}

@test "--no-skip takes no value; -r and --no-skip are a usage error" {
	run -2 --separate-stderr xtcp-dump --no-skip=yes
	[ "$stderr" = "xtcp-dump: unknown option '--no-skip=yes' (see 'xtcp-dump --help')" ]
	run -2 --separate-stderr xtcp-dump -r /dev/null --no-skip
	[ "$stderr" = "xtcp-dump: -r and --no-skip cannot be combined: a capture has no namespace to count (see 'xtcp-dump --help')" ]
}
