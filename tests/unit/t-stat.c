/*
 * t-stat: lib/stat.c, the summaries of xtcp-stat.  Options and their errors,
 * exact sums and type 7 quantiles (hand-worked values, and random polls
 * against an independent computation: qsort and the formula in 128 bits),
 * signed and 64-bit extremes, poll boundaries, group order, folding, the
 * metric names and units of the exposition format, label escaping.
 * tests/cli/xtcp-stat.bats compares whole streams with Python.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stat.h"
#include "tap.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

static struct xtcp_stat *make(enum xtcp_stat_format format, const char *by, const char *fields,
			      const char *quantiles, size_t max_series)
{
	struct xtcp_stat_options o = { format, by, fields, quantiles, max_series, true };
	struct xtcp_stat_error e;
	struct xtcp_stat *s = xtcp_stat_new(&o, &e);

	if (!s)
		printf("# cannot compile by '%s' fields '%s' quantiles '%s': problem %d at '%.*s'\n",
		       by, fields, quantiles, e.problem, (int)e.len, e.at);
	return s;
}

/* The text of a summary of the rows added, NUL-terminated in a static buffer. */
static const char *summary(struct xtcp_stat *s, struct xtcp_stat_poll *poll)
{
	static char buf[1 << 20];
	struct xtcp_stat_poll p;
	const char *text;
	size_t len;

	if (xtcp_stat_summarise(s, poll ? poll : &p, &text, &len) < 0)
		return "(failed)";
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return buf;
}

static void add_rtt(struct xtcp_stat *s, uint32_t rtt)
{
	xtcp_rec r;

	xtcp_record_init(&r);
	r.poll_sequence = 1;
	r.tcp_info_rtt = rtt;
	xtcp_stat_add(s, &r);
}

static int contains(const char *text, const char *want)
{
	if (strstr(text, want))
		return 1;
	printf("# want: %s\n# in:   %s\n", want, text);
	return 0;
}

static void test_options(void)
{
	static const struct {
		const char *by, *fields, *quantiles;
		enum xtcp_stat_problem problem;
		const char *option, *at;
	} bad[] = {
		{ "netns,rttt", "rtt", "", XTCP_STAT_UNKNOWN_FIELD, "by", "rttt" },
		{ "netns", "rtt,,cwnd", "", XTCP_STAT_EMPTY_NAME, "fields", "" },
		{ "netns,", "rtt", "", XTCP_STAT_EMPTY_NAME, "by", "" },
		{ "state,inet_diag_msg_state", "", "", XTCP_STAT_TWICE, "by", "inet_diag_msg_state" },
		{ "", "rtt,tcp_info_rtt", "", XTCP_STAT_TWICE, "fields", "tcp_info_rtt" },
		{ "", "rtt,netns", "", XTCP_STAT_NOT_NUMBER, "fields", "netns" },
		{ "", "state", "", XTCP_STAT_NOT_NUMBER, "fields", "state" },
		{ "", "cong", "", XTCP_STAT_NOT_NUMBER, "fields", "cong" },
		{ "timestamp_ns", "", "", XTCP_STAT_RESERVED, "by", "timestamp_ns" },
		{ "", "poll_sequence", "", XTCP_STAT_RESERVED, "fields", "poll_sequence" },
		{ "", "rtt", "0.5,1.5", XTCP_STAT_BAD_QUANTILE, "quantiles", "1.5" },
		{ "", "rtt", "0.1234567", XTCP_STAT_BAD_QUANTILE, "quantiles", "0.1234567" },
		{ "", "rtt", "50%", XTCP_STAT_BAD_QUANTILE, "quantiles", "50%" },
		{ "", "rtt", "-0.5", XTCP_STAT_BAD_QUANTILE, "quantiles", "-0.5" },
		{ "", "rtt", "0.", XTCP_STAT_BAD_QUANTILE, "quantiles", "0." },
		{ "", "rtt", "0.5,.50", XTCP_STAT_TWICE, "quantiles", ".50" },
	};
	struct xtcp_stat_error e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xtcp_stat_options o = { XTCP_STAT_JSON, bad[i].by, bad[i].fields,
					       bad[i].quantiles, 0, true };
		struct xtcp_stat *s;

		memset(&e, 0, sizeof(e));
		s = xtcp_stat_new(&o, &e);
		ok(!s && errno == EINVAL && e.problem == bad[i].problem &&
		   !strcmp(e.option, bad[i].option) && e.len == strlen(bad[i].at) &&
		   !strncmp(e.at, bad[i].at, e.len),
		   "by '%s' fields '%s' quantiles '%s': problem %d in --%s at '%s'", bad[i].by,
		   bad[i].fields, bad[i].quantiles, bad[i].problem, bad[i].option, bad[i].at);
		xtcp_stat_free(s);
	}
	/* aliases, names, prefixes; empty lists; the reserved fields by their aliases */
	{
		struct xtcp_stat *s = make(XTCP_STAT_CSV, "netns,state,dst,cong,ts,poll",
					   "rtt,tcp_info_snd_cwnd,bytes_acked,ts", "", 0);
		const char *text;
		size_t len;

		ok(s != NULL, "aliases, names and names without their prefix compile");
		if (s) {
			xtcp_stat_preamble(s, &text, &len);
			ok(len && !strncmp(text, "poll_sequence,timestamp_ns,record_kind,netns,state,dst,cong,ts,poll,"
					   "count,rtt_sum,rtt_min,rtt_max,tcp_info_snd_cwnd_sum,", len > 111 ? 111 : len),
			   "the CSV header names keys and fields as written");
		}
		xtcp_stat_free(s);
		s = make(XTCP_STAT_TEXT, "", "", "", 0);
		ok(s != NULL, "empty lists: one group, counts only");
		xtcp_stat_free(s);
	}
}

