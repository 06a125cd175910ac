/*
 * Filter expression -> sock_diag bytecode.  Two passes: each term becomes a
 * pair of kernel conditions, "over" (true at least wherever the term is)
 * and "under" (true at most where it is), so a negation can swap them and
 * the request stays a superset; then "over" of the whole expression is
 * laid out backwards, from the end of the program, so every jump target is
 * known when its jump is written.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "alloc.h"
#include "bytecode.h"
#include "filter.h"
#include "schema.h"
#include "tcp.h"

enum kind { K_TRUE, K_FALSE, K_LEAF, K_AND, K_OR, K_NOT };

/* One kernel condition, an instruction with its operands. */
struct leaf {
	uint8_t code;           /* INET_DIAG_BC_* */
	uint8_t family;         /* S_COND, D_COND */
	uint8_t prefix_len;
	uint8_t addr[16];
	uint32_t a, b;          /* port; ifindex; mark, mask */
	uint64_t cgroup;
};

struct kterm {
	uint8_t kind;
	uint32_t x, y;          /* kids; K_LEAF: x is the leaf */
};

/* What a filter term is to the kernel. */
struct approx {
	uint32_t over, under;   /* kernel terms */
	uint32_t states_over, states_under;     /* record state values */
	bool bc_exact;          /* the bytecode alone decides it */
	bool states_exact;      /* the state mask alone decides it */
};

struct builder {
	const struct xtcp_filter *f;
	struct kterm *terms;
	size_t n_terms, cap_terms;
	struct leaf *leaves;
	size_t n_leaves, cap_leaves;
	uint8_t *out;           /* instructions, last first */
	size_t out_len, out_cap;
	size_t *starts;         /* where each instruction begins in out */
	size_t n_starts, cap_starts;
	bool nomem;
};

#define T_TRUE 0u
#define T_FALSE 1u
#define ALL_STATES 0xffffffffu

static uint32_t add_term(struct builder *b, uint8_t kind, uint32_t x, uint32_t y)
{
	if (XTCP_ALLOC_GROW(b->terms, b->n_terms + 1, b->cap_terms) < 0) {
		b->nomem = true;
		return T_TRUE;
	}
	b->terms[b->n_terms] = (struct kterm){ .kind = kind, .x = x, .y = y };
	return (uint32_t)b->n_terms++;
}

static uint32_t add_leaf(struct builder *b, const struct leaf *l)
{
	if (XTCP_ALLOC_GROW(b->leaves, b->n_leaves + 1, b->cap_leaves) < 0) {
		b->nomem = true;
		return T_TRUE;
	}
	b->leaves[b->n_leaves] = *l;
	return add_term(b, K_LEAF, (uint32_t)b->n_leaves++, 0);
}

static uint32_t k_and(struct builder *b, uint32_t x, uint32_t y)
{
	if (x == T_FALSE || y == T_FALSE)
		return T_FALSE;
	if (x == T_TRUE)
		return y;
	if (y == T_TRUE)
		return x;
	return add_term(b, K_AND, x, y);
}

static uint32_t k_or(struct builder *b, uint32_t x, uint32_t y)
{
	if (x == T_TRUE || y == T_TRUE)
		return T_TRUE;
	if (x == T_FALSE)
		return y;
	if (y == T_FALSE)
		return x;
	return add_term(b, K_OR, x, y);
}

static uint32_t k_not(struct builder *b, uint32_t x)
{
	if (x == T_TRUE)
		return T_FALSE;
	if (x == T_FALSE)
		return T_TRUE;
	if (b->terms[x].kind == K_NOT)
		return b->terms[x].x;
	return add_term(b, K_NOT, x, 0);
}

static bool named(const struct xtcp_filter_term *t, const char *name)
{
	return t->field && !strcmp(t->field->name, name);
}

/* A port in [lo, hi]: GE and LE as needed (ports are 16 bits in the kernel). */
static uint32_t port_range(struct builder *b, bool source, uint64_t lo, uint64_t hi)
{
	struct leaf ge = { .code = source ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, .a = (uint32_t)lo };
	struct leaf le = { .code = source ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE };

	if (hi > 65535)
		hi = 65535;
	if (lo > hi)
		return T_FALSE;
	le.a = (uint32_t)hi;
	return k_and(b, lo > 0 ? add_leaf(b, &ge) : T_TRUE, hi < 65535 ? add_leaf(b, &le) : T_TRUE);
}

