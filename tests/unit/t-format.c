/*
 * t-format: the direct writers of lib/format.c.  Exact expected text for
 * every kind of value (numbers around 2^53, names, addresses, adversarial
 * strings), CSV/TSV/text layout, field lists, and, for random records, the
 * size bound and jansson's verdict on every JSON line.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "format.h"
#include "tap.h"

#define SEED 0x5eed0f0f1234ull

static const ProtobufCMessageDescriptor *desc = &xtcp_flat_record__v1__xtcp_flat_record__descriptor;
static char line[1 << 20];

static uint64_t rng_state = SEED;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* Render @rec with a fresh format; checks the bound; returns the NUL-terminated line. */
static const char *render(enum xtcp_format_kind kind, const char *fields, bool header,
			  const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct xtcp_format fmt;
	size_t n, max;

	if (xtcp_format_init(&fmt, kind, fields, header, NULL, NULL) < 0) {
		printf("# cannot compile '%s': %s\n", fields ? fields : "(default)", strerror(errno));
		return "";
	}
	max = xtcp_format_record_max(&fmt, rec);
	n = xtcp_format_record(&fmt, rec, line);
	if (n > max)
		printf("# BOUND BROKEN: %zu > %zu\n", n, max);
	line[n] = '\0';
	xtcp_format_release(&fmt);
	return line;
}

static int is_text(const char *got, const char *want, const char *name)
{
	if (ok(!strcmp(got, want), "%s", name))
		return 1;
	printf("#   got  '%s'\n#   want '%s'\n", got, want);
	return 0;
}

static void set_addr(ProtobufCBinaryData *b, uint8_t *storage, int family, const char *text)
{
	memset(storage, 0, 16);
	inet_pton(family, text, storage);
	b->data = storage;
	b->len = 16;
}

/* --- numbers ------------------------------------------------------------- */

static void test_numbers(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	static const struct {
		int64_t v;
		const char *json;
	} i64[] = {
		{ 0, "{\"timestamp_ns\":0}\n" },
		{ 9007199254740992ll, "{\"timestamp_ns\":9007199254740992}\n" },
		{ 9007199254740993ll, "{\"timestamp_ns\":\"9007199254740993\"}\n" },
		{ -9007199254740992ll, "{\"timestamp_ns\":-9007199254740992}\n" },
		{ -9007199254740993ll, "{\"timestamp_ns\":\"-9007199254740993\"}\n" },
		{ INT64_MAX, "{\"timestamp_ns\":\"9223372036854775807\"}\n" },
		{ INT64_MIN, "{\"timestamp_ns\":\"-9223372036854775808\"}\n" },
		{ 1795306633643218844ll, "{\"timestamp_ns\":\"1795306633643218844\"}\n" },
	};
	static const struct {
		uint64_t v;
		const char *json;
	} u64[] = {
		{ 0, "{\"tcp_info_bytes_acked\":0}\n" },
		{ 9, "{\"tcp_info_bytes_acked\":9}\n" },
		{ 10, "{\"tcp_info_bytes_acked\":10}\n" },
		{ 99, "{\"tcp_info_bytes_acked\":99}\n" },
		{ 100, "{\"tcp_info_bytes_acked\":100}\n" },
		{ 123456789, "{\"tcp_info_bytes_acked\":123456789}\n" },
		{ 9007199254740992ull, "{\"tcp_info_bytes_acked\":9007199254740992}\n" },
		{ 9007199254740993ull, "{\"tcp_info_bytes_acked\":\"9007199254740993\"}\n" },
		{ 10000000000000000000ull, "{\"tcp_info_bytes_acked\":\"10000000000000000000\"}\n" },
		{ UINT64_MAX, "{\"tcp_info_bytes_acked\":\"18446744073709551615\"}\n" },
	};
	char want[128], name[128];
	size_t i;
	uint64_t p;

	xtcp_record_init(&rec);
	for (i = 0; i < sizeof(i64) / sizeof(i64[0]); i++) {
		rec.timestamp_ns = i64[i].v;
		snprintf(name, sizeof(name), "json int64 %" PRId64, i64[i].v);
		is_text(render(XTCP_FORMAT_JSON, "timestamp_ns", true, &rec), i64[i].json, name);
		snprintf(want, sizeof(want), "%" PRId64 "\n", i64[i].v);
		snprintf(name, sizeof(name), "csv int64 %" PRId64 " always digits", i64[i].v);
		is_text(render(XTCP_FORMAT_CSV, "timestamp_ns", false, &rec), want, name);
	}
	for (i = 0; i < sizeof(u64) / sizeof(u64[0]); i++) {
		rec.tcp_info_bytes_acked = u64[i].v;
		snprintf(name, sizeof(name), "json uint64 %" PRIu64, u64[i].v);
		is_text(render(XTCP_FORMAT_JSON, "tcp_info_bytes_acked", true, &rec), u64[i].json,
			name);
		snprintf(want, sizeof(want), "%" PRIu64 "\n", u64[i].v);
		snprintf(name, sizeof(name), "tsv uint64 %" PRIu64, u64[i].v);
		is_text(render(XTCP_FORMAT_TSV, "tcp_info_bytes_acked", false, &rec), want, name);
	}
	/* every power of ten and its neighbours, against printf */
	for (i = 0, p = 1; i < 20; i++, p *= 10) {
		uint64_t v[3] = { p - 1, p, p + 1 };
		size_t k;
		int bad = 0;

		for (k = 0; k < 3; k++) {
			rec.tcp_info_bytes_received = v[k];
			snprintf(want, sizeof(want), "%" PRIu64 "\n", v[k]);
			bad += strcmp(render(XTCP_FORMAT_CSV, "tcp_info_bytes_received", false, &rec),
				      want) != 0;
		}
		ok(!bad, "digits of 10^%zu - 1, 10^%zu, 10^%zu + 1", i, i, i);
	}
	rec.tcp_info_rtt = UINT32_MAX;
	is_text(render(XTCP_FORMAT_JSON, "tcp_info_rtt", true, &rec),
		"{\"tcp_info_rtt\":4294967295}\n", "json uint32 max is a number");
}

