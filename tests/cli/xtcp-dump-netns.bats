#!/usr/bin/env bats
# xtcp-dump -n: several network namespaces, discovery, churn, long runs, privileges.

load helpers

setup_file() {
	export P="xtcp-bats-ns-$$"
	netns_up "$P-a"
	netns_up "$P-b"
	# a: 2 IPv4 + 1 IPv6 connections (8 sockets), b: 1 IPv4 (4 sockets)
	ip netns exec "$P-a" python3 "$TOP/tests/data/hold.py" 2 1 >"$BATS_FILE_TMPDIR/a.out" &
	echo $! >"$BATS_FILE_TMPDIR/pids"
	ip netns exec "$P-b" python3 "$TOP/tests/data/hold.py" 1 0 >"$BATS_FILE_TMPDIR/b.out" &
	echo $! >>"$BATS_FILE_TMPDIR/pids"
	# c: reachable only through /proc/PID/ns/net (no bind mount): 3 IPv4 (8 sockets)
	unshare --net sh -c 'ip link set lo up && exec python3 "$0"/tests/data/hold.py 3 0' "$TOP" \
		>"$BATS_FILE_TMPDIR/c.out" &
	echo $! >"$BATS_FILE_TMPDIR/cpid"
	echo $! >>"$BATS_FILE_TMPDIR/pids"
	local f
	for f in a b c; do
		wait_until grep -q READY "$BATS_FILE_TMPDIR/$f.out" || { cat "$BATS_FILE_TMPDIR/$f.out" >&2; return 1; }
	done
}

teardown_file() {
	kill $(cat "$BATS_FILE_TMPDIR/pids") 2>/dev/null || true
	ip netns del "$P-a" 2>/dev/null || true
	ip netns del "$P-b" 2>/dev/null || true
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-\(churn\|gone\|named\|lim\)"); do ip netns del "$ns"; done
	rm -f /run/netns/"$P-stale"
	[ ! -s "$BATS_FILE_TMPDIR/lim.pid" ] || kill "$(cat "$BATS_FILE_TMPDIR/lim.pid")" 2>/dev/null || true
}

# a dump a test left running when it failed: what it said, and whether it was
# still alive (a test that gave up waiting shows why)
teardown() {
	[ -z "${DUMP_PID:-}" ] || {
		if kill -0 "$DUMP_PID" 2>/dev/null; then
			echo "# xtcp-dump $DUMP_PID still running: $(grep '^State' /proc/$DUMP_PID/status)," \
				"in $(cat /proc/$DUMP_PID/wchan 2>/dev/null) (syscall $(cut -d' ' -f1 /proc/$DUMP_PID/syscall 2>/dev/null))"
			find /proc/"$DUMP_PID"/fd -mindepth 1 -printf '# fd %f -> %l\n' 2>/dev/null
			ip netns list | awk '{print $1}' | while read -r n; do
				echo "# netns $n inode $(stat -L -c %i /run/netns/"$n" 2>/dev/null)"
			done
			kill "$DUMP_PID" 2>/dev/null || true
		else
			echo "# xtcp-dump $DUMP_PID had exited"
		fi
		[ ! -s "$BATS_TEST_TMPDIR/err" ] || sed 's/^/# stderr: /' "$BATS_TEST_TMPDIR/err"
	}
}

# fds PID: how many descriptors PID has open
fds() {
	ls /proc/"$1"/fd | wc -l
}

# files_are PID N: N of PID's descriptors are not sockets
files_are() {
	[ "$(find /proc/"$1"/fd -mindepth 1 -printf '%l\n' | grep -vc '^socket:')" -eq "$2" ]
}

# sockets PID: the inodes of PID's sockets
sockets() {
	find /proc/"$1"/fd -mindepth 1 -printf '%l\n' | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p'
}

