/*
 * xtcp-floor: the floor for any collector: dump every TCP socket (IPv4 then
 * IPv6, every attribute, like xtcp-dump's default) and discard the replies.
 * With -n all (or -n NAME...), every namespace xtcp-dump -n would poll, each
 * through its own kept socket.  Prints the number of sockets and namespaces
 * on stderr.  Used by bench/.
 *
 * usage: xtcp-floor [-c POLLS] [-n all|NAME|PATH]...
 */

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"

static int count(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(unsigned long *)arg)++;
	return 0;
}

static void ignore(void *arg, enum xtcp_netns_event event, const struct xtcp_netns *ns, int e)
{
	(void)arg;
	(void)event;
	(void)ns;
	(void)e;
}

int main(int argc, char **argv)
{
	const char *names[64];
	struct xtcp_netns_set set;
	size_t n_names = 0, i;
	unsigned long sockets = 0, polls = 1, p;
	bool all = false;
	int c;

	while ((c = getopt(argc, argv, "c:n:")) != -1) {
		if (c == 'c')
			polls = strtoul(optarg, NULL, 10);
		else if (c == 'n' && !strcmp(optarg, "all"))
			all = true;
		else if (c == 'n' && n_names < 64)
			names[n_names++] = optarg;
		else
			errx(2, "usage: xtcp-floor [-c POLLS] [-n all|NAME|PATH]...");
	}
	if (xtcp_netns_set_init(&set, all, names, n_names) < 0)
		err(1, "cannot open '/proc/self/ns/net'");
	for (p = 0; p < polls; p++) {
		if (xtcp_netns_refresh(&set, ignore, NULL) < 0)
			err(1, "cannot discover network namespaces");
		for (i = 0; i < set.n; i++) {
			struct xtcp_diag *d = &set.ns[i].diag;

			if (xtcp_diag_dump_both(d, XTCP_STATES_DEFAULT, XTCP_EXT_ALL, count, &sockets) < 0)
				err(1, "dump of '%s': %s", set.ns[i].name, d->err);
		}
	}
	fprintf(stderr, "sockets=%lu namespaces=%zu\n", sockets / polls, set.n);
	xtcp_netns_set_release(&set);
	return 0;
}
