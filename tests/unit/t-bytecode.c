/*
 * lib/bytecode.c against a model of the kernel (written here from
 * net/ipv4/inet_diag.c's rules: inet_diag_bc_audit, inet_diag_bc_run,
 * inet_diag_bc_sk and the dump's state test): for many expressions and
 * many synthetic sockets, every program passes the audit, the kernel keeps
 * every socket the filter matches (a superset), and keeps exactly those
 * when the request says it decides everything; a conjunct it says it
 * decides is never false on a socket it keeps.  Also: the state mask, the
 * size limit, and the text form.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "bytecode.h"
#include "filter.h"
#include "record.h"
#include "tcp.h"
#include "tap.h"

/* A socket as the kernel sees it. */
struct sock {
	int family;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t ifindex, mark;
	uint64_t cgroup;
	unsigned state;         /* the kernel's: TIME_WAIT's substate is not modelled */
	uint32_t rtt;
};

static bool full_sock(const struct sock *s)
{
	return s->state != XTCP_TCP_TIME_WAIT && s->state != XTCP_TCP_NEW_SYN_RECV;
}

/* --- the kernel's rules ----------------------------------------------------------- */

static bool valid_cc(const uint8_t *bc, int len, int cc)
{
	while (len >= 0) {
		struct inet_diag_bc_op op;

		if (cc > len)
			return false;
		if (cc == len)
			return true;
		memcpy(&op, bc, sizeof(op));
		if (op.yes < 4 || op.yes & 3)
			return false;
		len -= op.yes;
		bc += op.yes;
	}
	return false;
}

static int audit(const uint8_t *code, int bytecode_len)
{
	const uint8_t *bc = code;
	int len = bytecode_len;

	if (len < 4)
		return -1;
	while (len > 0) {
		struct inet_diag_bc_op op;
		int min_len = 4;

		memcpy(&op, bc, sizeof(op));
		switch (op.code) {
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;
			int alen;

			min_len += (int)sizeof(hc);
			if (len < min_len)
				return -1;
			memcpy(&hc, bc + 4, sizeof(hc));
			alen = hc.family == AF_UNSPEC ? 0 : hc.family == AF_INET ? 4 :
			       hc.family == AF_INET6 ? 16 : -1;
			if (alen < 0)
				return -1;
			min_len += alen;
			if (len < min_len || hc.prefix_len > 8 * alen)
				return -1;
			break;
		}
		case INET_DIAG_BC_DEV_COND:
			min_len += 4;
			break;
		case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE: case INET_DIAG_BC_D_GE:
		case INET_DIAG_BC_D_LE: case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_D_EQ:
			min_len += 4;
			break;
		case INET_DIAG_BC_MARK_COND:
			min_len += 8;
			break;
		case INET_DIAG_BC_CGROUP_COND:
			min_len += 8;
			break;
		case INET_DIAG_BC_AUTO:
		case INET_DIAG_BC_JMP:
		case INET_DIAG_BC_NOP:
			break;
		default:
			return -1;
		}
		if (len < min_len)
			return -1;
		if (op.code != INET_DIAG_BC_NOP) {
			if (op.no < min_len || op.no > len + 4 || op.no & 3)
				return -1;
			if (op.no < len && !valid_cc(code, bytecode_len, len - op.no))
				return -1;
		}
		if (op.yes < min_len || op.yes > len + 4 || op.yes & 3)
			return -1;
		bc += op.yes;
		len -= op.yes;
	}
	return len == 0 ? 0 : -1;
}

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return false;
	return !rest || ((a[full] ^ b[full]) & (0xff00u >> rest) & 0xff) == 0;
}

