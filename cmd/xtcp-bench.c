/*
 * xtcp-bench: socket load in a private namespace, synthetic streams,
 * micro-benchmarks of the library, and the raw netlink floor.  See
 * man/xtcp-bench.1.  This file dispatches; each subcommand is
 * bench/src/bench-<name>.c.
 */

#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

int main(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		usage_error("a subcommand is required: load, gen, micro or floor");
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		bench_usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "-V") || !strcmp(sub, "--version")) {
		printf("xtcp-bench %s\n", XTCP_VERSION);
		return 0;
	}
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!strcmp(sub, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(sub, "gen"))
		return cmd_gen(argc, argv);
	if (!strcmp(sub, "micro"))
		return cmd_micro(argc, argv);
	if (!strcmp(sub, "floor"))
		return cmd_floor(argc, argv);
	usage_error("unknown subcommand '%s'", sub);
}
