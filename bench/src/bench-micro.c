/*
 * xtcp-bench micro: time the library's per-socket paths on synthetic sockets
 * and print the results in Go's benchmark format, with allocations counted.
 * A program of its own, xtcp-bench-micro, linked with the counting malloc
 * (alloccount.h); cmd/xtcp-bench.c runs it for `xtcp-bench micro`.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloccount.h"
#include "bench.h"
#include "cli.h"
#include "format.h"
#include "netlink.h"
#include "parse.h"
#include "rate.h"
#include "record.h"
#include "stat.h"
#include "stream.h"
#include "synth.h"
#if __has_include("filter.h")
#include "filter.h"
#define HAVE_FILTER 1
#endif

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- micro ---------------------------------------------------------------- */

#define SET 256          /* distinct synthetic sockets the benchmarks cycle over */
#define RATE_POLLS 8     /* polls of them RatePerRow cycles over: 7 in 8 rows are deltas */

struct micro {
	uint8_t *nl[SET];              /* kernel replies */
	uint8_t *row[SET];             /* encoded records */
	size_t row_len[SET];
	xtcp_rec rec[SET];             /* decoded, pointing into dec[] */
	struct xtcp_decoder dec[SET];
	xtcp_rec scratch;
	struct xtcp_decoder scratch_dec;
	struct xtcp_nl_parser parser;
	struct xtcp_envelope env;
	struct xtcp_format json, csv, text;
	uint8_t *out;                  /* room for any one encoded or formatted record */
	size_t out_cap;
	struct xtcp_synth synth;
#ifdef HAVE_FILTER
	struct xtcp_filter *filter;
#endif
	struct xtcp_stat *stat;
	struct xtcp_rate *rate;
	uint8_t *rate_row[RATE_POLLS][SET];    /* the sockets polled again and again */
	size_t rate_len[RATE_POLLS][SET];
	uint64_t sink;
};

static void bench_netlink_parse(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		xtcp_netlink_parse(&m->parser, (const struct nlmsghdr *)m->nl[i % SET], &m->scratch);
		m->sink += m->scratch.tcp_info_rtt;
	}
}

static void bench_encode(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		m->sink += xtcp_record_encode(&m->rec[i % SET], m->out);
}

static void bench_decode(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		xtcp_record_decode(&m->scratch_dec, m->row[i % SET], m->row_len[i % SET], &m->scratch);
		m->sink += m->scratch.tcp_info_rtt;
	}
}

static void envelope_step(struct micro *m, const xtcp_rec *rec)
{
	size_t len, rows;

	if (xtcp_envelope_add(&m->env, rec) == 1) {
		m->sink += (uintptr_t)xtcp_envelope_take(&m->env, false, &len, &rows) + len;
		xtcp_envelope_done(&m->env);
	}
}

static void bench_envelope(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		envelope_step(m, &m->rec[i % SET]);
}

/* What xtcp-dump does per socket: kernel reply to record, record into the frame. */
static void bench_dump_socket(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		xtcp_netlink_parse(&m->parser, (const struct nlmsghdr *)m->nl[i % SET], &m->scratch);
		envelope_step(m, &m->scratch);
	}
}

static void bench_json(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		m->sink += xtcp_format_record(&m->json, &m->rec[i % SET], (char *)m->out);
}

static void bench_csv(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		m->sink += xtcp_format_record(&m->csv, &m->rec[i % SET], (char *)m->out);
}

static void bench_text(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		m->sink += xtcp_format_record(&m->text, &m->rec[i % SET], (char *)m->out);
}

#ifdef HAVE_FILTER
static void bench_filter(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		m->sink += (uint64_t)xtcp_filter_match(m->filter, m->row[i % SET], m->row_len[i % SET]);
}
#endif

/*
 * xtcp-stat's work per decoded record: grouped by netns and state, three
 * fields kept; a poll of STAT_POLL records is then summarised (three
 * quantiles, JSON) and its arrays reused.
 */
#define STAT_POLL 1000

