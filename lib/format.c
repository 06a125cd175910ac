#include "format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "schema.h"
#include "tcp.h"

#define EXACT_MAX (1ull << 53)      /* largest magnitude a double holds exactly */

/* Worst case output bytes per string byte: "\u00XX" in JSON. */
#define STRING_EXPANSION 6

int xtcp_format_kind_parse(const char *name, enum xtcp_format_kind *kind)
{
	static const char *const names[] = { "json", "csv", "tsv", "text" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*kind = (enum xtcp_format_kind)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* --- value writers -------------------------------------------------------- */

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const char hex_digits[] = "0123456789abcdef";

static inline unsigned digit_count(uint64_t v)
{
	static const uint64_t pow10[] = {
		10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull,
		1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	unsigned n = 1;

	while (n < 20 && v >= pow10[n - 1])
		n++;
	return n;
}

/* Digits written in place from the right, two at a time: no copy, no call. */
static inline char *put_u64(char *p, uint64_t v)
{
	char *end, *t;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	end = p + digit_count(v);
	t = end;
	while (v >= 100) {
		unsigned i = (unsigned)(v % 100) * 2;

		v /= 100;
		t -= 2;
		t[0] = digit_pairs[i];
		t[1] = digit_pairs[i + 1];
	}
	if (v >= 10) {
		t[-2] = digit_pairs[v * 2];
		t[-1] = digit_pairs[v * 2 + 1];
	} else {
		t[-1] = (char)('0' + v);
	}
	return end;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, 0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/*
 * The UTF-8 sequence at @s: returns its length (1..4) when it is valid, else
 * 0 with *bad set to the length of its "maximal subpart" (Unicode 15, 3.9):
 * the lead byte and the continuation bytes that could still have made a
 * valid sequence, which become one U+FFFD, as Python's errors='replace' and
 * WHATWG decoders do.  Overlong forms, surrogates and code points above
 * U+10FFFF are invalid.  Stops at a NUL, which is never a continuation byte.
 */
static inline size_t utf8_len(const unsigned char *s, size_t *bad)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	*bad = 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*bad = i;
			return 0;
		}
	}
	return need;
}

/* Copy a valid UTF-8 sequence, or U+FFFD for an invalid one; advances *s. */
static char *put_utf8(char *p, const unsigned char **s)
{
	size_t bad, n = utf8_len(*s, &bad);

	if (!n) {
		*s += bad;
		memcpy(p, "\xef\xbf\xbd", 3);
		return p + 3;
	}
	memcpy(p, *s, n);
	*s += n;
	return p + n;
}

static char *put_json_string(char *p, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	*p++ = '"';
	for (;;) {
		unsigned c = *s;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*p++ = (char)c;
			s++;
			continue;
		}
		if (!c)
			break;
		if (c >= 0x80) {
			p = put_utf8(p, &s);
			continue;
		}
		s++;
		*p++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*p++ = (char)c;
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\r':
			*p++ = 'r';
			break;
		case '\t':
			*p++ = 't';
			break;
		case '\b':
			*p++ = 'b';
			break;
		case '\f':
			*p++ = 'f';
			break;
		default:
			memcpy(p, "u00", 3);
			p[3] = hex_digits[c >> 4];
			p[4] = hex_digits[c & 15];
			p += 5;
		}
	}
	*p++ = '"';
	return p;
}

static char *put_csv_string(char *p, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	bool quote = strpbrk(str, ",\"\r\n") != NULL;

	if (quote)
		*p++ = '"';
	while (*s) {
		if (*s < 0x80) {
			if (*s == '"')
				*p++ = '"';
			*p++ = (char)*s++;
		} else {
			p = put_utf8(p, &s);
		}
	}
	if (quote)
		*p++ = '"';
	return p;
}

static char *put_tsv_string(char *p, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned c = *s;

		if (c >= 0x80) {
			p = put_utf8(p, &s);
			continue;
		}
		s++;
		switch (c) {
		case '\\':
			memcpy(p, "\\\\", 2);
			p += 2;
			break;
		case '\t':
			memcpy(p, "\\t", 2);
			p += 2;
			break;
		case '\n':
			memcpy(p, "\\n", 2);
			p += 2;
			break;
		case '\r':
			memcpy(p, "\\r", 2);
			p += 2;
			break;
		default:
			*p++ = (char)c;
		}
	}
	return p;
}

/* A Prometheus label value: \\, \" and \n escaped, other bytes as they are (valid UTF-8). */
static char *put_label_string(char *p, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		if (*s >= 0x80) {
			p = put_utf8(p, &s);
			continue;
		}
		if (*s == '\\' || *s == '"' || *s == '\n') {
			*p++ = '\\';
			*p++ = *s == '\n' ? 'n' : (char)*s;
		} else {
			*p++ = (char)*s;
		}
		s++;
	}
	return p;
}

