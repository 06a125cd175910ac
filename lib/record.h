#ifndef XTCP_RECORD_H
#define XTCP_RECORD_H

/*
 * The record: one XtcpFlatRecord per TCP socket per poll.
 *
 * In memory a record is protobuf-c's generated struct
 * (XtcpFlatRecord__V1__XtcpFlatRecord, from proto/xtcp_flat_record.proto), so
 * protobuf-c's descriptors give generic access by field name.  On the hot path
 * the record is encoded and decoded by this project's own code, generated from
 * the .proto by tools/gen-codec.py; tests/unit/t-record.c proves it
 * byte-identical to protobuf_c_message_pack() and equal to
 * protobuf_c_message_unpack().
 *
 * Encoding rules are proto3's, as protobuf-c applies them: fields are written
 * in field-number order, a field equal to zero (0, empty string, empty bytes)
 * is not written, unknown fields (base.unknown_fields) are written last in the
 * order they were read.
 */

#include <stddef.h>
#include <stdint.h>

#include "xtcp_flat_record.pb-c.h"

#define XTCP_SCHEMA_VERSION 1

/* record_kind: a row of a poll, or a socket the kernel announced destroyed (xtcp-dump -E). */
#define XTCP_RECORD_KIND_POLL XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__RECORD_KIND__RECORD_KIND_POLL
#define XTCP_RECORD_KIND_CLOSE XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__RECORD_KIND__RECORD_KIND_CLOSE

/* Reset every field to its default (0, empty string, empty bytes), no unknown fields. */
void xtcp_record_init(XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * An upper bound of the encoded size of @rec, cheap to compute (constant plus
 * the lengths of its strings, bytes and unknown fields).
 */
size_t xtcp_record_encoded_max(const XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * Encode @rec into @out, which has room for xtcp_record_encoded_max(rec) bytes.
 * Returns the number of bytes written.  Never fails.
 */
size_t xtcp_record_encode(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t *out);

/*
 * Encode @rec into the @room bytes at @out, as xtcp_record_encode() does, in
 * one pass.  Returns SIZE_MAX, with @out's bytes undefined, when the record
 * may not fit: when @room is below xtcp_record_fixed_max, or its strings and
 * bytes would take more than is left.  Never writes past @room bytes.  With
 * @room at least xtcp_record_encoded_max(rec), it never fails.
 */
size_t xtcp_record_encode_in(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t *out,
			     size_t room);

/* What every field but the contents of strings, bytes and unknown fields can take. */
extern const size_t xtcp_record_fixed_max;

/*
 * Decoding.  A decoder owns the memory that decoded strings, bytes and
 * unknown fields point into; it is reused for each row, so a decoded record
 * is valid until the next xtcp_record_decode() on the same decoder (or its
 * release).  Decoding allocates only when a row is larger than any before,
 * or has more unknown fields than any before.
 */
struct xtcp_decoder {
	uint8_t *arena;
	size_t arena_cap;
	ProtobufCMessageUnknownField *unknown;
	size_t unknown_cap;
};

void xtcp_decoder_init(struct xtcp_decoder *dec);
void xtcp_decoder_release(struct xtcp_decoder *dec);

/*
 * Decode the serialized XtcpFlatRecord @buf[0..len) into @rec (which is
 * reset first).  Field numbers the schema does not know are kept as unknown
 * fields; a known field of the wrong wire type makes the row malformed
 * (EBADMSG), as protobuf-c does.
 * Returns 0, or -1 with errno EBADMSG (malformed bytes) or ENOMEM.
 */
int xtcp_record_decode(struct xtcp_decoder *dec, const uint8_t *buf, size_t len,
		       XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * Whether the serialized record @row[0..len) is valid, checked whole: returns
 * 0 exactly when xtcp_record_decode() would decode it, else -1 with errno
 * EBADMSG.  A walk over the fields that checks every tag, every length and
 * varint against the end of the row and the wire type of every field the
 * schema knows, as the decoder does, without decoding: no copy, no memory,
 * no decoder.  What a tool that passes rows on byte for byte (xtcp-filter,
 * xtcp-kafka, xtcp-fmt -f protobuf) checks each row with, so a malformed row
 * never travels further.
 */
int xtcp_record_check(const uint8_t *row, size_t len);

/*
 * The bytes of string or bytes field @number of the serialized record
 * @row[0..len), found without decoding the row (xtcp-kafka's --key): sets
 * *data and *data_len, to NULL and 0 when the field is absent.  Returns 0,
 * or -1 with errno EBADMSG when the row is malformed before the field.
 */
int xtcp_record_field_bytes(const uint8_t *row, size_t len, uint32_t number,
			    const uint8_t **data, size_t *data_len);

/*
 * Polls.  xtcp-dump stamps every record of one poll, whatever its
 * namespace or frame, with the same poll_sequence and timestamp_ns (when
 * the poll began), so a poll is a run of consecutive records equal in both;
 * separate runs that each count from poll 1 (cron files read one after the
 * other) still differ in time.  Start with a zeroed struct xtcp_poll:
 * xtcp_poll_next() says whether a record of @sequence and @timestamp_ns
 * begins a poll (the first record does), and remembers it.
 */
struct xtcp_poll {
	uint64_t sequence;
	int64_t timestamp_ns;
	uint64_t count;         /* polls begun so far */
};

static inline int xtcp_poll_next(struct xtcp_poll *p, uint64_t sequence, int64_t timestamp_ns)
{
	if (p->count && p->sequence == sequence && p->timestamp_ns == timestamp_ns)
		return 0;
	p->sequence = sequence;
	p->timestamp_ns = timestamp_ns;
	p->count++;
	return 1;
}

#endif
