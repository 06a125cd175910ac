#!/usr/bin/env bats
# xtcp-dump -E: close events from the sock_diag destroy groups, against the
# real kernel: every connection of a client that opens and closes them, their
# counters, namespaces found later, exact loss, bad input.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
	export NS="xtcp-bats-ev-$$"
	netns_up "$NS"
}

teardown_file() {
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$NS-late" 2>/dev/null || true
	ip netns del "$NS-burst" 2>/dev/null || true
}

setup() {
	T=$BATS_TEST_TMPDIR
	DUMP_PID=
	HOLD_PID=
	MOCK_PID=
}

teardown() {
	# (a dump left stopped, SIGSTOP, takes the SIGTERM once it goes on)
	if [ -n "$DUMP_PID" ]; then
		kill "$DUMP_PID" 2>/dev/null || true
		# one left stopped (SIGSTOP) takes it once it goes on; only then: a SIGCONT
		# into LeakSanitizer's exit-time ptrace stop hangs both
		! grep -q '^State:.T (stopped)' "/proc/$DUMP_PID/status" 2>/dev/null ||
			kill -CONT "$DUMP_PID" 2>/dev/null || true
	fi
	hold_stop
	mock_stop
}

# listener NS PID: the /proc/net/netlink line of PID's destroy-group listener in NS
listener() {
	sh "$TOP/tests/data/events-listener.sh" "$1" "$2"
}

# listening NS PID: PID listens to NS's close events
listening() {
	listener "$1" "$2" >/dev/null
}

# delivered_or_dropped NS PID STREAM N: the close records in STREAM (complete
# frames) and the events the kernel dropped for PID's listener in NS add up to N
delivered_or_dropped() {
	local got drops
	got=$(xtcp-filter -c 'kind == close' "$3" 2>/dev/null | tail -1)
	drops=$(listener "$1" "$2" | awk '{ print $9 }')
	[ -n "$drops" ] && [ $((${got:-0} + drops)) -ge "$4" ]
}

# dropped NS PID: the kernel has dropped close events for PID's listener in NS
dropped() {
	local drops
	drops=$(listener "$1" "$2" | awk '{ print $9 }')
	[ -n "$drops" ] && [ "$drops" -gt 0 ]
}

# stopped STATUS: the xtcp-dump started in the background ended with STATUS
stopped() {
	local rc=0
	wait "$DUMP_PID" || rc=$?
	DUMP_PID=
	[ "$rc" -eq "$1" ] || { echo "xtcp-dump exited $rc, not $1" >&2; return 1; }
}

# close_run N SIGNAL: xtcp-dump -E in $NS into $T/e.pb (stderr $T/e.err) while
# closer.py makes N connections ($T/conns.log); once both ends of every one
# and the two listeners are out (frames flushed within 100 ms), SIGNAL ends
# it, exit 0
close_run() {
	ip netns exec "$NS" xtcp-dump -E >"$T/e.pb" 2>"$T/e.err" &
	DUMP_PID=$!
	wait_until listening "$NS" "$DUMP_PID"
	ip netns exec "$NS" python3 "$TOP/tests/data/closer.py" "$1" "$T/conns.log"
	wait_until bash -c "xtcp-filter -c 'kind == close' '$T/e.pb' | grep -qx $(($1 * 2 + 2))"
	kill -"$2" "$DUMP_PID"
	stopped 0
}

@test "-E alone: every connection's two ends as close records, their counters exact; SIGINT ends it, exit 0" {
	close_run 2000 INT
	[ ! -s "$T/e.err" ]
	xtcp-fmt -f json "$T/e.pb" >"$T/e.json"
	run -0 python3 "$TOP/tests/data/events-check.py" "$T/e.json" "$T/conns.log" "$NS"
	echo "$output"
	# nothing but close records, of this namespace, before any poll
	run -0 bash -c "xtcp-fmt -f csv --no-header --fields record_kind,netns,poll_sequence,events_lost '$T/e.pb' | sort | uniq -c"
	[ "$output" = "   4002 RECORD_KIND_CLOSE,$NS,0,0" ]
}

