#ifndef XTCP_DIAG_H
#define XTCP_DIAG_H

/*
 * Live sock_diag dumps over one NETLINK_SOCK_DIAG socket.
 *
 * A dump sends one inet_diag_req_v2 for a family and hands every reply
 * message to a callback.  The socket, the receive loop and the walk over a
 * datagram's messages are written here on the kernel's headers alone: no
 * library to map and relocate at start-up.  Error reporting: the
 * errno says what, @d->failed (enum xtcp_diag_failure) says where, and
 * @d->err is the same in words for a message:
 *   - errno EINTR (XTCP_DIAG_INTERRUPTED): the kernel marked the dump
 *     NLM_F_DUMP_INTR (the socket table changed under it); the caller may
 *     discard what it got and dump again.  The rest of the dump has been
 *     read, so the socket is reusable.
 *   - errno ENOBUFS (XTCP_DIAG_RECV): replies were lost (receive buffer
 *     overrun).
 *   - XTCP_DIAG_CALLBACK: the callback refused a reply; errno is its errno
 *     (EBADMSG from a parser: a malformed reply).
 *   - XTCP_DIAG_KERNEL: the kernel's error from NLMSG_ERROR or NLMSG_DONE.
 *   - XTCP_DIAG_SAVE: writing the replies to save_fd failed.
 *   - XTCP_DIAG_SEND, XTCP_DIAG_RECV, XTCP_DIAG_CLOSED: the socket failed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "tcp.h"

/* idiag_ext bits: which attributes the kernel adds to each reply. */
#define XTCP_EXT_MEMINFO   (1u << 0)
#define XTCP_EXT_INFO      (1u << 1)
#define XTCP_EXT_VEGASINFO (1u << 2)   /* also brings DCTCP and BBR info */
#define XTCP_EXT_CONG      (1u << 3)
#define XTCP_EXT_TOS       (1u << 4)
#define XTCP_EXT_TCLASS    (1u << 5)   /* also brings CLASS_ID */
#define XTCP_EXT_SKMEMINFO (1u << 6)
#define XTCP_EXT_SHUTDOWN  (1u << 7)
#define XTCP_EXT_ALL       0xffu


/* The kernel fills at most one skb per recv; 32 KiB holds the largest. */
#define XTCP_DIAG_BUF_SIZE 32768

enum xtcp_diag_failure {
	XTCP_DIAG_OK = 0,
	XTCP_DIAG_SEND,         /* sending the request */
	XTCP_DIAG_RECV,         /* receiving (ENOBUFS: replies lost) */
	XTCP_DIAG_CLOSED,       /* the socket reported end of file (EPIPE) */
	XTCP_DIAG_SAVE,         /* writing to save_fd */
	XTCP_DIAG_CALLBACK,     /* the callback returned < 0 */
	XTCP_DIAG_KERNEL,       /* NLMSG_ERROR, or an error in NLMSG_DONE */
	XTCP_DIAG_INTERRUPTED,  /* NLM_F_DUMP_INTR (EINTR) */
};

/*
 * The messages of one netlink datagram of @left bytes: whether @nlh is a
 * whole message within them, and the one after it (@left less what it
 * took).  As NLMSG_OK and NLMSG_NEXT, on const pointers and a size_t.
 */
static inline bool xtcp_nlmsg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= left;
}

static inline const struct nlmsghdr *xtcp_nlmsg_next(const struct nlmsghdr *nlh, size_t *left)
{
	size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlmsghdr *)(const void *)((const uint8_t *)nlh + step);
}

static inline const void *xtcp_nlmsg_payload(const struct nlmsghdr *nlh)
{
	return (const uint8_t *)nlh + NLMSG_HDRLEN;
}

/* Called for each SOCK_DIAG_BY_FAMILY (or TCPDIAG_GETSOCK) reply; a negative return stops the dump with that errno. */
typedef int (*xtcp_diag_cb)(const struct nlmsghdr *nlh, void *arg);

