/*
 * t-json: reading JSON lines back into records (lib/json.c).  Random records
 * go record -> JSON (lib/format.c) -> record and must come back equal field
 * for field (compared through protobuf-c's descriptor); the other spellings a
 * person may type are accepted; every kind of bad line gets its exact
 * message; the line reader handles blank lines, CRLF, a last line without
 * newline and long lines, and numbers its errors.
 *
 * With arguments, `t-json --check FILE...` is a jansson checker for the CLI
 * tests: every line of each FILE must parse with jansson as an object whose
 * keys are schema fields, else it says which line and exits 1.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "format.h"
#include "json.h"
#include "tap.h"

#define SEED 0x15015eedull

static const ProtobufCMessageDescriptor *desc = &xtcp_flat_record__v1__xtcp_flat_record__descriptor;
static uint64_t rng_state = SEED;
static char line[1 << 21];

#define S(text) ((char *)(uintptr_t)(text))

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

/* Valid UTF-8 only: what the writer keeps byte for byte. */
static char *rnd_string(void)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", ",", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f",
		"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "/",
		"\\u0041", "{\"k\":1}",
	};
	size_t n = rnd_below(5) ? rnd_below(10) : rnd_below(300), i;
	char *s = take(n * 8 + 1), *p = s;

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
		return (uint64_t)INT64_MAX - 1 + rnd_below(3);
	case 4:
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
		size_t k;

		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
			*(uint32_t *)m = (uint32_t)rnd_u64();
			break;
		case PROTOBUF_C_TYPE_ENUM:
			*(int *)m = rnd_below(8) ? (int)rnd_below(10) : (int)rnd();
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
			b->data = b->len ? take(b->len) : NULL;
			for (k = 0; k < b->len; k++)
				b->data[k] = rnd_below(3) ? 0 : (uint8_t)rnd();
			break;
		default:
			break;
		}
	}
	rec->inet_diag_msg_family = (uint32_t[]){ AF_INET, AF_INET6, 0, 7 }[rnd_below(4)];
	if (rnd_below(2))
		rec->inet_diag_msg_state = (uint32_t)rnd_below(16);
	if (rnd_below(2))
		rec->tcp_info_state = (uint32_t)rnd_below(16);
}

/* Field-by-field equality through the descriptor; names the first difference. */
static const char *records_differ(const XtcpFlatRecord__V1__XtcpFlatRecord *a,
				  const XtcpFlatRecord__V1__XtcpFlatRecord *b)
{
	unsigned i;

	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;
		const ProtobufCBinaryData *bx = x, *by = y;

		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_ENUM:
			if (*(const uint32_t *)x != *(const uint32_t *)y)
				return f->name;
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64:
			if (*(const uint64_t *)x != *(const uint64_t *)y)
				return f->name;
			break;
		case PROTOBUF_C_TYPE_STRING:
			if (strcmp(*(char *const *)x, *(char *const *)y))
				return f->name;
			break;
		case PROTOBUF_C_TYPE_BYTES:
			if (bx->len != by->len || (bx->len && memcmp(bx->data, by->data, bx->len)))
				return f->name;
			break;
		default:
			return "(a field of a type this test does not know)";
		}
	}
	return NULL;
}

static size_t to_json(const char *fields, const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct xtcp_format fmt;
	size_t n;

	xtcp_format_init(&fmt, XTCP_FORMAT_JSON, fields, true, NULL, NULL);
	n = xtcp_format_record(&fmt, rec, line);
	line[n] = '\0';
	xtcp_format_release(&fmt);
	return n;
}

/* --- round trips ---------------------------------------------------------------- */

