/*
 * Unit tests for lib/diag.c against the kernel, in a network namespace of
 * their own: the socket, a dump of known listeners, a reply that does not
 * fit the buffer, and a forged reply from another process.
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "diag.h"
#include "tap.h"

struct seen {
	int v4, v6, other;
	uint32_t last_type;
};

static int count(const struct nlmsghdr *nlh, void *arg)
{
	const struct inet_diag_msg *m = xtcp_nlmsg_payload(nlh);
	struct seen *s = arg;

	s->last_type = nlh->nlmsg_type;
	if (m->idiag_family == AF_INET && ntohs(m->id.idiag_sport) == 7201)
		s->v4++;
	else if (m->idiag_family == AF_INET6 && ntohs(m->id.idiag_sport) == 7202)
		s->v6++;
	else
		s->other++;
	return 0;
}

static int listener(int family, uint16_t port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -1;
	r = family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4)) :
				bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	return r == 0 && listen(fd, 1) == 0 ? fd : -1;
}

/* From a second netlink socket, a NLMSG_DONE addressed to @d's next dump. */
static int forge_done(const struct xtcp_diag *d)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = d->portid };
	struct {
		struct nlmsghdr nlh;
		int32_t status;
	} done = {
		.nlh = { .nlmsg_len = sizeof(done), .nlmsg_type = NLMSG_DONE,
			 .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = d->seq + 1, .nlmsg_pid = d->portid },
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = sendto(fd, &done, sizeof(done), 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	return n == (ssize_t)sizeof(done) ? 0 : -1;
}

int main(void)
{
	struct xtcp_diag d, zero;
	struct seen s;
	uint8_t small[64];
	uint32_t listen_only = XTCP_TCPF(XTCP_TCP_LISTEN);
	int l4, l6, null_fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("# skipping: no network namespace of our own (%s)\n", strerror(errno));
		printf("1..0\n");
		return 0;
	}
	/* a closed struct never closes a descriptor it does not hold, 0 least of all */
	null_fd = fcntl(0, F_GETFD) < 0 ? open("/dev/null", O_RDONLY) : 0;
	memset(&zero, 0, sizeof(zero));
	xtcp_diag_close(&zero);
	ok(null_fd == 0 && fcntl(0, F_GETFD) >= 0, "closing a zeroed struct leaves fd 0 open");

	ok(xtcp_diag_open(&d) == 0 && d.is_open && d.fd >= 0 && d.portid != 0,
	   "open: a bound socket with the port id the kernel gave it");
	l4 = listener(AF_INET, 7201);
	l6 = listener(AF_INET6, 7202);
	ok(l4 >= 0 && l6 >= 0, "an IPv4 and an IPv6 listener");

	memset(&s, 0, sizeof(s));
	ok(xtcp_diag_dump(&d, AF_UNSPEC, listen_only, XTCP_EXT_ALL, count, &s) == 0 &&
	   s.v4 == 1 && s.v6 == 1 && s.other == 0 && s.last_type == TCPDIAG_GETSOCK,
	   "both families in one request: the two listeners (%d, %d, %d others)", s.v4, s.v6, s.other);
	memset(&s, 0, sizeof(s));
	ok(xtcp_diag_dump(&d, AF_INET6, listen_only, 0, count, &s) == 0 && s.v4 == 0 && s.v6 == 1 &&
	   s.last_type == SOCK_DIAG_BY_FAMILY, "IPv6 alone: its listener");

	/* another process may send to our port id: its datagram is not a reply */
	memset(&s, 0, sizeof(s));
	ok(forge_done(&d) == 0, "a forged NLMSG_DONE sent to the dump's port id");
	ok(xtcp_diag_dump(&d, AF_UNSPEC, listen_only, XTCP_EXT_ALL, count, &s) == 0 &&
	   s.v4 == 1 && s.v6 == 1, "the forged end is dropped: the dump still sees both listeners");
	memset(&s, 0, sizeof(s));
	ok(xtcp_diag_dump(&d, AF_UNSPEC, listen_only, 0, count, &s) == 0 && s.v4 == 1 && s.v6 == 1,
	   "and the socket is good for the next dump");

	/* a reply larger than the buffer is an error, not a silently cut message */
	xtcp_diag_use_buffer(&d, small, sizeof(small));
	memset(&s, 0, sizeof(s));
	errno = 0;
	ok(xtcp_diag_dump(&d, AF_INET, listen_only, XTCP_EXT_ALL, count, &s) == -1 &&
	   errno == ENOSPC && d.failed == XTCP_DIAG_RECV && s.v4 == 0,
	   "a reply that does not fit: ENOSPC, where receiving (%s)", strerror(errno));
	xtcp_diag_close(&d);
	ok(!d.is_open && d.fd == -1, "closed");
	xtcp_diag_close(&d);
	ok(fcntl(0, F_GETFD) >= 0, "closing twice closes nothing else");
	close(l4);
	close(l6);
	return done_testing();
}
