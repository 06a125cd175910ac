/*
 * lib/wire.h on arbitrary bytes: every varint reader agrees with a plain
 * reference decoder written from the encoding rules (at most 10 bytes, the
 * value within 64 bits), and the field walker never reads outside the input
 * and either ends exactly at its end or reports where the bytes went wrong.
 * Any difference aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "../helpers/wire-ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size + 16);
	struct xtcp_wire_reader r;
	struct xtcp_wire_field f;
	struct xtcp_varint a;
	uint64_t want = 0, got = 0;
	size_t off;
	int n_ref, n_get, rc;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	memset(copy + size, 0, 16);
	/* every suffix's leading varint, through every reader */
	for (off = 0; off < size && off < 64; off++) {
		const uint8_t *p = copy + off, *end = copy + size;

		n_ref = ref_varint(p, size - off, &want);
		n_get = xtcp_varint_get(p, size - off, &got);
		a = xtcp_varint_read(p, end);
		if (n_get != n_ref || (n_ref > 0 && got != want))
			abort();
		if ((a.next != NULL) != (n_ref > 0) || (n_ref > 0 && (a.next != p + n_ref || a.value != want)))
			abort();
		if (xtcp_varint_skip(p, end) != a.next)
			abort();
		if (n_ref > 0 && size - off >= 10) {
			struct xtcp_varint b = xtcp_varint_read_fast(p, end);
			struct xtcp_varint c = xtcp_varint_read_fast64(p, end);

			if (b.next != a.next || b.value != want || c.next != a.next || c.value != want)
				abort();
		}
	}
	/* the walker stays inside the input and accounts for every byte */
	xtcp_wire_reader_init(&r, copy, size);
	while ((rc = xtcp_wire_next(&r, &f)) > 0) {
		if (f.data < copy || f.data + f.len > copy + size || r.p > copy + size || f.at >= r.p)
			abort();
	}
	if (rc == 0 && r.p != copy + size)
		abort();
	if (rc < 0 && (f.at < copy || f.at >= copy + size))
		abort();
	free(copy);
	return 0;
}
