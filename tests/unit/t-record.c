/*
 * The record codec against protobuf-c, the reference: our encoding must be
 * byte-identical to protobuf_c_message_pack(), and our decoding must accept
 * exactly what protobuf_c_message_unpack() accepts and produce an equal
 * record (every field, compared through protobuf-c's descriptor, plus the
 * unknown fields).  Records are random (seeded, so a failure reproduces),
 * extreme (all zero, all maximum), realistic (IPv4, IPv6) and hand-made.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "tap.h"
#include "../helpers/wire-ref.h"

#define N_RANDOM 20000
#define SEED UINT64_C(0x7863702d7265636f)

static const ProtobufCMessageDescriptor *desc =
	&xtcp_flat_record__v1__xtcp_flat_record__descriptor;

/* --- helpers ------------------------------------------------------------ */

static uint64_t rng_state = SEED;

/* splitmix64: small, seedable, good enough to pick test values. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* Values across the whole range, with the varint length boundaries and extremes. */
static uint64_t rnd_u64(void)
{
	unsigned k;

	switch (rnd_below(10)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2:
		return rnd_below(128);
	case 3:
		k = 1 + (unsigned)rnd_below(9);
		return (UINT64_C(1) << (7 * k)) - rnd_below(2);
	case 4:
		return (uint64_t)INT64_MAX + rnd_below(2);
	default:
		return rnd() >> rnd_below(64);
	}
}

static uint32_t rnd_u32(void)
{
	switch (rnd_below(8)) {
	case 0:
		return UINT32_MAX;
	case 1:
		return (uint32_t)1 << 31;
	default:
		return (uint32_t)rnd_u64();
	}
}

static int64_t rnd_i64(void)
{
	switch (rnd_below(8)) {
	case 0:
		return INT64_MIN;
	case 1:
		return INT64_MAX;
	case 2:
		return -1 - (int64_t)rnd_below(1000);
	default:
		return (int64_t)rnd_u64();
	}
}

static const char *field_c_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_STRING:
		return "string";
	case PROTOBUF_C_TYPE_BYTES:
		return "bytes";
	default:
		return "scalar";
	}
}

static size_t field_size(ProtobufCType t)
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

static void *member(void *rec, const ProtobufCFieldDescriptor *f)
{
	return (char *)rec + f->offset;
}

static const void *cmember(const void *rec, const ProtobufCFieldDescriptor *f)
{
	return (const char *)rec + f->offset;
}

/*
 * Field-by-field equality through the descriptor, unknown fields included.
 * On a difference, names it in @why.
 */
static int records_equal(const XtcpFlatRecord__V1__XtcpFlatRecord *a,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *b, char *why, size_t why_len)
{
	unsigned i;

	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *x = cmember(a, f), *y = cmember(b, f);
		int same;

		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING: {
			const char *s = *(char *const *)x, *t = *(char *const *)y;

			same = strcmp(s ? s : "", t ? t : "") == 0;
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *s = x, *t = y;

			same = s->len == t->len && (s->len == 0 || memcmp(s->data, t->data, s->len) == 0);
			break;
		}
		case PROTOBUF_C_TYPE_MESSAGE:
			same = 0;
			break;
		default:
			same = memcmp(x, y, field_size(f->type)) == 0;
			break;
		}
		if (!same) {
			snprintf(why, why_len, "field %s (%u, %s) differs", f->name, f->id,
				 field_c_type(f->type));
			return 0;
		}
	}
	if (a->base.n_unknown_fields != b->base.n_unknown_fields) {
		snprintf(why, why_len, "%u unknown fields, not %u", a->base.n_unknown_fields,
			 b->base.n_unknown_fields);
		return 0;
	}
	for (i = 0; i < a->base.n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &a->base.unknown_fields[i];
		const ProtobufCMessageUnknownField *v = &b->base.unknown_fields[i];

		if (u->tag != v->tag || u->wire_type != v->wire_type || u->len != v->len ||
		    memcmp(u->data, v->data, u->len) != 0) {
			snprintf(why, why_len, "unknown field %u (tag %u) differs", i, u->tag);
			return 0;
		}
	}
	return 1;
}

/* ok() that adds why it failed as a TAP diagnostic. */
#define ok_why(cond, why, ...) \
	(ok(cond, __VA_ARGS__) ? 1 : (printf("#   %s\n", why), 0))

static void hexdump(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf("#   %s (%zu bytes):", label, n);
	for (i = 0; i < n && i < 64; i++)
		printf(" %02x", p[i]);
	printf("%s\n", n > 64 ? " ..." : "");
}

/* protobuf-c's encoding, in a malloc'd buffer of exactly its length. */
static uint8_t *pc_pack(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(&rec->base);
	uint8_t *out = malloc(n ? n : 1);

	if (!out)
		abort();
	*len = protobuf_c_message_pack(&rec->base, out);
	if (*len != n)
		abort();
	return out;
}

/* Ours, in a malloc'd buffer of exactly xtcp_record_encoded_max() bytes (ASan checks the bound). */
static uint8_t *our_pack(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, size_t *len)
{
	size_t max = xtcp_record_encoded_max(rec);
	uint8_t *out = malloc(max ? max : 1);

	if (!out)
		abort();
	*len = xtcp_record_encode(rec, out);
	if (*len > max) {
		printf("# encoded %zu bytes, over encoded_max %zu\n", *len, max);
		abort();
	}
	return out;
}

static XtcpFlatRecord__V1__XtcpFlatRecord *pc_unpack(const uint8_t *buf, size_t len)
{
	return (XtcpFlatRecord__V1__XtcpFlatRecord *)protobuf_c_message_unpack(desc, NULL, len, buf);
}

static void pc_free(XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	if (rec)
		protobuf_c_message_free_unpacked(&rec->base, NULL);
}

/*
 * The whole comparison for one record: both encodings identical; decoding
 * them with both decoders gives records equal to each other and to @rec;
 * re-encoding both decoded records gives the same bytes again.  Returns 0 or
 * describes the first difference in @why.
 */