@test "polls and close records round-trip through xtcp-filter, xtcp-fmt json, csv and text, and xtcp-kafka" {
	hold_start "$NS" 1 1
	ip netns exec "$NS" xtcp-dump -c 0 -i 1s -E >"$T/e.pb" 2>"$T/e.err" &
	DUMP_PID=$!
	wait_until has_polls "$T/e.pb" 1
	ip netns exec "$NS" python3 "$TOP/tests/data/closer.py" 20 "$T/conns.log"
	wait_until bash -c "xtcp-filter -c 'kind == close' '$T/e.pb' | grep -qx 42"
	# and a poll after them: the stream has both kinds, interleaved
	local last
	last=$(xtcp-fmt -f tsv --no-header --fields poll_sequence "$T/e.pb" | tail -1)
	wait_until has_polls "$T/e.pb" $((last + 1))
	kill -TERM "$DUMP_PID"
	stopped 0
	hold_stop || true
	[ -z "$(without_schedule_notes <"$T/e.err")" ]
	local polls closes
	polls=$(xtcp-filter -c 'kind == poll' "$T/e.pb")
	closes=$(xtcp-filter -c 'kind == close' "$T/e.pb")
	[ "$polls" -ge 12 ] && [ "$closes" -eq 42 ]
	# xtcp-filter: the stream byte for byte, and each kind apart
	xtcp-filter 'kind == close || kind == poll' "$T/e.pb" | cmp - "$T/e.pb"
	[ "$(xtcp-filter 'kind == close' "$T/e.pb" | xtcp-fmt -f tsv --no-header --fields inet_diag_msg_state | sort -u)" = CLOSE ]
	# json: back into a stream, its rows byte for byte (the frames are --from json's own);
	# csv: every field of every record, by Python
	xtcp-fmt -f json "$T/e.pb" >"$T/e.json"
	delimited rows "$T/e.pb" >"$T/sent.rows"
	xtcp-fmt --from json "$T/e.json" >"$T/j.pb"
	delimited rows "$T/j.pb" | cmp - "$T/sent.rows"
	xtcp-fmt -f csv --fields all "$T/e.pb" >"$T/e.csv"
	run -0 python3 - "$T/e.csv" "$T/e.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
objs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(objs), (len(rows), len(objs))
for i, (r, o) in enumerate(zip(rows, objs)):
    assert set(r) == set(o), (i, set(r) ^ set(o))
    for k, v in o.items():
        assert r[k] == str(v), (i, k, r[k], v)
print(len(rows), "records,", sum(o["record_kind"] == "RECORD_KIND_CLOSE" for o in objs), "close")
PY
	[ "$output" = "$((polls + closes)) records, 42 close" ]
	# text: each close record marked, each poll row not, in the stream's order
	xtcp-fmt -f text "$T/e.pb" | grep -v '^--- poll ' | tail -n +2 |
		awk '{ print ($1 " " $2 == "CLOSE (event)") ? "RECORD_KIND_CLOSE" : "RECORD_KIND_POLL" }' >"$T/text.kinds"
	xtcp-fmt -f tsv --no-header --fields record_kind "$T/e.pb" | diff - "$T/text.kinds"
	# xtcp-kafka into the mock cluster, read back by kcat: the same rows, byte for byte
	mock_start -t ev
	run -0 --separate-stderr xtcp-kafka -b "$BROKERS" -t ev "$T/e.pb"
	[[ "$stderr" == "xtcp-kafka: rows=$((polls + closes)) messages="*" delivered=$((polls + closes)) failed=0" ]]
	kcat -C -b "$BROKERS" -t ev -p 0 -o beginning -e -q -f '%K:%k%R%s' |
		python3 "$TOP/tests/data/kafka-messages.py" >"$T/k.pb"
	delimited rows "$T/k.pb" | cmp - "$T/sent.rows"
	[ "$(xtcp-filter -c 'kind == close' "$T/k.pb")" -eq 42 ]
	mock_stop
}

