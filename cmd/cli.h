#ifndef XTCP_CLI_H
#define XTCP_CLI_H

/*
 * What every xtcp command shares in how it talks to the user: the exit
 * codes and the one-line usage error.  Header-only, for cmd/ alone: the
 * library never prints or exits.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
