#!/usr/bin/env bats
# xtcp-dump -j N (issue 16): namespaces dumped on N threads give the stream -j 1 gives,
# record for record and frame for frame.

load helpers

kind_of() {
	local kinds=(empty empty listen tw est v6 synrecv mapped)
	echo "${kinds[$(($1 % 8))]}"
}

setup_file() {
	export P="xtcp-bats-jobs-$$"
	export N=24
	local i args=()
	for i in $(seq 0 $((N - 1))); do
		args+=("$P-$i:$(kind_of "$i")")
	done
	mix_up "$BATS_FILE_TMPDIR/mix.pid" "${args[@]}" || return 1
	# busier than a thread's 4 MiB of held replies: it waits for its turn mid-dump
	xtcp-bench load -n 6000 --netns "$P-busy" >"$BATS_FILE_TMPDIR/load.out" 2>&1 &
	echo $! >"$BATS_FILE_TMPDIR/load.pid"
	wait_until busy_ready
}

busy_ready() {
	[ "$(xtcp-dump -n "$P-busy" --states established | xtcp-fmt -f tsv --no-header --fields netns | wc -l)" -ge 12000 ]
}

teardown_file() {
	local f ns
	for f in mix load; do
		[ ! -s "$BATS_FILE_TMPDIR/$f.pid" ] || kill "$(cat "$BATS_FILE_TMPDIR/$f.pid")" 2>/dev/null || true
	done
	[ ! -s "$BATS_FILE_TMPDIR/load.pid" ] || wait_until gone "$(cat "$BATS_FILE_TMPDIR/load.pid")"
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do ip netns del "$ns" 2>/dev/null || true; done
}

teardown() {
	[ -z "${DUMP_PID:-}" ] || kill "$DUMP_PID" 2>/dev/null || true
}

FIELDS=record_counter,poll_sequence,netns,netns_inode,inet_diag_msg_socket_cookie,inet_diag_msg_family,inet_diag_msg_state,inet_diag_msg_socket_source,inet_diag_msg_socket_destination,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination_port

# the mix's namespaces, in order, as -n options
mix_args() {
	local i
	for i in $(seq 0 $((N - 1))); do printf -- '-n %s ' "$P-$i"; done
}

# same ARGS...: xtcp-dump ARGS gives the same records and frames with -j 1 and -j 2
same() {
	local t=$BATS_TEST_TMPDIR
	xtcp-dump "$@" -j 1 >"$t/j1.pb"
	xtcp-dump "$@" -j 2 >"$t/j2.pb"
	xtcp-fmt -f tsv --no-header --fields $FIELDS <"$t/j1.pb" >"$t/j1.tsv"
	xtcp-fmt -f tsv --no-header --fields $FIELDS <"$t/j2.pb" >"$t/j2.tsv"
	[ -s "$t/j1.tsv" ]
	diff "$t/j1.tsv" "$t/j2.tsv"
	python3 "$TOP/tests/data/frame-rows.py" "$t/j1.pb" >"$t/j1.frames"
	python3 "$TOP/tests/data/frame-rows.py" "$t/j2.pb" >"$t/j2.frames"
	diff "$t/j1.frames" "$t/j2.frames"
}

@test "-j 2 writes what -j 1 writes over the mix: records, counters, frames" {
	same $(mix_args) --states all
	same $(mix_args)
	same $(mix_args) -c 3 -i 1ms --rows 3
	same $(mix_args) -4
	# the frames of a namespace are its own: at least one per namespace with sockets
	[ "$(wc -l <"$BATS_TEST_TMPDIR/j2.frames")" -ge 10 ]
}

@test "-j 3 skipping finds what -j 1 --no-skip finds" {
	local t=$BATS_TEST_TMPDIR f=netns_inode,inet_diag_msg_socket_cookie,inet_diag_msg_state
	xtcp-dump $(mix_args) --no-skip -j 1 | xtcp-fmt -f tsv --no-header --fields $f >"$t/a"
	xtcp-dump $(mix_args) -j 3 | xtcp-fmt -f tsv --no-header --fields $f >"$t/b"
	[ -s "$t/a" ]
	diff "$t/a" "$t/b"
}

@test "a namespace busier than a thread's held replies: -j 2 still writes what -j 1 writes" {
	same $(mix_args) -n "$P-busy" -n "$P-0" --states established
	same -n "$P-busy" -n "$P-2" -n "$P-4" --states all -c 2 -i 1ms
}

@test "-j 2 over -n all while namespaces come and go: no crash, every poll has the mix" {
	local t=$BATS_TEST_TMPDIR i
	xtcp-dump -n all -i 100ms -c 15 -j 2 --states all >"$t/all.pb" 2>"$t/all.err" &
	DUMP_PID=$!
	for i in 1 2 3 4 5 6; do
		ip netns add "$P-churn-$i"
		ip netns del "$P-churn-$((i - 1))" 2>/dev/null || true
	done
	ip netns del "$P-churn-6"
	wait "$DUMP_PID"
	DUMP_PID=
	# every poll holds the listeners of the mix's namespace 2
	local polls
	polls=$(xtcp-fmt -f tsv --no-header --fields poll_sequence,netns,inet_diag_msg_state <"$t/all.pb" |
		awk -v ns="$P-2" '$2 == ns && $3 == "LISTEN" { print $1 }' | sort -un | wc -l)
	[ "$polls" -eq 15 ]
}

@test "-j: bad counts are usage errors" {
	local a
	for a in 0 x -1 ''; do
		run -2 --separate-stderr xtcp-dump -j "$a"
		[ "${#lines[@]}" -eq 0 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == *"--jobs '$a'"* ]]
	done
	run -2 --separate-stderr xtcp-dump --jobs=4096x
	[ "${#stderr_lines[@]}" -eq 1 ]
}