/* --- names ----------------------------------------------------------------- */

static void test_names(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;

	xtcp_record_init(&rec);
	rec.inet_diag_msg_state = 1;
	rec.tcp_info_state = 10;
	is_text(render(XTCP_FORMAT_JSON, "inet_diag_msg_state,tcp_info_state", true, &rec),
		"{\"inet_diag_msg_state\":\"ESTABLISHED\",\"tcp_info_state\":\"LISTEN\"}\n",
		"states as names");
	rec.inet_diag_msg_state = 0;
	rec.tcp_info_state = 13;
	is_text(render(XTCP_FORMAT_JSON, "inet_diag_msg_state,tcp_info_state", true, &rec),
		"{\"inet_diag_msg_state\":\"UNKNOWN\",\"tcp_info_state\":\"BOUND_INACTIVE\"}\n",
		"state 0 is UNKNOWN, 13 BOUND_INACTIVE");
	rec.inet_diag_msg_state = 14;
	rec.tcp_info_state = 4000000000u;
	is_text(render(XTCP_FORMAT_JSON, "inet_diag_msg_state,tcp_info_state", true, &rec),
		"{\"inet_diag_msg_state\":14,\"tcp_info_state\":4000000000}\n",
		"a state without a name stays a number");
	is_text(render(XTCP_FORMAT_CSV, "inet_diag_msg_state", false, &rec), "14\n",
		"csv: a state without a name stays a number");

	rec.congestion_algorithm_enum = 1;
	is_text(render(XTCP_FORMAT_JSON, "congestion_algorithm_enum", true, &rec),
		"{\"congestion_algorithm_enum\":\"CONGESTION_ALGORITHM_CUBIC\"}\n", "enum name");
	rec.congestion_algorithm_enum = 7;
	is_text(render(XTCP_FORMAT_CSV, "congestion_algorithm_enum", true, &rec),
		"CONGESTION_ALGORITHM_BBR3\n", "csv enum name");
	rec.congestion_algorithm_enum = 0;
	is_text(render(XTCP_FORMAT_TSV, "congestion_algorithm_enum", false, &rec),
		"CONGESTION_ALGORITHM_UNSPECIFIED\n", "enum 0 has a name too");
	rec.congestion_algorithm_enum = 99;
	is_text(render(XTCP_FORMAT_JSON, "congestion_algorithm_enum", true, &rec),
		"{\"congestion_algorithm_enum\":99}\n", "an enum value of a newer schema is a number");

	rec.inet_diag_msg_family = AF_INET6;
	is_text(render(XTCP_FORMAT_JSON, "inet_diag_msg_family", true, &rec),
		"{\"inet_diag_msg_family\":10}\n", "family is a number");
}

/* --- addresses ------------------------------------------------------------- */

static const char *addr_json(uint32_t family, const uint8_t *bytes, size_t len)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	static char text[256];
	const char *out;

	xtcp_record_init(&rec);
	rec.inet_diag_msg_family = family;
	rec.inet_diag_msg_socket_source.data = (uint8_t *)(uintptr_t)bytes;
	rec.inet_diag_msg_socket_source.len = len;
	out = render(XTCP_FORMAT_JSON, "inet_diag_msg_socket_source", true, &rec);
	/* {"inet_diag_msg_socket_source":"..."}\n -> ... */
	snprintf(text, sizeof(text), "%.*s", (int)strlen(out) - 35, out + 32);
	return text;
}