/* Text for a terminal: control characters as '?'; *width gets the columns used. */
static char *put_text_string(char *p, const char *str, size_t *width)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t w = 0;

	while (*s) {
		if (*s < 0x20 || *s == 0x7f) {
			*p++ = '?';
			s++;
		} else if (*s < 0x80) {
			*p++ = (char)*s++;
		} else {
			p = put_utf8(p, &s);
		}
		w++;
	}
	*width = w;
	return p;
}

/* Lower-case hex of a 16-bit group without leading zeros. */
static char *put_hex16(char *p, unsigned v)
{
	int shift;

	for (shift = 12; shift > 0 && !(v >> shift); shift -= 4)
		;
	for (; shift >= 0; shift -= 4)
		*p++ = hex_digits[(v >> shift) & 15];
	return p;
}

static char *put_ipv4(char *p, const uint8_t *a)
{
	p = put_u64(p, a[0]);
	*p++ = '.';
	p = put_u64(p, a[1]);
	*p++ = '.';
	p = put_u64(p, a[2]);
	*p++ = '.';
	return put_u64(p, a[3]);
}

/*
 * RFC 5952 text of an IPv6 address: lower case, no leading zeros, the
 * longest run of two or more zero groups (the first of equal runs) as "::",
 * and IPv4-mapped addresses (::ffff:0:0/96) with a dotted tail (section 5).
 * This is inet_ntop()'s text without its sprintf per group, except that the
 * deprecated IPv4-compatible form (::1.2.3.4) stays hex (::102:304), as in
 * Python's ipaddress.
 */
static char *put_ipv6(char *p, const uint8_t *a)
{
	unsigned w[8], i, best = 8, best_len = 0, run = 0;

	for (i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i++) {
		run = w[i] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i + 1 - run;
		}
	}
	if (best_len < 2)
		best = 8;
	if (best == 0 && best_len == 5 && w[5] == 0xffff) {
		memcpy(p, "::ffff:", 7);
		return put_ipv4(p + 7, a + 12);
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			*p++ = ':';
		p = put_hex16(p, w[i]);
	}
	return p;
}

/*
 * An address field as text (see format.h).  Returns the end, or NULL when the
 * bytes are not an address of the record's family (the caller writes hex).
 */
static char *put_addr(char *p, const ProtobufCBinaryData *b, uint32_t family)
{
	static const uint8_t zero[12];

	if (b->len != 16)
		return NULL;
	if (family == AF_INET && !memcmp(b->data + 4, zero, sizeof(zero)))
		return put_ipv4(p, b->data);
	if (family == AF_INET6)
		return put_ipv6(p, b->data);
	return NULL;
}

static char *put_hex(char *p, const ProtobufCBinaryData *b)
{
	size_t i;

	if (!b->len)
		return p;
	*p++ = '0';
	*p++ = 'x';
	for (i = 0; i < b->len; i++) {
		*p++ = hex_digits[b->data[i] >> 4];
		*p++ = hex_digits[b->data[i] & 15];
	}
	return p;
}

/* The text of an address or bytes field (without quotes). */
static char *put_bytes(char *p, const ProtobufCBinaryData *b, enum xtcp_value_kind kind,
		       uint32_t family)
{
	char *q;

	if (kind == XTCP_VALUE_ADDR && (q = put_addr(p, b, family)))
		return q;
	return put_hex(p, b);
}

static const char *state_name(uint32_t v)
{
	return xtcp_tcp_state_known_name(v);
}

/* A state's name, or its number when the kernel has none. */
static char *put_state(char *p, uint32_t state)
{
	const char *name = state_name(state);

	return name ? put_str(p, name) : put_u64(p, state);
}

static const char *enum_name(const ProtobufCFieldDescriptor *f, uint32_t v)
{
	return xtcp_field_enum_name(xtcp_field_of(f), (int32_t)v);
}

#define MEMBER(rec, f, type) (*(type const *)((const char *)(rec) + (f)->desc->offset))

/*
 * The two value writers are inlined into the loops over the fields: a call
 * per field cost more than writing most values does.
 */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One value for CSV, TSV and text columns: numbers as digits, names, addresses. */
ALWAYS_INLINE char *put_plain(char *p, const struct xtcp_format_field *f,
			      const XtcpFlatRecord__V1__XtcpFlatRecord *rec,
			      enum xtcp_format_kind kind)
{
	const char *name;
	size_t width;