/*
 * A field the kernel can only test for equality (device, cgroup, mark):
 * [lo, hi] when it is one value, all but one, all or none; else
 * UINT32_MAX.  @eq is the leaf with its value to fill.
 */
static uint32_t equality(struct builder *b, struct leaf *eq, uint64_t lo, uint64_t hi,
			 uint64_t max)
{
	if (hi > max)
		hi = max;
	if (lo > hi)
		return T_FALSE;
	if (lo == 0 && hi == max)
		return T_TRUE;
	if (lo == hi || (lo == 0 && hi == max - 1) || (lo == 1 && hi == max)) {
		uint64_t v = lo == hi ? lo : lo == 0 ? max : 0;
		uint32_t k;

		if (eq->code == INET_DIAG_BC_CGROUP_COND)
			eq->cgroup = v;
		else
			eq->a = (uint32_t)v;
		k = add_leaf(b, eq);
		return lo == hi ? k : k_not(b, k);
	}
	return UINT32_MAX;
}

static void leaf_approx(struct builder *b, const struct xtcp_filter_term *t, struct approx *r)
{
	struct leaf l = { 0 };
	uint32_t k = UINT32_MAX;
	bool mark = false;

	r->over = T_TRUE;
	r->under = T_FALSE;
	r->states_over = ALL_STATES;
	r->states_under = 0;
	r->bc_exact = r->states_exact = false;
	if (named(t, "inet_diag_msg_state") && (t->kind == XTCP_TERM_MASK || t->kind == XTCP_TERM_RANGE)) {
		uint32_t m = 0;
		uint64_t v;

		if (t->kind == XTCP_TERM_MASK)
			m = (uint32_t)t->lo;
		else
			for (v = t->lo; v <= t->hi && v < 32; v++)
				m |= 1u << v;
		r->states_over = r->states_under = m;
		r->states_exact = true;
		return;
	}
	if (t->kind == XTCP_TERM_RANGE &&
	    (named(t, "inet_diag_msg_socket_source_port") ||
	     named(t, "inet_diag_msg_socket_destination_port"))) {
		k = port_range(b, named(t, "inet_diag_msg_socket_source_port"), t->lo, t->hi);
	} else if (t->kind == XTCP_TERM_PREFIX && (named(t, "inet_diag_msg_socket_source") ||
						   named(t, "inet_diag_msg_socket_destination"))) {
		l.code = named(t, "inet_diag_msg_socket_source") ? INET_DIAG_BC_S_COND :
								   INET_DIAG_BC_D_COND;
		l.family = (uint8_t)t->family;
		l.prefix_len = (uint8_t)t->prefix_len;
		memcpy(l.addr, t->addr, sizeof(l.addr));
		k = add_leaf(b, &l);
	} else if (t->kind == XTCP_TERM_RANGE && named(t, "inet_diag_msg_socket_interface")) {
		l.code = INET_DIAG_BC_DEV_COND;
		k = equality(b, &l, t->lo, t->hi, UINT32_MAX);
	} else if (t->kind == XTCP_TERM_RANGE && named(t, "c_group")) {
		l.code = INET_DIAG_BC_CGROUP_COND;
		k = equality(b, &l, t->lo, t->hi, UINT64_MAX);
	} else if (t->kind == XTCP_TERM_RANGE && named(t, "socket_mark")) {
		l.code = INET_DIAG_BC_MARK_COND;
		l.b = UINT32_MAX;
		k = equality(b, &l, t->lo, t->hi, UINT32_MAX);
		mark = true;
	} else if (t->kind == XTCP_TERM_BITS && named(t, "socket_mark")) {
		l.code = INET_DIAG_BC_MARK_COND;
		l.a = (uint32_t)t->hi;
		l.b = (uint32_t)t->lo;
		k = add_leaf(b, &l);
		mark = true;
	}
	if (k == UINT32_MAX)
		return;         /* user space's */
	if (!mark) {
		r->over = r->under = k;
		r->bc_exact = true;
		return;
	}
	/*
	 * The kernel's mark of a time-wait or request socket is not the
	 * record's (0): true where the test holds for 0 and the kernel's
	 * mark passes it, possibly true elsewhere.
	 */
	if (t->kind == XTCP_TERM_RANGE ? t->lo == 0 : (t->hi == 0))
		r->under = k;
	else
		r->over = k;
}