struct xtcp_diag {
	int fd;                 /* the netlink socket, when is_open */
	bool is_open;
	uint32_t portid;        /* the port id the kernel bound it to */
	uint32_t seq;
	uint8_t *buf;
	size_t buf_size;
	bool buf_borrowed;      /* buf belongs to someone else (xtcp_diag_use_buffer) */
	int save_fd;            /* >= 0: every reply buffer is also written here (raw, as ss -D) */
	int cb_errno;           /* errno of a callback that stopped the dump */
	enum xtcp_diag_failure failed;  /* where the last dump failed */
	char err[128];
};

/*
 * Open and bind a NETLINK_SOCK_DIAG socket in the calling thread's current
 * network namespace.  Returns 0, or -1 with errno from socket/bind.
 */
int xtcp_diag_open(struct xtcp_diag *d);
void xtcp_diag_close(struct xtcp_diag *d);

/*
 * Receive into @buf (at least XTCP_DIAG_BUF_SIZE bytes, owned by the caller
 * and kept until xtcp_diag_close) instead of the socket's own buffer, so
 * many sockets polled one after another can share one.
 */
void xtcp_diag_use_buffer(struct xtcp_diag *d, uint8_t *buf, size_t size);

/*
 * Dump the TCP sockets of @family (AF_INET or AF_INET6; AF_UNSPEC: both, in
 * one walk of the kernel's tables, with the older TCPDIAG_GETSOCK request,
 * which a kernel without it fails with XTCP_DIAG_KERNEL, EOPNOTSUPP or
 * EINVAL) in @states (bit per TCP state) with the attributes of @ext.  Returns 0 after NLMSG_DONE, or -1
 * (see above).  Saving (save_fd) failures return -1 with that errno and
 * "saving replies" in @d->err.
 */
int xtcp_diag_dump(struct xtcp_diag *d, int family, uint32_t states, uint8_t ext,
		   xtcp_diag_cb cb, void *arg);

/*
 * The same, with @bytecode (INET_DIAG_REQ_BYTECODE, @bytecode_len bytes, a
 * multiple of 4; lib/bytecode.h) sent with the request: the kernel then
 * sends only the sockets it accepts.  A kernel that refuses the bytecode
 * fails the dump before any reply: XTCP_DIAG_KERNEL with EINVAL (or EPERM
 * for a mark test without CAP_NET_ADMIN).
 */
int xtcp_diag_dump_filtered(struct xtcp_diag *d, int family, uint32_t states, uint8_t ext,
			    const uint8_t *bytecode, size_t bytecode_len, xtcp_diag_cb cb, void *arg);

/*
 * Both families, as a collector asks: one AF_UNSPEC dump, or, from a kernel
 * that refuses it before replying, an AF_INET and an AF_INET6 one.
 */
int xtcp_diag_dump_both(struct xtcp_diag *d, uint32_t states, uint8_t ext, xtcp_diag_cb cb,
			void *arg);

/*
 * Feed one reply message that was read elsewhere (a capture) through the same
 * handling as a live dump: SOCK_DIAG_BY_FAMILY (and TCPDIAG_GETSOCK) goes to @cb, NLMSG_DONE returns
 * 0 with *done set, NLMSG_ERROR (and an error inside NLMSG_DONE) returns -1
 * with the kernel's errno, other types are ignored.
 */
int xtcp_diag_handle(const struct nlmsghdr *nlh, xtcp_diag_cb cb, void *arg, int *done);

/*
 * Parse --ext, a comma-separated list: "all", "none" (no attribute: the
 * kernel still sends each socket's inet_diag_msg), or names: meminfo, info,
 * vegas, cong, tos, tclass, skmeminfo, shutdown.  The result is the union.
 * Returns 0, or -1 with errno EINVAL and *bad, *bad_len on the unknown word.
 */
int xtcp_diag_ext_parse(const char *list, uint8_t *ext, const char **bad, size_t *bad_len);

#endif
