#ifndef XTCP_CLI_H
#define XTCP_CLI_H

/*
 * What every xtcp command shares in how it talks to the user: the exit
 * codes and the one-line usage error.  Header-only, for cmd/ alone: the
 * library never prints or exits.
 */

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "outfile.h"

#define EXIT_USAGE 2

/* "xtcp-TOOL: what (see 'xtcp-TOOL --help')" on stderr, exit 2. */
__attribute__((noreturn, format(printf, 1, 2), unused))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

/*
 * Writing the output failed with errno: when the reader went away (EPIPE,
 * "| head") stop quietly with 0, else report and exit 1.  An unfinished
 * -o file (@outfile, NULL for standard output) is removed either way.
 */
__attribute__((noreturn, unused))
static void output_failed(struct xtcp_outfile *outfile, const char *out_path)
{
	int e = errno;

	if (out_path)
		xtcp_outfile_abort(outfile);
	if (e == EPIPE)
		exit(0);
	errno = e;
	if (out_path)
		warn("cannot write '%s'", out_path);
	else
		warn("cannot write to standard output");
	exit(1);
}

/* An input's name in messages: 'FILE' (quoted), or standard input. */
__attribute__((unused))
static const char *input_name(const char *path, char *buf, size_t size)
{
	if (!path)
		return "standard input";
	snprintf(buf, size, "'%s'", path);
	return buf;
}

#endif
