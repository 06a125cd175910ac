/*
 * The filter language: a recursive-descent parser that compiles straight to
 * a flat array of nodes, and an evaluator over a small array of field values
 * ("slots") loaded either from a row's wire bytes or from a decoded record.
 *
 * Numeric comparisons compile to one closed range [lo, hi] in the field's own
 * unit (time constants are converted with floor/ceil, so "rtt > 1.5ms" and
 * "last_data_sent < 500us" are exact), so a row costs one subtraction and
 * one compare per clause.  Signed fields are stored with the sign bit
 * flipped, so every range test is unsigned.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <net/if.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sys/socket.h>

#include "alloc.h"
#include "filter.h"
#include "format.h"
#include "parse.h"
#include "schema.h"
#include "tcp.h"
#include "wire.h"

#define SIGN_BIT (1ull << 63)
#define MAX_DEPTH 200
#define TABLE_UNKNOWN 0xfu

enum node_kind {
	N_AND, N_OR, N_NOT, N_CONST, N_RANGE, N_MASK, N_NONZERO, N_NONEMPTY,
	N_STR, N_REGEX, N_PREFIX, N_BITS,
};

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

/* How a slot's raw value is normalised. */
enum norm { S_U32, S_U64, S_I64, S_I32, S_STR, S_BYTES };

struct node {
	uint8_t kind;
	uint8_t cmp;
	uint16_t slot;
	uint16_t slot2;          /* N_PREFIX: the family slot */
	uint32_t a;              /* kids offset, child, string offset, regex or prefix index */
	uint32_t n;              /* kids count, string length */
	uint64_t lo;             /* N_RANGE: lo; N_MASK, N_BITS: mask; N_NONZERO: the zero key; N_CONST */
	uint64_t span;           /* N_RANGE: hi - lo; N_BITS: the value of the masked bits */
};

struct prefix {
	uint8_t v4;
	uint8_t bits;
	uint8_t addr[16];
};

/* Where a node's text is in the expression (for xtcp_filter_term). */
struct span {
	uint32_t start, len;
};

struct val {
	uint64_t v;
	const uint8_t *p;
	size_t len;
};

struct xtcp_filter {
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct span *spans;
	size_t cap_spans;
	uint32_t *kids;
	size_t n_kids, cap_kids;
	char *pool;
	size_t pool_len, pool_cap;
	struct prefix *prefixes;
	size_t n_prefixes, cap_prefixes;
	pcre2_code **regexes;
	size_t n_regexes, cap_regexes;
	pcre2_compile_context *regex_compile;
	pcre2_match_context *regex_limits;
	pcre2_match_data *regex_match;  /* one for every regex: matching allocates nothing */
	bool regex_over_limit;          /* the last row went over a limit: an error */
	uint32_t root;

	size_t n_slots;
	const ProtobufCFieldDescriptor **slot_desc;
	uint8_t *slot_norm;
	struct val *vals;
	/*
	 * By field number: (slot + 1) << 4 (0: not read) | the wire type of a
	 * known field (0xf: unknown field, any wire type).
	 */
	uint16_t *table;
	size_t table_n;
	uint64_t last_number;    /* the highest field number the expression reads */
	bool strict;
};

/* --- building -------------------------------------------------------------------- */

/* --- the lexer --------------------------------------------------------------------- */

enum tok {
	T_END, T_LP, T_RP, T_COMMA, T_AND, T_OR, T_NOT, T_CMP, T_MATCH, T_NMATCH, T_IN,
	T_STRING, T_WORD, T_BAD,
};

struct parser {
	struct xtcp_filter *f;
	struct xtcp_filter_error *err;
	const char *src;
	const char *p;
	/* the current token */
	enum tok tok;
	enum cmp cmp;
	const char *start;
	size_t len;
	const char *prev_end; /* the end of the token before the current one */
	const char *text;     /* T_STRING: the contents without quotes */
	size_t text_len;
	int depth;
	bool failed;
	bool nomem;
	const char *ss_at;    /* the first construct only ss's syntax has ('=', ':22', A B, ...) */
	const char *mix_at;   /* the first 'or' followed by an unparenthesised 'and' */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return -1;
	ps->failed = true;
	ps->err->column = (size_t)(at - ps->src) + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct parser *ps)
{
	ps->nomem = true;
	return fail(ps, ps->p, "out of memory");
}

static bool word_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '/' || c == '-' || c == '+' ||
	       c == '[' || c == ']' || c == '*';
}

static bool is_kw(const struct parser *ps, const char *kw)
{
	return ps->len == strlen(kw) && !memcmp(ps->start, kw, ps->len);
}

static void ss_syntax(struct parser *ps, const char *at)
{
	if (!ps->ss_at)
		ps->ss_at = at;
}

static void next(struct parser *ps)
{
	const char *p = ps->p;

	ps->prev_end = ps->start ? ps->start + ps->len : ps->src;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	ps->start = p;
	ps->len = 1;
	switch (*p) {
	case '\0':
		ps->tok = T_END;
		ps->len = 0;
		break;
	case '(':
		ps->tok = T_LP;
		p++;
		break;
	case ')':
		ps->tok = T_RP;
		p++;
		break;
	case ',':
		ps->tok = T_COMMA;
		p++;
		break;
	case '&':
	case '|':
		/* ss takes a single '&' or '|' too */
		ps->tok = *p == '&' ? T_AND : T_OR;
		if (p[1] == p[0]) {
			ps->len = 2;
			p += 2;
		} else {
			ss_syntax(ps, p);
			p++;
		}
		break;
	case '!':
		if (p[1] == '=') {
			ps->tok = T_CMP, ps->cmp = C_NE, ps->len = 2, p += 2;
		} else if (p[1] == '~') {
			ps->tok = T_NMATCH, ps->len = 2, p += 2;
		} else {
			ps->tok = T_NOT, p++;
		}
		break;
	case '=':
		ps->tok = T_CMP, ps->cmp = C_EQ;
		if (p[1] == '=') {
			ps->len = 2, p += 2;
		} else {
			ss_syntax(ps, p);
			p++;
		}
		break;
	case '<':
	case '>':
		ps->tok = T_CMP;
		if (p[1] == '=') {
			ps->cmp = *p == '<' ? C_LE : C_GE;
			ps->len = 2;
			p += 2;
		} else {
			ps->cmp = *p == '<' ? C_LT : C_GT;
			p++;
		}
		break;
	case '~':
		ps->tok = T_MATCH;
		p++;
		break;
	case '"':
	case '\'': {
		const char *q = strchr(p + 1, *p);

		if (!q) {
			ps->tok = T_BAD;
			fail(ps, p, "unterminated string");
			break;
		}
		ps->tok = T_STRING;
		ps->text = p + 1;
		ps->text_len = (size_t)(q - p - 1);
		ps->len = (size_t)(q - p + 1);
		p = q + 1;
		break;
	}
	default:
		if (!word_char((unsigned char)*p)) {
			ps->tok = T_BAD;
			if ((unsigned char)*p >= 0x21 && (unsigned char)*p < 0x7f)
				fail(ps, p, "unexpected character '%c'", *p);
			else
				fail(ps, p, "unexpected byte 0x%02x", (unsigned char)*p);
			break;
		}
		while (word_char((unsigned char)*p))
			p++;
		ps->len = (size_t)(p - ps->start);
		ps->tok = T_WORD;
		if (is_kw(ps, "and"))
			ps->tok = T_AND;
		else if (is_kw(ps, "or"))
			ps->tok = T_OR;
		else if (is_kw(ps, "not"))
			ps->tok = T_NOT;
		else if (is_kw(ps, "in"))
			ps->tok = T_IN;
		break;
	}
	ps->p = p;
}

