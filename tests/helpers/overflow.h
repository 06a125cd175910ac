#ifndef XTCP_TEST_OVERFLOW_H
#define XTCP_TEST_OVERFLOW_H

/*
 * For the tests that hold the record decoder to protobuf-c: the one input
 * on which the two differ by design is a varint whose value overflows 64
 * bits (nine bytes with the continuation bit, then a 10th above 1), which
 * protobuf-c truncates and lib/wire.h rejects.  True when @buf holds such a
 * sequence anywhere: where xtcp rejects what protobuf-c accepts, this must
 * be why.
 */

#include <stddef.h>
#include <stdint.h>

static inline int has_overflowing_varint(const uint8_t *buf, size_t len)
{
	size_t run = 0, i;

	for (i = 0; i < len; i++) {
		if (buf[i] & 0x80) {
			run++;
			continue;
		}
		if (run >= 9 && buf[i] > 1)
			return 1;
		run = 0;
	}
	return 0;
}

#endif