static void test_quantiles(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_JSON, "", "rtt", "0,0.25,0.5,0.9,0.99,0.999999,1", 0);
	const char *t;

	if (!s)
		return;
	add_rtt(s, 4);
	add_rtt(s, 1);
	add_rtt(s, 3);
	add_rtt(s, 2);
	t = summary(s, NULL);
	/* n = 4: h = 3p; 0.25 -> 1.75, 0.5 -> 2.5, 0.9 -> 3.7, 0.99 -> 3.97, 0.999999 -> 3.999997 */
	ok(contains(t, "\"count\":4,\"rtt\":{\"sum\":10,\"min\":1,\"p0\":1,\"p25\":1.75,\"p50\":2.5,"
		       "\"p90\":3.7,\"p99\":3.97,\"p99.9999\":3.999997,\"p100\":4,\"max\":4}"),
	   "type 7 on 1 2 3 4, exact decimals");
	add_rtt(s, 7);
	t = summary(s, NULL);
	ok(contains(t, "\"rtt\":{\"sum\":7,\"min\":7,\"p0\":7,\"p25\":7,\"p50\":7,\"p90\":7,\"p99\":7,"
		       "\"p99.9999\":7,\"p100\":7,\"max\":7}"),
	   "one value is every quantile of itself; the memory of the poll before is reset");
	add_rtt(s, 10);
	add_rtt(s, 20);
	t = summary(s, NULL);
	ok(contains(t, "\"p25\":12.5,\"p50\":15,\"p90\":19,\"p99\":19.9,\"p99.9999\":19.99999,"),
	   "two values: interpolated");
	xtcp_stat_free(s);
}

static void test_extremes(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_JSON, "", "ts,bytes_acked", "0.25,0.5", 0);
	xtcp_rec r;
	const char *t;

	if (!s)
		return;
	xtcp_record_init(&r);
	r.poll_sequence = 3;
	r.timestamp_ns = -5;
	r.tcp_info_bytes_acked = UINT64_MAX;
	xtcp_stat_add(s, &r);
	r.timestamp_ns = 10;
	r.tcp_info_bytes_acked = UINT64_MAX - 1;
	xtcp_stat_add(s, &r);
	r.timestamp_ns = 3;
	r.tcp_info_bytes_acked = 1ull << 53;
	xtcp_stat_add(s, &r);
	t = summary(s, NULL);
	/* signed: -5 3 10, h = 0.5 -> -1; 64-bit: a sum above 2^64, strings above 2^53 */
	ok(contains(t, "\"ts\":{\"sum\":8,\"min\":-5,\"p25\":-1,\"p50\":3,\"max\":10}"),
	   "a signed field: negative values, sums and quantiles");
	ok(contains(t, "\"bytes_acked\":{\"sum\":\"36902495346673844221\",\"min\":9007199254740992,"
		       "\"p25\":\"9227875636482146303\",\"p50\":\"18446744073709551614\","
		       "\"max\":\"18446744073709551615\"}"),
	   "64-bit extremes: exact 128-bit sums; above 2^53 as strings, as xtcp-fmt writes them");
	ok(contains(t, "{\"poll_sequence\":3,\"timestamp_ns\":-5,\"record_kind\":\"RECORD_KIND_POLL\",\"group\":{},\"count\":3,"),
	   "the poll's number and its first record's timestamp");
	xtcp_stat_free(s);
}