/* How the current token reads in a message. */
static const char *tok_desc(const struct parser *ps, char *buf, size_t size)
{
	if (ps->tok == T_END)
		return "the end of the expression";
	snprintf(buf, size, "'%.*s'", (int)(ps->len > 40 ? 40 : ps->len), ps->start);
	return buf;
}

/* --- nodes ---------------------------------------------------------------------------- */

static int add_node(struct parser *ps, const struct node *n)
{
	struct xtcp_filter *f = ps->f;

	if (XTCP_ALLOC_GROW(f->nodes, f->n_nodes + 1, f->cap_nodes) < 0 ||
	    XTCP_ALLOC_GROW(f->spans, f->n_nodes + 1, f->cap_spans) < 0)
		return oom(ps);
	f->nodes[f->n_nodes] = *n;
	f->spans[f->n_nodes].start = (uint32_t)(ps->start - ps->src);
	f->spans[f->n_nodes].len = 0;
	return (int)f->n_nodes++;
}

/* Node @idx is the text from @from to the end of the last token read. */
static int spans(struct parser *ps, int idx, const char *from)
{
	if (idx >= 0 && ps->prev_end > from) {
		ps->f->spans[idx].start = (uint32_t)(from - ps->src);
		ps->f->spans[idx].len = (uint32_t)(ps->prev_end - from);
	}
	return idx;
}

static int add_const(struct parser *ps, bool v)
{
	struct node n = { .kind = N_CONST, .lo = v };

	return add_node(ps, &n);
}

static int add_not(struct parser *ps, int child)
{
	struct node n = { .kind = N_NOT, .a = (uint32_t)child };

	return child < 0 ? -1 : add_node(ps, &n);
}

/*
 * Append @idx to a parse-time list that starts in the caller's stack buffer
 * @items_buf and moves to the heap when it outgrows it.  Returns 0 or -1
 * (ENOMEM; the list is unchanged).
 */
static int push_item(int **items, int *items_buf, size_t *n, size_t *cap, int idx)
{
	if (*n == *cap) {
		int *p = malloc(2 * *cap * sizeof(*p));

		if (!p)
			return -1;
		memcpy(p, *items, *n * sizeof(*p));
		if (*items != items_buf)
			free(*items);
		*items = p;
		*cap *= 2;
	}
	(*items)[(*n)++] = idx;
	return 0;
}

static int add_list(struct parser *ps, enum node_kind kind, const int *items, size_t n_items)
{
	struct xtcp_filter *f = ps->f;
	struct node n = { .kind = (uint8_t)kind, .a = (uint32_t)f->n_kids, .n = (uint32_t)n_items };
	size_t i;

	if (n_items == 1)
		return items[0];
	if (XTCP_ALLOC_GROW(f->kids, f->n_kids + n_items, f->cap_kids) < 0)
		return oom(ps);
	for (i = 0; i < n_items; i++)
		f->kids[f->n_kids++] = (uint32_t)items[i];
	return add_node(ps, &n);
}

static int slot_for(struct parser *ps, const ProtobufCFieldDescriptor *fd)
{
	struct xtcp_filter *f = ps->f;
	size_t i;

	for (i = 0; i < f->n_slots; i++)
		if (f->slot_desc[i] == fd)
			return (int)i;
	f->slot_desc[i] = fd;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		f->slot_norm[i] = S_U32;
		break;
	case PROTOBUF_C_TYPE_INT64:
		f->slot_norm[i] = S_I64;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		f->slot_norm[i] = S_I32;
		break;
	case PROTOBUF_C_TYPE_STRING:
		f->slot_norm[i] = S_STR;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		f->slot_norm[i] = S_BYTES;
		break;
	default:
		f->slot_norm[i] = S_U64;
		break;
	}
	f->table[fd->id] = (uint16_t)((f->table[fd->id] & 0xf) | (i + 1) << 4);
	if (fd->id > f->last_number)
		f->last_number = fd->id;
	f->n_slots++;
	return (int)i;
}

/* --- values ------------------------------------------------------------------------------ */

/* A field being tested: its descriptor, kind, and how the user named it. */
struct target {
	const ProtobufCFieldDescriptor *fd;
	enum xtcp_value_kind kind;
	const char *word;
	size_t word_len;
	char label[200];     /* "'rtt' (tcp_info_rtt)" or "'tcp_info_rtt'" */
	int slot;
	uint64_t unit_ns;
};

static bool is_signed(const struct target *t)
{
	return t->fd->type == PROTOBUF_C_TYPE_INT64 || t->fd->type == PROTOBUF_C_TYPE_ENUM;
}

typedef __int128 i128;

static i128 floor_div(i128 n, i128 d)
{
	i128 q = n / d;

	if (n % d != 0 && n < 0)
		q--;
	return q;
}

/*
 * Parse a number with its unit into num/den in the field's unit.  Returns 0,
 * or -1 after reporting.
 */
static int parse_number(struct parser *ps, const struct target *t, const char *s, size_t len,
			i128 *num, i128 *den)
{
	struct xtcp_number n;

	if (memchr(s, ':', len) || memchr(s, '/', len) ||
	    (memchr(s, '.', len) && memchr(s, '.', len) != memrchr(s, '.', len)))
		return fail(ps, s, "'%.*s' is not a number (addresses go with src or dst)",
			    (int)len, s);
	switch (-xtcp_number_parse(s, len, &n)) {
	case 0:
		break;
	case XTCP_NUMBER_TOO_LARGE:
		return fail(ps, s, "number '%.*s' is too large", (int)len, s);
	case XTCP_NUMBER_UNIT:
		return fail(ps, n.unit, "unknown unit '%.*s' in '%.*s' (units: %s)", (int)n.unit_len,
			    n.unit, (int)len, s, xtcp_number_units);
	default:
		return fail(ps, s, "'%.*s' is not a number", (int)len, s);
	}
	if (n.unit_class == XTCP_UNIT_TIME) {
		if (!t->unit_ns)
			return fail(ps, n.unit, "'%.*s' is a time unit but %s is not a time",
				    (int)n.unit_len, n.unit, t->label);
		/* value in ns = num * factor / den; in the field's unit, divide by unit_ns */
		*num = (i128)(n.num * n.factor);
		*den = (i128)(n.den * t->unit_ns);
	} else {
		*num = (i128)(n.num * n.factor);
		*den = (i128)n.den;
	}
	if (n.neg)
		*num = -*num;
	/* beyond 64 bits is never a field's value: say so rather than wrap */
	if (*num / *den > (i128)UINT64_MAX || *num / *den < -(i128)UINT64_MAX)
		return fail(ps, s, "number '%.*s' is too large", (int)len, s);
	return 0;
}

