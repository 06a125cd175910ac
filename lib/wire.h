#ifndef XTCP_WIRE_H
#define XTCP_WIRE_H

/*
 * The protobuf wire format, once for the whole project: varints, tags,
 * length prefixes, fixed-width values and skipping a field.  The stream
 * reader, the record codec (generated, build/gen/xtcp_codec.c), the filter's
 * row scanner and the record field scan all read through these.
 *
 * How strict:
 *   - A varint is at most 10 bytes, and its value must fit in 64 bits: the
 *     10th byte may only be 0 or 1.  Go's protowire rejects such an overflow
 *     too; protobuf-c (and protoc 3.21) silently drop the high bits.  This is
 *     the one input on which xtcp's record decoder and protobuf-c's differ.
 *   - A tag and a length prefix are read from at most 5 bytes, as protobuf-c
 *     reads them; a one-byte tag with field number 0 is malformed.  A tag of
 *     more bytes that says field 0 is, as in protobuf-c, an (unknown) field;
 *     message-level readers that need a real field number check it.
 *   - A length prefix must fit in what is left of the input.
 *   - Wire types 3 and 4 (groups), 6 and 7 are malformed.
 *
 * Readers return a pointer past what they read, or NULL when the bytes are
 * malformed or end too early.  The _fast variants may read 10 bytes past
 * @p whatever the value's length: call them only where that many remain.
 * Writers need room for XTCP_VARINT_MAX bytes per varint.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum xtcp_wire_type {
	XTCP_WIRE_VARINT = 0,
	XTCP_WIRE_I64 = 1,
	XTCP_WIRE_LEN = 2,
	XTCP_WIRE_SGROUP = 3,
	XTCP_WIRE_EGROUP = 4,
	XTCP_WIRE_I32 = 5,
};

#define XTCP_VARINT_MAX 10
#define XTCP_TAG_MAX 5                          /* bytes of a tag or a length prefix */
#define XTCP_FIELD_NUMBER_MAX ((1u << 29) - 1)
#define XTCP_WIRE_KEY(number, type) ((uint64_t)(number) << 3 | (type))

/* A varint read: what follows it (NULL if malformed or cut short) and its value. */
struct xtcp_varint {
	const uint8_t *next;
	uint64_t value;
};

/* --- writing ------------------------------------------------------------- */