static void approx(struct builder *b, uint32_t i, struct approx *r)
{
	struct xtcp_filter_term t;
	struct approx kid;
	size_t k;

	xtcp_filter_term(b->f, i, &t);
	switch (t.kind) {
	case XTCP_TERM_CONST:
		r->over = r->under = t.value ? T_TRUE : T_FALSE;
		r->states_over = r->states_under = t.value ? ALL_STATES : 0;
		r->bc_exact = r->states_exact = true;
		return;
	case XTCP_TERM_NOT:
		approx(b, t.kids[0], &kid);
		r->over = k_not(b, kid.under);
		r->under = k_not(b, kid.over);
		r->states_over = ~kid.states_under;
		r->states_under = ~kid.states_over;
		r->bc_exact = kid.bc_exact;
		r->states_exact = kid.states_exact;
		return;
	case XTCP_TERM_AND:
	case XTCP_TERM_OR: {
		bool is_and = t.kind == XTCP_TERM_AND;

		r->over = r->under = is_and ? T_TRUE : T_FALSE;
		r->states_over = r->states_under = is_and ? ALL_STATES : 0;
		r->bc_exact = r->states_exact = true;
		for (k = 0; k < t.n_kids; k++) {
			approx(b, t.kids[k], &kid);
			if (is_and) {
				r->over = k_and(b, r->over, kid.over);
				r->under = k_and(b, r->under, kid.under);
				r->states_over &= kid.states_over;
				r->states_under &= kid.states_under;
			} else {
				r->over = k_or(b, r->over, kid.over);
				r->under = k_or(b, r->under, kid.under);
				r->states_over |= kid.states_over;
				r->states_under |= kid.states_under;
			}
			r->bc_exact = r->bc_exact && kid.bc_exact;
			r->states_exact = r->states_exact && kid.states_exact;
		}
		return;
	}
	default:
		leaf_approx(b, &t, r);
		return;
	}
}

/* --- layout -------------------------------------------------------------------------- */

/*
 * Positions are distances from the end of the program: 0 is the end
 * (accept), -4 is past it (reject).  An instruction at position p that
 * jumps to position t has "no" = p - t.
 */
static long emit(struct builder *b, const void *insn, size_t size)
{
	if (XTCP_ALLOC_GROW(b->out, b->out_len + size, b->out_cap) < 0 ||
	    XTCP_ALLOC_GROW(b->starts, b->n_starts + 1, b->cap_starts) < 0) {
		b->nomem = true;
		return (long)b->out_len;
	}
	b->starts[b->n_starts++] = b->out_len;
	memcpy(b->out + b->out_len, insn, size);
	b->out_len += size;
	return (long)b->out_len;
}

static uint16_t jump(long from, long to)
{
	long d = from - to;

	return d > 0xffff ? 0xffff : (uint16_t)d;
}

static long go_to(struct builder *b, long to)
{
	struct inet_diag_bc_op op = { .code = INET_DIAG_BC_JMP, .yes = 4 };
	long at = (long)b->out_len;

	if (to == at)
		return at;
	op.no = jump(at + 4, to);
	return emit(b, &op, sizeof(op));
}

static long emit_leaf(struct builder *b, const struct leaf *l, long no_to)
{
	uint8_t insn[4 + sizeof(struct inet_diag_hostcond) + 16];
	struct inet_diag_bc_op op = { .code = l->code };
	size_t size = 4;

	memset(insn, 0, sizeof(insn));
	switch (l->code) {
	case INET_DIAG_BC_S_COND:
	case INET_DIAG_BC_D_COND: {
		struct inet_diag_hostcond hc = { .family = l->family, .prefix_len = l->prefix_len,
						 .port = -1 };
		size_t alen = l->family == AF_INET ? 4 : 16;

		memcpy(insn + 4, &hc, sizeof(hc));
		memcpy(insn + 4 + sizeof(hc), l->addr, alen);
		size += sizeof(hc) + alen;
		break;
	}
	case INET_DIAG_BC_DEV_COND:
		memcpy(insn + 4, &l->a, 4);
		size += 4;
		break;
	case INET_DIAG_BC_MARK_COND: {
		struct inet_diag_markcond mc = { .mark = l->a, .mask = l->b };

		memcpy(insn + 4, &mc, sizeof(mc));
		size += sizeof(mc);
		break;
	}
	case INET_DIAG_BC_CGROUP_COND:
		memcpy(insn + 4, &l->cgroup, 8);
		size += 8;
		break;
	default: {      /* ports: the value is the "no" of a second op */
		struct inet_diag_bc_op port = { .no = (uint16_t)l->a };

		memcpy(insn + 4, &port, sizeof(port));
		size += sizeof(port);
		break;
	}
	}
	op.yes = (uint8_t)size;
	op.no = jump((long)(b->out_len + size), no_to);
	memcpy(insn, &op, sizeof(op));
	return emit(b, insn, size);
}

