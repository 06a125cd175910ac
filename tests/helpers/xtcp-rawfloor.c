/*
 * xtcp-rawfloor: the floor again, from nothing but the kernel's UAPI headers
 * and three system calls (socket, sendmsg, recvmsg): no libmnl, no line of
 * lib/.  It asks what xtcp-dump asks by default (every TCP socket of both
 * families in one TCPDIAG_GETSOCK request, every state but bound-inactive,
 * every idiag_ext attribute), receives every reply into one buffer, counts
 * the sockets and throws them away.  bench/run.sh times it beside
 * `xtcp-bench floor` (which uses lib/diag.c, as xtcp-dump does), so that a
 * cost hidden in the shared netlink code shows as a gap between the two.
 *
 * -t KIB makes it do what a consumer of the replies does to the caches
 * between two receives, without doing the consumer's work: it reads every
 * byte received and writes KIB KiB into a 256 KiB ring (a frame being
 * filled).  The kernel's share of its time then tells whether work between
 * receives slows the kernel's dump (by evicting its code and data).
 *
 * usage: xtcp-rawfloor [-c POLLS] [-b BUFFER_BYTES] [-t KIB]
 * Prints "N sockets" on stderr (of the last poll); exits 1 on any error.
 */

#include <err.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCPDIAG_GETSOCK
#define TCPDIAG_GETSOCK 18
#endif

/* TCP states 1..12 (TCP_ESTABLISHED .. TCP_NEW_SYN_RECV) and 0; not 13, TCP_BOUND_INACTIVE */
#define STATES (0xffffffffu & ~(1u << 13))

#define RING_SIZE (256u << 10)

static size_t touch_kib;        /* -t */
static uint8_t *ring;
static size_t ring_at;
static volatile uint64_t sink;

/* Read @n bytes of @buf and write touch_kib KiB of the ring. */
static void touch(const uint8_t *buf, size_t n)
{
	uint64_t sum = 0;
	size_t i, left = touch_kib << 10;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, buf + i, 8);
		sum += v;
	}
	for (; i < n; i++)
		sum += buf[i];
	while (left) {
		size_t k = RING_SIZE - ring_at < left ? RING_SIZE - ring_at : left;

		memset(ring + ring_at, (int)(sum & 0xff), k);
		ring_at = (ring_at + k) % RING_SIZE;
		left -= k;
	}
	sink += sum;
}

static unsigned long poll_once(int fd, uint8_t *buf, size_t size, uint32_t seq)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr mh = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	unsigned long sockets = 0;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = TCPDIAG_GETSOCK;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.idiag_family = AF_UNSPEC;
	msg.req.idiag_ext = 0xff;
	msg.req.idiag_states = STATES;
	if (sendmsg(fd, &mh, 0) < 0)
		err(1, "sendmsg");
	for (;;) {
		ssize_t n = recv(fd, buf, size, 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "recv");
		if (touch_kib)
			touch(buf, (size_t)n);
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return sockets;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				errno = -e->error;
				err(1, "the kernel refused the dump");
			}
			sockets++;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long polls = 1, sockets = 0, i;
	size_t size = 32768;
	uint8_t *buf;
	int fd, opt;

	while ((opt = getopt(argc, argv, "c:b:t:")) != -1) {
		if (opt == 'c')
			polls = strtoul(optarg, NULL, 10);
		else if (opt == 'b')
			size = strtoul(optarg, NULL, 10);
		else if (opt == 't')
			touch_kib = strtoul(optarg, NULL, 10);
		else
			errx(2, "usage: xtcp-rawfloor [-c POLLS] [-b BUFFER_BYTES] [-t KIB]");
	}
	if (polls < 1 || size < 8192 || touch_kib > 4096)
		errx(2, "usage: xtcp-rawfloor [-c POLLS] [-b BUFFER_BYTES] (at least 8192) "
		     "[-t KIB] (at most 4096)");
	buf = malloc(size);
	ring = touch_kib ? malloc(RING_SIZE) : NULL;
	if (!buf || (touch_kib && !ring))
		err(1, "malloc");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		err(1, "socket");
	for (i = 0; i < polls; i++)
		sockets = poll_once(fd, buf, size, (uint32_t)i + 1);
	fprintf(stderr, "%lu sockets\n", sockets);
	free(buf);
	free(ring);
	close(fd);
	return 0;
}
