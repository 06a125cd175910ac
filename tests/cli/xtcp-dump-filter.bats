#!/usr/bin/env bats
# xtcp-dump --filter on a live kernel: in a private network namespace,
# tests/data/conns.py holds ~100 sockets (IPv4, IPv6, v4-mapped, listeners,
# a device-bound one, half-closed, TIME-WAIT).  Every expression of
# tests/data/bcfilter-cases.txt gives the same sockets as --filter (the
# kernel's bytecode and state mask, then user space) and as
# `xtcp-dump | xtcp-filter` (user space alone); those in ss's syntax also
# give the sockets `ss -tanH` lists with the same filter.  Sockets are
# compared by family, addresses, ports and state.

bats_require_minimum_version 1.5.0
load helpers

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${XTCP_BUILD:=$TOP/build}"
PATH="$XTCP_BUILD/bin:$PATH"
CASES=$TOP/tests/data/bcfilter-cases.txt
FIELDS=inet_diag_msg_family,inet_diag_msg_socket_source,inet_diag_msg_socket_source_port,inet_diag_msg_socket_destination,inet_diag_msg_socket_destination_port,inet_diag_msg_state

setup_file() {
	export NS="xtcp-bats-bc-$$-$RANDOM"
	[ "$(id -u)" -eq 0 ] || return 0           # the tests skip
	conns_up "$NS"
}

teardown_file() {
	conns_down "$NS"
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	[ -s "$BATS_FILE_TMPDIR/conns.out" ] || skip "no namespace"
	D=$BATS_TEST_TMPDIR
}

# rows: a stream on stdin -> one sorted line per socket
rows() {
	xtcp-fmt -f tsv --no-header --fields "$FIELDS" | sort
}

# ss_rows: ss -tanH output on stdin -> "local-port peer-port STATE" lines, sorted
ss_rows() {
	python3 -c '
import sys
names = {"ESTAB": "ESTABLISHED", "TIME-WAIT": "TIME_WAIT", "FIN-WAIT-2": "FIN_WAIT2",
         "CLOSE-WAIT": "CLOSE_WAIT", "SYN-RECV": "SYN_RECV", "UNCONN": "CLOSE"}
# with a single state filtered, ss leaves its State column out
for line in sys.stdin:
    f = line.split()
    if len(f) >= 4:
        state = names.get(f[0], f[0]) if not f[0].isdigit() else "-"
        print(f[-2].rsplit(":", 1)[1], f[-1].rsplit(":", 1)[1].replace("*", "0"), state)' | sort
}

# xtcp_ss_rows SS_FILE: the same projection of rows (no state when ss shows none)
xtcp_ss_rows() {
	if [ -s "$1" ] && ! grep -qv ' -$' "$1"; then
		awk -F'\t' '{ print $3, $5, "-" }' | sort
	else
		awk -F'\t' '{ print $3, $5, $6 }' | sort
	fi
}

# check_expr LINE: the expression's --filter rows against | xtcp-filter's (and
# ss's, for a line in ss's syntax); returns 0 when they agree, 1 with the
# differences on stdout, 2 when the namespace's sockets moved meanwhile (a
# TIME-WAIT socket of conns.py expires 60 s after it was made)
check_expr() {
	local line=$1 expr=${1#ss } rc=0
	ip netns exec "$NS" xtcp-dump >"$D/all.pb"
	xtcp-filter "$expr" "$D/all.pb" | rows >"$D/user.txt"
	ip netns exec "$NS" xtcp-dump --filter "$expr" 2>"$D/err.txt" | rows >"$D/kernel.txt"
	if [ -s "$D/err.txt" ] || ! cmp -s "$D/user.txt" "$D/kernel.txt"; then
		echo "--filter '$expr' differs from | xtcp-filter:"
		cat "$D/err.txt"
		diff "$D/user.txt" "$D/kernel.txt" || true
		rc=1
	fi
	if [ "$line" != "$expr" ]; then
		# shellcheck disable=SC2086  # ss takes the filter as words
		ip netns exec "$NS" ss -tanH $expr | ss_rows >"$D/ss.txt"
		xtcp_ss_rows "$D/ss.txt" <"$D/kernel.txt" >"$D/xtcp-ss.txt"
		if ! cmp -s "$D/ss.txt" "$D/xtcp-ss.txt"; then
			echo "ss -tanH $expr differs from --filter:"
			diff "$D/ss.txt" "$D/xtcp-ss.txt" || true
			rc=1
		fi
	fi
	ip netns exec "$NS" xtcp-dump | rows >"$D/after.txt"
	rows <"$D/all.pb" | cmp -s - "$D/after.txt" || return 2
	return $rc
}

@test "--filter gives the rows of | xtcp-filter, for every expression of the table, and ss's sockets for ss's syntax" {
	local line n=0 n_ss=0 bad=0 try rc
	while IFS= read -r line; do
		case $line in '#'*|'') continue ;; esac
		n=$((n + 1))
		[ "$line" = "${line#ss }" ] || n_ss=$((n_ss + 1))
		# sockets are idle, nothing moves but an expiring TIME-WAIT: then again
		for try in 1 2 3; do
			rc=0
			check_expr "$line" >"$D/why.txt" || rc=$?
			[ "$rc" -eq 2 ] || break
		done
		if [ "$rc" -ne 0 ]; then
			cat "$D/why.txt"
			[ "$rc" -eq 1 ] || echo "'$line': the namespace's sockets moved in each of 3 tries"
			bad=$((bad + 1))
		fi
	done <"$CASES"
	echo "$n expressions, $n_ss of them also against ss"
	[ "$n" -ge 100 ] && [ "$n_ss" -ge 50 ]
	[ "$bad" -eq 0 ]
}