static void bench_stat(struct micro *m, uint64_t n)
{
	struct xtcp_stat_poll poll;
	const char *text;
	uint64_t i;
	size_t len;

	for (i = 0; i < n; i++) {
		xtcp_stat_add(m->stat, &m->rec[i % SET]);
		if (xtcp_stat_rows(m->stat) == STAT_POLL &&
		    xtcp_stat_summarise(m->stat, &poll, &text, &len) == 0)
			m->sink += len;
	}
	xtcp_stat_reset(m->stat);
}

/* xtcp-rate's work for one row: its socket followed, the row written with its rate fields. */
static void bench_rate(struct micro *m, uint64_t n)
{
	struct xtcp_rate_result res;
	uint64_t i;
	size_t len;

	for (i = 0; i < n; i++) {
		size_t k = i % (SET * RATE_POLLS), p = k / SET, s = k % SET;

		if (xtcp_rate_follow(m->rate, m->rate_row[p][s], m->rate_len[p][s], &res) == 0 &&
		    xtcp_rate_encode(m->rate, &res, m->rate_row[p][s], m->rate_len[p][s], &len))
			m->sink += len;
	}
}

static void bench_gen(struct micro *m, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		xtcp_synth_record(&m->synth, &m->scratch);
		m->sink += m->scratch.tcp_info_rtt;
	}
}

static const struct benchmark {
	const char *name;
	void (*fn)(struct micro *m, uint64_t n);
} benchmarks[] = {
	{ "NetlinkParse", bench_netlink_parse },
	{ "RecordEncode", bench_encode },
	{ "RecordDecode", bench_decode },
#ifdef HAVE_FILTER
	{ "FilterEval", bench_filter },
#endif
	{ "FormatJSON", bench_json },
	{ "FormatCSV", bench_csv },
	{ "FormatText", bench_text },
	{ "EnvelopeAppend", bench_envelope },
	{ "DumpPerSocket", bench_dump_socket },
	{ "StatPerRow", bench_stat },
	{ "RatePerRow", bench_rate },
	{ "GenRecord", bench_gen },
};

/* The filter expression FilterEval runs: a typical one, a state, a time and a prefix. */
#define MICRO_FILTER "state == ESTABLISHED && rtt > 5ms && !(dst in 10.0.0.0/8)"