/* A numeric comparison: field CMP num/den, compiled to a range. */
static int add_range(struct parser *ps, const struct target *t, enum cmp cmp, i128 num, i128 den)
{
	i128 lo, hi, fl = floor_div(num, den), ce = -floor_div(-num, den);
	i128 dmin = 0, dmax;
	struct node n = { .kind = N_RANGE, .slot = (uint16_t)t->slot };
	int idx;

	switch (t->fd->type) {
	case PROTOBUF_C_TYPE_UINT32:
		dmax = UINT32_MAX;
		break;
	case PROTOBUF_C_TYPE_INT64:
		dmin = INT64_MIN, dmax = INT64_MAX;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		dmin = INT32_MIN, dmax = INT32_MAX;
		break;
	default:
		dmax = UINT64_MAX;
		break;
	}
	lo = dmin, hi = dmax;
	switch (cmp) {
	case C_EQ:
	case C_NE:
		if (fl != ce)
			lo = 1, hi = 0;     /* not a whole number of the field's unit: never equal */
		else
			lo = hi = fl;
		break;
	case C_LT:
		hi = ce - 1;
		break;
	case C_LE:
		hi = fl;
		break;
	case C_GT:
		lo = fl + 1;
		break;
	case C_GE:
		lo = ce;
		break;
	}
	if (lo < dmin)
		lo = dmin;
	if (hi > dmax)
		hi = dmax;
	if (lo > hi) {
		idx = add_const(ps, false);
	} else {
		uint64_t l = (uint64_t)(int64_t)lo, h = (uint64_t)(int64_t)hi;

		if (!is_signed(t))
			l = (uint64_t)lo, h = (uint64_t)hi;
		else
			l ^= SIGN_BIT, h ^= SIGN_BIT;
		n.lo = l;
		n.span = h - l;
		idx = add_node(ps, &n);
	}
	return cmp == C_NE ? add_not(ps, idx) : idx;
}

/* The descriptor of the schema field @name (one the ss forms need). */
static const ProtobufCFieldDescriptor *field_named(const char *name)
{
	return xtcp_field_desc(xtcp_schema_find(name, strlen(name)));
}

static bool is_field(const struct target *t, const char *name)
{
	return !strcmp(t->fd->name, name);
}

static bool is_port_field(const struct target *t)
{
	return is_field(t, "inet_diag_msg_socket_source_port") ||
	       is_field(t, "inet_diag_msg_socket_destination_port");
}

static bool is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * A port as ss writes one after its ':': a number from 0 to 65535, a
 * service name of /etc/services ("https", looked up for tcp), or '*' (or
 * nothing) for any port.  Returns 1 for any, 0 with *port set, or -1 after
 * reporting.
 */
static int port_value(struct parser *ps, const char *w, size_t len, uint32_t *port)
{
	char name[64];
	uint64_t v;

	if (len == 0 || (len == 1 && *w == '*'))
		return 1;
	if (len >= sizeof(name))
		return fail(ps, w, "bad port '%.*s'", (int)len, w);
	memcpy(name, w, len);
	name[len] = '\0';
	if (!is_letter((unsigned char)*w)) {
		if (xtcp_parse_u64(name, 0, UINT64_MAX, &v) < 0)
			return fail(ps, w, "bad port '%.*s'", (int)len, w);
		if (v > 65535)
			return fail(ps, w, "port '%.*s' is out of range (0 to 65535)", (int)len, w);
		*port = (uint32_t)v;
		return 0;
	}
	if (xtcp_service_port(XTCP_SERVICES, name, "tcp", port) < 0)
		return fail(ps, w, "unknown service '%.*s' (not a port number nor a tcp service "
			    "of " XTCP_SERVICES ")", (int)len, w);
	return 0;
}

/*
 * ss's forms of a value: a port ":22", ":https", "https" or "*" of sport
 * and dport, an interface name of dev, a "mark/mask" of fwmark.  Returns
 * the node, -1 after reporting, or -2 when the value is none of these.
 */
static int ss_value(struct parser *ps, const struct target *t, enum cmp cmp, const char *op_at,
		    const char *opname)
{
	const char *w = ps->start, *slash;
	size_t len = ps->len;
	uint32_t port;
	int r, idx;

	if (is_port_field(t) && (*w == ':' || *w == '*' || is_letter((unsigned char)*w))) {
		r = port_value(ps, w + (*w == ':'), len - (*w == ':'), &port);
		if (r < 0)
			return -1;
		ss_syntax(ps, w);
		next(ps);
		if (r == 0)
			return add_range(ps, t, cmp, port, 1);
		if (cmp != C_EQ && cmp != C_NE)
			return fail(ps, op_at, "'%s' does not apply to any port ('*')", opname);
		idx = add_const(ps, true);
		return cmp == C_NE ? add_not(ps, idx) : idx;
	}
	if (is_field(t, "inet_diag_msg_socket_interface") && is_letter((unsigned char)*w)) {
		char name[IF_NAMESIZE];
		unsigned ifindex = 0;

		if (len < sizeof(name)) {
			memcpy(name, w, len);
			name[len] = '\0';
			ifindex = if_nametoindex(name);
		}
		if (!ifindex)
			return fail(ps, w, "unknown interface '%.*s'", (int)len, w);
		next(ps);
		return add_range(ps, t, cmp, ifindex, 1);
	}
	slash = memchr(w, '/', len);
	if (is_field(t, "socket_mark") && slash) {
		struct node n = { .kind = N_BITS, .slot = (uint16_t)t->slot };
		i128 mark, mark_den, mask, mask_den;

		if (cmp != C_EQ && cmp != C_NE)
			return fail(ps, op_at, "'%s' does not apply to a mark/mask; use ==, != or in",
				    opname);
		if (parse_number(ps, t, w, (size_t)(slash - w), &mark, &mark_den) < 0 ||
		    parse_number(ps, t, slash + 1, len - (size_t)(slash - w) - 1, &mask,
				 &mask_den) < 0)
			return -1;
		if (mark_den != 1 || mask_den != 1 || mark < 0 || mask < 0 || mark > UINT32_MAX ||
		    mask > UINT32_MAX)
			return fail(ps, w, "bad mark/mask '%.*s' (two numbers of 32 bits)", (int)len, w);
		n.lo = (uint64_t)mask;
		n.span = (uint64_t)mark;
		next(ps);
		idx = add_node(ps, &n);
		return cmp == C_NE ? add_not(ps, idx) : idx;
	}
	return -2;
}

/* A word naming a value of a state, family or enum field; 1 when it did (*out set), 0 if not a name. */
static int named_value(struct parser *ps, const struct target *t, const char *w, size_t len,
		       i128 *out, uint32_t *mask)
{
	if ((w[0] >= '0' && w[0] <= '9') || w[0] == '-' || w[0] == '+' || w[0] == '.')
		return 0;
	if (t->kind == XTCP_VALUE_STATE) {
		if (memchr(w, ',', len) || xtcp_tcp_state_word(w, len, mask) < 0)
			return fail(ps, w, "unknown state '%.*s' (states: ESTABLISHED SYN_SENT "
				    "SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK "
				    "LISTEN CLOSING NEW_SYN_RECV, or ss's names)", (int)len, w);
		return 1;
	}
	if (t->kind == XTCP_VALUE_FAMILY) {
		int family = xtcp_family_parse(w, len);

		if (family < 0)
			return fail(ps, w, "unknown family '%.*s' (AF_INET, AF_INET6, inet, inet6, "
				    "ipv4, ipv6)", (int)len, w);
		*out = family;
		return 1;
	}
	if (t->kind == XTCP_VALUE_ENUM) {
		int32_t value;

		/* CONGESTION_ALGORITHM_CUBIC, or CUBIC */
		if (xtcp_field_enum_value(xtcp_field_of(t->fd), w, len, &value) < 0)
			return fail(ps, w, "unknown value '%.*s' of %s", (int)len, w, t->label);
		*out = value;
		return 1;
	}
	return 0;
}

