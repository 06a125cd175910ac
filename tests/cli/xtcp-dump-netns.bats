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
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-churn"); do ip netns del "$ns"; done
}

# a dump a test left running when it failed
teardown() {
	[ -z "${DUMP_PID:-}" ] || kill "$DUMP_PID" 2>/dev/null || true
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
	run -0 bash -c "ip netns exec $P-a xtcp-dump -n default | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "$output" = "default" ]
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
	[ "$(grep -c "^xtcp-dump: network namespace '$P-churn[1-8]' vanished; no longer polled$" "$BATS_TEST_TMPDIR/err")" -eq 8 ]
	# every poll still delivered the stable namespaces (the one SIGTERM cut
	# short may lack the namespaces it did not reach)
	xtcp-fmt -f tsv --no-header --fields netns,poll_sequence <"$s" >"$BATS_TEST_TMPDIR/polls"
	last=$(cut -f2 "$BATS_TEST_TMPDIR/polls" | sort -n | tail -1)
	[ "$last" -ge 10 ]
	run -0 bash -c "grep '^$P-a	' '$BATS_TEST_TMPDIR/polls' | cut -f2 | sort -un"
	[ "$output" = "$(seq "$last")" ] || [ "$output" = "$(seq $((last - 1)))" ]
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

@test "unprivileged: own namespace still dumped, one line says what is missing" {
	command -v setpriv >/dev/null || skip "no setpriv"
	run -0 --separate-stderr bash -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all xtcp-dump -n all | xtcp-fmt -f tsv --no-header --fields netns | sort -u"
	[ "$output" = "default" ] || [ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "xtcp-dump: polling 1 network namespace; cannot enter "*"(needs CAP_SYS_ADMIN)"*"(needs CAP_SYS_PTRACE)" ]]
	run -1 --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all xtcp-dump -n "$P-a"
	[ "$stderr" = "xtcp-dump: cannot enter network namespace '$P-a' (/run/netns/$P-a): Operation not permitted (needs CAP_SYS_ADMIN)" ]
}
