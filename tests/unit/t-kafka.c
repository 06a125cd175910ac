/*
 * lib/kafka.c: the key field scanner, re-batching by rows, bytes and key,
 * and the accounting of every row, against librdkafka's in-process mock
 * cluster (test.mock.num.brokers).
 */

#include <errno.h>
#include <string.h>

#include "kafka.h"
#include "stream.h"
#include "tap.h"

/* A minimal serialized record: hostname (20) and netns (30), padded with a label (3000). */
static size_t make_row(uint8_t *out, const char *host, const char *netns, size_t pad)
{
	uint8_t *p = out;
	size_t n;

	*p++ = 0x08; /* schema_version = 1 */
	*p++ = 1;
	if ((n = strlen(host))) {
		p += xtcp_varint_put(p, 20 << 3 | 2);
		*p++ = (uint8_t)n;
		memcpy(p, host, n);
		p += n;
	}
	if ((n = strlen(netns))) {
		p += xtcp_varint_put(p, 30 << 3 | 2);
		*p++ = (uint8_t)n;
		memcpy(p, netns, n);
		p += n;
	}
	if (pad) {
		p += xtcp_varint_put(p, 3000u << 3 | 2);
		p += xtcp_varint_put(p, pad);
		memset(p, 'x', pad);
		p += pad;
	}
	return (size_t)(p - out);
}

static struct xtcp_kafka *mock_producer(size_t rows, size_t bytes, enum xtcp_kafka_key key,
					const char *max_msg)
{
	struct xtcp_kafka *k = xtcp_kafka_new();

	if (!k || xtcp_kafka_set(k, "test.mock.num.brokers", "1") < 0 ||
	    xtcp_kafka_set(k, "bootstrap.servers", "unused:9092") < 0 ||
	    (max_msg && xtcp_kafka_set(k, "message.max.bytes", max_msg) < 0) ||
	    xtcp_kafka_start(k, "t", rows, bytes, key, 10000) < 0) {
		printf("# %s\n", k ? xtcp_kafka_error(k) : "ENOMEM");
		exit(1);
	}
	return k;
}

static void test_row_field(void)
{
	uint8_t row[4096];
	const uint8_t *key;
	size_t len = make_row(row, "web-1", "ns-a", 10), key_len;

	ok(xtcp_record_field_bytes(row, len, 20, &key, &key_len) == 0 && key_len == 5 &&
	   !memcmp(key, "web-1", 5), "hostname found");
	ok(xtcp_record_field_bytes(row, len, 30, &key, &key_len) == 0 && key_len == 4 &&
	   !memcmp(key, "ns-a", 4), "netns found");
	len = make_row(row, "", "", 0);
	ok(xtcp_record_field_bytes(row, len, 20, &key, &key_len) == 0 && key_len == 0,
	   "absent field: empty key");
	len = make_row(row, "web-1", "", 0);
	ok(xtcp_record_field_bytes(row, len - 1, 20, &key, &key_len) < 0 && errno == EBADMSG,
	   "truncated string: EBADMSG");
	row[0] = 0x0b; /* wire type 3 (group): not in proto3 */
	ok(xtcp_record_field_bytes(row, len, 20, &key, &key_len) < 0 && errno == EBADMSG,
	   "unknown wire type: EBADMSG");
}

static void test_caps(void)
{
	struct xtcp_kafka *k = mock_producer(10, 0, XTCP_KAFKA_KEY_NONE, NULL);
	const struct xtcp_kafka_stats *st = xtcp_kafka_stats(k);
	uint8_t row[4096];
	size_t len = make_row(row, "h", "", 100), i;

	for (i = 0; i < 95; i++)
		xtcp_kafka_add_row(k, row, len);
	is(st->messages, 9, "--rows 10: 9 full messages before the flush");
	ok(xtcp_kafka_flush(k, 10000) == 0, "flush delivers");
	is(st->messages, 10, "the last 5 rows are a 10th message");
	is(st->rows_delivered, 95, "every row delivered");
	is(st->rows_failed + st->rows_pending + st->messages_pending, 0, "none failed or pending");
	/* each value: prefix + 10 rows of (tag + 1-byte length + row) */
	is(st->bytes, 9 * (2 + 10 * (2 + len)) + (2 + 5 * (2 + len)), "value bytes");
	xtcp_kafka_free(k);

	/* byte cap: 3 rows of ~1 KiB fit in 3500 bytes, the 4th does not */
	k = mock_producer(0, 3500, XTCP_KAFKA_KEY_NONE, NULL);
	st = xtcp_kafka_stats(k);
	len = make_row(row, "h", "", 1000);
	for (i = 0; i < 7; i++)
		xtcp_kafka_add_row(k, row, len);
	is(st->messages, 2, "--bytes: a message closes before it would pass the cap");
	ok(xtcp_kafka_flush(k, 10000) == 0 && st->messages == 3 && st->rows_delivered == 7,
	   "--bytes: 3 + 3 + 1 rows delivered");
	xtcp_kafka_free(k);

	/* a row over the byte cap goes alone */
	k = mock_producer(0, 500, XTCP_KAFKA_KEY_NONE, NULL);
	st = xtcp_kafka_stats(k);
	xtcp_kafka_add_row(k, row, make_row(row, "h", "", 10));
	xtcp_kafka_add_row(k, row, make_row(row, "h", "", 2000));
	xtcp_kafka_add_row(k, row, make_row(row, "h", "", 10));
	ok(xtcp_kafka_flush(k, 10000) == 0 && st->messages == 3 && st->rows_delivered == 3,
	   "a row larger than --bytes is a message of its own, delivered");
	xtcp_kafka_free(k);
}