/* field CMP value, for the numeric kinds (numbers, states, families, enums). */
static int compile_numeric(struct parser *ps, const struct target *t, enum cmp cmp,
			   const char *op_at, const char *opname)
{
	const char *w = ps->start;
	size_t len = ps->len;
	i128 num, den = 1;
	uint32_t mask = 0;
	int r;

	if (ps->tok == T_STRING)
		return fail(ps, ps->start, "%s is a number; %.*s is a string", t->label,
			    (int)ps->len, ps->start);
	if (ps->tok != T_WORD) {
		char buf[64];

		return fail(ps, ps->start, "expected a value after '%s', found %s", opname,
			    tok_desc(ps, buf, sizeof(buf)));
	}
	r = ss_value(ps, t, cmp, op_at, opname);
	if (r != -2)
		return r;
	r = named_value(ps, t, w, len, &num, &mask);
	if (r < 0)
		return -1;
	if (r == 1 && t->kind == XTCP_VALUE_STATE) {
		struct node n = { .kind = N_MASK, .slot = (uint16_t)t->slot, .lo = mask };
		int idx;

		if (cmp != C_EQ && cmp != C_NE)
			return fail(ps, op_at, "'%s' does not apply to state names; use "
				    "==, != or in", opname);
		next(ps);
		idx = add_node(ps, &n);
		return cmp == C_NE ? add_not(ps, idx) : idx;
	}
	if (r == 0 && parse_number(ps, t, w, len, &num, &den) < 0)
		return -1;
	next(ps);
	return add_range(ps, t, cmp, num, den);
}

/* An address or prefix; with @quiet, -1 without reporting when it is not one. */
static int parse_addr(struct parser *ps, const char *w, size_t len, struct prefix *pf, bool quiet)
{
	char buf[64];
	const char *slash = memchr(w, '/', len);
	size_t alen = slash ? (size_t)(slash - w) : len;
	unsigned long bits;
	char *e;

	memset(pf, 0, sizeof(*pf));
	if (alen >= sizeof(buf))
		return quiet ? -1 : fail(ps, w, "bad address '%.*s'", (int)len, w);
	memcpy(buf, w, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, pf->addr) == 1) {
		pf->v4 = 1;
		pf->bits = 32;
	} else if (inet_pton(AF_INET6, buf, pf->addr) == 1) {
		pf->bits = 128;
	} else {
		return quiet ? -1 : fail(ps, w, "bad address '%.*s'", (int)alen, w);
	}
	if (slash) {
		size_t blen = len - alen - 1;

		memcpy(buf, slash + 1, blen < sizeof(buf) ? blen : sizeof(buf) - 1);
		buf[blen < sizeof(buf) ? blen : sizeof(buf) - 1] = '\0';
		errno = 0;
		bits = strtoul(buf, &e, 10);
		if (!blen || *e || buf[0] < '0' || buf[0] > '9' || bits > pf->bits || errno)
			return quiet ? -1 : fail(ps, slash + 1, "bad prefix length '/%.*s' in '%.*s' (want 0 to %u)",
				    (int)blen, slash + 1, (int)len, w, pf->bits);
		pf->bits = (uint8_t)bits;
	}
	return 0;
}

static int add_prefix(struct parser *ps, struct node *n, const struct prefix *pf)
{
	struct xtcp_filter *f = ps->f;

	if (XTCP_ALLOC_GROW(f->prefixes, f->n_prefixes + 1, f->cap_prefixes) < 0)
		return oom(ps);
	f->prefixes[f->n_prefixes] = *pf;
	n->a = (uint32_t)f->n_prefixes++;
	return add_node(ps, n);
}

/*
 * Split ss's host[:port] forms: "[ADDR]:PORT", "[ADDR]", "*:PORT", "*",
 * ":PORT", "ADDR:PORT" (an IPv4 address or prefix: the port follows the
 * last ':', after the '/' if there is one).  false when @w is none of them.
 */
static bool host_split(const char *w, size_t len, const char **addr, size_t *addr_len,
		       const char **port, size_t *port_len)
{
	const char *end = w + len, *p, *colon = NULL;

	*addr = w;
	*addr_len = 0;
	*port = end;
	*port_len = 0;
	if (*w == '[') {
		p = memchr(w, ']', len);
		if (!p || (p + 1 < end && p[1] != ':'))
			return false;
		*addr = w + 1;
		*addr_len = (size_t)(p - w - 1);
		p++;
	} else if (*w == '*') {
		p = w + 1;
		if (p < end && *p != ':')
			return false;
	} else {
		const char *slash = memchr(w, '/', len);

		for (p = slash ? slash : w; p < end; p++)
			if (*p == ':')
				colon = p;
		if (!colon)
			return false;
		*addr_len = (size_t)(colon - w);
		p = colon;
	}
	if (p < end) {
		*port = p + 1;
		*port_len = (size_t)(end - p - 1);
	}
	return true;
}

/* ss's host conditions: an address or prefix and a port, each optional ("dst 10.0.0.1:443"). */
static int compile_host(struct parser *ps, const struct target *t, int family_slot)
{
	struct node n = { .kind = N_PREFIX, .slot = (uint16_t)t->slot, .slot2 = (uint16_t)family_slot };
	const char *w = ps->start, *addr, *port_text;
	size_t len = ps->len, addr_len, port_len, n_items = 0;
	struct prefix pf;
	struct target pt;
	uint32_t port;
	int items[2], r;

	if (!host_split(w, len, &addr, &addr_len, &port_text, &port_len) ||
	    (addr_len && parse_addr(ps, addr, addr_len, &pf, true) < 0)) {
		/* say what is wrong with the whole word, as for any address */
		parse_addr(ps, w, len, &pf, false);
		return -1;
	}
	r = port_value(ps, port_text, port_len, &port);
	if (r < 0)
		return -1;
	ss_syntax(ps, w);
	next(ps);
	if (addr_len && (items[n_items++] = add_prefix(ps, &n, &pf)) < 0)
		return -1;
	if (r == 0) {
		memset(&pt, 0, sizeof(pt));
		pt.fd = field_named(is_field(t, "inet_diag_msg_socket_source") ?
				    "inet_diag_msg_socket_source_port" :
				    "inet_diag_msg_socket_destination_port");
		pt.slot = slot_for(ps, pt.fd);
		if ((items[n_items++] = add_range(ps, &pt, C_EQ, port, 1)) < 0)
			return -1;
	}
	if (!n_items)
		return add_const(ps, true);
	return add_list(ps, N_AND, items, n_items);
}