static void test_round_trip(struct xtcp_json_decoder *dec)
{
	static XtcpFlatRecord__V1__XtcpFlatRecord rec, back;
	char first[1 << 16];
	int bad = 0, text_bad = 0, i;

	for (i = 0; i < 5000; i++) {
		size_t n;
		const char *why;

		rnd_record(&rec);
		n = to_json(NULL, &rec);
		if (xtcp_json_decode(dec, line, n - 1, &back) < 0) {
			if (bad++ < 3)
				printf("#   record %d: %s\n", i, dec->err);
			continue;
		}
		why = records_differ(&rec, &back);
		if (why && bad++ < 3)
			printf("#   record %d: field %s differs\n", i, why);
		if (n < sizeof(first)) {
			memcpy(first, line, n + 1);
			to_json(NULL, &back);
			text_bad += strcmp(first, line) != 0;
		}
	}
	ok(!bad, "5000 random records: record -> JSON -> record is equal (seed %#llx)",
	   (unsigned long long)SEED);
	ok(!text_bad, "and the JSON text of the copy is identical");

	/* a subset: the fields left out come back as zero */
	rnd_record(&rec);
	to_json("netns,tcp_info_rtt,tcp_info_bytes_acked", &rec);
	ok(xtcp_json_decode(dec, line, strlen(line), &back) == 0 && !strcmp(back.netns, rec.netns) &&
	   back.tcp_info_rtt == rec.tcp_info_rtt &&
	   back.tcp_info_bytes_acked == rec.tcp_info_bytes_acked && back.hostname[0] == '\0' &&
	   back.inet_diag_msg_socket_source.len == 0 && back.timestamp_ns == 0,
	   "missing fields are zero");

	/* extremes */
	xtcp_record_init(&rec);
	rec.tcp_info_bytes_acked = UINT64_MAX;
	rec.tcp_info_pacing_rate = (1ull << 53) + 1;
	rec.tcp_info_max_pacing_rate = 1ull << 53;
	rec.timestamp_ns = INT64_MIN;
	rec.netns_inode = (uint64_t)INT64_MAX + 1;
	to_json(NULL, &rec);
	ok(xtcp_json_decode(dec, line, strlen(line), &back) == 0 && !records_differ(&rec, &back),
	   "UINT64_MAX, 2^53 + 1, 2^53, INT64_MIN and 2^63 come back exact");
}

static void test_replaced_utf8(struct xtcp_json_decoder *dec)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec, back;

	xtcp_record_init(&rec);
	rec.hostname = S("h\xff\xe2\x82!");
	to_json("hostname", &rec);
	ok(xtcp_json_decode(dec, line, strlen(line), &back) == 0 &&
	   !strcmp(back.hostname, "h\xef\xbf\xbd\xef\xbf\xbd!"),
	   "invalid UTF-8 comes back as U+FFFD (one per maximal subpart)");
}

/* --- other spellings -------------------------------------------------------------- */

static XtcpFlatRecord__V1__XtcpFlatRecord *decode(struct xtcp_json_decoder *dec, const char *text)
{
	static XtcpFlatRecord__V1__XtcpFlatRecord rec;

	if (xtcp_json_decode(dec, text, strlen(text), &rec) < 0) {
		printf("#   %s: %s\n", text, dec->err);
		return NULL;
	}
	return &rec;
}

