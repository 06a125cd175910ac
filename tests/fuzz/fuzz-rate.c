/*
 * The follower's row scan against the record decoder, on arbitrary rows fed
 * one after the other to one follower (so that sockets are found again,
 * wrap, start over, are forgotten): xtcp_rate_follow() takes a row exactly
 * when xtcp_record_decode() does; the row it writes decodes, holds the
 * input's fields unchanged (unknown ones included) and the rate fields of
 * the result, and nothing else.  Any difference aborts.
 *
 * Input: rows, each a little-endian 16-bit length and that many bytes (the
 * last takes what is left when the length is longer).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "record.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t a_bytes[1 << 17], b_bytes[1 << 17];

/* The field @f of @rec as a number (rate fields are all uint32 or uint64). */
static uint64_t get(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, const struct xtcp_field *f)
{
	const char *at = (const char *)rec + xtcp_field_desc(f)->offset;
	uint64_t v = 0;
	uint32_t w;

	if (f->kind == XTCP_VALUE_U64) {
		memcpy(&v, at, 8);
		return v;
	}
	memcpy(&w, at, 4);
	return w;
}

static void clear(XtcpFlatRecord__V1__XtcpFlatRecord *rec, const struct xtcp_field *f)
{
	memset((char *)rec + xtcp_field_desc(f)->offset, 0, f->kind == XTCP_VALUE_U64 ? 8 : 4);
}

static void clear_rate_fields(XtcpFlatRecord__V1__XtcpFlatRecord *rec,
			      const struct xtcp_rate_counter *c, size_t n)
{
	size_t i;

	rec->rate_interval_ns = 0;
	for (i = 0; i < n; i++) {
		clear(rec, c[i].delta);
		if (c[i].per_s)
			clear(rec, c[i].per_s);
	}
}

static void check_row(struct xtcp_rate *rt, const uint8_t *row, size_t len)
{
	static struct xtcp_decoder din, dout;
	XtcpFlatRecord__V1__XtcpFlatRecord in, out;
	struct xtcp_rate_result res;
	const struct xtcp_rate_counter *c;
	const uint8_t *bytes;
	size_t n, out_len, i, la, lb;
	int decoded, followed;

	decoded = xtcp_record_decode(&din, row, len, &in) == 0;
	followed = xtcp_rate_follow(rt, row, len, &res) == 0;
	if (decoded != followed)
		abort();
	if (!followed)
		return;
	bytes = xtcp_rate_encode(rt, &res, row, len, &out_len);
	if (!bytes || xtcp_record_decode(&dout, bytes, out_len, &out) < 0)
		abort();
	c = xtcp_rate_counters(rt, &n);
	if (out.rate_interval_ns != res.interval_ns)
		abort();
	for (i = 0; i < n; i++) {
		if (get(&out, c[i].delta) != res.delta[i])
			abort();
		if (c[i].per_s && get(&out, c[i].per_s) != res.per_s[i])
			abort();
	}
	/* everything else as it came */
	clear_rate_fields(&in, c, n);
	clear_rate_fields(&out, c, n);
	if (xtcp_record_encoded_max(&in) > sizeof(a_bytes) ||
	    xtcp_record_encoded_max(&out) > sizeof(b_bytes))
		return;
	la = xtcp_record_encode(&in, a_bytes);
	lb = xtcp_record_encode(&out, b_bytes);
	if (la != lb || memcmp(a_bytes, b_bytes, la) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xtcp_rate *rt = xtcp_rate_new(2);

	if (!rt)
		abort();
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		check_row(rt, data, len);
		data += len;
		size -= len;
	}
	xtcp_rate_free(rt);
	return 0;
}
