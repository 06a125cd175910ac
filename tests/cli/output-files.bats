#!/usr/bin/env bats
# -o FILE and -w FILE, for every tool that has them: what is at FILE (nothing, a file, a link,
# a device, a FIFO, a socket, a directory), when a run commits, what a failed run leaves.

load helpers

setup_file() {
	export NS="xtcp-bats-out-$$"
	netns_up "$NS"
	hold_start "$NS" 3 2
	echo "$HOLD_PID" >"$BATS_FILE_TMPDIR/hold.pid"
	xtcp-dump -r "$FIXTURES/6_6_44/tcp_10_sockets.pcap" >"$BATS_FILE_TMPDIR/cap.pb"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/hold.pid")" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

setup() {
	T=$BATS_TEST_TMPDIR
	CAP=$BATS_FILE_TMPDIR/cap.pb
	PCAP=$FIXTURES/6_6_44/tcp_10_sockets.pcap
}

teardown() {
	local m
	for m in "$T"/mnt*; do
		! mountpoint -q "$m" || umount "$m"
	done
	[ -z "${BG_PID:-}" ] || kill "$BG_PID" 2>/dev/null || true
	[ -z "${D:-}" ] || rm -rf "$D"
}

# Every writer of a file: the tools with -o, and xtcp-dump's -w.
WRITERS="dump filter fmt gen rate save"

# writer NAME [-o FILE]: one run of a writer on a fixed input; for "save" (xtcp-dump -w in
# the test namespace) -o FILE stands for -w FILE
writer() {
	local name=$1
	shift
	case $name in
	dump) xtcp-dump -r "$PCAP" "$@" ;;
	filter) xtcp-filter "$@" 'state == LISTEN' "$CAP" ;;
	fmt) xtcp-fmt -f csv "$@" "$CAP" ;;
	gen) xtcp-bench gen -n 50 "$@" ;;
	rate) xtcp-rate "$@" "$CAP" ;;
	save) ip netns exec "$NS" xtcp-dump --states listen "${@/#-o/-w}" >/dev/null ;;
	esac
}

# view NAME FILE: what a writer's output says, the same from run to run (-r stamps the time of
# the run; -w saves the replies, which -r reads back)
view() {
	case $1 in
	dump) xtcp-fmt -f tsv --fields inet_diag_msg_inode,tcp_info_rtt,tcp_info_bytes_acked "$2" ;;
	save) xtcp-dump -r "$2" | xtcp-fmt -f tsv --fields inet_diag_msg_inode,inet_diag_msg_state ;;
	*) cat "$2" ;;
	esac
}

# want NAME: view of what the writer writes to a new file
want() {
	mkdir -p "$T/want"
	writer "$1" -o "$T/want/$1"
	view "$1" "$T/want/$1"
}

# only DIR NAME...: DIR holds exactly these names (no temporary file left behind)
only() {
	local dir=$1 got want=
	shift
	got=$(ls -A "$dir" | sort)
	[ $# -eq 0 ] || want=$(printf '%s\n' "$@" | sort)
	[ "$got" = "$want" ] || { echo "in $dir:" $got; return 1; }
}

# --- what is at FILE ---------------------------------------------------------------------------

@test "a character device is written, not replaced (mknod c 1 3 stays /dev/null's twin)" {
	local w
	for w in $WRITERS; do
		mkdir "$T/$w"
		mknod "$T/$w/null" c 1 3
		writer "$w" -o "$T/$w/null" || { echo "$w failed"; return 1; }
		[ -c "$T/$w/null" ] || { echo "$w replaced the device"; return 1; }
		[ "$(stat -c %t:%T "$T/$w/null")" = 1:3 ]
		only "$T/$w" null
	done
}

@test "a full device (mknod c 1 7, /dev/full's twin) fails as a full disk does: one line, exit 1" {
	local w
	# never /dev/full itself: a regression would replace the machine's device
	mknod "$T/full" c 1 7
	for w in $WRITERS; do
		run -1 --separate-stderr writer "$w" -o "$T/full"
		[ "${#stderr_lines[@]}" -eq 1 ] || { echo "$w: $stderr"; return 1; }
		[[ "$stderr" == "xtcp-"*": cannot write '$T/full': No space left on device" ]] ||
			{ echo "$w: $stderr"; return 1; }
		[ -c "$T/full" ]
	done
}

@test "a FIFO is written directly: its reader gets the whole output, the FIFO stays" {
	local w
	for w in $WRITERS; do
		mkdir "$T/$w"
		mkfifo "$T/$w/fifo"
		cat "$T/$w/fifo" >"$T/got.$w" &
		BG_PID=$!
		writer "$w" -o "$T/$w/fifo" || { echo "$w failed"; return 1; }
		[ -p "$T/$w/fifo" ] || { echo "$w replaced the FIFO"; return 1; }
		wait "$BG_PID"
		BG_PID=
		only "$T/$w" fifo
		diff <(view "$w" "$T/got.$w") <(want "$w")
	done
}

@test "a Unix stream socket is connected to and written" {
	local w
	for w in $WRITERS; do
		mkdir "$T/$w"
		python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
with open(sys.argv[2], "wb") as out:
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)' "$T/$w/sock" "$T/got.$w" >"$T/ready" &
		BG_PID=$!
		wait_until grep -q ready "$T/ready"
		writer "$w" -o "$T/$w/sock" || { echo "$w failed"; return 1; }
		[ -S "$T/$w/sock" ] || { echo "$w replaced the socket"; return 1; }
		wait "$BG_PID"
		BG_PID=
		diff <(view "$w" "$T/got.$w") <(want "$w")
	done
}

