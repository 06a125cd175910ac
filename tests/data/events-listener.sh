#!/bin/sh
# events-listener.sh NS PID: the /proc/net/netlink line of process PID's
# NETLINK_SOCK_DIAG socket (protocol 4) in network namespace NS that has joined
# both TCP destroy groups (1 and 3: mask 5), as xtcp-dump -E makes one; exit 1
# when there is none.  The socket is found by its inode among PID's descriptors,
# since another xtcp-dump -n all may listen in the same namespace.  Its Drops
# column (9) is the kernel's count of the events it dropped for that socket.
# Used by tests/cli/xtcp-dump-events.bats and bench/events.sh.
inodes=$(find "/proc/$2/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
[ -n "$inodes" ] || exit 1
exec ip netns exec "$1" awk -v list="$inodes" '
	BEGIN { split(list, a, "\n"); for (i in a) mine[a[i]] = 1 }
	$2 == 4 && $4 == "00000005" && ($10 in mine) { print; f = 1 }
	END { exit !f }' /proc/net/netlink
