/*
 * Unit tests for lib/wire.h: every varint reader against a plain reference
 * decoder written from the protobuf encoding spec, at every length and on
 * random and damaged bytes; overflow, truncation, tags, lengths, skipping
 * and the field walker.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wire.h"
#include "../helpers/wire-ref.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every reader on the same bytes (padded so the _fast ones may read 10 bytes). */
static int readers_agree(const uint8_t *bytes, size_t len, char *why, size_t why_len)
{
	uint8_t buf[32] = { 0 };
	const uint8_t *end = buf + len;
	struct xtcp_varint a, b, c, d;
	uint64_t want = 0, got = 0;
	int n_ref, n_get;

	memcpy(buf, bytes, len);
	n_ref = ref_varint(buf, len, &want);
	n_get = xtcp_varint_get(buf, len, &got);
	a = xtcp_varint_read(buf, end);
	b = xtcp_varint_read_slow(buf, end, XTCP_VARINT_MAX);
	if (n_get != n_ref || (n_ref > 0 && got != want)) {
		snprintf(why, why_len, "get %d, reference %d", n_get, n_ref);
		return 0;
	}
	if ((a.next != NULL) != (n_ref > 0) || (b.next != NULL) != (n_ref > 0) ||
	    (n_ref > 0 && (a.next != buf + n_ref || a.value != want || b.next != a.next ||
			   b.value != want))) {
		snprintf(why, why_len, "read/read_slow disagree with the reference (%d)", n_ref);
		return 0;
	}
	if (xtcp_varint_skip(buf, end) != a.next) {
		snprintf(why, why_len, "skip disagrees");
		return 0;
	}
	/* the fast skip reads 10 bytes whatever the input's end: from 10 on it must agree */
	if (len >= XTCP_VARINT_MAX && xtcp_varint_skip_fast(buf) != a.next) {
		snprintf(why, why_len, "skip_fast disagrees");
		return 0;
	}
	if (len >= 10 || n_ref > 0) {
		/* the fast readers need 10 readable bytes: buf has them */
		c = xtcp_varint_read_fast(buf, buf + (len > 10 ? len : 10));
		d = xtcp_varint_read_fast64(buf, buf + (len > 10 ? len : 10));
		if (n_ref > 0 && (c.next != a.next || c.value != want || d.next != a.next ||
				  d.value != want)) {
			snprintf(why, why_len, "fast readers disagree");
			return 0;
		}
		if (n_ref < 0 && (c.next || d.next)) {
			snprintf(why, why_len, "fast readers accept a bad varint");
			return 0;
		}
	}
	return 1;
}