# sockets_in NS PID: PID's sockets in network namespace NS, as NS sees them;
# other namespaces coming and going on the host do not count
sockets_in() {
	ip netns exec "$1" awk 'NR > 1 { print $NF }' /proc/net/netlink | grep -xF -f <(sockets "$2")
}

# closed PID INODE...: PID holds none of these sockets
closed() {
	! sockets "$1" | grep -qxF -f <(printf '%s\n' "${@:2}")
}

# writes_done PID N: PID made N write calls (xtcp-dump: one per poll)
writes_done() {
	[ "$(awk '/^syscw:/ {print $2}' /proc/"$1"/io)" -ge "$2" ]
}

# exited PID: PID is no longer running
exited() {
	! kill -0 "$1" 2>/dev/null
}

# rows NETNS_ARGS...: "netns inode state" per record
rows() {
	xtcp-dump "$@" | xtcp-fmt -f tsv --no-header --fields netns,netns_inode,inet_diag_msg_state
}

@test "-n all reports every namespace's sockets once, with name and inode" {
	local c_inode a_inode b_inode
	c_inode=$(stat -L -c %i /proc/"$(cat "$BATS_FILE_TMPDIR/cpid")"/ns/net)
	a_inode=$(stat -L -c %i /run/netns/"$P-a")
	b_inode=$(stat -L -c %i /run/netns/"$P-b")
	rows -n all >"$BATS_TEST_TMPDIR/rows" 2>"$BATS_TEST_TMPDIR/err"
	[ "$(grep -c "^$P-a	$a_inode	" "$BATS_TEST_TMPDIR/rows")" -eq 8 ]
	[ "$(grep -c "^$P-b	$b_inode	" "$BATS_TEST_TMPDIR/rows")" -eq 4 ]
	[ "$(grep -c "^netns:\[$c_inode\]	$c_inode	" "$BATS_TEST_TMPDIR/rows")" -eq 8 ]
	grep -q "^default	$(stat -L -c %i /proc/self/ns/net)	" "$BATS_TEST_TMPDIR/rows" ||
		[ "$(ss -tan | wc -l)" -le 1 ]
	# no socket twice: the kernel cookie is unique per namespace (only the idle test
	# namespaces are checked: a socket changing state mid-dump may be seen twice)
	xtcp-dump -n all 2>/dev/null |
		xtcp-fmt -f tsv --no-header --fields netns,netns_inode,inet_diag_msg_socket_cookie |
		grep -E "^($P-a|$P-b|netns:\\[$c_inode\\])	" >"$BATS_TEST_TMPDIR/cookies"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cookies")" -eq 20 ]
	[ -z "$(sort "$BATS_TEST_TMPDIR/cookies" | uniq -d)" ]
}

@test "-n NAME polls only that namespace; -n PATH and -n default too" {
	run -0 rows -n "$P-b"
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" == "$P-b	"* ]]
	local cpid
	cpid=$(cat "$BATS_FILE_TMPDIR/cpid")
	run -0 rows -n /proc/"$cpid"/ns/net
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[0]}" == "netns:["* ]]
	run -0 rows -n /run/netns/"$P-a"
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[0]}" == "$P-a	"* ]]
	run -0 rows -n "$P-a" -n "$P-b" -n "$P-a"
	[ "${#lines[@]}" -eq 12 ]
}

@test "the caller's own namespace is named by its bind mount, as -n NAME names it" {
	local a_inode c_inode cpid
	a_inode=$(stat -L -c %i /run/netns/"$P-a")
	run -0 bash -c "ip netns exec $P-a xtcp-dump | xtcp-fmt -f tsv --no-header --fields netns,netns_inode | sort -u"
	[ "$output" = "$P-a	$a_inode" ]
	# -n default is the caller's own namespace, whatever its name
	run -0 bash -c "ip netns exec $P-a xtcp-dump -n default | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "$output" = "$P-a" ]
	run -0 bash -c "ip netns exec $P-a xtcp-dump -n all 2>/dev/null | xtcp-fmt -f tsv --no-header --fields netns,netns_inode | sort | uniq -c"
	[[ "$output" == *" 8 $P-a	$a_inode"* ]]
	[[ "$output" != *"netns:[$a_inode]"* ]]
	# a namespace without a bind mount that is not the init one: netns:[INODE], as -n all calls it
	cpid=$(cat "$BATS_FILE_TMPDIR/cpid")
	c_inode=$(stat -L -c %i /proc/"$cpid"/ns/net)
	run -0 bash -c "nsenter --net=/proc/$cpid/ns/net xtcp-dump | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "$output" = "netns:[$c_inode]" ]
}