static int compile_addr(struct parser *ps, const struct target *t, int family_slot)
{
	struct node n = { .kind = N_PREFIX, .slot = (uint16_t)t->slot, .slot2 = (uint16_t)family_slot };
	struct prefix pf;

	if (ps->tok == T_STRING && ps->text_len == 0) {
		struct node e = { .kind = N_NONEMPTY, .slot = (uint16_t)t->slot };

		next(ps);
		return add_not(ps, add_node(ps, &e));
	}
	if (ps->tok != T_WORD) {
		char buf[64];

		return fail(ps, ps->start, "expected an address or prefix (10.0.0.0/8, ::1), found %s",
			    tok_desc(ps, buf, sizeof(buf)));
	}
	if (parse_addr(ps, ps->start, ps->len, &pf, true) < 0)
		return compile_host(ps, t, family_slot);
	next(ps);
	return add_prefix(ps, &n, &pf);
}

static int pool_add(struct parser *ps, const char *s, size_t len, uint32_t *off)
{
	struct xtcp_filter *f = ps->f;

	if (XTCP_ALLOC_GROW(f->pool, f->pool_len + len + 1, f->pool_cap) < 0)
		return oom(ps);
	memcpy(f->pool + f->pool_len, s, len);
	f->pool[f->pool_len + len] = '\0';
	*off = (uint32_t)f->pool_len;
	f->pool_len += len + 1;
	return 0;
}

static int compile_string(struct parser *ps, const struct target *t, enum cmp cmp,
			  const char *opname)
{
	struct node n = { .kind = N_STR, .cmp = (uint8_t)cmp, .slot = (uint16_t)t->slot };
	const char *s = ps->tok == T_STRING ? ps->text : ps->start;
	size_t len = ps->tok == T_STRING ? ps->text_len : ps->len;

	if (ps->tok != T_STRING && ps->tok != T_WORD) {
		char buf[64];

		return fail(ps, ps->start, "expected a value after '%s', found %s", opname,
			    tok_desc(ps, buf, sizeof(buf)));
	}
	if (pool_add(ps, s, len, &n.a) < 0)
		return -1;
	n.n = (uint32_t)len;
	next(ps);
	return add_node(ps, &n);
}

static int compile_regex(struct parser *ps, const struct target *t, bool negate,
			 const char *op_at, const char *opname)
{
	struct xtcp_filter *f = ps->f;
	struct node n = { .kind = N_REGEX, .slot = (uint16_t)t->slot };
	PCRE2_SIZE erroff;
	char *pattern;
	uint32_t off;
	int rc, idx;

	if (t->kind != XTCP_VALUE_STRING)
		return fail(ps, op_at, "'%s' needs a string field; %s is %s", opname, t->label,
			    t->kind == XTCP_VALUE_ADDR ? "an address (use 'in' with a prefix)" :
			    "a number");
	if (ps->tok != T_STRING) {
		char buf[64];

		return fail(ps, ps->start, "expected a quoted regular expression after '%s', "
			    "found %s", opname, tok_desc(ps, buf, sizeof(buf)));
	}
	if (pool_add(ps, ps->text, ps->text_len, &off) < 0)
		return -1;
	if (XTCP_ALLOC_GROW(f->regexes, f->n_regexes + 1, f->cap_regexes) < 0)
		return oom(ps);
	pattern = f->pool + off;
	if (!f->regex_compile) {
		f->regex_compile = pcre2_compile_context_create(NULL);
		f->regex_limits = pcre2_match_context_create(NULL);
		f->regex_match = pcre2_match_data_create(1, NULL);
		if (!f->regex_compile || !f->regex_limits || !f->regex_match)
			return oom(ps);
		pcre2_set_max_pattern_length(f->regex_compile, XTCP_FILTER_REGEX_MAX);
		pcre2_set_parens_nest_limit(f->regex_compile, XTCP_FILTER_REGEX_NEST);
		pcre2_set_match_limit(f->regex_limits, XTCP_FILTER_REGEX_STEPS);
		pcre2_set_depth_limit(f->regex_limits, XTCP_FILTER_REGEX_STEPS);
		pcre2_set_heap_limit(f->regex_limits, XTCP_FILTER_REGEX_HEAP_KIB);
	}
	f->regexes[f->n_regexes] = pcre2_compile((PCRE2_SPTR)pattern, ps->text_len, 0, &rc, &erroff,
						 f->regex_compile);
	if (!f->regexes[f->n_regexes]) {
		PCRE2_UCHAR why[128];

		if (rc == PCRE2_ERROR_NOMEMORY)
			return oom(ps);
		pcre2_get_error_message(rc, why, sizeof(why));
		return fail(ps, ps->start, "bad regular expression %.*s: %s", (int)ps->len,
			    ps->start, (const char *)why);
	}
	n.a = (uint32_t)f->n_regexes++;
	next(ps);
	idx = add_node(ps, &n);
	return negate ? add_not(ps, idx) : idx;
}

/* One value of a comparison or of an 'in' set, as field == value when @cmp is C_EQ. */
static int compile_value(struct parser *ps, struct target *t, enum cmp cmp, const char *op_at,
			 const char *opname, int family_slot)
{
	switch (t->kind) {
	case XTCP_VALUE_STRING:
		return compile_string(ps, t, cmp, opname);
	case XTCP_VALUE_ADDR:
		if (cmp != C_EQ && cmp != C_NE)
			return fail(ps, op_at, "'%s' does not apply to %s, an address; use ==, != "
				    "or in", opname, t->label);
		return cmp == C_NE ? add_not(ps, compile_addr(ps, t, family_slot)) :
				     compile_addr(ps, t, family_slot);
	default:
		return compile_numeric(ps, t, cmp, op_at, opname);
	}
}

static int parse_or(struct parser *ps);

/* ss's comparison words (eq, ne, lt, gt, le, ge, and geq, leq, neq). */
static bool cmp_word(const struct parser *ps, enum cmp *cmp)
{
	static const struct {
		const char *word;
		enum cmp cmp;
	} words[] = {
		{ "eq", C_EQ }, { "ne", C_NE }, { "neq", C_NE }, { "lt", C_LT }, { "gt", C_GT },
		{ "le", C_LE }, { "leq", C_LE }, { "ge", C_GE }, { "geq", C_GE },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (is_kw(ps, words[i].word)) {
			*cmp = words[i].cmp;
			return true;
		}
	}
	return false;
}

/* ss's words that take a value without an operator: "dst 10.0.0.0/8", "state established". */
static bool takes_value(const struct target *t)
{
	static const char *const words[] = { "src", "dst", "sport", "dport", "state", "dev", "fwmark" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == t->word_len && !memcmp(words[i], t->word, t->word_len))
			return true;
	return false;
}