static void test_addresses(void)
{
	static const char *const v6[][2] = {
		{ "::1", "::1" },
		{ "::", "::" },
		{ "2001:db8::1", "2001:db8::1" },
		{ "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0" },
		{ "1:0:0:2:3:4:5:6", "1::2:3:4:5:6" },
		{ "1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0" },
		{ "1:2:3:4:5:6:0:0", "1:2:3:4:5:6::" },
		{ "FE80::ABCD:EF01", "fe80::abcd:ef01" },
		{ "::ffff:192.0.2.128", "::ffff:192.0.2.128" },
		{ "::ffff:0.0.0.0", "::ffff:0.0.0.0" },
		{ "64:ff9b::192.0.2.33", "64:ff9b::c000:221" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	uint8_t a[16], raw[16];
	char text[INET6_ADDRSTRLEN], name[160];
	size_t i, k;
	int bad = 0, compared = 0;

	memset(a, 0, sizeof(a));
	inet_pton(AF_INET, "127.0.0.1", a);
	is_text(addr_json(AF_INET, a, 16), "127.0.0.1", "IPv4 dotted");
	memset(a, 0, sizeof(a));
	is_text(addr_json(AF_INET, a, 16), "0.0.0.0", "IPv4 all-zero is 0.0.0.0");
	inet_pton(AF_INET, "255.255.255.255", a);
	is_text(addr_json(AF_INET, a, 16), "255.255.255.255", "IPv4 broadcast");
	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		inet_pton(AF_INET6, v6[i][0], a);
		snprintf(name, sizeof(name), "IPv6 %s is %s (RFC 5952)", v6[i][0], v6[i][1]);
		is_text(addr_json(AF_INET6, a, 16), v6[i][1], name);
	}
	/* random addresses with many zero groups, against inet_ntop */
	for (i = 0; i < 20000; i++) {
		for (k = 0; k < 8; k++) {
			uint16_t w = rnd_below(2) ? 0 : (uint16_t)rnd();

			if (rnd_below(4) == 0)
				w = (uint16_t)rnd_below(16);
			a[2 * k] = (uint8_t)(w >> 8);
			a[2 * k + 1] = (uint8_t)w;
		}
		/* glibc writes ::a.b.c.d for the deprecated IPv4-compatible block; RFC 5952 does not */
		if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0", 12))
			continue;
		inet_ntop(AF_INET6, a, text, sizeof(text));
		compared++;
		if (strcmp(addr_json(AF_INET6, a, 16), text)) {
			if (bad++ < 5)
				printf("#   %s vs inet_ntop %s\n", addr_json(AF_INET6, a, 16), text);
		}
	}
	ok(!bad && compared > 15000, "%d random IPv6 addresses equal inet_ntop's text", compared);

	inet_pton(AF_INET6, "::1.2.3.4", a);
	is_text(addr_json(AF_INET6, a, 16), "::102:304",
		"IPv4-compatible is plain hex (RFC 5952)");

	for (i = 0; i < 16; i++)
		raw[i] = (uint8_t)(i * 17);
	is_text(addr_json(0, raw, 16), "0x00112233445566778899aabbccddeeff",
		"an address of no family is hex");
	memset(a, 0, sizeof(a));
	a[0] = 10;
	a[15] = 1;
	is_text(addr_json(AF_INET, a, 16), "0x0a000000000000000000000000000001",
		"IPv4 with bytes after the first 4 is hex");
	is_text(addr_json(AF_INET, raw, 4), "0x00112233", "a 4-byte address is hex");
	is_text(addr_json(AF_INET6, NULL, 0), "", "an empty address is \"\"");
}

/* --- strings ----------------------------------------------------------------- */

struct string_case {
	const char *in;
	const char *json;       /* the JSON text written */
	const char *decoded;    /* what a JSON parser reads back */
	const char *csv;
	const char *tsv;
};

static const struct string_case strings[] = {
	{ "plain", "\"plain\"", "plain", "plain", "plain" },
	{ "", "\"\"", "", "", "" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"", "a\"b\\c", "\"a\"\"b\\c\"", "a\"b\\\\c" },
	{ "x,y", "\"x,y\"", "x,y", "\"x,y\"", "x,y" },
	{ "l1\nl2\r\n", "\"l1\\nl2\\r\\n\"", "l1\nl2\r\n", "\"l1\nl2\r\n\"", "l1\\nl2\\r\\n" },
	{ "t\tb\bf\f", "\"t\\tb\\bf\\f\"", "t\tb\bf\f", "t\tb\bf\f", "t\\tb\bf\f" },
	{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", "\x01\x1f\x7f", "\x01\x1f\x7f", "\x01\x1f\x7f" },
	{ "\x1b[31mred", "\"\\u001b[31mred\"", "\x1b[31mred", "\x1b[31mred", "\x1b[31mred" },
	{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
	  "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80",
	  "caf\xc3\xa9 \xf0\x9f\x98\x80" },
	{ "\xff", "\"\xef\xbf\xbd\"", "\xef\xbf\xbd", "\xef\xbf\xbd", "\xef\xbf\xbd" },
	{ "a\xe2\x82", "\"a\xef\xbf\xbd\"", "a\xef\xbf\xbd", "a\xef\xbf\xbd", "a\xef\xbf\xbd" },
	{ "\xe2\x82x", "\"\xef\xbf\xbdx\"", "\xef\xbf\xbdx", "\xef\xbf\xbdx", "\xef\xbf\xbdx" },
	{ "\xc0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "\xef\xbf\xbd\xef\xbf\xbd",
	  "\xef\xbf\xbd\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf0\x9f\x98", "\"\xef\xbf\xbd\"", "\xef\xbf\xbd", "\xef\xbf\xbd", "\xef\xbf\xbd" },
	{ "\x80,\"", "\"\xef\xbf\xbd,\\\"\"", "\xef\xbf\xbd,\"", "\"\xef\xbf\xbd,\"\"\"",
	  "\xef\xbf\xbd,\"" },
	{ "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf",
	  "\xf4\x8f\xbf\xbf" },
	{ "\xe0\x9f\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
};

static void test_strings(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	char want[512], name[256];
	size_t i;

	xtcp_record_init(&rec);
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const struct string_case *c = &strings[i];
		const char *got;
		json_error_t jerr;
		json_t *root;

		rec.netns = (char *)(uintptr_t)c->in;
		snprintf(want, sizeof(want), "{\"netns\":%s}\n", c->json);
		snprintf(name, sizeof(name), "json string %zu", i);
		is_text(render(XTCP_FORMAT_JSON, "netns", true, &rec), want, name);

		got = render(XTCP_FORMAT_JSON, "netns", true, &rec);
		root = json_loads(got, 0, &jerr);
		snprintf(name, sizeof(name), "json string %zu: jansson reads back the expected text", i);
		ok(root && json_is_string(json_object_get(root, "netns")) &&
		   !strcmp(json_string_value(json_object_get(root, "netns")), c->decoded), "%s", name);
		if (!root)
			printf("#   jansson: %s\n", jerr.text);
		json_decref(root);

		snprintf(want, sizeof(want), "%s\n", c->csv);
		snprintf(name, sizeof(name), "csv string %zu", i);
		is_text(render(XTCP_FORMAT_CSV, "netns", false, &rec), want, name);
		snprintf(want, sizeof(want), "%s\n", c->tsv);
		snprintf(name, sizeof(name), "tsv string %zu", i);
		is_text(render(XTCP_FORMAT_TSV, "netns", false, &rec), want, name);
	}
	rec.netns = (char *)(uintptr_t)"a,b";
	rec.hostname = (char *)(uintptr_t)"h\"1";
	is_text(render(XTCP_FORMAT_CSV, "hostname,netns,inet_diag_msg_family", false, &rec),
		"\"h\"\"1\",\"a,b\",0\n", "csv: quoted cells among others");
	is_text(render(XTCP_FORMAT_TSV, "hostname,netns,inet_diag_msg_family", false, &rec),
		"h\"1\ta,b\t0\n", "tsv: cells separated by tabs");
}

/* --- field lists ----------------------------------------------------------- */

static void test_fields(void)
{
	struct xtcp_format fmt;
	const char *bad, *list;
	size_t bad_len, n;
	char hdr[4096];

	ok(xtcp_format_init(&fmt, XTCP_FORMAT_JSON, NULL, true, NULL, NULL) == 0 &&
	   fmt.n_fields == desc->n_fields, "json: every field by default (%u)", desc->n_fields);
	ok(xtcp_format_header(&fmt, hdr) == 0, "json: no header");
	xtcp_format_release(&fmt);
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, "all", true, NULL, NULL) == 0 &&
	   fmt.n_fields == desc->n_fields && fmt.fields[0].desc == &desc->fields[0] &&
	   fmt.fields[desc->n_fields - 1].desc == &desc->fields[desc->n_fields - 1],
	   "all: every field in schema order");
	xtcp_format_release(&fmt);

	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, NULL, true, NULL, NULL) == 0,
	   "csv: the default list compiles");
	n = xtcp_format_header(&fmt, hdr);
	hdr[n] = '\0';
	is_text(hdr, XTCP_FORMAT_DEFAULT_FIELDS "\n", "csv: default header is the default list");
	xtcp_format_release(&fmt);

	ok(xtcp_format_init(&fmt, XTCP_FORMAT_TSV, "netns,tcp_info_rtt", true, NULL, NULL) == 0,
	   "tsv compiles");
	n = xtcp_format_header(&fmt, hdr);
	hdr[n] = '\0';
	is_text(hdr, "netns\ttcp_info_rtt\n", "tsv header");
	xtcp_format_release(&fmt);
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, "netns,tcp_info_rtt", false, NULL, NULL) == 0 &&
	   xtcp_format_header(&fmt, hdr) == 0, "no header when asked");
	xtcp_format_release(&fmt);

	list = "tcp_info_rtt,rtt,netns";
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, list, true, &bad, &bad_len) < 0 &&
	   errno == EINVAL && bad == list + 13 && bad_len == 3, "unknown name: EINVAL, points at it");
	list = "tcp_info_rtt,,netns";
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, list, true, &bad, &bad_len) < 0 &&
	   errno == EINVAL && bad_len == 0, "empty name: EINVAL with length 0");
	list = "netns,";
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_CSV, list, true, &bad, &bad_len) < 0 &&
	   errno == EINVAL && bad_len == 0, "trailing comma: EINVAL with length 0");
	list = "netns,tcp_info_rtt,netns";
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_JSON, list, true, &bad, &bad_len) < 0 &&
	   errno == EEXIST && bad == list + 19 && bad_len == 5, "a field twice: EEXIST");
	list = "all,netns";
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_JSON, list, true, &bad, &bad_len) < 0 &&
	   errno == EINVAL && bad_len == 3, "all only alone");

	is_text(xtcp_schema_suggest("rtt", 3, 0), "tcp_info_rtt", "suggest rtt -> tcp_info_rtt");
	is_text(xtcp_schema_suggest("cwnd", 4, 0), "tcp_info_snd_cwnd", "suggest cwnd");
	is_text(xtcp_schema_suggest("tcp_info_rttt", 13, 0), "tcp_info_rtt", "suggest a typo");
	is_text(xtcp_schema_suggest("netns_inod", 10, 0), "netns_inode", "suggest a missing letter");
	is_text(xtcp_schema_suggest("hostnmae", 8, 0), "hostname", "suggest a swap");
	ok(xtcp_schema_suggest("zzzzzzzzzz", 10, 0) == NULL, "nothing close: no suggestion");
	ok(xtcp_schema_suggest("", 0, 0) == NULL, "empty: no suggestion");

	{
		enum xtcp_format_kind k;

		ok(xtcp_format_kind_parse("tsv", &k) == 0 && k == XTCP_FORMAT_TSV, "kind tsv");
		ok(xtcp_format_kind_parse("JSON", &k) < 0 && errno == EINVAL, "kind names are lower case");
	}
}