@test "-E --filter: close records get the whole expression (the kernel's bytecode is for dumps): as | xtcp-filter" {
	local expr='dport > 1000 && sport > 1000'
	ip netns exec "$NS" xtcp-dump -E --filter "$expr" >"$T/f.pb" 2>"$T/f.err" &
	local fpid=$!
	wait_until listening "$NS" "$fpid"
	close_run 40 INT
	kill -INT "$fpid"
	wait "$fpid"
	[ ! -s "$T/f.err" ]
	fields=record_kind,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination_port
	xtcp-filter "$expr" "$T/e.pb" | xtcp-fmt -f tsv --no-header --fields "$fields" | sort >"$T/want"
	xtcp-fmt -f tsv --no-header --fields "$fields" "$T/f.pb" | sort >"$T/got"
	# the 80 ends of the connections, not the two listeners (dport 0)
	[ "$(wc -l <"$T/want")" -eq 80 ]
	diff "$T/want" "$T/got"
}

@test "-n all -i 1s -E: polls and close records; a namespace made after the start is covered" {
	xtcp-dump -n all -i 1s -E >"$T/a.pb" 2>"$T/a.err" &
	DUMP_PID=$!
	wait_until has_polls "$T/a.pb" 1
	netns_up "$NS-late"
	wait_until listening "$NS-late" "$DUMP_PID"
	# the issue's size: 2,000 connections, IPv4 and IPv6 in turn (some 3 s under ASan on 2 cores)
	ip netns exec "$NS-late" python3 "$TOP/tests/data/closer.py" 2000 "$T/late.log"
	wait_until bash -c "xtcp-filter -c 'kind == close && netns == \"$NS-late\"' '$T/a.pb' | grep -qx 4002"
	kill -INT "$DUMP_PID"
	stopped 0
	xtcp-fmt -f json "$T/a.pb" >"$T/a.json"
	run -0 python3 "$TOP/tests/data/events-check.py" "$T/a.json" "$T/late.log" "$NS-late"
	# the close records follow a poll: poll_sequence of one that was made
	run -0 python3 - "$T/a.json" "$NS-late" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
polls = {r["poll_sequence"] for r in recs if r["record_kind"] == "RECORD_KIND_POLL"}
close = [r for r in recs if r["record_kind"] == "RECORD_KIND_CLOSE" and r["netns"] == sys.argv[2]]
assert close and all(r["poll_sequence"] in polls for r in close), sorted(polls)
print(len(close), "close records after polls", sorted(polls))
PY
}

# 2,000 connections with a queue so small that most events are lost; the issue's
# 100,000 (and the default queue) below.
@test "a burst while the reader is slow: delivered + reported lost = closed, exactly; exit 1" {
	netns_up "$NS-burst"
	mkfifo "$T/fifo"
	# the output is a pipe nobody reads until the client is done: xtcp-dump blocks, the kernel drops
	ip netns exec "$NS-burst" xtcp-dump -E --event-buffer 4KiB >"$T/fifo" 2>"$T/b.err" &
	DUMP_PID=$!
	exec 7<"$T/fifo"        # holds the pipe open, unread
	wait_until listening "$NS-burst" "$DUMP_PID"
	# xtcp-dump grew its output pipe to 1 MiB, which holds most of the burst:
	# shrink it back to a page (it is empty: nothing has closed yet)
	python3 -c 'import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
assert fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) == 4096' "$T/fifo"
	ip netns exec "$NS-burst" python3 "$TOP/tests/data/closer.py" 2000 "$T/burst.log"
	cat <&7 >"$T/b.pb" &
	local cat_pid=$!
	exec 7<&-
	# the kernel sends events from a work queue that can lag behind the client:
	# stop once what came and what the kernel dropped cover every socket closed
	wait_until delivered_or_dropped "$NS-burst" "$DUMP_PID" "$T/b.pb" 4002
	kill -INT "$DUMP_PID"
	stopped 1
	wait "$cat_pid"
	cat "$T/b.err"
	local got lost
	got=$(xtcp-fmt -f json "$T/b.pb" | grep -c RECORD_KIND_CLOSE)
	lost=$(sed -n "s/.*'$NS-burst': \([0-9]*\) close events lost in all.*/\1/p" "$T/b.err")
	echo "delivered $got lost $lost"
	[ -n "$lost" ] && [ "$lost" -gt 0 ]
	# 2 per connection and the two listeners
	[ $((got + lost)) -eq 4002 ]
	# the records carry what was lost before them, never more than the total
	run -0 bash -c "xtcp-fmt -f tsv --no-header --fields events_lost '$T/b.pb' | sort -n | tail -1"
	[ "$output" -le "$lost" ]
}