@test "/dev/fd/N and /proc/self/fd/N are that descriptor: appended to as it is, not replaced" {
	local w
	# (never /dev/stdout itself in a test: a regression would replace the machine's link)
	for w in $WRITERS; do
		echo first >"$T/log.$w"
		writer "$w" -o /dev/fd/3 3>>"$T/log.$w" || { echo "$w failed"; return 1; }
		writer "$w" -o /proc/self/fd/3 3>>"$T/log.$w" || { echo "$w failed"; return 1; }
		[ "$(head -1 "$T/log.$w")" = first ]
		tail -n +2 "$T/log.$w" >"$T/got.$w"
		# two runs' outputs, one after the other
		want "$w" >/dev/null
		cat "$T/want/$w" "$T/want/$w" >"$T/twice.$w"
		diff <(view "$w" "$T/got.$w") <(view "$w" "$T/twice.$w")
	done
}

@test "a directory is refused with one line, exit 1" {
	local w
	mkdir "$T/dir"
	for w in $WRITERS; do
		run -1 --separate-stderr writer "$w" -o "$T/dir"
		[[ "$stderr" == "xtcp-"*": cannot create '$T/dir': Is a directory" ]] || { echo "$w: $stderr"; return 1; }
		only "$T/dir"
	done
}

@test "a symbolic link stays a link: its target is replaced, in the target's directory" {
	local w
	# the target is on another file system: a temporary file beside the link could not be
	# renamed over it
	mkdir "$T/mnt"
	mount -t tmpfs -o size=4m tmpfs "$T/mnt"
	for w in $WRITERS; do
		mkdir "$T/$w" "$T/mnt/$w"
		echo old >"$T/mnt/$w/data"
		ln -s "../mnt/$w/data" "$T/$w/link"
		ln -s link "$T/$w/chain"
		writer "$w" -o "$T/$w/chain" || { echo "$w failed"; return 1; }
		[ -L "$T/$w/link" ] && [ -L "$T/$w/chain" ]
		[ "$(readlink "$T/$w/link")" = "../mnt/$w/data" ]
		diff <(view "$w" "$T/mnt/$w/data") <(want "$w")
		only "$T/$w" link chain
		only "$T/mnt/$w" data
		# a dangling link creates its target
		ln -s "../mnt/$w/new" "$T/$w/dangling"
		writer "$w" -o "$T/$w/dangling"
		[ -L "$T/$w/dangling" ] && [ -f "$T/mnt/$w/new" ]
		diff <(view "$w" "$T/mnt/$w/new") <(want "$w")
	done
}

@test "a replaced file keeps its mode, owner and group; a new file gets 0666 & ~umask" {
	local w
	for w in $WRITERS; do
		mkdir "$T/$w"
		echo secret >"$T/$w/f"
		chown nobody:nogroup "$T/$w/f"
		chmod 0600 "$T/$w/f"
		writer "$w" -o "$T/$w/f" || { echo "$w failed"; return 1; }
		[ "$(stat -c '%a %U %G' "$T/$w/f")" = "600 nobody nogroup" ] ||
			{ echo "$w: $(stat -c '%a %U %G' "$T/$w/f")"; return 1; }
		diff <(view "$w" "$T/$w/f") <(want "$w")
		(umask 027 && writer "$w" -o "$T/$w/new")
		[ "$(stat -c '%a %U' "$T/$w/new")" = "640 root" ]
		only "$T/$w" f new
	done
}

