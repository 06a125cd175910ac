/* Unit tests for lib/sockstat.c: parsing the kernel's counts, and what they allow to skip. */

#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockstat.h"
#include "tap.h"
#include "tcp.h"

static const char sockstat[] =
	"sockets: used 12\n"
	"TCP: inuse 3 orphan 1 tw 7 alloc 100015 mem 2\n"
	"UDP: inuse 0 mem 0\n"
	"UDPLITE: inuse 0\n"
	"RAW: inuse 0\n"
	"FRAG: inuse 0 memory 0\n";

static const char protocols[] =
	"protocol  size sockets  memory press maxhdr  slab module     cl co di ac io in de sh ss "
	"gs se re bi br ha uh gp em\n"
	"PACKET    1600      1      -1   NI       0   no   kernel      n  n  n  n  n  n  n  n  n "
	"n  n  n  n  n  n  n  n  n\n"
	"TCPv6     2432      4      12   no     320   yes  kernel      y  y  y  y  y  y  y  y  y "
	"y  y  y  n  y  y  y  y  y\n"
	"UNIX-STREAM 1152      5      -1   NI       0   yes  kernel      y  n  y  n  n  n  n  n  n "
	"n  n  n  n  n  n  n  n  n\n"
	"UNIX      1152      2      -1   NI       0   yes  kernel      y  n  y  n  n  n  n  n  n "
	"n  n  n  n  n  n  n  n  n\n"
	"UDP       1280      0       0   NI       0   yes  kernel      y  y  y  n  y  y  y  n  y "
	"y  y  y  y  n  n  y  y  n\n"
	"NETLINK   1096      3      -1   NI       0   no   kernel      n  n  n  n  n  n  n  n  n "
	"n  n  n  n  n  n  n  n  n\n"
	"TCP       2272      3      12   no     320   yes  kernel      y  y  y  y  y  y  y  y  y "
	"y  y  y  n  y  y  y  y  y\n";

static void parsing(void)
{
	struct xtcp_sockstat st;

	memset(&st, 0, sizeof(st));
	is(xtcp_sockstat_parse_sockstat(sockstat, strlen(sockstat), &st), 0, "sockstat parses");
	is(st.used, 12, "used");
	is(st.tcp_inuse, 3, "TCP inuse");
	is(st.tcp_tw, 7, "TCP tw");
	is(xtcp_sockstat_parse_protocols(protocols, strlen(protocols), &st), 0, "protocols parses");
	is(st.tcp6_inuse, 4, "TCPv6 sockets");
	is(st.not_tcp, 1 + 5 + 2 + 3, "netlink, unix and packet sockets");

	/* "UNIX" must not match "UNIX-STREAM", nor "TCP" "TCPv6" */
	ok(strstr(protocols, "UNIX-STREAM") < strstr(protocols, "UNIX "), "UNIX-STREAM comes first");

	errno = 0;
	is(xtcp_sockstat_parse_sockstat("sockets: used 1\n", 16, &st), -1, "no TCP line");
	is(errno, EBADMSG, "EBADMSG");
	is(xtcp_sockstat_parse_sockstat("sockets: used 1\nTCP: inuse x tw 0\n", 34, &st), -1,
	   "a word where a number goes");
	is(xtcp_sockstat_parse_sockstat("sockets: used 1\nTCP: inuse 99999999999999999999 tw 0\n",
					52, &st), -1, "a number out of range");
	is(xtcp_sockstat_parse_sockstat("sockets: used 1\nTCP: inuse 1", 28, &st), -1,
	   "cut short before tw");
	is(xtcp_sockstat_parse_protocols("NETLINK   1096      3\n", 22, &st), -1, "no TCPv6 line");
	/* text that stops in the middle of a line is not read past its end */
	is(xtcp_sockstat_parse_protocols("TCPv6     2432", 14, &st), -1, "TCPv6 without sockets");
}