/* --- the table ------------------------------------------------------------------- */

static void table_record(XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t *src, uint8_t *dst)
{
	xtcp_record_init(rec);
	rec->netns = (char *)(uintptr_t)"default";
	rec->inet_diag_msg_family = AF_INET;
	rec->inet_diag_msg_state = 1;
	set_addr(&rec->inet_diag_msg_socket_source, src, AF_INET, "10.0.0.1");
	set_addr(&rec->inet_diag_msg_socket_destination, dst, AF_INET, "10.0.0.2");
	rec->inet_diag_msg_socket_source_port = 443;
	rec->inet_diag_msg_socket_destination_port = 55555;
	rec->tcp_info_rtt = 12345;
	rec->tcp_info_snd_cwnd = 10;
	rec->tcp_info_snd_mss = 1448;
	rec->tcp_info_total_retrans = 3;
	rec->tcp_info_bytes_sent = 1234567;
	rec->tcp_info_bytes_received = 999;
	rec->congestion_algorithm_string = (char *)(uintptr_t)"bbr";
}

/* The socket table's layout, by printf: fixed widths, OWNER, then NETNS last. */
#define TABLE_LINE "%-14s %-47s %-47s %9s %6s %7s %6s %6s %-15s %-24s %s\n"

static void test_table(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_format fmt;
	uint8_t src[16], dst[16];
	char hdr[1024], want[512];
	size_t n;
	static const struct {
		uint64_t v;
		const char *text;
	} sizes[] = {
		{ 0, "0" }, { 999, "999" }, { 1000, "1.0k" }, { 1049, "1.0k" }, { 1050, "1.1k" },
		{ 99949, "99.9k" }, { 99950, "100k" }, { 999400, "999k" }, { 999500, "1.0M" },
		{ 3400000, "3.4M" }, { 1000000000, "1.0G" }, { 123456789012ull, "123G" },
		{ UINT64_MAX, "18.4E" },
	};

	ok(xtcp_format_init(&fmt, XTCP_FORMAT_TEXT, NULL, true, NULL, NULL) == 0 && fmt.table,
	   "text without fields is the socket table");
	n = xtcp_format_header(&fmt, hdr);
	hdr[n] = '\0';
	snprintf(want, sizeof(want), TABLE_LINE, "STATE", "LOCAL", "PEER", "RTT(ms)", "CWND",
		 "RETRANS", "SENT", "RECV", "CONG", "OWNER", "NETNS");
	is_text(hdr, want, "table header");
	xtcp_format_release(&fmt);

	table_record(&rec, src, dst);
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "-", "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want, "table row, IPv4");

	for (n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
		char name[64];

		rec.tcp_info_bytes_sent = sizes[n].v;
		snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443",
			 "10.0.0.2:55555", "12.345", "10", "3", sizes[n].text, "999", "bbr", "-",
			 "default");
		snprintf(name, sizeof(name), "human size %" PRIu64 " is %s", sizes[n].v, sizes[n].text);
		is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want, name);
	}

	xtcp_record_init(&rec);
	rec.inet_diag_msg_family = AF_INET6;
	rec.inet_diag_msg_state = 10;
	set_addr(&rec.inet_diag_msg_socket_source, src, AF_INET6, "::1");
	set_addr(&rec.inet_diag_msg_socket_destination, dst, AF_INET6, "::");
	rec.inet_diag_msg_socket_source_port = 7002;
	snprintf(want, sizeof(want), TABLE_LINE, "LISTEN", "[::1]:7002", "[::]:*", "-", "-", "-",
		 "-", "-", "-", "-", "-");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table row: IPv6 in brackets, port 0 as *, no tcp_info as -");

	/* the widest of everything still fits its column */
	table_record(&rec, src, dst);
	rec.inet_diag_msg_family = AF_INET6;
	rec.inet_diag_msg_state = 13;
	set_addr(&rec.inet_diag_msg_socket_source, src, AF_INET6,
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	set_addr(&rec.inet_diag_msg_socket_destination, dst, AF_INET6,
		 "fe80:1:22:333:4444:5555:6666:7777");
	rec.inet_diag_msg_socket_source_port = 65535;
	rec.inet_diag_msg_socket_destination_port = 65535;
	rec.tcp_info_rtt = 99999999;
	rec.tcp_info_snd_cwnd = 999999;
	rec.tcp_info_total_retrans = 9999999;
	rec.tcp_info_bytes_sent = UINT64_MAX;
	rec.tcp_info_bytes_received = UINT64_MAX;
	rec.congestion_algorithm_string = (char *)(uintptr_t)"fifteen-letters";
	rec.netns = (char *)(uintptr_t)"cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d";
	snprintf(want, sizeof(want), TABLE_LINE, "BOUND_INACTIVE",
		 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		 "[fe80:1:22:333:4444:5555:6666:7777]:65535", "99999.999", "999999", "9999999",
		 "18.4E", "18.4E", "fifteen-letters", "-", "cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: the widest IPv6 endpoint, state, RTT, counts and sizes fit their columns; "
		"a long netns comes last, whole");

	/* past what the columns hold: numbers shorten, strings are cut */
	rec.inet_diag_msg_state = 4000000000u;
	rec.inet_diag_msg_socket_source_port = 4294967295u;
	rec.tcp_info_rtt = UINT32_MAX;
	rec.tcp_info_snd_cwnd = UINT32_MAX;
	rec.tcp_info_total_retrans = 10000000;
	rec.congestion_algorithm_string = (char *)(uintptr_t)"sixteen-letters!";
	snprintf(want, sizeof(want), TABLE_LINE, "4000000000",
		 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:4294\xe2\x80\xa6",
		 "[fe80:1:22:333:4444:5555:6666:7777]:65535", "4294967", "4.3G", "10.0M",
		 "18.4E", "18.4E", "sixteen-letter\xe2\x80\xa6", "-",
		 "cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: RTT from 100 s in whole ms, counts past their width as sizes, an "
		"endpoint or algorithm too long cut with an ellipsis");

	table_record(&rec, src, dst);
	rec.netns = (char *)(uintptr_t)"bad\n\x1b[2J\xff";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "-", "bad??[2J\xef\xbf\xbd");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: control characters as ?, bad UTF-8 as U+FFFD");
	rec.netns = (char *)(uintptr_t)"";
	rec.congestion_algorithm_string =
		(char *)(uintptr_t)"caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999",
		 "caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9\xe2\x80\xa6", "-", "-");
	/* printf pads by bytes: the cut cell is 15 columns in 20 bytes, so it adds no padding */
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: a name is cut by characters, not bytes (one column each)");

	/* the owner before NETNS: a process, else a container, else - */
	table_record(&rec, src, dst);
	rec.process_pid = 4242;
	rec.process_comm = (char *)(uintptr_t)"nginx";
	rec.process_count = 1;
	rec.container_id = (char *)(uintptr_t)"0123456789abcdef0123";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "4242/nginx", "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want, "table: the process, PID/COMM");
	rec.process_count = 3;
	rec.process_comm = (char *)(uintptr_t)"w\tk";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "4242/w?k+2", "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: +N more holders; a control character as ?");
	rec.process_pid = 4194304;
	rec.process_count = 100;
	rec.process_comm = (char *)(uintptr_t)"fifteen-letters";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "4194304/fifteen-letters\xe2\x80\xa6",
		 "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: an owner past 24 columns is cut, NETNS stays in place");
	rec.process_pid = 0;
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "container:0123456789ab", "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want,
		"table: no process, the container's first 12 characters");
	rec.container_id = (char *)(uintptr_t)"";
	rec.systemd_unit = (char *)(uintptr_t)"sshd.service";
	snprintf(want, sizeof(want), TABLE_LINE, "ESTABLISHED", "10.0.0.1:443", "10.0.0.2:55555",
		 "12.345", "10", "3", "1.2M", "999", "bbr", "-", "default");
	is_text(render(XTCP_FORMAT_TEXT, NULL, true, &rec), want, "table: neither: OWNER is -");

	/* text with a field list */
	xtcp_record_init(&rec);
	rec.netns = (char *)(uintptr_t)"ns1";
	rec.tcp_info_rtt = 250;
	rec.inet_diag_msg_state = 6;
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_TEXT, "netns,tcp_info_rtt,inet_diag_msg_state", true,
			    NULL, NULL) == 0, "text with fields compiles");
	n = xtcp_format_header(&fmt, hdr);
	hdr[n] = '\0';
	is_text(hdr, "netns            tcp_info_rtt inet_diag_msg_state\n", "text fields header");
	n = xtcp_format_record(&fmt, &rec, hdr);
	hdr[n] = '\0';
	is_text(hdr, "ns1                       250 TIME_WAIT\n",
		"text fields row: numbers right-aligned");
	rec.netns = (char *)(uintptr_t)"seventeen-letters";
	rec.tcp_info_rtt = UINT32_MAX;
	rec.inet_diag_msg_state = 13;
	n = xtcp_format_record(&fmt, &rec, hdr);
	hdr[n] = '\0';
	is_text(hdr, "seventeen-lette\xe2\x80\xa6   4294967295 BOUND_INACTIVE\n",
		"text fields row: a string past 16 columns cut, the widest number fits");
	xtcp_format_release(&fmt);
	ok(xtcp_format_init(&fmt, XTCP_FORMAT_TEXT, "tcp_info_rtt,netns", true, NULL, NULL) == 0,
	   "text with a string last compiles");
	n = xtcp_format_record(&fmt, &rec, hdr);
	hdr[n] = '\0';
	is_text(hdr, "  4294967295 seventeen-letters\n", "text fields row: the last column whole");
	xtcp_format_release(&fmt);
}