	switch (f->value) {
	case XTCP_VALUE_U32:
	case XTCP_VALUE_FAMILY:
		return put_u64(p, MEMBER(rec, f, uint32_t));
	case XTCP_VALUE_U64:
		return put_u64(p, MEMBER(rec, f, uint64_t));
	case XTCP_VALUE_I64:
		return put_i64(p, MEMBER(rec, f, int64_t));
	case XTCP_VALUE_STATE:
		return put_state(p, MEMBER(rec, f, uint32_t));
	case XTCP_VALUE_ENUM:
		name = enum_name(f->desc, MEMBER(rec, f, uint32_t));
		return name ? put_str(p, name) : put_i64(p, MEMBER(rec, f, int32_t));
	case XTCP_VALUE_STRING:
		if (kind == XTCP_FORMAT_CSV)
			return put_csv_string(p, MEMBER(rec, f, char *));
		if (kind == XTCP_FORMAT_TSV)
			return put_tsv_string(p, MEMBER(rec, f, char *));
		return put_text_string(p, MEMBER(rec, f, char *), &width);
	case XTCP_VALUE_ADDR:
	case XTCP_VALUE_BYTES:
		return put_bytes(p, &MEMBER(rec, f, ProtobufCBinaryData), f->value,
				 rec->inet_diag_msg_family);
	default:
		return p;
	}
}

ALWAYS_INLINE char *put_json_value(char *p, const struct xtcp_format_field *f,
				   const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const char *name;
	uint64_t u;
	int64_t i;

	switch (f->value) {
	case XTCP_VALUE_U32:
	case XTCP_VALUE_FAMILY:
		return put_u64(p, MEMBER(rec, f, uint32_t));
	case XTCP_VALUE_U64:
		u = MEMBER(rec, f, uint64_t);
		if (u <= EXACT_MAX)
			return put_u64(p, u);
		*p++ = '"';
		p = put_u64(p, u);
		*p++ = '"';
		return p;
	case XTCP_VALUE_I64:
		i = MEMBER(rec, f, int64_t);
		if (i <= (int64_t)EXACT_MAX && i >= -(int64_t)EXACT_MAX)
			return put_i64(p, i);
		*p++ = '"';
		p = put_i64(p, i);
		*p++ = '"';
		return p;
	case XTCP_VALUE_STATE:
		name = state_name(MEMBER(rec, f, uint32_t));
		break;
	case XTCP_VALUE_ENUM:
		name = enum_name(f->desc, MEMBER(rec, f, uint32_t));
		if (!name)
			return put_i64(p, MEMBER(rec, f, int32_t));
		break;
	case XTCP_VALUE_STRING:
		return put_json_string(p, MEMBER(rec, f, char *));
	case XTCP_VALUE_ADDR:
	case XTCP_VALUE_BYTES:
		*p++ = '"';
		p = put_bytes(p, &MEMBER(rec, f, ProtobufCBinaryData), f->value,
			      rec->inet_diag_msg_family);
		*p++ = '"';
		return p;
	default:
		return put_str(p, "null");
	}
	if (!name)
		return put_u64(p, MEMBER(rec, f, uint32_t));
	*p++ = '"';
	p = put_str(p, name);
	*p++ = '"';
	return p;
}

/* --- the human table ----------------------------------------------------- */

/*
 * Every column but the last has a fixed width, enough for any value of its
 * kind (the widest IPv6 address and port, the longest state name, a number
 * of any size); a value that still does not fit (a string, bytes that are
 * not an address) is cut to the width, ending in an ellipsis.  The
 * last column takes its value whole.  So each column starts at the same
 * place on every line of every frame, and a line is written as soon as its
 * record is read: no pass over the records first.
 */
struct line {
	char *p;
	size_t col;             /* columns on screen so far */
};

enum { AT_LEFT, AT_RIGHT };

#define ELLIPSIS "\xe2\x80\xa6"         /* U+2026, one column */
#define ELLIPSIS_LEN 3

/* The screen columns of UTF-8 text as put_text_string() writes it: one per code point. */
static size_t columns(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* The bytes of the first @n code points of @s[0..len). */
static size_t first_columns(const char *s, size_t len, size_t n)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n-- == 0)
			break;
	return i;
}

/*
 * The value just written at the end of the line (l->p[0..len)) goes into
 * the column that starts at @start and is @width wide (0: the last column,
 * as wide as its value): cut to the width if it is wider, then moved right
 * by the padding that aligns it.  The line's buffer has room for the
 * padding and ELLIPSIS_LEN bytes more than the value.
 */
static void cell(struct line *l, size_t len, size_t start, size_t width, int align)
{
	size_t cols = columns(l->p, len), at;

	if (width && cols > width) {
		len = first_columns(l->p, len, width - 1);
		memcpy(l->p + len, ELLIPSIS, ELLIPSIS_LEN);
		len += ELLIPSIS_LEN;
		cols = width;
	}
	at = align == AT_RIGHT && width > cols ? start + width - cols : start;
	if (l->col && at <= l->col)
		at = l->col + 1;        /* never glued to the value before */
	memmove(l->p + (at - l->col), l->p, len);
	memset(l->p, ' ', at - l->col);
	l->p += at - l->col + len;
	l->col = at + cols;
}

