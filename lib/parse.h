#ifndef XTCP_PARSE_H
#define XTCP_PARSE_H

/*
 * Numbers from users, parsed strictly (OpenBSD strtonum's spirit): the whole
 * text must be the number, within [min, max].  Each returns 0, or -1 with
 * errno EINVAL (not a number, unknown unit) or ERANGE (outside the range).
 */

#include <stdint.h>

int xtcp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A size: a number with an optional suffix k M G (x1000) or Ki Mi Gi (x1024); "256KiB" too. */
int xtcp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration in nanoseconds: a number (decimals allowed) with a unit
 * ns us ms s m h; a bare number is seconds.  "1.5s", "500ms", "10".
 */
int xtcp_parse_duration(const char *text, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns);

#endif