static int parse_test(struct parser *ps)
{
	struct target t;
	const struct xtcp_field *field;
	const ProtobufCFieldDescriptor *fd;
	const char *op_at, *hint;
	char opname[4], buf[64];
	int family_slot = 0, idx;
	bool negate_in = false;

	if (ps->tok != T_WORD) {
		if (ps->tok == T_BAD)
			return -1;
		return fail(ps, ps->start, "expected a field name, found %s",
			    tok_desc(ps, buf, sizeof(buf)));
	}
	memset(&t, 0, sizeof(t));
	t.word = ps->start;
	t.word_len = ps->len;
	field = xtcp_schema_resolve(ps->start, ps->len);
	if (!field) {
		hint = xtcp_schema_suggest(ps->start, ps->len, XTCP_SUGGEST_ALIASES);
		if (hint)
			return fail(ps, ps->start, "unknown field '%.*s'; did you mean '%s'?",
				    (int)ps->len, ps->start, hint);
		return fail(ps, ps->start, "unknown field '%.*s' (see 'xtcp-fmt --list-fields')",
			    (int)ps->len, ps->start);
	}
	fd = xtcp_field_desc(field);
	t.fd = fd;
	t.kind = field->kind;
	t.unit_ns = field->unit_ns;
	if (strlen(fd->name) == ps->len && !memcmp(fd->name, ps->start, ps->len))
		snprintf(t.label, sizeof(t.label), "'%s'", fd->name);
	else
		snprintf(t.label, sizeof(t.label), "'%.*s' (%s)", (int)ps->len, ps->start, fd->name);
	if (t.kind == XTCP_VALUE_BYTES || t.kind == XTCP_VALUE_OTHER)
		return fail(ps, ps->start, "%s cannot be tested: its type is not supported",
			    t.label);
	if (ps->f->n_slots + 2 > XTCP_RECORD_DESC->n_fields + 1)
		return fail(ps, ps->start, "too many fields");
	t.slot = slot_for(ps, fd);
	if (t.kind == XTCP_VALUE_ADDR)
		family_slot = slot_for(ps, xtcp_field_desc(xtcp_schema_find("inet_diag_msg_family", 20)));
	next(ps);

	op_at = ps->start;
	snprintf(opname, sizeof(opname), "%.*s", (int)(ps->len < 3 ? ps->len : 3), ps->start);
	if (ps->tok == T_WORD && cmp_word(ps, &ps->cmp)) {
		ss_syntax(ps, ps->start);
		ps->tok = T_CMP;
	}
	if (ps->tok == T_CMP) {
		enum cmp cmp = ps->cmp;

		next(ps);
		return compile_value(ps, &t, cmp, op_at, opname, family_slot);
	}
	if (ps->tok == T_MATCH || ps->tok == T_NMATCH) {
		bool negate = ps->tok == T_NMATCH;

		next(ps);
		return compile_regex(ps, &t, negate, op_at, opname);
	}
	if (ps->tok == T_NOT) {
		const char *not_at = ps->start;

		next(ps);
		if (ps->tok != T_IN)
			return fail(ps, not_at, "expected 'in' after 'not' (or put '!' before the test)");
		negate_in = true;
	}
	if (ps->tok == T_IN) {
		int items_buf[16], *items = items_buf;
		size_t n = 0, cap = 16;
		bool paren;

		next(ps);
		paren = ps->tok == T_LP;
		if (paren) {
			const char *lp = ps->start;

			next(ps);
			if (ps->tok == T_RP)
				return fail(ps, lp, "empty set '()'");
		}
		for (;;) {
			idx = compile_value(ps, &t, C_EQ, op_at, "in", family_slot);
			if (idx < 0)
				break;
			if (push_item(&items, items_buf, &n, &cap, idx) < 0) {
				idx = oom(ps);
				break;
			}
			if (!paren || ps->tok != T_COMMA)
				break;
			next(ps);
		}
		if (idx >= 0 && paren) {
			if (ps->tok != T_RP)
				idx = fail(ps, ps->start, "expected ',' or ')' in the set, found %s",
					   tok_desc(ps, buf, sizeof(buf)));
			else
				next(ps);
		}
		if (idx >= 0)
			idx = add_list(ps, N_OR, items, n);
		if (items != items_buf)
			free(items);
		return negate_in ? add_not(ps, idx) : idx;
	}
	if (ps->tok == T_WORD && takes_value(&t)) {
		ss_syntax(ps, ps->start);
		return compile_value(ps, &t, C_EQ, op_at, "==", family_slot);
	}
	/* a bare field: true when it is not zero or empty */
	{
		struct node n = { .slot = (uint16_t)t.slot };

		if (t.kind == XTCP_VALUE_STRING || t.kind == XTCP_VALUE_ADDR) {
			n.kind = N_NONEMPTY;
		} else {
			n.kind = N_NONZERO;
			n.lo = is_signed(&t) ? SIGN_BIT : 0;
		}
		return add_node(ps, &n);
	}
}

static int parse_unary(struct parser *ps)
{
	const char *from = ps->start;
	int idx;

	/* a test inside N parentheses or negations is N + 1 unaries deep */
	if (++ps->depth > MAX_DEPTH + 1) {
		ps->depth--;
		return fail(ps, ps->start, "expression nested too deeply (over %d levels)",
			    MAX_DEPTH);
	}
	if (ps->tok == T_NOT) {
		next(ps);
		idx = add_not(ps, parse_unary(ps));
	} else if (ps->tok == T_LP) {
		const char *lp = ps->start;
		char buf[64];

		next(ps);
		idx = parse_or(ps);
		if (idx >= 0 && ps->tok != T_RP)
			idx = fail(ps, ps->start, "expected ')' to close '(' at column %zu, found %s",
				   (size_t)(lp - ps->src) + 1, tok_desc(ps, buf, sizeof(buf)));
		else if (idx >= 0)
			next(ps);
	} else {
		idx = parse_test(ps);
	}
	ps->depth--;
	return spans(ps, idx, from);
}

/*
 * and := unary ((&& | nothing) unary)*, or := and (|| and)*: n-ary nodes,
 * so evaluation recursion stays shallow.  Two tests side by side are both
 * required, as in ss.  *n_out: how many items the chain has.
 */
static int parse_chain(struct parser *ps, bool is_or, size_t *n_out)
{
	int items_buf[16], *items = items_buf, idx;
	size_t n = 0, cap = 16, inner;
	enum tok op = is_or ? T_OR : T_AND;
	const char *op_at = NULL, *from = ps->start;

	for (;;) {
		inner = 1;
		idx = is_or ? parse_chain(ps, false, &inner) : parse_unary(ps);
		if (idx < 0)
			break;
		if (n > 0 && inner > 1 && !ps->mix_at)
			ps->mix_at = op_at;
		if (push_item(&items, items_buf, &n, &cap, idx) < 0) {
			idx = oom(ps);
			break;
		}
		if (ps->tok == op) {
			op_at = ps->start;
			next(ps);
		} else if (!is_or && (ps->tok == T_WORD || ps->tok == T_NOT || ps->tok == T_LP)) {
			ss_syntax(ps, ps->start);
		} else {
			break;
		}
	}
	*n_out = n;
	if (idx >= 0)
		idx = spans(ps, add_list(ps, is_or ? N_OR : N_AND, items, n), from);
	if (items != items_buf)
		free(items);
	return idx;
}

static int parse_or(struct parser *ps)
{
	size_t n;

	return parse_chain(ps, true, &n);
}

/*
 * ss's state filter before the expression: "state A state B exclude C
 * EXPR" keeps the sockets in A or B and not in C (from every state when
 * only excludes are given) that EXPR matches.  When the words are not
 * that ("state == LISTEN", "state established or ..."), the whole is read
 * as an expression.
 */
