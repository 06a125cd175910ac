/*
 * xtcp-bench: socket load in a private namespace, synthetic streams,
 * micro-benchmarks of the library, and the raw netlink floor.  See
 * man/xtcp-bench.1.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"
#include "format.h"
#include "synth.h"
#include "sockload.h"
#include "netlink.h"
#include "outfile.h"
#include "parse.h"
#include "record.h"
#include "stream.h"
#if __has_include("filter.h")
#include "filter.h"
#define HAVE_FILTER 1
#endif

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-bench load -n N [--netns NAME] [--v6 PCT] [--cc LIST] [--traffic]\n"
		"       xtcp-bench gen -n N [--seed S] [--v6 PCT] [--rows N] [-o FILE]\n"
		"       xtcp-bench micro [-run REGEX] [-count N] [-benchtime DUR]\n"
		"       xtcp-bench floor [--netns NAME] [--ext LIST]\n"
		"Make TCP socket load, synthetic streams and measurements for xtcp.\n"
		"\n"
		"load: hold N established loopback connections (2N sockets) until SIGTERM\n"
		"  -n, --connections N  connections to hold (1..10000000)\n"
		"      --netns NAME     use /run/netns/NAME (created and removed if missing;\n"
		"                       default: a private xtcp-bench-PID)\n"
		"      --v6 PCT         share of IPv6 connections (default 50)\n"
		"      --cc LIST        congestion controls, round robin (default: those of\n"
		"                       cubic,bbr,dctcp,reno the kernel has)\n"
		"      --traffic        keep a trickle of data flowing on every connection\n"
		"      --per-process N  connections per worker process (default: what\n"
		"                       RLIMIT_NOFILE allows, at most 8000)\n"
		"gen: write N synthetic records as a stream, the same bytes for the same seed\n"
		"  -n, --records N      records to write\n"
		"      --seed S         PRNG seed (default 1)\n"
		"      --v6 PCT         share of IPv6 sockets (default 40)\n"
		"      --rows N         rows per frame (default %u)\n"
		"  -o, --output FILE    write to FILE atomically instead of stdout\n"
		"micro: time the library's per-socket paths, in Go's benchmark format\n"
		"      -run REGEX       only benchmarks whose name matches (POSIX ERE)\n"
		"      -count N         run each benchmark N times (default 1)\n"
		"      -benchtime DUR   time per benchmark run (default 1s)\n"
		"floor: dump every TCP socket and discard the replies (the lower bound)\n"
		"      --netns NAME     dump /run/netns/NAME instead of the caller's namespace\n"
		"      --ext LIST       attributes to request (default all)\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
		"Example: xtcp-bench gen -n 1000 --seed 7 | xtcp-fmt -f json\n",
		XTCP_DEFAULT_ROWS);
}

static uint64_t parse_num(const char *opt, const char *text, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (xtcp_parse_u64(text, min, max, &v) < 0) {
		if (errno == ERANGE)
			usage_error("%s: '%s' is out of range (%" PRIu64 "..%" PRIu64 ")", opt, text,
				    min, max);
		usage_error("%s: '%s' is not a number", opt, text);
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- allocation counting ------------------------------------------------- */

/*
 * The counting malloc: this program's malloc family replaces glibc's and
 * forwards to it, counting calls and bytes while `alloc_counting` is set.
 * Under AddressSanitizer (which owns malloc) nothing is counted and micro
 * leaves out the B/op and allocs/op columns rather than print a guess.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ALLOC_COUNT 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define NO_ALLOC_COUNT 1
#endif

static volatile bool alloc_counting;
static uint64_t alloc_calls, alloc_bytes;

#ifndef NO_ALLOC_COUNT
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

static inline void count_alloc(size_t size)
{
	if (alloc_counting) {
		alloc_calls++;
		alloc_bytes += size;
	}
}

void *malloc(size_t size)
{
	count_alloc(size);
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count_alloc(n * size);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count_alloc(size);
	return __libc_realloc(p, size);
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	count_alloc(size);
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void free(void *p)
{
	__libc_free(p);
}
#endif

/* --- micro ---------------------------------------------------------------- */