static int micro_setup(struct micro *m)
{
	const char *bad;
	size_t i, bad_len, max = 0;
	struct xtcp_synth g;
	xtcp_rec r;

	memset(m, 0, sizeof(*m));
	xtcp_synth_init(&g, 1);
	xtcp_synth_init(&m->synth, 2);
	xtcp_decoder_init(&m->scratch_dec);
	xtcp_record_init(&m->scratch);
	if (xtcp_format_init(&m->json, XTCP_FORMAT_JSON, NULL, false, &bad, &bad_len) < 0 ||
	    xtcp_format_init(&m->csv, XTCP_FORMAT_CSV, NULL, true, &bad, &bad_len) < 0 ||
	    xtcp_format_init(&m->text, XTCP_FORMAT_TEXT, NULL, true, &bad, &bad_len) < 0)
		return -1;
	if (xtcp_envelope_init(&m->env, XTCP_DEFAULT_ROWS, XTCP_DEFAULT_BYTES) < 0)
		return -1;
	for (i = 0; i < SET; i++) {
		xtcp_synth_record(&g, &r);
		m->nl[i] = malloc(XTCP_SYNTH_NETLINK_MAX);
		m->row[i] = malloc(xtcp_record_encoded_max(&r));
		if (!m->nl[i] || !m->row[i])
			return -1;
		xtcp_synth_netlink(&r, m->nl[i]);
		m->row_len[i] = xtcp_record_encode(&r, m->row[i]);
		xtcp_decoder_init(&m->dec[i]);
		if (xtcp_record_decode(&m->dec[i], m->row[i], m->row_len[i], &m->rec[i]) < 0)
			return -1;
		if (xtcp_record_encoded_max(&m->rec[i]) > max)
			max = xtcp_record_encoded_max(&m->rec[i]);
		if (xtcp_format_record_max(&m->json, &m->rec[i]) > max)
			max = xtcp_format_record_max(&m->json, &m->rec[i]);
		if (xtcp_format_record_max(&m->csv, &m->rec[i]) > max)
			max = xtcp_format_record_max(&m->csv, &m->rec[i]);
		if (xtcp_format_record_max(&m->text, &m->rec[i]) > max)
			max = xtcp_format_record_max(&m->text, &m->rec[i]);
	}
	m->out_cap = max;
	m->out = malloc(max);
	if (!m->out)
		return -1;
#ifdef HAVE_FILTER
	{
		struct xtcp_filter_error ferr;

		m->filter = xtcp_filter_new(MICRO_FILTER, &ferr);
		if (!m->filter)
			return -1;
	}
#endif
	{
		struct xtcp_stat_options o = { XTCP_STAT_JSON, "netns,state", "rtt,cwnd,retrans",
					       "0.5,0.9,0.99", 0, true };
		struct xtcp_stat_error serr;

		m->stat = xtcp_stat_new(&o, &serr);
		if (!m->stat)
			return -1;
		/* one poll first: the arrays a poll needs are then there */
		bench_stat(m, STAT_POLL);
	}
	{
		size_t p;

		m->rate = xtcp_rate_new(XTCP_RATE_FORGET_DEFAULT);
		if (!m->rate)
			return -1;
		for (p = 0; p < RATE_POLLS; p++) {
			for (i = 0; i < SET; i++) {
				xtcp_rec r2 = m->rec[i];

				r2.timestamp_ns += (int64_t)p * 1000000000;
				r2.poll_sequence = p + 1;
				r2.tcp_info_bytes_acked += p * 14480;
				r2.tcp_info_segs_out += (uint32_t)p * 10;
				m->rate_row[p][i] = malloc(xtcp_record_encoded_max(&r2));
				if (!m->rate_row[p][i])
					return -1;
				m->rate_len[p][i] = xtcp_record_encode(&r2, m->rate_row[p][i]);
			}
		}
		/* every socket once first: the table and the row buffer are then there */
		bench_rate(m, SET);
	}
	return 0;
}

static void micro_release(struct micro *m)
{
	size_t i;

	for (i = 0; i < SET; i++) {
		free(m->nl[i]);
		free(m->row[i]);
		xtcp_decoder_release(&m->dec[i]);
	}
	xtcp_decoder_release(&m->scratch_dec);
	xtcp_envelope_release(&m->env);
	xtcp_format_release(&m->json);
	xtcp_format_release(&m->csv);
	xtcp_format_release(&m->text);
#ifdef HAVE_FILTER
	xtcp_filter_free(m->filter);
#endif
	xtcp_stat_free(m->stat);
	xtcp_rate_free(m->rate);
	for (i = 0; i < SET * RATE_POLLS; i++)
		free(m->rate_row[i / SET][i % SET]);
	free(m->out);
}

/*
 * Prove that the counter sees allocations before trusting its zeros; if it
 * does not (under ASan, or a malloc that bypasses ours), the columns are left
 * out rather than print a guess.
 */
static bool alloc_ok;

static void alloc_check(void)
{
	alloc_ok = xtcp_alloccount_works();
	if (!alloc_ok)
		warnx("micro: allocations cannot be counted in this build; no B/op and allocs/op");
}

struct result {
	uint64_t n, ns, calls, bytes;
};

static struct result run_n(struct micro *m, const struct benchmark *b, uint64_t n)
{
	struct result r = { .n = n };
	struct xtcp_alloccount count;
	uint64_t t0;

	xtcp_alloccount_start();
	t0 = now_ns();
	b->fn(m, n);
	r.ns = now_ns() - t0;
	xtcp_alloccount_stop(&count);
	r.calls = count.calls;
	r.bytes = count.bytes;
	return r;
}

