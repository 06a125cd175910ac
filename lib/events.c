#include "events.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define SLOTS (XTCP_EVENTS_BUF_SIZE / XTCP_EVENTS_SLOT)

static int join(int fd, int group)
{
	return setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group));
}

int xtcp_events_open(struct xtcp_events *ev, unsigned families, size_t rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int size = rcvbuf > INT_MAX / 2 ? INT_MAX / 2 : (int)rcvbuf, e;

	memset(ev, 0, sizeof(*ev));
	ev->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
	if (ev->fd < 0)
		return -1;
	/* the kernel doubles either value (room for its bookkeeping), as for any socket */
	if (setsockopt(ev->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(ev->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(ev->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err_close;
	if ((families & XTCP_EVENTS_IPV4) && join(ev->fd, SKNLGRP_INET_TCP_DESTROY) < 0)
		goto err_close;
	if ((families & XTCP_EVENTS_IPV6) && join(ev->fd, SKNLGRP_INET6_TCP_DESTROY) < 0)
		goto err_close;
	return 0;

err_close:
	e = errno;
	close(ev->fd);
	ev->fd = -1;
	errno = e;
	return -1;
}

void xtcp_events_close(struct xtcp_events *ev)
{
	if (ev->fd >= 0)
		close(ev->fd);
	ev->fd = -1;
}

void xtcp_events_count_lost(struct xtcp_events *ev)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (ev->fd < 0 || ev->drops_unknown)
		return;
	if (getsockopt(ev->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mem[0])) {
		ev->drops_unknown = true;
		return;
	}
	/* a 32-bit counter: what it grew by since the last look */
	ev->lost += (uint32_t)(mem[SK_MEMINFO_DROPS] - ev->drops);
	ev->drops = mem[SK_MEMINFO_DROPS];
}

/* One datagram: its SOCK_DIAG_BY_FAMILY messages to @cb; returns 0, or -1 as @cb. */
static int handle(const uint8_t *p, size_t len, xtcp_diag_cb cb, void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
	size_t left = len;

	for (; xtcp_nlmsg_ok(nlh, left); nlh = xtcp_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY && cb(nlh, arg) < 0)
			return -1;
	return 0;
}

int xtcp_events_read(struct xtcp_events *ev, uint8_t *buf, xtcp_diag_cb cb, void *arg)
{
	struct mmsghdr msgs[SLOTS];
	struct iovec iov[SLOTS];
	int got, i;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < (int)SLOTS; i++) {
		iov[i].iov_base = buf + (size_t)i * XTCP_EVENTS_SLOT;
		iov[i].iov_len = XTCP_EVENTS_SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		got = recvmmsg(ev->fd, msgs, SLOTS, MSG_DONTWAIT, NULL);
		if (got >= 0)
			break;
		if (errno == ENOBUFS) {
			/* the kernel dropped some: how many, from its counter */
			ev->overrun = true;
			if (ev->drops_unknown)
				ev->lost++;
			xtcp_events_count_lost(ev);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/*
		 * Empty.  Drops go on after the ENOBUFS until the queue empties
		 * (the kernel keeps the socket congested till then): count them now.
		 */
		if (ev->overrun) {
			ev->overrun = false;
			xtcp_events_count_lost(ev);
		}
		return 0;
	}
	for (i = 0; i < got; i++) {
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (handle(buf + (size_t)i * XTCP_EVENTS_SLOT, msgs[i].msg_len, cb, arg) < 0)
			return -1;
	}
	return got;
}