static uint64_t rng = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact type 7 value, independently: "int[.frac]" of (x[j](d - r) + x[j+1] r) / d. */
static void type7(const uint64_t *x, size_t n, uint64_t a, uint64_t d, char *out)
{
	unsigned __int128 h = (unsigned __int128)(n - 1) * a, m;
	size_t j = (size_t)(h / d);
	uint64_t r = (uint64_t)(h % d), frac;
	char digits[48];
	int k = 0;

	m = r ? (unsigned __int128)x[j] * (d - r) + (unsigned __int128)x[j + 1] * r
	      : (unsigned __int128)x[j] * d;
	frac = (uint64_t)(m % d);
	m /= d;
	do {
		digits[k++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m);
	while (k)
		*out++ = digits[--k];
	if (frac) {
		uint64_t unit;

		*out++ = '.';
		for (unit = d / 10; frac; unit /= 10) {
			*out++ = (char)('0' + frac / unit);
			frac %= unit;
		}
	}
	*out = '\0';
}

static void test_random(void)
{
	static const size_t sizes[] = { 1, 2, 3, 63, 64, 65, 200, 1000, 4097 };
	static uint64_t want[5000];
	char line[256], q[64];
	size_t i, n, k, bad = 0;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct xtcp_stat *s = make(XTCP_STAT_CSV, "", "bytes_acked", "0.001,0.5,0.9,0.999", 0);
		const char *t;
		xtcp_rec r;

		if (!s)
			return;
		n = sizes[k];
		xtcp_record_init(&r);
		for (i = 0; i < n; i++) {
			/* wide values, small ones, and many repeats */
			uint64_t v = rnd();

			v = i % 3 == 0 ? v : i % 3 == 1 ? v % 1000 : 42;
			want[i] = r.tcp_info_bytes_acked = v;
			xtcp_stat_add(s, &r);
		}
		qsort(want, n, sizeof(*want), cmp_u64);
		t = summary(s, NULL);
		snprintf(line, sizeof(line), "%zu,", n);
		t = strstr(t, line);
		if (!t) {
			bad++;
			continue;
		}
		t += strlen(line);
		/* sum, min, quantiles, max: check min, max and the quantiles */
		t = strchr(t, ',') + 1;
		snprintf(line, sizeof(line), "%" PRIu64 ",", want[0]);
		bad += strncmp(t, line, strlen(line)) != 0;
		t += strlen(line);
		{
			static const uint64_t qa[] = { 1, 5, 9, 999 }, qd[] = { 1000, 10, 10, 1000 };
			size_t j;

			for (j = 0; j < 4; j++) {
				type7(want, n, qa[j], qd[j], q);
				snprintf(line, sizeof(line), "%s,", q);
				if (strncmp(t, line, strlen(line))) {
					printf("# n %zu quantile %zu: want %s at %.40s\n", n, j, q, t);
					bad++;
				}
				t += strlen(line);
			}
		}
		snprintf(line, sizeof(line), "%" PRIu64 "\n", want[n - 1]);
		bad += strcmp(t, line) != 0;
		xtcp_stat_free(s);
	}
	ok(bad == 0, "random polls of 1 to 4097 values: min, max, quantiles equal qsort and the formula");
}

