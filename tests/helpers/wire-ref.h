#ifndef XTCP_TEST_WIRE_REF_H
#define XTCP_TEST_WIRE_REF_H

/*
 * What the tests hold lib/wire.h and the record decoder to, written from
 * the encoding rules rather than from lib/wire.h.
 *
 * ref_varint(): base-128, little-endian groups, at most 10 bytes, the value
 * within 64 bits.  Returns bytes used, 0 if cut short, -1 if malformed.
 *
 * has_overflowing_varint(), for the tests that compare the record decoder
 * with protobuf-c's: the one input
 * on which the two differ by design is a varint whose value overflows 64
 * bits (nine bytes with the continuation bit, then a 10th above 1), which
 * protobuf-c truncates and lib/wire.h rejects.  True when @buf holds such a
 * sequence anywhere: where xtcp rejects what protobuf-c accepts, this must
 * be why.
 */

#include <stddef.h>
#include <stdint.h>

static inline int ref_varint(const uint8_t *p, size_t len, uint64_t *v)
{
	unsigned __int128 x = 0;
	size_t i;

	for (i = 0; i < len && i < 10; i++) {
		x |= (unsigned __int128)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (x >> 64)
				return -1;
			*v = (uint64_t)x;
			return (int)i + 1;
		}
	}
	return len >= 10 ? -1 : 0;
}

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
