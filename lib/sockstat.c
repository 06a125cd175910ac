#include "sockstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp.h"

/* Both files are small (/proc/net/protocols: some 2 KiB); more is a kernel we do not know. */
#define SOCKSTAT_TEXT_MAX 8192

int xtcp_sockstat_open(struct xtcp_sockstat_files *f)
{
	int e;

	/* thread-self: a thread's setns(2) moves the thread, not the process's /proc/self */
	f->protocols_fd = -1;
	f->sockstat_fd = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	if (f->sockstat_fd < 0)
		return -1;
	f->protocols_fd = open("/proc/thread-self/net/protocols", O_RDONLY | O_CLOEXEC);
	if (f->protocols_fd < 0) {
		e = errno;
		close(f->sockstat_fd);
		f->sockstat_fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

void xtcp_sockstat_close(struct xtcp_sockstat_files *f)
{
	if (f->sockstat_fd >= 0)
		close(f->sockstat_fd);
	if (f->protocols_fd >= 0)
		close(f->protocols_fd);
	f->sockstat_fd = f->protocols_fd = -1;
}

/*
 * The whole file, from offset 0, in one pread(2): a seq_file made by one
 * show call (as both are) hands all of it to a read large enough.  Its
 * length, or -1 with errno (EFBIG: it may be larger than @size).
 */
static ssize_t read_whole(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = pread(fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n == size) {
		errno = EFBIG;
		return -1;
	}
	return n;
}

/* The line of @text that starts with @prefix, its end in *@end; NULL when there is none. */
static const char *find_line(const char *text, size_t len, const char *prefix, const char **end)
{
	size_t plen = strlen(prefix);
	const char *p = text, *stop = text + len, *nl;

	while (p < stop) {
		nl = memchr(p, '\n', (size_t)(stop - p));
		if (!nl)
			nl = stop;
		if ((size_t)(nl - p) >= plen && !memcmp(p, prefix, plen)) {
			*end = nl;
			return p + plen;
		}
		p = nl + 1;
	}
	return NULL;
}

/* No count comes near this; below it, sums and differences of five cannot overflow. */
#define COUNT_MAX (INT64_C(1) << 48)

/* A decimal number at *@p (after spaces), not past @end; advances *@p.  -1: none. */
static int parse_number(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	while (s < end && *s == ' ')
		s++;
	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > COUNT_MAX)
			return -1;
	}
	if (s < end && *s != ' ')
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* In the line after @prefix, the number that follows the word @key. */
static int line_value(const char *text, size_t len, const char *prefix, const char *key,
		      int64_t *out)
{
	size_t klen = strlen(key);
	const char *end, *p = find_line(text, len, prefix, &end);

	while (p && p < end) {
		while (p < end && *p == ' ')
			p++;
		if ((size_t)(end - p) > klen && !memcmp(p, key, klen) && p[klen] == ' ') {
			p += klen;
			return parse_number(&p, end, out);
		}
		while (p < end && *p != ' ')
			p++;
	}
	return -1;
}

int xtcp_sockstat_parse_sockstat(const char *text, size_t len, struct xtcp_sockstat *st)
{
	if (line_value(text, len, "sockets:", "used", &st->used) < 0 ||
	    line_value(text, len, "TCP:", "inuse", &st->tcp_inuse) < 0 ||
	    line_value(text, len, "TCP:", "tw", &st->tcp_tw) < 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* The "sockets" column (the second number) of protocol @name's line. */
static int protocol_sockets(const char *text, size_t len, const char *name, int64_t *out)
{
	char prefix[32];
	const char *end, *p;
	int64_t size;
	size_t n = strlen(name);

	if (n + 2 > sizeof(prefix))
		return -1;
	memcpy(prefix, name, n);
	prefix[n] = ' ';
	prefix[n + 1] = '\0';
	p = find_line(text, len, prefix, &end);
	if (!p || parse_number(&p, end, &size) < 0)
		return -1;
	return parse_number(&p, end, out);
}

int xtcp_sockstat_parse_protocols(const char *text, size_t len, struct xtcp_sockstat *st)
{
	static const char *const not_tcp[] = { "NETLINK", "UNIX", "UNIX-STREAM", "PACKET" };
	int64_t n;
	size_t i;

	if (protocol_sockets(text, len, "TCPv6", &st->tcp6_inuse) < 0)
		goto bad;
	st->not_tcp = 0;
	for (i = 0; i < sizeof(not_tcp) / sizeof(not_tcp[0]); i++) {
		/* a kernel without one of them (no UNIX-STREAM before Linux 5.15) has none */
		if (protocol_sockets(text, len, not_tcp[i], &n) == 0)
			st->not_tcp += n;
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int xtcp_sockstat_read(const struct xtcp_sockstat_files *f, int64_t own, bool v4_enough,
		       struct xtcp_sockstat *st)
{
	char text[SOCKSTAT_TEXT_MAX];
	ssize_t n;

	n = read_whole(f->sockstat_fd, text, sizeof(text));
	if (n < 0 || xtcp_sockstat_parse_sockstat(text, (size_t)n, st) < 0)
		return -1;
	st->lone = st->used <= own;
	st->v4_busy = false;
	if (st->lone) {
		/* no socket but the caller's netlink ones: nothing hashed in TCPv6 either */
		st->tcp6_inuse = 0;
		st->not_tcp = st->used;
		return 0;
	}
	if (v4_enough && st->tcp_inuse > 0) {
		/* IPv4 is dumped (xtcp_sockstat_may_find), and with it all the caller wants */
		st->v4_busy = true;
		st->tcp6_inuse = st->not_tcp = -1;
		return 0;
	}
	n = read_whole(f->protocols_fd, text, sizeof(text));
	if (n < 0 || xtcp_sockstat_parse_protocols(text, (size_t)n, st) < 0)
		return -1;
	return 0;
}

/* States of TIME_WAIT sockets: a dump reports a timewait socket by its substate. */
#define TW_STATES (XTCP_TCPF(XTCP_TCP_TIME_WAIT) | XTCP_TCPF(XTCP_TCP_FIN_WAIT2))

/*
 * States a dump may find in sockets that no inuse counter counts, or while
 * a socket moves between counters.
 */
#define UNCOUNTED_STATES                                                                  \
	(XTCP_TCPF(XTCP_TCP_SYN_RECV) | XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV) |                \
	 XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE) | XTCP_TCPF(XTCP_TCP_CLOSE) | TW_STATES)

/*
 * Why a dump of a namespace can be skipped on these numbers (kernel 6.18;
 * net/ipv4/inet_hashtables.c, inet_timewait_sock.c, net/core/sock.c).  A
 * dump walks the listening, bind and established hashes of the namespace:
 *
 * - Full sockets in the listening and established hashes (LISTEN, SYN_SENT,
 *   SYN_RECV of a Fast Open child, ESTABLISHED ... LAST_ACK, orphans that
 *   the program closed but the kernel still holds): "inuse" of their
 *   protocol counts each from the moment it is hashed (__inet_hash,
 *   inet_ehash_nolisten, __inet_check_established) to its unhash, under the
 *   same lock.  The protocol is the socket's sk_prot, and so is the family
 *   a dump matches on: an AF_INET6 socket with v4-mapped addresses is
 *   TCPv6's, and IPV6_ADDRFORM moves the count when it moves the family.
 * - TIME_WAIT sockets, and FIN_WAIT2 ones that the kernel keeps as timewait
 *   sockets (a dump reports their substate): not in inuse; "tw" counts them,
 *   for both families (one death row per namespace).
 * - Request sockets (SYN_RECV): not counted anywhere.  Each holds a
 *   reference to its listener (reqsk_alloc), which is counted while it
 *   listens, and after it closes stays in "used" (sockets are counted in
 *   used until freed, __sk_free) as long as one of its requests lives.
 * - Bound sockets that neither listen nor connect (BOUND_INACTIVE, which a
 *   dump reports as CLOSE): not hashed, so not in inuse; in "used".
 * - Moving between counters: a socket entering TIME_WAIT leaves inuse before
 *   tw counts it (inet_twsk_hashdance_schedule); the socket itself is in
 *   "used" throughout.
 *
 * So with "used" less the sockets that can never be TCP (netlink, unix,
 * packet, counted from creation, so never more than they are in used) at
 * zero, no socket a dump could return is left but what inuse and tw count.
 * A socket that appears after these reads was made after them: a dump
 * started at the time of the read would not have seen it either, just as a
 * socket made just after a dump is in the next poll.  What is still not
 * exact: the kernel sums inuse and used over CPUs without a lock, so a
 * read while another socket is made on one CPU and freed on another can
 * come out one short; sockets made by the kernel itself (NFS, SMB, iSCSI)
 * are not in used.  --no-skip is for those doubts.
 */
bool xtcp_sockstat_may_find(const struct xtcp_sockstat *st, int family, uint32_t states)
{
	if (st->v4_busy)
		return true;    /* IPv4 by its count; IPv6 not counted */
	if ((family == AF_INET6 ? st->tcp6_inuse : st->tcp_inuse) > 0)
		return true;
	if ((states & TW_STATES) && st->tcp_tw > 0)
		return true;
	if ((states & UNCOUNTED_STATES) && st->used - st->not_tcp > 0)
		return true;
	return false;
}
