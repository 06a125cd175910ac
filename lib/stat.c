#include "stat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "format.h"

#define SIGN_BIT (1ull << 63)
#define EXACT_MAX (1ull << 53)      /* JSON: larger magnitudes are written as strings */
#define SMALL_SORT 64

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;
typedef __int128 i128;
typedef unsigned __int128 u128;

/* A number written exactly: m / 10^scale. */
struct dec {
	i128 m;
	int scale;
};

struct key {                    /* a --by field, and the start of a --fields one */
	const struct xtcp_field *f;
	size_t offset;          /* of its member in the record */
	enum xtcp_value_kind kind;      /* --fields: U32, U64 or I64 */
	char word[64];          /* as the user wrote it */
};

struct value {                  /* a --fields field */
	struct key k;
	char label[96];         /* text: "rtt(us)" */
	char metric[128], metric_min[144], metric_max[144];
	const char *unit_word;  /* in the HELP text: "seconds", ... or NULL */
	uint64_t mul;           /* OpenMetrics: base units = value * mul / 10^shift */
	int shift;
};

struct quantile {
	uint64_t a;             /* p = a / den, den = 10^digits */
	uint64_t den;
	int digits;
	char label[16];         /* "0.99" */
	char column[16];        /* "p99" */
};

struct group {
	uint64_t hash;
	uint64_t count;
	uint32_t key_off;
	uint32_t key_len;
	uint32_t slot;
};

struct xtcp_stat {
	enum xtcp_stat_format format;
	bool header;
	size_t max_series;
	struct key keys[XTCP_STAT_MAX_LIST];
	size_t n_keys;
	struct value values[XTCP_STAT_MAX_LIST];
	size_t n_values;
	struct quantile q[XTCP_STAT_MAX_LIST];
	size_t n_q;
	size_t n_stats;         /* per value: sum, min, the quantiles, max */
	char by_list[512];      /* the key words, ", " between: for HELP texts */

	/* the poll being read */
	bool in_poll;
	uint64_t seq;
	int64_t ts;
	uint32_t kind;          /* record_kind */
	size_t rows;
	uint8_t *key;           /* the row's key being built */
	size_t key_cap;
	uint8_t *arena;         /* the groups' keys */
	size_t arena_len, arena_cap;
	struct group *groups;
	size_t n_groups, groups_cap;
	uint32_t *table;        /* open addressing: group index + 1, 0 empty */
	size_t table_size;
	uint32_t last;          /* the previous row's group + 1 */
	uint32_t *row_group;
	size_t row_group_cap;
	uint64_t *vals;         /* rows x n_values, each order-preserving (I64: sign bit flipped) */
	size_t vals_cap;

	/* summarising */
	uint32_t *order;        /* groups: the shown ones in key order, then the folded */
	size_t order_cap;
	size_t n_slots;         /* groups shown, the "other" one included */
	bool other;             /* the last slot is the folded groups */
	size_t *slot_start, *slot_count;
	size_t slot_cap, slot_count_cap;
	uint64_t *sorted, *tmp;
	size_t sorted_cap, tmp_cap;
	struct dec *results;    /* [slot][value][stat] */
	size_t results_cap;
	size_t *label_off;      /* OpenMetrics: each slot's labels in label_buf */
	size_t label_off_cap;
	char *label_buf;
	size_t label_len, label_cap;
	xtcp_rec rec;           /* a group's key values, to render them */
	uint64_t polls;         /* summaries made */

	char *text;
	size_t text_len, text_cap;
	bool oom;
	char *preamble;
	size_t preamble_len;
};

