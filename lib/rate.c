#include "rate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "record.h"
#include "wire.h"

/*
 * The row is read by scanning its bytes once, as the filter does: decoding
 * the whole record and encoding it again would cost four times as much, and
 * the row goes out as it came, with the rate fields after it.
 *
 * What each field number is to the follower: (role << 4) | wire type, the
 * wire type 0xf for a number the schema does not know.  The scan looks up
 * the whole key (number << 3 | wire type) in a table made from it: one load
 * a field says what to do with it, the wire type checked on the way.
 */
enum role {
	R_SKIP, R_TS, R_HOST, R_NETNS, R_FAMILY, R_STATE, R_SPORT, R_DPORT, R_SRC, R_DST,
	R_COOKIE, R_INFO_STATE, R_POLL, R_KIND, R_OUT, R_COUNTER /* + counter index */
};
#define WIRE_UNKNOWN 0xfu
#define NO_OUT 0xffu

/* What the scan does with a key: skip it, a malformed field, or read it for a role. */
enum action {
	A_SKIP_VARINT, A_SKIP_LEN, A_SKIP_I64, A_SKIP_I32, A_BAD,
	A_OUT,          /* a rate field the row holds already: skipped, and the row noted */
	A_ROLE          /* + role */
};

/* A field the schema does not know, by its wire type. */
static const uint8_t skip_unknown[8] = {
	A_SKIP_VARINT, A_SKIP_I64, A_SKIP_LEN, A_BAD, A_BAD, A_SKIP_I32, A_BAD, A_BAD
};

#define NONE UINT32_MAX         /* no entry */
#define OUT_MAX 64              /* rate fields: one bit each in xtcp_rate_result.present */

/* A field the follower writes, and where its value comes from. */
struct out_field {
	uint8_t tag[XTCP_TAG_MAX];
	uint8_t tag_len;
	size_t value;           /* where in struct xtcp_rate_result its value is */
};

struct tuple {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t sport;
	uint32_t dport;
	uint32_t family;
	uint8_t src_len;
	uint8_t dst_len;
};

/* One row as the scan saw it. */
struct scanned {
	int64_t ts;
	uint64_t host;          /* hash of the hostname's bytes */
	uint64_t netns_inode;
	uint64_t cookie;
	uint64_t poll;
	struct tuple tuple;
	uint32_t state;
	uint32_t info_state;
	uint32_t kind;          /* record_kind */
	bool replace;
	size_t split;           /* the offset of the first field numbered out_first or above */
	uint64_t counter[XTCP_RATE_COUNTERS_MAX];
};

/*
 * An entry of the pool; its counters follow it (r->n_wide 64-bit ones,
 * then the 32-bit ones), r->stride bytes in all.  @prev and @next link the
 * entries in the order they were last seen (the oldest first), or, for a
 * free entry, the free list.
 */
struct entry {
	uint64_t hash;
	uint64_t host;
	uint64_t netns_inode;
	uint64_t cookie;
	int64_t ts;
	uint64_t poll;
	struct tuple tuple;
	uint32_t state;
	uint32_t prev;
	uint32_t next;
	bool has_info;
	uint64_t counters[];
};

struct xtcp_rate {
	unsigned forget;
	struct xtcp_rate_counter counters[XTCP_RATE_COUNTERS_MAX];
	size_t n_counters;
	size_t n_wide;          /* the first n_wide counters are 64-bit */
	uint8_t per_s_counter[XTCP_RATE_COUNTERS_MAX];  /* the counters with a rate */
	size_t n_per_s;
	struct out_field out[OUT_MAX];                  /* the fields written, by number */
	size_t n_out;
	uint32_t out_first;     /* the lowest number of a field written */
	uint64_t out_first_key; /* its key with wire type 0: a key at or above it is numbered so */
	uint8_t interval_out;                           /* indexes of out[] */
	uint8_t delta_out[XTCP_RATE_COUNTERS_MAX];
	uint8_t per_s_out[XTCP_RATE_COUNTERS_MAX];
	uint16_t *roles;        /* by field number */
	size_t n_roles;
	uint8_t *actions;       /* enum action, by key */
	size_t n_actions;
	uint64_t no_host;       /* the hash of an empty hostname */

