#ifndef XTCP_SOCKSTAT_H
#define XTCP_SOCKSTAT_H

/*
 * What the kernel counts, per network namespace, of the sockets a TCP dump
 * could find: enough to know that a dump of a family would come back empty,
 * without walking the hash tables a dump walks.
 *
 * Two files, opened once from inside the namespace (like its sock_diag
 * socket; an open file answers for the namespace it was opened in) and
 * read again at offset 0 each poll:
 *   /proc/net/sockstat   "sockets: used N" (every socket a program made,
 *                        of any kind, until it is freed) and "TCP: inuse N
 *                        ... tw M" (hashed IPv4 TCP sockets; TIME_WAIT
 *                        sockets of both families);
 *   /proc/net/protocols  the "sockets" column: TCPv6 (the same counter as
 *                        /proc/net/sockstat6's "TCP6: inuse"), and the
 *                        kinds of socket that can never be TCP (NETLINK,
 *                        UNIX, UNIX-STREAM, PACKET), counted from creation.
 * Why these numbers are enough, and where they stop being exact, is in
 * xtcp_sockstat_may_find() and docs/netns.md.
 *
 * /proc/net/protocols costs most (some 25 lines of a dozen fields, made
 * again at each read: 25-35 us against 4 for sockstat, measured here), and
 * two kinds of namespace need none of it: one with no socket but the
 * caller's own ("used" counts every socket programs made, so when it is no
 * more than the caller's, there is no other, of any family or kind), and
 * one whose IPv4 dump happens anyway, for a caller that dumps both
 * families in that one request.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xtcp_sockstat {
	int64_t used;           /* sockets: used */
	int64_t tcp_inuse;      /* TCP: inuse (hashed: listening, connecting, connected) */
	int64_t tcp_tw;         /* TCP: tw (TIME_WAIT sockets, IPv4 and IPv6) */
	int64_t tcp6_inuse;     /* TCPv6 (hashed, v4-mapped ones included) */
	int64_t not_tcp;        /* NETLINK + UNIX + UNIX-STREAM + PACKET */
	bool lone;              /* used <= the caller's own: /proc/net/protocols not read,
				   tcp6_inuse 0 and not_tcp = used */
	bool v4_busy;           /* IPv4 has a hashed socket and the caller said that is
				   enough: /proc/net/protocols not read, tcp6_inuse and
				   not_tcp unknown (-1); both families may find */
};

struct xtcp_sockstat_files {
	int sockstat_fd;        /* -1: not open */
	int protocols_fd;
};

/*
 * Open the files of the calling thread's current network namespace
 * (/proc/thread-self/net/...).  Returns 0, or -1 with errno from open(2);
 * nothing is left open then.
 */
int xtcp_sockstat_open(struct xtcp_sockstat_files *f);
void xtcp_sockstat_close(struct xtcp_sockstat_files *f);

/*
 * Read the files again: /proc/net/sockstat, then /proc/net/protocols unless
 * "used" is at most @own, the sockets the caller holds in the namespace
 * (its sock_diag socket, and its events socket if it has one: made inside
 * it, they count in its "used"), or unless @v4_enough and "TCP: inuse" is
 * above 0.  @v4_enough is the caller's word that a dump of IPv4 would cover
 * what it wants of IPv6 too (it asks for both families in one request, or
 * for IPv4 alone): the IPv4 dump happens, and the IPv6 count would decide
 * nothing.  Returns 0, or -1 with errno: from pread(2), or EBADMSG when a
 * file lacks a number it must have (a kernel that writes them otherwise).
 * @st is whole only on success.
 */
int xtcp_sockstat_read(const struct xtcp_sockstat_files *f, int64_t own, bool v4_enough,
		       struct xtcp_sockstat *st);

/*
 * Parse the text of /proc/net/sockstat (@len bytes) into used, tcp_inuse and
 * tcp_tw, and of /proc/net/protocols into tcp6_inuse and not_tcp.  Return 0,
 * or -1 with errno EBADMSG when a number is missing or malformed.
 */
int xtcp_sockstat_parse_sockstat(const char *text, size_t len, struct xtcp_sockstat *st);
int xtcp_sockstat_parse_protocols(const char *text, size_t len, struct xtcp_sockstat *st);

/*
 * Whether a dump of @family (AF_INET, AF_INET6) asking for @states (a mask
 * of XTCP_TCPF bits) could return any socket of a namespace whose counts
 * are @st.  false: it would return nothing, and may be skipped.  (The
 * caller's own sock_diag and events sockets are netlink sockets: they do
 * not count.)
 */
bool xtcp_sockstat_may_find(const struct xtcp_sockstat *st, int family, uint32_t states);

#endif