static int check_record(struct xtcp_decoder *dec, const XtcpFlatRecord__V1__XtcpFlatRecord *rec,
			char *why, size_t why_len)
{
	XtcpFlatRecord__V1__XtcpFlatRecord ours, *theirs = NULL;
	uint8_t *a = NULL, *b = NULL, *c = NULL, *d = NULL, *in = NULL;
	size_t alen, blen, clen, dlen;
	int ok = 0;

	a = our_pack(rec, &alen);
	b = pc_pack(rec, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		snprintf(why, why_len, "encode: %zu bytes, protobuf-c %zu", alen, blen);
		hexdump("ours", a, alen);
		hexdump("protobuf-c", b, blen);
		goto out;
	}
	in = malloc(alen ? alen : 1);
	if (!in)
		abort();
	if (alen)
		memcpy(in, a, alen);
	if (xtcp_record_decode(dec, in, alen, &ours) != 0) {
		snprintf(why, why_len, "our decode failed: %s", strerror(errno));
		goto out;
	}
	theirs = pc_unpack(in, alen);
	if (!theirs) {
		snprintf(why, why_len, "protobuf-c unpack failed");
		goto out;
	}
	if (!records_equal(&ours, theirs, why, why_len) || !records_equal(&ours, rec, why, why_len))
		goto out;
	c = our_pack(&ours, &clen);
	d = pc_pack(theirs, &dlen);
	if (clen != alen || memcmp(c, a, alen) != 0 || dlen != alen || memcmp(d, a, alen) != 0) {
		snprintf(why, why_len, "re-encoding differs");
		goto out;
	}
	ok = 1;
out:
	pc_free(theirs);
	free(a);
	free(b);
	free(c);
	free(d);
	free(in);
	return ok;
}

/*
 * Decode @buf with both decoders: they must agree on success, and on success
 * give equal records whose re-encodings (ours and protobuf-c's) are identical;
 * xtcp_record_check() must accept exactly what our decoder decodes.
 * The input is copied to an exact-size heap buffer so ASan sees any overread.
 */
static int check_bytes(struct xtcp_decoder *dec, const uint8_t *buf, size_t len, int *decoded,
		       char *why, size_t why_len)
{
	XtcpFlatRecord__V1__XtcpFlatRecord ours, *theirs;
	uint8_t *in = malloc(len ? len : 1), *c = NULL, *d = NULL;
	size_t clen, dlen;
	int rc, checked, dec_errno, ok = 0;

	if (!in)
		abort();
	if (len)
		memcpy(in, buf, len);
	errno = 0;
	rc = xtcp_record_decode(dec, in, len, &ours);
	dec_errno = errno;
	theirs = pc_unpack(in, len);
	*decoded = rc == 0;
	errno = 0;
	checked = xtcp_record_check(in, len);
	if ((checked == 0) != (rc == 0) || (checked < 0 && errno != EBADMSG)) {
		snprintf(why, why_len, "xtcp_record_check %s (errno %d), the decoder %s",
			 checked == 0 ? "accepts" : "rejects", errno, rc == 0 ? "decodes" : "fails");
		hexdump("input", buf, len);
		goto out;
	}
	errno = dec_errno;
	if (rc != 0 && theirs && errno == EBADMSG && has_overflowing_varint(buf, len)) {
		ok = 1;         /* the one difference by design, see tests/helpers/wire-ref.h */
		goto out;
	}
	if ((rc == 0) != (theirs != NULL)) {
		snprintf(why, why_len, "ours %s, protobuf-c %s", rc == 0 ? "decodes" : "fails",
			 theirs ? "decodes" : "fails");
		hexdump("input", buf, len);
		goto out;
	}
	if (rc != 0) {
		ok = errno == EBADMSG;
		if (!ok)
			snprintf(why, why_len, "errno %d, not EBADMSG", errno);
		goto out;
	}
	if (!records_equal(&ours, theirs, why, why_len))
		goto out;
	c = our_pack(&ours, &clen);
	d = pc_pack(theirs, &dlen);
	if (clen != dlen || memcmp(c, d, clen) != 0) {
		snprintf(why, why_len, "re-encodings differ: %zu and %zu bytes", clen, dlen);
		hexdump("ours", c, clen);
		hexdump("protobuf-c", d, dlen);
		goto out;
	}
	ok = 1;
out:
	pc_free(theirs);
	free(in);
	free(c);
	free(d);
	return ok;
}

/* --- making records -------------------------------------------------------- */

/* Storage for the strings, bytes and unknown fields of made-up records. */
static uint8_t pool[1 << 20];
static size_t pool_used;
static ProtobufCMessageUnknownField unknown_pool[64], unknown_many[1000];

static uint8_t *pool_take(size_t n)
{
	uint8_t *p;

	if (pool_used + n > sizeof(pool))
		abort();
	p = pool + pool_used;
	pool_used += n;
	return p;
}

static char *rnd_string(void)
{
	size_t n, i;
	char *s;

	switch (rnd_below(12)) {
	case 0:
		return NULL;	/* protobuf-c skips a NULL string as an empty one */
	case 1:
		n = 0;
		break;
	case 2:
		n = 100 + rnd_below(300);	/* 2-byte length */
		break;
	case 3:
		n = rnd_below(20) ? 1 : 16384 + rnd_below(100);	/* 3-byte length */
		break;
	default:
		n = 1 + rnd_below(24);
		break;
	}
	s = (char *)pool_take(n + 1);
	for (i = 0; i < n; i++) {
		/* any byte but NUL, high half often: protobuf-c does not check UTF-8 */
		s[i] = (char)(rnd_below(2) ? 0x80 + rnd_below(128) : 1 + rnd_below(127));
	}
	s[n] = '\0';
	return s;
}

