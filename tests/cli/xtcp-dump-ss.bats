#!/usr/bin/env bats
# xtcp-dump against an independent oracle on a live kernel: in a private
# network namespace, tests/data/conns.py holds ~100 TCP sockets (IPv4, IPv6,
# v4-mapped, wildcard and device-bound listeners, several congestion
# controls, idle connections with and without data, half-closed, TIME-WAIT).
# `ss -tinmea` runs before and after `xtcp-dump | xtcp-show`; the two ss runs
# must agree on every value that does not move on an idle socket (else the
# trio is taken again), and every socket ss lists must be in xtcp's output
# with those values equal (tests/compare/compare.py --stable-only).
#
# ss options: -t TCP, -i tcp_info, -n numeric, -m skmem, -e details (ino,
# uid, sk cookie, shutdown, and the TCP option flags ts/sack/ecn), -a all
# states (xtcp-dump dumps every state, so the counts are comparable).

bats_require_minimum_version 1.5.0
load helpers

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${XTCP_BUILD:=$TOP/build}"
PATH="$XTCP_BUILD/bin:$PATH"
COMPARE=$TOP/tests/compare/compare.py
SS_OPTS=-tinmea

cleanup_ns() {
	conns_down "$NS"
}

setup_file() {
	export NS="xtcp-bats-ss-$$-$RANDOM"
	[ "$(id -u)" -eq 0 ] || return 0           # the tests skip
	# Congestion controls beyond cubic/reno, when they are modules.
	if command -v modprobe >/dev/null; then
		for m in tcp_bbr tcp_dctcp tcp_vegas; do modprobe -q "$m" 2>/dev/null || true; done
	fi
	conns_up "$NS" || return 1
	snapshot
}

teardown_file() {
	cleanup_ns
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	[ -s "$BATS_FILE_TMPDIR/conns.out" ] || skip "no namespace"
	D=$BATS_FILE_TMPDIR
}

in_ns() {
	ip netns exec "$NS" "$@"
}

# snapshot: ss, xtcp-dump, ss (and ss -O), back to back; up to 5 times until
# the two ss runs agree on the stable values (compare.py exit 3 = they do not).
snapshot() {
	local D=$BATS_FILE_TMPDIR rc try
	for try in 1 2 3 4 5; do
		rc=0
		in_ns ss $SS_OPTS 2>/dev/null >"$D/ss1.txt" || true
		in_ns xtcp-dump >"$D/dump.pb" 2>"$D/dump.err" || rc=$?
		echo "$rc" >"$D/dump.rc"
		in_ns ss $SS_OPTS 2>/dev/null >"$D/ss2.txt" || true
		in_ns ss ${SS_OPTS}O 2>/dev/null >"$D/ss1O.txt" || true
		in_ns ss -tinm 2>/dev/null >"$D/ss-tinm.txt" || true
		xtcp-show "$D/dump.pb" >"$D/dump.jsonl" 2>"$D/show.err" || true
		rc=0
		python3 "$COMPARE" --stable-only --fail-extra --ifmap lo=1 --same-as "$D/ss2.txt" \
			"$D/ss1.txt" "$D/dump.jsonl" >"$D/compare.out" 2>&1 || rc=$?
		echo "$rc" >"$D/compare.rc"
		echo "$try" >"$D/tries"
		[ "$rc" -ne 3 ] && return 0
		sleep 0.2
	done
	return 0
}

count_ss() {
	python3 -B -c '
import sys
sys.path.insert(0, sys.argv[1])
import ss_parse
print(len(ss_parse.parse_file(sys.argv[2])))' "$TOP/tests/compare" "$1"
}

@test "conns.py built the planned mix of sockets" {
	head -1 "$D/conns.out"
	[[ "$(head -1 "$D/conns.out")" == "READY "*" cc=cubic,reno"* ]]
	n=$(count_ss "$D/ss1.txt")
	[ "$n" -ge 90 ]
	for want in 'LISTEN ' 'ESTAB ' 'TIME-WAIT ' 'FIN-WAIT-2 ' 'CLOSE-WAIT ' \
		'127.0.0.1:4000 ' '[::1]:4100 ' '*:4200 ' '[::ffff:127.0.0.1]:4200 ' \
		'0.0.0.0:4201 ' '127.0.0.2:' '127.0.0.1%lo:4202 ' ' cubic ' ' reno ' \
		' <-- ' ' --> ' ' ts sack '; do
		grep -qF -- "$want" "$D/ss1O.txt" || { echo "ss -O shows no '$want'"; return 1; }
	done
	# a socket with unread data, so Recv-Q is compared non-zero
	grep -qE '^ESTAB +3000 ' "$D/ss1.txt"
}

@test "xtcp-dump lists every socket ss lists, stable values equal" {
	cat "$D/dump.err"
	[ "$(cat "$D/dump.rc")" -eq 0 ]
	cat "$D/compare.out"
	echo "tries: $(cat "$D/tries")"
	[ "$(cat "$D/compare.rc")" -eq 0 ]
	[[ "$(tail -1 "$D/compare.out")" == *" missing=0 extra=0 "*" problems=0 (stable only)" ]]
}

@test "xtcp-dump's socket count equals ss's" {
	n=$(count_ss "$D/ss1.txt")
	echo "ss: $n sockets; xtcp-show: $(cat "$D/show.err")"
	[ "$(cat "$D/show.err")" = "frames=1 rows=$n" ]
	[ "$(grep -c . "$D/dump.jsonl")" -eq "$n" ]
}