static void test_polls(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_CSV, "", "", "", 0);
	struct xtcp_stat_poll poll;
	const char *text, *want;
	size_t len;
	xtcp_rec r;

	if (!s)
		return;
	xtcp_record_init(&r);
	r.poll_sequence = 1;
	r.timestamp_ns = 100;
	ok(!xtcp_stat_ends_poll(s, &r), "the first record starts no new poll");
	xtcp_stat_add(s, &r);
	r.timestamp_ns = 200;
	ok(!xtcp_stat_ends_poll(s, &r), "the same poll_sequence, another timestamp: the same poll");
	r.poll_sequence = 2;
	ok(xtcp_stat_ends_poll(s, &r), "another poll_sequence: another poll");
	xtcp_stat_reset(s);
	r.poll_sequence = 0;
	xtcp_stat_add(s, &r);
	ok(!xtcp_stat_ends_poll(s, &r), "poll_sequence 0: the same timestamp is the same poll");
	r.timestamp_ns = 300;
	ok(xtcp_stat_ends_poll(s, &r), "poll_sequence 0: another timestamp is another poll");
	is(xtcp_stat_rows(s), 1, "one row held");

	/* close records (xtcp-dump -E): apart from the poll they follow */
	xtcp_stat_reset(s);
	r.poll_sequence = 3;
	r.timestamp_ns = 100;
	xtcp_stat_add(s, &r);
	r.record_kind = XTCP_RECORD_KIND_CLOSE;
	r.timestamp_ns = 150;
	ok(xtcp_stat_ends_poll(s, &r), "a close record after poll 3's rows begins another summary");
	xtcp_stat_reset(s);
	xtcp_stat_add(s, &r);
	r.timestamp_ns = 160;
	ok(!xtcp_stat_ends_poll(s, &r), "close records after one poll: one summary, whatever their times");
	xtcp_stat_add(s, &r);
	if (ok(xtcp_stat_summarise(s, &poll, &text, &len) == 0, "summarised")) {
		is(poll.record_kind, XTCP_RECORD_KIND_CLOSE, "of kind close");
		is(poll.rows, 2, "two close records");
		is(poll.timestamp_ns, 150, "the time of the first");
		want = "3,150,RECORD_KIND_CLOSE,2\n";
		if (!ok(len == strlen(want) && !memcmp(text, want, len), "its csv line says its kind"))
			printf("# %.*s", (int)len, text);
	}
	xtcp_stat_add(s, &r);
	r.record_kind = XTCP_RECORD_KIND_POLL;
	r.poll_sequence = 4;
	ok(xtcp_stat_ends_poll(s, &r), "poll 4's first row ends the close records of poll 3");
	xtcp_stat_reset(s);
	r.poll_sequence = 0;
	r.record_kind = XTCP_RECORD_KIND_CLOSE;
	xtcp_stat_add(s, &r);
	r.timestamp_ns = 170;
	ok(!xtcp_stat_ends_poll(s, &r), "poll_sequence 0 (-E alone): close records are one summary");
	xtcp_stat_free(s);
}

static void add_group(struct xtcp_stat *s, const char *netns, uint32_t state, int n)
{
	xtcp_rec r;

	xtcp_record_init(&r);
	r.poll_sequence = 1;
	r.netns = (char *)(uintptr_t)netns;
	r.inet_diag_msg_state = state;
	while (n-- > 0) {
		r.tcp_info_rtt = (uint32_t)n;
		xtcp_stat_add(s, &r);
	}
}

