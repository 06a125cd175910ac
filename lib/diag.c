#include "diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "stream.h"

int xtcp_diag_open(struct xtcp_diag *d)
{
	struct sockaddr_nl self = { .nl_family = AF_NETLINK };   /* nl_pid 0: the kernel picks */
	socklen_t self_len = sizeof(self);
	int e;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->save_fd = -1;
	d->buf_size = XTCP_DIAG_BUF_SIZE;
	d->buf = malloc(d->buf_size);
	if (!d->buf)
		return -1;
	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (d->fd < 0)
		goto err_free;
	if (bind(d->fd, (struct sockaddr *)&self, sizeof(self)) < 0 ||
	    getsockname(d->fd, (struct sockaddr *)&self, &self_len) < 0)
		goto err_close;
	if (self_len != sizeof(self) || self.nl_family != AF_NETLINK) {
		errno = EINVAL;
		goto err_close;
	}
	d->portid = self.nl_pid;
	d->is_open = true;
	return 0;

err_close:
	e = errno;
	close(d->fd);
	errno = e;
err_free:
	free(d->buf);
	d->buf = NULL;
	d->fd = -1;
	return -1;
}

void xtcp_diag_use_buffer(struct xtcp_diag *d, uint8_t *buf, size_t size)
{
	if (!d->buf_borrowed)
		free(d->buf);
	d->buf = buf;
	d->buf_size = size;
	d->buf_borrowed = true;
}

void xtcp_diag_close(struct xtcp_diag *d)
{
	if (d->is_open)
		close(d->fd);
	if (!d->buf_borrowed)
		free(d->buf);
	d->fd = -1;
	d->is_open = false;
	d->buf = NULL;
}

int xtcp_diag_handle(const struct nlmsghdr *nlh, xtcp_diag_cb cb, void *arg, int *done)
{
	const struct nlmsgerr *nerr;
	int32_t status;

	switch (nlh->nlmsg_type) {
	case SOCK_DIAG_BY_FAMILY:
	case TCPDIAG_GETSOCK:   /* the reply to a request of both families at once */
		return cb(nlh, arg);
	case NLMSG_DONE:
		*done = 1;
		/* A dump that failed part-way carries the error after the header. */
		if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(status)) {
			memcpy(&status, xtcp_nlmsg_payload(nlh), sizeof(status));
			if (status < 0) {
				errno = -status;
				return -1;
			}
		}
		return 0;
	case NLMSG_ERROR:
		*done = 1;
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*nerr)) {
			errno = EBADMSG;
			return -1;
		}
		nerr = xtcp_nlmsg_payload(nlh);
		if (nerr->error == 0)
			return 0;
		errno = nerr->error < 0 ? -nerr->error : nerr->error;
		return -1;
	default:
		return 0;
	}
}

/*
 * One datagram into d->buf: its length, 0 at end of file, or -1 with errno
 * (ENOSPC: it did not fit, and the rest of it is lost).  A datagram from
 * anyone but the kernel (another process may send to our port id) is
 * dropped: -2.
 */
static ssize_t recv_reply(struct xtcp_diag *d)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = d->buf, .iov_len = d->buf_size };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t n = recvmsg(d->fd, &mh, 0);

	if (n < 0)
		return -1;
	if (mh.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
		return -2;
	return n;
}

/* Record where and why a dump failed; returns -1 with errno @e. */
static int fail(struct xtcp_diag *d, enum xtcp_diag_failure where, int e, const char *what)
{
	d->failed = where;
	snprintf(d->err, sizeof(d->err), "%s", what);
	errno = e;
	return -1;
}

int xtcp_diag_dump(struct xtcp_diag *d, int family, uint32_t states, uint8_t ext,
		   xtcp_diag_cb cb, void *arg)
{
	return xtcp_diag_dump_filtered(d, family, states, ext, NULL, 0, cb, arg);
}

/* The request and its bytecode attribute, sent without copying the bytecode. */
static int send_request(struct xtcp_diag *d, void *msg, size_t msg_len, const uint8_t *bytecode,
			size_t bytecode_len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlattr attr = { .nla_len = (uint16_t)(NLA_HDRLEN + bytecode_len),
			       .nla_type = INET_DIAG_REQ_BYTECODE };
	struct iovec iov[3] = {
		{ .iov_base = msg, .iov_len = msg_len },
		{ .iov_base = &attr, .iov_len = sizeof(attr) },
		{ .iov_base = (void *)(uintptr_t)bytecode, .iov_len = bytecode_len },  /* not written */
	};
	struct msghdr mh = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = iov,
			     .msg_iovlen = bytecode_len ? 3 : 1 };

	return sendmsg(d->fd, &mh, 0) < 0 ? -1 : 0;
}

/*
 * The request.  One family: sock_diag's inet_diag_req_v2.  AF_UNSPEC: the
 * older TCPDIAG_GETSOCK request (struct inet_diag_req), the only one whose
 * family may be AF_UNSPEC; the kernel then walks its socket tables once for
 * both families instead of once per family (every dump walks the whole
 * established hash, whatever it finds), and replies with TCPDIAG_GETSOCK
 * messages that hold the same inet_diag_msg.
 */