static void rnd_bytes(ProtobufCBinaryData *bd)
{
	size_t i;

	switch (rnd_below(6)) {
	case 0:
		bd->len = 0;
		bd->data = NULL;
		return;
	case 1:
		bd->len = 0;	/* empty, but with a pointer: still not written */
		bd->data = pool_take(1);
		return;
	case 2:
	case 3:
		bd->len = 16;
		break;
	default:
		bd->len = 1 + rnd_below(300);
		break;
	}
	bd->data = pool_take(bd->len);
	for (i = 0; i < bd->len; i++)
		bd->data[i] = (uint8_t)rnd();
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static uint32_t rnd_unknown_number(void)
{
	uint32_t n;

	do {
		switch (rnd_below(4)) {
		case 0:
			n = 5000 + (uint32_t)rnd_below(4);
			break;
		case 1:
			n = (1u << 29) - 1;	/* the largest field number */
			break;
		default:
			n = 1 + (uint32_t)rnd_below(1u << (1 + rnd_below(29)));
			break;
		}
	} while (protobuf_c_message_descriptor_get_field(desc, n));
	return n;
}

/* An unknown field as protobuf-c keeps it: the raw bytes after the tag. */
static void rnd_unknown(ProtobufCMessageUnknownField *u)
{
	static const ProtobufCWireType wire[] = {
		PROTOBUF_C_WIRE_TYPE_VARINT, PROTOBUF_C_WIRE_TYPE_64BIT,
		PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, PROTOBUF_C_WIRE_TYPE_32BIT,
	};
	uint8_t tmp[16];
	size_t i, n;

	u->tag = rnd_unknown_number();
	u->wire_type = wire[rnd_below(4)];
	switch (u->wire_type) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		u->len = put_varint(tmp, rnd_u64());
		u->data = pool_take(u->len);
		memcpy(u->data, tmp, u->len);
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		u->len = u->wire_type == PROTOBUF_C_WIRE_TYPE_64BIT ? 8 : 4;
		u->data = pool_take(u->len);
		for (i = 0; i < u->len; i++)
			u->data[i] = (uint8_t)rnd();
		break;
	default:
		n = rnd_below(3) ? rnd_below(20) : 200 + rnd_below(100);
		i = put_varint(tmp, n);
		u->len = i + n;
		u->data = pool_take(u->len);
		memcpy(u->data, tmp, i);
		for (; i < u->len; i++)
			u->data[i] = (uint8_t)rnd();
		break;
	}
}

static void rnd_record(XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	unsigned i, density = 1 + (unsigned)rnd_below(10);
	size_t n_unknown;

	pool_used = 0;
	xtcp_record_init(rec);
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		void *m = member(rec, f);

		if (rnd_below(10) >= density)
			continue;
		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_FIXED32:
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_SINT32:
		case PROTOBUF_C_TYPE_SFIXED32:
		case PROTOBUF_C_TYPE_FLOAT:
			*(uint32_t *)m = rnd_u32();
			break;
		case PROTOBUF_C_TYPE_ENUM: {
			const ProtobufCEnumDescriptor *e = f->descriptor;
			int32_t v;

			/* mostly a named value; sometimes any int32, negative ones included */
			if (rnd_below(4))
				v = e->values[rnd_below(e->n_values)].value;
			else
				v = (int32_t)rnd_u32();
			memcpy(m, &v, sizeof(v));
			break;
		}
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
		case PROTOBUF_C_TYPE_SFIXED64:
			*(int64_t *)m = rnd_i64();
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_FIXED64:
		case PROTOBUF_C_TYPE_DOUBLE:
			*(uint64_t *)m = rnd_u64();
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)m = (protobuf_c_boolean)rnd_below(2);
			break;
		case PROTOBUF_C_TYPE_STRING:
			*(char **)m = rnd_string();
			break;
		case PROTOBUF_C_TYPE_BYTES:
			rnd_bytes(m);
			break;
		case PROTOBUF_C_TYPE_MESSAGE:
			break;
		}
	}
	n_unknown = rnd_below(4) ? 0 : 1 + rnd_below(rnd_below(8) ? 4 : 40);
	for (i = 0; i < n_unknown; i++)
		rnd_unknown(&unknown_pool[i]);
	rec->base.n_unknown_fields = (unsigned)n_unknown;
	rec->base.unknown_fields = n_unknown ? unknown_pool : NULL;
}

/* Every field at the largest (@max) or smallest non-zero (!@max) value. */
static void extreme_record(XtcpFlatRecord__V1__XtcpFlatRecord *rec, int max)
{
	unsigned i;

	pool_used = 0;
	xtcp_record_init(rec);
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		void *m = member(rec, f);

		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_FIXED32:
			*(uint32_t *)m = max ? UINT32_MAX : 1;
			break;
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_SINT32:
		case PROTOBUF_C_TYPE_SFIXED32:
			*(int32_t *)m = max ? INT32_MAX : INT32_MIN;
			break;
		case PROTOBUF_C_TYPE_ENUM: {
			const ProtobufCEnumDescriptor *e = f->descriptor;
			int32_t v = max ? e->values[e->n_values - 1].value : -1;
			unsigned j;

			for (j = 0; max && j < e->n_values; j++)
				if (e->values[j].value > v)
					v = e->values[j].value;
			memcpy(m, &v, sizeof(v));
			break;
		}
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
		case PROTOBUF_C_TYPE_SFIXED64:
			*(int64_t *)m = max ? INT64_MAX : INT64_MIN;
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_FIXED64:
			*(uint64_t *)m = max ? UINT64_MAX : 1;
			break;
		case PROTOBUF_C_TYPE_FLOAT:
			*(uint32_t *)m = max ? 0x7f7fffff : 1;
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*(uint64_t *)m = max ? UINT64_C(0x7fefffffffffffff) : 1;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)m = 1;
			break;
		case PROTOBUF_C_TYPE_STRING: {
			size_t n = max ? 300 : 1;
			char *s = (char *)pool_take(n + 1);

			memset(s, max ? 0xff : 0x01, n);
			s[n] = '\0';
			*(char **)m = s;
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			ProtobufCBinaryData *bd = m;

			bd->len = 16;
			bd->data = pool_take(16);
			memset(bd->data, max ? 0xff : 0x00, 16);
			break;
		}
		case PROTOBUF_C_TYPE_MESSAGE:
			break;
		}
	}
}

static void set_addr(ProtobufCBinaryData *bd, const uint8_t *addr, size_t n)
{
	bd->data = pool_take(16);
	memset(bd->data, 0, 16);
	memcpy(bd->data, addr, n);
	bd->len = 16;
}

