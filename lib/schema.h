#ifndef XTCP_SCHEMA_H
#define XTCP_SCHEMA_H

/*
 * The record's vocabulary: one entry per field of XtcpFlatRecord, generated
 * at build time from the comments of proto/xtcp_flat_record.proto by
 * tools/gen-schema.py (build/gen/xtcp_schema.c).  Field lookup by name or
 * alias, "did you mean", kinds and units exist here and nowhere else.
 *
 * xtcp_schema[] is in field-number order, which is also the order of
 * protobuf-c's descriptor, so xtcp_schema[i] describes
 * XTCP_RECORD_DESC->fields[i] (tests/unit/t-schema.c checks it).
 */

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "wire.h"

#define XTCP_RECORD_DESC (&xtcp_flat_record__v1__xtcp_flat_record__descriptor)

/*
 * What a field's value is, as every format writes it and every reader takes
 * it: FAMILY is written as a number, STATE, ADDR and ENUM as text.
 */
enum xtcp_value_kind {
	XTCP_VALUE_U32,
	XTCP_VALUE_U64,
	XTCP_VALUE_I64,
	XTCP_VALUE_STRING,
	XTCP_VALUE_BYTES,
	XTCP_VALUE_ADDR,        /* 16 bytes, IPv4 or IPv6 by inet_diag_msg_family */
	XTCP_VALUE_STATE,       /* a TCP state (lib/tcp.h) */
	XTCP_VALUE_FAMILY,      /* AF_INET or AF_INET6 */
	XTCP_VALUE_ENUM,
	XTCP_VALUE_OTHER,       /* a type the schema does not use yet */
};

struct xtcp_field {
	uint32_t number;
	const char *name;
	const char *type;       /* the proto type: "uint32", "string", "enum", ... */
	enum xtcp_value_kind kind;
	const char *unit;       /* "us", "bytes", "bytes/s", "segments", ...; "" for none */
	uint64_t unit_ns;       /* a time: nanoseconds per unit (1, 1000, 1000000); else 0 */
	const char *aliases;    /* comma-separated short names, "" for none */
	const char *meaning;    /* one line */
};

extern const struct xtcp_field xtcp_schema[];
extern const size_t xtcp_schema_n;

/* protobuf-c's descriptor of @f, and the entry of a descriptor of the record. */
static inline const ProtobufCFieldDescriptor *xtcp_field_desc(const struct xtcp_field *f)
{
	return &XTCP_RECORD_DESC->fields[f - xtcp_schema];
}

static inline const struct xtcp_field *xtcp_field_of(const ProtobufCFieldDescriptor *fd)
{
	return &xtcp_schema[fd - XTCP_RECORD_DESC->fields];
}

/* The wire type a field of @fd's type is written with. */
static inline unsigned xtcp_desc_wire_type(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return XTCP_WIRE_LEN;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return XTCP_WIRE_I32;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return XTCP_WIRE_I64;
	default:
		return XTCP_WIRE_VARINT;
	}
}

static inline unsigned xtcp_field_wire_type(const struct xtcp_field *f)
{
	return xtcp_desc_wire_type(xtcp_field_desc(f));
}

/* The field named exactly @name[0..len), or NULL. */
const struct xtcp_field *xtcp_schema_find(const char *name, size_t len);

/* The field numbered @number, or NULL. */
const struct xtcp_field *xtcp_schema_by_number(uint32_t number);

/*
 * The field a user means by @word[0..len): an alias ("rtt"), the exact
 * name, or the name without its tcp_info_, inet_diag_msg_ or
 * inet_diag_msg_socket_ prefix ("bytes_acked", "rqueue"), in that order.
 * NULL when nothing matches.
 */
const struct xtcp_field *xtcp_schema_resolve(const char *word, size_t len);

/*
 * For "did you mean": the field name closest to @word[0..len) (a field whose
 * name ends in "_word", tcp_info_ first; else the name at the smallest edit
 * distance, if small), or with XTCP_SUGGEST_ALIASES, for readers that take
 * aliases, first an alias one or two typos away.  NULL when nothing is
 * close.  The string is static or thread-local: valid until the next call.
 */
#define XTCP_SUGGEST_ALIASES 1u
const char *xtcp_schema_suggest(const char *word, size_t len, unsigned flags);

/*
 * The value of an enum field named by @word[0..len): the value's full name
 * ("CONGESTION_ALGORITHM_CUBIC") or without the prefix its names share
 * ("CUBIC"), case-insensitive.  Returns 0 with *value set, or -1 (EINVAL).
 */
int xtcp_field_enum_value(const struct xtcp_field *f, const char *word, size_t len,
			  int32_t *value);

/* The name of value @value of an enum field, or NULL when the schema has none. */
const char *xtcp_field_enum_name(const struct xtcp_field *f, int32_t value);

/* Whether @f's aliases include @word[0..len). */
int xtcp_field_has_alias(const struct xtcp_field *f, const char *word, size_t len);

#endif