static void test_spellings(struct xtcp_json_decoder *dec)
{
	XtcpFlatRecord__V1__XtcpFlatRecord *r;

	r = decode(dec, "{}");
	ok(r && r->tcp_info_rtt == 0 && r->netns[0] == '\0', "{} is a zero record");
	r = decode(dec, " { \"tcp_info_rtt\" : \"42\" , \"tcp_info_bytes_acked\": 7 } \r");
	ok(r && r->tcp_info_rtt == 42 && r->tcp_info_bytes_acked == 7,
	   "integers as strings or numbers, white space and CR around");
	r = decode(dec, "{\"tcp_info_bytes_acked\":\"18446744073709551615\",\"timestamp_ns\":\"-5\"}");
	ok(r && r->tcp_info_bytes_acked == UINT64_MAX && r->timestamp_ns == -5,
	   "64-bit strings, negative int64 string");
	r = decode(dec, "{\"inet_diag_msg_state\":\"established\",\"tcp_info_state\":6}");
	ok(r && r->inet_diag_msg_state == 1 && r->tcp_info_state == 6,
	   "state name in any case, state number");
	r = decode(dec, "{\"inet_diag_msg_state\":\"UNKNOWN\",\"tcp_info_state\":\"NEW_SYN_RECV\"}");
	ok(r && r->inet_diag_msg_state == 0 && r->tcp_info_state == 12, "UNKNOWN is 0");
	r = decode(dec, "{\"inet_diag_msg_family\":\"AF_INET6\"}");
	ok(r && r->inet_diag_msg_family == AF_INET6, "family AF_INET6");
	r = decode(dec, "{\"inet_diag_msg_family\":\"af_inet\"}");
	ok(r && r->inet_diag_msg_family == AF_INET, "family af_inet");
	r = decode(dec, "{\"congestion_algorithm_enum\":\"cubic\"}");
	ok(r && r->congestion_algorithm_enum == 1, "enum short name");
	r = decode(dec, "{\"congestion_algorithm_enum\":\"Congestion_Algorithm_BBR2\"}");
	ok(r && r->congestion_algorithm_enum == 6, "enum full name in any case");
	r = decode(dec, "{\"congestion_algorithm_enum\":-3}");
	ok(r && (int)r->congestion_algorithm_enum == -3, "enum number");
	r = decode(dec, "{\"inet_diag_msg_family\":2,\"inet_diag_msg_socket_source\":\"10.1.2.3\","
		    "\"inet_diag_msg_socket_destination\":\"::ffff:10.1.2.3\"}");
	ok(r && r->inet_diag_msg_socket_source.len == 16 &&
	   !memcmp(r->inet_diag_msg_socket_source.data, "\x0a\x01\x02\x03\0\0\0\0\0\0\0\0\0\0\0\0", 16) &&
	   r->inet_diag_msg_socket_destination.len == 16 &&
	   !memcmp(r->inet_diag_msg_socket_destination.data,
		   "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03", 16),
	   "addresses: IPv4 is 4 bytes and 12 zeros, IPv6 16 bytes");
	r = decode(dec, "{\"inet_diag_msg_socket_source\":\"0xDEADbeef\","
		    "\"inet_diag_msg_socket_destination\":\"\"}");
	ok(r && r->inet_diag_msg_socket_source.len == 4 &&
	   !memcmp(r->inet_diag_msg_socket_source.data, "\xde\xad\xbe\xef", 4) &&
	   r->inet_diag_msg_socket_destination.len == 0, "addresses: 0x hex, \"\" empty");
	r = decode(dec, "{\"netns\":\"a\\u00e9\\ud83d\\ude00\\n\"}");
	ok(r && !strcmp(r->netns, "a\xc3\xa9\xf0\x9f\x98\x80\n"), "\\u escapes and surrogate pairs");
}

/* --- errors ------------------------------------------------------------------------- */