/* A socket as xtcp-dump fills it: about a hundred non-zero fields. */
static void typical_record(XtcpFlatRecord__V1__XtcpFlatRecord *rec, int ipv6)
{
	static const uint8_t v4_src[] = { 10, 0, 0, 1 }, v4_dst[] = { 192, 168, 255, 254 };
	static const uint8_t v6_src[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v6_dst[] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
					  0x02, 0x1b, 0x21, 0xff, 0xfe, 0xa0, 0xb1, 0xff };
	char *s;

	pool_used = 0;
	xtcp_record_init(rec);
	rec->schema_version = XTCP_SCHEMA_VERSION;
	rec->daemon_version = (char *)pool_take(8);
	memcpy(rec->daemon_version, "0.1.0-3", 8);
	rec->timestamp_ns = INT64_C(1732233600123456789);
	s = (char *)pool_take(16);
	memcpy(s, "db-17.example", 14);
	rec->hostname = s;
	rec->netns = (char *)pool_take(8);
	memcpy(rec->netns, "default", 8);
	rec->netns_inode = 4026531840u;
	rec->record_counter = 123456789;
	rec->inet_diag_msg_family = ipv6 ? 10 : 2;
	rec->inet_diag_msg_state = 1;
	rec->inet_diag_msg_socket_source_port = 5432;
	rec->inet_diag_msg_socket_destination_port = 51234;
	if (ipv6) {
		set_addr(&rec->inet_diag_msg_socket_source, v6_src, 16);
		set_addr(&rec->inet_diag_msg_socket_destination, v6_dst, 16);
	} else {
		set_addr(&rec->inet_diag_msg_socket_source, v4_src, 4);
		set_addr(&rec->inet_diag_msg_socket_destination, v4_dst, 4);
	}
	rec->inet_diag_msg_socket_interface = 2;
	rec->inet_diag_msg_socket_cookie = UINT64_C(0x1234567890ab);
	rec->inet_diag_msg_rqueue = 0;
	rec->inet_diag_msg_wqueue = 1448;
	rec->inet_diag_msg_uid = 999;
	rec->inet_diag_msg_inode = 8765432;
	rec->mem_info_rmem = 0;
	rec->mem_info_wmem = 2304;
	rec->mem_info_fmem = 1792;
	rec->mem_info_tmem = 4608;
	rec->tcp_info_state = 1;
	rec->tcp_info_options = 7;
	rec->tcp_info_send_scale = 7;
	rec->tcp_info_rcv_scale = 7;
	rec->tcp_info_rto = 204000;
	rec->tcp_info_ato = 40000;
	rec->tcp_info_snd_mss = 1448;
	rec->tcp_info_rcv_mss = 1448;
	rec->tcp_info_unacked = 3;
	rec->tcp_info_last_data_sent = 12;
	rec->tcp_info_last_ack_sent = 0;
	rec->tcp_info_last_data_recv = 16;
	rec->tcp_info_last_ack_recv = 12;
	rec->tcp_info_pmtu = 1500;
	rec->tcp_info_rcv_ssthresh = 64076;
	rec->tcp_info_rtt = 1234;
	rec->tcp_info_rtt_var = 456;
	rec->tcp_info_snd_ssthresh = 2147483647;
	rec->tcp_info_snd_cwnd = 10;
	rec->tcp_info_adv_mss = 1448;
	rec->tcp_info_reordering = 3;
	rec->tcp_info_rcv_rtt = 1000;
	rec->tcp_info_rcv_space = 14480;
	rec->tcp_info_total_retrans = 2;
	rec->tcp_info_pacing_rate = 234567890;
	rec->tcp_info_max_pacing_rate = UINT64_MAX;
	rec->tcp_info_bytes_acked = UINT64_C(98765432109);
	rec->tcp_info_bytes_received = UINT64_C(1234567890);
	rec->tcp_info_segs_out = 7654321;
	rec->tcp_info_segs_in = 6543210;
	rec->tcp_info_not_sent_bytes = 0;
	rec->tcp_info_min_rtt = 987;
	rec->tcp_info_data_segs_in = 3210987;
	rec->tcp_info_data_segs_out = 6543210;
	rec->tcp_info_delivery_rate = 123456789;
	rec->tcp_info_busy_time = 4567890000;
	rec->tcp_info_rwnd_limited = 1230000;
	rec->tcp_info_sndbuf_limited = 450000;
	rec->tcp_info_delivered = 6543200;
	rec->tcp_info_delivered_ce = 12;
	rec->tcp_info_bytes_sent = UINT64_C(98765999999);
	rec->tcp_info_bytes_retrans = 28960;
	rec->tcp_info_dsack_dups = 1;
	rec->tcp_info_reord_seen = 4;
	rec->tcp_info_rcv_ooopack = 3;
	rec->tcp_info_snd_wnd = 3145728;
	rec->tcp_info_rcv_wnd = 3145728;
	rec->tcp_info_rehash = 1;
	rec->tcp_info_total_rto = 2;
	rec->tcp_info_total_rto_recoveries = 1;
	rec->tcp_info_total_rto_time = 408;
	rec->congestion_algorithm_string = (char *)pool_take(6);
	memcpy(rec->congestion_algorithm_string, "cubic", 6);
	rec->congestion_algorithm_enum =
		XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_CUBIC;
	rec->type_of_service = 0;
	rec->traffic_class = 0;
	rec->sk_mem_info_rmem_alloc = 0;
	rec->sk_mem_info_rcv_buf = 131072;
	rec->sk_mem_info_wmem_alloc = 2304;
	rec->sk_mem_info_snd_buf = 87040;
	rec->sk_mem_info_fwd_alloc = 1792;
	rec->sk_mem_info_wmem_queued = 4608;
	rec->sk_mem_info_optmem = 0;
	rec->sk_mem_info_backlog = 0;
	rec->sk_mem_info_drops = 0;
	rec->shutdown_state = 0;
	rec->class_id = 0;
	rec->sock_opt = 0;
	rec->c_group = 1234;
	rec->poll_sequence = 42;
	rec->socket_mark = 0;
}

/* --- tests -------------------------------------------------------------- */

static void test_random(struct xtcp_decoder *dec)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	char why[256];
	int failed = 0, i;

	for (i = 0; i < N_RANDOM; i++) {
		rnd_record(&rec);
		if (!check_record(dec, &rec, why, sizeof(why)) && failed++ < 5)
			printf("# random record %d: %s\n", i, why);
	}
	ok(failed == 0, "%d random records (seed %#" PRIx64 "): encode identical to pack, "
	   "decode equal to unpack, re-encodings identical (%d failed)", N_RANDOM, SEED, failed);
}

/*
 * xtcp_record_encode_in() in buffers of exactly the room it is given (ASan
 * checks that it stays in them): it fails below the fixed part and below
 * the record's length, never at its bound, and otherwise writes the bytes
 * of xtcp_record_encode().  The rooms tried: the bound, the length and a
 * little either side, one below the fixed part.
 */