	struct xtcp_poll poll;

	uint8_t *pool;          /* entries, stride bytes each */
	size_t stride;
	size_t pool_bytes;      /* allocated */
	uint32_t n_entries;     /* used, free ones included */
	uint32_t free_list;
	uint32_t oldest, newest;
	size_t live;

	uint64_t *slots;        /* (hash >> 32) << 32 | (entry + 1); 0 empty */
	size_t mask;

	uint8_t *row;           /* xtcp_rate_encode's output */
	size_t row_cap;

	uint64_t forgotten;
	uint64_t allocations;
};

static uint64_t hash_bytes(const uint8_t *p, size_t n);

/* --- the schema's rate fields ------------------------------------------- */

static bool ends_with(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n <= m || strcmp(s + n - m, suffix))
		return false;
	*stem = n - m;
	return true;
}

static bool is_counter_type(const struct xtcp_field *f)
{
	return f && (f->kind == XTCP_VALUE_U32 || f->kind == XTCP_VALUE_U64);
}

/* A field to write, its value at @value in struct xtcp_rate_result; returns its index, or -1. */
static int add_out(struct xtcp_rate *r, const struct xtcp_field *f, size_t value)
{
	struct out_field *o = &r->out[r->n_out];

	if (r->n_out == OUT_MAX)
		return -1;
	o->tag_len = (uint8_t)xtcp_varint_put(o->tag, XTCP_WIRE_KEY(f->number, XTCP_WIRE_VARINT));
	o->value = value;
	if (!r->n_out || f->number < r->out_first)
		r->out_first = f->number;
	return (int)r->n_out++;
}

/* The counter whose field is @name[0..n), or -1. */
static int counter_named(const struct xtcp_rate *r, const char *name, size_t n)
{
	size_t c;

	for (c = 0; c < r->n_counters; c++)
		if (strlen(r->counters[c].field->name) == n &&
		    !strncmp(r->counters[c].field->name, name, n))
			return (int)c;
	return -1;
}

/*
 * The counters, 64-bit ones first (as the entries keep them), each kind in
 * the order of its _delta field; then the fields written, in number order.
 */
static int find_counters(struct xtcp_rate *r)
{
	size_t i, stem, pass;
	int c;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < xtcp_schema_n; i++) {
			const struct xtcp_field *f = &xtcp_schema[i], *base;
			struct xtcp_rate_counter *k = &r->counters[r->n_counters];

			if (!ends_with(f->name, "_delta", &stem))
				continue;
			base = xtcp_schema_find(f->name, stem);
			if (!is_counter_type(base) || f->kind != base->kind)
				return -1;
			if ((base->kind == XTCP_VALUE_U64) != (pass == 0))
				continue;
			if (r->n_counters == XTCP_RATE_COUNTERS_MAX)
				return -1;
			k->field = base;
			k->delta = f;
			k->wide = pass == 0;
			r->n_counters++;
			r->n_wide += k->wide;
		}
	}
	for (i = 0; i < xtcp_schema_n; i++) {
		const struct xtcp_field *f = &xtcp_schema[i];
		int out = 0;

		if (ends_with(f->name, "_delta", &stem)) {
			c = counter_named(r, f->name, stem);
			out = add_out(r, f, offsetof(struct xtcp_rate_result, delta) +
					    (size_t)c * sizeof(uint64_t));
			r->delta_out[c] = (uint8_t)out;
		} else if (ends_with(f->name, "_per_s", &stem)) {
			c = counter_named(r, f->name, stem);
			if (c < 0 || f->kind != XTCP_VALUE_U64)
				return -1;
			out = add_out(r, f, offsetof(struct xtcp_rate_result, per_s) +
					    (size_t)c * sizeof(uint64_t));
			r->counters[c].per_s = f;
			r->per_s_counter[r->n_per_s++] = (uint8_t)c;
			r->per_s_out[c] = (uint8_t)out;
		} else if (!strcmp(f->name, "rate_interval_ns")) {
			if (f->kind != XTCP_VALUE_U64)
				return -1;
			out = add_out(r, f, offsetof(struct xtcp_rate_result, interval_ns));
			r->interval_out = (uint8_t)out;
		}
		if (out < 0)
			return -1;
	}
	return r->n_out && r->interval_out != NO_OUT ? 0 : -1;
}