/* --- random records: bounds and jansson ------------------------------------- */

static uint8_t pool[1 << 22];
static size_t pool_used;

static void *take(size_t n)
{
	void *p;

	if (pool_used + n > sizeof(pool))
		pool_used = 0;
	p = pool + pool_used;
	pool_used += n;
	return p;
}

static char *rnd_string(void)
{
	static const char *const pieces[] = {
		"a", "b", "Z", " ", ",", "\"", "\\", "\n", "\r", "\t", "\x01", "\x7f", "\xc3\xa9",
		"\xf0\x9f\x98\x80", "\xff", "\xe2\x82", "\xc0", "\x80", "\xed\xa0\x80", "netns",
		"{}", "[", "'",
	};
	size_t n = rnd_below(4) ? rnd_below(12) : rnd_below(400), i;
	char *s = take(n * 5 + 1), *p = s;      /* no piece is longer than "netns" */

	for (i = 0; i < n; i++)
		p = stpcpy(p, pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))]);
	*p = '\0';
	return s;
}

static uint64_t rnd_u64(void)
{
	switch (rnd_below(6)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX - rnd_below(3);
	case 2:
		return (1ull << 53) - 1 + rnd_below(3);
	case 3:
		return rnd_below(1000);
	default:
		return rnd() >> rnd_below(64);
	}
}