static int check_encode_in(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *why,
			   size_t why_len)
{
	size_t len, max = xtcp_record_encoded_max(rec), rooms[8], i;
	uint8_t *want = our_pack(rec, &len);
	int ok = 1;

	rooms[0] = max;
	rooms[1] = len;
	rooms[2] = len + 1;
	rooms[3] = len ? len - 1 : 0;
	rooms[4] = len > 7 ? len - 7 : 0;
	rooms[5] = xtcp_record_fixed_max - 1;
	rooms[6] = xtcp_record_fixed_max;
	rooms[7] = len + (max - len) / 2;
	for (i = 0; i < 8 && ok; i++) {
		size_t room = rooms[i], n;
		uint8_t *out = malloc(room ? room : 1);

		if (!out)
			abort();
		n = xtcp_record_encode_in(rec, out, room);
		if (room >= max && n != len) {
			snprintf(why, why_len, "room %zu (the bound): %zu, not %zu", room, n, len);
			ok = 0;
		} else if ((room < len || room < xtcp_record_fixed_max) && n != SIZE_MAX) {
			snprintf(why, why_len, "room %zu for %zu bytes: %zu, not a failure", room, len, n);
			ok = 0;
		} else if (n != SIZE_MAX && (n != len || memcmp(out, want, len))) {
			snprintf(why, why_len, "room %zu: %zu bytes unlike encode's %zu", room, n, len);
			ok = 0;
		}
		free(out);
	}
	free(want);
	return ok;
}

static void test_encode_in(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	char why[256];
	int failed = 0, i, long_ones = 0;

	for (i = 0; i < N_RANDOM / 4; i++) {
		rnd_record(&rec);
		long_ones += xtcp_record_encoded_max(&rec) > xtcp_record_fixed_max + 4096;
		if (!check_encode_in(&rec, why, sizeof(why)) && failed++ < 5)
			printf("# random record %d: %s\n", i, why);
	}
	ok(failed == 0 && long_ones > 0, "encode_in: %d random records (%d with more than 4 KiB "
	   "of strings, bytes and unknown fields) in rooms about their length and bound "
	   "(%d failed)", N_RANDOM / 4, long_ones, failed);
	xtcp_record_init(&rec);
	why[0] = '\0';
	ok_why(check_encode_in(&rec, why, sizeof(why)), why, "encode_in: the all-zero record");
}

static void test_fixed_records(struct xtcp_decoder *dec)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	char why[256] = "";
	uint8_t buf[8];

	xtcp_record_init(&rec);
	is(xtcp_record_encode(&rec, buf), 0, "all-zero record encodes to nothing");
	is(protobuf_c_message_get_packed_size(&rec.base), 0, "protobuf-c agrees");
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "all-zero record");

	extreme_record(&rec, 1);
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "all-max record");
	extreme_record(&rec, 0);
	ok_why(check_record(dec, &rec, why, sizeof(why)), why,
	   "all-min record (INT64_MIN, negative enum, 1)");
	typical_record(&rec, 0);
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "typical IPv4 record");
	typical_record(&rec, 1);
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "typical IPv6 record");

	/* "::" is 16 zero bytes, not empty bytes: it is written. */
	typical_record(&rec, 1);
	memset(rec.inet_diag_msg_socket_source.data, 0, 16);
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "IPv6 :: address");
}

static void test_decoded_form(struct xtcp_decoder *dec)
{
	static char empty[1];
	XtcpFlatRecord__V1__XtcpFlatRecord rec, out;
	uint8_t buf[4096];
	size_t len, i;
	int strings_ok = 1, bytes_ok = 1;

	typical_record(&rec, 0);
	rec.hostname = empty;	/* an empty string that is not protobuf_c_empty_string */
	len = xtcp_record_encode(&rec, buf);
	ok(xtcp_record_decode(dec, buf, len, &out) == 0, "decode typical record");
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *s = *(char *const *)cmember(&out, f);

			if (!s || (!*s && s != protobuf_c_empty_string))
				strings_ok = 0;
			if (*s && ((const uint8_t *)s < dec->arena ||
				   (const uint8_t *)s + strlen(s) >= dec->arena + dec->arena_cap))
				strings_ok = 0;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			const ProtobufCBinaryData *bd = cmember(&out, f);

			if (bd->len && (bd->data < dec->arena ||
					bd->data + bd->len > dec->arena + dec->arena_cap))
				bytes_ok = 0;
			if (!bd->len && bd->data)
				bytes_ok = 0;
		}
	}
	ok(strings_ok, "strings are NUL-terminated copies in the arena, "
	   "empty ones protobuf_c_empty_string");
	ok(bytes_ok, "bytes point into the arena, empty ones are {0, NULL}");
	is(strcmp(out.congestion_algorithm_string, "cubic"), 0, "a string reads back");
	is(out.inet_diag_msg_socket_source.len, 16, "IPv4 address is 16 bytes");
	ok(memcmp(out.inet_diag_msg_socket_source.data, "\x0a\x00\x00\x01\0\0\0\0\0\0\0\0\0\0\0\0",
		  16) == 0, "IPv4 address: 4 bytes, then 12 zero bytes");
	is(out.tcp_info_max_pacing_rate, UINT64_MAX, "UINT64_MAX reads back");
	is(out.base.n_unknown_fields, 0, "no unknown fields");
	ok(out.base.unknown_fields == NULL, "unknown_fields is NULL when there are none");
}

/* Encodes tag and wire type. */
static size_t put_tag(uint8_t *p, uint64_t number, unsigned wire)
{
	return put_varint(p, number << 3 | wire);
}