/* The fields the scan reads besides the counters. */
static const struct {
	const char *name;
	enum role role;
} read_fields[] = {
	{ "timestamp_ns", R_TS },
	{ "hostname", R_HOST },
	{ "netns_inode", R_NETNS },
	{ "inet_diag_msg_family", R_FAMILY },
	{ "inet_diag_msg_state", R_STATE },
	{ "inet_diag_msg_socket_source_port", R_SPORT },
	{ "inet_diag_msg_socket_destination_port", R_DPORT },
	{ "inet_diag_msg_socket_source", R_SRC },
	{ "inet_diag_msg_socket_destination", R_DST },
	{ "inet_diag_msg_socket_cookie", R_COOKIE },
	{ "tcp_info_state", R_INFO_STATE },
	{ "poll_sequence", R_POLL },
	{ "record_kind", R_KIND },
};

static int set_role(struct xtcp_rate *r, const char *name, enum role role)
{
	const struct xtcp_field *f = xtcp_schema_find(name, strlen(name));

	if (!f)
		return -1;
	r->roles[f->number] = (uint16_t)((r->roles[f->number] & 0xf) | role << 4);
	return 0;
}

static int build_actions(struct xtcp_rate *r)
{
	size_t key;

	r->n_actions = r->n_roles << 3;
	r->actions = malloc(r->n_actions);
	if (!r->actions) {
		errno = ENOMEM;
		return -1;
	}
	for (key = 0; key < r->n_actions; key++) {
		unsigned info = r->roles[key >> 3], wt = key & 7, role = info >> 4;

		if ((info & 0xf) != WIRE_UNKNOWN && (info & 0xf) != wt)
			r->actions[key] = A_BAD;
		else if (role == R_SKIP)
			r->actions[key] = skip_unknown[wt];
		else
			r->actions[key] = (uint8_t)(role == R_OUT ? A_OUT : A_ROLE + role);
	}
	return 0;
}

static int build_roles(struct xtcp_rate *r)
{
	size_t i;

	for (i = 0; i < xtcp_schema_n; i++)
		if (xtcp_schema[i].number >= r->n_roles)
			r->n_roles = xtcp_schema[i].number + 1;
	r->roles = malloc(r->n_roles * sizeof(*r->roles));
	if (!r->roles) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < r->n_roles; i++)
		r->roles[i] = WIRE_UNKNOWN;
	for (i = 0; i < xtcp_schema_n; i++)
		r->roles[xtcp_schema[i].number] = (uint16_t)xtcp_field_wire_type(&xtcp_schema[i]);
	for (i = 0; i < sizeof(read_fields) / sizeof(read_fields[0]); i++)
		if (set_role(r, read_fields[i].name, read_fields[i].role) < 0)
			goto err_schema;
	for (i = 0; i < r->n_counters; i++) {
		r->roles[r->counters[i].field->number] |= (uint16_t)((R_COUNTER + i) << 4);
		r->roles[r->counters[i].delta->number] |= R_OUT << 4;
		if (r->counters[i].per_s)
			r->roles[r->counters[i].per_s->number] |= R_OUT << 4;
	}
	if (set_role(r, "rate_interval_ns", R_OUT) < 0)
		goto err_schema;
	return build_actions(r);
err_schema:
	errno = EINVAL;
	return -1;
}