static bool run(const uint8_t *code, int len, const struct sock *s)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *bc = code;
	uint32_t mark = s->mark;
	uint64_t cgroup = full_sock(s) ? s->cgroup : 0;

	while (len > 0) {
		struct inet_diag_bc_op op, arg;
		bool yes = true;

		memcpy(&op, bc, sizeof(op));
		memset(&arg, 0, sizeof(arg));
		if (op.yes >= 8)        /* a port op's value is the "no" of the next op */
			memcpy(&arg, bc + 4, sizeof(arg));
		switch (op.code) {
		case INET_DIAG_BC_JMP: yes = false; break;
		case INET_DIAG_BC_S_GE: yes = s->sport >= arg.no; break;
		case INET_DIAG_BC_S_LE: yes = s->sport <= arg.no; break;
		case INET_DIAG_BC_D_GE: yes = s->dport >= arg.no; break;
		case INET_DIAG_BC_D_LE: yes = s->dport <= arg.no; break;
		case INET_DIAG_BC_S_COND:
		case INET_DIAG_BC_D_COND: {
			struct inet_diag_hostcond hc;
			const uint8_t *addr = op.code == INET_DIAG_BC_S_COND ? s->saddr : s->daddr;
			const uint8_t *want = bc + 4 + sizeof(hc);

			memcpy(&hc, bc + 4, sizeof(hc));
			if (hc.port != -1 && hc.port != (op.code == INET_DIAG_BC_S_COND ? s->sport : s->dport)) {
				yes = false;
				break;
			}
			if (hc.family != AF_UNSPEC && hc.family != s->family) {
				yes = s->family == AF_INET6 && hc.family == AF_INET &&
				      !memcmp(addr, mapped, 12) && bits_match(addr + 12, want, hc.prefix_len);
				break;
			}
			yes = hc.prefix_len == 0 || bits_match(addr, want, hc.prefix_len);
			break;
		}
		case INET_DIAG_BC_DEV_COND: {
			uint32_t i;

			memcpy(&i, bc + 4, 4);
			yes = i == s->ifindex;
			break;
		}
		case INET_DIAG_BC_MARK_COND: {
			struct inet_diag_markcond mc;

			memcpy(&mc, bc + 4, sizeof(mc));
			yes = (mark & mc.mask) == mc.mark;
			break;
		}
		case INET_DIAG_BC_CGROUP_COND: {
			uint64_t id;

			memcpy(&id, bc + 4, 8);
			yes = id == cgroup;
			break;
		}
		default:
			break;
		}
		len -= yes ? op.yes : op.no;
		bc += yes ? op.yes : op.no;
	}
	return len == 0;
}

/* The dump: the state test (with SYN_RECV bringing NEW_SYN_RECV), then the bytecode. */
static bool kernel_keeps(const struct xtcp_bytecode *bc, const struct sock *s)
{
	uint32_t states = bc->states;

	if (states & XTCP_TCPF(XTCP_TCP_SYN_RECV))
		states |= XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV);
	if (!(states & XTCP_TCPF(s->state)))
		return false;
	return !bc->code || run(bc->code, (int)bc->len, s);
}

/* What xtcp-dump writes for the socket. */
static void to_record(const struct sock *s, XtcpFlatRecord__V1__XtcpFlatRecord *rec,
		      uint8_t *src, uint8_t *dst)
{
	xtcp_record_init(rec);
	rec->inet_diag_msg_family = (uint32_t)s->family;
	rec->inet_diag_msg_state = s->state == XTCP_TCP_NEW_SYN_RECV ? XTCP_TCP_SYN_RECV :
				   s->state == XTCP_TCP_BOUND_INACTIVE ? XTCP_TCP_CLOSE : s->state;
	memcpy(src, s->saddr, 16);
	memcpy(dst, s->daddr, 16);
	if (s->family == AF_INET) {
		memset(src + 4, 0, 12);
		memset(dst + 4, 0, 12);
	}
	rec->inet_diag_msg_socket_source.data = src;
	rec->inet_diag_msg_socket_source.len = 16;
	rec->inet_diag_msg_socket_destination.data = dst;
	rec->inet_diag_msg_socket_destination.len = 16;
	rec->inet_diag_msg_socket_source_port = s->sport;
	rec->inet_diag_msg_socket_destination_port = s->dport;
	rec->inet_diag_msg_socket_interface = s->ifindex;
	rec->socket_mark = full_sock(s) ? s->mark : 0;
	rec->c_group = full_sock(s) ? s->cgroup : 0;
	rec->tcp_info_rtt = s->rtt;
}

/* --- sockets ---------------------------------------------------------------------------- */

#define N_SOCKS 3000

static struct sock socks[N_SOCKS];
static uint64_t seed = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed % n);
}

static void make_socks(void)
{
	static const char *const v4[] = { "10.0.0.1", "10.1.2.3", "192.168.1.5", "127.0.0.1", "0.0.0.0" };
	static const char *const v6[] = { "::1", "2001:db8::1", "fe80::1", "::ffff:10.1.2.3",
					  "::ffff:127.0.0.1", "::" };
	static const uint16_t ports[] = { 0, 22, 80, 443, 1023, 1024, 4000, 8080, 65535 };
	static const uint32_t marks[] = { 0, 0x10, 0x11, 0xff, 0x110 };
	size_t i;

	for (i = 0; i < N_SOCKS; i++) {
		struct sock *s = &socks[i];

		memset(s, 0, sizeof(*s));
		s->family = rnd(2) ? AF_INET : AF_INET6;
		if (s->family == AF_INET) {
			inet_pton(AF_INET, v4[rnd(5)], s->saddr);
			inet_pton(AF_INET, v4[rnd(5)], s->daddr);
		} else {
			inet_pton(AF_INET6, v6[rnd(6)], s->saddr);
			inet_pton(AF_INET6, v6[rnd(6)], s->daddr);
		}
		s->sport = ports[rnd(9)];
		s->dport = ports[rnd(9)];
		s->ifindex = rnd(3);
		s->mark = marks[rnd(5)];
		s->cgroup = rnd(3) * 5;
		s->state = 1 + rnd(XTCP_TCP_BOUND_INACTIVE);
		s->rtt = rnd(10000);
	}
}