/* The widest state: a name, or a number the kernel has no name for. */
static size_t state_width(void)
{
	size_t w = 10, n;       /* UINT32_MAX */
	unsigned s;

	for (s = 0; s < XTCP_TCP_STATE_COUNT; s++) {
		const char *name = xtcp_tcp_state_known_name(s);

		if (name && (n = strlen(name)) > w)
			w = n;
	}
	return w;
}

/* 1234 -> "1.2k", 123456 -> "123k": SI steps of 1000 (as xtcp-filter's sizes), at most 5 bytes. */
static char *put_human_size(char *p, uint64_t v)
{
	static const char units[] = "kMGTPE";
	uint64_t unit = 1000, whole, tenths;
	unsigned u = 0;

	if (v < 1000)
		return put_u64(p, v);
	/* the unit in which the rounded value is below 1000 */
	for (;;) {
		whole = v / unit + (v % unit >= unit / 2);
		if (whole < 1000 || u == 5)
			break;
		unit *= 1000;
		u++;
	}
	tenths = v / (unit / 10) + (v % (unit / 10) >= unit / 20);
	if (tenths < 1000) {
		p = put_u64(p, tenths / 10);
		*p++ = '.';
		*p++ = (char)('0' + tenths % 10);
	} else {
		p = put_u64(p, whole);
	}
	*p++ = units[u];
	return p;
}

/* A count in @width columns: its digits when they fit, else as a size (12.3M). */
static char *put_count(char *p, uint64_t v, size_t width)
{
	char *q = put_u64(p, v);

	return (size_t)(q - p) <= width ? q : put_human_size(p, v);
}

/* Microseconds as milliseconds with three decimals ("12.345"); from 100 s on, whole ms. */
static char *put_ms(char *p, uint32_t us)
{
	p = put_u64(p, us / 1000);
	if (us >= 100000000)
		return p;
	*p++ = '.';
	memcpy(p, digit_pairs + (us % 1000 / 10) * 2, 2);
	p[2] = (char)('0' + us % 10);
	return p + 3;
}

/* address:port, IPv6 in brackets; * for a wildcard (or bytes that are no address) and port 0. */
static char *put_endpoint(char *p, const ProtobufCBinaryData *addr, uint32_t port, uint32_t family)
{
	char *q;

	if (family == AF_INET6)
		*p = '[';
	q = addr->len ? put_addr(p + (family == AF_INET6), addr, family) : NULL;
	if (!q) {
		*p = '*';
		p++;
	} else {
		p = q;
		if (family == AF_INET6)
			*p++ = ']';
	}
	*p++ = ':';
	if (port)
		return put_u64(p, port);
	*p++ = '*';
	return p;
}

/* A string for a person: control characters as '?'; "-" when empty. */
static char *put_text_cell(char *p, const char *s)
{
	size_t width;

	if (!*s) {
		*p++ = '-';
		return p;
	}
	return put_text_string(p, s, &width);
}

/*
 * The socket table.  Widths: LOCAL and PEER hold the widest IPv6 endpoint
 * ("[ffff:...:ffff]:65535", 47), STATE the longest state name, RTT(ms) any
 * RTT below 100 s with its decimals (whole ms above), CWND and RETRANS their
 * digits up to the width (then 12.3M), SENT and RECV a size (at most 5);
 * CONG the kernel's longest algorithm name (TCP_CA_NAME_MAX - 1); OWNER a
 * pid, a comm and a count of sharers (7 + 1 + 15 + 1), or "container:" and
 * twelve characters of the id (22), cut as any cell beyond that.  NETNS, the
 * one column no width bounds, comes last.
 */
enum {
	COL_STATE, COL_LOCAL, COL_PEER, COL_RTT, COL_CWND, COL_RETRANS, COL_SENT, COL_RECV,
	COL_CONG, COL_OWNER, COL_NETNS, TABLE_COLUMNS
};

struct table_column {
	const char *title;
	int align;
	size_t width;           /* 0: the last column */
};

static const struct table_column table[TABLE_COLUMNS] = {
	[COL_STATE] = { "STATE", AT_LEFT, 14 },
	[COL_LOCAL] = { "LOCAL", AT_LEFT, 47 },
	[COL_PEER] = { "PEER", AT_LEFT, 47 },
	[COL_RTT] = { "RTT(ms)", AT_RIGHT, 9 },
	[COL_CWND] = { "CWND", AT_RIGHT, 6 },
	[COL_RETRANS] = { "RETRANS", AT_RIGHT, 7 },
	[COL_SENT] = { "SENT", AT_RIGHT, 6 },
	[COL_RECV] = { "RECV", AT_RIGHT, 6 },
	[COL_CONG] = { "CONG", AT_LEFT, 15 },
	[COL_OWNER] = { "OWNER", AT_LEFT, 24 },
	[COL_NETNS] = { "NETNS", AT_LEFT, 0 },
};
#define TABLE_MAX 512           /* a table line without its strings */