static void test_key(void)
{
	struct xtcp_kafka *k = mock_producer(0, 0, XTCP_KAFKA_KEY_NETNS, NULL);
	const struct xtcp_kafka_stats *st = xtcp_kafka_stats(k);
	static const char *const ns[] = { "a", "a", "b", "b", "b", "a", "", "" };
	uint8_t row[256];
	size_t i;
	int failed = 0;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		failed |= xtcp_kafka_add_row(k, row, make_row(row, "h", ns[i], 0)) < 0;
	ok(!failed, "rows taken");
	ok(xtcp_kafka_flush(k, 10000) == 0, "flush");
	is(st->messages, 4, "--key netns: a new message at each key change (a b a none)");
	is(st->rows_delivered, 8, "every row delivered");
	xtcp_kafka_free(k);
}

static void test_too_large(void)
{
	struct xtcp_kafka *k = mock_producer(0, 0, XTCP_KAFKA_KEY_NONE, "1000");
	const struct xtcp_kafka_stats *st = xtcp_kafka_stats(k);
	uint8_t row[4096];

	xtcp_kafka_add_row(k, row, make_row(row, "h", "", 10));
	xtcp_kafka_send(k);
	xtcp_kafka_add_row(k, row, make_row(row, "h", "", 2000));
	ok(xtcp_kafka_flush(k, 10000) == 0, "flush settles every message");
	is(st->rows_delivered, 1, "the small row delivered");
	is(st->rows_failed, 1, "the row over message.max.bytes counted failed");
	ok(!strcmp(st->first_error, "Broker: Message size too large"), "with librdkafka's reason: %s",
	   st->first_error);
	xtcp_kafka_free(k);
}

static void test_config(void)
{
	struct xtcp_kafka *k = xtcp_kafka_new();
	uint8_t env[] = { 0x52, 0x05, 0x08 };

	ok(xtcp_kafka_set(k, "no.such.property", "1") < 0 && errno == EINVAL &&
	   strstr(xtcp_kafka_error(k), "No such configuration property"), "unknown property: EINVAL");
	ok(xtcp_kafka_set(k, "linger.ms", "soon") < 0 && errno == EINVAL, "bad value: EINVAL");
	ok(xtcp_kafka_set_file(k, "/nonexistent/x.conf") < 0 && errno == ENOENT, "missing file: ENOENT");
	xtcp_kafka_free(k);

	k = mock_producer(0, 0, XTCP_KAFKA_KEY_NONE, NULL);
	ok(xtcp_kafka_add_envelope(k, env, sizeof(env)) < 0 && errno == EBADMSG,
	   "a malformed Envelope: EBADMSG");
	ok(xtcp_kafka_set(k, "acks", "1") < 0 && errno == EINVAL, "no properties after start");
	xtcp_kafka_free(k);
}

/*
 * A row that is good up to its key field and malformed after it (a varint
 * cut short in field 3001): the frame is refused whole, nothing is taken.
 */
static void test_bad_tail(void)
{
	struct xtcp_kafka *k = mock_producer(0, 0, XTCP_KAFKA_KEY_HOSTNAME, NULL);
	const struct xtcp_kafka_stats *st = xtcp_kafka_stats(k);
	static const uint8_t env[] = {
		0x52, 0x03, 0xa2, 0x01, 0x00,                           /* hostname "" */
		0x52, 0x07, 0xa2, 0x01, 0x01, 'h', 0xc8, 0xbb, 0x01,    /* hostname "h", 3001 cut */
	};

	ok(xtcp_kafka_add_envelope(k, env, sizeof(env)) < 0 && errno == EBADMSG &&
	   strstr(xtcp_kafka_error(k), "row 2 is not a valid record"),
	   "a row malformed after its key: EBADMSG, the row named (%s)", xtcp_kafka_error(k));
	is(st->rows, 0, "and no row of that frame is taken");
	xtcp_kafka_free(k);
}

int main(void)
{
	test_row_field();
	test_caps();
	test_key();
	test_too_large();
	test_config();
	test_bad_tail();
	return done_testing();
}