@test "a caller who cannot give the old group: the group loses its permissions, never gains" {
	# a directory nobody may write in, on a path nobody may walk (bats's own is root's only)
	D=$(mktemp -d /tmp/xtcp-bats-out.XXXXXX)
	chmod 755 "$D"
	mkdir "$D/d"
	chown nobody "$D/d"
	cp "$CAP" "$D/cap.pb"
	echo secret >"$D/d/f"
	chmod 0664 "$D/d/f"
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups xtcp-fmt -f json -o "$D/d/f" "$D/cap.pb"
	[ "$(stat -c '%a %U %G' "$D/d/f")" = "604 nobody nogroup" ]
	only "$D/d" f
}

# --- when -o commits ---------------------------------------------------------------------------

# failed_run DESCRIPTION CMD...: CMD (with OUT in its words standing for -o's file) exits 1,
# and OUT still holds what it held, nothing else in its directory
failed_run() {
	local what=$1 dir
	shift
	dir=$(mktemp -d "$T/run.XXXXXX")
	echo precious >"$dir/out"
	run -1 --separate-stderr "${@//OUT/$dir/out}"
	[ "$(cat "$dir/out")" = precious ] || { echo "$what: the file was replaced"; return 1; }
	only "$dir" out || { echo "$what"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "$what: $stderr"; return 1; }
}

@test "a failed run never replaces or truncates the file, and leaves no temporary file" {
	python3 "$TOP/tests/data/pcaptool.py" truncate "$PCAP" "$T/t.pcap" $(($(stat -c %s "$PCAP") / 2))
	head -c $(($(stat -c %s "$CAP") / 2)) "$CAP" >"$T/t.pb"
	head -c 100 /dev/urandom >"$T/garbage"
	echo '{"tcp_info_rtt": "fast"}' >"$T/bad.json"
	failed_run "dump: a missing capture" xtcp-dump -r /nonexistent -o OUT
	failed_run "dump: a truncated capture" xtcp-dump -r "$T/t.pcap" -o OUT
	failed_run "dump: garbage" xtcp-dump -r "$T/garbage" -o OUT
	failed_run "dump: a missing namespace" xtcp-dump -n xtcp-bats-gone-$$ -o OUT
	failed_run "dump -w: a missing namespace" xtcp-dump -n xtcp-bats-gone-$$ -w OUT
	failed_run "fmt: a missing input" xtcp-fmt -o OUT /nonexistent
	failed_run "fmt: a truncated stream" xtcp-fmt -f csv -o OUT "$T/t.pb"
	failed_run "fmt -f protobuf: a truncated stream" xtcp-fmt -f protobuf -o OUT "$T/t.pb"
	failed_run "fmt: a good input, then a missing one" xtcp-fmt -o OUT "$CAP" /nonexistent
	failed_run "fmt --from json: a bad value" xtcp-fmt --from json -o OUT "$T/bad.json"
	failed_run "filter: a missing input" xtcp-filter -o OUT 'rtt > 0' /nonexistent
	failed_run "filter: a truncated stream" xtcp-filter -o OUT 'rtt > 0' "$T/t.pb"
	failed_run "filter -c: a truncated stream" xtcp-filter -c -o OUT 'rtt > 0' "$T/t.pb"
	failed_run "rate: a missing input" xtcp-rate -o OUT /nonexistent
	failed_run "rate: a truncated stream" xtcp-rate -o OUT "$T/t.pb"
	failed_run "rate: garbage" xtcp-rate --changed -o OUT "$T/garbage"
}

@test "a full disk under -o or -w: exit 1, one line, the old file intact, no temporary file" {
	local w
	mkdir "$T/mnt"
	mount -t tmpfs -o size=64k tmpfs "$T/mnt"
	for w in $WRITERS; do
		echo precious >"$T/mnt/$w"
	done
	dd if=/dev/zero of="$T/mnt/fill" bs=4k 2>/dev/null || true
	for w in $WRITERS; do
		run -1 --separate-stderr writer "$w" -o "$T/mnt/$w"
		[ "${#stderr_lines[@]}" -eq 1 ] || { echo "$w: $stderr"; return 1; }
		[[ "$stderr" == *"'$T/mnt/$w'"*"No space left on device" ]] || { echo "$w: $stderr"; return 1; }
		[ "$(cat "$T/mnt/$w")" = precious ]
	done
	only "$T/mnt" fill $WRITERS
}