@test "every congestion control in use is seen by both ss and xtcp" {
	ccs=$(sed -n 's/^READY .* cc=//p' "$D/conns.out")
	for cc in ${ccs//,/ }; do
		grep -qE "^[[:space:]].* $cc( |$)" "$D/ss1.txt" || { echo "ss: no $cc socket"; return 1; }
		grep -qF "\"congestion_algorithm_string\":\"$cc\"" "$D/dump.jsonl" ||
			{ echo "xtcp: no $cc record"; return 1; }
	done
}

@test "the one-line layout (ss -O) compares the same" {
	run -0 python3 "$COMPARE" --stable-only --fail-extra --ifmap lo=1 "$D/ss1O.txt" "$D/dump.jsonl"
	[[ "${lines[-1]}" == *" missing=0 extra=0 "*" problems=0 (stable only)" ]]
}

@test "plain ss -tinm (connected sockets, no -e) compares the same" {
	run -0 python3 "$COMPARE" --stable-only --ifmap lo=1 "$D/ss-tinm.txt" "$D/dump.jsonl"
	[[ "${lines[-1]}" == *" missing=0 "*" problems=0 (stable only)" ]]
	# no listeners, no TIME-WAIT: fewer sockets than -a shows, but many
	n=$(count_ss "$D/ss-tinm.txt")
	[ "$n" -ge 70 ] && [ "$n" -lt "$(count_ss "$D/ss1.txt")" ]
	! grep -qE '^(LISTEN|TIME-WAIT) ' "$D/ss-tinm.txt"
}

@test "mem_info taken from SKMEMINFO equals the kernel's INET_DIAG_MEMINFO" {
	# By default xtcp-dump leaves MEMINFO out of the request and fills
	# mem_info from SKMEMINFO; --ext meminfo asks the kernel for MEMINFO alone.
	# Beside the mix, a sender blocked on a peer that never reads: its
	# unacknowledged bytes are in wmem_queued, not in wmem_alloc.
	in_ns python3 -c '
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 4900)); l.listen()
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
c.connect(("127.0.0.1", 4900)); a, _ = l.accept()
a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
c.setblocking(False)
try:
    while True:
        c.send(b"x" * 65536)
except BlockingIOError:
    pass
time.sleep(0.3)
print("READY", flush=True)
time.sleep(60)' >"$D/blocked.out" &
	local pid=$!
	wait_until grep -q READY "$D/blocked.out"
	in_ns xtcp-dump | xtcp-show >"$D/mem-derived.jsonl" 2>/dev/null
	in_ns xtcp-dump --ext meminfo | xtcp-show >"$D/mem-kernel.jsonl" 2>/dev/null
	kill "$pid"
	run -0 python3 - "$D/mem-derived.jsonl" "$D/mem-kernel.jsonl" <<'PY'
import json, sys
def rows(path):
    return {r["inet_diag_msg_socket_cookie"]: r for r in map(json.loads, open(path))}
derived, kernel = rows(sys.argv[1]), rows(sys.argv[2])
keys = ["mem_info_rmem", "mem_info_wmem", "mem_info_fmem", "mem_info_tmem"]
same = nonzero = blocked = queued = 0
for cookie, k in kernel.items():
    d = derived.get(cookie)
    if d is None or k["inet_diag_msg_state"] == "TIME_WAIT":
        continue
    assert [d[x] for x in keys] == [k[x] for x in keys], (cookie, d, k)
    assert k["sk_mem_info_rcv_buf"] == 0        # --ext meminfo: no SKMEMINFO
    same += 1
    nonzero += any(k[x] for x in keys)
    blocked += k["inet_diag_msg_socket_source_port"] == 4900 or \
        k["inet_diag_msg_socket_destination_port"] == 4900
    queued += k["mem_info_wmem"] > 0 and k["mem_info_wmem"] != k["mem_info_tmem"]
print("sockets", same, "with memory", nonzero, "blocked pair", blocked, "queued", queued)
assert same >= 80 and nonzero >= 3 and blocked >= 2 and queued >= 1
PY
	echo "$output"
}

@test "the comparison fails when xtcp's output is wrong" {
	# one altered value in a copy of the records
	python3 - "$D/dump.jsonl" "$D/bad.jsonl" <<-'EOF'
		import json, sys
		done = False
		with open(sys.argv[2], "w") as out:
		    for line in open(sys.argv[1]):
		        r = json.loads(line)
		        if not done and r["inet_diag_msg_state"] == 1 and r["tcp_info_bytes_acked"] > 1:
		            r["tcp_info_bytes_acked"] -= 1
		            done = True
		        out.write(json.dumps(r) + "\n")
		sys.exit(0 if done else 1)
	EOF
	run -1 python3 "$COMPARE" --stable-only --fail-extra --ifmap lo=1 "$D/ss1.txt" "$D/bad.jsonl"
	echo "$output"
	[ "$(grep -c '^MISMATCH .* bytes_acked: ss=' <<<"$output")" -eq 1 ]
	# a missing record
	grep -v '"inet_diag_msg_socket_source_port":4202,' "$D/dump.jsonl" >"$D/bad.jsonl"
	run -1 python3 "$COMPARE" --stable-only --ifmap lo=1 "$D/ss1.txt" "$D/bad.jsonl"
	grep -q '^MISSING LISTEN 127.0.0.1%lo:4202->0.0.0.0:\*' <<<"$output"
	# a wrong interface index
	run -1 python3 "$COMPARE" --stable-only --ifmap lo=2 "$D/ss1.txt" "$D/dump.jsonl"
	grep -q 'iface: ss=lo(2) xtcp=1' <<<"$output"
}