/* A line of the table being written: the next column and where it starts. */
struct table_line {
	struct line l;
	unsigned i;
	size_t start;
};

/* The value written at t->l.p up to @end goes into the next column. */
static void table_cell(struct table_line *t, char *end)
{
	const struct table_column *c = &table[t->i++];

	cell(&t->l, (size_t)(end - t->l.p), t->start, c->width, c->align);
	t->start += c->width + 1;
}

/*
 * Who owns the socket, when the record says: a process as PID/COMM (+N when
 * N more hold it), else the container as container:ID (its first 12
 * characters, as docker shows ids), else "-".
 */
#define OWNER_MAX 64            /* the owner cell without its strings */

static char *put_owner(char *p, const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	char id[13];
	size_t width, n;

	if (rec->process_pid) {
		p = put_u64(p, rec->process_pid);
		*p++ = '/';
		p = put_text_string(p, rec->process_comm, &width);
		if (rec->process_count > 1) {
			*p++ = '+';
			p = put_u64(p, rec->process_count - 1);
		}
		return p;
	}
	if (!*rec->container_id)
		return put_str(p, "-");
	memcpy(p, "container:", 10);
	n = strnlen(rec->container_id, sizeof(id) - 1);
	memcpy(id, rec->container_id, n);
	id[n] = 0;
	return put_text_string(p + 10, id, &width);
}

static char *table_row(char *out, const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct table_line t = { { out, 0 }, 0, 0 };
	bool info = rec->tcp_info_snd_cwnd || rec->tcp_info_snd_mss || rec->tcp_info_rto;
	uint32_t family = rec->inet_diag_msg_family;

	/* a close event (xtcp-dump -E) is marked where a poll row has its state */
	table_cell(&t, rec->record_kind == XTCP_RECORD_KIND_CLOSE ?
		       put_str(put_state(t.l.p, rec->inet_diag_msg_state), " (event)") :
		       put_state(t.l.p, rec->inet_diag_msg_state));
	table_cell(&t, put_endpoint(t.l.p, &rec->inet_diag_msg_socket_source,
				    rec->inet_diag_msg_socket_source_port, family));
	table_cell(&t, put_endpoint(t.l.p, &rec->inet_diag_msg_socket_destination,
				    rec->inet_diag_msg_socket_destination_port, family));
	table_cell(&t, rec->tcp_info_rtt ? put_ms(t.l.p, rec->tcp_info_rtt) : put_str(t.l.p, "-"));
	if (info) {
		table_cell(&t, put_count(t.l.p, rec->tcp_info_snd_cwnd, table[COL_CWND].width));
		table_cell(&t, put_count(t.l.p, rec->tcp_info_total_retrans,
					 table[COL_RETRANS].width));
		table_cell(&t, put_human_size(t.l.p, rec->tcp_info_bytes_sent));
		table_cell(&t, put_human_size(t.l.p, rec->tcp_info_bytes_received));
	} else {
		while (t.i <= COL_RECV)
			table_cell(&t, put_str(t.l.p, "-"));
	}
	table_cell(&t, put_text_cell(t.l.p, rec->congestion_algorithm_string));
	table_cell(&t, put_owner(t.l.p, rec));
	table_cell(&t, put_text_cell(t.l.p, rec->netns));
	*t.l.p++ = '\n';
	return t.l.p;
}

static bool is_number(enum xtcp_value_kind kind)
{
	return kind == XTCP_VALUE_U32 || kind == XTCP_VALUE_U64 || kind == XTCP_VALUE_I64 ||
	       kind == XTCP_VALUE_FAMILY;
}

/* Text with a field list: one column per field, numbers right-aligned, the last one whole. */
static char *text_row(const struct xtcp_format *fmt, char *out,
		      const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct line l = { out, 0 };
	size_t i, start = 0;

	for (i = 0; i < fmt->n_fields; i++) {
		const struct xtcp_format_field *f = &fmt->fields[i];
		char *end = put_plain(l.p, f, rec, XTCP_FORMAT_TEXT);

		if (end == l.p)
			*end++ = '-';
		cell(&l, (size_t)(end - l.p), start, i + 1 < fmt->n_fields ? f->width : 0,
		     is_number(f->value) ? AT_RIGHT : AT_LEFT);
		start += f->width + 1;
	}
	*l.p++ = '\n';
	return l.p;
}

/* --- compiling ----------------------------------------------------------- */

