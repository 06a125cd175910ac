/*
 * lib/filter.c: the table of cases in tests/data/filter-cases.txt (each kept
 * set checked on the row bytes and on the decoded record), malformed rows,
 * the raw and decoded paths against each other on mutated rows, limits, and
 * the cost per row of both paths (printed, for docs/performance.md).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "schema.h"
#include "json.h"
#include "record.h"
#include "stream.h"
#include "tap.h"

#define MAX_ROWS 64

struct row {
	char name[32];
	uint8_t *bytes;
	size_t len;
};

static struct row rows[MAX_ROWS];
static size_t n_rows;
static bool input[MAX_ROWS];
static struct xtcp_decoder dec;

static int add_row(const char *name, const char *json)
{
	static struct xtcp_json_decoder jd;
	static bool jd_ready;
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct row *r = &rows[n_rows];

	if (!jd_ready) {
		xtcp_json_decoder_init(&jd);
		jd_ready = true;
	}
	if (n_rows == MAX_ROWS || xtcp_json_decode(&jd, json, strlen(json), &rec) < 0) {
		printf("# row %s: %s\n", name, jd.err);
		return -1;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->bytes = malloc(xtcp_record_encoded_max(&rec) + 1);
	if (!r->bytes)
		abort();
	r->len = xtcp_record_encode(&rec, r->bytes);
	n_rows++;
	return 0;
}

static size_t find_row(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n_rows; i++)
		if (strlen(rows[i].name) == len && !memcmp(rows[i].name, name, len))
			return i;
	return SIZE_MAX;
}

/* Names listed in @list (space separated, "-" for none) -> set; 0 or -1 on an unknown name. */
static int name_set(const char *list, bool *set)
{
	const char *p = list;

	memset(set, 0, sizeof(bool) * MAX_ROWS);
	if (!strcmp(list, "-"))
		return 0;
	while (*p) {
		size_t len = strcspn(p, " "), i;

		if (len) {
			i = find_row(p, len);
			if (i == SIZE_MAX)
				return -1;
			set[i] = true;
		}
		p += len;
		p += *p == ' ';
	}
	return 0;
}

static void describe(const bool *set, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < n_rows; i++)
		if (set[i])
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "", rows[i].name);
	if (!n)
		snprintf(out, size, "-");
}

static void keep_case(int line, const char *want_list, const char *expr)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new(expr, &e);
	bool want[MAX_ROWS], got[MAX_ROWS];
	char a[256], b[256];
	size_t i;
	int agree = 1;

	if (!f) {
		ok(0, "line %d: %s", line, expr);
		printf("#   rejected at column %zu: %s\n", e.column, e.msg);
		return;
	}
	if (name_set(want_list, want) < 0) {
		ok(0, "line %d: unknown row name in '%s'", line, want_list);
		xtcp_filter_free(f);
		return;
	}
	memset(got, 0, sizeof(got));
	for (i = 0; i < n_rows; i++) {
		XtcpFlatRecord__V1__XtcpFlatRecord rec;
		int raw, strict, decoded;

		if (!input[i])
			continue;
		raw = xtcp_filter_match(f, rows[i].bytes, rows[i].len);
		xtcp_filter_set_strict(f, true);
		strict = xtcp_filter_match(f, rows[i].bytes, rows[i].len);
		xtcp_filter_set_strict(f, false);
		if (xtcp_record_decode(&dec, rows[i].bytes, rows[i].len, &rec) < 0)
			abort();
		decoded = xtcp_filter_match_record(f, &rec);
		if (raw != decoded || strict != decoded) {
			agree = 0;
			printf("#   row %s: bytes say %d, decoded record says %d\n", rows[i].name, raw,
			       decoded);
		}
		got[i] = raw == 1;
	}
	for (i = 0; i < n_rows; i++)
		want[i] = want[i] && input[i];
	describe(want, a, sizeof(a));
	describe(got, b, sizeof(b));
	if (!ok(agree && !memcmp(want, got, sizeof(want)), "line %d: %s -> %s", line, expr, a))
		printf("#   kept %s\n", b);
	xtcp_filter_free(f);
}