@test "a frame never holds two namespaces" {
	run -0 --separate-stderr bash -c "xtcp-dump -n $P-a -n $P-b | xtcp-show >/dev/null"
	[ "$stderr" = "frames=2 rows=12" ]
}

@test "-n of a missing namespace: one line, exit 1" {
	run -1 --separate-stderr xtcp-dump -n "$P-nope"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "xtcp-dump: network namespace '$P-nope': cannot open '/run/netns/$P-nope': No such file or directory" ]
	run -1 --separate-stderr xtcp-dump -n /proc/999999999/ns/net
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "-n of a file that is no network namespace says so" {
	run -1 --separate-stderr xtcp-dump -n /etc/passwd
	[ "$stderr" = "xtcp-dump: '/etc/passwd' is not a network namespace file" ]
	run -1 --separate-stderr xtcp-dump -n /proc/self/ns/mnt
	[ "$stderr" = "xtcp-dump: '/proc/self/ns/mnt' is not a network namespace file" ]
	# what a failed `ip netns add` leaves behind: named, an error; found by -n all, no namespace
	touch /run/netns/"$P-stale"
	run -1 --separate-stderr xtcp-dump -n "$P-stale"
	[ "$stderr" = "xtcp-dump: network namespace '$P-stale': '/run/netns/$P-stale' is not a network namespace file" ]
	run -0 --separate-stderr xtcp-dump -n all -c 3 -i 10ms
	[[ "$stderr" != *"$P-stale"* ]]
	rm /run/netns/"$P-stale"
}

# watch_then_delete NAME [ARGS...]: xtcp-dump -n NAME ARGS -c 0 into $T/s.pb,
# stderr to $T/err; once it has a socket in NAME, NAME is deleted. Sets DUMP_PID.
watch_then_delete() {
	ip netns add "$1"
	xtcp-dump -n "$1" "${@:2}" -i 50ms -c 0 >"$BATS_TEST_TMPDIR/s.pb" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	DUMP_PID=$!
	wait_until sockets_in "$1" $DUMP_PID
	ip netns del "$1"
}

# more_polls: the dump writes three more polls to $T/s.pb
more_polls() {
	local n
	n=$(xtcp-fmt -f tsv --no-header --fields poll_sequence <"$BATS_TEST_TMPDIR/s.pb" 2>/dev/null | tail -1)
	wait_until has_polls "$BATS_TEST_TMPDIR/s.pb" $((${n:-0} + 3))
}

# ended_with RC: the dump, stopped by SIGTERM if still running, exits with RC
ended_with() {
	local rc=0
	kill -TERM $DUMP_PID 2>/dev/null || true
	wait $DUMP_PID || rc=$?
	DUMP_PID=
	[ "$rc" -eq "$1" ]
}

# said_vanished NAME CAUSE...: the dump's stderr is one line, that NAME vanished
# for one of the CAUSEs
said_vanished() {
	local err cause
	err=$(without_schedule_notes <"$BATS_TEST_TMPDIR/err")
	for cause in "${@:2}"; do
		[ "$err" != "xtcp-dump: network namespace '$1' vanished: $cause" ] || return 0
	done
	echo "stderr: $err"
	return 1
}

