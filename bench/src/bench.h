#ifndef XTCP_BENCH_H
#define XTCP_BENCH_H

/*
 * The subcommands of xtcp-bench, one file each (bench/src/bench-<name>.c),
 * and what they share.  cmd/xtcp-bench.c calls cmd_<name>() with argv[0]
 * the program and the subcommand's own arguments after it; the return value
 * is the exit status.  micro is a program of its own (bench-micro.c, see
 * alloccount.h) that cmd/xtcp-bench.c executes with the same arguments.
 * Errors go through err(3) and cli.h's usage_error.
 */

#include <stdint.h>
#include <stdio.h>

/* The whole usage text: every subcommand's -h prints it. */
void bench_usage(FILE *fp);

/*
 * An option's number in [@min, @max]; anything else is a usage error naming
 * @opt and echoing @text.
 */
uint64_t bench_parse_num(const char *opt, const char *text, uint64_t min, uint64_t max);

/*
 * The end of a subcommand's getopt switch: -h (@c 'h') prints the usage on
 * standard output and exits 0; any other option is a usage error of @sub.
 */
__attribute__((noreturn))
void bench_option_default(const char *sub, int c);

/* After the options of @sub, argv holds nothing more, or it is a usage error. */
void bench_args_none(const char *sub, int argc, char **argv);

int cmd_load(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_floor(int argc, char **argv);

#endif
