#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "record.h"
#include "wire.h"

/*
 * The field-by-field half of decoding is generated from the .proto by
 * tools/gen-codec.py (build/gen/xtcp_codec.c, see codec.h); this file has
 * the generic loop and owns the memory.
 */

#define ARENA_MIN 1024
#define UNKNOWN_MIN 16

void xtcp_record_init(XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	xtcp_flat_record__v1__xtcp_flat_record__init(rec);
}

void xtcp_decoder_init(struct xtcp_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

void xtcp_decoder_release(struct xtcp_decoder *dec)
{
	free(dec->arena);
	free(dec->unknown);
	memset(dec, 0, sizeof(*dec));
}

/*
 * Every string, bytes or unknown field copied into the arena takes at most
 * as many bytes as its encoding does (a string's NUL stands in for its tag),
 * so an arena as long as the row always has room.  Old contents need not
 * survive, hence free + malloc rather than realloc.
 */
static int arena_reserve(struct xtcp_decoder *dec, size_t len)
{
	size_t cap = xtcp_alloc_nr(dec->arena_cap, len < ARENA_MIN ? ARENA_MIN : len, 1);
	uint8_t *arena = cap ? malloc(cap) : NULL;

	if (!arena) {
		errno = ENOMEM;
		return -1;
	}
	free(dec->arena);
	dec->arena = arena;
	dec->arena_cap = cap;
	return 0;
}

static int unknown_reserve(struct xtcp_decoder *dec, size_t n)
{
	size_t cap = xtcp_alloc_nr(dec->unknown_cap, n < UNKNOWN_MIN ? UNKNOWN_MIN : n,
				   sizeof(*dec->unknown));
	ProtobufCMessageUnknownField *unknown = cap ? malloc(cap * sizeof(*unknown)) : NULL;

	if (!unknown) {
		errno = ENOMEM;
		return -1;
	}
	free(dec->unknown);
	dec->unknown = unknown;
	dec->unknown_cap = cap;
	return 0;
}

/*
 * Decodes buf[0..len) into rec, which the caller has reset: first the
 * fields in number order (generated, straight-line), then whatever is left
 * one field at a time.  Returns 0, -1 when malformed, or 1 when dec->unknown
 * has fewer than the *n_unknown entries this row needs: the caller grows it
 * and decodes again.
 */
static int decode_fields(struct xtcp_decoder *dec, const uint8_t *buf, size_t len,
			 XtcpFlatRecord__V1__XtcpFlatRecord *rec, size_t *n_unknown)
{
	const uint8_t *p = buf, *end = buf + len, *value, *next;
	uint8_t *arena = dec->arena;
	struct xtcp_varint tag;
	size_t nu = 0;
	int rc;

	if (!(p = xtcp_codec_decode_in_order(p, end, rec, &arena)))
		return -1;
	while (p < end) {
		tag = xtcp_wire_tag(p, end);
		if (!tag.next)
			return -1;
		value = tag.next;
		rc = xtcp_codec_decode_field(tag.value, &value, end, rec, &arena);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			p = value;
			continue;
		}
		/* An unknown field: kept as protobuf-c keeps it, the raw bytes after the tag. */
		if (!(next = xtcp_wire_skip(value, end, (unsigned)(tag.value & 7))))
			return -1;
		if (nu < dec->unknown_cap) {
			ProtobufCMessageUnknownField *u = &dec->unknown[nu];

			u->tag = (uint32_t)(tag.value >> 3);
			u->wire_type = (ProtobufCWireType)(tag.value & 7);
			u->len = (size_t)(next - value);
			u->data = arena;
			memcpy(arena, value, u->len);
			arena += u->len;
		}
		nu++;
		p = next;
	}
	*n_unknown = nu;
	if (nu > dec->unknown_cap)
		return 1;
	if (nu) {
		rec->base.n_unknown_fields = (unsigned)nu;
		rec->base.unknown_fields = dec->unknown;
	}
	return 0;
}

int xtcp_record_decode(struct xtcp_decoder *dec, const uint8_t *buf, size_t len,
		       XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	size_t n_unknown;
	int rc;

	xtcp_record_init(rec);
	if (len == 0)
		return 0;
	if (len > dec->arena_cap && arena_reserve(dec, len) < 0)
		return -1;
	rc = decode_fields(dec, buf, len, rec, &n_unknown);
	if (rc > 0) {
		/* More unknown fields than ever before: room for all, then again. */
		if (unknown_reserve(dec, n_unknown) < 0) {
			xtcp_record_init(rec);
			return -1;
		}
		xtcp_record_init(rec);
		rc = decode_fields(dec, buf, len, rec, &n_unknown);
	}
	if (rc != 0) {
		xtcp_record_init(rec);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* A known field of the wrong wire type (what the decoder rejects). */
static inline bool wrong_type(uint64_t number, unsigned type)
{
	uint8_t types = number < xtcp_codec_numbers ? xtcp_codec_wire_types[number] : 0;

	return types && !(types >> type & 1);
}

int xtcp_record_check(const uint8_t *row, size_t len)
{
	const uint8_t *p = row, *end = row + len;

	while (p < end) {
		struct xtcp_varint tag = xtcp_wire_tag(p, end), x;
		unsigned type = (unsigned)(tag.value & 7);

		if (!tag.next || wrong_type(tag.value >> 3, type))
			goto bad;
		/* branches for the two types records use rather than xtcp_wire_skip's switch */
		if (type == XTCP_WIRE_VARINT) {
			p = xtcp_varint_skip(tag.next, end);
		} else if (type == XTCP_WIRE_LEN) {
			x = xtcp_wire_len(tag.next, end);
			p = x.next ? x.next + x.value : NULL;
		} else {
			p = xtcp_wire_skip(tag.next, end, type);
		}
		if (!p)
			goto bad;
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int xtcp_record_field_bytes(const uint8_t *row, size_t len, uint32_t number,
			    const uint8_t **data, size_t *data_len)
{
	return xtcp_wire_find_bytes(row, len, number, data, data_len) < 0 ? -1 : 0;
}