static void test_groups(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_CSV, "netns,state", "", "", 0);
	struct xtcp_stat_poll poll;
	const char *t;

	if (!s)
		return;
	add_group(s, "b", 10, 1);
	add_group(s, "a", 10, 2);
	add_group(s, "b", 1, 3);
	add_group(s, "a", 1, 1);
	add_group(s, "", 2, 1);
	add_group(s, "a", 10, 1);      /* back to a group seen before */
	t = summary(s, &poll);
	ok(!strcmp(t, "1,0,RECORD_KIND_POLL,,SYN_SENT,1\n1,0,RECORD_KIND_POLL,a,ESTABLISHED,1\n"
		      "1,0,RECORD_KIND_POLL,a,LISTEN,3\n1,0,RECORD_KIND_POLL,b,ESTABLISHED,3\n"
		      "1,0,RECORD_KIND_POLL,b,LISTEN,1\n"),
	   "groups in key order: strings by bytes, states by number");
	if (strcmp(t, "1,0,RECORD_KIND_POLL,,SYN_SENT,1\n1,0,RECORD_KIND_POLL,a,ESTABLISHED,1\n"
		      "1,0,RECORD_KIND_POLL,a,LISTEN,3\n1,0,RECORD_KIND_POLL,b,ESTABLISHED,3\n"
		      "1,0,RECORD_KIND_POLL,b,LISTEN,1\n"))
		printf("# %s", t);
	ok(poll.rows == 9 && poll.groups == 5 && poll.folded == 0, "the poll's rows and groups");
	xtcp_stat_free(s);

	/* folding: counts 5 4 3 2 1 2, at most 3 series */
	s = make(XTCP_STAT_CSV, "netns", "rtt", "0.5", 3);
	if (!s)
		return;
	add_group(s, "e", 1, 1);
	add_group(s, "d", 1, 2);
	add_group(s, "c", 1, 3);
	add_group(s, "b", 1, 4);
	add_group(s, "a", 1, 5);
	add_group(s, "f", 1, 2);
	t = summary(s, &poll);
	ok(poll.groups == 6 && poll.folded == 4, "6 groups, 3 series: 2 shown, 4 folded");
	ok(!strcmp(t, "1,0,RECORD_KIND_POLL,a,0,5,10,0,2,4\n1,0,RECORD_KIND_POLL,b,0,4,6,0,1.5,3\n"
		      "1,0,RECORD_KIND_POLL,,4,8,5,0,0.5,2\n"),
	   "the largest groups in key order, then one group of the others' records");
	if (strcmp(t, "1,0,RECORD_KIND_POLL,a,0,5,10,0,2,4\n1,0,RECORD_KIND_POLL,b,0,4,6,0,1.5,3\n"
		      "1,0,RECORD_KIND_POLL,,4,8,5,0,0.5,2\n"))
		printf("# %s", t);
	xtcp_stat_free(s);

	/* a tie at the cut: the first in key order stays */
	s = make(XTCP_STAT_CSV, "netns", "", "", 2);
	if (!s)
		return;
	add_group(s, "y", 1, 2);
	add_group(s, "x", 1, 2);
	add_group(s, "z", 1, 2);
	t = summary(s, &poll);
	ok(!strcmp(t, "1,0,RECORD_KIND_POLL,x,0,2\n1,0,RECORD_KIND_POLL,,2,4\n"),
	   "a tie at the cut: the first in key order is shown");
	xtcp_stat_free(s);
}

static void test_metric_names(void)
{
	static const struct {
		const char *field, *infix, *want;
	} names[] = {
		{ "tcp_info_rtt", "", "xtcp_tcp_rtt_seconds" },
		{ "tcp_info_rtt", "_min", "xtcp_tcp_rtt_min_seconds" },
		{ "tcp_info_snd_cwnd", "", "xtcp_tcp_snd_cwnd_segments" },
		{ "tcp_info_bytes_acked", "_max", "xtcp_tcp_bytes_acked_max_bytes" },
		{ "tcp_info_not_sent_bytes", "", "xtcp_tcp_not_sent_bytes" },
		{ "tcp_info_not_sent_bytes", "_min", "xtcp_tcp_not_sent_min_bytes" },
		{ "tcp_info_pacing_rate", "", "xtcp_tcp_pacing_rate_bytes_per_second" },
		{ "uplink1_nic_speed_mbps", "", "xtcp_uplink1_nic_speed_bytes_per_second" },
		{ "timestamp_ns", "", "xtcp_timestamp_seconds" },
		{ "inet_diag_msg_expires", "", "xtcp_inet_diag_msg_expires_seconds" },
		{ "sk_mem_info_drops", "", "xtcp_sk_mem_info_drops_packets" },
		{ "record_counter", "", "xtcp_record_number" },
		{ "inet_diag_msg_uid", "", "xtcp_inet_diag_msg_uid" },
	};
	char buf[256];
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct xtcp_field *f = xtcp_schema_find(names[i].field, strlen(names[i].field));

		if (!f) {
			ok(0, "field %s", names[i].field);
			continue;
		}
		n = xtcp_stat_metric_name(f, names[i].infix, buf);
		ok(n == strlen(buf) && !strcmp(buf, names[i].want), "%s%s -> %s", names[i].field,
		   names[i].infix, names[i].want);
		if (strcmp(buf, names[i].want))
			printf("#   got %s\n", buf);
	}
}

