#include "sockload.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETNS_RUN_DIR "/run/netns"
#define TCP_CA_NAME_MAX 16      /* linux/tcp.h, not exported to user space */

static int netns_path(char *path, size_t size, const char *name)
{
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(path, size, "%s/%s", NETNS_RUN_DIR, name) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * /run/netns must be a shared mount point so that the bind mounts in it are
 * seen from other mount namespaces; this is what iproute2 does.
 */
static int run_dir_shared(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -1;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL);
}

int xtcp_sockload_netns_create(const char *name)
{
	char path[256];
	int fd, e;

	if (netns_path(path, sizeof(path), name) < 0 || run_dir_shared() < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		goto err_unlink;
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
		goto err_unlink;
	return 0;

err_unlink:
	e = errno;
	unlink(path);
	errno = e;
	return -1;
}

int xtcp_sockload_netns_enter(const char *name)
{
	char path[256];
	int fd, r, e;

	if (netns_path(path, sizeof(path), name) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

const char *xtcp_sockload_netns_strerror(int e)
{
	return e == EINVAL ? "not a network namespace file" : strerror(e);
}

int xtcp_sockload_netns_remove(const char *name)
{
	char path[256];

	if (netns_path(path, sizeof(path), name) < 0)
		return -1;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return -1;
	return unlink(path);
}

int xtcp_sockload_netns_setup(bool widen_ports)
{
	struct ifreq ifr;
	int fd, r, e;
	static const char range[] = "1024 65535\n";

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	e = errno;
	close(fd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	if (!widen_ports)
		return 0;
	fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, range, sizeof(range) - 1) == (ssize_t)(sizeof(range) - 1) ? 0 : -1;
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int xtcp_sockload_cong_check(const char *name)
{
	int fd, r, e;

	if (!name[0] || strlen(name) >= TCP_CA_NAME_MAX) {
		errno = ENOENT;
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, (socklen_t)strlen(name));
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int listener(int family, uint16_t *port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int fd, e;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4))
			       : bind(fd, (struct sockaddr *)&a6, sizeof(a6))) < 0 ||
	    listen(fd, 4096) < 0 || getsockname(fd, (struct sockaddr *)&got, &len) < 0)
		goto err_close;
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
					: ((struct sockaddr_in6 *)&got)->sin6_port);
	return fd;

err_close:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int xtcp_sockload_worker_init(struct xtcp_sockload_worker *w, size_t cap)
{
	int e;

	memset(w, 0, sizeof(*w));
	w->listen4 = w->listen6 = -1;
	w->fds = calloc(cap ? 2 * cap : 1, sizeof(*w->fds));
	if (!w->fds)
		return -1;
	w->cap = cap;
	w->listen4 = listener(AF_INET, &w->port4);
	if (w->listen4 < 0)
		goto err_free;
	w->listen6 = listener(AF_INET6, &w->port6);
	if (w->listen6 < 0)
		goto err_free;
	return 0;

err_free:
	e = errno;
	xtcp_sockload_worker_release(w);
	errno = e;
	return -1;
}

static int set_cong(int fd, const char *cong)
{
	if (!cong)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cong, (socklen_t)strlen(cong));
}

/* Send @len bytes on @from and read them on @to (loopback: they are there at once). */
static int exchange(int from, int to, size_t len)
{
	char buf[4096];
	size_t done = 0;
	ssize_t n;

	memset(buf, 'x', sizeof(buf));
	while (done < len) {
		n = send(from, buf, len - done < sizeof(buf) ? len - done : sizeof(buf), MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
		while (n > 0) {
			ssize_t m = recv(to, buf, (size_t)n, 0);

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				return -1;
			n -= m;
		}
	}
	return 0;
}

int xtcp_sockload_worker_connect(struct xtcp_sockload_worker *w, int family, const char *cong,
				 size_t payload)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons(w->port6) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(w->port4),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c, s = -1, e;

	if (w->conns >= w->cap) {
		errno = ENOSPC;
		return -1;
	}
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -1;
	if (set_cong(c, cong) < 0)
		goto err_close;
	while ((family == AF_INET ? connect(c, (struct sockaddr *)&a4, sizeof(a4))
				  : connect(c, (struct sockaddr *)&a6, sizeof(a6))) < 0)
		if (errno != EINTR)
			goto err_close;
	do
		s = accept4(family == AF_INET ? w->listen4 : w->listen6, NULL, NULL, SOCK_CLOEXEC);
	while (s < 0 && errno == EINTR);
	if (s < 0 || set_cong(s, cong) < 0)
		goto err_close;
	if (payload && (exchange(c, s, payload) < 0 || exchange(s, c, payload) < 0))
		goto err_close;
	w->fds[2 * w->conns] = c;
	w->fds[2 * w->conns + 1] = s;
	w->conns++;
	return 0;

err_close:
	e = errno;
	close(c);
	if (s >= 0)
		close(s);
	errno = e;
	return -1;
}

static void drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int xtcp_sockload_worker_traffic(struct xtcp_sockload_worker *w, size_t count)
{
	static const char msg[200] = "xtcp-bench traffic";
	size_t i, k;
	int side;

	for (k = 0; k < count && w->conns; k++) {
		i = w->next++ % w->conns;
		for (side = 0; side < 2; side++) {
			ssize_t n = send(w->fds[2 * i + side], msg, sizeof(msg),
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
			if (n > 0)
				w->bytes += (uint64_t)n;
		}
		drain(w->fds[2 * i]);
		drain(w->fds[2 * i + 1]);
	}
	return 0;
}

void xtcp_sockload_worker_release(struct xtcp_sockload_worker *w)
{
	size_t i;

	for (i = 0; i < 2 * w->conns; i++)
		close(w->fds[i]);
	if (w->listen4 >= 0)
		close(w->listen4);
	if (w->listen6 >= 0)
		close(w->listen6);
	free(w->fds);
	memset(w, 0, sizeof(*w));
	w->listen4 = w->listen6 = -1;
}

long xtcp_sockload_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	return rl.rlim_max == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_max;
}