@test "SIGINT, SIGTERM and SIGHUP end a run normally: -o commits what was written" {
	local sig rc tmp
	for sig in INT TERM HUP; do
		mkdir "$T/$sig"
		echo precious >"$T/$sig/s.pb"
		ip netns exec "$NS" xtcp-dump -c 0 -i 100ms -o "$T/$sig/s.pb" 3>&- &
		BG_PID=$! rc=0
		tmp_polls() { tmp=$(ls "$T/$sig"/.s.pb.* 2>/dev/null) && has_polls "$tmp" 2; }
		wait_until tmp_polls
		[ "$(cat "$T/$sig/s.pb")" = precious ]
		kill -$sig $BG_PID
		wait $BG_PID || rc=$?
		BG_PID=
		[ "$rc" -eq 0 ] || { echo "SIG$sig: exit $rc"; return 1; }
		has_polls "$T/$sig/s.pb" 2
		run -0 --separate-stderr xtcp-show "$T/$sig/s.pb"
		[[ "$stderr" == frames=* ]]
		only "$T/$sig" s.pb
	done
}

@test "xtcp-bench gen: a signal ends the run as N would, in whole frames, committed" {
	local sig rc tmp
	# on a tmpfs of its own: a gen that did not stop would soon fill it and fail
	mkdir "$T/mnt"
	mount -t tmpfs -o size=256m tmpfs "$T/mnt"
	for sig in INT TERM HUP; do
		mkdir "$T/mnt/$sig"
		xtcp-bench gen -n 100000000 -o "$T/mnt/$sig/g.pb" &
		BG_PID=$! rc=0
		tmp_written() { tmp=$(ls "$T/mnt/$sig"/.g.pb.* 2>/dev/null) && [ -s "$tmp" ]; }
		wait_until tmp_written
		kill -$sig $BG_PID
		wait $BG_PID || rc=$?
		BG_PID=
		[ "$rc" -eq 0 ] || { echo "SIG$sig: exit $rc"; return 1; }
		run -0 --separate-stderr xtcp-show "$T/mnt/$sig/g.pb"
		[[ "$stderr" =~ ^frames=[1-9][0-9]*\ rows=[1-9][0-9]*$ ]]
		only "$T/mnt/$sig" g.pb
		rm "$T/mnt/$sig/g.pb"
	done
}

# --- an empty stream is a failed writer's -----------------------------------------------------

@test "a successful xtcp-dump writes a frame even when it finds no socket" {
	run -0 bash -c "ip netns exec $NS xtcp-dump --states syn-sent | od -An -tx1"
	[ "$output" = " 00" ]
	run -0 bash -c "ip netns exec $NS xtcp-dump -c 2 -i 100ms --states syn-sent -o '$T/e.pb' && od -An -tx1 '$T/e.pb'"
	[ "$output" = " 00" ]
	# a failed one writes nothing
	run -1 bash -c "set -o pipefail; xtcp-dump -n xtcp-bats-gone-$$ | wc -c"
	[ "${lines[-1]}" = 0 ]
}

@test "xtcp-filter keeps one empty frame when no record of a stream matches, none of no stream" {
	run -0 --separate-stderr bash -c "xtcp-filter 'rtt > 1h' '$CAP' | xtcp-show"
	[ "$stderr" = "frames=1 rows=0" ]
	run -0 bash -c "xtcp-filter 'rtt > 1h' </dev/null | wc -c"
	[ "$output" = 0 ]
}