static int parse_top(struct parser *ps)
{
	struct parser start = *ps;
	uint32_t keep = 0, drop = 0, m;
	bool any_keep = false;
	int items[2], state_slot, n_words = 0;

	while (ps->tok == T_WORD && (is_kw(ps, "state") || is_kw(ps, "exclude") || is_kw(ps, "excl"))) {
		bool exclude = !is_kw(ps, "state");

		next(ps);
		if (ps->tok != T_WORD || xtcp_tcp_state_word(ps->start, ps->len, &m) < 0) {
			*ps = start;
			return parse_or(ps);
		}
		if (exclude) {
			drop |= m;
		} else {
			keep |= m;
			any_keep = true;
		}
		n_words++;
		next(ps);
	}
	if (!n_words || ps->tok == T_AND || ps->tok == T_OR) {
		*ps = start;
		return parse_or(ps);
	}
	ss_syntax(ps, start.start);
	state_slot = slot_for(ps, field_named("inet_diag_msg_state"));
	{
		struct node n = { .kind = N_MASK, .slot = (uint16_t)state_slot,
				  .lo = (any_keep ? keep : XTCP_STATES_ALL) & ~drop };

		items[0] = add_node(ps, &n);
	}
	if (items[0] < 0)
		return -1;
	spans(ps, items[0], start.start);
	if (ps->tok == T_END)
		return items[0];
	items[1] = parse_or(ps);
	return items[1] < 0 ? -1 : spans(ps, add_list(ps, N_AND, items, 2), start.start);
}

/* --- public: compile -------------------------------------------------------------------- */

void xtcp_filter_free(struct xtcp_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n_regexes; i++)
		pcre2_code_free(f->regexes[i]);
	free(f->regexes);
	pcre2_compile_context_free(f->regex_compile);
	pcre2_match_context_free(f->regex_limits);
	pcre2_match_data_free(f->regex_match);
	free(f->nodes);
	free(f->spans);
	free(f->kids);
	free(f->pool);
	free(f->prefixes);
	free(f->slot_desc);
	free(f->slot_norm);
	free(f->vals);
	free(f->table);
	free(f);
}

struct xtcp_filter *xtcp_filter_new(const char *expr, struct xtcp_filter_error *err)
{
	const ProtobufCMessageDescriptor *d = XTCP_RECORD_DESC;
	struct xtcp_filter *f;
	struct parser ps;
	size_t i, nf = d->n_fields;
	int root;

	memset(err, 0, sizeof(*err));
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	for (i = 0; i < nf; i++)
		if (d->fields[i].id >= 0 && (size_t)d->fields[i].id + 1 > f->table_n)
			f->table_n = (size_t)d->fields[i].id + 1;
	f->slot_desc = calloc(nf + 1, sizeof(*f->slot_desc));
	f->slot_norm = calloc(nf + 1, 1);
	f->vals = calloc(nf + 1, sizeof(*f->vals));
	f->table = calloc(f->table_n, sizeof(*f->table));
	if (!f->slot_desc || !f->slot_norm || !f->vals || !f->table) {
		xtcp_filter_free(f);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < f->table_n; i++)
		f->table[i] = TABLE_UNKNOWN;
	for (i = 0; i < nf; i++)
		f->table[d->fields[i].id] = (uint16_t)xtcp_desc_wire_type(&d->fields[i]);

	memset(&ps, 0, sizeof(ps));
	ps.f = f;
	ps.err = err;
	ps.src = expr;
	ps.p = expr;
	next(&ps);
	if (ps.tok == T_END) {
		fail(&ps, expr, "empty expression");
		root = -1;
	} else {
		root = parse_top(&ps);
	}
	if (root >= 0 && ps.tok != T_END) {
		char buf[64];

		if (ps.tok == T_RP)
			fail(&ps, ps.start, "unexpected ')' with no '(' before it");
		else if (ps.tok == T_CMP || ps.tok == T_MATCH || ps.tok == T_NMATCH || ps.tok == T_IN)
			fail(&ps, ps.start, "unexpected %s: a test is FIELD OP VALUE",
			     tok_desc(&ps, buf, sizeof(buf)));
		else
			fail(&ps, ps.start, "unexpected %s; expected '&&', '||' or the end",
			     tok_desc(&ps, buf, sizeof(buf)));
		root = -1;
	}
	if (root >= 0 && ps.ss_at && ps.mix_at) {
		fail(&ps, ps.mix_at, "ss reads 'A or B and C' as '(A or B) and C', xtcp-filter as "
		     "'A or (B and C)': add parentheses");
		root = -1;
	}
	if (root < 0 || ps.failed) {
		xtcp_filter_free(f);
		errno = ps.nomem ? ENOMEM : EINVAL;
		return NULL;
	}
	f->root = (uint32_t)root;
	return f;
}

void xtcp_filter_set_strict(struct xtcp_filter *f, bool strict)
{
	f->strict = strict;
}

size_t xtcp_filter_n_fields(const struct xtcp_filter *f)
{
	return f->n_slots;
}

uint32_t xtcp_filter_root(const struct xtcp_filter *f)
{
	return f->root;
}

void xtcp_filter_term(const struct xtcp_filter *f, uint32_t i, struct xtcp_filter_term *t)
{
	const struct node *n = &f->nodes[i];
	const ProtobufCFieldDescriptor *fd = f->slot_desc[n->slot];
	bool is_unsigned = fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_UINT64;

	memset(t, 0, sizeof(*t));
	t->text_start = f->spans[i].start;
	t->text_len = f->spans[i].len;
	t->kind = XTCP_TERM_OTHER;
	switch (n->kind) {
	case N_AND:
	case N_OR:
		t->kind = n->kind == N_AND ? XTCP_TERM_AND : XTCP_TERM_OR;
		t->kids = f->kids + n->a;
		t->n_kids = n->n;
		break;
	case N_NOT:
		t->kind = XTCP_TERM_NOT;
		t->kids = &n->a;
		t->n_kids = 1;
		break;
	case N_CONST:
		t->kind = XTCP_TERM_CONST;
		t->value = n->lo != 0;
		break;
	case N_RANGE:
		if (is_unsigned) {
			t->kind = XTCP_TERM_RANGE;
			t->lo = n->lo;
			t->hi = n->lo + n->span;
		}
		break;
	case N_NONZERO:
		if (is_unsigned) {
			t->kind = XTCP_TERM_RANGE;
			t->lo = 1;
			t->hi = fd->type == PROTOBUF_C_TYPE_UINT32 ? UINT32_MAX : UINT64_MAX;
		}
		break;
	case N_MASK:
		t->kind = XTCP_TERM_MASK;
		t->lo = n->lo;
		break;
	case N_BITS:
		t->kind = XTCP_TERM_BITS;
		t->lo = n->lo;
		t->hi = n->span;
		break;
	case N_PREFIX: {
		const struct prefix *pf = &f->prefixes[n->a];

		t->kind = XTCP_TERM_PREFIX;
		t->family = pf->v4 ? AF_INET : AF_INET6;
		t->prefix_len = pf->bits;
		memcpy(t->addr, pf->addr, sizeof(t->addr));
		break;
	}
	default:
		break;
	}
	if (t->kind != XTCP_TERM_AND && t->kind != XTCP_TERM_OR && t->kind != XTCP_TERM_NOT &&
	    t->kind != XTCP_TERM_CONST)
		t->field = fd;
}

