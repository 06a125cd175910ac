/*
 * xtcp-floor: the floor for any collector: dump every TCP socket (IPv4 then
 * IPv6, every attribute, like xtcp-dump's default) and discard the replies.
 * Prints the number of sockets on stderr.  Used by bench/ until xtcp-bench
 * floor exists.
 */

#include <err.h>
#include <stdio.h>
#include <sys/socket.h>

#include "diag.h"

static int count(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(unsigned long *)arg)++;
	return 0;
}

int main(void)
{
	struct xtcp_diag d;
	unsigned long n = 0;

	if (xtcp_diag_open(&d) < 0)
		err(1, "cannot open a NETLINK_SOCK_DIAG socket");
	if (xtcp_diag_dump(&d, AF_INET, XTCP_STATES_ALL, XTCP_EXT_ALL, count, &n) < 0 ||
	    xtcp_diag_dump(&d, AF_INET6, XTCP_STATES_ALL, XTCP_EXT_ALL, count, &n) < 0)
		err(1, "dump: %s", d.err);
	xtcp_diag_close(&d);
	fprintf(stderr, "sockets=%lu\n", n);
	return 0;
}