static void test_unknown_fields(struct xtcp_decoder *dec)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec, out;
	uint8_t buf[8192], *p;
	size_t len, base_len;
	char why[256] = "";
	int decoded, i;

	typical_record(&rec, 0);
	base_len = xtcp_record_encode(&rec, buf);

	/* An unknown field before the known ones, then one of each wire type after. */
	p = buf + base_len;
	p += put_tag(p, 5000, 0);
	p += put_varint(p, 300);
	p += put_tag(p, 5001, 1);
	memcpy(p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	p += 8;
	p += put_tag(p, 5002, 2);
	*p++ = 5;
	memcpy(p, "hello", 5);
	p += 5;
	p += put_tag(p, 5003, 5);
	memcpy(p, "\xff\xfe\xfd\xfc", 4);
	p += 4;
	p += put_tag(p, (1u << 29) - 1, 0);	/* largest valid number */
	*p++ = 1;
	p += put_tag(p, 4000000000u, 5);	/* past 2^29: protobuf-c keeps it too */
	memcpy(p, "abcd", 4);
	p += 4;
	p += put_tag(p, 5004, 0);	/* a non-minimal varint is kept byte for byte */
	memcpy(p, "\xff\x80\x80\x00", 4);
	p += 4;
	len = (size_t)(p - buf);
	ok_why(check_bytes(dec, buf, len, &decoded, why, sizeof(why)) && decoded, why,
	   "unknown fields of every wire type: decode and re-encode as protobuf-c");
	ok(xtcp_record_decode(dec, buf, len, &out) == 0 && out.base.n_unknown_fields == 7 &&
	   out.base.unknown_fields[0].tag == 5000 && out.base.unknown_fields[6].tag == 5004 &&
	   out.base.unknown_fields[2].len == 6 && out.base.unknown_fields[6].len == 4,
	   "7 unknown fields kept in order, length-delimited data with its length prefix");

	/* Unknown fields interleaved with known ones move to the end when re-encoded. */
	p = buf;
	p += put_tag(p, 9999, 2);
	*p++ = 0;
	p += put_tag(p, 1, 0);
	*p++ = 1;
	p += put_tag(p, 2999, 5);
	memcpy(p, "wxyz", 4);
	p += 4;
	p += put_tag(p, 20, 2);
	*p++ = 1;
	*p++ = 'h';
	ok_why(check_bytes(dec, buf, (size_t)(p - buf), &decoded, why, sizeof(why)) && decoded, why,
	   "unknown fields interleaved with known ones");

	/* Field number 0 in a two-byte tag: protobuf-c keeps it as an unknown field. */
	p = buf;
	*p++ = 0x80;
	*p++ = 0x00;
	*p++ = 0x05;
	ok_why(check_bytes(dec, buf, (size_t)(p - buf), &decoded, why, sizeof(why)) && decoded, why,
	   "field number 0 in a 2-byte tag is an unknown field, as in protobuf-c");

	/* More unknown fields than the decoder has room for: it grows once. */
	p = buf;
	for (i = 0; i < 1000; i++) {
		p += put_tag(p, 6000 + (uint64_t)i, 0);
		*p++ = (uint8_t)(i & 0x7f);
	}
	ok_why(check_bytes(dec, buf, (size_t)(p - buf), &decoded, why, sizeof(why)) && decoded, why,
	   "1000 unknown fields");
	ok(dec->unknown_cap >= 1000, "unknown array grew to %zu", dec->unknown_cap);

	/* Every count of unknown fields across the decoder's first growths. */
	{
		struct xtcp_decoder fresh;
		int n, failed = 0;

		xtcp_decoder_init(&fresh);
		for (n = 0; n <= 70; n++) {
			p = buf;
			for (i = 0; i < n; i++) {
				p += put_tag(p, 7000 + (uint64_t)i, 2);
				*p++ = 1;
				*p++ = (uint8_t)i;
			}
			if (!check_bytes(&fresh, buf, (size_t)(p - buf), &decoded, why, sizeof(why)) ||
			    !decoded)
				failed++;
		}
		ok_why(failed == 0, why, "rows of 0 to 70 unknown fields on a fresh decoder");
		xtcp_decoder_release(&fresh);
	}

	/* Only unknown fields, all with 5-byte tags: encoded_max must still hold. */
	xtcp_record_init(&rec);
	pool_used = 0;
	for (i = 0; i < 1000; i++) {
		unknown_many[i].tag = (1u << 29) - 1 - (uint32_t)i;
		unknown_many[i].wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
		unknown_many[i].len = 1;
		unknown_many[i].data = pool_take(1);
		unknown_many[i].data[0] = 0;
	}
	rec.base.n_unknown_fields = 1000;
	rec.base.unknown_fields = unknown_many;
	ok_why(check_record(dec, &rec, why, sizeof(why)), why,
	       "struct of 1000 unknown fields with 5-byte tags, within encoded_max");

	/* A record with unknown fields in the struct encodes them last, as pack does. */
	typical_record(&rec, 1);
	pool_used = 4096;
	for (i = 0; i < 8; i++)
		rnd_unknown(&unknown_pool[i]);
	rec.base.n_unknown_fields = 8;
	rec.base.unknown_fields = unknown_pool;
	ok_why(check_record(dec, &rec, why, sizeof(why)), why, "struct with 8 unknown fields");
}

/*
 * Field @number with wire type @wire and a valid payload of it, chosen so
 * that a decoder reading it as a varint or as length-delimited would go on
 * and succeed: the value is 0 (or empty), and the rest of an 8- or 4-byte
 * payload is schema_version fields.  protobuf-c rejects a known field of the
 * wrong wire type, and a lenient decoder is caught.
 */
static size_t put_field(uint8_t *p, uint32_t number, unsigned wire)
{
	size_t n = put_tag(p, number, wire);

	switch (wire) {
	case 0:
	case 2:
		p[n++] = 0;
		break;
	case 1:
		memcpy(p + n, "\x00\x08\x00\x08\x00\x08\x80\x00", 8);
		n += 8;
		break;
	case 5:
		memcpy(p + n, "\x00\x08\x80\x00", 4);
		n += 4;
		break;
	}
	return n;
}

static unsigned wire_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	default:
		return 0;
	}
}

