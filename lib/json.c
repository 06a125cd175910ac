#include "json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "schema.h"
#include "tcp.h"
#include "format.h"

#define RECORD_FIELDS_MAX 1024      /* above the schema's field count; keys past it are refused */

void xtcp_json_decoder_init(struct xtcp_json_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

void xtcp_json_decoder_release(struct xtcp_json_decoder *dec)
{
	free(dec->arena);
	memset(dec, 0, sizeof(*dec));
}

__attribute__((format(printf, 2, 3)))
static int fail(struct xtcp_json_decoder *dec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dec->err, sizeof(dec->err), fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* Text from the input for an error message: at most 40 bytes, no control characters. */
static const char *excerpt(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < size && i < 40; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i])
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
	return out;
}

/* How a JSON value that is not what a field wants is described: "got ...". */
static const char *describe(char *out, size_t size, const json_t *v)
{
	char tmp[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		snprintf(out, size, "'%s'", excerpt(tmp, sizeof(tmp), json_string_value(v)));
		return out;
	case JSON_INTEGER:
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return out;
	case JSON_REAL:
		snprintf(out, size, "%g", json_real_value(v));
		return out;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

/* --- integers -------------------------------------------------------------- */

/* An integer as sign and magnitude, from a JSON integer or a string of digits. */
static int get_integer(const json_t *v, bool *neg, uint64_t *mag)
{
	const char *s;
	uint64_t m = 0;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		*neg = i < 0;
		*mag = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	*neg = *s == '-';
	if (*neg)
		s++;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (m > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			/* too large for any field: out of range rather than not a number */
			*mag = UINT64_MAX;
			*neg = false;
			return 1;
		}
		m = m * 10 + (uint64_t)(*s - '0');
	}
	*mag = m;
	return 0;
}

static int get_unsigned(struct xtcp_json_decoder *dec, const char *key, const json_t *v,
			uint64_t max, uint64_t *out)
{
	char got[80];
	bool neg;
	uint64_t mag;
	int rc = get_integer(v, &neg, &mag);

	if (rc == 0 && (!neg || mag == 0) && mag <= max) {
		*out = mag;
		return 0;
	}
	return fail(dec, "field '%s': want an integer from 0 to %" PRIu64 ", got %s", key, max,
		    describe(got, sizeof(got), v));
}

static int get_signed(struct xtcp_json_decoder *dec, const char *key, const json_t *v,
		      int64_t min, int64_t max, int64_t *out)
{
	char got[80];
	bool neg;
	uint64_t mag;
	int rc = get_integer(v, &neg, &mag);

	if (rc == 0) {
		if (!neg && mag <= (uint64_t)max) {
			*out = (int64_t)mag;
			return 0;
		}
		if (neg && mag <= 0 - (uint64_t)min) {
			*out = mag == 0 - (uint64_t)min ? min : -(int64_t)mag;
			return 0;
		}
	}
	return fail(dec, "field '%s': want an integer from %" PRId64 " to %" PRId64 ", got %s", key,
		    min, max, describe(got, sizeof(got), v));
}

/* --- names ------------------------------------------------------------------ */

static int get_state(struct xtcp_json_decoder *dec, const char *key, const json_t *v,
		     uint64_t *out)
{
	char got[80];
	unsigned i;

	if (!json_is_string(v) || (json_string_value(v)[0] >= '0' && json_string_value(v)[0] <= '9'))
		return get_unsigned(dec, key, v, UINT32_MAX, out);
	for (i = 0; i < XTCP_TCP_STATE_COUNT; i++) {
		if (!strcasecmp(xtcp_tcp_state_name(i), json_string_value(v))) {
			*out = i;
			return 0;
		}
	}
	return fail(dec, "field '%s': unknown TCP state %s", key, describe(got, sizeof(got), v));
}

static int get_family(struct xtcp_json_decoder *dec, const char *key, const json_t *v,
		      uint64_t *out)
{
	int family;

	if (json_is_string(v) && !strncasecmp(json_string_value(v), "AF_", 3) &&
	    (family = xtcp_family_parse(json_string_value(v), json_string_length(v))) > 0) {
		*out = (uint64_t)family;
		return 0;
	}
	return get_unsigned(dec, key, v, UINT32_MAX, out);
}

static int get_enum(struct xtcp_json_decoder *dec, const ProtobufCFieldDescriptor *f,
		    const json_t *v, int64_t *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	char got[80];
	int32_t value;

	if (!json_is_string(v) || json_string_value(v)[0] == '-' ||
	    (json_string_value(v)[0] >= '0' && json_string_value(v)[0] <= '9'))
		return get_signed(dec, f->name, v, INT32_MIN, INT32_MAX, out);
	if (xtcp_field_enum_value(xtcp_field_of(f), json_string_value(v), json_string_length(v),
				  &value) == 0) {
		*out = value;
		return 0;
	}
	return fail(dec, "field '%s': unknown %s %s", f->name, ed->short_name,
		    describe(got, sizeof(got), v));
}

/* --- bytes ------------------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0x..." into @out (room for len/2 bytes); returns the byte count or -1. */
static ssize_t get_hex(const char *s, size_t len, uint8_t *out)
{
	size_t i;

	if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len % 2)
		return -1;
	for (i = 2; i < len; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[(i - 2) / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(len - 2) / 2;
}

static int get_bytes(struct xtcp_json_decoder *dec, const ProtobufCFieldDescriptor *f,
		     enum xtcp_value_kind kind, const json_t *v, uint8_t *room,
		     ProtobufCBinaryData *out)
{
	char got[80];
	const char *s;
	size_t len;
	ssize_t n;

	if (!json_is_string(v))
		goto bad;
	s = json_string_value(v);
	len = json_string_length(v);
	out->data = room;
	out->len = 0;
	if (!len) {
		out->data = NULL;
		return 0;
	}
	n = get_hex(s, len, room);
	if (n >= 0) {
		out->len = (size_t)n;
		return 0;
	}
	if (kind == XTCP_VALUE_ADDR) {
		if (strchr(s, ':') ? inet_pton(AF_INET6, s, room) == 1
				   : inet_pton(AF_INET, s, room) == 1) {
			if (!strchr(s, ':'))
				memset(room + 4, 0, 12);
			out->len = 16;
			return 0;
		}
		return fail(dec, "field '%s': want an IP address, \"\" or 0x and hex digits, got %s",
			    f->name, describe(got, sizeof(got), v));
	}
bad:
	return fail(dec, "field '%s': want \"\" or 0x and hex digits, got %s", f->name,
		    describe(got, sizeof(got), v));
}

/* --- records ----------------------------------------------------------------- */

static int arena_reserve(struct xtcp_json_decoder *dec, size_t need)
{
	uint8_t *arena;
	size_t cap = xtcp_alloc_nr(dec->arena_cap, need < 1024 ? 1024 : need, 1);

	if (need <= dec->arena_cap)
		return 0;
	arena = cap ? malloc(cap) : NULL;
	if (!arena) {
		errno = ENOMEM;
		return -1;
	}
	free(dec->arena);
	dec->arena = arena;
	dec->arena_cap = cap;
	return 0;
}

static int unknown_key(struct xtcp_json_decoder *dec, const char *key)
{
	char tmp[64];
	const char *hint = xtcp_schema_suggest(key, strlen(key), 0);

	excerpt(tmp, sizeof(tmp), key);
	if (hint)
		return fail(dec, "unknown field '%s' (did you mean '%s'?)", tmp, hint);
	return fail(dec, "unknown field '%s'", tmp);
}

static int set_field(struct xtcp_json_decoder *dec, XtcpFlatRecord__V1__XtcpFlatRecord *rec,
		     const ProtobufCFieldDescriptor *f, const json_t *v, uint8_t **room)
{
	enum xtcp_value_kind kind = xtcp_field_of(f)->kind;
	void *member = (char *)rec + f->offset;
	char got[80];
	uint64_t u;
	int64_t i;

	switch (kind) {
	case XTCP_VALUE_U32:
		if (get_unsigned(dec, f->name, v, UINT32_MAX, &u) < 0)
			return -1;
		*(uint32_t *)member = (uint32_t)u;
		return 0;
	case XTCP_VALUE_STATE:
		if (get_state(dec, f->name, v, &u) < 0)
			return -1;
		*(uint32_t *)member = (uint32_t)u;
		return 0;
	case XTCP_VALUE_FAMILY:
		if (get_family(dec, f->name, v, &u) < 0)
			return -1;
		*(uint32_t *)member = (uint32_t)u;
		return 0;
	case XTCP_VALUE_U64:
		if (get_unsigned(dec, f->name, v, UINT64_MAX, &u) < 0)
			return -1;
		*(uint64_t *)member = u;
		return 0;
	case XTCP_VALUE_I64:
		if (get_signed(dec, f->name, v, INT64_MIN, INT64_MAX, &i) < 0)
			return -1;
		*(int64_t *)member = i;
		return 0;
	case XTCP_VALUE_ENUM:
		if (get_enum(dec, f, v, &i) < 0)
			return -1;
		*(int *)member = (int)i;
		return 0;
	case XTCP_VALUE_STRING:
		if (!json_is_string(v))
			return fail(dec, "field '%s': want a string, got %s", f->name,
				    describe(got, sizeof(got), v));
		memcpy(*room, json_string_value(v), json_string_length(v) + 1);
		*(char **)member = (char *)*room;
		*room += json_string_length(v) + 1;
		return 0;
	case XTCP_VALUE_ADDR:
	case XTCP_VALUE_BYTES:
		if (get_bytes(dec, f, kind, v, *room, member) < 0)
			return -1;
		*room += ((ProtobufCBinaryData *)member)->len;
		return 0;
	default:
		return fail(dec, "field '%s': this version cannot read its type", f->name);
	}
}

/*
 * The field named @key.  Lines written by xtcp-fmt list fields in schema
 * order, so the field after the previous one is tried first; otherwise
 * protobuf-c's binary search by name.
 */
static const ProtobufCFieldDescriptor *field_named(const char *key, unsigned *next)
{
	const ProtobufCMessageDescriptor *d = XTCP_RECORD_DESC;
	const ProtobufCFieldDescriptor *f;

	if (*next < d->n_fields && !strcmp(d->fields[*next].name, key)) {
		f = &d->fields[*next];
	} else {
		const struct xtcp_field *field = xtcp_schema_find(key, strlen(key));

		if (!field)
			return NULL;
		f = xtcp_field_desc(field);
	}
	*next = (unsigned)(f - d->fields) + 1;
	return f;
}

int xtcp_json_decode(struct xtcp_json_decoder *dec, const char *text, size_t len,
		     XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const ProtobufCFieldDescriptor *fields[RECORD_FIELDS_MAX];
	json_t *values[RECORD_FIELDS_MAX];
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	size_t need = 0, n = 0, i;
	unsigned next = 0;
	uint8_t *room;
	int rc = -1;

	xtcp_record_init(rec);
	dec->err[0] = '\0';
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(dec, "column %d: %s", jerr.column, jerr.text);
	if (!json_is_object(root)) {
		char got[80];

		fail(dec, "want a JSON object, got %s", describe(got, sizeof(got), root));
		goto out;
	}
	/*
	 * Keys are unique (jansson rejects duplicates) and each is a field, so
	 * there are at most as many as fields.  The room strings and bytes need
	 * is reserved first, so no pointer moves later.
	 */
	json_object_foreach(root, key, v) {
		const ProtobufCFieldDescriptor *f = field_named(key, &next);

		if (!f || n == RECORD_FIELDS_MAX) {
			unknown_key(dec, key);
			goto out;
		}
		fields[n] = f;
		values[n++] = v;
		if (json_is_string(v))
			need += json_string_length(v) + 16 + 1;
	}
	if (arena_reserve(dec, need) < 0)
		goto out;
	room = dec->arena;
	for (i = 0; i < n; i++) {
		if (set_field(dec, rec, fields[i], values[i], &room) < 0) {
			xtcp_record_init(rec);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* --- lines ------------------------------------------------------------------- */

int xtcp_json_reader_init(struct xtcp_json_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = 1u << 16;
	r->buf = malloc(r->cap);
	xtcp_json_decoder_init(&r->dec);
	if (!r->buf) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void xtcp_json_reader_release(struct xtcp_json_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	xtcp_json_decoder_release(&r->dec);
}

bool xtcp_json_reader_would_read(const struct xtcp_json_reader *r)
{
	return !r->eof && !memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
}

/* Read more; returns 0 (maybe at EOF) or -1 with errno. */
static int reader_fill(struct xtcp_json_reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scanned -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		if (r->cap > XTCP_JSON_LINE_MAX) {
			errno = EFBIG;
			return -1;
		}
		if (XTCP_ALLOC_GROW(r->buf, r->cap + 1, r->cap) < 0)
			return -1;
	}
	for (;;) {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return -1;
	}
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

static bool blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int xtcp_json_reader_next(struct xtcp_json_reader *r, XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const char *line, *nl;
	size_t len;

	for (;;) {
		nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
		if (!nl && !r->eof) {
			r->scanned = r->end;
			if (r->end - r->start > XTCP_JSON_LINE_MAX) {
				snprintf(r->err, sizeof(r->err), "line %" PRIu64 ": longer than %u bytes",
					 r->line_no + 1, XTCP_JSON_LINE_MAX);
				errno = EFBIG;
				return -1;
			}
			if (reader_fill(r) < 0) {
				int e = errno;

				snprintf(r->err, sizeof(r->err), "line %" PRIu64 ": %s", r->line_no + 1,
					 e == EFBIG ? "line too long" : strerror(e));
				errno = e;
				return -1;
			}
			continue;
		}
		if (!nl && r->start == r->end)
			return 0;
		line = r->buf + r->start;
		len = nl ? (size_t)(nl - line) : r->end - r->start;
		if (len > XTCP_JSON_LINE_MAX) {
			/* however it was read (a file's big reads, a last line without newline) */
			snprintf(r->err, sizeof(r->err), "line %" PRIu64 ": longer than %u bytes",
				 r->line_no + 1, XTCP_JSON_LINE_MAX);
			errno = EFBIG;
			return -1;
		}
		r->start += len + (nl ? 1 : 0);
		r->scanned = r->start;
		r->line_no++;
		if (blank(line, len))
			continue;
		if (xtcp_json_decode(&r->dec, line, len, rec) < 0) {
			int e = errno;

			snprintf(r->err, sizeof(r->err), "line %" PRIu64 ": %s", r->line_no,
				 e == EINVAL ? r->dec.err : strerror(e));
			errno = e;
			return -1;
		}
		return 1;
	}
}