#define SET 256          /* distinct synthetic sockets the benchmarks cycle over */

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
	free(m->out);
}

/*
 * Prove that the counter sees allocations before trusting its zeros: one
 * counted malloc must count as one.  If not (a malloc that bypasses ours),
 * the columns are left out.
 */
static bool alloc_ok;

static void alloc_check(void)
{
	void *volatile p;

	alloc_calls = alloc_bytes = 0;
	alloc_counting = true;
	p = malloc(24);
	alloc_counting = false;
	free(p);
	alloc_ok = alloc_calls == 1 && alloc_bytes == 24;
	if (!alloc_ok)
		warnx("micro: allocations cannot be counted in this build; no B/op and allocs/op");
}

struct result {
	uint64_t n, ns, calls, bytes;
};

static struct result run_n(struct micro *m, const struct benchmark *b, uint64_t n)
{
	struct result r = { .n = n };
	uint64_t t0;

	alloc_calls = alloc_bytes = 0;
	alloc_counting = true;
	t0 = now_ns();
	b->fn(m, n);
	r.ns = now_ns() - t0;
	alloc_counting = false;
	r.calls = alloc_calls;
	r.bytes = alloc_bytes;
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
			count = parse_num("-count", optarg, 1, 1000000);
			break;
		case 'b':
			if (xtcp_parse_duration(optarg, 1000, 3600000000000ull, &benchtime) < 0)
				usage_error("-benchtime: '%s' is not a duration (1s, 200ms, ...)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_error("micro: unknown option");
		}
	}
	if (optind < argc)
		usage_error("micro: unexpected argument '%s'", argv[optind]);
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

/* --- gen ------------------------------------------------------------------ */

static int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "v6", required_argument, NULL, '6' },
		{ "rows", required_argument, NULL, 'R' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n = 0, seed = 1, v6 = 40, rows = XTCP_DEFAULT_ROWS, i;
	const char *out_path = NULL;
	bool have_n = false;
	struct xtcp_outfile of;
	struct xtcp_output out;
	struct xtcp_envelope env;
	struct xtcp_synth g;
	xtcp_rec rec;
	const uint8_t *frame;
	size_t len, nrows;
	int c, e, fd = STDOUT_FILENO;

	while ((c = getopt_long(argc, argv, "n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = parse_num("-n", optarg, 1, UINT64_MAX >> 1);
			have_n = true;
			break;
		case 's':
			seed = parse_num("--seed", optarg, 0, UINT64_MAX);
			break;
		case '6':
			v6 = parse_num("--v6", optarg, 0, 100);
			break;
		case 'R':
			rows = parse_num("--rows", optarg, 1, 10000000);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_error("gen: unknown option");
		}
	}
	if (optind < argc)
		usage_error("gen: unexpected argument '%s'", argv[optind]);
	if (!have_n)
		usage_error("gen: -n N is required");
	if (!out_path && isatty(STDOUT_FILENO)) {
		warnx("gen: refusing to write a binary stream to a terminal; "
		      "pipe it into xtcp-fmt or use -o FILE");
		return 1;
	}
	if (out_path) {
		if (xtcp_outfile_open(&of, out_path) < 0) {
			warn("cannot create '%s'", out_path);
			return 1;
		}
		fd = of.fd;
	}
	signal(SIGPIPE, SIG_IGN);
	if (xtcp_output_init(&out, fd, 1 << 16) < 0 ||
	    xtcp_envelope_init(&env, (size_t)rows, XTCP_DEFAULT_BYTES) < 0)
		err(1, "gen");
	xtcp_synth_init(&g, seed);
	g.v6_percent = (unsigned)v6;
	for (i = 0; i < n; i++) {
		xtcp_synth_record(&g, &rec);
		if (xtcp_envelope_add(&env, &rec) < 0)
			err(1, "gen");
		while ((frame = xtcp_envelope_take(&env, i + 1 == n, &len, &nrows)) != NULL) {
			if (xtcp_output_write(&out, frame, len) < 0)
				goto err_write;
			xtcp_envelope_done(&env);
		}
	}
	if (xtcp_output_flush(&out) < 0)
		goto err_write;
	xtcp_output_release(&out);
	xtcp_envelope_release(&env);
	if (out_path && xtcp_outfile_commit(&of) < 0) {
		warn("cannot write '%s'", out_path);
		return 1;
	}
	return 0;

err_write:
	if (errno == EPIPE)
		return 0;    /* the reader went away: stop quietly */
	e = errno;
	if (out_path)
		xtcp_outfile_abort(&of);
	errno = e;
	err(1, "writing the stream");
}

/* --- floor ---------------------------------------------------------------- */

static int count_reply(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(uint64_t *)arg)++;
	return 0;
}