static void test_wire_types(struct xtcp_decoder *dec)
{
	static const unsigned wires[] = { 0, 1, 2, 5 };
	XtcpFlatRecord__V1__XtcpFlatRecord out;
	uint8_t buf[64];
	size_t len;
	char why[256];
	int failed = 0, n_wrong = 0, n_right = 0, decoded;
	unsigned i, w;

	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		for (w = 0; w < 4; w++) {
			int right = wires[w] == wire_of(f->type);

			len = put_field(buf, f->id, wires[w]);
			if (!check_bytes(dec, buf, len, &decoded, why, sizeof(why)) ||
			    decoded != (right || f->type == PROTOBUF_C_TYPE_BOOL)) {
				if (failed++ < 5)
					printf("# field %s wire type %u: %s\n", f->name, wires[w], why);
			}
			if (right)
				n_right++;
			else
				n_wrong++;
		}
	}
	ok(failed == 0, "each field with each wire type: %d right ones decode, %d wrong ones "
	   "fail as in protobuf-c (%d differ)", n_right, n_wrong, failed);

	/* A wrong wire type after good fields: all fail, errno EBADMSG, record reset. */
	len = put_field(buf, 1, 0);
	len += put_field(buf + len, 10, 2);
	errno = 0;
	ok(xtcp_record_decode(dec, buf, len, &out) == -1 && errno == EBADMSG,
	   "known field with the wrong wire type: -1, EBADMSG");
	is(out.schema_version, 0, "a failed decode leaves a reset record");
}

/*
 * An independent encoder: these bytes are what protoc (C++ protobuf) writes
 * for this text-format record,
 *   protoc --encode=xtcp_flat_record.v1.XtcpFlatRecord -Iproto \
 *	proto/xtcp_flat_record.proto
 *
 *   timestamp_ns: -9223372036854775808
 *   hostname: "h\303\251llo"
 *   inet_diag_msg_family: 10
 *   inet_diag_msg_socket_source: " \001\r\270\000\000\000\000\000\000\000\000\000\000\000\001"
 *   inet_diag_msg_socket_destination: "\376\200\000\000\000\000\000\000\002\033!\377\376\240\261\377"
 *   tcp_info_rtt: 4294967295
 *   tcp_info_bytes_received: 18446744073709551615
 *   congestion_algorithm_enum: CONGESTION_ALGORITHM_BBR3
 */
static const uint8_t protoc_ipv6[] = {
	0x50, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0xa2,
	0x01, 0x06, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0xc8, 0x3e, 0x0a, 0xfa,
	0x3e, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x82, 0x3f, 0x10, 0xfe, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x1b, 0x21, 0xff, 0xfe, 0xa0, 0xb1,
	0xff, 0xf0, 0x4c, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xd0, 0x4d, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xa8, 0x51, 0x07,
};

static void test_protoc(struct xtcp_decoder *dec)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	uint8_t out[256];
	size_t len;

	ok(xtcp_record_decode(dec, protoc_ipv6, sizeof(protoc_ipv6), &rec) == 0,
	   "decode protoc's encoding");
	ok(rec.timestamp_ns == INT64_MIN && rec.tcp_info_rtt == UINT32_MAX &&
	   rec.tcp_info_bytes_received == UINT64_MAX && rec.inet_diag_msg_family == 10 &&
	   rec.congestion_algorithm_enum ==
	   XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_BBR3 &&
	   strcmp(rec.hostname, "h\xc3\xa9llo") == 0 && rec.inet_diag_msg_socket_source.len == 16 &&
	   memcmp(rec.inet_diag_msg_socket_source.data, src, 16) == 0 &&
	   rec.base.n_unknown_fields == 0,
	   "protoc's values read back: INT64_MIN, UINT32_MAX, UINT64_MAX, enum, UTF-8, IPv6");
	len = xtcp_record_encode(&rec, out);
	ok(len == sizeof(protoc_ipv6) && memcmp(out, protoc_ipv6, len) == 0,
	   "re-encoding is byte-identical to protoc's");
}

struct raw_case {
	const char *name;
	const char *bytes;
	size_t len;
	int decodes;	/* what protobuf-c does, checked too; OVERFLOW: protobuf-c decodes, we fail */
};

#define OVERFLOW 2

#define RAW(name, bytes, decodes) { name, bytes, sizeof(bytes) - 1, decodes }

static const struct raw_case raw_cases[] = {
	RAW("empty input", "", 1),
	RAW("field 1 = 5", "\x08\x05", 1),
	RAW("field 1 twice: last wins", "\x08\x05\x08\x07", 1),
	RAW("string twice: last wins", "\xa2\x01\x01" "a" "\xa2\x01\x02" "bc", 1),
	RAW("string then empty string", "\xa2\x01\x01" "a" "\xa2\x01\x00", 1),
	RAW("bytes then empty bytes", "\xfa\x3e\x02" "ab" "\xfa\x3e\x00", 1),
	RAW("string with a NUL inside", "\xa2\x01\x03" "a\0b", 1),
	RAW("uint32 from a 64-bit varint keeps the low 32 bits",
	    "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1),
	RAW("10-byte varint with high bits set in the last byte (overflows 64 bits)",
	    "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", OVERFLOW),
	RAW("10-byte varint whose last byte is 2", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02",
	    OVERFLOW),
	RAW("overflowing varint in an unknown field", "\xc0\xb8\x02\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02",
	    OVERFLOW),
	RAW("int64 -1 as a 10-byte varint", "\x50\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1),
	RAW("non-minimal zero varint", "\x08\x80\x00", 1),
	RAW("enum out of range", "\xa8\x51\x63", 1),
	RAW("enum negative", "\xa8\x51\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1),
	RAW("5-byte tag", "\x88\x80\x80\x80\x00\x07", 1),
	RAW("6-byte tag", "\x88\x80\x80\x80\x80\x00\x07", 0),
	RAW("largest 5-byte tag", "\xf8\xff\xff\xff\x7f\x07", 1),
	RAW("5-byte length prefix", "\xa2\x01\x81\x80\x80\x80\x00" "x", 1),
	RAW("6-byte length prefix", "\xa2\x01\x81\x80\x80\x80\x80\x00" "x", 0),
	RAW("11-byte varint", "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 0),
	RAW("unterminated varint", "\x08\xff", 0),
	RAW("truncated tag", "\xa2", 0),
	RAW("length past the end", "\xa2\x01\x05" "abc", 0),
	RAW("huge length", "\xa2\x01\xff\xff\xff\xff\x0f" "abc", 0),
	RAW("fixed64 past the end", "\xc9\xb8\x02" "1234567", 0),
	RAW("fixed32 past the end", "\xdd\xb8\x02" "123", 0),
	RAW("field number 0", "\x00\x05", 0),
	RAW("field number 0, wire type 5", "\x05" "abcd", 0),
	RAW("wire type 3 (start group)", "\x0b", 0),
	RAW("wire type 4 (end group)", "\x0c", 0),
	RAW("wire type 6", "\xc6\xb8\x02\x00", 0),
	RAW("wire type 7", "\xc7\xb8\x02\x00", 0),
	RAW("unknown group", "\xc3\xb8\x02\xc4\xb8\x02", 0),
	RAW("unknown field, varint past the end", "\xc0\xb8\x02\x80", 0),
};

static void test_raw(struct xtcp_decoder *dec)
{
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		const struct raw_case *c = &raw_cases[i];
		XtcpFlatRecord__V1__XtcpFlatRecord *theirs;
		int decoded, same;

		why[0] = '\0';
		same = check_bytes(dec, (const uint8_t *)c->bytes, c->len, &decoded, why,
				   sizeof(why));
		theirs = pc_unpack((const uint8_t *)c->bytes, c->len);
		ok_why(same && decoded == (c->decodes == 1) && (theirs != NULL) == (c->decodes != 0),
		       why, "%s: %s", c->name, c->decodes == 1 ? "decodes" :
		       c->decodes ? "fails (protobuf-c truncates it)" : "fails");
		pc_free(theirs);
	}
}

/* Every prefix, and every byte changed a few ways: ours fails exactly when protobuf-c does. */
static void test_damaged(struct xtcp_decoder *dec, const char *name,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x07, 0x08, 0x7f, 0x80, 0xff };
	size_t len, i, j, n_ok = 0, n_fail = 0;
	uint8_t *enc = our_pack(rec, &len), *copy = malloc(len);
	int failed = 0, decoded;
	char why[256];

	if (!copy)
		abort();
	for (i = 0; i <= len; i++) {
		if (!check_bytes(dec, enc, i, &decoded, why, sizeof(why)) && failed++ < 5)
			printf("# %s truncated to %zu bytes: %s\n", name, i, why);
		decoded ? n_ok++ : n_fail++;
	}
	ok(failed == 0, "%s truncated at each of %zu positions: same verdict as protobuf-c "
	   "(%zu decode, %zu fail)", name, len + 1, n_ok, n_fail);

	failed = 0;
	n_ok = n_fail = 0;
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(values) + 2; j++) {
			memcpy(copy, enc, len);
			if (j < sizeof(values))
				copy[i] = values[j];
			else
				copy[i] ^= j == sizeof(values) ? 0x80 : (uint8_t)(1 + rnd_below(255));
			if (!check_bytes(dec, copy, len, &decoded, why, sizeof(why)) && failed++ < 5)
				printf("# %s byte %zu changed: %s\n", name, i, why);
			decoded ? n_ok++ : n_fail++;
		}
	}
	ok(failed == 0, "%s with each byte changed 9 ways: same verdict and record as "
	   "protobuf-c (%zu decode, %zu fail)", name, n_ok, n_fail);
	free(enc);
	free(copy);
}