struct xtcp_rate *xtcp_rate_new(unsigned forget_polls)
{
	struct xtcp_rate *r;

	if (!forget_polls) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->forget = forget_polls;
	r->free_list = r->oldest = r->newest = NONE;
	r->interval_out = NO_OUT;
	r->no_host = hash_bytes((const uint8_t *)"", 0);
	if (find_counters(r) < 0) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	if (build_roles(r) < 0) {
		xtcp_rate_free(r);
		return NULL;
	}
	r->out_first_key = (uint64_t)r->out_first << 3;
	r->stride = (sizeof(struct entry) + r->n_wide * 8 + (r->n_counters - r->n_wide) * 4 + 7) &
		    ~(size_t)7;
	return r;
}

void xtcp_rate_free(struct xtcp_rate *r)
{
	if (!r)
		return;
	free(r->roles);
	free(r->actions);
	free(r->pool);
	free(r->slots);
	free(r->row);
	free(r);
}

const struct xtcp_rate_counter *xtcp_rate_counters(const struct xtcp_rate *r, size_t *n)
{
	*n = r->n_counters;
	return r->counters;
}

void xtcp_rate_stats(const struct xtcp_rate *r, struct xtcp_rate_stats *st)
{
	st->sockets = r->live;
	st->entries_max = r->stride ? r->pool_bytes / r->stride : 0;
	st->slots = r->slots ? r->mask + 1 : 0;
	st->polls = r->poll.count;
	st->forgotten = r->forgotten;
	st->allocations = r->allocations;
}

/* --- the scan ------------------------------------------------------------ */

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static void take_address(uint8_t *to, uint8_t *to_len, const uint8_t *p, size_t n)
{
	/* a longer one is no address; its first 16 bytes stand for it */
	*to_len = (uint8_t)(n > 16 ? 17 : n);
	memset(to, 0, 16);
	memcpy(to, p, n > 16 ? 16 : n);
}

static void prefetch_slot(const struct xtcp_rate *r, const struct scanned *s);

/* A varint field of @role: where the scan keeps it. */
static inline void take_varint(const struct xtcp_rate *r, struct scanned *s, unsigned role,
			       uint64_t v)
{
	switch (role) {
	case R_TS:
		s->ts = (int64_t)v;
		break;
	case R_NETNS:
		s->netns_inode = v;
		break;
	case R_FAMILY:
		s->tuple.family = (uint32_t)v;
		break;
	case R_STATE:
		s->state = (uint32_t)v;
		break;
	case R_SPORT:
		s->tuple.sport = (uint32_t)v;
		break;
	case R_DPORT:
		s->tuple.dport = (uint32_t)v;
		break;
	case R_COOKIE:
		s->cookie = v;
		/* the last of the key's fields, by number: fetch its slot while the scan goes on */
		prefetch_slot(r, s);
		break;
	case R_INFO_STATE:
		s->info_state = (uint32_t)v;
		break;
	case R_POLL:
		s->poll = v;
		break;
	case R_KIND:
		s->kind = (uint32_t)v;
		break;
	default: {
		unsigned c = role - R_COUNTER;

		s->counter[c] = r->counters[c].wide ? v : (uint32_t)v;
		break;
	}
	}
}