static struct xtcp_sockstat counts(int64_t used, int64_t v4, int64_t tw, int64_t v6,
				   int64_t not_tcp)
{
	struct xtcp_sockstat st = {
		.used = used, .tcp_inuse = v4, .tcp_tw = tw, .tcp6_inuse = v6, .not_tcp = not_tcp,
	};

	return st;
}

static void deciding(void)
{
	const uint32_t est = XTCP_TCPF(XTCP_TCP_ESTABLISHED);
	const uint32_t listen = XTCP_TCPF(XTCP_TCP_LISTEN);
	const uint32_t tw = XTCP_TCPF(XTCP_TCP_TIME_WAIT);
	const uint32_t syn_recv = XTCP_TCPF(XTCP_TCP_SYN_RECV);
	struct xtcp_sockstat st;

	/* an empty namespace, but for netlink sockets (ours, another poller's) */
	st = counts(3, 0, 0, 0, 3);
	ok(!xtcp_sockstat_may_find(&st, AF_INET, XTCP_STATES_ALL), "empty: IPv4 skipped");
	ok(!xtcp_sockstat_may_find(&st, AF_INET6, XTCP_STATES_ALL), "empty: IPv6 skipped");

	/* a listener of one family: that family only, for states without uncounted sockets */
	st = counts(2, 1, 0, 0, 1);
	ok(xtcp_sockstat_may_find(&st, AF_INET, listen), "IPv4 listener: IPv4 dumped");
	ok(!xtcp_sockstat_may_find(&st, AF_INET6, listen | est), "IPv4 listener: IPv6 skipped");
	/* ... but its request sockets, or a bound IPv6 socket, could be anywhere else */
	ok(xtcp_sockstat_may_find(&st, AF_INET6, syn_recv), "a socket in used: SYN_RECV dumped");
	ok(xtcp_sockstat_may_find(&st, AF_INET6, XTCP_STATES_ALL),
	   "a socket in used: all states dumped");

	/* TIME_WAIT of either family shows in tw */
	st = counts(1, 0, 2, 0, 1);
	ok(xtcp_sockstat_may_find(&st, AF_INET6, tw), "tw: IPv6 TIME_WAIT dumped");
	ok(xtcp_sockstat_may_find(&st, AF_INET, XTCP_TCPF(XTCP_TCP_FIN_WAIT2)),
	   "tw: FIN_WAIT2 dumped (a timewait socket's substate)");
	ok(!xtcp_sockstat_may_find(&st, AF_INET, est | listen), "tw: established skipped");

	/* a closed listener whose request sockets live on: used, no inuse */
	st = counts(2, 0, 0, 0, 1);
	ok(xtcp_sockstat_may_find(&st, AF_INET, syn_recv), "orphan requests: dumped");
	ok(xtcp_sockstat_may_find(&st, AF_INET, XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV)),
	   "orphan requests: NEW_SYN_RECV dumped");
	ok(xtcp_sockstat_may_find(&st, AF_INET6, XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE)),
	   "a bound socket: dumped");
	ok(!xtcp_sockstat_may_find(&st, AF_INET6, est), "established: skipped");

	/* IPv4 busy, IPv6 not counted (the caller dumps both in one request) */
	st = counts(5, 2, 0, -1, -1);
	st.v4_busy = true;
	ok(xtcp_sockstat_may_find(&st, AF_INET, est) && xtcp_sockstat_may_find(&st, AF_INET6, est),
	   "IPv4 busy, IPv6 unknown: both dumped");

	/* v4-mapped sockets are TCPv6's */
	st = counts(2, 0, 0, 1, 1);
	ok(xtcp_sockstat_may_find(&st, AF_INET6, est), "TCPv6 inuse: IPv6 dumped");
	ok(!xtcp_sockstat_may_find(&st, AF_INET, est), "TCPv6 inuse: IPv4 skipped");
}

/*
 * The kernel's own counts, in a namespace of our own: a netlink socket (as
 * xtcp-dump's sock_diag socket) leaves it lone, anything else is read whole.
 */
