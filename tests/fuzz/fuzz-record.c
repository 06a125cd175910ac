/*
 * Our record decoder against protobuf-c's on arbitrary bytes: both accept or
 * both reject (but for a varint over 64 bits, which only protobuf-c accepts),
 * and xtcp_record_check() with our decoder; when both accept, the records are equal field by field
 * (unknown fields included) and re-encoding them (ours and
 * protobuf_c_message_pack()) gives identical bytes.  Any difference aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "../helpers/wire-ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *desc =
	&xtcp_flat_record__v1__xtcp_flat_record__descriptor;

static size_t scalar_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static int records_equal(const XtcpFlatRecord__V1__XtcpFlatRecord *a,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *b)
{
	unsigned i;

	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;

		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING: {
			const char *s = *(char *const *)x, *t = *(char *const *)y;

			if (strcmp(s ? s : "", t ? t : "") != 0)
				return 0;
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *s = (const void *)x, *t = (const void *)y;

			if (s->len != t->len || (s->len && memcmp(s->data, t->data, s->len) != 0))
				return 0;
			break;
		}
		case PROTOBUF_C_TYPE_MESSAGE:
			return 0;
		default:
			if (memcmp(x, y, scalar_size(f->type)) != 0)
				return 0;
			break;
		}
	}
	if (a->base.n_unknown_fields != b->base.n_unknown_fields)
		return 0;
	for (i = 0; i < a->base.n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &a->base.unknown_fields[i];
		const ProtobufCMessageUnknownField *v = &b->base.unknown_fields[i];

		if (u->tag != v->tag || u->wire_type != v->wire_type || u->len != v->len ||
		    memcmp(u->data, v->data, u->len) != 0)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One decoder for the whole run, so reuse and growth are exercised too. */
	static struct xtcp_decoder dec;
	XtcpFlatRecord__V1__XtcpFlatRecord ours, *theirs;
	uint8_t *a, *b;
	size_t alen, blen, max;
	int rc;

	rc = xtcp_record_decode(&dec, data, size, &ours);
	/* the check without decoding accepts exactly what the decoder decodes */
	if ((xtcp_record_check(data, size) == 0) != (rc == 0))
		abort();
	theirs = (XtcpFlatRecord__V1__XtcpFlatRecord *)protobuf_c_message_unpack(desc, NULL,
										   size, data);
	if (rc != 0 && theirs && has_overflowing_varint(data, size)) {
		/* the one difference by design, see tests/helpers/wire-ref.h */
		protobuf_c_message_free_unpacked(&theirs->base, NULL);
		return 0;
	}
	if ((rc == 0) != (theirs != NULL))
		abort();
	if (rc != 0)
		return 0;
	if (!records_equal(&ours, theirs))
		abort();

	/* Exactly encoded_max bytes, so ASan catches a write past the bound. */
	max = xtcp_record_encoded_max(&ours);
	blen = protobuf_c_message_get_packed_size(&theirs->base);
	a = malloc(max ? max : 1);
	b = malloc(blen ? blen : 1);
	if (!a || !b)
		abort();
	alen = xtcp_record_encode(&ours, a);
	if (alen > max || protobuf_c_message_pack(&theirs->base, b) != blen)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	protobuf_c_message_free_unpacked(&theirs->base, NULL);
	return 0;
}