static int scan(const struct xtcp_rate *r, const uint8_t *p, size_t len, struct scanned *s)
{
	const uint8_t *row = p, *end, *roomy_end, *actions = r->actions;
	uint64_t n_actions = r->n_actions, split_key = r->out_first_key;

	memset(s, 0, offsetof(struct scanned, counter));
	memset(s->counter, 0, r->n_counters * sizeof(s->counter[0]));
	s->host = r->no_host;
	s->split = len;
	if (!len)
		return 0;       /* a record of zeros (@p may be NULL) */
	end = p + len;
	roomy_end = len > XTCP_TAG_MAX + XTCP_VARINT_MAX ? end - XTCP_TAG_MAX - XTCP_VARINT_MAX : p;
	while (p < end) {
		struct xtcp_varint x;
		unsigned act, role;

		/* most fields have room to spare after them: no bounds checks there */
		if (p < roomy_end) {
			x = xtcp_wire_tag_fast(p);
			if (x.next) {
				if (x.value >= split_key) {
					s->split = (size_t)(p - row);
					split_key = UINT64_MAX;
				}
				p = x.next;
				act = x.value < n_actions ? actions[x.value] : skip_unknown[x.value & 7];
				if (act != A_SKIP_VARINT)
					goto act;
				if (!(p = xtcp_varint_skip_fast(p)))
					goto bad;
				continue;
			}
		}
		x = xtcp_wire_tag(p, end);
		if (!x.next)
			goto bad;
		if (x.value >= split_key) {
			s->split = (size_t)(p - row);
			split_key = UINT64_MAX;
		}
		p = x.next;
		act = x.value < n_actions ? actions[x.value] : skip_unknown[x.value & 7];
act:
		if (act == A_SKIP_VARINT || act == A_OUT) {
			s->replace |= act == A_OUT;
			if (!(p = xtcp_varint_skip(p, end)))
				goto bad;
			continue;
		}
		if (act < A_ROLE) {
			if (act == A_BAD || !(p = xtcp_wire_skip(p, end, (unsigned)(x.value & 7))))
				goto bad;
			continue;
		}
		role = act - A_ROLE;
		if ((x.value & 7) == XTCP_WIRE_VARINT) {
			x = end - p >= XTCP_VARINT_MAX ? xtcp_varint_read_fast64(p, end) :
							  xtcp_varint_read(p, end);
			if (!x.next)
				goto bad;
			p = x.next;
			take_varint(r, s, role, x.value);
			continue;
		}
		x = xtcp_wire_len(p, end);
		if (!x.next)
			goto bad;
		p = x.next;
		if (role == R_HOST)
			s->host = hash_bytes(p, x.value);
		else if (role == R_SRC)
			take_address(s->tuple.src, &s->tuple.src_len, p, x.value);
		else
			take_address(s->tuple.dst, &s->tuple.dst_len, p, x.value);
		p += x.value;
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* --- the table ----------------------------------------------------------- */

static struct entry *entry_at(const struct xtcp_rate *r, uint32_t i)
{
	return (struct entry *)(void *)(r->pool + (size_t)i * r->stride);
}

static uint32_t *narrow_counters(const struct xtcp_rate *r, const struct entry *e)
{
	return (uint32_t *)(uintptr_t)(const void *)(e->counters + r->n_wide);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

static uint64_t key_hash(const struct scanned *s)
{
	uint64_t h = mix(mix(s->host, s->netns_inode), s->cookie);

	if (!s->cookie)
		h = mix(h, hash_bytes((const uint8_t *)&s->tuple, sizeof(s->tuple)));
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static bool same_tuple(const struct tuple *a, const struct tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool same_key(const struct entry *e, const struct scanned *s)
{
	return e->host == s->host && e->netns_inode == s->netns_inode && e->cookie == s->cookie &&
	       (s->cookie || same_tuple(&e->tuple, &s->tuple));
}

/*
 * The row's slot and entry are likely not in the cache (the table is as
 * large as the sockets are many): ask for them while the scan goes on.
 */
static void prefetch_slot(const struct xtcp_rate *r, const struct scanned *s)
{
	if (r->slots)
		__builtin_prefetch(&r->slots[key_hash(s) & r->mask]);
}

static uint64_t slot_value(uint64_t hash, uint32_t i)
{
	return (hash >> 32) << 32 | ((uint64_t)i + 1);
}

static void slot_put(struct xtcp_rate *r, uint64_t hash, uint32_t i)
{
	size_t k = hash & r->mask;

	while (r->slots[k])
		k = (k + 1) & r->mask;
	r->slots[k] = slot_value(hash, i);
}

static uint32_t lookup(const struct xtcp_rate *r, uint64_t hash, const struct scanned *s)
{
	uint64_t tag = (hash >> 32) << 32;
	size_t k;

	if (!r->slots)
		return NONE;
	for (k = hash & r->mask; r->slots[k]; k = (k + 1) & r->mask) {
		uint32_t i = (uint32_t)r->slots[k] - 1;

		if ((r->slots[k] & ~0xffffffffull) == tag && same_key(entry_at(r, i), s))
			return i;
	}
	return NONE;
}

/* Linear probing's deletion: the entries after the hole that may move back, do. */
static void slot_delete(struct xtcp_rate *r, uint64_t hash, uint32_t i)
{
	uint64_t want = slot_value(hash, i);
	size_t hole = hash & r->mask, k;

	while (r->slots[hole] != want)
		hole = (hole + 1) & r->mask;
	for (k = (hole + 1) & r->mask; r->slots[k]; k = (k + 1) & r->mask) {
		size_t home = entry_at(r, (uint32_t)r->slots[k] - 1)->hash & r->mask;

		/* it stays when its home lies after the hole, up to k (cyclically) */
		if (((k - home) & r->mask) < ((k - hole) & r->mask))
			continue;
		r->slots[hole] = r->slots[k];
		hole = k;
	}
	r->slots[hole] = 0;
}

static int grow_slots(struct xtcp_rate *r)
{
	size_t n = r->slots ? 2 * (r->mask + 1) : 64;
	uint64_t *slots = calloc(n, sizeof(*slots));
	uint32_t i;

	if (!slots) {
		errno = ENOMEM;
		return -1;
	}
	free(r->slots);
	r->slots = slots;
	r->mask = n - 1;
	r->allocations++;
	for (i = r->oldest; i != NONE; i = entry_at(r, i)->next)
		slot_put(r, entry_at(r, i)->hash, i);
	return 0;
}

static void unlink_entry(struct xtcp_rate *r, struct entry *e)
{
	if (e->prev != NONE)
		entry_at(r, e->prev)->next = e->next;
	else
		r->oldest = e->next;
	if (e->next != NONE)
		entry_at(r, e->next)->prev = e->prev;
	else
		r->newest = e->prev;
}

static void append_entry(struct xtcp_rate *r, struct entry *e, uint32_t i)
{
	e->prev = r->newest;
	e->next = NONE;
	if (r->newest != NONE)
		entry_at(r, r->newest)->next = i;
	else
		r->oldest = i;
	r->newest = i;
}

/* A new entry, in the table and newest; NONE when the pool or the table cannot grow. */
static uint32_t add_entry(struct xtcp_rate *r, uint64_t hash)
{
	uint32_t i;

	if ((r->live + 1) * 2 > (r->slots ? r->mask + 1 : 0) && grow_slots(r) < 0)
		return NONE;
	if (r->free_list != NONE) {
		i = r->free_list;
		r->free_list = entry_at(r, i)->next;
	} else {
		size_t before = r->pool_bytes, need = ((size_t)r->n_entries + 1) * r->stride;

		if (r->n_entries == NONE - 1 || XTCP_ALLOC_GROW(r->pool, need, r->pool_bytes) < 0)
			return NONE;
		r->allocations += r->pool_bytes != before;
		i = r->n_entries++;
	}
	entry_at(r, i)->hash = hash;
	slot_put(r, hash, i);
	append_entry(r, entry_at(r, i), i);
	r->live++;
	return i;
}

/* Entry @i leaves the table; its room is reused. */
static void drop_entry(struct xtcp_rate *r, struct entry *e, uint32_t i)
{
	slot_delete(r, e->hash, i);
	unlink_entry(r, e);
	e->next = r->free_list;
	r->free_list = i;
	r->live--;
}

/* A poll begins: drop the entries of sockets absent for r->forget polls. */
static void forget_absent(struct xtcp_rate *r)
{
	while (r->oldest != NONE) {
		uint32_t i = r->oldest;
		struct entry *e = entry_at(r, i);

		if (r->poll.count - e->poll <= r->forget)
			break;
		drop_entry(r, e, i);
		r->forgotten++;
	}
}

/* --- following ----------------------------------------------------------- */

static uint64_t per_second(uint64_t delta, uint64_t interval_ns)
{
	unsigned __int128 v;

	if (!delta)
		return 0;
	if (delta <= UINT64_MAX / 1000000000u)
		return delta * 1000000000u / interval_ns;
	v = (unsigned __int128)delta * 1000000000u / interval_ns;
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static void start_over(const struct xtcp_rate *r, struct entry *e, const struct scanned *s)
{
	size_t c;

	e->host = s->host;
	e->netns_inode = s->netns_inode;
	e->cookie = s->cookie;
	memcpy(&e->tuple, &s->tuple, sizeof(e->tuple));    /* padding too: compared whole */
	for (c = 0; c < r->n_wide; c++)
		e->counters[c] = s->counter[c];
	for (; c < r->n_counters; c++)
		narrow_counters(r, e)[c - r->n_wide] = (uint32_t)s->counter[c];
}

/*
 * The interval and deltas since @e into @res (zeroed), @e's counters
 * updated; false when @s cannot be @e's socket (then @res and @e are to be
 * started over).
 */
static bool deltas(const struct xtcp_rate *r, struct entry *e, const struct scanned *s,
		   struct xtcp_rate_result *res)
{
	uint32_t *narrow = narrow_counters(r, e);
	uint64_t present = 0, d;
	bool down = false;
	size_t c, i;

	if (s->cookie && !same_tuple(&e->tuple, &s->tuple))
		return false;
	if (s->ts <= e->ts)
		return false;
	res->interval_ns = (uint64_t)s->ts - (uint64_t)e->ts;
	present |= UINT64_C(1) << r->interval_out;
	if (s->info_state && e->has_info) {
		for (c = 0; c < r->n_wide; c++) {
			down |= s->counter[c] < e->counters[c];
			d = s->counter[c] - e->counters[c];
			e->counters[c] = s->counter[c];
			res->delta[c] = d;
			present |= (uint64_t)(d != 0) << r->delta_out[c];
		}
		for (; c < r->n_counters; c++) {
			uint32_t cur = (uint32_t)s->counter[c], prev = narrow[c - r->n_wide];

			/* without a cookie to prove the socket the same, no wrap either */
			down |= cur < prev && !s->cookie;
			d = (uint32_t)(cur - prev);
			narrow[c - r->n_wide] = cur;
			res->delta[c] = d;
			present |= (uint64_t)(d != 0) << r->delta_out[c];
		}
		if (down)
			return false;
		for (i = 0; i < r->n_per_s; i++) {
			c = r->per_s_counter[i];
			res->per_s[c] = per_second(res->delta[c], res->interval_ns);
			present |= (uint64_t)(res->per_s[c] != 0) << r->per_s_out[c];
		}
	} else {
		start_over(r, e, s);    /* the counters to compare with next time */
	}
	res->present = present;
	return true;
}

/* @res as a new socket's: every rate field 0. */
static void clear_result(const struct xtcp_rate *r, struct xtcp_rate_result *res)
{
	res->flags = XTCP_RATE_NEW;
	res->interval_ns = 0;
	res->present = 0;
	memset(res->delta, 0, r->n_counters * sizeof(res->delta[0]));
	memset(res->per_s, 0, r->n_counters * sizeof(res->per_s[0]));
}

int xtcp_rate_follow(struct xtcp_rate *r, const uint8_t *row, size_t len,
		     struct xtcp_rate_result *res)
{
	struct scanned s;
	struct entry *e;
	uint64_t hash;
	uint32_t i;

	if (scan(r, row, len, &s) < 0)
		return -1;
	clear_result(r, res);
	res->replace = s.replace;
	res->split = s.split;
	/* a close record comes between polls, in none */
	if (s.kind != XTCP_RECORD_KIND_CLOSE && xtcp_poll_next(&r->poll, s.poll, s.ts))
		forget_absent(r);

	hash = key_hash(&s);
	i = lookup(r, hash, &s);
	if (i == NONE) {
		i = add_entry(r, hash);
		if (i == NONE) {
			errno = ENOMEM;
			return -1;
		}
		e = entry_at(r, i);
		start_over(r, e, &s);
	} else {
		e = entry_at(r, i);
		if (deltas(r, e, &s, res)) {
			res->flags = res->present & ~(UINT64_C(1) << r->interval_out) ||
				     s.state != e->state ? XTCP_RATE_CHANGED : 0;
		} else {
			clear_result(r, res);
			start_over(r, e, &s);
		}
		unlink_entry(r, e);
		append_entry(r, e, i);
	}
	if (s.kind == XTCP_RECORD_KIND_CLOSE) {
		drop_entry(r, e, i);    /* the socket's last record */
		return 0;
	}
	e->ts = s.ts;
	e->state = s.state;
	e->has_info = s.info_state != 0;
	e->poll = r->poll.count;
	return 0;
}

/* --- the row out --------------------------------------------------------- */

static uint8_t *put_rate_fields(const struct xtcp_rate *r, const struct xtcp_rate_result *res,
				uint8_t *p)
{
	uint64_t present;

	for (present = res->present; present; present &= present - 1) {
		const struct out_field *o = &r->out[__builtin_ctzll(present)];
		uint64_t v;

		memcpy(&v, (const char *)res + o->value, sizeof(v));
		memcpy(p, o->tag, o->tag_len);
		p = xtcp_varint_put64(p + o->tag_len, v);
	}
	return p;
}

/*
 * The row's own fields (without the rate fields it held, with @res->replace)
 * and the rate fields, in number order: a record's fields are written in
 * ascending order, and readers that stop early (xtcp_filter_match) rely on
 * it, so the rate fields go before the first of the row's fields numbered
 * above them (xtcp-dump's owner fields, 3200 up), not at the end.
 */
const uint8_t *xtcp_rate_encode(struct xtcp_rate *r, const struct xtcp_rate_result *res,
				const uint8_t *row, size_t len, size_t *out_len)
{
	size_t need = len + r->n_out * (XTCP_TAG_MAX + XTCP_VARINT_MAX), before = r->row_cap;
	const uint8_t *q = row, *end = row + len;
	bool written = false;
	uint8_t *p;

	if (XTCP_ALLOC_GROW(r->row, need, r->row_cap) < 0)
		return NULL;
	r->allocations += r->row_cap != before;
	p = r->row;
	if (!res->replace && res->split <= len) {
		/* the scan found where the rate fields go: the row in two copies */
		if (res->split)
			memcpy(p, row, res->split);
		p = put_rate_fields(r, res, p + res->split);
		if (len > res->split)
			memcpy(p, row + res->split, len - res->split);
		*out_len = (size_t)(p - r->row) + (len - res->split);
		return r->row;
	}
	/*
	 * Walked as scan() walks it (the row is well formed: scan() read it),
	 * so a tag above 2^29 - 1 is an unknown field, kept, as the decoder
	 * keeps it.
	 */
	while (q < end) {
		const uint8_t *field = q;
		struct xtcp_varint x = xtcp_wire_tag(q, end);
		uint64_t number = x.value >> 3;

		q = xtcp_wire_skip(x.next, end, (unsigned)(x.value & 7));
		if (res->replace && number < r->n_roles && r->roles[number] >> 4 == R_OUT)
			continue;
		if (!written && number >= r->out_first) {
			p = put_rate_fields(r, res, p);
			written = true;
		}
		memcpy(p, field, (size_t)(q - field));
		p += q - field;
	}
	if (!written)
		p = put_rate_fields(r, res, p);
	*out_len = (size_t)(p - r->row);
	return r->row;
}