static void test_errors(struct xtcp_json_decoder *dec)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "", "column 0: '[' or '{' expected near end of file" },
		{ "hello", "column 5: '[' or '{' expected near 'hello'" },
		{ "{\"netns\":\"a\"", "column 12: '}' expected near end of file" },
		{ "{\"netns\":\"a\"} x", "column 15: end of file expected near 'x'" },
		{ "[1,2]", "want a JSON object, got an array" },
		{ "{\"rtt\":1}", "unknown field 'rtt' (did you mean 'tcp_info_rtt'?)" },
		{ "{\"zzzzzzzz\":1}", "unknown field 'zzzzzzzz'" },
		{ "{\"netns\":\"a\",\"netns\":\"b\"}", "column 20: duplicate object key near '\"netns\"'" },
		{ "{\"tcp_info_rtt\":-1}",
		  "field 'tcp_info_rtt': want an integer from 0 to 4294967295, got -1" },
		{ "{\"tcp_info_rtt\":4294967296}",
		  "field 'tcp_info_rtt': want an integer from 0 to 4294967295, got 4294967296" },
		{ "{\"tcp_info_rtt\":1.5}",
		  "field 'tcp_info_rtt': want an integer from 0 to 4294967295, got 1.5" },
		{ "{\"tcp_info_rtt\":null}",
		  "field 'tcp_info_rtt': want an integer from 0 to 4294967295, got null" },
		{ "{\"tcp_info_rtt\":\"12ms\"}",
		  "field 'tcp_info_rtt': want an integer from 0 to 4294967295, got '12ms'" },
		{ "{\"tcp_info_bytes_acked\":\"18446744073709551616\"}",
		  "field 'tcp_info_bytes_acked': want an integer from 0 to 18446744073709551615, got "
		  "'18446744073709551616'" },
		{ "{\"tcp_info_bytes_acked\":18446744073709551615}",
		  "column 44: too big integer near '18446744073709551615'" },
		{ "{\"timestamp_ns\":\"-9223372036854775809\"}",
		  "field 'timestamp_ns': want an integer from -9223372036854775808 to "
		  "9223372036854775807, got '-9223372036854775809'" },
		{ "{\"netns\":5}", "field 'netns': want a string, got 5" },
		{ "{\"netns\":[]}", "field 'netns': want a string, got an array" },
		{ "{\"netns\":\"a\\u0000b\"}",
		  "column 19: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'" },
		{ "{\"inet_diag_msg_state\":\"ESTAB\"}",
		  "field 'inet_diag_msg_state': unknown TCP state 'ESTAB'" },
		{ "{\"congestion_algorithm_enum\":\"reno\"}",
		  "field 'congestion_algorithm_enum': unknown CongestionAlgorithm 'reno'" },
		{ "{\"congestion_algorithm_enum\":4294967296}",
		  "field 'congestion_algorithm_enum': want an integer from -2147483648 to 2147483647, "
		  "got 4294967296" },
		{ "{\"inet_diag_msg_family\":\"AF_UNIX\"}",
		  "field 'inet_diag_msg_family': want an integer from 0 to 4294967295, got 'AF_UNIX'" },
		{ "{\"inet_diag_msg_socket_source\":\"10.0.0\"}",
		  "field 'inet_diag_msg_socket_source': want an IP address, \"\" or 0x and hex digits, "
		  "got '10.0.0'" },
		{ "{\"inet_diag_msg_socket_source\":\"0x123\"}",
		  "field 'inet_diag_msg_socket_source': want an IP address, \"\" or 0x and hex digits, "
		  "got '0x123'" },
		{ "{\"inet_diag_msg_socket_source\":7}",
		  "field 'inet_diag_msg_socket_source': want \"\" or 0x and hex digits, got 7" },
		{ "{\"netns\":\"\xff\"}", "column 10: unable to decode byte 0xff near '\"'" },
		{ "{\"hostname\":\"a\",\"x\\ny\":1}", "unknown field 'x?y'" },
	};
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = xtcp_json_decode(dec, cases[i].text, strlen(cases[i].text), &rec);

		if (!ok(rc < 0 && errno == EINVAL && !strcmp(dec->err, cases[i].err),
			"error: %s", cases[i].err))
			printf("#   input '%s'\n#   got '%s'\n", cases[i].text, dec->err);
	}
	ok(xtcp_json_decode(dec, "{\"netns\":\"x\",\"tcp_info_rtt\":-1}", 31, &rec) < 0 &&
	   rec.netns[0] == '\0' && rec.tcp_info_rtt == 0, "a failed decode leaves a zero record");
}

/* --- the line reader ------------------------------------------------------------------ */