static void test_openmetrics(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_OPENMETRICS, "netns,state", "rtt,expires", "0.5", 0);
	const char *t;
	xtcp_rec r;

	if (!s)
		return;
	t = summary(s, NULL);
	ok(strstr(t, "# TYPE xtcp_sockets gauge\n") && strstr(t, "# TYPE xtcp_tcp_rtt_seconds summary\n") &&
	   !strstr(t, "xtcp_sockets{") && !strstr(t, "\nxtcp_stat_poll_timestamp_seconds "),
	   "no records: the families, without samples");
	xtcp_record_init(&r);
	r.poll_sequence = 1;
	r.timestamp_ns = 1767225600123456789;
	r.netns = (char *)(uintptr_t)"a\"b\\c\nd\xff";
	r.inet_diag_msg_state = 1;
	r.tcp_info_rtt = 1500;
	r.inet_diag_msg_expires = 2;
	xtcp_stat_add(s, &r);
	t = summary(s, NULL);
	ok(contains(t, "\nxtcp_stat_poll_timestamp_seconds 1767225600.123456789\n"),
	   "the poll's time in seconds, exactly");
	ok(contains(t, "\nxtcp_sockets{netns=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\",state=\"ESTABLISHED\"} 1\n"),
	   "label values: \\, \" and newline escaped, invalid UTF-8 replaced");
	ok(contains(t, "{netns=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\",state=\"ESTABLISHED\",quantile=\"0.5\"} 0.0015\n") &&
	   contains(t, "\nxtcp_tcp_rtt_seconds_sum{netns=") && contains(t, "\nxtcp_tcp_rtt_seconds_count{") &&
	   contains(t, "\nxtcp_inet_diag_msg_expires_max_seconds{") && contains(t, "} 0.002\n"),
	   "values in base units: microseconds and milliseconds as seconds");
	ok(contains(t, "# HELP xtcp_tcp_rtt_seconds Smoothed round-trip time (tcp_info_rtt, in seconds): "),
	   "HELP from the schema's meaning and unit");
	xtcp_stat_free(s);

	s = make(XTCP_STAT_OPENMETRICS, "", "cwnd", "", 2);
	if (!s)
		return;
	xtcp_stat_add(s, &r);
	t = summary(s, NULL);
	ok(contains(t, "\nxtcp_sockets 1\n") && contains(t, "\nxtcp_tcp_snd_cwnd_segments_sum 0\n") &&
	   contains(t, "\nxtcp_stat_other_groups 0\n"),
	   "one group: series without labels; --max-series: the folded count");
	xtcp_stat_free(s);
}

static void test_text(void)
{
	struct xtcp_stat *s = make(XTCP_STAT_TEXT, "netns,state", "rtt,cwnd", "0.5", 2);
	const char *t, *want;

	if (!s)
		return;
	add_group(s, "blue", 1, 3);
	add_group(s, "red", 10, 1);
	add_group(s, "été", 1, 1);
	t = summary(s, NULL);
	want = "poll 1: 5 sockets in 3 groups, 2 of them shown as (other)\n"
		      "NETNS    STATE        SOCKETS  FIELD           SUM  MIN  P50  MAX\n"
		      "blue     ESTABLISHED        3  rtt(us)           3    0    1    2\n"
		      "                               cwnd(segments)    0    0    0    0\n"
		      "(other)                     2  rtt(us)           0    0    0    0\n"
		      "                               cwnd(segments)    0    0    0    0\n";
	if (!ok(!strcmp(t, want), "the text table"))
		printf("# %s", t);
	xtcp_stat_free(s);
}

int main(void)
{
	test_options();
	test_quantiles();
	test_extremes();
	test_random();
	test_polls();
	test_groups();
	test_metric_names();
	test_openmetrics();
	test_text();
	return done_testing();
}