static void test_varints(void)
{
	uint8_t buf[16];
	char why[128] = "";
	size_t bits, n, i, bad = 0;
	const uint8_t *p;
	uint64_t v;

	for (bits = 0; bits <= 64; bits++) {
		uint64_t vals[3] = { bits ? (UINT64_C(1) << (bits - 1)) : 0,
				     bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1,
				     bits == 64 ? UINT64_MAX - 1 : (UINT64_C(1) << bits) / 3 };

		for (i = 0; i < 3; i++) {
			n = xtcp_varint_put(buf, vals[i]);
			if (n != xtcp_varint_len(vals[i]) || ref_varint(buf, n, &v) != (int)n ||
			    v != vals[i] || !readers_agree(buf, n, why, sizeof(why)) ||
			    xtcp_varint_get(buf, n - 1, &v) != 0)
				bad++;
			if (xtcp_varint_put32(buf, (uint32_t)vals[i]) - buf !=
			    (ptrdiff_t)xtcp_varint_len((uint32_t)vals[i]))
				bad++;
		}
	}
	ok(bad == 0, "put, len and every reader agree at every length boundary %s", why);

	memcpy(buf, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
	ok(xtcp_varint_get(buf, 10, &v) == -1, "a 10th byte of 2 overflows 64 bits: rejected");
	memcpy(buf, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
	ok(xtcp_varint_get(buf, 10, &v) == 10 && v == UINT64_MAX, "2^64-1 in 10 bytes is accepted");
	memcpy(buf, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 11);
	ok(xtcp_varint_get(buf, 11, &v) == -1, "11 bytes are rejected");
	ok(xtcp_varint_get(buf, 9, &v) == 0, "9 bytes with the continuation bit are cut short");
	ok(xtcp_varint_get(buf, 0, &v) == 0, "no bytes: cut short");
	p = (const uint8_t *)"\x80\x80\x80\x80\x80\x01";
	ok(!xtcp_varint_read_slow(p, p + 6, 5).next && xtcp_varint_read_slow(p, p + 6, 6).next,
	   "the limit counts bytes");

	for (i = 0; i < 200000; i++) {
		uint8_t r[12];
		size_t k, len = 1 + rnd() % 12;

		for (k = 0; k < len; k++) {
			uint64_t x = rnd();
			/* mostly continuation bytes, so that long and overflowing ones are common */
			r[k] = (uint8_t)(x % 4 ? (x >> 8) | 0x80 : (x >> 8) & 0x7f);
			if (x % 16 == 1)
				r[k] = (uint8_t)(2 + (x >> 8) % 126);
		}
		if (!readers_agree(r, len, why, sizeof(why))) {
			bad++;
			break;
		}
	}
	ok(bad == 0, "200000 random byte strings: every reader agrees with the reference %s", why);
}

static void test_tags_and_lengths(void)
{
	const uint8_t *p;
	struct xtcp_varint x;

	p = (const uint8_t *)"\x08";
	x = xtcp_wire_tag(p, p + 1);
	ok(x.next == p + 1 && x.value == 8, "one-byte tag");
	p = (const uint8_t *)"\x05";
	ok(!xtcp_wire_tag(p, p + 1).next, "one-byte tag of field 0 is malformed");
	p = (const uint8_t *)"\xf8\xff\xff\xff\x0f";
	x = xtcp_wire_tag(p, p + 5);
	ok(x.next == p + 5 && x.value >> 3 == XTCP_FIELD_NUMBER_MAX, "5-byte tag of the largest field");
	p = (const uint8_t *)"\x80\x80\x80\x80\x80\x01";
	ok(!xtcp_wire_tag(p, p + 6).next, "a 6-byte tag is malformed (protobuf-c reads 5)");
	{
		/* the fast reader of short tags agrees with xtcp_wire_tag, or leaves it to it */
		uint8_t t[16] = { 0 };
		size_t i, bad = 0, fast = 0;
		uint64_t seed = 7;

		for (i = 0; i < 300000; i++) {
			struct xtcp_varint a, b;
			size_t k;

			for (k = 0; k < 6; k++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				t[k] = (uint8_t)(seed >> 56);
			}
			a = xtcp_wire_tag(t, t + sizeof(t));
			b = xtcp_wire_tag_fast(t);
			fast += b.next != NULL;
			if (b.next && (b.next != a.next || b.value != a.value || b.next - t > 3))
				bad++;
			if (!b.next && a.next && a.next - t <= 3)
				bad++;
		}
		ok(bad == 0 && fast > 100000, "xtcp_wire_tag_fast: xtcp_wire_tag's tags of 1 to 3 "
		   "bytes, nothing else (%zu of 300000 random)", fast);
	}
	p = (const uint8_t *)"\x03" "abc";
	x = xtcp_wire_len(p, p + 4);
	ok(x.next == p + 1 && x.value == 3, "length prefix");
	ok(!xtcp_wire_len(p, p + 3).next, "a length past the end is malformed");
	p = (const uint8_t *)"\x81\x80\x80\x80\x80\x00";
	ok(!xtcp_wire_len(p, p + 6).next, "a 6-byte length prefix is malformed");
	p = (const uint8_t *)"12345678";
	ok(xtcp_wire_skip(p, p + 8, XTCP_WIRE_I64) == p + 8 && !xtcp_wire_skip(p, p + 7, XTCP_WIRE_I64),
	   "skip fixed64");
	ok(xtcp_wire_skip(p, p + 4, XTCP_WIRE_I32) == p + 4 && !xtcp_wire_skip(p, p + 3, XTCP_WIRE_I32),
	   "skip fixed32");
	ok(!xtcp_wire_skip(p, p + 8, XTCP_WIRE_SGROUP) && !xtcp_wire_skip(p, p + 8, 6) &&
	   !xtcp_wire_skip(p, p + 8, 7), "groups and wire types 6, 7 are malformed");
}

static void test_walker(void)
{
	/* 1: varint 300; 20: "host"; 7: fixed32; 30: "ns"; 9: fixed64 */
	static const uint8_t msg[] = "\x08\xac\x02" "\xa2\x01\x04" "host" "\x3d" "abcd"
				     "\xf2\x01\x02" "ns" "\x49" "12345678";
	struct xtcp_wire_reader r;
	struct xtcp_wire_field f;
	const uint8_t *data;
	size_t len;
	int n = 0, rc;
	uint32_t numbers[8];

	xtcp_wire_reader_init(&r, msg, sizeof(msg) - 1);
	while ((rc = xtcp_wire_next(&r, &f)) > 0 && n < 8)
		numbers[n++] = f.number;
	ok(rc == 0 && n == 5 && numbers[0] == 1 && numbers[1] == 20 && numbers[2] == 7 &&
	   numbers[3] == 30 && numbers[4] == 9, "the walker visits every field in order");
	xtcp_wire_reader_init(&r, msg, 3);
	ok(xtcp_wire_next(&r, &f) == 1 && f.type == XTCP_WIRE_VARINT && f.varint == 300,
	   "a varint field's value");
	ok(xtcp_wire_find_bytes(msg, sizeof(msg) - 1, 30, &data, &len) == 1 && len == 2 &&
	   !memcmp(data, "ns", 2), "find_bytes finds field 30");
	ok(xtcp_wire_find_bytes(msg, sizeof(msg) - 1, 21, &data, &len) == 0 && !data && !len,
	   "find_bytes: an absent field");
	ok(xtcp_wire_find_bytes(msg, 5, 30, &data, &len) == -1 && errno == EBADMSG,
	   "find_bytes: malformed bytes before the field are EBADMSG");
	xtcp_wire_reader_init(&r, (const uint8_t *)"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 11);
	ok(xtcp_wire_next(&r, &f) == -1 && errno == EBADMSG && f.at == (const uint8_t *)r.p,
	   "an overflowing varint value is malformed, and where is said");
}

int main(void)
{
	test_varints();
	test_tags_and_lengths();
	test_walker();
	return done_testing();
}