static void rnd_record(XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	unsigned i;

	xtcp_record_init(rec);
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		void *m = (char *)rec + f->offset;
		ProtobufCBinaryData *b;

		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
			*(uint32_t *)m = (uint32_t)rnd_u64();
			break;
		case PROTOBUF_C_TYPE_ENUM:
			*(int *)m = (int)rnd_below(10);
			break;
		case PROTOBUF_C_TYPE_UINT64:
			*(uint64_t *)m = rnd_u64();
			break;
		case PROTOBUF_C_TYPE_INT64:
			*(int64_t *)m = (int64_t)rnd_u64();
			break;
		case PROTOBUF_C_TYPE_STRING:
			*(char **)m = rnd_string();
			break;
		case PROTOBUF_C_TYPE_BYTES:
			b = m;
			b->len = rnd_below(3) ? 16 : rnd_below(40);
			b->data = take(b->len);
			for (size_t k = 0; k < b->len; k++)
				b->data[k] = rnd_below(3) ? 0 : (uint8_t)rnd();
			break;
		default:
			break;
		}
	}
	rec->inet_diag_msg_family = (uint32_t[]){ AF_INET, AF_INET6, 0, 7 }[rnd_below(4)];
	rec->inet_diag_msg_state = (uint32_t)rnd_below(16);
}