@test "the issue's burst: 100,000 connections while xtcp-dump is stopped: delivered + reported lost = closed, exactly" {
	netns_up "$NS-burst"
	ip netns exec "$NS-burst" xtcp-dump -E >"$T/h.pb" 2>"$T/h.err" &
	DUMP_PID=$!
	wait_until listening "$NS-burst" "$DUMP_PID"
	kill -STOP "$DUMP_PID"
	# two clients: one client's 100,000 connections would not fit its ephemeral ports
	ip netns exec "$NS-burst" python3 "$TOP/tests/data/closer.py" 50000 "$T/h1.log" &
	local c1=$!
	ip netns exec "$NS-burst" python3 "$TOP/tests/data/closer.py" 50000 "$T/h2.log"
	wait "$c1"
	# the kernel's work queue sends events for seconds after the clients end: stay stopped
	# until its 64 MiB queue (some 52,000 events) has overflowed
	wait_until dropped "$NS-burst" "$DUMP_PID"
	kill -CONT "$DUMP_PID"
	# 2 per connection and each client's two listeners
	wait_until delivered_or_dropped "$NS-burst" "$DUMP_PID" "$T/h.pb" 200004
	kill -INT "$DUMP_PID"
	local rc=0 got lost
	wait "$DUMP_PID" || rc=$?
	DUMP_PID=
	got=$(xtcp-filter -c 'kind == close' "$T/h.pb")
	lost=$(sed -n "s/.*'$NS-burst': \([0-9]*\) close events lost in all.*/\1/p" "$T/h.err")
	echo "delivered $got lost $lost exit $rc"
	[ "$rc" -eq 1 ] && [ -n "$lost" ] && [ "$lost" -gt 0 ]
	[ $((got + lost)) -eq 200004 ]
}

@test "usage: -E with -r, a bad --event-buffer; without privileges: close records, or one line and exit 1" {
	run -2 --separate-stderr xtcp-dump -E -r "$FIXTURES/6_6_44/tcp_100_sockets.pcap"
	[ "$stderr" = "xtcp-dump: -r and -E cannot be combined: close events come from the kernel, live (see 'xtcp-dump --help')" ]
	run -2 --separate-stderr xtcp-dump -E --event-buffer 1
	[[ "$stderr" == "xtcp-dump: invalid --event-buffer '1': "* ]]
	command -v setpriv >/dev/null || skip "no setpriv"
	# kernels that ask CAP_NET_ADMIN for the destroy groups refuse; Linux 6.18 lets anyone join
	run --separate-stderr bash -c "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all xtcp-dump -E -c 1 >/dev/null"
	if [ "$status" -eq 1 ]; then
		[[ "$stderr" == "xtcp-dump: cannot listen to close events in network namespace '"*"': Operation not permitted (needs CAP_NET_ADMIN)" ]]
		[ "${#stderr_lines[@]}" -eq 1 ]
	else
		[ "$status" -eq 0 ] && [ -z "$stderr" ]
	fi
}