# what `ip netns del NAME` leaves, depending on when a refresh looks: nothing, or
# (between its umount and unlink) a file that is no namespace
deleted() {
	echo "cannot open '/run/netns/$1': No such file or directory"
	echo "'/run/netns/$1' is not a network namespace file"
}

@test "a named namespace that vanishes: one line, exit 1 when nothing is left to poll" {
	watch_then_delete "$P-gone1"
	wait_until exited $DUMP_PID
	ended_with 1
	mapfile -t causes < <(deleted "$P-gone1")
	said_vanished "$P-gone1" "${causes[@]}"
}

@test "one of several named namespaces vanishes: one line, the others still polled, exit 1" {
	watch_then_delete "$P-gone2" -n "$P-b"
	wait_until grep -q vanished "$BATS_TEST_TMPDIR/err"
	more_polls
	ended_with 1
	mapfile -t causes < <(deleted "$P-gone2")
	said_vanished "$P-gone2" "${causes[@]}"
}

@test "a named namespace deleted and made again is another one: not followed, exit 1" {
	watch_then_delete "$P-gone3" -n "$P-b"
	ip netns add "$P-gone3"
	wait_until grep -q vanished "$BATS_TEST_TMPDIR/err"
	more_polls
	[ -z "$(sockets_in "$P-gone3" $DUMP_PID)" ]
	ended_with 1
	mapfile -t causes < <(deleted "$P-gone3")
	said_vanished "$P-gone3" "${causes[@]}" "'/run/netns/$P-gone3' leads to another namespace now"
}

@test "-r and -n together are a usage error" {
	run -2 --separate-stderr xtcp-dump -r x -n all
	[[ "$stderr" == *"-r and -n cannot be combined"* ]]
}

@test "churn: namespaces come and go during -n all -i 100ms" {
	local s=$BATS_TEST_TMPDIR/s.pb i ns files socks rc=0 last
	xtcp-dump -n all -i 100ms -c 0 >"$s" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	DUMP_PID=$!
	wait_until has_polls "$s" 2
	files=$(find /proc/$DUMP_PID/fd -mindepth 1 -printf '%l\n' | grep -vc '^socket:')
	# a socket for each new namespace, two at a time, closed again when they vanish
	for i in 1 3 5 7; do
		socks=()
		for ns in "$P-churn$i" "$P-churn$((i + 1))"; do
			ip netns add "$ns"
			wait_until sockets_in "$ns" $DUMP_PID
			socks+=($(sockets_in "$ns" $DUMP_PID))
		done
		ip netns del "$P-churn$i"
		ip netns del "$P-churn$((i + 1))"
		wait_until closed $DUMP_PID "${socks[@]}"
	done
	# and nothing else left open (between refreshes: a refresh reads directories)
	wait_until files_are $DUMP_PID "$files"
	kill -TERM $DUMP_PID
	wait $DUMP_PID || rc=$?
	DUMP_PID=
	cat "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 0 ]
	# namespaces of -n all that come and go are churn, not news
	run -1 grep "$P-churn" "$BATS_TEST_TMPDIR/err"
	# every poll still delivered the stable namespaces (the one SIGTERM cut
	# short may lack the namespaces it did not reach)
	xtcp-fmt -f tsv --no-header --fields netns,poll_sequence <"$s" >"$BATS_TEST_TMPDIR/polls"
	last=$(cut -f2 "$BATS_TEST_TMPDIR/polls" | sort -n | tail -1)
	[ "$last" -ge 10 ]
	run -0 bash -c "grep '^$P-a	' '$BATS_TEST_TMPDIR/polls' | cut -f2 | sort -un"
	[ "$output" = "$(seq "$last")" ] || [ "$output" = "$(seq $((last - 1)))" ]
}

# named_in FILE INODE NAME: a record of FILE from namespace INODE is named NAME
named_in() {
	xtcp-fmt -f tsv --no-header --fields netns_inode,netns <"$1" | grep -qxF "$2	$3"
}

