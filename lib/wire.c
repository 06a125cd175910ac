#include "wire.h"

#include <errno.h>

struct xtcp_varint xtcp_varint_read_slow(const uint8_t *p, const uint8_t *end, size_t limit)
{
	struct xtcp_varint r = { NULL, 0 };
	size_t max = (size_t)(end - p) < limit ? (size_t)(end - p) : limit;
	size_t i;

	for (i = 0; i < max; i++) {
		r.value |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			/* the 10th byte holds bit 63 only */
			if (i == XTCP_VARINT_MAX - 1 && p[i] > 1)
				break;
			r.next = p + i + 1;
			return r;
		}
	}
	r.value = 0;
	return r;
}

int xtcp_wire_next(struct xtcp_wire_reader *r, struct xtcp_wire_field *f)
{
	struct xtcp_varint x;
	const uint8_t *p = r->p;

	if (p >= r->end)
		return 0;
	f->at = p;
	x = xtcp_wire_tag(p, r->end);
	if (!x.next || x.value >> 3 > XTCP_FIELD_NUMBER_MAX)
		goto bad;
	f->number = (uint32_t)(x.value >> 3);
	f->type = (unsigned)(x.value & 7);
	p = x.next;
	switch (f->type) {
	case XTCP_WIRE_VARINT:
		x = xtcp_varint_read(p, r->end);
		if (!x.next)
			goto bad;
		f->varint = x.value;
		f->data = p;
		f->len = (size_t)(x.next - p);
		r->p = x.next;
		return 1;
	case XTCP_WIRE_LEN:
		x = xtcp_wire_len(p, r->end);
		if (!x.next)
			goto bad;
		f->varint = 0;
		f->data = x.next;
		f->len = (size_t)x.value;
		r->p = x.next + x.value;
		return 1;
	default:
		f->varint = 0;
		f->data = p;
		r->p = xtcp_wire_skip(p, r->end, f->type);
		if (!r->p) {
			r->p = p;
			goto bad;
		}
		f->len = (size_t)(r->p - p);
		return 1;
	}
bad:
	errno = EBADMSG;
	return -1;
}

int xtcp_wire_find_bytes(const uint8_t *msg, size_t len, uint32_t number,
			 const uint8_t **data, size_t *data_len)
{
	struct xtcp_wire_reader r;
	struct xtcp_wire_field f;
	int rc;

	*data = NULL;
	*data_len = 0;
	xtcp_wire_reader_init(&r, msg, len);
	while ((rc = xtcp_wire_next(&r, &f)) > 0) {
		if (f.number == number && f.type == XTCP_WIRE_LEN) {
			*data = f.data;
			*data_len = f.len;
			return 1;
		}
	}
	return rc;
}