/* The bound of a value's bytes, strings and bytes fields aside. */
static size_t value_max(const ProtobufCFieldDescriptor *f, enum xtcp_value_kind kind)
{
	const ProtobufCEnumDescriptor *ed;
	size_t max = 22, i;

	switch (kind) {
	case XTCP_VALUE_ENUM:
		ed = f->descriptor;
		for (i = 0; i < ed->n_values; i++)
			if (strlen(ed->values[i].name) + 2 > max)
				max = strlen(ed->values[i].name) + 2;
		return max;
	case XTCP_VALUE_STATE:
		return 32;
	case XTCP_VALUE_ADDR:
		return INET6_ADDRSTRLEN + 8;
	case XTCP_VALUE_STRING:
	case XTCP_VALUE_BYTES:
		return 8;
	default:
		return max;
	}
}

/*
 * A text column's width: its name's, or enough for any value of its kind,
 * whichever is more.  Strings and bytes have no bound: they get 16 columns
 * and are cut to them (but in the last column).
 */
static size_t text_width(const ProtobufCFieldDescriptor *f, enum xtcp_value_kind kind)
{
	const ProtobufCEnumDescriptor *ed;
	size_t w = strlen(f->name), min, i;

	switch (kind) {
	case XTCP_VALUE_U32:
	case XTCP_VALUE_FAMILY:
		min = 10;               /* 4294967295 */
		break;
	case XTCP_VALUE_U64:
	case XTCP_VALUE_I64:
		min = 20;               /* 18446744073709551615, -9223372036854775808 */
		break;
	case XTCP_VALUE_STATE:
		min = state_width();
		break;
	case XTCP_VALUE_ENUM:
		min = 11;               /* -2147483648 */
		ed = f->descriptor;
		for (i = 0; i < ed->n_values; i++)
			if (strlen(ed->values[i].name) > min)
				min = strlen(ed->values[i].name);
		break;
	case XTCP_VALUE_ADDR:
		min = 39;               /* ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff */
		break;
	case XTCP_VALUE_STRING:
	case XTCP_VALUE_BYTES:
		min = 16;
		break;
	default:
		min = 6;
	}
	return w > min ? w : min;
}

static int add_field(struct xtcp_format *fmt, const ProtobufCFieldDescriptor *desc, size_t cap)
{
	struct xtcp_format_field *f;

	if (fmt->n_fields == cap)
		return -1;
	f = &fmt->fields[fmt->n_fields++];
	f->desc = desc;
	f->value = xtcp_field_of(desc)->kind;
	f->width = (unsigned)text_width(desc, f->value);
	return 0;
}

