#!/usr/bin/env bats
# xtcp-dump's owner fields on a live kernel: a cgroup tree named like docker,
# containerd, CRI-O, podman, Kubernetes pods (systemd and cgroupfs drivers)
# and systemd services, with processes holding known sockets in each, in
# three network namespaces.  Independent truths: /proc/PID/cgroup for the
# path, `ss -tanpe` for the processes.

load helpers

ID1=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ID2=1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ID3=2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ID4=3123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ID5=4123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ID6=5123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
UID1=1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c61
UID2=1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c62
UID3=1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c63

# name  netns  cgroup (below the test's own)  container runtime pod unit  options
HOLDERS="own-docker	a	system.slice/docker-$ID1.scope	$ID1	docker	-	-	-
own-dockerfs	b	docker/$ID2	$ID2	docker	-	-	-
own-containerd	a	kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID1//-/_}.slice/cri-containerd-$ID3.scope	$ID3	containerd	$UID1	-	-
own-crio	b	kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID2//-/_}.slice/crio-$ID4.scope	$ID4	cri-o	$UID2	-	-
own-podman	c	machine.slice/libpod-$ID5.scope	$ID5	podman	-	-	-
own-kubefs	c	kubepods/burstable/pod$UID3/$ID6	$ID6	-	$UID3	-	-
own-service	a	system.slice/xtcp-test.service	-	-	-	xtcp-test.service	-
own-worker	b	system.slice/outer.service/worker	-	-	-	outer.service	--fork"

# cgroup2_mount: the first cgroup2 mount point in our mountinfo
cgroup2_mount() {
	awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } } }' \
		/proc/self/mountinfo
}

# start NAME NETNS CGROUP [OPTS]: a holder moved into CGROUP before it makes a socket
start() {
	mkdir -p "$CG/$3"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" python3 "$3" "$4" 2 $5' \
		sh "$CG/$3" "$P-$2" "$TOP/tests/data/owner-hold.py" "$1" "${4:-}" \
		>"$BATS_FILE_TMPDIR/$1.out" 2>&1 &
	wait_until grep -q READY "$BATS_FILE_TMPDIR/$1.out" || { cat "$BATS_FILE_TMPDIR/$1.out" >&2; return 1; }
	awk '/READY/ { print $2 }' "$BATS_FILE_TMPDIR/$1.out"
}

setup_file() {
	export P="xtcp-bats-own-$$"
	local ns mnt
	for ns in a b c d e f; do netns_up "$P-$ns"; done
	# the hierarchy, where it is mounted; mount it when it is not
	mnt=$(cgroup2_mount)
	if [ -z "$mnt" ]; then
		mkdir -p "$BATS_FILE_TMPDIR/cg2-own"
		mount -t cgroup2 none "$BATS_FILE_TMPDIR/cg2-own"
		mnt=$BATS_FILE_TMPDIR/cg2-own
		echo "$mnt" >"$BATS_FILE_TMPDIR/mounted"
	fi
	export CGROOT=$mnt CG=$mnt/$P
	mkdir "$CG"
	# a second mount of the same hierarchy, outside /sys: what `ip netns exec` sees
	mkdir -p "$BATS_FILE_TMPDIR/cg2"
	mount -t cgroup2 none "$BATS_FILE_TMPDIR/cg2"
	echo "$BATS_FILE_TMPDIR/cg2" >>"$BATS_FILE_TMPDIR/mounted"

	local name netns cgroup container runtime pod unit opts pid
	: >"$BATS_FILE_TMPDIR/expect.tsv"
	while IFS=$'\t' read -r name netns cgroup container runtime pod unit opts; do
		[ "$opts" = - ] && opts=
		pid=$(start "$name" "$netns" "$cgroup" "$opts") || return 1
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$P-$netns" "$pid" \
			"$(sed -n 's/^0:://p' /proc/"$pid"/cgroup)" "$container" "$runtime" "$pod" "$unit" \
			>>"$BATS_FILE_TMPDIR/expect.tsv"
	done <<<"$HOLDERS"
}