int xtcp_stat_format_parse(const char *name, enum xtcp_stat_format *format)
{
	static const char *const names[] = { "text", "json", "csv", "openmetrics" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*format = (enum xtcp_stat_format)i;
			return 0;
		}
	}
	if (!strcmp(name, "prometheus")) {
		*format = XTCP_STAT_OPENMETRICS;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* --- numbers ------------------------------------------------------------------ */

static char *put_u128(char *p, u128 v)
{
	char tmp[40];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static struct dec dec_norm(struct dec d)
{
	while (d.scale > 0 && d.m % 10 == 0) {
		d.m /= 10;
		d.scale--;
	}
	if (d.m == 0)
		d.scale = 0;
	return d;
}

/* The exact decimal: "-12.5", "0.0005", "42".  At most 48 bytes. */
static char *put_dec(char *p, struct dec d)
{
	char digits[48];
	u128 mag;
	size_t n;
	int i;

	d = dec_norm(d);
	mag = d.m < 0 ? (u128)0 - (u128)d.m : (u128)d.m;
	if (d.m < 0)
		*p++ = '-';
	n = (size_t)(put_u128(digits, mag) - digits);
	if ((size_t)d.scale >= n) {
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < d.scale - (int)n; i++)
			*p++ = '0';
		memcpy(p, digits, n);
		return p + n;
	}
	memcpy(p, digits, n - (size_t)d.scale);
	p += n - (size_t)d.scale;
	if (d.scale) {
		*p++ = '.';
		memcpy(p, digits + n - (size_t)d.scale, (size_t)d.scale);
		p += d.scale;
	}
	return p;
}

static u128 pow10_u128(int k)
{
	u128 v = 1;

	while (k-- > 0)
		v *= 10;
	return v;
}

/* JSON: a number, or a string of its digits when its magnitude is above 2^53 (as xtcp-fmt). */
static char *put_json_dec(char *p, struct dec d)
{
	u128 mag = d.m < 0 ? (u128)0 - (u128)d.m : (u128)d.m;

	if (mag <= (u128)EXACT_MAX * pow10_u128(d.scale))
		return put_dec(p, d);
	*p++ = '"';
	p = put_dec(p, d);
	*p++ = '"';
	return p;
}

static struct dec dec_int(i128 v)
{
	struct dec d = { v, 0 };

	return d;
}

/* An order-preserving stored value back to its number. */
static i128 value_of(enum xtcp_value_kind kind, uint64_t v)
{
	return kind == XTCP_VALUE_I64 ? (i128)(int64_t)(v ^ SIGN_BIT) : (i128)v;
}

/* --- compiling ---------------------------------------------------------------------- */

static int fail(struct xtcp_stat_error *err, enum xtcp_stat_problem problem, const char *option,
		const char *at, size_t len)
{
	err->problem = problem;
	err->option = option;
	err->at = at;
	err->len = len;
	errno = EINVAL;
	return -1;
}

static bool is_number_kind(enum xtcp_value_kind k)
{
	return k == XTCP_VALUE_U32 || k == XTCP_VALUE_U64 || k == XTCP_VALUE_I64;
}

/*
 * The items of a comma-separated @list: calls @item for each, stops at the
 * first failure.  An empty list has no items.
 */
static int each_item(const char *list, const char *option, struct xtcp_stat_error *err,
		     int (*item)(struct xtcp_stat *, const char *, size_t, struct xtcp_stat_error *),
		     struct xtcp_stat *s)
{
	const char *p = list;
	size_t n = 0;

	if (!*list)
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (!len)
			return fail(err, XTCP_STAT_EMPTY_NAME, option, p, 0);
		if (++n > XTCP_STAT_MAX_LIST)
			return fail(err, XTCP_STAT_TOO_MANY, option, p, len);
		if (item(s, p, len, err) < 0)
			return -1;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static const struct xtcp_field *field_word(const char *word, size_t len, const char *option,
					   struct xtcp_stat_error *err)
{
	const struct xtcp_field *f = len < 64 ? xtcp_schema_resolve(word, len) : NULL;

	if (!f) {
		fail(err, XTCP_STAT_UNKNOWN_FIELD, option, word, len);
		return NULL;
	}
	if ((len == 13 && !memcmp(word, "poll_sequence", 13)) ||
	    (len == 12 && !memcmp(word, "timestamp_ns", 12)) ||
	    (len == 11 && !memcmp(word, "record_kind", 11))) {
		fail(err, XTCP_STAT_RESERVED, option, word, len);
		return NULL;
	}
	return f;
}

/*
 * An item of --by or of --fields (@numbers): the field @word names into @k,
 * unless its list, the @n keys from @first, @stride bytes apart, has it.
 */
static int name_field(struct key *k, const struct key *first, size_t n, size_t stride,
		      const char *word, size_t len, const char *option, bool numbers,
		      struct xtcp_stat_error *err)
{
	const struct xtcp_field *f = field_word(word, len, option, err);
	size_t i;

	if (!f)
		return -1;
	if (numbers ? !is_number_kind(f->kind) : f->kind == XTCP_VALUE_OTHER)
		return fail(err, numbers ? XTCP_STAT_NOT_NUMBER : XTCP_STAT_CANNOT_GROUP, option,
			    word, len);
	for (i = 0; i < n; i++)
		if (((const struct key *)(const void *)((const char *)first + i * stride))->f == f)
			return fail(err, XTCP_STAT_TWICE, option, word, len);
	k->f = f;
	k->offset = xtcp_field_desc(f)->offset;
	k->kind = f->kind;
	memcpy(k->word, word, len);
	k->word[len] = '\0';
	return 0;
}

static int add_key(struct xtcp_stat *s, const char *word, size_t len, struct xtcp_stat_error *err)
{
	if (name_field(&s->keys[s->n_keys], s->keys, s->n_keys, sizeof(s->keys[0]), word, len,
		       "by", false, err) < 0)
		return -1;
	s->n_keys++;
	return 0;
}

/* A trailing unit marker of a field's name that the metric's unit suffix replaces. */
static size_t strip_unit_marker(const char *name, size_t n, const char *unit)
{
	static const struct {
		const char *unit, *marker;
	} markers[] = {
		{ "ns", "_ns" }, { "us", "_us" }, { "ms", "_ms" },
		{ "bytes/s", "_per_s" }, { "bytes/s", "_bps" }, { "Mbit/s", "_mbps" },
	};
	size_t i, m;

	for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		m = strlen(markers[i].marker);
		if (!strcmp(unit, markers[i].unit) && n > m && !strcmp(name + n - m, markers[i].marker))
			return n - m;
	}
	return n;
}

static const char *unit_suffix(const struct xtcp_field *f)
{
	if (f->unit_ns)
		return "_seconds";
	if (!strcmp(f->unit, "bytes"))
		return "_bytes";
	if (!strcmp(f->unit, "bytes/s") || !strcmp(f->unit, "Mbit/s"))
		return "_bytes_per_second";
	if (!strcmp(f->unit, "segments"))
		return "_segments";
	if (!strcmp(f->unit, "packets"))
		return "_packets";
	return "";
}

size_t xtcp_stat_metric_name(const struct xtcp_field *f, const char *infix, char *buf)
{
	const char *name = f->name, *suffix = unit_suffix(f);
	size_t n, sl = strlen(suffix);
	char *p = buf;

	memcpy(p, "xtcp_", 5);
	p += 5;
	if (!strncmp(name, "tcp_info_", 9)) {
		memcpy(p, "tcp_", 4);
		p += 4;
		name += 9;
	}
	n = strip_unit_marker(name, strlen(name), f->unit);
	if (n > 90)
		n = 90;
	memcpy(p, name, n);
	p += n;
	/* promtool: "metric name should not include type 'counter'" (record_counter) */
	if (n >= 8 && !memcmp(p - 8, "_counter", 8)) {
		memcpy(p - 7, "number", 6);
		p--;
	}
	/* a name that ends in its unit already ("not_sent_bytes"): the infix goes before it */
	if (sl && n > sl && !memcmp(p - sl, suffix, sl))
		p -= sl;
	p += snprintf(p, 16, "%s", infix);
	memcpy(p, suffix, sl + 1);
	return (size_t)(p + sl - buf);
}

static int add_value(struct xtcp_stat *s, const char *word, size_t len,
		     struct xtcp_stat_error *err)
{
	struct value *v = &s->values[s->n_values];
	const struct xtcp_field *f;

	if (name_field(&v->k, &s->values[0].k, s->n_values, sizeof(s->values[0]), word, len,
		       "fields", true, err) < 0)
		return -1;
	s->n_values++;
	f = v->k.f;
	if (f->unit[0])
		snprintf(v->label, sizeof(v->label), "%s(%s)", v->k.word, f->unit);
	else
		snprintf(v->label, sizeof(v->label), "%s", v->k.word);
	xtcp_stat_metric_name(f, "", v->metric);
	xtcp_stat_metric_name(f, "_min", v->metric_min);
	xtcp_stat_metric_name(f, "_max", v->metric_max);
	v->mul = 1;
	v->shift = 0;
	v->unit_word = NULL;
	if (f->unit_ns) {
		v->mul = f->unit_ns;
		v->shift = 9;
		v->unit_word = "seconds";
	} else if (!strcmp(f->unit, "Mbit/s")) {
		v->mul = 125000;
		v->unit_word = "bytes per second";
	} else if (!strcmp(f->unit, "bytes/s")) {
		v->unit_word = "bytes per second";
	} else if (f->unit[0] && unit_suffix(f)[0]) {
		v->unit_word = f->unit;
	}
	return 0;
}

static int add_quantile(struct xtcp_stat *s, const char *text, size_t len,
			struct xtcp_stat_error *err)
{
	struct quantile *q = &s->q[s->n_q];
	const char *p = text, *end = text + len;
	uint64_t whole = 0, a = 0, den = 1;
	int digits = 0;
	struct dec pct;
	size_t i;
	char *o;

	if (p < end && (*p == '0' || *p == '1'))
		whole = (uint64_t)(*p++ - '0');
	else if (p == end || *p != '.')
		return fail(err, XTCP_STAT_BAD_QUANTILE, "quantiles", text, len);
	if (p < end && *p == '.') {
		p++;
		if (p == end)
			return fail(err, XTCP_STAT_BAD_QUANTILE, "quantiles", text, len);
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (++digits > XTCP_STAT_QUANTILE_DIGITS)
				return fail(err, XTCP_STAT_BAD_QUANTILE, "quantiles", text, len);
			a = a * 10 + (uint64_t)(*p - '0');
			den *= 10;
		}
	}
	if (p != end || (whole == 1 && a))
		return fail(err, XTCP_STAT_BAD_QUANTILE, "quantiles", text, len);
	a += whole * den;
	/* one denominator per digit count: 0.50 is 0.5 */
	while (digits > 0 && a % 10 == 0) {
		a /= 10;
		den /= 10;
		digits--;
	}
	for (i = 0; i < s->n_q; i++)
		if (s->q[i].a * den == a * s->q[i].den)
			return fail(err, XTCP_STAT_TWICE, "quantiles", text, len);
	q->a = a;
	q->den = den;
	q->digits = digits;
	o = put_dec(q->label, (struct dec){ (i128)a, digits });
	*o = '\0';
	q->column[0] = 'p';
	pct.m = (i128)a * 100;
	pct.scale = digits;
	o = put_dec(q->column + 1, pct);
	*o = '\0';
	s->n_q++;
	return 0;
}