/* Whether jansson's value @v is what the rules say @f of @rec is written as. */
static int json_value_ok(const json_t *v, const ProtobufCFieldDescriptor *f,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const void *m = (const char *)rec + f->offset;
	char digits[32];
	uint64_t u;
	int64_t i;

	switch (xtcp_field_of(f)->kind) {
	case XTCP_VALUE_U32:
	case XTCP_VALUE_FAMILY:
		return json_is_integer(v) && (uint64_t)json_integer_value(v) == *(const uint32_t *)m;
	case XTCP_VALUE_U64:
		u = *(const uint64_t *)m;
		if (u <= 1ull << 53)
			return json_is_integer(v) && (uint64_t)json_integer_value(v) == u;
		snprintf(digits, sizeof(digits), "%" PRIu64, u);
		return json_is_string(v) && !strcmp(json_string_value(v), digits);
	case XTCP_VALUE_I64:
		i = *(const int64_t *)m;
		if (i <= (1ll << 53) && i >= -(1ll << 53))
			return json_is_integer(v) && json_integer_value(v) == i;
		snprintf(digits, sizeof(digits), "%" PRId64, i);
		return json_is_string(v) && !strcmp(json_string_value(v), digits);
	case XTCP_VALUE_STRING:
		/* checked for valid UTF-8 by jansson; equal when the input was valid */
		return json_is_string(v);
	default:
		return json_is_string(v) || json_is_integer(v);
	}
}