teardown_file() {
	local m
	if [ -n "${CG:-}" ] && [ -d "$CG" ]; then
		if [ -e "$CG/cgroup.kill" ]; then
			echo 1 >"$CG/cgroup.kill"
		else
			find "$CG" -name cgroup.procs -exec cat {} + | xargs -r kill -9
		fi
		wait_until grep -q '^populated 0' "$CG/cgroup.events"
		find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
	for ns in a b c d e f; do ip netns del "$P-$ns" 2>/dev/null || true; done
	if [ -s "$BATS_FILE_TMPDIR/mounted" ]; then
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done <"$BATS_FILE_TMPDIR/mounted"
	fi
}

teardown() {
	[ -z "${DUMP_PID:-}" ] || kill "$DUMP_PID" 2>/dev/null || true
}

# ss_args: NETNS=FILE for owner-check.py, after `ss -tanpe` in each namespace
ss_args() {
	local ns
	for ns in a b c; do
		ip netns exec "$P-$ns" ss -tanpe >"$BATS_TEST_TMPDIR/ss-$ns.txt"
		echo "$P-$ns=$BATS_TEST_TMPDIR/ss-$ns.txt"
	done
}

@test "every socket's cgroup path, container, pod, unit and process equal /proc/PID/cgroup and ss -tpn" {
	local args
	args=$(ss_args)
	run -0 --separate-stderr bash -c "xtcp-dump -p -n $P-a -n $P-b -n $P-c | xtcp-fmt -f json >'$BATS_TEST_TMPDIR/r.json'"
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	run python3 "$TOP/tests/data/owner-check.py" "$BATS_TEST_TMPDIR/r.json" \
		"$BATS_FILE_TMPDIR/expect.tsv" $args
	echo "$output"
	[ "$status" -eq 0 ]
	# 8 holders of 2 IPv4 + 1 IPv6 connections and 2 listeners: 8 sockets each
	[[ "$output" =~ ^64\ sockets,\ 512\ values\ equal$ ]]
}

@test "the docker holder's records, field by field" {
	local pid
	pid=$(awk '/READY/ { print $2 }' "$BATS_FILE_TMPDIR/own-docker.out")
	run -0 bash -c "xtcp-dump -p -n $P-a | xtcp-filter 'pid == $pid && state == LISTEN && family == 2' |
		xtcp-fmt -f tsv --no-header --fields cgroup_path,container_id,container_runtime,pod_uid,systemd_unit,process_pid,process_comm,process_count"
	[ "$output" = "/$P/system.slice/docker-$ID1.scope	$ID1	docker			$pid	own-docker	1" ]
}

@test "a socket shared by two processes: the lower pid, its name, count 2" {
	local pid child
	read -r _ pid child <"$BATS_FILE_TMPDIR/own-worker.out"
	[ -n "$child" ]
	run -0 bash -c "xtcp-dump -p -n $P-b | xtcp-filter 'unit == \"outer.service\"' |
		xtcp-fmt -f tsv --no-header --fields process_pid,process_comm,process_count | sort -u"
	[ "$output" = "$((pid < child ? pid : child))	own-worker	2" ]
	# ss lists both for every one of them
	[ "$(ip netns exec "$P-b" ss -tanp | grep "\"own-worker\",pid=$pid," | grep -c "\"own-worker\",pid=$child,")" -eq 8 ]
}