static int build_preamble(struct xtcp_stat *s);

struct xtcp_stat *xtcp_stat_new(const struct xtcp_stat_options *opt, struct xtcp_stat_error *err)
{
	struct xtcp_stat *s = calloc(1, sizeof(*s));
	size_t i, n;

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->format = opt->format;
	s->header = opt->header;
	s->max_series = opt->max_series;
	if (each_item(opt->by ? opt->by : "", "by", err, add_key, s) < 0 ||
	    each_item(opt->fields ? opt->fields : "", "fields", err, add_value, s) < 0 ||
	    each_item(opt->quantiles ? opt->quantiles : "", "quantiles", err, add_quantile, s) < 0)
		goto err_free;
	s->n_stats = 3 + s->n_q;
	for (i = 0, n = 0; i < s->n_keys && n < sizeof(s->by_list) - 80; i++)
		n += (size_t)snprintf(s->by_list + n, sizeof(s->by_list) - n, "%s%s", i ? ", " : "",
				      s->keys[i].word);
	xtcp_record_init(&s->rec);
	if (build_preamble(s) < 0) {
		xtcp_stat_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
err_free:
	free(s);
	return NULL;
}

void xtcp_stat_free(struct xtcp_stat *s)
{
	if (!s)
		return;
	free(s->key);
	free(s->arena);
	free(s->groups);
	free(s->table);
	free(s->row_group);
	free(s->vals);
	free(s->order);
	free(s->slot_start);
	free(s->slot_count);
	free(s->sorted);
	free(s->tmp);
	free(s->results);
	free(s->label_off);
	free(s->label_buf);
	free(s->text);
	free(s->preamble);
	free(s);
}

void xtcp_stat_preamble(const struct xtcp_stat *s, const char **text, size_t *len)
{
	*text = s->preamble ? s->preamble : "";
	*len = s->preamble_len;
}

/* --- adding rows ----------------------------------------------------------------- */

bool xtcp_stat_ends_poll(const struct xtcp_stat *s, const xtcp_rec *rec)
{
	if (!s->in_poll)
		return false;
	if (rec->poll_sequence != s->seq || rec->record_kind != s->kind)
		return true;
	/* close records have a time each: those after one poll are one summary */
	return s->seq == 0 && s->kind == XTCP_RECORD_KIND_POLL && rec->timestamp_ns != s->ts;
}

size_t xtcp_stat_rows(const struct xtcp_stat *s)
{
	return s->rows;
}

#define MEMBER(rec, off, type) (*(type const *)(const void *)((const char *)(rec) + (off)))

/*
 * A row's key: each key field in turn, numbers in 4 or 8 bytes, a string
 * with its NUL (a decoded string has none inside), bytes after a 4-byte
 * length, an address after its record's family.  Equal keys are equal bytes.
 */
static size_t key_bound(const struct xtcp_stat *s, const xtcp_rec *rec)
{
	size_t n = 0, i;

	for (i = 0; i < s->n_keys; i++) {
		const struct key *k = &s->keys[i];

		if (k->kind == XTCP_VALUE_STRING)
			n += strlen(MEMBER(rec, k->offset, char *)) + 1;
		else if (k->kind == XTCP_VALUE_BYTES || k->kind == XTCP_VALUE_ADDR)
			n += 8 + MEMBER(rec, k->offset, ProtobufCBinaryData).len;
		else
			n += 8;
	}
	return n;
}

static size_t build_key(const struct xtcp_stat *s, const xtcp_rec *rec, uint8_t *out)
{
	uint8_t *p = out;
	size_t i, n;

	for (i = 0; i < s->n_keys; i++) {
		const struct key *k = &s->keys[i];
		const ProtobufCBinaryData *b;
		uint32_t len;

		switch (k->kind) {
		case XTCP_VALUE_U64:
		case XTCP_VALUE_I64:
			memcpy(p, (const char *)rec + k->offset, 8);
			p += 8;
			break;
		case XTCP_VALUE_STRING:
			n = strlen(MEMBER(rec, k->offset, char *)) + 1;
			memcpy(p, MEMBER(rec, k->offset, char *), n);
			p += n;
			break;
		case XTCP_VALUE_ADDR:
			memcpy(p, &rec->inet_diag_msg_family, 4);
			p += 4;
			/* fall through */
		case XTCP_VALUE_BYTES:
			b = &MEMBER(rec, k->offset, ProtobufCBinaryData);
			len = (uint32_t)b->len;
			memcpy(p, &len, 4);
			if (len)
				memcpy(p + 4, b->data, len);
			p += 4 + len;
			break;
		default:        /* 32-bit numbers, states, families, enums */
			memcpy(p, (const char *)rec + k->offset, 4);
			p += 4;
		}
	}
	return (size_t)(p - out);
}

static uint64_t hash_key(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0x94d049bb133111ebull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

static int grow_table(struct xtcp_stat *s)
{
	size_t size = s->table_size ? s->table_size * 2 : 64, i, j;
	uint32_t *t = calloc(size, sizeof(*t));

	if (!t) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < s->n_groups; i++) {
		for (j = s->groups[i].hash & (size - 1); t[j]; j = (j + 1) & (size - 1))
			;
		t[j] = (uint32_t)i + 1;
	}
	free(s->table);
	s->table = t;
	s->table_size = size;
	return 0;
}

/* The group of the key in s->key[0..len): found, or made. Returns its index + 1, or 0 (ENOMEM). */
static uint32_t find_group(struct xtcp_stat *s, size_t len)
{
	uint64_t h = hash_key(s->key, len);
	struct group *g;
	size_t j;

	if ((s->n_groups + 1) * 2 > s->table_size && grow_table(s) < 0)
		return 0;
	for (j = h & (s->table_size - 1); s->table[j]; j = (j + 1) & (s->table_size - 1)) {
		g = &s->groups[s->table[j] - 1];
		if (g->hash == h && g->key_len == len && !memcmp(s->arena + g->key_off, s->key, len))
			return s->table[j];
	}
	if (s->arena_len + len > UINT32_MAX || s->n_groups >= UINT32_MAX - 1) {
		errno = ENOMEM;
		return 0;
	}
	/* + 1: room even for the empty key of --by '' */
	if (XTCP_ALLOC_GROW(s->arena, s->arena_len + len + 1, s->arena_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->groups, s->n_groups + 1, s->groups_cap) < 0)
		return 0;
	g = &s->groups[s->n_groups];
	g->hash = h;
	g->count = 0;
	g->key_off = (uint32_t)s->arena_len;
	g->key_len = (uint32_t)len;
	memcpy(s->arena + s->arena_len, s->key, len);
	s->arena_len += len;
	s->table[j] = (uint32_t)++s->n_groups;
	return s->table[j];
}

int xtcp_stat_add(struct xtcp_stat *s, const xtcp_rec *rec)
{
	size_t need = key_bound(s, rec), len, i;
	uint64_t *v;
	uint32_t gi;

	if (s->rows >= UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (XTCP_ALLOC_GROW(s->key, need + 1, s->key_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->row_group, s->rows + 1, s->row_group_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->vals, (s->rows + 1) * s->n_values + 1, s->vals_cap) < 0)
		return -1;
	len = build_key(s, rec, s->key);
	gi = s->last;
	/* neighbours often share a key (a namespace's sockets come together) */
	if (!gi || s->groups[gi - 1].key_len != len ||
	    memcmp(s->arena + s->groups[gi - 1].key_off, s->key, len)) {
		gi = find_group(s, len);
		if (!gi)
			return -1;
	}
	if (!s->in_poll) {
		s->in_poll = true;
		s->seq = rec->poll_sequence;
		s->ts = rec->timestamp_ns;
		s->kind = rec->record_kind;
	}
	s->last = gi;
	s->groups[gi - 1].count++;
	s->row_group[s->rows] = gi - 1;
	v = s->vals + s->rows * s->n_values;
	for (i = 0; i < s->n_values; i++) {
		const struct key *f = &s->values[i].k;

		if (f->kind == XTCP_VALUE_U32)
			v[i] = MEMBER(rec, f->offset, uint32_t);
		else if (f->kind == XTCP_VALUE_U64)
			v[i] = MEMBER(rec, f->offset, uint64_t);
		else
			v[i] = MEMBER(rec, f->offset, uint64_t) ^ SIGN_BIT;
	}
	s->rows++;
	return 0;
}

void xtcp_stat_reset(struct xtcp_stat *s)
{
	s->in_poll = false;
	s->seq = 0;
	s->ts = 0;
	s->kind = 0;
	s->rows = 0;
	s->arena_len = 0;
	s->n_groups = 0;
	s->last = 0;
	if (s->table)
		memset(s->table, 0, s->table_size * sizeof(*s->table));
}

/* --- summarising ---------------------------------------------------------------- */

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

/* Key order: numbers by value, strings and bytes by their bytes, addresses by family first. */
static int key_cmp(const struct xtcp_stat *s, const uint8_t *a, const uint8_t *b)
{
	size_t i, la, lb;
	uint64_t ua, ub;
	int32_t ia, ib;
	uint32_t na, nb;
	int c;

	for (i = 0; i < s->n_keys; i++) {
		switch (s->keys[i].kind) {
		case XTCP_VALUE_U64:
		case XTCP_VALUE_I64:
			memcpy(&ua, a, 8);
			memcpy(&ub, b, 8);
			if (s->keys[i].kind == XTCP_VALUE_I64) {
				ua ^= SIGN_BIT;
				ub ^= SIGN_BIT;
			}
			if (ua != ub)
				return ua < ub ? -1 : 1;
			a += 8;
			b += 8;
			break;
		case XTCP_VALUE_STRING:
			c = strcmp((const char *)a, (const char *)b);
			if (c)
				return c;
			la = strlen((const char *)a) + 1;
			a += la;
			b += la;
			break;
		case XTCP_VALUE_ADDR:
			memcpy(&na, a, 4);
			memcpy(&nb, b, 4);
			if ((c = cmp_u32(na, nb)))
				return c;
			a += 4;
			b += 4;
			/* fall through */
		case XTCP_VALUE_BYTES:
			memcpy(&na, a, 4);
			memcpy(&nb, b, 4);
			la = na;
			lb = nb;
			c = memcmp(a + 4, b + 4, la < lb ? la : lb);
			if (c)
				return c;
			if (la != lb)
				return la < lb ? -1 : 1;
			a += 4 + la;
			b += 4 + lb;
			break;
		case XTCP_VALUE_ENUM:
			memcpy(&ia, a, 4);
			memcpy(&ib, b, 4);
			if (ia != ib)
				return ia < ib ? -1 : 1;
			a += 4;
			b += 4;
			break;
		default:
			memcpy(&na, a, 4);
			memcpy(&nb, b, 4);
			if ((c = cmp_u32(na, nb)))
				return c;
			a += 4;
			b += 4;
		}
	}
	return 0;
}

static int by_key(const void *x, const void *y, void *arg)
{
	const struct xtcp_stat *s = arg;
	const struct group *a = &s->groups[*(const uint32_t *)x], *b = &s->groups[*(const uint32_t *)y];

	return key_cmp(s, s->arena + a->key_off, s->arena + b->key_off);
}

static int by_count_then_key(const void *x, const void *y, void *arg)
{
	const struct xtcp_stat *s = arg;
	const struct group *a = &s->groups[*(const uint32_t *)x], *b = &s->groups[*(const uint32_t *)y];

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return by_key(x, y, arg);
}

/* Ascending, in place: insertion sort for few values, else LSD radix over the bytes that differ. */
static void sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t count[8][256], i, b, sum;
	uint64_t *src = a, *dst = tmp, *t;

	if (n <= SMALL_SORT) {
		for (i = 1; i < n; i++) {
			uint64_t v = a[i];
			size_t j = i;

			for (; j > 0 && a[j - 1] > v; j--)
				a[j] = a[j - 1];
			a[j] = v;
		}
		return;
	}
	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++)
			count[b][(a[i] >> (8 * b)) & 0xff]++;
	for (b = 0; b < 8; b++) {
		size_t *c = count[b];

		if (c[(a[0] >> (8 * b)) & 0xff] == n)
			continue;       /* every value has this byte: the pass changes nothing */
		for (i = 0, sum = 0; i < 256; i++) {
			size_t k = c[i];

			c[i] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			dst[c[(src[i] >> (8 * b)) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* Type 7 quantile of x[0..n) sorted, exactly (see stat.h). */
static struct dec quantile_of(enum xtcp_value_kind kind, const uint64_t *x, size_t n,
			      const struct quantile *q)
{
	u128 h = (u128)(n - 1) * q->a;
	size_t j = (size_t)(h / q->den);
	uint64_t delta = (uint64_t)(h % q->den);
	struct dec d;

	if (!delta)
		return dec_int(value_of(kind, x[j]));
	d.m = value_of(kind, x[j]) * (i128)(q->den - delta) + value_of(kind, x[j + 1]) * (i128)delta;
	d.scale = q->digits;
	return d;
}

static int plan_slots(struct xtcp_stat *s, struct xtcp_stat_poll *poll)
{
	size_t g = s->n_groups, shown = g, i;

	if (XTCP_ALLOC_GROW(s->order, g + 1, s->order_cap) < 0)
		return -1;
	for (i = 0; i < g; i++)
		s->order[i] = (uint32_t)i;
	s->other = s->max_series && g > s->max_series;
	if (s->other) {
		qsort_r(s->order, g, sizeof(*s->order), by_count_then_key, s);
		shown = s->max_series - 1;
	}
	qsort_r(s->order, shown, sizeof(*s->order), by_key, s);
	s->n_slots = shown + s->other;
	for (i = 0; i < g; i++)
		s->groups[s->order[i]].slot = (uint32_t)(i < shown ? i : shown);
	poll->groups = g;
	poll->folded = g - shown;
	if (XTCP_ALLOC_GROW(s->slot_start, s->n_slots + 1, s->slot_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->slot_count, s->n_slots + 1, s->slot_count_cap) < 0)
		return -1;
	memset(s->slot_count, 0, (s->n_slots + 1) * sizeof(*s->slot_count));
	for (i = 0; i < g; i++)
		s->slot_count[s->groups[i].slot] += s->groups[i].count;
	for (i = 0, s->slot_start[0] = 0; i < s->n_slots; i++)
		s->slot_start[i + 1] = s->slot_start[i] + s->slot_count[i];
	return 0;
}

static int compute(struct xtcp_stat *s)
{
	size_t nv = s->n_values, ns = s->n_stats, v, r, i, k;

	if (XTCP_ALLOC_GROW(s->results, s->n_slots * nv * ns + 1, s->results_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->sorted, s->rows + 1, s->sorted_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->tmp, s->rows + 1, s->tmp_cap) < 0 ||
	    XTCP_ALLOC_GROW(s->order, s->n_groups + s->n_slots + 1, s->order_cap) < 0)
		return -1;
	for (v = 0; v < nv; v++) {
		enum xtcp_value_kind kind = s->values[v].k.kind;
		/* each slot's next place in s->sorted: s->tmp as scratch for the cursors */
		size_t *cursor = (size_t *)(void *)s->tmp;

		for (i = 0; i < s->n_slots; i++)
			cursor[i] = s->slot_start[i];
		for (r = 0; r < s->rows; r++)
			s->sorted[cursor[s->groups[s->row_group[r]].slot]++] = s->vals[r * nv + v];
		for (i = 0; i < s->n_slots; i++) {
			uint64_t *x = s->sorted + s->slot_start[i];
			size_t n = s->slot_count[i];
			struct dec *out = s->results + (i * nv + v) * ns;
			i128 sum = 0;

			sort_u64(x, s->tmp, n);
			for (k = 0; k < n; k++)
				sum += value_of(kind, x[k]);
			out[0] = dec_int(sum);
			out[1] = dec_int(value_of(kind, x[0]));
			for (k = 0; k < s->n_q; k++)
				out[2 + k] = quantile_of(kind, x, n, &s->q[k]);
			out[ns - 1] = dec_int(value_of(kind, x[n - 1]));
		}
	}
	return 0;
}

/* --- rendering ------------------------------------------------------------------------ */

/* Room for @n more bytes of text; NULL (and s->oom) when there is none. */
static char *room(struct xtcp_stat *s, size_t n)
{
	if (s->oom)
		return NULL;
	if (XTCP_ALLOC_GROW(s->text, s->text_len + n, s->text_cap) < 0) {
		s->oom = true;
		return NULL;
	}
	return s->text + s->text_len;
}

static void put(struct xtcp_stat *s, const char *str, size_t n)
{
	char *p = room(s, n);

	if (p) {
		memcpy(p, str, n);
		s->text_len += n;
	}
}

static void puts_(struct xtcp_stat *s, const char *str)
{
	put(s, str, strlen(str));
}

static void put_spaces(struct xtcp_stat *s, size_t n)
{
	char *p = room(s, n);

	if (p) {
		memset(p, ' ', n);
		s->text_len += n;
	}
}

static void put_dec_text(struct xtcp_stat *s, struct dec d, bool json)
{
	char *p = room(s, 64);

	if (p)
		s->text_len += (size_t)((json ? put_json_dec(p, d) : put_dec(p, d)) - p);
}

static void put_int(struct xtcp_stat *s, i128 v, bool json)
{
	put_dec_text(s, dec_int(v), json);
}

/* The key values of group @g into s->rec, to render them with lib/format. */
static void load_key(struct xtcp_stat *s, const struct group *g)
{
	const uint8_t *p = s->arena + g->key_off;
	size_t i;

	for (i = 0; i < s->n_keys; i++) {
		const struct key *k = &s->keys[i];
		char *at = (char *)&s->rec + k->offset;
		ProtobufCBinaryData b;
		uint32_t len;

		switch (k->kind) {
		case XTCP_VALUE_U64:
		case XTCP_VALUE_I64:
			memcpy(at, p, 8);
			p += 8;
			break;
		case XTCP_VALUE_STRING: {
			char *str = (char *)(uintptr_t)p;

			memcpy(at, &str, sizeof(str));
			p += strlen(str) + 1;
			break;
		}
		case XTCP_VALUE_ADDR:
			memcpy(&s->rec.inet_diag_msg_family, p, 4);
			p += 4;
			/* fall through */
		case XTCP_VALUE_BYTES:
			memcpy(&len, p, 4);
			b.len = len;
			b.data = (uint8_t *)(uintptr_t)(p + 4);
			memcpy(at, &b, sizeof(b));
			p += 4 + len;
			break;
		default:
			memcpy(at, p, 4);
			p += 4;
		}
	}
}

/* Key @i of the loaded record as @kind writes it, appended to the text. */
static void put_key(struct xtcp_stat *s, size_t i, enum xtcp_format_kind kind)
{
	const struct xtcp_field *f = s->keys[i].f;
	char *p = room(s, xtcp_format_value_max(f, &s->rec));

	if (p)
		s->text_len += xtcp_format_value(kind, f, &s->rec, p);
}

/* Columns on a terminal: UTF-8 sequences count one (what put_text_string writes). */
static size_t text_width(const char *p, size_t n)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++)
		w += ((unsigned char)p[i] & 0xc0) != 0x80;
	return w;
}

static struct group *slot_group(const struct xtcp_stat *s, size_t slot)
{
	return &s->groups[s->order[slot]];
}

static bool is_other(const struct xtcp_stat *s, size_t slot)
{
	return s->other && slot == s->n_slots - 1;
}

/* --- text: a table for people ---------------------------------------------------------- */

static void put_time(struct xtcp_stat *s, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[64];

	if (ns % 1000000000 < 0)
		t--;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sizeof(buf), "%lld ns", (long long)ns);
	puts_(s, buf);
}

/*
 * A cell of the table, rendered at the end of the text, measured, and taken
 * back: the widths come before the lines.
 */
static size_t measure_key(struct xtcp_stat *s, size_t slot, size_t k)
{
	size_t start = s->text_len, w;

	if (is_other(s, slot))
		return k ? 0 : strlen("(other)");
	put_key(s, k, XTCP_FORMAT_TEXT);
	w = s->text_len > start ? text_width(s->text + start, s->text_len - start) : 1;
	s->text_len = start;
	return w;
}

static size_t dec_len(struct dec d)
{
	char buf[64];

	return (size_t)(put_dec(buf, d) - buf);
}

static size_t int_len(uint64_t v)
{
	return dec_len(dec_int((i128)v));
}

static char upper_char(char c)
{
	return (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
}

static void upper(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = upper_char(src[i]);
	dst[i] = '\0';
}

static void put_left(struct xtcp_stat *s, const char *str, size_t width)
{
	size_t w = text_width(str, strlen(str));

	puts_(s, str);
	if (width > w)
		put_spaces(s, width - w);
}

static void put_right(struct xtcp_stat *s, const char *str, size_t width)
{
	size_t w = strlen(str);

	if (width > w)
		put_spaces(s, width - w);
	puts_(s, str);
}

static void render_text(struct xtcp_stat *s, const struct xtcp_stat_poll *poll)
{
	size_t nk = s->n_keys, nv = s->n_values, ns = s->n_stats;
	size_t kw[XTCP_STAT_MAX_LIST], sw[XTCP_STAT_MAX_LIST + 3], count_w, field_w;
	size_t slot, k, v, i;
	char title[80], num[64];

	if (s->polls)
		puts_(s, "\n");
	if (poll->record_kind == XTCP_RECORD_KIND_POLL) {
		puts_(s, "poll");
	} else if (poll->record_kind == XTCP_RECORD_KIND_CLOSE) {
		puts_(s, "closed");
		if (poll->poll_sequence)
			puts_(s, " after poll");
	} else {
		snprintf(num, sizeof(num), "records of kind %" PRIu32, poll->record_kind);
		puts_(s, num);
		if (poll->poll_sequence)
			puts_(s, " after poll");
	}
	if (poll->poll_sequence) {
		snprintf(num, sizeof(num), " %llu", (unsigned long long)poll->poll_sequence);
		puts_(s, num);
	}
	if (poll->timestamp_ns) {
		puts_(s, poll->record_kind == XTCP_RECORD_KIND_POLL ? " at " : ", from ");
		put_time(s, poll->timestamp_ns);
	}
	snprintf(num, sizeof(num), ": %llu socket%s in %zu group%s",
		 (unsigned long long)poll->rows, poll->rows == 1 ? "" : "s", poll->groups,
		 poll->groups == 1 ? "" : "s");
	puts_(s, num);
	if (poll->folded) {
		snprintf(num, sizeof(num), ", %zu of them shown as (other)", poll->folded);
		puts_(s, num);
	}
	puts_(s, "\n");

	/* widths: of the titles (when they are shown) and of every cell */
	for (k = 0; k < nk; k++)
		kw[k] = s->header ? strlen(s->keys[k].word) : 1;
	count_w = s->header ? strlen("SOCKETS") : 1;
	for (i = 0; i < ns; i++)
		sw[i] = !s->header ? 1 : i < 2 || i == ns - 1 ? 3 : strlen(s->q[i - 2].column);
	field_w = s->header ? strlen("FIELD") : 1;
	for (v = 0; v < nv; v++)
		if (strlen(s->values[v].label) > field_w)
			field_w = strlen(s->values[v].label);
	for (slot = 0; slot < s->n_slots; slot++) {
		if (!is_other(s, slot))
			load_key(s, slot_group(s, slot));
		for (k = 0; k < nk; k++) {
			size_t w = measure_key(s, slot, k);

			if (w > kw[k])
				kw[k] = w;
		}
		if (int_len(s->slot_count[slot]) > count_w)
			count_w = int_len(s->slot_count[slot]);
		for (v = 0; v < nv; v++)
			for (i = 0; i < ns; i++) {
				size_t w = dec_len(s->results[(slot * nv + v) * ns + i]);

				if (w > sw[i])
					sw[i] = w;
			}
	}

	if (s->header) {
		for (k = 0; k < nk; k++) {
			upper(title, s->keys[k].word, sizeof(title));
			put_left(s, title, kw[k]);
			puts_(s, "  ");
		}
		put_right(s, "SOCKETS", count_w);
		if (nv) {
			puts_(s, "  ");
			put_left(s, "FIELD", field_w);
			for (i = 0; i < ns; i++) {
				puts_(s, "  ");
				if (i == 0)
					put_right(s, "SUM", sw[i]);
				else if (i == 1)
					put_right(s, "MIN", sw[i]);
				else if (i == ns - 1)
					put_right(s, "MAX", sw[i]);
				else {
					upper(title, s->q[i - 2].column, sizeof(title));
					put_right(s, title, sw[i]);
				}
			}
		}
		puts_(s, "\n");
	}
	for (slot = 0; slot < s->n_slots; slot++) {
		if (!is_other(s, slot))
			load_key(s, slot_group(s, slot));
		for (v = 0; v < (nv ? nv : 1); v++) {
			for (k = 0; k < nk; k++) {
				size_t start = s->text_len, w;

				if (v > 0) {
					put_spaces(s, kw[k] + 2);
					continue;
				}
				if (is_other(s, slot)) {
					put_left(s, k == 0 ? "(other)" : "", kw[k]);
				} else {
					put_key(s, k, XTCP_FORMAT_TEXT);
					if (s->text_len == start)
						puts_(s, "-");
					w = text_width(s->text + start, s->text_len - start);
					if (kw[k] > w)
						put_spaces(s, kw[k] - w);
				}
				puts_(s, "  ");
			}
			if (v == 0) {
				*put_u128(num, s->slot_count[slot]) = '\0';
				put_right(s, num, count_w);
			} else {
				put_spaces(s, count_w);
			}
			if (nv) {
				const struct dec *r = s->results + (slot * nv + v) * ns;

				puts_(s, "  ");
				put_left(s, s->values[v].label, field_w);
				for (i = 0; i < ns; i++) {
					puts_(s, "  ");
					*put_dec(num, r[i]) = '\0';
					put_right(s, num, sw[i]);
				}
			}
			puts_(s, "\n");
		}
	}
}

/* --- JSON lines and CSV ------------------------------------------------------------------ */

static void put_stat_name(struct xtcp_stat *s, size_t i, const char *sep)
{
	puts_(s, sep);
	if (i == 0)
		puts_(s, "sum");
	else if (i == 1)
		puts_(s, "min");
	else if (i == s->n_stats - 1)
		puts_(s, "max");
	else
		puts_(s, s->q[i - 2].column);
}

/* record_kind as xtcp-fmt writes it: its name, or the number of a kind this build does not know */
static void put_kind(struct xtcp_stat *s, uint32_t kind, bool json)
{
	if (kind == XTCP_RECORD_KIND_POLL)
		puts_(s, json ? "\"RECORD_KIND_POLL\"" : "RECORD_KIND_POLL");
	else if (kind == XTCP_RECORD_KIND_CLOSE)
		puts_(s, json ? "\"RECORD_KIND_CLOSE\"" : "RECORD_KIND_CLOSE");
	else
		put_int(s, kind, json);
}

static void render_json(struct xtcp_stat *s, const struct xtcp_stat_poll *poll)
{
	size_t nv = s->n_values, ns = s->n_stats, slot, k, v, i;

	for (slot = 0; slot < s->n_slots; slot++) {
		puts_(s, "{\"poll_sequence\":");
		put_int(s, (i128)poll->poll_sequence, true);
		puts_(s, ",\"timestamp_ns\":");
		put_int(s, poll->timestamp_ns, true);
		puts_(s, ",\"record_kind\":");
		put_kind(s, poll->record_kind, true);
		if (is_other(s, slot)) {
			puts_(s, ",\"group\":null,\"other_groups\":");
			put_int(s, (i128)poll->folded, true);
		} else {
			load_key(s, slot_group(s, slot));
			puts_(s, ",\"group\":{");
			for (k = 0; k < s->n_keys; k++) {
				puts_(s, k ? ",\"" : "\"");
				puts_(s, s->keys[k].word);
				puts_(s, "\":");
				put_key(s, k, XTCP_FORMAT_JSON);
			}
			puts_(s, "}");
		}
		puts_(s, ",\"count\":");
		put_int(s, (i128)s->slot_count[slot], true);
		for (v = 0; v < nv; v++) {
			const struct dec *r = s->results + (slot * nv + v) * ns;

			puts_(s, ",\"");
			puts_(s, s->values[v].k.word);
			puts_(s, "\":{");
			for (i = 0; i < ns; i++) {
				put_stat_name(s, i, i ? ",\"" : "\"");
				puts_(s, "\":");
				put_dec_text(s, r[i], true);
			}
			puts_(s, "}");
		}
		puts_(s, "}\n");
	}
}

static void render_csv(struct xtcp_stat *s, const struct xtcp_stat_poll *poll)
{
	size_t nv = s->n_values, ns = s->n_stats, slot, k, v, i;

	for (slot = 0; slot < s->n_slots; slot++) {
		bool other = is_other(s, slot);

		put_int(s, (i128)poll->poll_sequence, false);
		puts_(s, ",");
		put_int(s, poll->timestamp_ns, false);
		puts_(s, ",");
		put_kind(s, poll->record_kind, false);
		if (!other)
			load_key(s, slot_group(s, slot));
		for (k = 0; k < s->n_keys; k++) {
			puts_(s, ",");
			if (!other)
				put_key(s, k, XTCP_FORMAT_CSV);
		}
		if (s->max_series) {
			puts_(s, ",");
			put_int(s, other ? (i128)poll->folded : 0, false);
		}
		puts_(s, ",");
		put_int(s, (i128)s->slot_count[slot], false);
		for (v = 0; v < nv; v++)
			for (i = 0; i < ns; i++) {
				puts_(s, ",");
				put_dec_text(s, s->results[(slot * nv + v) * ns + i], false);
			}
		puts_(s, "\n");
	}
}

/* --- the Prometheus text exposition format ---------------------------------------------- */

/* Label @k of the loaded record's key, escaped (lib/format.h). */
static int label_value(struct xtcp_stat *s, size_t k)
{
	const struct xtcp_field *f = s->keys[k].f;
	size_t max = xtcp_format_value_max(f, &s->rec);

	if (XTCP_ALLOC_GROW(s->label_buf, s->label_len + max, s->label_cap) < 0)
		return -1;
	s->label_len += xtcp_format_label_value(f, &s->rec, s->label_buf + s->label_len);
	return 0;
}

static int label_text(struct xtcp_stat *s, const char *str)
{
	size_t n = strlen(str);

	if (XTCP_ALLOC_GROW(s->label_buf, s->label_len + n + 1, s->label_cap) < 0)
		return -1;
	memcpy(s->label_buf + s->label_len, str, n);
	s->label_len += n;
	return 0;
}

/* Each slot's labels, `netns="blue",state="ESTABLISHED"` (without braces), in s->label_buf. */
static int build_labels(struct xtcp_stat *s)
{
	size_t slot, k;

	s->label_len = 0;
	if (XTCP_ALLOC_GROW(s->label_off, s->n_slots + 1, s->label_off_cap) < 0)
		return -1;
	for (slot = 0; slot < s->n_slots; slot++) {
		s->label_off[slot] = s->label_len;
		if (is_other(s, slot)) {
			if (label_text(s, "other=\"true\"") < 0)
				return -1;
			continue;
		}
		load_key(s, slot_group(s, slot));
		for (k = 0; k < s->n_keys; k++) {
			if (label_text(s, k ? "," : "") < 0 || label_text(s, s->keys[k].word) < 0 ||
			    label_text(s, "=\"") < 0 || label_value(s, k) < 0 || label_text(s, "\"") < 0)
				return -1;
		}
	}
	s->label_off[s->n_slots] = s->label_len;
	return 0;
}

/* name{labels[,extra]} */
static void put_series(struct xtcp_stat *s, const char *name, const char *suffix, size_t slot,
		       const char *extra)
{
	size_t n = s->label_off[slot + 1] - s->label_off[slot];

	puts_(s, name);
	puts_(s, suffix);
	if (!n && !extra) {
		puts_(s, " ");
		return;
	}
	puts_(s, "{");
	put(s, s->label_buf + s->label_off[slot], n);
	if (extra) {
		if (n)
			puts_(s, ",");
		puts_(s, extra);
	}
	puts_(s, "} ");
}

/* HELP text: \ and newline escaped, as the format asks. */
static void put_help(struct xtcp_stat *s, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_help(struct xtcp_stat *s, const char *name, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	puts_(s, "# HELP ");
	puts_(s, name);
	puts_(s, " ");
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '\\')
			puts_(s, "\\\\");
		else if (buf[i] == '\n')
			puts_(s, "\\n");
		else
			put(s, buf + i, 1);
	}
	puts_(s, "\n");
}

static void put_type(struct xtcp_stat *s, const char *name, const char *type)
{
	puts_(s, "# TYPE ");
	puts_(s, name);
	puts_(s, " ");
	puts_(s, type);
	puts_(s, "\n");
}

static struct dec to_base(const struct value *v, struct dec d)
{
	d.m *= (i128)v->mul;
	d.scale += v->shift;
	return d;
}

static void render_openmetrics(struct xtcp_stat *s, const struct xtcp_stat_poll *poll)
{
	size_t nv = s->n_values, ns = s->n_stats, slot, v, i;
	char extra[48], by[600], unit[40];

	if (build_labels(s) < 0) {
		s->oom = true;
		return;
	}
	if (s->n_keys)
		snprintf(by, sizeof(by), "by %s", s->by_list);
	else
		snprintf(by, sizeof(by), "all in one group");
	put_help(s, "xtcp_stat_poll_timestamp_seconds",
		 "Start of the poll summarised (the timestamp_ns of its first record), in seconds "
		 "since the epoch.");
	put_type(s, "xtcp_stat_poll_timestamp_seconds", "gauge");
	if (poll->rows) {
		puts_(s, "xtcp_stat_poll_timestamp_seconds ");
		put_dec_text(s, (struct dec){ poll->timestamp_ns, 9 }, false);
		puts_(s, "\n");
	}
	put_help(s, "xtcp_sockets", "TCP sockets (records) in the poll, %s.", by);
	put_type(s, "xtcp_sockets", "gauge");
	for (slot = 0; slot < s->n_slots; slot++) {
		put_series(s, "xtcp_sockets", "", slot, NULL);
		put_int(s, (i128)s->slot_count[slot], false);
		puts_(s, "\n");
	}
	if (s->max_series) {
		put_help(s, "xtcp_stat_other_groups",
			 "Groups of the poll over --max-series %zu, folded into the series labelled "
			 "other=\"true\".", s->max_series);
		put_type(s, "xtcp_stat_other_groups", "gauge");
		puts_(s, "xtcp_stat_other_groups ");
		put_int(s, (i128)poll->folded, false);
		puts_(s, "\n");
	}
	for (v = 0; v < nv; v++) {
		const struct value *val = &s->values[v];

		unit[0] = '\0';
		if (val->unit_word)
			snprintf(unit, sizeof(unit), ", in %s", val->unit_word);
		put_help(s, val->metric, "%c%s (%s%s): quantiles, sum and count over the sockets of "
			 "each group in the poll, %s.", upper_char(val->k.f->meaning[0]),
			 val->k.f->meaning[0] ? val->k.f->meaning + 1 : "", val->k.f->name, unit, by);
		put_type(s, val->metric, "summary");
		for (slot = 0; slot < s->n_slots; slot++) {
			const struct dec *r = s->results + (slot * nv + v) * ns;

			for (i = 0; i < s->n_q; i++) {
				snprintf(extra, sizeof(extra), "quantile=\"%s\"", s->q[i].label);
				put_series(s, val->metric, "", slot, extra);
				put_dec_text(s, to_base(val, r[2 + i]), false);
				puts_(s, "\n");
			}
			put_series(s, val->metric, "_sum", slot, NULL);
			put_dec_text(s, to_base(val, r[0]), false);
			puts_(s, "\n");
			put_series(s, val->metric, "_count", slot, NULL);
			put_int(s, (i128)s->slot_count[slot], false);
			puts_(s, "\n");
		}
		for (i = 0; i < 2; i++) {
			const char *name = i ? val->metric_max : val->metric_min;

			put_help(s, name, "%s %s (%s%s) of the sockets of each group in the poll, %s.",
				 i ? "Largest" : "Smallest", val->k.f->meaning, val->k.f->name, unit, by);
			put_type(s, name, "gauge");
			for (slot = 0; slot < s->n_slots; slot++) {
				put_series(s, name, "", slot, NULL);
				put_dec_text(s, to_base(val, s->results[(slot * nv + v) * ns +
								       (i ? ns - 1 : 1)]), false);
				puts_(s, "\n");
			}
		}
	}
}

int xtcp_stat_summarise(struct xtcp_stat *s, struct xtcp_stat_poll *poll, const char **text,
			size_t *len)
{
	memset(poll, 0, sizeof(*poll));
	poll->poll_sequence = s->seq;
	poll->timestamp_ns = s->ts;
	poll->record_kind = s->kind;
	poll->rows = s->rows;
	s->text_len = 0;
	s->oom = false;
	if (plan_slots(s, poll) < 0 || compute(s) < 0)
		goto err;
	switch (s->format) {
	case XTCP_STAT_TEXT:
		render_text(s, poll);
		break;
	case XTCP_STAT_JSON:
		render_json(s, poll);
		break;
	case XTCP_STAT_CSV:
		render_csv(s, poll);
		break;
	case XTCP_STAT_OPENMETRICS:
		render_openmetrics(s, poll);
		break;
	}
	if (s->oom)
		goto err;
	s->polls++;
	xtcp_stat_reset(s);
	*text = s->text;
	*len = s->text_len;
	return 0;
err:
	xtcp_stat_reset(s);
	errno = ENOMEM;
	return -1;
}

/* The CSV header, rendered once with the text buffer's writers and kept. */
static int build_preamble(struct xtcp_stat *s)
{
	size_t i, j;

	if (s->format != XTCP_STAT_CSV || !s->header)
		return 0;
	s->text_len = 0;
	puts_(s, "poll_sequence,timestamp_ns,record_kind");
	for (i = 0; i < s->n_keys; i++) {
		puts_(s, ",");
		puts_(s, s->keys[i].word);
	}
	if (s->max_series)
		puts_(s, ",other_groups");
	puts_(s, ",count");
	for (i = 0; i < s->n_values; i++)
		for (j = 0; j < s->n_stats; j++) {
			puts_(s, ",");
			puts_(s, s->values[i].k.word);
			put_stat_name(s, j, "_");
		}
	puts_(s, "\n");
	if (s->oom)
		return -1;
	s->preamble = s->text;
	s->preamble_len = s->text_len;
	s->text = NULL;
	s->text_len = s->text_cap = 0;
	return 0;
}
