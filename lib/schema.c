#include "schema.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *const prefixes[] = { "tcp_info_", "inet_diag_msg_", "inet_diag_msg_socket_" };

const struct xtcp_field *xtcp_schema_find(const char *name, size_t len)
{
	const ProtobufCFieldDescriptor *fd;
	char buf[128];

	if (len >= sizeof(buf) || memchr(name, '\0', len))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	fd = protobuf_c_message_descriptor_get_field_by_name(XTCP_RECORD_DESC, buf);
	return fd ? xtcp_field_of(fd) : NULL;
}

const struct xtcp_field *xtcp_schema_by_number(uint32_t number)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(XTCP_RECORD_DESC, (unsigned)number);

	return fd ? xtcp_field_of(fd) : NULL;
}

int xtcp_field_has_alias(const struct xtcp_field *f, const char *word, size_t len)
{
	const char *p = f->aliases;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && !memcmp(p, word, len))
			return 1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

const struct xtcp_field *xtcp_schema_resolve(const char *word, size_t len)
{
	const struct xtcp_field *f;
	char buf[160];
	size_t i;

	for (i = 0; i < xtcp_schema_n; i++)
		if (xtcp_schema[i].aliases[0] && xtcp_field_has_alias(&xtcp_schema[i], word, len))
			return &xtcp_schema[i];
	if ((f = xtcp_schema_find(word, len)))
		return f;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);

		if (pl + len >= sizeof(buf))
			continue;
		memcpy(buf, prefixes[i], pl);
		memcpy(buf + pl, word, len);
		if ((f = xtcp_schema_find(buf, pl + len)))
			return f;
	}
	return NULL;
}

static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t i, j, row[128];

	if (la >= 127 || lb >= 127)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* An alias of any field within @max typos of @word, in schema order. */
static const char *close_alias(const char *word, size_t len, size_t max, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < xtcp_schema_n; i++) {
		const char *p = xtcp_schema[i].aliases;

		while (*p) {
			size_t n = strcspn(p, ",");

			if (n < size && edit_distance(word, len, p, n) <= max) {
				memcpy(buf, p, n);
				buf[n] = '\0';
				return buf;
			}
			p += n;
			if (*p)
				p++;
		}
	}
	return NULL;
}

const char *xtcp_schema_suggest(const char *word, size_t len, unsigned flags)
{
	static __thread char alias[64];
	const char *best = NULL;
	size_t best_d = SIZE_MAX, i;

	if (!len)
		return NULL;
	if ((flags & XTCP_SUGGEST_ALIASES) &&
	    (best = close_alias(word, len, len < 5 ? 1 : 2, alias, sizeof(alias))))
		return best;
	/* "rtt" -> tcp_info_rtt: a name that ends in "_word", tcp_info_ first */
	for (i = 0; i < xtcp_schema_n; i++) {
		const char *name = xtcp_schema[i].name;
		size_t n = strlen(name);

		if (n > len && name[n - len - 1] == '_' && !strncmp(name + n - len, word, len)) {
			if (!strncmp(name, "tcp_info_", 9))
				return name;
			if (!best)
				best = name;
		}
	}
	if (best)
		return best;
	for (i = 0; i < xtcp_schema_n; i++) {
		const char *name = xtcp_schema[i].name;
		size_t dist = edit_distance(word, len, name, strlen(name));

		if (dist < best_d) {
			best_d = dist;
			best = name;
		}
	}
	return best_d <= (len < 6 ? 1 : len / 3) ? best : NULL;
}

/* Length of the prefix all names of @ed share, up to and including a '_'. */
static size_t enum_prefix(const ProtobufCEnumDescriptor *ed)
{
	const char *first = ed->values[0].name;
	size_t n = strlen(first), i, k;

	if (ed->n_values < 2)
		return 0;
	for (i = 1; i < ed->n_values; i++) {
		for (k = 0; k < n && ed->values[i].name[k] == first[k]; k++)
			;
		n = k;
	}
	while (n > 0 && first[n - 1] != '_')
		n--;
	return n;
}

int xtcp_field_enum_value(const struct xtcp_field *f, const char *word, size_t len,
			  int32_t *value)
{
	const ProtobufCEnumDescriptor *ed = xtcp_field_desc(f)->descriptor;
	size_t prefix, i;

	if (f->kind == XTCP_VALUE_ENUM && ed) {
		prefix = enum_prefix(ed);
		for (i = 0; i < ed->n_values; i++) {
			const char *name = ed->values[i].name;

			if ((strlen(name) == len && !strncasecmp(name, word, len)) ||
			    (strlen(name + prefix) == len && !strncasecmp(name + prefix, word, len))) {
				*value = ed->values[i].value;
				return 0;
			}
		}
	}
	errno = EINVAL;
	return -1;
}

const char *xtcp_field_enum_name(const struct xtcp_field *f, int32_t value)
{
	const ProtobufCEnumDescriptor *ed = xtcp_field_desc(f)->descriptor;
	const ProtobufCEnumValue *ev = ed ? protobuf_c_enum_descriptor_get_value(ed, value) : NULL;

	return ev ? ev->name : NULL;
}
