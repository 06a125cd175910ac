/*
 * xtcp-bench: socket load in a private namespace, synthetic streams,
 * micro-benchmarks of the library, and the raw netlink floor.  See
 * man/xtcp-bench.1.  This file dispatches; each subcommand is
 * bench/src/bench-<name>.c.
 */

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

/*
 * micro is a program of its own, xtcp-bench-micro, because its allocation
 * counter replaces malloc for the whole program that links it
 * (bench/src/alloccount.h) and load, gen and floor should run on the C
 * library's.  It lives in libexec/xtcp beside this program's bin directory,
 * installed or in the build tree, so it is found from /proc/self/exe, and it
 * gets our argv as it is: its messages and --help are the same as ours.
 */
#define MICRO_PATH "/libexec/xtcp/xtcp-bench-micro"

__attribute__((noreturn))
static void exec_micro(char **argv)
{
	char top[PATH_MAX], path[PATH_MAX + sizeof(MICRO_PATH)];
	ssize_t n = readlink("/proc/self/exe", top, sizeof(top) - 1);
	char *slash;
	int up;

	if (n < 0)
		err(1, "micro: cannot find this program");
	top[n] = '\0';
	for (up = 0; up < 2; up++) {    /* PREFIX/bin/xtcp-bench -> PREFIX */
		slash = strrchr(top, '/');
		if (slash)
			*slash = '\0';
	}
	snprintf(path, sizeof(path), "%s%s", top, MICRO_PATH);
	execv(path, argv);
	err(1, "micro: cannot run '%s'", path);
}

int main(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		usage_error("a subcommand is required: load, gen, micro or floor");
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		bench_usage(stdout);
		exit_listing();
	}
	if (!strcmp(sub, "-V") || !strcmp(sub, "--version")) {
		print_version();
	}
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!strcmp(sub, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(sub, "gen"))
		return cmd_gen(argc, argv);
	if (!strcmp(sub, "micro"))
		exec_micro(argv);
	if (!strcmp(sub, "floor"))
		return cmd_floor(argc, argv);
	usage_error("unknown subcommand '%s'", sub);
}