/* Code for @k: true goes to @t, false to @f; returns where it starts. */
static long layout(struct builder *b, uint32_t k, long t, long f)
{
	const struct kterm *kt = &b->terms[k];
	long at;

	if (b->nomem)
		return 0;
	switch (kt->kind) {
	case K_TRUE:
		return go_to(b, t);
	case K_FALSE:
		return go_to(b, f);
	case K_NOT:
		return layout(b, kt->x, f, t);
	case K_AND:
		at = layout(b, kt->y, t, f);
		return layout(b, kt->x, at, f);
	case K_OR:
		at = layout(b, kt->y, t, f);
		return layout(b, kt->x, t, at);
	default:
		go_to(b, t);
		return emit_leaf(b, &b->leaves[kt->x], f);
	}
}

/* The instructions were written last first: put them in order. */
static uint8_t *in_order(struct builder *b)
{
	uint8_t *code = malloc(b->out_len ? b->out_len : 1);
	size_t i, at = 0;

	if (!code)
		return NULL;
	for (i = b->n_starts; i-- > 0;) {
		size_t end = i + 1 < b->n_starts ? b->starts[i + 1] : b->out_len;

		memcpy(code + at, b->out + b->starts[i], end - b->starts[i]);
		at += end - b->starts[i];
	}
	return code;
}

/* --- public ---------------------------------------------------------------------------- */

void xtcp_bytecode_release(struct xtcp_bytecode *bc)
{
	free(bc->code);
	free(bc->decided);
	free(bc->narrowed);
	free(bc->conjuncts);
	memset(bc, 0, sizeof(*bc));
}

bool xtcp_bytecode_exact(const struct xtcp_bytecode *bc)
{
	return bc->n_decided == bc->n_conjuncts;
}


static int push(uint32_t **list, size_t *n, uint32_t term)
{
	uint32_t *p = realloc(*list, (*n + 1) * sizeof(**list));

	if (!p)
		return -1;
	p[(*n)++] = term;
	*list = p;
	return 0;
}

/* The conjuncts of @i: the kids of ANDs, however nested ("A && (B && C)"). */
static int conjuncts(const struct xtcp_filter *f, uint32_t i, struct xtcp_bytecode *bc)
{
	struct xtcp_filter_term t;
	size_t k;

	xtcp_filter_term(f, i, &t);
	if (t.kind != XTCP_TERM_AND)
		return push(&bc->conjuncts, &bc->n_conjuncts, i);
	for (k = 0; k < t.n_kids; k++)
		if (conjuncts(f, t.kids[k], bc) < 0)
			return -1;
	return 0;
}

int xtcp_bytecode_compile(struct xtcp_bytecode *bc, const struct xtcp_filter *f)
{
	struct builder b = { .f = f };
	struct approx *parts = NULL;
	uint32_t over = T_TRUE, states = ALL_STATES;
	const uint32_t *conj;
	size_t i, n;
	int rc = -1;

	memset(bc, 0, sizeof(*bc));
	add_term(&b, K_TRUE, 0, 0);
	add_term(&b, K_FALSE, 0, 0);
	if (conjuncts(f, xtcp_filter_root(f), bc) < 0)
		goto out;
	conj = bc->conjuncts;
	n = bc->n_conjuncts;
	parts = calloc(n, sizeof(*parts));
	if (!parts)
		goto out;
	for (i = 0; i < n; i++) {
		approx(&b, conj[i], &parts[i]);
		over = k_and(&b, over, parts[i].over);
		states &= parts[i].states_over;
	}
	if (b.nomem)
		goto out;
	/*
	 * No record says NEW_SYN_RECV or BOUND_INACTIVE: the kernel reports
	 * those sockets as SYN_RECV and CLOSE, so asking for SYN_RECV or
	 * CLOSE asks for them too.
	 */
	states &= ~(XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV) | XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE));
	if (states & XTCP_TCPF(XTCP_TCP_SYN_RECV))
		states |= XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV);
	if (states & XTCP_TCPF(XTCP_TCP_CLOSE))
		states |= XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE);
	bc->states = states;
	if (over != T_TRUE) {
		layout(&b, over, 0, -4);
		if (b.nomem)
			goto out;
		if (b.out_len > XTCP_BYTECODE_MAX) {
			bc->too_large = true;
		} else {
			bc->code = in_order(&b);
			if (!bc->code)
				goto out;
			bc->len = b.out_len;
		}
	}
	for (i = 0; i < n; i++) {
		const struct approx *p = &parts[i];
		bool decided = (p->bc_exact && !bc->too_large) ||
			       (p->states_exact && p->states_over == p->states_under);
		bool narrows = p->over != T_TRUE || p->states_over != ALL_STATES;

		if (decided ? push(&bc->decided, &bc->n_decided, conj[i]) < 0 :
		    narrows && push(&bc->narrowed, &bc->n_narrowed, conj[i]) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		xtcp_bytecode_release(bc);
		errno = ENOMEM;
	}
	free(parts);
	free(b.terms);
	free(b.leaves);
	free(b.out);
	free(b.starts);
	return rc;
}