static void test_random(void)
{
	static XtcpFlatRecord__V1__XtcpFlatRecord rec;
	static const char *const lists[] = { NULL, "all", "netns,hostname,tcp_info_rtt" };
	int bound_bad = 0, json_bad = 0, value_bad = 0, cells_bad = 0, r;
	size_t l, k;

	for (r = 0; r < 3000; r++) {
		rnd_record(&rec);
		for (l = 0; l < 3; l++) {
			for (k = 0; k <= XTCP_FORMAT_TEXT; k++) {
				struct xtcp_format fmt;
				size_t n, max;

				char *exact;

				xtcp_format_init(&fmt, (enum xtcp_format_kind)k, lists[l], true, NULL, NULL);
				max = xtcp_format_record_max(&fmt, &rec);
				/* exactly max bytes on the heap: ASan sees any write past it */
				exact = malloc(max);
				n = xtcp_format_record(&fmt, &rec, exact);
				bound_bad += n > max;
				memcpy(line, exact, n);
				free(exact);
				if (k == XTCP_FORMAT_JSON) {
					json_error_t jerr;
					json_t *root = json_loadb(line, n, 0, &jerr), *v;
					size_t i;

					if (!root || memchr(line, '\n', n) != line + n - 1) {
						if (json_bad++ < 3)
							printf("#   jansson: %s in %.*s\n", root ? "newline"
							       : jerr.text, (int)n, line);
					}
					for (i = 0; root && i < fmt.n_fields; i++) {
						v = json_object_get(root, fmt.fields[i].desc->name);
						if (!v || !json_value_ok(v, fmt.fields[i].desc, &rec)) {
							if (value_bad++ < 3)
								printf("#   field %s\n",
								       fmt.fields[i].desc->name);
						}
					}
					if (root && json_object_size(root) != fmt.n_fields)
						value_bad++;
					json_decref(root);
				} else if (k == XTCP_FORMAT_CSV || k == XTCP_FORMAT_TSV) {
					/* cells: separators outside quotes, one line */
					size_t i, seps = 0, nl = 0;
					bool quoted = false;

					for (i = 0; i < n; i++) {
						if (k == XTCP_FORMAT_CSV && line[i] == '"')
							quoted = !quoted;
						else if (!quoted && line[i] == (k == XTCP_FORMAT_CSV ? ',' : '\t'))
							seps++;
						else if (!quoted && line[i] == '\n')
							nl++;
					}
					cells_bad += seps + 1 != fmt.n_fields || nl != 1 || quoted;
				}
				xtcp_format_release(&fmt);
			}
		}
	}
	ok(!bound_bad, "3000 random records x 3 field lists x 4 kinds: within record_max");
	ok(!json_bad, "every random JSON line parses with jansson and is one line");
	ok(!value_bad, "every JSON value is what the rules say (jansson's reading)");
	ok(!cells_bad, "every CSV/TSV line has one cell per field and ends in one newline");
}

/* --- writing into an xtcp_output ---------------------------------------------- */

static void test_output(void)
{
	static XtcpFlatRecord__V1__XtcpFlatRecord recs[50];
	struct xtcp_format fmt;
	struct xtcp_output out;
	char *want, *got, big[10000];
	size_t want_len = 0, i;
	FILE *tmp = tmpfile();
	ssize_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	want = malloc(1 << 22);
	got = malloc(1 << 22);
	xtcp_format_init(&fmt, XTCP_FORMAT_CSV, "all", true, NULL, NULL);
	xtcp_output_init(&out, fileno(tmp), 512);
	want_len += xtcp_format_header(&fmt, want);
	ok(xtcp_format_write_header(&fmt, &out) == 0, "header written through a 512-byte buffer");
	for (i = 0; i < 50; i++) {
		rnd_record(&recs[i]);
		if (i % 10 == 3)
			recs[i].hostname = big;
		want_len += xtcp_format_record(&fmt, &recs[i], want + want_len);
		if (xtcp_format_write(&fmt, &recs[i], &out) < 0)
			break;
	}
	ok(i == 50 && xtcp_output_flush(&out) == 0, "50 records written, some larger than the buffer");
	n = pread(fileno(tmp), got, 1 << 22, 0);
	ok(n == (ssize_t)want_len && !memcmp(got, want, want_len),
	   "the file holds exactly the lines xtcp_format_record makes (%zd bytes)", n);
	xtcp_output_release(&out);

	/* a failed output makes every later write fail with its errno */
	xtcp_output_init(&out, -1, 512);
	out.error = ENOSPC;
	errno = 0;
	ok(xtcp_format_write(&fmt, &recs[0], &out) < 0 && errno == ENOSPC, "sticky output error");
	xtcp_output_release(&out);
	xtcp_format_release(&fmt);
	fclose(tmp);
	free(want);
	free(got);
}

static void test_unknown_fields(void)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	ProtobufCMessageUnknownField u = {
		4000, PROTOBUF_C_WIRE_TYPE_VARINT, 1, (uint8_t *)(uintptr_t)"\x05"
	};
	static char a[sizeof(line)];    /* a random record's line can be long */

	rnd_record(&rec);
	strcpy(a, render(XTCP_FORMAT_JSON, NULL, true, &rec));
	rec.base.n_unknown_fields = 1;
	rec.base.unknown_fields = &u;
	is_text(render(XTCP_FORMAT_JSON, NULL, true, &rec), a, "unknown fields are not written");
}

int main(void)
{
	test_numbers();
	test_names();
	test_addresses();
	test_strings();
	test_fields();
	test_table();
	test_random();
	test_output();
	test_unknown_fields();
	return done_testing();
}