@test "a namespace first found through a process takes its bind-mount name once it has one" {
	local s=$BATS_TEST_TMPDIR/s.pb cpid ino
	cpid=$(cat "$BATS_FILE_TMPDIR/cpid")
	ino=$(stat -L -c %i /proc/"$cpid"/ns/net)
	xtcp-dump -n all -i 50ms -c 0 >"$s" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	DUMP_PID=$!
	wait_until named_in "$s" "$ino" "netns:[$ino]"
	# as `ip netns add` names a namespace, here after the dump found it
	touch /run/netns/"$P-named"
	mount --bind /proc/"$cpid"/ns/net /run/netns/"$P-named"
	wait_until named_in "$s" "$ino" "$P-named"
	ip netns del "$P-named"
	ended_with 0
}

@test "long run: descriptors and memory stay flat over thousands of polls" {
	# named namespaces, so that other namespaces coming and going on the host do not count
	xtcp-dump -n "$P-a" -n "$P-b" -n /proc/"$(cat "$BATS_FILE_TMPDIR/cpid")"/ns/net -n default \
		-i 2ms -c 0 --states listen >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! rss1 rss2 fd1 fd2 rc=0
	DUMP_PID=$pid
	# after a warm-up (under the sanitizers RSS grows once, by some 70 kB,
	# within the first seconds), a leak of any size per poll shows over
	# thousands more polls (a poll writes a frame per namespace)
	wait_until writes_done $pid 10000
	fd1=$(fds $pid)
	rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
	wait_until writes_done $pid 20000
	fd2=$(fds $pid)
	rss2=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
	kill -TERM $pid
	wait $pid || rc=$?
	DUMP_PID=
	echo "fds $fd1 -> $fd2, rss $rss1 -> $rss2 kB"
	[ "$rc" -eq 0 ]
	[ "$fd1" -eq "$fd2" ]
	[ $((rss2 - rss1)) -le 64 ]
}

