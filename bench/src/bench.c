/* What the subcommands of xtcp-bench share: see bench.h. */

#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"
#include "parse.h"
#include "stream.h"

void bench_usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-bench load -n N [--netns NAME] [--v6 PCT] [--cc LIST] [--traffic]\n"
		"       xtcp-bench gen -n N [--seed S] [--v6 PCT] [--rows N] [--sockets N [--churn PCT]]\n"
		"                      [--bare] [-o FILE]\n"
		"       xtcp-bench micro [-run REGEX] [-count N] [-benchtime DUR]\n"
		"       xtcp-bench floor [--netns NAME] [--ext LIST] [--per-family]\n"
		"Make TCP socket load, synthetic streams and measurements for xtcp.\n"
		"\n"
		"load: hold N established loopback connections (2N sockets) until SIGTERM\n"
		"  -n, --connections N  connections to hold (1..10000000)\n"
		"      --netns NAME     use /run/netns/NAME (created and removed if missing;\n"
		"                       default: a private xtcp-bench-PID)\n"
		"      --v6 PCT         share of IPv6 connections (default 50)\n"
		"      --cc LIST        congestion controls, round robin (default: those of\n"
		"                       cubic,bbr,dctcp,reno the kernel has)\n"
		"      --traffic        keep a trickle of data flowing on every connection\n"
		"      --per-process N  connections per worker process (default: what\n"
		"                       RLIMIT_NOFILE allows, at most 8000)\n"
		"gen: write N synthetic records as a stream, the same bytes for the same seed\n"
		"  -n, --records N      records to write\n"
		"      --seed S         PRNG seed (default 1)\n"
		"      --v6 PCT         share of IPv6 sockets (default 40)\n"
		"      --rows N         rows per frame (default %u)\n"
		"      --sockets N      polls of the same N sockets, counters growing (default:\n"
		"                       every record another socket)\n"
		"      --churn PCT      with --sockets: share of sockets replaced each poll\n"
		"      --bare           records as xtcp-dump writes them: no uplink, ASN,\n"
		"                       container, label, tag or location fields\n"
		"  -o, --output FILE    write FILE instead of stdout, replaced whole on success\n"
		"micro: time the library's per-socket paths, in Go's benchmark format\n"
		"      -run REGEX       only benchmarks whose name matches (POSIX ERE)\n"
		"      -count N         run each benchmark N times (default 1)\n"
		"      -benchtime DUR   time per benchmark run (default 1s)\n"
		"floor: dump every TCP socket and discard the replies (the lower bound)\n"
		"      --netns NAME     dump /run/netns/NAME instead of the caller's namespace\n"
		"      --ext LIST       attributes to request (default all)\n"
		"      --per-family     an IPv4 and an IPv6 dump (two walks of the tables),\n"
		"                       not one request for both\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
		"Example: xtcp-bench gen -n 1000 --seed 7 | xtcp-fmt -f json\n",
		XTCP_DEFAULT_ROWS);
}

uint64_t bench_parse_num(const char *opt, const char *text, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (xtcp_parse_u64(text, min, max, &v) < 0) {
		if (errno == ERANGE)
			usage_error("%s: '%s' is out of range (%" PRIu64 "..%" PRIu64 ")", opt, text,
				    min, max);
		usage_error("%s: '%s' is not a number", opt, text);
	}
	return v;
}

void bench_option_default(const char *sub, int c)
{
	if (c == 'h') {
		bench_usage(stdout);
		exit_listing();
	}
	usage_error("%s: unknown option", sub);
}

void bench_args_none(const char *sub, int argc, char **argv)
{
	if (optind < argc)
		usage_error("%s: unexpected argument '%s'", sub, argv[optind]);
}