static int send_dump_request(struct xtcp_diag *d, int family, uint32_t states, uint8_t ext,
			     const uint8_t *bytecode, size_t bytecode_len)
{
	union {
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req_v2 req;
		} v2;
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req req;
		} compat;
	} msg;
	struct nlmsghdr *nlh = &msg.v2.nlh;
	size_t size;

	memset(&msg, 0, sizeof(msg));
	if (family == AF_UNSPEC) {
		size = sizeof(msg.compat);
		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		msg.compat.req.idiag_family = AF_UNSPEC;
		msg.compat.req.idiag_ext = ext;
		msg.compat.req.idiag_states = states;
	} else {
		size = sizeof(msg.v2);
		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		msg.v2.req.sdiag_family = (uint8_t)family;
		msg.v2.req.sdiag_protocol = IPPROTO_TCP;
		msg.v2.req.idiag_ext = ext;
		msg.v2.req.idiag_states = states;
	}
	nlh->nlmsg_len = (uint32_t)(size + (bytecode_len ? NLA_HDRLEN + bytecode_len : 0));
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++d->seq;
	return send_request(d, &msg, size, bytecode, bytecode_len);
}

int xtcp_diag_dump_filtered(struct xtcp_diag *d, int family, uint32_t states, uint8_t ext,
			    const uint8_t *bytecode, size_t bytecode_len, xtcp_diag_cb cb, void *arg)
{
	const struct nlmsghdr *nlh;
	int done = 0, interrupted = 0, failed = 0, saved_errno = 0;
	ssize_t n;
	size_t len;

	if (bytecode_len > 0xffff - NLA_HDRLEN || bytecode_len % 4)
		return fail(d, XTCP_DIAG_SEND, EINVAL, "bytecode too large");
	d->failed = XTCP_DIAG_OK;
	if (send_dump_request(d, family, states, ext, bytecode, bytecode_len) < 0)
		return fail(d, XTCP_DIAG_SEND, errno, "sending the dump request");
	while (!done) {
		n = recv_reply(d);
		if (n == -2)
			continue;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(d, XTCP_DIAG_RECV, errno, errno == ENOBUFS ?
				    "netlink replies were lost" : "receiving the dump");
		}
		if (n == 0)
			return fail(d, XTCP_DIAG_CLOSED, EPIPE, "netlink socket closed during the dump");
		if (d->save_fd >= 0 && xtcp_write_all(d->save_fd, d->buf, (size_t)n) < 0)
			return fail(d, XTCP_DIAG_SAVE, errno, "saving replies");
		len = (size_t)n;
		for (nlh = (const struct nlmsghdr *)(const void *)d->buf; xtcp_nlmsg_ok(nlh, len);
		     nlh = xtcp_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != d->seq || nlh->nlmsg_pid != d->portid)
				continue;       /* a late reply to an earlier, abandoned dump */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = 1;
			/* After a failure keep reading to the end so the socket stays usable. */
			if (failed && (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY ||
				       nlh->nlmsg_type == TCPDIAG_GETSOCK))
				continue;
			if (xtcp_diag_handle(nlh, cb, arg, &done) < 0 && !failed) {
				failed = nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE ?
					 XTCP_DIAG_KERNEL : XTCP_DIAG_CALLBACK;
				saved_errno = errno;
			}
			if (done)
				break;
		}
	}
	if (failed)
		return fail(d, (enum xtcp_diag_failure)failed, saved_errno,
			    failed == XTCP_DIAG_KERNEL ? "the kernel failed the dump" : "handling a reply");
	if (interrupted)
		return fail(d, XTCP_DIAG_INTERRUPTED, EINTR, "dump interrupted by a socket table change");
	return 0;
}

int xtcp_diag_dump_both(struct xtcp_diag *d, uint32_t states, uint8_t ext, xtcp_diag_cb cb,
			void *arg)
{
	if (xtcp_diag_dump(d, AF_UNSPEC, states, ext, cb, arg) == 0)
		return 0;
	if (d->failed != XTCP_DIAG_KERNEL || (errno != EOPNOTSUPP && errno != EINVAL))
		return -1;
	if (xtcp_diag_dump(d, AF_INET, states, ext, cb, arg) < 0)
		return -1;
	return xtcp_diag_dump(d, AF_INET6, states, ext, cb, arg);
}

/* --- names ---------------------------------------------------------------- */

static int word_eq(const char *word, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(word, name, len) == 0;
}

static const char *const ext_names[] = {
	"meminfo", "info", "vegas", "cong", "tos", "tclass", "skmeminfo", "shutdown",
};

int xtcp_diag_ext_parse(const char *list, uint8_t *ext, const char **bad, size_t *bad_len)
{
	const char *p = list;
	unsigned mask = 0;

	do {
		size_t len = strcspn(p, ","), i;
		bool known = true;

		if (word_eq(p, len, "all")) {
			mask |= XTCP_EXT_ALL;
		} else if (!word_eq(p, len, "none")) {
			for (i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
				if (word_eq(p, len, ext_names[i]))
					break;
			known = i < sizeof(ext_names) / sizeof(ext_names[0]);
			if (known)
				mask |= 1u << i;
		}
		if (!known) {
			*bad = p;
			*bad_len = len;
			errno = EINVAL;
			return -1;
		}
		p += len;
	} while (*p++ == ',');
	*ext = (uint8_t)mask;
	return 0;
}