static int parse_fields(struct xtcp_format *fmt, const char *list, const char **bad,
			size_t *bad_len)
{
	const ProtobufCMessageDescriptor *d = XTCP_RECORD_DESC;
	const char *p = list;
	size_t cap = d->n_fields, i;

	fmt->fields = calloc(cap, sizeof(*fmt->fields));
	if (!fmt->fields) {
		errno = ENOMEM;
		return -1;
	}
	if (!strcmp(list, "all")) {
		for (i = 0; i < d->n_fields; i++)
			add_field(fmt, &d->fields[i], cap);
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		const struct xtcp_field *field = xtcp_schema_find(p, len);
		const ProtobufCFieldDescriptor *f = field ? xtcp_field_desc(field) : NULL;

		*bad = p;
		*bad_len = len;
		if (!f) {
			errno = EINVAL;
			return -1;
		}
		for (i = 0; i < fmt->n_fields; i++) {
			if (fmt->fields[i].desc == f) {
				errno = EEXIST;
				return -1;
			}
		}
		add_field(fmt, f, cap);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int compile_keys(struct xtcp_format *fmt)
{
	size_t i, total = 0;
	char *p;

	for (i = 0; i < fmt->n_fields; i++)
		total += strlen(fmt->fields[i].desc->name) + 4;
	/* room to copy keys 16 bytes at a time (see copy_key) */
	fmt->keys = calloc(1, total + 16);
	if (!fmt->keys) {
		errno = ENOMEM;
		return -1;
	}
	p = fmt->keys;
	for (i = 0; i < fmt->n_fields; i++) {
		struct xtcp_format_field *f = &fmt->fields[i];

		f->key = p;
		if (i)
			*p++ = ',';
		*p++ = '"';
		p = put_str(p, f->desc->name);
		*p++ = '"';
		*p++ = ':';
		f->key_len = (size_t)(p - f->key);
	}
	return 0;
}

int xtcp_format_init(struct xtcp_format *fmt, enum xtcp_format_kind kind, const char *fields,
		     bool header, const char **bad, size_t *bad_len)
{
	const char *dummy;
	size_t dummy_len, i;

	memset(fmt, 0, sizeof(*fmt));
	fmt->kind = kind;
	fmt->header = header && kind != XTCP_FORMAT_JSON;
	if (!bad)
		bad = &dummy;
	if (!bad_len)
		bad_len = &dummy_len;
	if (!fields) {
		if (kind == XTCP_FORMAT_TEXT) {
			fmt->table = true;
			fmt->fixed_max = TABLE_MAX;
			return 0;
		}
		fields = kind == XTCP_FORMAT_JSON ? "all" : XTCP_FORMAT_DEFAULT_FIELDS;
	}
	if (parse_fields(fmt, fields, bad, bad_len) < 0 ||
	    (kind == XTCP_FORMAT_JSON && compile_keys(fmt) < 0)) {
		int e = errno;

		xtcp_format_release(fmt);
		errno = e;
		return -1;
	}
	fmt->var = malloc(fmt->n_fields * sizeof(*fmt->var) + 1);
	if (!fmt->var) {
		xtcp_format_release(fmt);
		errno = ENOMEM;
		return -1;
	}
	fmt->fixed_max = 4 + 16;
	for (i = 0; i < fmt->n_fields; i++) {
		const struct xtcp_format_field *f = &fmt->fields[i];

		fmt->fixed_max += f->key_len + 1 + value_max(f->desc, f->value);
		if (kind == XTCP_FORMAT_TEXT)
			fmt->fixed_max += 2 * (f->width + 1) + 64;
		if (f->value == XTCP_VALUE_STRING || f->value == XTCP_VALUE_ADDR ||
		    f->value == XTCP_VALUE_BYTES)
			fmt->var[fmt->n_var++] = f;
	}
	return 0;
}

void xtcp_format_release(struct xtcp_format *fmt)
{
	free(fmt->fields);
	free(fmt->keys);
	free(fmt->var);
	fmt->fields = NULL;
	fmt->keys = NULL;
	fmt->var = NULL;
	fmt->n_fields = fmt->n_var = 0;
}

/* --- one value -------------------------------------------------------------- */

size_t xtcp_format_value_max(const struct xtcp_field *field,
			     const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct xtcp_format_field f = { xtcp_field_desc(field), field->kind, 0, NULL, 0 };
	size_t max = value_max(f.desc, f.value) + 2;

	if (f.value == XTCP_VALUE_STRING)
		max += STRING_EXPANSION * strlen(MEMBER(rec, &f, char *));
	else if (f.value == XTCP_VALUE_ADDR || f.value == XTCP_VALUE_BYTES)
		max += 2 * MEMBER(rec, &f, ProtobufCBinaryData).len;
	return max;
}

size_t xtcp_format_label_value(const struct xtcp_field *field,
			       const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out)
{
	struct xtcp_format_field f = { xtcp_field_desc(field), field->kind, 0, NULL, 0 };

	if (f.value == XTCP_VALUE_STRING)
		return (size_t)(put_label_string(out, MEMBER(rec, &f, char *)) - out);
	return (size_t)(put_plain(out, &f, rec, XTCP_FORMAT_TEXT) - out);
}

size_t xtcp_format_value(enum xtcp_format_kind kind, const struct xtcp_field *field,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out)
{
	struct xtcp_format_field f = { xtcp_field_desc(field), field->kind, 0, NULL, 0 };

	if (kind == XTCP_FORMAT_JSON)
		return (size_t)(put_json_value(out, &f, rec) - out);
	return (size_t)(put_plain(out, &f, rec, kind) - out);
}

/* --- writing -------------------------------------------------------------- */

size_t xtcp_format_record_max(const struct xtcp_format *fmt,
			      const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	size_t max = fmt->fixed_max, i;

	if (fmt->table)
		return max + OWNER_MAX + STRING_EXPANSION * (strlen(rec->netns) +
						 strlen(rec->congestion_algorithm_string) +
						 strlen(rec->process_comm) + 12);
	/* only the fields whose values have no bound of their own, and no call for "" */
	for (i = 0; i < fmt->n_var; i++) {
		const struct xtcp_format_field *f = fmt->var[i];

		if (f->value == XTCP_VALUE_STRING) {
			const char *str = MEMBER(rec, f, char *);

			if (str[0])
				max += STRING_EXPANSION * strlen(str);
		} else {
			max += 2 * MEMBER(rec, f, ProtobufCBinaryData).len;
		}
	}
	return max;
}

/*
 * Keys are short and of many lengths: whole 16-byte blocks copy faster than
 * a memcpy call of the exact length.  The key storage and the line's bound
 * have 16 bytes of slack for it; what lands past the key is overwritten.
 */
static inline void copy_key(char *p, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 16)
		memcpy(p + i, key + i, 16);
}

size_t xtcp_format_record(const struct xtcp_format *fmt,
			  const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out)
{
	char *p = out;
	size_t i;

	switch (fmt->kind) {
	case XTCP_FORMAT_JSON:
		*p++ = '{';
		for (i = 0; i < fmt->n_fields; i++) {
			copy_key(p, fmt->fields[i].key, fmt->fields[i].key_len);
			p = put_json_value(p + fmt->fields[i].key_len, &fmt->fields[i], rec);
		}
		*p++ = '}';
		*p++ = '\n';
		break;
	case XTCP_FORMAT_CSV:
	case XTCP_FORMAT_TSV:
		for (i = 0; i < fmt->n_fields; i++) {
			if (i)
				*p++ = fmt->kind == XTCP_FORMAT_CSV ? ',' : '\t';
			p = put_plain(p, &fmt->fields[i], rec, fmt->kind);
		}
		*p++ = '\n';
		break;
	case XTCP_FORMAT_TEXT:
		p = fmt->table ? table_row(p, rec) : text_row(fmt, p, rec);
		break;
	}
	return (size_t)(p - out);
}

size_t xtcp_format_header_max(const struct xtcp_format *fmt)
{
	size_t max = TABLE_MAX, i;

	for (i = 0; i < fmt->n_fields; i++)
		max += strlen(fmt->fields[i].desc->name) + fmt->fields[i].width + 2;
	return max;
}

size_t xtcp_format_header(const struct xtcp_format *fmt, char *out)
{
	struct table_line t = { { out, 0 }, 0, 0 };
	size_t i, start = 0;

	if (!fmt->header)
		return 0;
	if (fmt->table) {
		while (t.i < TABLE_COLUMNS)
			table_cell(&t, put_str(t.l.p, table[t.i].title));
	} else if (fmt->kind == XTCP_FORMAT_TEXT) {
		for (i = 0; i < fmt->n_fields; i++) {
			const struct xtcp_format_field *f = &fmt->fields[i];

			cell(&t.l, (size_t)(put_str(t.l.p, f->desc->name) - t.l.p), start,
			     f->width, is_number(f->value) ? AT_RIGHT : AT_LEFT);
			start += f->width + 1;
		}
	} else {
		for (i = 0; i < fmt->n_fields; i++) {
			if (i)
				*t.l.p++ = fmt->kind == XTCP_FORMAT_CSV ? ',' : '\t';
			t.l.p = put_str(t.l.p, fmt->fields[i].desc->name);
		}
	}
	*t.l.p++ = '\n';
	return (size_t)(t.l.p - out);
}

static int write_line(struct xtcp_output *out, size_t max,
		      size_t (*render)(const struct xtcp_format *, const void *, char *),
		      const struct xtcp_format *fmt, const void *arg)
{
	char *tmp;
	int rc;

	if (out->error) {
		errno = out->error;
		return -1;
	}
	if (out->cap - out->len < max) {
		if (xtcp_output_flush(out) < 0)
			return -1;
		if (out->cap < max) {
			/* a line larger than the whole buffer: render aside */
			tmp = malloc(max);
			if (!tmp) {
				errno = ENOMEM;
				return -1;
			}
			rc = xtcp_output_write(out, tmp, render(fmt, arg, tmp));
			free(tmp);
			return rc;
		}
	}
	out->len += render(fmt, arg, (char *)out->buf + out->len);
	return 0;
}

static size_t render_record(const struct xtcp_format *fmt, const void *rec, char *out)
{
	return xtcp_format_record(fmt, rec, out);
}

static size_t render_header(const struct xtcp_format *fmt, const void *unused, char *out)
{
	return xtcp_format_header(fmt, out);
}

int xtcp_format_write(const struct xtcp_format *fmt,
		      const XtcpFlatRecord__V1__XtcpFlatRecord *rec, struct xtcp_output *out)
{
	return write_line(out, xtcp_format_record_max(fmt, rec), render_record, fmt, rec);
}

int xtcp_format_write_header(const struct xtcp_format *fmt, struct xtcp_output *out)
{
	if (!fmt->header)
		return 0;
	return write_line(out, xtcp_format_header_max(fmt), render_header, fmt, NULL);
}

int xtcp_format_write_poll(const struct xtcp_format *fmt, struct xtcp_poll *poll,
			   const XtcpFlatRecord__V1__XtcpFlatRecord *rec, struct xtcp_output *out)
{
	char line[96], when[40] = "";
	time_t secs = (time_t)(rec->timestamp_ns / 1000000000);
	struct tm tm;
	int n;

	/* close events come between polls: under the line of the poll they follow */
	if (fmt->kind != XTCP_FORMAT_TEXT || rec->record_kind == XTCP_RECORD_KIND_CLOSE ||
	    !xtcp_poll_next(poll, rec->poll_sequence, rec->timestamp_ns) || poll->count == 1)
		return 0;
	if (rec->timestamp_ns > 0 && gmtime_r(&secs, &tm))
		snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(rec->timestamp_ns / 1000000 % 1000));
	if (rec->poll_sequence)
		n = snprintf(line, sizeof(line), "--- poll %llu%s%s ---\n",
			     (unsigned long long)rec->poll_sequence, when[0] ? ", " : "", when);
	else
		n = snprintf(line, sizeof(line), "---%s%s ---\n", when[0] ? " " : "", when);
	return xtcp_output_write(out, line, (size_t)n);
}