@test "filter aliases: container, runtime, pod, unit, pid, comm" {
	local pid
	pid=$(awk '/READY/ { print $2 }' "$BATS_FILE_TMPDIR/own-crio.out")
	xtcp-dump -p -n "$P-a" -n "$P-b" -n "$P-c" >"$BATS_TEST_TMPDIR/s.pb"
	[ "$(xtcp-filter -c "container == \"$ID4\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
	[ "$(xtcp-filter -c "runtime == \"cri-o\" && pod == \"$UID2\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
	[ "$(xtcp-filter -c "pod ~ \"^1a2b3c4d-\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 24 ]
	[ "$(xtcp-filter -c "unit == \"xtcp-test.service\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
	[ "$(xtcp-filter -c "pid == $pid && comm == \"own-crio\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
	[ "$(xtcp-filter -c "procs == 2" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
	[ "$(xtcp-filter -c "cgpath ~ \"^/$P/kubepods/\"" "$BATS_TEST_TMPDIR/s.pb")" -eq 8 ]
}

@test "the text view's OWNER column: the process, else the container" {
	local pid
	pid=$(awk '/READY/ { print $2 }' "$BATS_FILE_TMPDIR/own-podman.out")
	run -0 bash -c "xtcp-dump -p -n $P-c | xtcp-filter 'comm == \"own-podman\"' | xtcp-fmt -f text --no-header"
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[0]}" == *" $pid/own-podman "*" $P-c" ]]
	run -0 bash -c "xtcp-dump -n $P-c | xtcp-filter 'runtime == \"podman\"' | xtcp-fmt -f text --no-header"
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[0]}" == *" container:${ID5:0:12} "*" $P-c" ]]
}

@test "without -p no process is looked up; --no-cgroup keeps c_group and leaves the rest empty" {
	run -0 bash -c "xtcp-dump -n $P-a | xtcp-filter 'c_group != 0' |
		xtcp-fmt -f tsv --no-header --fields process_pid,process_comm,process_count | sort -u"
	[ "$output" = "0		0" ]
	run -0 bash -c "xtcp-dump --no-cgroup -p -n $P-a | xtcp-filter 'c_group != 0 && pid != 0' |
		xtcp-fmt -f tsv --no-header --fields cgroup_path,container_id,container_runtime,pod_uid,systemd_unit | sort -u"
	[ "$output" = "				" ]
}

@test "inside ip netns exec: the second cgroup2 mount gives the same paths" {
	run -0 --separate-stderr bash -c "ip netns exec $P-a xtcp-dump -p | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_inode,cgroup_path,process_pid | sort"
	[ -z "$stderr" ]
	local inside=$output
	run -0 bash -c "xtcp-dump -p -n $P-a | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_inode,cgroup_path,process_pid | sort"
	[ "$output" = "$inside" ]
	[[ "$output" == *"/$P/system.slice/xtcp-test.service"* ]]
}

@test "inside ip netns exec: ancestors that share its mounts are not read, the shell outside is" {
	local t=$BATS_TEST_TMPDIR/trace
	[[ $CGROOT == /sys/* ]] || skip "the cgroup2 hierarchy is not mounted under /sys here"
	# A mount namespace with the cgroup2 mounts under /sys only, which ip netns exec hides:
	# xtcp-dump <- strace <- bash, in the namespace ip makes, see none; sh, their parent, does.
	run -0 --separate-stderr unshare --mount sh -c '
		awk "{ for (i = 1; i <= NF; i++) if (\$i == \"-\" && \$(i + 1) == \"cgroup2\") print \$5 }" \
			/proc/self/mountinfo | grep -v "^/sys/" | sort -r | while read -r m; do umount -l "$m"; done
		ip netns exec "$1" bash -c "ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=openat -o $2 xtcp-dump -p" |
			xtcp-fmt -f tsv --no-header --fields cgroup_path | sort -u' sh "$P-a" "$t"
	[ -z "$stderr" ]
	[[ "$output" == *"/$P/system.slice/xtcp-test.service"* ]]
	[ "$(grep -c '"/proc/self/mountinfo"' "$t")" -eq 1 ]
	[ "$(grep -cE '"/proc/[0-9]+/mountinfo"' "$t")" -eq 1 ]
}

@test "no cgroup2 mount anywhere in sight: one note, empty cgroup fields, c_group kept" {
	# a mount and pid namespace of its own, every cgroup2 mount gone from it
	run -0 --separate-stderr unshare --mount --pid --fork --mount-proc sh -c '
		awk "{ for (i = 1; i <= NF; i++) if (\$i == \"-\" && \$(i + 1) == \"cgroup2\") print \$5 }" \
			/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
		ip netns exec "$1" xtcp-dump -c 2 -i 10ms | xtcp-fmt -f tsv --no-header \
			--fields c_group,cgroup_path,container_id,pod_uid,systemd_unit' sh "$P-a"
	[ "$(without_schedule_notes <<<"$stderr")" = "xtcp-dump: no cgroup2 filesystem is mounted (none in /proc/self/mountinfo, the parent processes' or init's): cgroup_path, container_id, pod_uid and systemd_unit are empty; mount one (mount -t cgroup2 none /sys/fs/cgroup) to fill them" ]
	[ "${#lines[@]}" -eq 48 ]
	! grep -qv $'^[1-9][0-9]*\t\t\t\t$' <<<"$output"
}

@test "a socket whose cgroup was removed after it was made: empty cgroup_path, one note with its id" {
	local pid id
	pid=$(start own-gone d gone) || return 1
	mkdir -p "$CG/after"
	echo "$pid" >"$CG/after/cgroup.procs"
	id=$(stat -c %i "$CG/gone")
	rmdir "$CG/gone"
	run -0 --separate-stderr bash -c "xtcp-dump -p -c 3 -i 10ms -n $P-d | xtcp-filter 'pid == $pid' |
		xtcp-fmt -f tsv --no-header --fields c_group,cgroup_path,container_id,process_comm | sort | uniq -c"
	[ "$(without_schedule_notes <<<"$stderr")" = "xtcp-dump: cgroup id $id has no directory under '$CGROOT' (removed after its sockets were made): sockets of a removed cgroup have an empty cgroup_path" ]
	[ "$output" = "     24 $id			own-gone" ]
}

@test "processes exiting while they are read: no error, the holder is found in every poll" {
	local pid
	pid=$(start own-churn e churn --churn) || return 1
	run -0 --separate-stderr bash -c "xtcp-dump -p -c 20 -i 20ms -n $P-e | xtcp-filter 'state == LISTEN && cgpath == \"/$P/churn\"' |
		xtcp-fmt -f tsv --no-header --fields poll_sequence,process_pid,process_comm,process_count"
	kill "$pid"
	[ -z "$(without_schedule_notes <<<"$stderr")" ] || { echo "$stderr"; false; }
	[ "${#lines[@]}" -eq 40 ] || { echo "$output"; false; }
	# the holder is the lowest pid: the parent, or (pids wrap at pid_max, 32768
	# on a small machine) a child that got a lower pid, with the parent's name
	awk -F'\t' -v p="$pid" '$3 != "own-churn" || !($2 == p && ($4 == 1 || $4 == 2) || $4 == 2 && $2 + 0 < p + 0) { print "unexpected: " $0; bad = 1 } END { exit bad }' <<<"$output"
	# and short-lived children were there to be read (and to vanish) in some polls
	grep -q $'\t2$' <<<"$output"
}

@test "another user's processes: one note, their sockets have no process, one's own do" {
	local pid
	pid=$(start own-nobody f nobody) || return 1
	# a holder of nobody's own, whose descriptors nobody may read
	mkdir -p "$CG/mine"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec ip netns exec "$2" setpriv --reuid=65534 \
		--regid=65534 --clear-groups /usr/bin/python3 "$3" own-mine 1' sh "$CG/mine" "$P-f" \
		"$TOP/tests/data/owner-hold.py" >"$BATS_TEST_TMPDIR/mine.out" 2>&1 &
	wait_until grep -q READY "$BATS_TEST_TMPDIR/mine.out"
	local mine
	mine=$(awk '/READY/ { print $2 }' "$BATS_TEST_TMPDIR/mine.out")
	run -0 --separate-stderr ip netns exec "$P-f" setpriv --reuid=65534 --regid=65534 --clear-groups \
		bash -c "xtcp-dump --no-cgroup -p -c 2 -i 10ms | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_uid,process_pid,process_comm | sort -u"
	kill "$mine"
	[[ "$(without_schedule_notes <<<"$stderr")" =~ ^xtcp-dump:\ cannot\ read\ the\ descriptors\ of\ [0-9]+\ process(es)?\ \(/proc/PID/fd\;\ needs\ root\ or\ CAP_SYS_PTRACE\):\ sockets\ only\ they\ hold\ have\ no\ process_pid$ ]]
	# root's sockets (uid 0): no process; nobody's: its own
	grep -qx $'0\t0\t' <<<"$output"
	grep -qx $'65534\t'"$mine"$'\town-mine' <<<"$output"
	! grep -q $'^0\t[1-9]' <<<"$output"
}

@test "-p with -r is a usage error" {
	run -2 --separate-stderr xtcp-dump -p -r "$FIXTURES/6_6_44/tcp_100_sockets.pcap"
	[ "$stderr" = "xtcp-dump: -r and -p cannot be combined: a capture's sockets are not this host's (see 'xtcp-dump --help')" ]
}

@test "-r leaves the owner fields empty: a capture's ids are another host's" {
	run -0 bash -c "xtcp-dump -r '$FIXTURES/6_6_44/tcp_100_sockets.pcap' | xtcp-filter 'c_group != 0' |
		xtcp-fmt -f tsv --no-header --fields cgroup_path,container_id,systemd_unit | sort | uniq -c"
	[ "$output" = "    906 		" ]
}
