#ifndef XTCP_PARSE_H
#define XTCP_PARSE_H

/*
 * Numbers from users: one dialect for every option and every filter
 * literal (man 7 xtcp, NUMBERS).
 *
 *   number   := ["-" | "+"] digits ["." digits] [unit]  |  "0x" hexdigits
 *   size     := k K M G T (x1000), Ki Mi Gi Ti (x1024), with or without a
 *               trailing B (kB MB KiB MiB ...); B alone is x1
 *   time     := ns us ms s m h          (m is a minute, M is a million)
 *
 * Units are case-sensitive.  Values are exact: "1.5ms" is 1500000 ns, not a
 * floating-point approximation.  xtcp_number_parse() is the grammar;
 * the option parsers below add a range, and xtcp-filter the field's unit.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xtcp_unit_class {
	XTCP_UNIT_NONE,         /* a bare number */
	XTCP_UNIT_SIZE,         /* a size multiplier (k, Ki, MB, ...) */
	XTCP_UNIT_TIME,         /* a time unit: factor is nanoseconds per unit */
};

/* value = (neg ? -1 : 1) * num * factor / den */
struct xtcp_number {
	unsigned __int128 num;
	unsigned __int128 den;          /* a power of ten */
	bool neg;
	enum xtcp_unit_class unit_class;
	uint64_t factor;
	const char *unit;               /* where the unit starts in the text */
	size_t unit_len;
};

/* Why a text is not a number (xtcp_number_parse returns its negation). */
enum xtcp_number_error {
	XTCP_NUMBER_SYNTAX = 1,         /* no digits, stray characters */
	XTCP_NUMBER_TOO_LARGE,          /* more than 24 digits, or hex beyond 64 bits */
	XTCP_NUMBER_UNIT,               /* digits, then a unit no table has (n->unit says where) */
};

/* Parse @text[0..len).  Returns 0, or -XTCP_NUMBER_* (errno EINVAL, or ERANGE for TOO_LARGE). */
int xtcp_number_parse(const char *text, size_t len, struct xtcp_number *n);

/* The units a message may list: "ns us ms s m h, k M G T Ki Mi Gi Ti (B, KiB, ...)". */
extern const char xtcp_number_units[];

/*
 * Option values.  The whole text must be the number, within [min, max].
 * Each returns 0, or -1 with errno EINVAL (not a number, a unit of the wrong
 * kind, a sign) or ERANGE (outside the range).
 */

/* A plain count: digits (or 0x hex), no unit, no fraction. */
int xtcp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A size in bytes: a number with an optional size unit ("256KiB", "1.5M"); a fraction of a byte is dropped. */
int xtcp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration in nanoseconds: a number with a time unit, or a bare number of
 * seconds ("1.5s", "500ms", "2m", "10"); rounded to the nearest nanosecond.
 */
int xtcp_parse_duration(const char *text, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns);

/*
 * The port of service @name (or of one of its aliases) for @protocol
 * ("tcp") in a services(5) file such as XTCP_SERVICES: lines "name
 * port/protocol aliases...", '#' to the end of a line a comment.  Read here
 * rather than by getservbyname(3): the programs are linked statically, and
 * glibc's name service in a static program loads the shared libraries of
 * the glibc it was built with.  Returns 0 with *port set; -1 with errno
 * ENOENT (no such service), EIO (a read failed) or fopen's errno.
 */
#define XTCP_SERVICES "/etc/services"
int xtcp_service_port(const char *path, const char *name, const char *protocol, uint32_t *port);

#endif