@test "capabilities of a user namespace: -n all names what it cannot see and why, blames no capability" {
	run -0 --separate-stderr bash -c "unshare --user --map-root-user xtcp-dump -n all | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" != *"needs CAP_"* ]]
	[[ "$stderr" =~ "cannot enter "[0-9]+" more, first '"[^\']+"': Operation not permitted (CAP_SYS_ADMIN counts only inside this process's user namespace)" ]]
	[[ "$stderr" =~ "cannot look up the namespace of "[0-9]+" processes, first process "[0-9]+" ("[^\)]+"): Permission denied (CAP_SYS_PTRACE counts only inside this process's user namespace)"$ ]]
	run -1 --separate-stderr unshare --user --map-root-user xtcp-dump -n "$P-a"
	[ "$stderr" = "xtcp-dump: cannot enter network namespace '$P-a' (/run/netns/$P-a): Operation not permitted (CAP_SYS_ADMIN counts only inside this process's user namespace)" ]
}

@test "a security module refusing a held CAP_SYS_PTRACE: the process and the cause are named" {
	run python3 "$TOP/tests/data/landlocked.py" true
	[ "$status" -ne 77 ] || skip "no Landlock"
	run -0 --separate-stderr python3 "$TOP/tests/data/landlocked.py" xtcp-dump -n all
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" != *"needs CAP_"* ]]
	[[ "$stderr" =~ "cannot look up the namespace of "[0-9]+" processes, first process "[0-9]+" ("[^\)]+"): Permission denied (despite CAP_SYS_PTRACE: a security module's policy, such as Landlock, AppArmor or SELinux)"$ ]]
}

@test "processes exiting and zombies during -n all: nothing to say" {
	# a pid namespace of its own: the only processes are the ones made here
	unshare --pid --fork --mount-proc bash -c '
		python3 -c "import os, time
for _ in range(20):
    if os.fork() == 0:
        os._exit(0)
time.sleep(30)" &
		( while :; do /bin/true; done ) &
		xtcp-dump -n all -c 50 -i 10ms >/dev/null' 2>"$BATS_TEST_TMPDIR/err"
	[ -z "$(without_schedule_notes <"$BATS_TEST_TMPDIR/err")" ]
}

@test "unprivileged: own namespace still dumped, one line says what is missing" {
	command -v setpriv >/dev/null || skip "no setpriv"
	run -0 --separate-stderr bash -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all xtcp-dump -n all | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "$output" = "default" ] || [ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: polling 1 network namespace; cannot enter "*"(needs CAP_SYS_ADMIN)"*"(needs CAP_SYS_PTRACE)" ]]
	run -1 --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all xtcp-dump -n "$P-a"
	[ "$stderr" = "xtcp-dump: cannot enter network namespace '$P-a' (/run/netns/$P-a): Operation not permitted (needs CAP_SYS_ADMIN)" ]
}

# lim_polled FILE: the $P-lim namespaces of FILE's records, one line each
lim_polled() {
	xtcp-fmt -f tsv --no-header --fields netns <"$1" | grep "^$P-lim" | sort -u
}

# rest_polled FILE FIRST: every $P-lim namespace not listed in FIRST is in FILE
rest_polled() {
	[ "$(lim_polled "$1" | grep -cvxF -f "$2")" -eq $((30 - $(wc -l <"$2"))) ]
}

@test "more namespaces than descriptors: one line names what is left out, the rest are polled, and the left out once there is room" {
	local i args=() s=$BATS_TEST_TMPDIR/s.pb n rc=0
	for i in $(seq 30); do
		args+=("$P-lim$i:listen")
	done
	mix_up "$BATS_FILE_TMPDIR/lim.pid" "${args[@]}"
	# 3 descriptors a namespace, 64 kept free for the rest: 150 leaves room for
	# about 25 of the 34 namespaces (an IPv4 and an IPv6 listener each)
	bash -c 'ulimit -n 150 && exec xtcp-dump -n all -c 1' >"$s" 2>"$BATS_TEST_TMPDIR/err"
	n=$(lim_polled "$s" | wc -l)
	[ "$n" -gt 5 ] && [ "$n" -lt 30 ]
	run -0 grep -c "not polling" "$BATS_TEST_TMPDIR/err"
	[ "$output" -eq 1 ]
	grep -Eq "^xtcp-dump: not polling [0-9]+ network namespaces \\(first '[^']+'\\): the descriptor limit \\(ulimit -n\\) of 150 is reached at 3 descriptors a namespace; the rest are polled$" "$BATS_TEST_TMPDIR/err"
	# those polled are whole
	for i in $(lim_polled "$s"); do
		[ "$(xtcp-fmt -f tsv --no-header --fields netns <"$s" | grep -cx "$i")" -eq 2 ]
	done
	# a soft limit is raised to the hard one first
	bash -c 'ulimit -Sn 150 && exec xtcp-dump -n all -c 1' >"$s" 2>"$BATS_TEST_TMPDIR/err"
	[ "$(lim_polled "$s" | wc -l)" -eq 30 ]
	run -1 grep "not polling" "$BATS_TEST_TMPDIR/err"
	# room made by namespaces going: the left out are polled
	bash -c 'ulimit -n 150 && exec xtcp-dump -n all -c 0 -i 100ms' >"$s" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	DUMP_PID=$!
	wait_until has_polls "$s" 1
	lim_polled "$s" >"$BATS_TEST_TMPDIR/first"
	for i in $(cat "$BATS_TEST_TMPDIR/first"); do ip netns del "$i"; done
	wait_until rest_polled "$s" "$BATS_TEST_TMPDIR/first"
	kill -TERM $DUMP_PID
	wait $DUMP_PID || rc=$?
	DUMP_PID=
	[ "$rc" -eq 0 ]
}