static inline size_t xtcp_varint_len(uint64_t v)
{
	/* 1 + floor(bits / 7), with v | 1 so that 0 takes one byte */
	return ((size_t)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

static inline __attribute__((always_inline)) uint8_t *xtcp_varint_put32(uint8_t *p, uint32_t v)
{
	if (v < (1u << 7)) {
		p[0] = (uint8_t)v;
		return p + 1;
	}
	p[0] = (uint8_t)(v | 0x80);
	if (v < (1u << 14)) {
		p[1] = (uint8_t)(v >> 7);
		return p + 2;
	}
	p[1] = (uint8_t)((v >> 7) | 0x80);
	if (v < (1u << 21)) {
		p[2] = (uint8_t)(v >> 14);
		return p + 3;
	}
	p[2] = (uint8_t)((v >> 14) | 0x80);
	if (v < (1u << 28)) {
		p[3] = (uint8_t)(v >> 21);
		return p + 4;
	}
	p[3] = (uint8_t)((v >> 21) | 0x80);
	p[4] = (uint8_t)(v >> 28);
	return p + 5;
}

static inline __attribute__((always_inline)) uint8_t *xtcp_varint_put64(uint8_t *p, uint64_t v)
{
	if (v < (UINT64_C(1) << 28))
		return xtcp_varint_put32(p, (uint32_t)v);
	p[0] = (uint8_t)(v | 0x80);
	p[1] = (uint8_t)((v >> 7) | 0x80);
	p[2] = (uint8_t)((v >> 14) | 0x80);
	p[3] = (uint8_t)((v >> 21) | 0x80);
	v >>= 28;
	p += 4;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* int32 (and enum): a negative value is written as its 64-bit sign extension, 10 bytes. */
static inline __attribute__((always_inline)) uint8_t *xtcp_varint_put_i32(uint8_t *p, int32_t v)
{
	if (v < 0)
		return xtcp_varint_put64(p, (uint64_t)(int64_t)v);
	return xtcp_varint_put32(p, (uint32_t)v);
}

/*
 * Copy @n bytes, inline when they are few: a record's strings and addresses
 * are mostly 16 bytes or less, where a call of memcpy costs more than the
 * copy.  Two overlapping moves of 8 or 4 bytes cover 4..16; every byte
 * read and written is one of the @n.
 */
static inline __attribute__((always_inline)) void
xtcp_wire_copy(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	if (n > 16) {
		memcpy(dst, src, n);
	} else if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else if (n) {
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
	}
}

/* A length-delimited value: its length (below 2^32) and its bytes. */
static inline __attribute__((always_inline)) uint8_t *
xtcp_wire_put_bytes(uint8_t *p, const void *data, size_t n)
{
	p = xtcp_varint_put32(p, (uint32_t)n);
	xtcp_wire_copy(p, data, n);
	return p + n;
}

/* Returns the number of bytes written, 1..10. */
static inline size_t xtcp_varint_put(uint8_t *out, uint64_t v)
{
	return (size_t)(xtcp_varint_put64(out, v) - out);
}

static inline __attribute__((always_inline)) uint8_t *xtcp_fixed32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static inline __attribute__((always_inline)) uint8_t *xtcp_fixed64_put(uint8_t *p, uint64_t v)
{
	p = xtcp_fixed32_put(p, (uint32_t)v);
	return xtcp_fixed32_put(p, (uint32_t)(v >> 32));
}

static inline uint32_t xtcp_zigzag32(int32_t v)
{
	return v < 0 ? (0u - (uint32_t)v) * 2 - 1 : (uint32_t)v * 2;
}

static inline uint64_t xtcp_zigzag64(int64_t v)
{
	return v < 0 ? (UINT64_C(0) - (uint64_t)v) * 2 - 1 : (uint64_t)v * 2;
}

static inline int32_t xtcp_unzigzag32(uint32_t v)
{
	return (v & 1) ? (int32_t)~(v >> 1) : (int32_t)(v >> 1);
}

static inline int64_t xtcp_unzigzag64(uint64_t v)
{
	return (v & 1) ? (int64_t)~(v >> 1) : (int64_t)(v >> 1);
}

/* --- reading ------------------------------------------------------------- */

static inline uint32_t xtcp_fixed32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t xtcp_fixed64_get(const uint8_t *p)
{
	return (uint64_t)xtcp_fixed32_get(p) | (uint64_t)xtcp_fixed32_get(p + 4) << 32;
}

static inline uint64_t xtcp_wire_load_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/*
 * A varint of at most @limit bytes (XTCP_VARINT_MAX for a value,
 * XTCP_TAG_MAX for a tag or a length prefix), one byte at a time.  A 10th
 * byte above 1 overflows 64 bits: malformed.
 */
struct xtcp_varint xtcp_varint_read_slow(const uint8_t *p, const uint8_t *end, size_t limit);

/*
 * The first 8 bytes of @p, known to hold a varint's last byte (@stop has
 * the high bit of each byte that ends one): its value without a branch per
 * byte.
 */
static inline struct xtcp_varint xtcp_varint_squeeze(const uint8_t *p, uint64_t x, uint64_t stop)
{
	struct xtcp_varint r;
	unsigned bits = (unsigned)__builtin_ctzll(stop) + 1;

	if (bits < 64)
		x &= (UINT64_C(1) << bits) - 1;
	x &= UINT64_C(0x7f7f7f7f7f7f7f7f);
	x = (x & UINT64_C(0x007f007f007f007f)) | (x & UINT64_C(0x7f007f007f007f00)) >> 1;
	x = (x & UINT64_C(0x00003fff00003fff)) | (x & UINT64_C(0x3fff00003fff0000)) >> 2;
	x = (x & UINT64_C(0x000000000fffffff)) | (x & UINT64_C(0x0fffffff00000000)) >> 4;
	r.next = p + bits / 8;
	r.value = x;
	return r;
}

/*
 * A varint whose first 8 bytes (@x) all go on, with 10 bytes readable at @p:
 * 9 or 10 bytes long (timestamps, 2^64-1), or malformed.
 */
static inline struct xtcp_varint xtcp_varint_long(const uint8_t *p, uint64_t x)
{
	struct xtcp_varint r = xtcp_varint_squeeze(p, x, UINT64_C(1) << 63);

	if (p[8] < 0x80) {
		r.next = p + 9;
		r.value |= (uint64_t)p[8] << 56;
	} else if (p[9] <= 1) {
		r.next = p + 10;
		r.value |= (uint64_t)(p[8] & 0x7f) << 56 | (uint64_t)p[9] << 63;
	} else {
		r.next = NULL;
		r.value = 0;
	}
	return r;
}

/* A value varint of any length, bounds-checked; 8 bytes at once when there are 8. */
static inline struct xtcp_varint xtcp_varint_read(const uint8_t *p, const uint8_t *end)
{
	uint64_t x, stop;

	if (p < end && p[0] < 0x80) {
		struct xtcp_varint r = { p + 1, p[0] };

		return r;
	}
	if (end - p < 8)
		return xtcp_varint_read_slow(p, end, XTCP_VARINT_MAX);
	x = xtcp_wire_load_le64(p);
	stop = ~x & UINT64_C(0x8080808080808080);
	if (!stop)
		return end - p >= XTCP_VARINT_MAX ? xtcp_varint_long(p, x) :
						    xtcp_varint_read_slow(p, end, XTCP_VARINT_MAX);
	return xtcp_varint_squeeze(p, x, stop);
}

/*
 * For values that are usually short (32-bit fields): a branch per byte up to
 * five, which predicts well where each field has its own copy; longer ones
 * go out of line.  10 bytes must be readable at @p.
 */
static inline __attribute__((always_inline)) struct xtcp_varint
xtcp_varint_read_fast(const uint8_t *p, const uint8_t *end)
{
	struct xtcp_varint r;
	uint64_t b, v;

	b = p[0];
	v = b & 0x7f;
	if (b < 0x80) {
		r.next = p + 1;
		goto done;
	}
	b = p[1];
	v |= (b & 0x7f) << 7;
	if (b < 0x80) {
		r.next = p + 2;
		goto done;
	}
	b = p[2];
	v |= (b & 0x7f) << 14;
	if (b < 0x80) {
		r.next = p + 3;
		goto done;
	}
	b = p[3];
	v |= (b & 0x7f) << 21;
	if (b < 0x80) {
		r.next = p + 4;
		goto done;
	}
	b = p[4];
	v |= (b & 0x7f) << 28;
	if (b >= 0x80)
		return xtcp_varint_read(p, end);
	r.next = p + 5;
done:
	r.value = v;
	return r;
}

/* For 64-bit fields, often long: one byte inline, else up to 8 at once.  10 bytes must be readable. */
static inline __attribute__((always_inline)) struct xtcp_varint
xtcp_varint_read_fast64(const uint8_t *p, const uint8_t *end)
{
	uint64_t x, stop;

	if (p[0] < 0x80) {
		struct xtcp_varint r = { p + 1, p[0] };

		return r;
	}
	x = xtcp_wire_load_le64(p);
	stop = ~x & UINT64_C(0x8080808080808080);
	if (!stop)
		return end - p >= XTCP_VARINT_MAX ? xtcp_varint_long(p, x) :
						    xtcp_varint_read_slow(p, end, XTCP_VARINT_MAX);
	return xtcp_varint_squeeze(p, x, stop);
}

/*
 * The bytes-used form for readers of a buffer that may still grow: returns
 * 1..10, 0 when the input ends inside the varint, -1 when it is malformed
 * (over 10 bytes, or over 64 bits).
 */
static inline int xtcp_varint_get(const uint8_t *buf, size_t len, uint64_t *v)
{
	struct xtcp_varint r = xtcp_varint_read(buf, buf + len);

	if (r.next) {
		*v = r.value;
		return (int)(r.next - buf);
	}
	/* shorter than 10 bytes, it can only have been cut short */
	return len >= XTCP_VARINT_MAX ? -1 : 0;
}

/*
 * Skip a value varint without decoding it.  This, xtcp_wire_len(),
 * xtcp_wire_tag() and xtcp_wire_skip() are always inlined: they are called
 * once per field, in the generated codec's functions (too large for the
 * compiler to inline them on its own) and in loops that a profile may not
 * have seen yet.
 */
static inline __attribute__((always_inline)) const uint8_t *
xtcp_varint_skip(const uint8_t *p, const uint8_t *end)
{
	uint64_t x, stop;

	if (p < end && p[0] < 0x80)
		return p + 1;
	if (end - p >= XTCP_VARINT_MAX) {
		memcpy(&x, p, 8);
		stop = ~x & UINT64_C(0x8080808080808080);
		if (stop)
			return p + __builtin_ctzll(stop) / 8 + 1;
		/* 9 or 10 bytes (64-bit values often are); the 10th holds bit 63 only */
		if (p[8] < 0x80)
			return p + 9;
		return p[9] <= 1 ? p + 10 : NULL;
	}
	return xtcp_varint_read_slow(p, end, XTCP_VARINT_MAX).next;
}

/* A tag: .value is the key (field number << 3 | wire type). */
static inline __attribute__((always_inline)) struct xtcp_varint
xtcp_wire_tag(const uint8_t *p, const uint8_t *end)
{
	struct xtcp_varint r = { NULL, 0 };

	if (p < end && p[0] < 0x80) {
		if (p[0] >= 8) {
			r.next = p + 1;
			r.value = p[0];
		}
		return r;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		r.next = p + 2;
		r.value = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		return r;
	}
	return xtcp_varint_read_slow(p, end, XTCP_TAG_MAX);
}

/*
 * For scanners with room to spare (XTCP_TAG_MAX + XTCP_VARINT_MAX bytes
 * readable at @p): a tag of one to three bytes (fields below 2^18, this
 * schema's all) without bounds checks.  .next is NULL for a longer tag and
 * for a malformed one; xtcp_wire_tag() then says which.
 */
static inline struct xtcp_varint xtcp_wire_tag_fast(const uint8_t *p)
{
	struct xtcp_varint r = { NULL, 0 };

	if (p[0] < 0x80) {
		if (p[0] >= 8) {
			r.next = p + 1;
			r.value = p[0];
		}
	} else if (p[1] < 0x80) {
		r.next = p + 2;
		r.value = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
	} else if (p[2] < 0x80) {
		r.next = p + 3;
		r.value = (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7 | (uint64_t)p[2] << 14;
	}
	return r;
}

/*
 * Skip a value varint with XTCP_VARINT_MAX bytes readable at @p, of any
 * length, without bounds checks; NULL when it is malformed.
 */
static inline const uint8_t *xtcp_varint_skip_fast(const uint8_t *p)
{
	uint64_t x, stop;

	if (p[0] < 0x80)
		return p + 1;
	memcpy(&x, p, 8);
	stop = ~x & UINT64_C(0x8080808080808080);
	if (stop)
		return p + __builtin_ctzll(stop) / 8 + 1;
	return p[8] < 0x80 ? p + 9 : p[9] <= 1 ? p + 10 : NULL;
}

/* A length prefix: .next is the payload, .value its length; NULL if it runs past @end. */
static inline __attribute__((always_inline)) struct xtcp_varint
xtcp_wire_len(const uint8_t *p, const uint8_t *end)
{
	struct xtcp_varint r;

	if (p < end && p[0] < 0x80) {
		r.next = p + 1;
		r.value = p[0];
	} else {
		r = xtcp_varint_read_slow(p, end, XTCP_TAG_MAX);
		if (!r.next)
			return r;
	}
	if (r.value > (uint64_t)(end - r.next))
		r.next = NULL;
	return r;
}

/* The value of wire type @type at @p: returns what follows it, NULL if malformed. */
static inline __attribute__((always_inline)) const uint8_t *
xtcp_wire_skip(const uint8_t *p, const uint8_t *end, unsigned type)
{
	struct xtcp_varint x;

	switch (type) {
	case XTCP_WIRE_VARINT:
		return xtcp_varint_skip(p, end);
	case XTCP_WIRE_I64:
		return end - p < 8 ? NULL : p + 8;
	case XTCP_WIRE_LEN:
		x = xtcp_wire_len(p, end);
		return x.next ? x.next + x.value : NULL;
	case XTCP_WIRE_I32:
		return end - p < 4 ? NULL : p + 4;
	default:
		return NULL;
	}
}

/*
 * Walking a message's fields one by one.  xtcp_wire_next() returns 1 with
 * @f describing the next field (for a varint its value; for a
 * length-delimited field its payload; for fixed ones their bytes), 0 at the
 * end of the message, -1 when the bytes are malformed (f->at is where).
 */
struct xtcp_wire_field {
	uint32_t number;
	unsigned type;                  /* enum xtcp_wire_type */
	uint64_t varint;                /* XTCP_WIRE_VARINT: the value */
	const uint8_t *data;            /* the value's bytes (for LEN, the payload) */
	size_t len;
	const uint8_t *at;              /* where the field (or the malformed bytes) starts */
};

struct xtcp_wire_reader {
	const uint8_t *p;
	const uint8_t *end;
};

static inline void xtcp_wire_reader_init(struct xtcp_wire_reader *r, const uint8_t *msg, size_t len)
{
	r->p = msg;
	r->end = msg + len;
}

int xtcp_wire_next(struct xtcp_wire_reader *r, struct xtcp_wire_field *f);

/*
 * The payload of the first length-delimited field @number of the message
 * @msg[0..len), for a key lookup without decoding.  Returns 1 with *data and
 * *data_len set, 0 when the message has no such field (*data NULL, *data_len
 * 0), -1 with errno EBADMSG when the bytes before it are malformed.
 */
int xtcp_wire_find_bytes(const uint8_t *msg, size_t len, uint32_t number,
			 const uint8_t **data, size_t *data_len);

#endif
