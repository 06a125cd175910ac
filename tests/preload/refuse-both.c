/*
 * refuse-both.so - LD_PRELOAD it to make the kernel refuse requests of both
 * families, as a kernel without sock_diag's compatibility handler would.
 *
 * xtcp-dump asks for IPv4 and IPv6 in one TCPDIAG_GETSOCK request (family
 * AF_UNSPEC), and asks per family for the rest of the run when the kernel
 * refuses it.  No kernel here refuses it, so this sendmsg(2) gives such a
 * request on a NETLINK_SOCK_DIAG socket a message type that sock_diag does
 * not know: the real kernel then answers EINVAL, as it answers a request it
 * has no handler for.  Every other message is sent as it is.  Each request
 * so refused appends a line to the file $XTCP_REFUSED_LOG, when it is set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* no sock_diag message has this type (TCPDIAG_GETSOCK 18 .. SOCK_DESTROY 21) */
#define UNKNOWN_TYPE 30

static int is_sock_diag(int fd)
{
	int domain, proto;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_NETLINK)
		return 0;
	len = sizeof(proto);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
	       proto == NETLINK_SOCK_DIAG;
}

static void log_refusal(void)
{
	const char *path = getenv("XTCP_REFUSED_LOG");
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, "refused\n", 8) < 0) {
		/* nothing to do: the count is only what the test reads */
	}
	close(fd);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	struct nlmsghdr head;
	struct iovec iov[16];
	struct msghdr m;
	char *copy;
	ssize_t n;

	if (!real)
		real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	if (!msg || msg->msg_iovlen < 1 || msg->msg_iovlen > 16 ||
	    msg->msg_iov[0].iov_len < sizeof(head))
		return real(fd, msg, flags);
	memcpy(&head, msg->msg_iov[0].iov_base, sizeof(head));
	if (head.nlmsg_type != TCPDIAG_GETSOCK || !is_sock_diag(fd))
		return real(fd, msg, flags);
	/* the request as it is, but for its header's type, in a copy */
	copy = malloc(msg->msg_iov[0].iov_len);
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(copy, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
	((struct nlmsghdr *)copy)->nlmsg_type = UNKNOWN_TYPE;
	memcpy(iov, msg->msg_iov, msg->msg_iovlen * sizeof(iov[0]));
	iov[0].iov_base = copy;
	m = *msg;
	m.msg_iov = iov;
	log_refusal();
	n = real(fd, &m, flags);
	free(copy);
	return n;
}