/* --- cases ------------------------------------------------------------------------------ */

static const char *const exprs[] = {
	"sport == 22", "dport = :443", "dport >= :1024", "dport > 1023 && dport < 8081",
	"sport != :22", "!(sport == 22)", "sport in (22, 80, 443)", "dport not in (0, 65535)",
	"sport <= 80 || dport >= 4000", "sport > 65535", "sport <= 65535", "dport", "!dport",
	"src 10.0.0.0/8", "dst 192.168.1.5", "src 10.1.2.3/32", "dst 0.0.0.0/0", "src ::/0",
	"src ::1", "src [::ffff:10.1.2.3]", "dst ::ffff:0:0/96", "src 2001:db8::/32",
	"!(src 10.0.0.0/8)", "dst 127.0.0.1:8080", "src [::1]:22", "src *:4000",
	"dev == 1", "dev != 2", "dev", "dev > 1", "dev = 0 || dev = 2",
	"mark == 0x10", "mark != 0x10", "mark == 0", "mark != 0", "fwmark = 0x10/0xf0",
	"fwmark != 0x10/0xf0", "fwmark = 0x0/0xff", "mark > 5", "!(mark == 0x11) && sport == 80",
	"cgroup == 5", "cgroup != 5", "cgroup == 0", "cgroup",
	"state established", "state == LISTEN || state == TIME_WAIT", "state != LISTEN",
	"state syn-recv", "state == NEW_SYN_RECV", "state == CLOSE", "state bucket",
	"state connected", "state < 5", "state established exclude established",
	"state listening sport = :22", "state established dport = :443 or sport = :8080",
	"rtt > 5000", "rtt > 5000 && sport == 22", "rtt > 5000 || sport == 22",
	"!(rtt > 5000 || sport == 22)", "(rtt > 5000 && dport == 443) || src 10.0.0.0/8",
	"sport == 22 && (dst 10.0.0.0/8 || rtt < 100) && state != TIME_WAIT",
	"!(!(sport == 22) || !(dport == 443))", "((((sport == 80))))",
	"(state == ESTABLISHED || sport == 22) && dport == 443",
	"(mark == 0x10 || cgroup == 5) && !(dev == 1)", "!(mark == 0x10 && rtt > 100)",
	"sport == 22 || sport == 80 || sport == 443 || dport == 22 || dst ::1",
	"rtt > 0 && !(src 127.0.0.0/8 || src ::1) && dport < 1024",
	"sport == 22 && sport == 80", "sport == 22 || !(sport == 22)",
};

static void check_expr(const char *expr)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new(expr, &e);
	struct xtcp_bytecode bc;
	size_t i, j, kept = 0, matched = 0, missed = 0, extra = 0, wrong_decided = 0;
	struct xtcp_filter_term root;
	bool exact;

	if (!f) {
		ok(0, "'%s' compiles: column %zu: %s", expr, e.column, e.msg);
		return;
	}
	if (xtcp_bytecode_compile(&bc, f) < 0) {
		ok(0, "'%s': bytecode: %s", expr, strerror(errno));
		xtcp_filter_free(f);
		return;
	}
	exact = xtcp_bytecode_exact(&bc);
	xtcp_filter_term(f, xtcp_filter_root(f), &root);
	ok(!bc.code || audit(bc.code, (int)bc.len) == 0, "'%s': %zu bytes pass the audit", expr, bc.len);
	for (i = 0; i < N_SOCKS; i++) {
		XtcpFlatRecord__V1__XtcpFlatRecord rec;
		uint8_t src[16], dst[16];
		bool truth, keeps = kernel_keeps(&bc, &socks[i]);

		to_record(&socks[i], &rec, src, dst);
		truth = xtcp_filter_match_record(f, &rec) == 1;
		matched += truth;
		kept += keeps;
		missed += truth && !keeps;
		extra += keeps && !truth;
		/* a decided conjunct is true on every socket kept */
		for (j = 0; keeps && j < bc.n_decided; j++) {
			struct xtcp_filter *g = xtcp_filter_new(expr, &e);
			size_t k;

			/* the conjunct alone: assume every other one */
			if (root.kind == XTCP_TERM_AND)
				for (k = 0; k < root.n_kids; k++)
					if (root.kids[k] != bc.decided[j])
						xtcp_filter_assume(g, root.kids[k]);
			wrong_decided += xtcp_filter_match_record(g, &rec) != 1;
			xtcp_filter_free(g);
		}
	}
	ok(missed == 0, "'%s': the kernel keeps all %zu matching sockets (missed %zu)", expr,
	   matched, missed);
	ok(!exact || extra == 0, "'%s': %s (%zu kept, %zu extra)", expr,
	   exact ? "decided: exactly those" : "re-checked in user space", kept, extra);
	ok(wrong_decided == 0, "'%s': every decided conjunct holds where the kernel keeps a socket",
	   expr);
	xtcp_bytecode_release(&bc);
	xtcp_filter_free(f);
}