void xtcp_filter_assume(struct xtcp_filter *f, uint32_t i)
{
	struct node n = { .kind = N_CONST, .lo = 1 };

	f->nodes[i] = n;
}

/* --- public: evaluate ------------------------------------------------------------------- */

static bool prefix_match(const struct prefix *pf, const struct val *addr, uint64_t family)
{
	const uint8_t *a;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned full, rest;

	if (pf->v4) {
		if (family == AF_INET && addr->len >= 4)
			a = addr->p;
		else if (family == AF_INET6 && addr->len == 16 && !memcmp(addr->p, mapped, 12))
			a = addr->p + 12;
		else
			return false;
	} else {
		if (family != AF_INET6 || addr->len != 16)
			return false;
		a = addr->p;
	}
	full = pf->bits / 8;
	rest = pf->bits % 8;
	if (memcmp(a, pf->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00u >> rest);

		return ((a[full] ^ pf->addr[full]) & m) == 0;
	}
	return true;
}

/*
 * PCRE2 on the value's bytes as they are (no copy, no NUL needed), with the
 * limits of filter.h: a match that goes over one is no match, and makes
 * the row an error (ERANGE) rather than a silent answer.
 */
static bool regex_match(struct xtcp_filter *f, const pcre2_code *re, const struct val *v)
{
	int rc = pcre2_match(re, v->p ? (PCRE2_SPTR)v->p : (PCRE2_SPTR)"", v->len, 0, 0,
			     f->regex_match, f->regex_limits);

	if (rc >= 0)
		return true;
	if (rc != PCRE2_ERROR_NOMATCH)
		f->regex_over_limit = true;
	return false;
}

static bool eval(struct xtcp_filter *f, uint32_t i)
{
	const struct node *n = &f->nodes[i];
	const struct val *v = &f->vals[n->slot];
	uint32_t k;

	switch (n->kind) {
	case N_AND:
		for (k = 0; k < n->n; k++)
			if (!eval(f, f->kids[n->a + k]))
				return false;
		return true;
	case N_OR:
		for (k = 0; k < n->n; k++)
			if (eval(f, f->kids[n->a + k]))
				return true;
		return false;
	case N_NOT:
		return !eval(f, n->a);
	case N_CONST:
		return n->lo != 0;
	case N_RANGE:
		return v->v - n->lo <= n->span;
	case N_MASK:
		return v->v < 64 && (n->lo >> v->v & 1);
	case N_NONZERO:
		return v->v != n->lo;
	case N_NONEMPTY:
		return v->len != 0;
	case N_STR: {
		size_t m = v->len < n->n ? v->len : n->n;
		int c = m ? memcmp(v->p, f->pool + n->a, m) : 0;

		if (c == 0)
			c = v->len < n->n ? -1 : v->len > n->n;
		switch (n->cmp) {
		case C_EQ: return c == 0;
		case C_NE: return c != 0;
		case C_LT: return c < 0;
		case C_LE: return c <= 0;
		case C_GT: return c > 0;
		default: return c >= 0;
		}
	}
	case N_REGEX:
		return regex_match(f, f->regexes[n->a], v);
	case N_PREFIX:
		return prefix_match(&f->prefixes[n->a], v, f->vals[n->slot2].v);
	case N_BITS:
		return (v->v & n->lo) == n->span;
	}
	return false;
}

static uint64_t normalise(uint8_t norm, uint64_t v)
{
	switch (norm) {
	case S_U32:
		return (uint32_t)v;
	case S_I64:
		return v ^ SIGN_BIT;
	case S_I32:
		return (uint64_t)(int64_t)(int32_t)(uint32_t)v ^ SIGN_BIT;
	default:
		return v;
	}
}

/* The expression on the loaded values: 1, 0, or -1 (ERANGE) when a regex went over a limit. */
static int evaluate(struct xtcp_filter *f)
{
	bool m;

	f->regex_over_limit = false;
	m = eval(f, f->root);
	if (f->regex_over_limit) {
		errno = ERANGE;
		return -1;
	}
	return m;
}

int xtcp_filter_match(struct xtcp_filter *f, const uint8_t *row, size_t len)
{
	const uint8_t *p = row, *end = row + len;
	const uint16_t *table = f->table;
	size_t i, table_n = f->table_n;
	uint64_t prev = 0, last = f->strict ? UINT64_MAX : f->last_number;
	bool ordered = true;

	for (i = 0; i < f->n_slots; i++) {
		f->vals[i].v = normalise(f->slot_norm[i], 0);
		f->vals[i].len = 0;
	}
	while (p < end) {
		struct xtcp_varint x;
		uint64_t tag, v, number;
		unsigned wt, info = TABLE_UNKNOWN, slot;

		x = xtcp_wire_tag(p, end);
		if (!x.next)
			goto bad;
		tag = x.value;
		p = x.next;
		wt = tag & 7;
		number = tag >> 3;
		if (number < prev)
			ordered = false;
		/* every field so far in ascending order, and past the last one read: done */
		if (number > last && ordered)
			break;
		prev = number;
		if (number < table_n)
			info = table[number];
		if ((info & 0xf) != wt && (info & 0xf) != 0xf)
			goto bad;
		slot = info >> 4;
		if (wt == XTCP_WIRE_VARINT) {
			if (!slot) {
				if (!(p = xtcp_varint_skip(p, end)))
					goto bad;
				continue;
			}
			x = xtcp_varint_read(p, end);
			if (!x.next)
				goto bad;
			p = x.next;
			f->vals[slot - 1].v = normalise(f->slot_norm[slot - 1], x.value);
		} else if (wt == XTCP_WIRE_LEN) {
			x = xtcp_wire_len(p, end);
			if (!x.next)
				goto bad;
			p = x.next;
			v = x.value;
			if (slot) {
				struct val *s = &f->vals[slot - 1];
				/* a decoded string ends at its first NUL: the same here */
				const uint8_t *nul = f->slot_norm[slot - 1] == S_STR ?
						     memchr(p, 0, v) : NULL;

				s->p = p;
				s->len = nul ? (size_t)(nul - p) : v;
			}
			p += v;
		} else if (!(p = xtcp_wire_skip(p, end, wt))) {
			goto bad;
		}
	}
	return evaluate(f);
bad:
	errno = EBADMSG;
	return -1;
}

int xtcp_filter_match_record(struct xtcp_filter *f, const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	size_t i;

	for (i = 0; i < f->n_slots; i++) {
		const ProtobufCFieldDescriptor *fd = f->slot_desc[i];
		const char *at = (const char *)rec + fd->offset;
		struct val *s = &f->vals[i];

		switch (fd->type) {
		case PROTOBUF_C_TYPE_STRING: {
			const char *str = *(const char *const *)(const void *)at;

			s->p = (const uint8_t *)str;
			s->len = str ? strlen(str) : 0;
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *b = (const void *)at;

			s->p = b->data;
			s->len = b->len;
			break;
		}
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64: {
			uint64_t v;

			memcpy(&v, at, sizeof(v));
			s->v = normalise(f->slot_norm[i], v);
			break;
		}
		default: {
			uint32_t v;

			memcpy(&v, at, sizeof(v));
			s->v = normalise(f->slot_norm[i], v);
			break;
		}
		}
	}
	return evaluate(f);
}