static int cmd_floor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'N' },
		{ "ext", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *netns = NULL, *bad;
	uint8_t ext = XTCP_EXT_ALL;
	size_t bad_len;
	struct xtcp_diag d;
	uint64_t n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			netns = optarg;
			break;
		case 'e':
			if (xtcp_parse_ext(optarg, &ext, &bad, &bad_len) < 0)
				usage_error("--ext: unknown attribute '%.*s'", (int)bad_len, bad);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_error("floor: unknown option");
		}
	}
	if (optind < argc)
		usage_error("floor: unexpected argument '%s'", argv[optind]);
	if (netns && xtcp_sockload_netns_enter(netns) < 0) {
		warn("cannot enter namespace '%s'", netns);
		return 1;
	}
	if (xtcp_diag_open(&d) < 0)
		err(1, "cannot open a NETLINK_SOCK_DIAG socket");
	if (xtcp_diag_dump(&d, AF_INET, XTCP_STATES_ALL, ext, count_reply, &n) < 0 ||
	    xtcp_diag_dump(&d, AF_INET6, XTCP_STATES_ALL, ext, count_reply, &n) < 0) {
		warn("floor: %s", d.err);
		return 1;
	}
	xtcp_diag_close(&d);
	fprintf(stderr, "%" PRIu64 " sockets\n", n);
	return 0;
}

/* --- load ----------------------------------------------------------------- */

struct progress_msg {
	uint32_t worker;
	uint32_t done;           /* connections open; UINT32_MAX: failed */
	int32_t err;
};

static volatile sig_atomic_t load_stop;
static volatile sig_atomic_t child_died;

static void on_stop(int sig)
{
	(void)sig;
	load_stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
	child_died = 1;
}

#define MAX_CC 16

struct load {
	uint64_t conns;
	unsigned v6;
	const char *cc[MAX_CC];
	size_t n_cc;
	bool cc_given;
	char *cc_list;
	bool traffic;
	uint64_t per_proc;
	char netns[128];
	bool netns_given;
	bool created;
};

/* A worker: open @count connections, report progress, hold them. */
static void load_worker(const struct load *l, uint32_t index, uint64_t first, uint64_t count,
			int report)
{
	struct xtcp_sockload_worker w;
	struct progress_msg msg = { .worker = index };
	uint64_t i;
	struct timespec tick = { 0, 100000000 };

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1);
	if (xtcp_sockload_worker_init(&w, (size_t)count) < 0)
		goto err;
	for (i = 0; i < count; i++) {
		uint64_t k = first + i;
		int family = (k * 7919 % 100) < l->v6 ? AF_INET6 : AF_INET;

		if (xtcp_sockload_worker_connect(&w, family, l->n_cc ? l->cc[k % l->n_cc] : NULL,
						 k % 4 == 0 ? 64 : 0) < 0)
			goto err;
		if ((i + 1) % 500 == 0 || i + 1 == count) {
			msg.done = (uint32_t)(i + 1);
			if (write(report, &msg, sizeof(msg)) != sizeof(msg))
				_exit(1);
		}
	}
	close(report);
	for (;;) {
		if (l->traffic) {
			/* every connection about once a second */
			if (xtcp_sockload_worker_traffic(&w, (size_t)(count / 10 + 1)) < 0)
				_exit(1);
			nanosleep(&tick, NULL);
		} else {
			pause();
		}
	}