/* What is decided where, for a few expressions. */
static void check_split(const char *expr, bool has_code, uint32_t states, size_t n_decided,
			bool exact)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new(expr, &e);
	struct xtcp_bytecode bc;

	if (!f || xtcp_bytecode_compile(&bc, f) < 0) {
		ok(0, "'%s' compiles", expr);
		xtcp_filter_free(f);
		return;
	}
	ok((bc.code != NULL) == has_code && bc.states == states && bc.n_decided == n_decided &&
	   xtcp_bytecode_exact(&bc) == exact,
	   "'%s': code %d states 0x%x, %zu decided, exact %d", expr, bc.code != NULL, bc.states,
	   bc.n_decided, xtcp_bytecode_exact(&bc));
	xtcp_bytecode_release(&bc);
	xtcp_filter_free(f);
}

static void check_too_large(void)
{
	size_t cap = 64 * 1024, at, i;
	char *expr = malloc(cap);
	struct xtcp_filter_error e;
	struct xtcp_filter *f;
	struct xtcp_bytecode bc;

	if (!expr)
		abort();
	at = (size_t)snprintf(expr, cap, "state established && dport in (");
	for (i = 1; i <= 4000; i++)
		at += (size_t)snprintf(expr + at, cap - at, "%zu%s", i, i < 4000 ? ", " : ")");
	f = xtcp_filter_new(expr, &e);
	ok(f && xtcp_bytecode_compile(&bc, f) == 0, "4000 ports compile");
	if (f) {
		ok(bc.too_large && !bc.code && bc.n_decided == 1 &&
		   bc.states == XTCP_TCPF(XTCP_TCP_ESTABLISHED),
		   "too large for the kernel: no code, the state mask still decides its conjunct");
		xtcp_bytecode_release(&bc);
	}
	xtcp_filter_free(f);
	free(expr);
}

static void check_format(void)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new("dport != :443", &e);
	struct xtcp_bytecode bc;
	char text[512];
	static const uint8_t junk[] = { 0xff, 3, 0, 0, 1, 2 };

	if (!f || xtcp_bytecode_compile(&bc, f) < 0) {
		ok(0, "compiles");
		return;
	}
	xtcp_bytecode_format(bc.code, bc.len, text, sizeof(text));
	ok(!strcmp(text, "   0: D_GE 443 yes 8 no 20\n   8: D_LE 443 yes 8 no 12\n"
		   "  16: JMP yes 4 no 8\n"), "the text form:\n%s", text);
	ok(xtcp_bytecode_format(bc.code, bc.len, NULL, 0) == strlen(text), "its length, as snprintf");
	xtcp_bytecode_format(junk, sizeof(junk), text, sizeof(text));
	ok(strstr(text, "?") != NULL, "any bytes: %s", text);
	xtcp_bytecode_release(&bc);
	xtcp_filter_free(f);
}

int main(void)
{
	size_t i;

	make_socks();
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		check_expr(exprs[i]);
	check_split("dport == 443", true, XTCP_STATES_ALL, 1, true);
	check_split("dport == 443 && rtt > 5", true, XTCP_STATES_ALL, 1, false);
	check_split("dport == 443 || rtt > 5", false, XTCP_STATES_ALL, 0, false);
	check_split("state listening", false, XTCP_TCPF(XTCP_TCP_LISTEN), 1, true);
	check_split("state syn-recv", false,
		    XTCP_TCPF(XTCP_TCP_SYN_RECV) | XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV), 1, true);
	check_split("state == CLOSE", false,
		    XTCP_TCPF(XTCP_TCP_CLOSE) | XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE), 1, true);
	check_split("state listening sport = :22", true, XTCP_TCPF(XTCP_TCP_LISTEN), 2, true);
	check_split("state == LISTEN || sport == 22", false, XTCP_STATES_ALL, 0, false);
	check_split("mark == 0x10", true, XTCP_STATES_ALL, 0, false);
	check_split("mark == 0", false, XTCP_STATES_ALL, 0, false);
	check_split("cgroup == 5 && dev == 1", true, XTCP_STATES_ALL, 2, true);
	check_split("rtt > 5", false, XTCP_STATES_ALL, 0, false);
	check_split("sport == 22 && sport == 80", true, XTCP_STATES_ALL, 2, true);
	check_too_large();
	check_format();
	return done_testing();
}