/* Write @text into a pipe from a child process, return the read end. */
static int feed(const char *text, size_t len)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		size_t off = 0;

		close(p[0]);
		while (off < len) {
			/* in small pieces, so lines arrive split across reads */
			size_t n = len - off < 7 ? len - off : 7 + off % 5000;
			ssize_t w = write(p[1], text + off, n > len - off ? len - off : n);

			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void test_reader(void)
{
	struct xtcp_json_reader r;
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	static char text[600000];
	char *long_name;
	int fd, rc, n = 0;
	size_t len;

	long_name = malloc(300001);
	memset(long_name, 'n', 300000);
	long_name[300000] = '\0';
	len = (size_t)snprintf(text, sizeof(text),
			       "{\"tcp_info_rtt\":1}\n\n   \n{\"tcp_info_rtt\":2}\r\n"
			       "{\"netns\":\"%s\",\"tcp_info_rtt\":3}\n{\"tcp_info_rtt\":4}",
			       long_name);
	fd = feed(text, len);
	xtcp_json_reader_init(&r, fd);
	while ((rc = xtcp_json_reader_next(&r, &rec)) > 0) {
		n++;
		if (rec.tcp_info_rtt != (uint32_t)n)
			break;
		if (n == 3 && strcmp(rec.netns, long_name))
			break;
	}
	ok(rc == 0 && n == 4 && r.line_no == 6,
	   "reader: blank lines skipped, CRLF, a 300 kB line, last line without newline");
	ok(!xtcp_json_reader_would_read(&r), "at the end, no read is pending");
	xtcp_json_reader_release(&r);
	close(fd);

	len = (size_t)snprintf(text, sizeof(text),
			       "{\"tcp_info_rtt\":1}\n{\"tcp_info_rtt\":2}\n\n{\"tcp_info_rtt\":}\n"
			       "{\"tcp_info_rtt\":5}\n");
	fd = feed(text, len);
	xtcp_json_reader_init(&r, fd);
	n = 0;
	while ((rc = xtcp_json_reader_next(&r, &rec)) > 0)
		n++;
	ok(rc < 0 && errno == EINVAL && n == 2 &&
	   !strcmp(r.err, "line 4: column 17: unexpected token near '}'"),
	   "reader: the records before a bad line, then its number");
	if (rc >= 0 || strcmp(r.err, "line 4: column 17: unexpected token near '}'"))
		printf("#   got %d records, '%s'\n", n, r.err);
	xtcp_json_reader_release(&r);
	close(fd);

	fd = feed("", 0);
	xtcp_json_reader_init(&r, fd);
	ok(xtcp_json_reader_would_read(&r), "before the first read, a read is pending");
	ok(xtcp_json_reader_next(&r, &rec) == 0, "empty input: no records, no error");
	xtcp_json_reader_release(&r);
	close(fd);
	free(long_name);
}

/* --- the checker for the CLI tests ------------------------------------------------------ */

static int check_files(int argc, char **argv)
{
	static char *buf;
	size_t cap = 0;
	ssize_t len;
	int i, failed = 0;

	for (i = 0; i < argc; i++) {
		FILE *fp = fopen(argv[i], "r");
		unsigned long n = 0;

		if (!fp) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		while ((len = getline(&buf, &cap, fp)) > 0) {
			json_error_t jerr;
			json_t *root, *v;
			const char *key;

			n++;
			root = json_loadb(buf, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
			if (!root || !json_is_object(root) || buf[len - 1] != '\n') {
				fprintf(stderr, "%s: line %lu: %s\n", argv[i], n,
					root ? "not an object on one line" : jerr.text);
				failed = 1;
			}
			json_object_foreach(root, key, v) {
				if (!protobuf_c_message_descriptor_get_field_by_name(desc, key)) {
					fprintf(stderr, "%s: line %lu: key '%s' is not a field\n", argv[i],
						n, key);
					failed = 1;
				}
			}
			json_decref(root);
		}
		fclose(fp);
		printf("%s: %lu lines parse with jansson\n", argv[i], n);
	}
	free(buf);
	return failed;
}

int main(int argc, char **argv)
{
	struct xtcp_json_decoder dec;

	if (argc > 2 && !strcmp(argv[1], "--check"))
		return check_files(argc - 2, argv + 2);
	xtcp_json_decoder_init(&dec);
	test_round_trip(&dec);
	test_replaced_utf8(&dec);
	test_spellings(&dec);
	test_errors(&dec);
	test_reader();
	xtcp_json_decoder_release(&dec);
	return done_testing();
}