err:
	msg.done = UINT32_MAX;
	msg.err = errno;
	if (write(report, &msg, sizeof(msg)) < 0)
		_exit(1);
	_exit(1);
}

static void parse_cc(struct load *l, const char *list)
{
	char *s, *save = NULL;

	free(l->cc_list);
	l->cc_list = strdup(list);
	if (!l->cc_list)
		err(1, "--cc");
	l->n_cc = 0;
	for (s = strtok_r(l->cc_list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (l->n_cc == MAX_CC)
			usage_error("--cc: more than %d congestion controls", MAX_CC);
		l->cc[l->n_cc++] = s;
	}
	if (!l->n_cc)
		usage_error("--cc: empty list");
}

static void load_cleanup(struct load *l, pid_t *pids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	if (l->created && xtcp_sockload_netns_remove(l->netns) < 0)
		warn("cannot remove namespace '%s'", l->netns);
}

/* Stop the workers and remove our namespace, then report @what with errno's cause. */
__attribute__((noreturn))
static void load_fail(struct load *l, pid_t *pids, size_t n, const char *what)
{
	int e = errno;

	load_cleanup(l, pids, n);
	errno = e;
	err(1, "%s", what);
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connections", required_argument, NULL, 'n' },
		{ "netns", required_argument, NULL, 'N' },
		{ "v6", required_argument, NULL, '6' },
		{ "cc", required_argument, NULL, 'C' },
		{ "traffic", no_argument, NULL, 'T' },
		{ "per-process", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct load l = { .v6 = 50 };
	static const char *const default_cc[] = { "cubic", "bbr", "dctcp", "reno" };
	bool have_n = false, tty = isatty(STDERR_FILENO);
	struct sigaction sa = { 0 };
	struct progress_msg msg;
	uint64_t done = 0, total_workers, *done_by, first = 0;
	pid_t *pids;
	long hard;
	size_t i, finished = 0;
	int c, pfd[2];
	sigset_t block, old;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			l.conns = parse_num("-n", optarg, 1, 10000000);
			have_n = true;
			break;
		case 'N':
			if (snprintf(l.netns, sizeof(l.netns), "%s", optarg) >= (int)sizeof(l.netns) ||
			    !optarg[0] || strchr(optarg, '/'))
				usage_error("--netns: '%s' is not a namespace name", optarg);
			l.netns_given = true;
			break;
		case '6':
			l.v6 = (unsigned)parse_num("--v6", optarg, 0, 100);
			break;
		case 'C':
			parse_cc(&l, optarg);
			l.cc_given = true;
			break;
		case 'T':
			l.traffic = true;
			break;
		case 'P':
			l.per_proc = parse_num("--per-process", optarg, 1, 1000000);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_error("load: unknown option");
		}
	}
	if (optind < argc)
		usage_error("load: unexpected argument '%s'", argv[optind]);
	if (!have_n)
		usage_error("load: -n N is required");
	hard = xtcp_sockload_nofile_raise();
	if (hard < 0)
		err(1, "RLIMIT_NOFILE");
	if (!l.per_proc) {
		l.per_proc = (uint64_t)(hard - 64) / 2;
		if (l.per_proc > 8000)
			l.per_proc = 8000;
	}
	if (l.per_proc * 2 + 16 > (uint64_t)hard)
		usage_error("--per-process: %" PRIu64 " connections need %" PRIu64
			    " descriptors, over the hard limit %ld", l.per_proc, l.per_proc * 2 + 16, hard);

	if (!l.netns_given)
		snprintf(l.netns, sizeof(l.netns), "xtcp-bench-%ld", (long)getpid());
	if (xtcp_sockload_netns_enter(l.netns) == 0) {
		l.created = false;
		if (xtcp_sockload_netns_setup(false) < 0)
			err(1, "bringing lo up");
	} else if (errno == ENOENT) {
		if (xtcp_sockload_netns_create(l.netns) < 0) {
			warnx("cannot create namespace '%s': %s%s", l.netns, strerror(errno),
			      errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
			return 1;
		}
		l.created = true;
		if (xtcp_sockload_netns_setup(true) < 0)
			load_fail(&l, NULL, 0, "setting up the namespace");
	} else {
		warn("cannot enter namespace '%s'", l.netns);
		return 1;
	}

	/* congestion controls: an explicit list must work; the default takes what there is */
	if (l.cc_given) {
		for (i = 0; i < l.n_cc; i++)
			if (xtcp_sockload_cong_check(l.cc[i]) < 0) {
				int e = errno;

				load_cleanup(&l, NULL, 0);
				if (e == ENOENT)
					usage_error("--cc: unknown congestion control '%s'", l.cc[i]);
				errno = e;
				warn("congestion control '%s'", l.cc[i]);
				return 1;
			}
	} else {
		for (i = 0; i < sizeof(default_cc) / sizeof(default_cc[0]); i++)
			if (xtcp_sockload_cong_check(default_cc[i]) == 0)
				l.cc[l.n_cc++] = default_cc[i];
	}

	total_workers = (l.conns + l.per_proc - 1) / l.per_proc;
	pids = calloc(total_workers, sizeof(*pids));
	done_by = calloc(total_workers, sizeof(*done_by));
	if (!pids || !done_by || pipe2(pfd, O_CLOEXEC) < 0)
		load_fail(&l, NULL, 0, "load");

	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < total_workers; i++) {
		uint64_t count = l.conns - first < l.per_proc ? l.conns - first : l.per_proc;

		fflush(NULL);
		pids[i] = fork();
		if (pids[i] < 0)
			load_fail(&l, pids, i, "fork");
		if (pids[i] == 0) {
			close(pfd[0]);
			load_worker(&l, (uint32_t)i, first, count, pfd[1]);
		}
		first += count;
	}
	close(pfd[1]);

	while (finished < total_workers && !load_stop) {
		ssize_t r = read(pfd[0], &msg, sizeof(msg));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(msg) || msg.worker >= total_workers) {
			load_cleanup(&l, pids, total_workers);
			warnx("load: a worker exited before its connections were up");
			return 1;
		}
		if (msg.done == UINT32_MAX) {
			load_cleanup(&l, pids, total_workers);
			errno = msg.err;
			warn("load: worker %u: cannot open a connection", msg.worker);
			return 1;
		}
		done += msg.done - done_by[msg.worker];
		done_by[msg.worker] = msg.done;
		if (done_by[msg.worker] == (l.conns - msg.worker * l.per_proc < l.per_proc ?
					    l.conns - msg.worker * l.per_proc : l.per_proc))
			finished++;
		if (tty)
			fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " connections",
				program_invocation_short_name, done, l.conns);
	}
	close(pfd[0]);
	if (tty)
		fputc('\n', stderr);
	if (load_stop) {
		load_cleanup(&l, pids, total_workers);
		return 0;
	}
	printf("ready netns=%s connections=%" PRIu64 " sockets=%" PRIu64 " workers=%" PRIu64
	       " cc=", l.netns, l.conns, 2 * l.conns, total_workers);
	for (i = 0; i < l.n_cc; i++)
		printf("%s%s", i ? "," : "", l.cc[i]);
	printf("%s\n", l.n_cc ? "" : "default");
	if (fflush(stdout) != 0 && errno != EPIPE)
		load_fail(&l, pids, total_workers, "writing readiness");

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!load_stop && !child_died)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	load_cleanup(&l, pids, total_workers);
	free(pids);
	free(done_by);
	free(l.cc_list);
	if (child_died && !load_stop) {
		warnx("load: a worker died; connections were lost");
		return 1;
	}
	return 0;
}

/* --- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *sub;

	if (argc < 2)
		usage_error("a subcommand is required: load, gen, micro or floor");
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "-V") || !strcmp(sub, "--version")) {
		printf("xtcp-bench %s\n", XTCP_VERSION);
		return 0;
	}
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!strcmp(sub, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(sub, "gen"))
		return cmd_gen(argc, argv);
	if (!strcmp(sub, "micro"))
		return cmd_micro(argc, argv);
	if (!strcmp(sub, "floor"))
		return cmd_floor(argc, argv);
	usage_error("unknown subcommand '%s'", sub);
}