static void test_garbage(struct xtcp_decoder *dec)
{
	static const uint8_t alphabet[] = { 0x00, 0x01, 0x02, 0x05, 0x08, 0x0a, 0x7f, 0x80,
					    0x81, 0xa2, 0xb8, 0xff };
	uint8_t buf[64];
	size_t len, i;
	int failed = 0, n_ok = 0, k, decoded;
	char why[256];

	for (k = 0; k < 20000; k++) {
		len = rnd_below(sizeof(buf) + 1);
		for (i = 0; i < len; i++)
			buf[i] = rnd_below(2) ? alphabet[rnd_below(sizeof(alphabet))] : (uint8_t)rnd();
		if (!check_bytes(dec, buf, len, &decoded, why, sizeof(why)) && failed++ < 5)
			printf("# garbage %d: %s\n", k, why);
		n_ok += decoded;
	}
	ok(failed == 0, "20000 random byte strings: same verdict and record as protobuf-c "
	   "(%d decode)", n_ok);
}

static void test_steady_state(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec, out;
	struct xtcp_decoder dec;
	uint8_t *bufs[50], *arena;
	size_t lens[50], max = 0, arena_cap;
	ProtobufCMessageUnknownField *unknown;
	int i, round, stable = 1, decoded = 1;

	xtcp_decoder_init(&dec);
	for (i = 0; i < 50; i++) {
		rnd_record(&rec);
		bufs[i] = our_pack(&rec, &lens[i]);
		if (lens[i] > max)
			max = lens[i];
	}
	for (i = 0; i < 50; i++)
		decoded &= xtcp_record_decode(&dec, bufs[i], lens[i], &out) == 0;
	ok(decoded, "50 random rows decode");
	ok(dec.arena_cap >= max, "arena (%zu bytes) holds the largest row (%zu)", dec.arena_cap,
	   max);
	arena = dec.arena;
	arena_cap = dec.arena_cap;
	unknown = dec.unknown;
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 50; i++) {
			decoded &= xtcp_record_decode(&dec, bufs[i], lens[i], &out) == 0;
			if (dec.arena != arena || dec.arena_cap != arena_cap || dec.unknown != unknown)
				stable = 0;
		}
	}
	ok(decoded && stable, "5000 more decodes of rows no larger: arena and unknown array unchanged "
	   "(no allocation)");

	for (i = 0; i < 50; i++)
		free(bufs[i]);
	xtcp_decoder_release(&dec);
	ok(dec.arena == NULL && dec.unknown == NULL && dec.arena_cap == 0,
	   "release frees and clears the decoder");
	xtcp_decoder_release(&dec);
	ok(1, "release twice is harmless");
}

int main(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_decoder dec;

	xtcp_decoder_init(&dec);
	test_fixed_records(&dec);
	test_decoded_form(&dec);
	test_unknown_fields(&dec);
	test_wire_types(&dec);
	test_raw(&dec);
	test_protoc(&dec);
	test_random(&dec);
	test_encode_in();

	typical_record(&rec, 1);
	pool_used = 4096;
	rnd_unknown(&unknown_pool[0]);
	rnd_unknown(&unknown_pool[1]);
	rec.base.n_unknown_fields = 2;
	rec.base.unknown_fields = unknown_pool;
	test_damaged(&dec, "typical record with unknown fields", &rec);
	extreme_record(&rec, 1);
	test_damaged(&dec, "all-max record", &rec);
	extreme_record(&rec, 0);
	test_damaged(&dec, "all-min record", &rec);
	test_garbage(&dec);
	xtcp_decoder_release(&dec);

	test_steady_state();
	return done_testing();
}