@test "-o refuses a stream of no frame: one line, exit 1, nothing written; an empty frame is fine" {
	T=$T/d
	mkdir "$T"
	: >"$T/empty.pb"
	printf '\x00' >"$T/frame.pb"
	run -1 --separate-stderr xtcp-fmt -f csv --fields netns -o "$T/out.csv" "$T/empty.pb"
	[ "$stderr" = "xtcp-fmt: '$T/empty.pb': not a single frame, as a failed xtcp-dump leaves; '$T/out.csv' not written" ]
	[ ! -e "$T/out.csv" ]
	run -1 --separate-stderr xtcp-fmt -f csv --fields netns -o "$T/out.csv" "$T/frame.pb" - </dev/null
	[ "$stderr" = "xtcp-fmt: standard input: not a single frame, as a failed xtcp-dump leaves; '$T/out.csv' not written" ]
	run -1 --separate-stderr xtcp-filter -o "$T/out.pb" 'rtt > 0' "$T/empty.pb"
	[ "$stderr" = "xtcp-filter: '$T/empty.pb': not a single frame, as a failed xtcp-dump leaves; '$T/out.pb' not written" ]
	run -1 --separate-stderr xtcp-filter -c -o "$T/out.pb" 'rtt > 0' "$T/empty.pb"
	run -1 --separate-stderr xtcp-rate -o "$T/out.pb" "$T/empty.pb"
	[ "$stderr" = "xtcp-rate: '$T/empty.pb': not a single frame, as a failed xtcp-dump leaves; '$T/out.pb' not written" ]
	only "$T" empty.pb frame.pb
	# a stream whose frame holds no row is a valid stream
	run -0 xtcp-fmt -f csv --fields netns -o "$T/out.csv" "$T/frame.pb"
	[ "$(cat "$T/out.csv")" = netns ]
	run -0 xtcp-filter -c -o "$T/n" 'rtt > 0' "$T/frame.pb"
	[ "$(cat "$T/n")" = 0 ]
	# to standard output an empty stream is still an empty result
	run -0 xtcp-fmt -f csv --fields netns "$T/empty.pb"
	[ "$output" = netns ]
}

@test "the README's cron line: a failing xtcp-dump leaves no CSV and the job fails" {
	local line
	T=$T/d
	mkdir "$T"
	# the line as cron runs it: /bin/sh, % unescaped, the directory this test's
	line=$(grep -m1 '^\*/5 \* \* \* \* xtcp-dump .*| xtcp-fmt .* -o ' "$TOP/README.md")
	line=${line#'*/5 * * * * '}
	line=${line//\\%/%}
	line=${line//\/var\/lib\/xtcp/$T}
	[[ "$line" == "xtcp-dump "*" -o $T/"*.csv ]]
	run -1 --separate-stderr sh -c "${line/xtcp-dump /xtcp-dump -n xtcp-bats-gone-$$ }"
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[1]}" == "xtcp-fmt: standard input: not a single frame, as a failed xtcp-dump leaves; '$T/sockets-"*".csv' not written" ]]
	only "$T"
	# and when it works, the CSV: a header and the namespace's 10 established sockets
	run -0 ip netns exec "$NS" sh -c "$line"
	[ "$(cat "$T"/sockets-*.csv | wc -l)" -eq 11 ]
}

# --- -w ---------------------------------------------------------------------------------------

@test "-w on a full disk: one line, exit 1 at once, the main stream whole, -o not committed" {
	mkdir "$T/mnt"
	mount -t tmpfs -o size=64k tmpfs "$T/mnt"
	dd if=/dev/zero of="$T/mnt/fill" bs=4k 2>/dev/null || true
	run -1 --separate-stderr timeout 30 ip netns exec "$NS" xtcp-dump -c 0 -i 100ms -w "$T/mnt/raw"
	[ "$(without_schedule_notes <<<"$stderr")" = "xtcp-dump: cannot write '$T/mnt/raw': No space left on device" ]
	only "$T/mnt" fill
	# room for a few polls: those before the failure are all in the main stream, whole
	rm "$T/mnt/fill"
	head -c 40k /dev/zero >"$T/mnt/fill"
	run -1 --separate-stderr bash -c "timeout 30 ip netns exec $NS xtcp-dump -c 0 -i 100ms -w '$T/mnt/raw' >'$T/main.pb'"
	[ "$(without_schedule_notes <<<"$stderr")" = "xtcp-dump: cannot write '$T/mnt/raw': No space left on device" ]
	run -0 --separate-stderr xtcp-show "$T/main.pb"
	[[ "$stderr" =~ ^frames=[0-9]+\ rows=[0-9]+$ ]]
	[ "$(xtcp-fmt -f tsv --no-header --fields poll_sequence "$T/main.pb" | sort -n | uniq -c |
		awk '$1 == 12' | wc -l)" -ge 1 ]
	only "$T/mnt" fill
	# with -o the run commits nothing
	echo precious >"$T/o.pb"
	run -1 --separate-stderr timeout 30 ip netns exec "$NS" xtcp-dump -c 0 -i 100ms -w "$T/mnt/raw" -o "$T/o.pb"
	[ "$(without_schedule_notes <<<"$stderr")" = "xtcp-dump: cannot write '$T/mnt/raw': No space left on device" ]
	[ "$(cat "$T/o.pb")" = precious ]
	only "$T/mnt" fill
}