/* --- text --------------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*at < size ? buf + *at : NULL, *at < size ? size - *at : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

size_t xtcp_bytecode_format(const uint8_t *code, size_t len, char *buf, size_t size)
{
	static const char *const names[] = {
		"NOP", "JMP", "S_GE", "S_LE", "D_GE", "D_LE", "AUTO", "S_COND", "D_COND",
		"DEV_COND", "MARK_COND", "S_EQ", "D_EQ", "CGROUP_COND",
	};
	size_t pos = 0, at = 0;

	if (size)
		buf[0] = '\0';
	while (pos + 4 <= len) {
		struct inet_diag_bc_op op;
		const uint8_t *arg = code + pos + 4;
		size_t room = len - pos - 4;

		memcpy(&op, code + pos, sizeof(op));
		put(buf, size, &at, "%4zu: %s", pos,
		    op.code < sizeof(names) / sizeof(names[0]) ? names[op.code] : "?");
		switch (op.code) {
		case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE: case INET_DIAG_BC_D_GE:
		case INET_DIAG_BC_D_LE: case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_D_EQ:
			if (room >= 4) {
				struct inet_diag_bc_op port;

				memcpy(&port, arg, sizeof(port));
				put(buf, size, &at, " %u", port.no);
			}
			break;
		case INET_DIAG_BC_S_COND: case INET_DIAG_BC_D_COND:
			if (room >= sizeof(struct inet_diag_hostcond)) {
				struct inet_diag_hostcond hc;
				char text[64] = "*";
				size_t alen;

				memcpy(&hc, arg, sizeof(hc));
				alen = hc.family == AF_INET ? 4 : hc.family == AF_INET6 ? 16 : 0;
				if (alen && room >= sizeof(hc) + alen) {
					uint8_t a[16] = { 0 };

					memcpy(a, arg + sizeof(hc), alen);
					inet_ntop(hc.family, a, text, sizeof(text));
				}
				put(buf, size, &at, " %s/%u port %d", text, hc.prefix_len, hc.port);
			}
			break;
		case INET_DIAG_BC_DEV_COND:
			if (room >= 4) {
				uint32_t ifindex;

				memcpy(&ifindex, arg, 4);
				put(buf, size, &at, " %u", ifindex);
			}
			break;
		case INET_DIAG_BC_MARK_COND:
			if (room >= sizeof(struct inet_diag_markcond)) {
				struct inet_diag_markcond mc;

				memcpy(&mc, arg, sizeof(mc));
				put(buf, size, &at, " 0x%x/0x%x", mc.mark, mc.mask);
			}
			break;
		case INET_DIAG_BC_CGROUP_COND:
			if (room >= 8) {
				uint64_t id;

				memcpy(&id, arg, 8);
				put(buf, size, &at, " %llu", (unsigned long long)id);
			}
			break;
		default:
			break;
		}
		put(buf, size, &at, " yes %u no %u\n", op.yes, op.no);
		if (op.yes < 4 || op.yes & 3)
			break;
		pos += op.yes;
	}
	if (pos < len && pos + 4 > len)
		put(buf, size, &at, "%4zu: (%zu stray bytes)\n", pos, len - pos);
	return at;
}
