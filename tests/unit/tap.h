#ifndef XTCP_TAP_H
#define XTCP_TAP_H

/*
 * A tiny TAP producer for the unit tests: prove reads the output.
 *   ok(cond, "name %d", i);  is(a, b, "name");  done_testing();
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

#define is(got, want, ...) \
	(ok((uint64_t)(got) == (uint64_t)(want), __VA_ARGS__) ? 1 : \
	 (printf("#   got %" PRIu64 ", want %" PRIu64 "\n", (uint64_t)(got), (uint64_t)(want)), 0))

__attribute__((unused))
static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
