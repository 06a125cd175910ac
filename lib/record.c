#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

/*
 * The field-by-field half of decoding is generated from the .proto by
 * tools/gen-codec.py (build/gen/xtcp_codec.c); this file owns the memory.
 */
int xtcp_record_decode_fields(struct xtcp_decoder *dec, const uint8_t *buf, size_t len,
			      XtcpFlatRecord__V1__XtcpFlatRecord *rec, size_t *n_unknown);

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
	size_t cap = dec->arena_cap ? dec->arena_cap : ARENA_MIN;
	uint8_t *arena;

	while (cap < len)
		cap = cap > SIZE_MAX / 2 ? len : cap * 2;
	arena = malloc(cap);
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
	size_t cap = dec->unknown_cap ? dec->unknown_cap : UNKNOWN_MIN;
	ProtobufCMessageUnknownField *unknown;

	while (cap < n)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(*unknown)) {
		errno = ENOMEM;
		return -1;
	}
	unknown = malloc(cap * sizeof(*unknown));
	if (!unknown) {
		errno = ENOMEM;
		return -1;
	}
	free(dec->unknown);
	dec->unknown = unknown;
	dec->unknown_cap = cap;
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
	rc = xtcp_record_decode_fields(dec, buf, len, rec, &n_unknown);
	if (rc > 0) {
		/* More unknown fields than ever before: room for all, then again. */
		if (unknown_reserve(dec, n_unknown) < 0) {
			xtcp_record_init(rec);
			return -1;
		}
		xtcp_record_init(rec);
		rc = xtcp_record_decode_fields(dec, buf, len, rec, &n_unknown);
	}
	if (rc != 0) {
		xtcp_record_init(rec);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}