static void error_case(int line, const char *col, const char *text, const char *expr)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new(expr, &e);
	size_t want_col = strtoul(col, NULL, 10);

	if (f) {
		ok(0, "line %d: '%s' is rejected", line, expr);
		xtcp_filter_free(f);
		return;
	}
	if (!ok(errno == EINVAL && e.column == want_col && strstr(e.msg, text),
		"line %d: '%s' -> column %zu: %s", line, expr, want_col, text))
		printf("#   got errno %d, column %zu: %s\n", errno, e.column, e.msg);
}

static int run_table(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int line_no = 0, cases = 0;

	if (!fp) {
		ok(0, "open %s: %s", path, strerror(errno));
		return 0;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *field[4] = { NULL }, *p = line;
		int nf = 0;

		line_no++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		while (nf < 4) {
			field[nf++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (!strcmp(field[0], "row") && nf == 3) {
			if (add_row(field[1], field[2]) < 0)
				ok(0, "line %d: row %s decodes", line_no, field[1]);
		} else if (!strcmp(field[0], "rows") && nf == 2) {
			size_t i;

			if (!strcmp(field[1], "all")) {
				for (i = 0; i < MAX_ROWS; i++)
					input[i] = true;
			} else if (name_set(field[1], input) < 0) {
				ok(0, "line %d: unknown row in '%s'", line_no, field[1]);
			}
		} else if (!strcmp(field[0], "keep") && nf == 3) {
			keep_case(line_no, field[1], field[2]);
			cases++;
		} else if (!strcmp(field[0], "error") && nf == 4) {
			error_case(line_no, field[1], field[2], field[3]);
			cases++;
		} else {
			ok(0, "line %d: malformed table line", line_no);
		}
	}
	free(line);
	fclose(fp);
	return cases;
}

/* What each alias meant before the schema held them: every one must still mean it. */
static const char *const old_aliases[][2] = {
	{ "src", "inet_diag_msg_socket_source" },
	{ "dst", "inet_diag_msg_socket_destination" },
	{ "sport", "inet_diag_msg_socket_source_port" },
	{ "dport", "inet_diag_msg_socket_destination_port" },
	{ "state", "inet_diag_msg_state" },
	{ "family", "inet_diag_msg_family" },
	{ "dev", "inet_diag_msg_socket_interface" },
	{ "ifindex", "inet_diag_msg_socket_interface" },
	{ "cookie", "inet_diag_msg_socket_cookie" },
	{ "recvq", "inet_diag_msg_rqueue" },
	{ "sendq", "inet_diag_msg_wqueue" },
	{ "rtt", "tcp_info_rtt" },
	{ "rttvar", "tcp_info_rtt_var" },
	{ "minrtt", "tcp_info_min_rtt" },
	{ "cwnd", "tcp_info_snd_cwnd" },
	{ "ssthresh", "tcp_info_snd_ssthresh" },
	{ "mss", "tcp_info_snd_mss" },
	{ "retrans", "tcp_info_total_retrans" },        /* was tcp_info_retrans: issue 18 */
	{ "retrans_inflight", "tcp_info_retrans" },
	{ "lost", "tcp_info_lost" },
	{ "unacked", "tcp_info_unacked" },
	{ "notsent", "tcp_info_not_sent_bytes" },
	{ "lastsnd", "tcp_info_last_data_sent" },
	{ "lastrcv", "tcp_info_last_data_recv" },
	{ "lastack", "tcp_info_last_ack_recv" },
	{ "cong", "congestion_algorithm_string" },
	{ "mark", "socket_mark" },
	{ "cgroup", "c_group" },
	{ "ulp", "ulp_name" },
	{ "ts", "timestamp_ns" },
};

static const char *resolve(const char *word)
{
	const struct xtcp_field *f = xtcp_schema_resolve(word, strlen(word));

	return f ? f->name : NULL;
}

static uint64_t unit_of(const char *name)
{
	return xtcp_schema_find(name, strlen(name))->unit_ns;
}

static void test_aliases(void)
{
	size_t i, bad = 0, n = sizeof(old_aliases) / sizeof(old_aliases[0]);

	for (i = 0; i < n; i++) {
		const char *r = resolve(old_aliases[i][0]);

		if (!r || strcmp(r, old_aliases[i][1])) {
			printf("#   alias %s -> %s\n", old_aliases[i][0], r ? r : "(none)");
			bad++;
		}
	}
	ok(i > 20 && bad == 0, "all %zu aliases resolve to schema fields", i);
	ok(!strcmp(resolve("bytes_acked"), "tcp_info_bytes_acked") &&
	   !strcmp(resolve("uid"), "inet_diag_msg_uid") &&
	   !strcmp(resolve("source_port"), "inet_diag_msg_socket_source_port") &&
	   !strcmp(resolve("retrans"), "tcp_info_total_retrans") &&
	   !strcmp(resolve("tcp_info_retrans"), "tcp_info_retrans") &&
	   !strcmp(resolve("netns"), "netns") &&
	   resolve("nosuch") == NULL, "prefix rules: tcp_info_ before inet_diag_msg_");
	is(unit_of("tcp_info_rtt"), 1000, "rtt is in microseconds");
	is(unit_of("tcp_info_last_data_sent"), 1000000, "last_data_sent in ms");
	is(unit_of("timestamp_ns"), 1, "timestamp_ns in ns");
	is(unit_of("tcp_info_snd_cwnd"), 0, "cwnd is not a time");
}

static void test_malformed(void)
{
	static const struct {
		const char *what;
		uint8_t bytes[8];
		size_t len;
	} bad[] = {
		{ "truncated tag", { 0xf0 }, 1 },
		{ "truncated varint", { 0xf0, 0x4c, 0x80 }, 3 },            /* field 1230 */
		{ "length past the end", { 0x82, 0x01, 0x05, 'a' }, 4 },     /* field 16 string */
		{ "field number 0", { 0x00, 0x01 }, 2 },
		{ "tag over 5 bytes", { 0xf8, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01 }, 7 },
		{ "wrong wire type of a known field", { 0xf2, 0x4c, 0x01, 0x00 }, 4 },
		{ "group wire type", { 0xfb, 0x7f }, 2 },
		{ "fixed64 cut short", { 0xf9, 0x7f, 1, 2, 3 }, 5 },
	};
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new("rtt > 0", &e);
	size_t i;

	xtcp_filter_set_strict(f, true);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ok(xtcp_filter_match(f, bad[i].bytes, bad[i].len) == -1 && errno == EBADMSG,
		   "malformed row: %s", bad[i].what);
	}
	/* unknown fields of every wire type are skipped */
	{
		const uint8_t row[] = { 0xf0, 0x4c, 0x07,                  /* rtt = 7 */
					0xf9, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8,  /* field 2047, fixed64 */
					0xfd, 0x7f, 1, 2, 3, 4,              /* fixed32 */
					0xfa, 0x7f, 0x02, 'h', 'i' };        /* bytes */

		is(xtcp_filter_match(f, row, sizeof(row)), 1, "unknown fields are skipped");
		is(xtcp_filter_match(f, row, 0), 0, "an empty row is all zero");
	}
	xtcp_filter_free(f);
	{
		/* hostname "ab\0c": a decoded string ends at the NUL, and so does this one */
		const uint8_t row[] = { 0xa2, 0x01, 0x04, 'a', 'b', 0, 'c' };

		f = xtcp_filter_new("hostname == ab", &e);
		is(xtcp_filter_match(f, row, sizeof(row)), 1, "a string ends at its first NUL");
		xtcp_filter_free(f);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void dump(const char *what, const uint8_t *b, size_t len)
{
	size_t i;

	printf("# %s:", what);
	for (i = 0; i < len; i++)
		printf(" %02x", b[i]);
	printf("\n");
}

static int canonical(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, const uint8_t *buf,
		     size_t len)
{
	static uint8_t out[4096];

	return xtcp_record_encoded_max(rec) <= sizeof(out) &&
	       xtcp_record_encode(rec, out) == len && !memcmp(out, buf, len);
}

/* Mutated rows: whenever the reference decoder accepts a row, both paths agree. */
static void test_mutations(void)
{
	static const char *const exprs[] = {
		"rtt > 5ms && cwnd == 10",
		"src in 10.0.0.0/8 || dst in 2001:db8::/32",
		"cong ~ \"c\" || state in (LISTEN, TIME_WAIT)",
		"ts < 0 || congestion_algorithm_enum == bbr1 || hostname >= web",
	};
	size_t e, i, tried = 0, disagree = 0, raw_only = 0, quick_wrong = 0, canonical_rows = 0;
	uint8_t buf[2048];

	for (e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct xtcp_filter_error err;
		struct xtcp_filter *f = xtcp_filter_new(exprs[e], &err);
		struct xtcp_filter *fast = xtcp_filter_new(exprs[e], &err);

		xtcp_filter_set_strict(f, true);
		for (i = 0; i < 5000; i++) {
			const struct row *r = &rows[rng() % n_rows];
			XtcpFlatRecord__V1__XtcpFlatRecord rec;
			size_t len = r->len, k, flips = 1 + rng() % 3;
			int raw, dec_rc, quick;

			if (len > sizeof(buf) || !len)
				continue;
			memcpy(buf, r->bytes, len);
			for (k = 0; k < flips; k++)
				buf[rng() % len] = (uint8_t)rng();
			if (rng() % 4 == 0)
				len = rng() % len;
			raw = xtcp_filter_match(f, buf, len);
			quick = xtcp_filter_match(fast, buf, len);
			dec_rc = xtcp_record_decode(&dec, buf, len, &rec);
			tried++;
			if (dec_rc == 0 && raw != xtcp_filter_match_record(f, &rec))
				disagree++, dump(exprs[e], buf, len);
			if (dec_rc < 0 && raw >= 0)
				raw_only++, dump("raw only", buf, len);
			/* the quick scan: the same answer on every row the strict one accepts
			 * whose fields come in ascending order (canonical: re-encoding gives it back) */
			if (dec_rc == 0 && canonical(&rec, buf, len) && quick != raw)
				quick_wrong++, dump("quick scan differs", buf, len);
			else if (dec_rc == 0 && canonical(&rec, buf, len))
				canonical_rows++;
		}
		xtcp_filter_free(f);
		xtcp_filter_free(fast);
	}
	is(disagree, 0, "%zu mutated rows: bytes and decoded record agree wherever the decoder "
	   "accepts", tried);
	is(raw_only, 0, "and the strict byte scanner rejects every row the decoder rejects");
	ok(quick_wrong == 0 && canonical_rows > 1000, "the quick scan agrees on all %zu canonical "
	   "mutated rows", canonical_rows);
}

static void test_limits(void)
{
	struct xtcp_filter_error e;
	struct xtcp_filter *f;
	char *expr;
	size_t i, n = 20000;

	expr = malloc(n * 16 + 1);
	/* deep nesting is refused, not a stack overflow */
	memset(expr, '(', 300);
	strcpy(expr + 300, "rtt > 1");
	f = xtcp_filter_new(expr, &e);
	ok(!f && strstr(e.msg, "nested too deeply"), "300 '(' are refused: %s", e.msg);
	memset(expr, '!', 300);
	strcpy(expr + 300, "rtt");
	f = xtcp_filter_new(expr, &e);
	ok(!f && strstr(e.msg, "nested too deeply"), "300 '!' are refused");
	/* a long flat chain is fine: n-ary nodes keep evaluation shallow */
	{
		char *p = expr;

		for (i = 0; i < n; i++) {
			const char *clause = i ? " || rtt == 7777" : "rtt == 7777";

			memcpy(p, clause, strlen(clause));
			p += strlen(clause);
		}
		*p = '\0';
	}
	f = xtcp_filter_new(expr, &e);
	ok(f != NULL, "a chain of %zu clauses compiles", n);
	if (f) {
		is(xtcp_filter_match(f, rows[0].bytes, rows[0].len), 0, "and evaluates");
		is(xtcp_filter_n_fields(f), 1, "one field read");
		xtcp_filter_free(f);
	}
	free(expr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The cost per row of each path, printed for docs/performance.md: on the
 * widest table row, or on every row of the stream XTCP_FILTER_BENCH names
 * (bench/filter.sh passes a capture).
 */
static void bench(void)
{
	const char *expr = "state == ESTABLISHED && rtt > 5ms && dst in 192.168.0.0/16";
	const char *path = getenv("XTCP_FILTER_BENCH");
	struct xtcp_filter_error e;
	struct xtcp_filter *f = xtcp_filter_new(expr, &e);
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	uint8_t *all = NULL;
	size_t *offs = NULL, n_offs = 0, total = 0, i, k, reps, hits_raw = 0, hits_full = 0;
	double t0, raw, full;

	if (path) {
		struct xtcp_reader r;
		struct xtcp_row_iter it;
		const uint8_t *env, *row;
		size_t len, row_len, cap = 0, cap_offs = 0;
		int fd = open(path, O_RDONLY);

		if (fd < 0 || xtcp_reader_init(&r, fd) < 0)
			abort();
		while (xtcp_reader_next(&r, &env, &len) > 0) {
			xtcp_row_iter_init(&it, env, len);
			while (xtcp_row_iter_next(&it, &row, &row_len) > 0) {
				if (total + row_len > cap) {
					cap = (cap + row_len) * 2;
					all = realloc(all, cap);
				}
				if (n_offs + 2 > cap_offs) {
					cap_offs = (cap_offs + 2) * 2;
					offs = realloc(offs, cap_offs * sizeof(*offs));
				}
				if (!all || !offs)
					abort();
				memcpy(all + total, row, row_len);
				offs[n_offs++] = total;
				total += row_len;
			}
		}
		xtcp_reader_release(&r);
		close(fd);
	} else {
		all = malloc(rows[0].len);
		offs = malloc(2 * sizeof(*offs));
		if (!all || !offs)
			abort();
		memcpy(all, rows[0].bytes, rows[0].len);
		offs[n_offs++] = 0;
		total = rows[0].len;
	}
	offs[n_offs] = total;
	reps = (getenv("XTCP_SANITIZED") ? 20000 : 2000000) / n_offs + 1;

	t0 = now();
	for (k = 0; k < reps; k++)
		for (i = 0; i < n_offs; i++)
			hits_raw += (size_t)xtcp_filter_match(f, all + offs[i], offs[i + 1] - offs[i]);
	raw = (now() - t0) / (double)(reps * n_offs) * 1e9;
	t0 = now();
	for (k = 0; k < reps; k++)
		for (i = 0; i < n_offs; i++) {
			if (xtcp_record_decode(&dec, all + offs[i], offs[i + 1] - offs[i], &rec) < 0)
				abort();
			hits_full += (size_t)xtcp_filter_match_record(f, &rec);
		}
	full = (now() - t0) / (double)(reps * n_offs) * 1e9;
	is(hits_raw, hits_full, "bench: both paths keep the same rows (%zu rows of %.0f bytes)",
	   n_offs, (double)total / (double)n_offs);
	printf("# %s\n# scan row bytes: %.1f ns/row; full decode + match: %.1f ns/row\n", expr,
	       raw, full);
	free(all);
	free(offs);
	xtcp_filter_free(f);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/data/filter-cases.txt";
	int cases;
	size_t i;

	xtcp_decoder_init(&dec);
	for (i = 0; i < MAX_ROWS; i++)
		input[i] = true;
	cases = run_table(path);
	ok(cases >= 80, "the table has %d cases", cases);
	test_aliases();
	test_malformed();
	test_mutations();
	test_limits();
	bench();
	for (i = 0; i < n_rows; i++)
		free(rows[i].bytes);
	xtcp_decoder_release(&dec);
	return done_testing();
}
