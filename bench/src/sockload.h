#ifndef XTCP_SOCKLOAD_H
#define XTCP_SOCKLOAD_H

/*
 * Real socket load for benchmarks: established loopback TCP connections held
 * open in a network namespace, and the namespace itself.  Benchmark
 * scaffolding (libxtcp-bench.a), not part of libxtcp.
 *
 * A connection is two sockets (the client end and the accepted end), so one
 * process holding N connections needs 2N descriptors; xtcp-bench spreads the
 * connections over worker processes, each with one struct xtcp_sockload_worker,
 * to stay under RLIMIT_NOFILE's hard limit.  Everything here returns 0 or -1
 * with errno set, and never prints.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- network namespaces ------------------------------------------------- */

/*
 * Create the named namespace /run/netns/NAME, as `ip netns add` does, and
 * move the calling process into it.  Returns 0, or -1 with errno EEXIST (the
 * name is taken) or the errno of mkdir/unshare/mount.
 */
int xtcp_sockload_netns_create(const char *name);

/* Move the calling process into /run/netns/NAME (ENOENT when there is none). */
int xtcp_sockload_netns_enter(const char *name);
/* Why entering failed (errno @e): EINVAL, from setns, is a file that is no network namespace. */
const char *xtcp_sockload_netns_strerror(int e);

/* Unmount and remove /run/netns/NAME, as `ip netns del` does. */
int xtcp_sockload_netns_remove(const char *name);

/*
 * Prepare the current namespace for many loopback connections: bring lo up,
 * and when @widen_ports, set net.ipv4.ip_local_port_range to 1024-65535
 * (only for a namespace of our own: the range is the namespace's).
 */
int xtcp_sockload_netns_setup(bool widen_ports);

/*
 * Whether the congestion control @name can be set on a socket here (loaded,
 * or loadable, and allowed).  Returns 0, or -1 with errno ENOENT (no such
 * algorithm), EPERM or another setsockopt error.
 */
int xtcp_sockload_cong_check(const char *name);

/* --- holding connections ------------------------------------------------ */

struct xtcp_sockload_worker {
	int listen4;          /* listeners on 127.0.0.1 and ::1, ephemeral ports */
	int listen6;
	uint16_t port4;
	uint16_t port6;
	int *fds;             /* fds[2i] client end, fds[2i+1] accepted end */
	size_t cap;           /* connections fds has room for */
	size_t conns;         /* connections open */
	size_t next;          /* traffic: the next connection to send on */
	uint64_t bytes;       /* traffic: bytes sent so far */
};

/* Open the two listeners and room for @cap connections. */
int xtcp_sockload_worker_init(struct xtcp_sockload_worker *w, size_t cap);

/*
 * Open one more connection: connect to the listener of @family (AF_INET or
 * AF_INET6), accept it, set the congestion control @cong (NULL: the default)
 * on both ends, and when @payload > 0 send that many bytes each way so that
 * the counters are not all zero.  Returns 0, or -1 with errno (ENOSPC when
 * @cap connections are open already).
 */
int xtcp_sockload_worker_connect(struct xtcp_sockload_worker *w, int family, const char *cong,
				 size_t payload);

/*
 * One step of a trickle of traffic: send a small message each way on the
 * next @count connections (round robin) and drain what arrived, so rtt,
 * bytes and segment counters move.  Never blocks.  Returns 0, or -1 with
 * errno of a failed send (EAGAIN excepted: a full buffer is skipped).
 */
int xtcp_sockload_worker_traffic(struct xtcp_sockload_worker *w, size_t count);

/* Close every connection and the listeners. */
void xtcp_sockload_worker_release(struct xtcp_sockload_worker *w);

/*
 * Raise RLIMIT_NOFILE's soft limit to the hard limit; return the hard limit
 * (or -1 with errno).
 */
long xtcp_sockload_nofile_raise(void);

#endif