static void reading(void)
{
	struct xtcp_sockstat_files f;
	struct xtcp_sockstat st;
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 };
	struct sockaddr_in any4 = { .sin_family = AF_INET };
	int nl, ux, t6, t4, protocols_fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("# skipping the reads: no namespace of our own (%s)\n", strerror(errno));
		return;
	}
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	ok(nl >= 0 && xtcp_sockstat_open(&f) == 0, "the files of a new namespace open");
	ok(xtcp_sockstat_read(&f, 1, false, &st) == 0 && st.lone && st.used == 1 && st.not_tcp == 1 &&
	   st.tcp6_inuse == 0, "our netlink socket alone: lone, protocols not needed");
	ok(!xtcp_sockstat_may_find(&st, AF_INET, XTCP_STATES_ALL) &&
	   !xtcp_sockstat_may_find(&st, AF_INET6, XTCP_STATES_ALL), "lone: both families skipped");
	ok(xtcp_sockstat_read(&f, 0, false, &st) == 0 && !st.lone && st.not_tcp == 1,
	   "a netlink socket not ours: read whole, and it is not TCP");
	ux = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(xtcp_sockstat_read(&f, 1, false, &st) == 0 && !st.lone && st.used == 2 && st.not_tcp == 2,
	   "a unix socket besides: read whole, not TCP either");
	ok(!xtcp_sockstat_may_find(&st, AF_INET6, XTCP_STATES_ALL), "netlink + unix: skipped");
	t6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(t6 >= 0 && bind(t6, (struct sockaddr *)&any, sizeof(any)) == 0 && listen(t6, 1) == 0,
	   "an IPv6 listener");
	ok(xtcp_sockstat_read(&f, 1, false, &st) == 0 && !st.lone && st.tcp6_inuse == 1 &&
	   st.used == 3, "an IPv6 listener: counted by TCPv6");
	ok(xtcp_sockstat_may_find(&st, AF_INET6, XTCP_TCPF(XTCP_TCP_LISTEN)) &&
	   !xtcp_sockstat_may_find(&st, AF_INET, XTCP_TCPF(XTCP_TCP_LISTEN)),
	   "an IPv6 listener: IPv6 dumped, IPv4 skipped");
	ok(xtcp_sockstat_read(&f, 1, true, &st) == 0 && !st.v4_busy && st.tcp6_inuse == 1,
	   "IPv4 enough, but IPv4 empty: read whole");
	t4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(t4 >= 0 && bind(t4, (struct sockaddr *)&any4, sizeof(any4)) == 0 && listen(t4, 1) == 0,
	   "an IPv4 listener besides");
	ok(xtcp_sockstat_read(&f, 1, false, &st) == 0 && !st.v4_busy && st.tcp_inuse == 1 &&
	   st.tcp6_inuse == 1, "both listeners, IPv6 asked for: read whole");
	/* without its protocols file a read of it would fail: proof that none is made */
	protocols_fd = f.protocols_fd;
	f.protocols_fd = -1;
	ok(xtcp_sockstat_read(&f, 1, true, &st) == 0 && st.v4_busy && st.tcp_inuse == 1 &&
	   st.tcp6_inuse == -1, "IPv4 enough and busy: /proc/net/protocols not read");
	ok(xtcp_sockstat_may_find(&st, AF_INET, XTCP_TCPF(XTCP_TCP_LISTEN)) &&
	   xtcp_sockstat_may_find(&st, AF_INET6, XTCP_TCPF(XTCP_TCP_LISTEN)),
	   "IPv4 busy: both families dumped");
	ok(xtcp_sockstat_read(&f, 1, false, &st) < 0 && errno == EBADF,
	   "(the same read with IPv6 asked for reads the file)");
	f.protocols_fd = protocols_fd;
	close(t4);
	close(t6);
	close(ux);
	ok(xtcp_sockstat_read(&f, 1, false, &st) == 0 && st.lone, "closed again: lone");
	xtcp_sockstat_close(&f);
	close(nl);
}

int main(void)
{
	parsing();
	deciding();
	reading();
	return done_testing();
}
