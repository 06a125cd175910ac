#ifndef XTCP_EVENTS_H
#define XTCP_EVENTS_H

/*
 * Close events: the kernel's sock_diag destroy multicast groups
 * (SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY, linux/sock_diag.h),
 * which send one SOCK_DIAG_BY_FAMILY message (struct inet_diag_msg and its
 * attributes, tcp_info included, as a dump reply has them) for every TCP
 * socket destroyed in the network namespace the listening socket was
 * created in.  What `ss -E` reads.
 *
 * Privilege: joining the groups needs CAP_NET_ADMIN in the user namespace
 * that owns the network namespace (netlink_allowed() in the kernel); without
 * it xtcp_events_open() fails with EPERM.
 *
 * Loss: events queue in the socket's receive buffer until read; when it is
 * full the kernel drops them, counts each in the socket's drop counter
 * (SK_MEMINFO_DROPS) and says ENOBUFS once on the next receive.  Reading
 * takes the count from that counter, so @lost is exact: every event dropped
 * in the namespace since the socket was opened.  (An event the kernel could
 * not even allocate, under memory pressure, is not sent and not counted.)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Which groups to join: a bit per family. */
#define XTCP_EVENTS_IPV4 1u
#define XTCP_EVENTS_IPV6 2u

/* The receive buffer asked for by default: the kernel doubles it; some 52,000 queued events
 * of 1,280 bytes each (IPv4 or IPv6, as /proc/net/netlink counts them on Linux 6.x). */
#define XTCP_EVENTS_RCVBUF_DEFAULT (32u << 20)

/* The buffer xtcp_events_read() needs, shared by every reader (one message per 8 KiB slot). */
#define XTCP_EVENTS_SLOT 8192u
#define XTCP_EVENTS_BUF_SIZE (16u * XTCP_EVENTS_SLOT)

struct xtcp_events {
	int fd;                 /* -1 when not open */
	uint64_t lost;          /* events the kernel dropped since the socket was opened */
	uint64_t lost_reported; /* for the caller: how much of @lost it has told about */
	uint32_t drops;         /* the socket's drop counter when last read */
	bool overrun;           /* ENOBUFS seen: count again once the queue is empty */
	bool drops_unknown;     /* no SO_MEMINFO (before Linux 4.12): @lost counts ENOBUFS */
};

/*
 * Open a NETLINK_SOCK_DIAG socket in the calling thread's network namespace
 * and join the destroy groups of @families (XTCP_EVENTS_IPV4 | _IPV6), with
 * a receive buffer of @rcvbuf bytes: SO_RCVBUFFORCE (CAP_NET_ADMIN, past
 * net.core.rmem_max), else SO_RCVBUF (capped by rmem_max).  The socket does
 * not block.  Returns 0, or -1 with errno: EPERM when joining the groups was
 * refused (no CAP_NET_ADMIN for this namespace), else socket(2)'s.
 */
int xtcp_events_open(struct xtcp_events *ev, unsigned families, size_t rcvbuf);
void xtcp_events_close(struct xtcp_events *ev);

/*
 * Read what is queued, without waiting: at most one buffer's worth of
 * messages (XTCP_EVENTS_BUF_SIZE bytes at @buf, owned by the caller), each
 * SOCK_DIAG_BY_FAMILY one handed to @cb.  A loss the kernel reports
 * (ENOBUFS) is not an error: @lost grows, and reading goes on.  Returns the
 * number of datagrams read, one event each (0: the queue is empty), or -1
 * with errno:
 * the callback's when it returned < 0 (the messages after it in this read
 * are dropped), EMSGSIZE for a message longer than a slot, else recvmmsg(2)'s.
 */
int xtcp_events_read(struct xtcp_events *ev, uint8_t *buf, xtcp_diag_cb cb, void *arg);

/* Bring @lost up to date with the kernel's drop counter (at the end of a run). */
void xtcp_events_count_lost(struct xtcp_events *ev);

#endif