@test "the table's expressions are not all trivial: each keeps some sockets and leaves some out in turn" {
	local line expr some=0 none=0 all=0 total
	ip netns exec "$NS" xtcp-dump >"$D/all.pb"
	total=$(rows <"$D/all.pb" | wc -l)
	while IFS= read -r line; do
		case $line in '#'*|'') continue ;; esac
		expr=${line#ss }
		n=$(xtcp-filter "$expr" "$D/all.pb" | rows | wc -l)
		if [ "$n" -eq 0 ]; then none=$((none + 1)); elif [ "$n" -eq "$total" ]; then all=$((all + 1)); else some=$((some + 1)); fi
	done <"$CASES"
	echo "some $some, none $none, all $all of $total sockets"
	[ "$some" -ge 80 ]
}

@test "--explain: the kernel decides ports and states, user space the rest" {
	run -0 ip netns exec "$NS" xtcp-dump --filter 'state established dport = :4000 && rtt > 0' --explain
	[[ $output == *"states: 0x00000002"* ]]
	[[ $output == *"D_GE 4000"* ]]
	[[ $output == *"kernel decides: dport = :4000"* ]]
	[[ $output == *"user space: rtt > 0"* ]]
	run -0 ip netns exec "$NS" xtcp-dump --filter 'sport = :4000' --explain
	[[ $output == *"user space: nothing"* ]]
	run -0 ip netns exec "$NS" xtcp-dump --filter 'sport = :4000 or rtt > 5ms' --explain
	[[ $output == *"kernel bytecode: none"* ]]
	[[ $output == *"user space: sport = :4000 or rtt > 5ms"* ]]
}

@test "an expression too large for the kernel is filtered in user space after a note" {
	local ports
	ports=$(seq -s ', ' 1 4000)
	ip netns exec "$NS" xtcp-dump >"$D/all.pb"
	xtcp-filter "dport in ($ports)" "$D/all.pb" | rows >"$D/user.txt"
	run -0 --separate-stderr ip netns exec "$NS" sh -c 'xtcp-dump --filter "$1" | xtcp-fmt -f tsv --no-header --fields "$2" | sort' sh "dport in ($ports)" "$FIELDS"
	[ "$stderr" = "xtcp-dump: note: --filter needs more than 65528 bytes of sock_diag bytecode; filtering in user space" ]
	[ "$output" = "$(cat "$D/user.txt")" ]
	[ -s "$D/user.txt" ]
}

@test "bad --filter input: one line, exit 2" {
	run -2 --separate-stderr ip netns exec "$NS" xtcp-dump --filter 'dport = :70000'
	[ "$stderr" = "xtcp-dump: bad expression at column 10: port '70000' is out of range (0 to 65535)" ]
	run -2 --separate-stderr ip netns exec "$NS" xtcp-dump --filter 'dport = :nosuchservice'
	[[ $stderr == "xtcp-dump: bad expression at column 10: unknown service 'nosuchservice'"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	run -2 --separate-stderr ip netns exec "$NS" xtcp-dump --filter 'rtt >'
	[[ $stderr == "xtcp-dump: bad expression at column 6: "* ]]
	run -2 --separate-stderr xtcp-dump --explain
	[ "$stderr" = "xtcp-dump: --explain needs --filter (see 'xtcp-dump --help')" ]
	run -2 --separate-stderr xtcp-filter 'sport = :22 or sport = :23 and dport = :1'
	[[ $stderr == *"ss reads 'A or B and C' as '(A or B) and C'"* ]]
}

@test "a kernel that refuses the bytecode (a mark test without CAP_NET_ADMIN): a note, then user space" {
	command -v setpriv >/dev/null || skip "no setpriv"
	local drop="setpriv --inh-caps=-net_admin --bounding-set=-net_admin"
	ip netns exec "$NS" $drop xtcp-dump >"$D/all.pb"
	xtcp-filter 'mark == 0x10 || sport == 4000' "$D/all.pb" | rows >"$D/user.txt"
	run -0 --separate-stderr ip netns exec "$NS" $drop sh -c 'xtcp-dump --filter "$1" | xtcp-fmt -f tsv --no-header --fields "$2" | sort' sh 'mark == 0x10 || sport == 4000' "$FIELDS"
	[ "$stderr" = "xtcp-dump: note: the kernel refused the --filter bytecode (Operation not permitted); filtering in user space" ]
	[ "$output" = "$(cat "$D/user.txt")" ]
	[ -s "$D/user.txt" ]
}

@test "--filter on a capture (-r) filters in user space" {
	local cap=$TOP/tests/data/netlink/6_6_44/tcp_100_sockets.pcap
	xtcp-dump -r "$cap" | xtcp-filter 'sport = :22 or dport >= :1024' | rows >"$D/user.txt"
	xtcp-dump -r "$cap" --filter 'sport = :22 or dport >= :1024' | rows >"$D/kernel.txt"
	[ -s "$D/user.txt" ]
	cmp "$D/user.txt" "$D/kernel.txt"
	run -2 --separate-stderr xtcp-dump -r "$cap" --filter 'sport = :22' --explain
	[ "$stderr" = "xtcp-dump: --explain asks about the kernel; -r reads a capture (see 'xtcp-dump --help')" ]
}
