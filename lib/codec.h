#ifndef XTCP_CODEC_H
#define XTCP_CODEC_H

/*
 * The contract between lib/record.c and the record codec that
 * tools/gen-codec.py generates from the .proto (build/gen/xtcp_codec.c).
 * Not for other users: they call lib/record.h.
 *
 * Decoding copies strings, bytes and unknown fields into an arena that the
 * caller has sized to the row (a field's copy is never longer than its
 * encoding), advancing *arena past each copy.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"
#include "wire.h"

/*
 * Reads the fields at @p that come in field-number order, each with its
 * minimal tag, while enough bytes remain to read a tag and a varint without
 * bounds checks.  Returns where it stopped (the rest is for the generic
 * loop), or NULL on malformed bytes.
 */
const uint8_t *xtcp_codec_decode_in_order(const uint8_t *p, const uint8_t *end,
					   XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t **arena);

/*
 * One field whose tag (@key: number << 3 | wire type) has been read; its
 * value starts at *p.  Returns 1 when the schema knows the field (stored,
 * *p moved past it), 0 when it does not (nothing moved), -1 when the value
 * is malformed or, as protobuf-c has it, a known field has another wire type.
 */
int xtcp_codec_decode_field(uint64_t key, const uint8_t **p, const uint8_t *end,
			    XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t **arena);

/*
 * The wire types xtcp_codec_decode_field() takes for each field number below
 * xtcp_codec_numbers, as a mask (bit 1 << type): a field the schema knows has
 * its own type (a bool, as in protobuf-c, any); 0 for a number the schema
 * does not know (an unknown field, any type that can be skipped).  Numbers
 * from xtcp_codec_numbers up are unknown.  What lets xtcp_record_check()
 * accept exactly what the decoder accepts without decoding.
 */
extern const uint32_t xtcp_codec_numbers;
extern const uint8_t xtcp_codec_wire_types[];

/* Copies a string into the arena, NUL-terminated (its tag's byte pays for the NUL). */
static inline char *xtcp_codec_take_string(uint8_t **arena, const uint8_t *s, size_t n)
{
	char *str;

	if (n == 0)
		return (char *)(uintptr_t)protobuf_c_empty_string;
	str = (char *)*arena;
	memcpy(str, s, n);
	str[n] = '\0';
	*arena += n + 1;
	return str;
}

static inline ProtobufCBinaryData xtcp_codec_take_bytes(uint8_t **arena, const uint8_t *s, size_t n)
{
	ProtobufCBinaryData bd = { n, NULL };

	if (n) {
		bd.data = *arena;
		memcpy(bd.data, s, n);
		*arena += n;
	}
	return bd;
}

/* protobuf-c reads a bool from the raw bytes of any wire type. */
static inline protobuf_c_boolean xtcp_codec_raw_bool(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] & 0x7f)
			return 1;
	return 0;
}

#endif