/* Go's testing.B: grow N until one run takes the bench time. */
static struct result run_benchmark(struct micro *m, const struct benchmark *b, uint64_t benchtime)
{
	struct result r = run_n(m, b, 1);
	uint64_t n = 1, next;

	while (r.ns < benchtime && n < 1000000000u) {
		uint64_t per = r.ns / n ? r.ns / n : 1;

		next = benchtime / per;
		next += next / 5;                     /* aim 20% over */
		if (next > 100 * n)
			next = 100 * n;
		if (next <= n)
			next = n + 1;
		if (next > 1000000000u)
			next = 1000000000u;
		n = next;
		r = run_n(m, b, n);
	}
	return r;
}

/* ns/op as Go prints it: fewer decimals for bigger numbers. */
static void print_result(const char *name, long procs, const struct result *r)
{
	double per = (double)r->ns / (double)r->n;
	char label[96];

	if (procs > 1)
		snprintf(label, sizeof(label), "Benchmark%s-%ld", name, procs);
	else
		snprintf(label, sizeof(label), "Benchmark%s", name);
	printf("%-28s\t%10" PRIu64 "\t", label, r->n);
	if (per == 0 || per >= 999.95)
		printf("%10.0f ns/op", per);
	else if (per >= 99.995)
		printf("%12.1f ns/op", per);
	else if (per >= 9.9995)
		printf("%13.2f ns/op", per);
	else
		printf("%14.3f ns/op", per);
	if (alloc_ok)
		printf("\t%8" PRIu64 " B/op\t%8" PRIu64 " allocs/op", r->bytes / r->n,
		       r->calls / r->n);
	putchar('\n');
	fflush(stdout);
}

static void cpu_name(char *out, size_t size)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(out, size, "%s", colon + 2);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

static int cmd_micro(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "benchtime", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pattern = NULL;
	uint64_t count = 1, benchtime = 1000000000u;
	static struct micro m;
	regex_t re;
	char cpu[128];
	long procs = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, matched = 0;
	uint64_t k;
	int c;

	while ((c = getopt_long_only(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			pattern = optarg;
			break;
		case 'c':
			count = bench_parse_num("-count", optarg, 1, 1000000);
			break;
		case 'b':
			if (xtcp_parse_duration(optarg, 1000, 3600000000000ull, &benchtime) < 0)
				usage_error("-benchtime: '%s' is not a duration (1s, 200ms, ...)", optarg);
			break;
		default:
			bench_option_default("micro", c);
		}
	}
	bench_args_none("micro", argc, argv);
	if (pattern) {
		int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char why[128];

			regerror(rc, &re, why, sizeof(why));
			usage_error("-run: bad regular expression '%s': %s", pattern, why);
		}
	}
	if (micro_setup(&m) < 0)
		err(1, "micro: setting up");
	alloc_check();
	cpu_name(cpu, sizeof(cpu));
	printf("goos: linux\ngoarch: %s\npkg: xtcp/lib\ncpu: %s\n",
#if defined(__x86_64__)
	       "amd64",
#elif defined(__aarch64__)
	       "arm64",
#else
	       "unknown",
#endif
	       cpu);
	for (i = 0; i < sizeof(benchmarks) / sizeof(benchmarks[0]); i++) {
		char full[64];

		snprintf(full, sizeof(full), "Benchmark%s", benchmarks[i].name);
		if (pattern && regexec(&re, full, 0, NULL, 0) != 0)
			continue;
		matched++;
		for (k = 0; k < count; k++) {
			struct result r = run_benchmark(&m, &benchmarks[i], benchtime);

			print_result(benchmarks[i].name, procs, &r);
		}
	}
	if (pattern)
		regfree(&re);
	micro_release(&m);
	if (!matched)
		warnx("micro: no benchmark matches '%s'", pattern);
	printf("PASS\n");
#ifndef HAVE_FILTER
	warnx("micro: built without lib/filter.h: no FilterEval");
#endif
	if (fclose(stdout) != 0)
		err(1, "writing results");
	return 0;
}

int main(int argc, char **argv)
{
	return cmd_micro(argc, argv);
}
