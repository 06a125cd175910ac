/*
 * xtcp-bench floor: dump every TCP socket and discard the replies, the lower
 * bound for any collector.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bench.h"
#include "cli.h"
#include "diag.h"
#include "parse.h"
#include "sockload.h"

static int count_reply(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(uint64_t *)arg)++;
	return 0;
}

int cmd_floor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'N' },
		{ "ext", required_argument, NULL, 'e' },
		{ "per-family", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *netns = NULL, *bad;
	uint8_t ext = XTCP_EXT_ALL;
	size_t bad_len;
	struct xtcp_diag d;
	uint64_t n = 0;
	bool per_family = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			netns = optarg;
			break;
		case 'f':
			per_family = true;
			break;
		case 'e':
			if (xtcp_diag_ext_parse(optarg, &ext, &bad, &bad_len) < 0)
				usage_error("--ext: unknown attribute '%.*s'", (int)bad_len, bad);
			break;
		default:
			bench_option_default("floor", c);
		}
	}
	bench_args_none("floor", argc, argv);
	if (netns && xtcp_sockload_netns_enter(netns) < 0) {
		warnx("cannot enter namespace '%s': %s", netns, xtcp_sockload_netns_strerror(errno));
		return 1;
	}
	if (xtcp_diag_open(&d) < 0)
		err(1, "cannot open a NETLINK_SOCK_DIAG socket");
	/* what xtcp-dump asks for by default, as it asks */
	if (per_family)
		rc = xtcp_diag_dump(&d, AF_INET, XTCP_STATES_DEFAULT, ext, count_reply, &n) < 0 ||
		     xtcp_diag_dump(&d, AF_INET6, XTCP_STATES_DEFAULT, ext, count_reply, &n) < 0;
	else
		rc = xtcp_diag_dump_both(&d, XTCP_STATES_DEFAULT, ext, count_reply, &n) < 0;
	if (rc) {
		warn("floor: %s", d.err);
		return 1;
	}
	xtcp_diag_close(&d);
	fprintf(stderr, "%" PRIu64 " sockets\n", n);
	return 0;
}
