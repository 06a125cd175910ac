/*
 * Unit tests for lib/stream.c: varints, envelope caps, frame reader errors,
 * rows in Envelope field 1, ClickHouse's Protobuf format, output.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "stream.h"
#include "tap.h"

static void test_uvarint(void)
{
	static const uint64_t values[] = { 0, 1, 127, 128, 300, 16383, 16384, 1u << 21,
					   UINT32_MAX, 1ull << 56, UINT64_MAX };
	uint8_t buf[16];
	uint64_t v;
	size_t i, n;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		n = xtcp_varint_put(buf, values[i]);
		is(n, xtcp_varint_len(values[i]), "uvarint len of %llu", (unsigned long long)values[i]);
		ok(xtcp_varint_get(buf, n, &v) == (int)n && v == values[i],
		   "uvarint round trip %llu", (unsigned long long)values[i]);
		if (n > 1)
			ok(xtcp_varint_get(buf, n - 1, &v) == 0, "truncated uvarint %llu needs more",
			   (unsigned long long)values[i]);
	}
	memset(buf, 0x80, sizeof(buf));
	ok(xtcp_varint_get(buf, sizeof(buf), &v) == -1, "11-byte uvarint is rejected");
}

/* A fake encoded row of @len bytes (a single bytes field 3003 would do; content does not matter here). */
static uint8_t row_bytes[1 << 16];

static size_t frame_rows(const uint8_t *frame, size_t len, size_t *body)
{
	struct xtcp_row_iter it;
	const uint8_t *row;
	size_t rl, rows = 0;
	uint64_t flen;
	int n = xtcp_varint_get(frame, len, &flen);

	*body = (size_t)flen;
	if (n <= 0 || (size_t)n + flen != len)
		return (size_t)-1;
	xtcp_row_iter_init(&it, frame + n, (size_t)flen);
	while (xtcp_row_iter_next(&it, &row, &rl) > 0)
		rows++;
	return rows;
}

static void test_envelope_caps(void)
{
	struct xtcp_envelope env;
	const uint8_t *frame;
	size_t len, rows, body, i, total = 0, frames = 0;
	int rc, bad = 0;

	/* Row cap: 10 rows of 100 bytes, cap 3 rows. */
	xtcp_envelope_init(&env, 3, 0);
	for (i = 0; i < 10; i++) {
		rc = xtcp_envelope_add_raw(&env, row_bytes, 100);
		while ((frame = xtcp_envelope_take(&env, false, &len, &rows))) {
			if (rows != 3 || frame_rows(frame, len, &body) != 3)
				bad++;
			total += rows;
			frames++;
			xtcp_envelope_done(&env);
		}
		(void)rc;
	}
	frame = xtcp_envelope_take(&env, true, &len, &rows);
	ok(frame && rows == 1, "row cap: the last frame holds the remaining row");
	total += rows;
	xtcp_envelope_done(&env);
	ok(!bad && frames == 3 && total == 10, "row cap: 3 full frames of 3 rows, 10 rows in all");
	ok(xtcp_envelope_take(&env, true, &len, &rows) == NULL, "nothing left after the flush");
	xtcp_envelope_release(&env);

	/* Byte cap: 1000-byte cap, rows of 300 bytes (303 with tag and length). */
	xtcp_envelope_init(&env, 0, 1000);
	frames = total = 0;
	bad = 0;
	for (i = 0; i < 10; i++) {
		rc = xtcp_envelope_add_raw(&env, row_bytes, 300);
		if (rc < 0)
			bad++;
		while ((frame = xtcp_envelope_take(&env, false, &len, &rows))) {
			frame_rows(frame, len, &body);
			if (body > 1000)
				bad++;
			total += rows;
			frames++;
			xtcp_envelope_done(&env);
		}
	}
	while ((frame = xtcp_envelope_take(&env, true, &len, &rows))) {
		total += rows;
		frames++;
		xtcp_envelope_done(&env);
	}
	ok(!bad && total == 10 && frames == 4, "byte cap: no frame over 1000 bytes, 10 rows in 4 frames");
	xtcp_envelope_release(&env);

	/* A row larger than the byte cap is a frame of its own. */
	xtcp_envelope_init(&env, 0, 1000);
	xtcp_envelope_add_raw(&env, row_bytes, 10);
	rc = xtcp_envelope_add_raw(&env, row_bytes, 5000);
	ok(rc == 1, "an oversized row makes the frame before it ready");
	frame = xtcp_envelope_take(&env, false, &len, &rows);
	ok(frame && rows == 1 && frame_rows(frame, len, &body) == 1 && body == 12,
	   "the first frame holds the small row");
	xtcp_envelope_done(&env);
	frame = xtcp_envelope_take(&env, false, &len, &rows);
	ok(frame && rows == 1 && frame_rows(frame, len, &body) == 1 && body == 5003,
	   "the oversized row is sent alone");
	xtcp_envelope_done(&env);
	ok(xtcp_envelope_take(&env, true, &len, &rows) == NULL, "then nothing is pending");
	ok(xtcp_envelope_add_raw(&env, row_bytes, 1) == 0, "appending works again");
	xtcp_envelope_release(&env);

	/* Appending while a frame is ready is refused. */
	xtcp_envelope_init(&env, 1, 0);
	xtcp_envelope_add_raw(&env, row_bytes, 1);
	errno = 0;
	ok(xtcp_envelope_add_raw(&env, row_bytes, 1) == -1 && errno == EBUSY,
	   "append before taking a ready frame fails with EBUSY");
	xtcp_envelope_release(&env);

	/* Size accounting stays exact over many rows. */
	xtcp_envelope_init(&env, 0, 0);
	for (i = 0; i < 5000; i++)
		xtcp_envelope_add_raw(&env, row_bytes, i % 300);
	frame = xtcp_envelope_take(&env, true, &len, &rows);
	ok(frame && rows == 5000 && frame_rows(frame, len, &body) == 5000 && body == env.len,
	   "5000 rows: frame length equals the accounted size");
	xtcp_envelope_release(&env);
}

/* Write @data to a pipe-less temp file and return an fd at its start. */
static int temp_input(const void *data, size_t len)
{
	char path[] = "/tmp/t-stream.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	if (write(fd, data, len) != (ssize_t)len)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_envelope_rewind(void)
{
	struct xtcp_envelope env;
	struct xtcp_envelope_mark mark;
	const uint8_t *frame;
	size_t len, rows, body;

	xtcp_envelope_init(&env, 4, 0);
	xtcp_envelope_add_raw(&env, row_bytes, 100);
	xtcp_envelope_mark(&env, &mark);
	xtcp_envelope_add_raw(&env, row_bytes, 50);
	xtcp_envelope_add_raw(&env, row_bytes, 60);
	ok(xtcp_envelope_rewind(&env, &mark) == 0 && env.rows == 1 && env.total_rows == 1,
	   "rewind drops the rows appended since the mark");
	frame = xtcp_envelope_take(&env, true, &len, &rows);
	ok(frame && rows == 1 && frame_rows(frame, len, &body) == 1 && body == 102,
	   "the frame after a rewind holds only the rows before the mark");
	xtcp_envelope_done(&env);
	xtcp_envelope_mark(&env, &mark);
	xtcp_envelope_add_raw(&env, row_bytes, 10);
	xtcp_envelope_add_raw(&env, row_bytes, 10);
	xtcp_envelope_add_raw(&env, row_bytes, 10);
	ok(xtcp_envelope_add_raw(&env, row_bytes, 10) == 1, "a full frame is ready");
	errno = 0;
	ok(xtcp_envelope_rewind(&env, &mark) == -1 && errno == EBUSY && env.rows == 4,
	   "no rewind past a ready frame (EBUSY), nothing dropped");
	xtcp_envelope_take(&env, false, &len, &rows);
	xtcp_envelope_done(&env);
	ok(xtcp_envelope_rewind(&env, &mark) == -1 && errno == EBUSY,
	   "no rewind past a frame already taken");
	xtcp_envelope_release(&env);
}

/* No writer makes a frame its readers refuse. */
static void test_envelope_frame_max(void)
{
	struct xtcp_envelope env;
	uint8_t *big = calloc(1, XTCP_FRAME_MAX);
	const uint8_t *frame;
	size_t len, rows;

	if (!big)
		abort();
	xtcp_envelope_init(&env, 0, 0);
	ok(env.max_bytes == XTCP_FRAME_MAX, "no byte cap is the readers' limit");
	xtcp_envelope_add_raw(&env, row_bytes, 10);
	errno = 0;
	ok(xtcp_envelope_add_raw(&env, big, XTCP_FRAME_MAX - 4) == -1 && errno == EFBIG &&
	   env.rows == 1, "a row that alone would make a frame over the limit: EFBIG, nothing added");
	/* an Envelope of one row of n bytes is 1 + 4 + n bytes (n < 2^28) */
	ok(xtcp_envelope_add_raw(&env, big, XTCP_FRAME_MAX - 5) == 1, "the largest row that fits");
	frame = xtcp_envelope_take(&env, false, &len, &rows);
	ok(frame && rows == 1 && len == 1 + 2 + 10, "it waits for a frame of its own");
	xtcp_envelope_done(&env);
	frame = xtcp_envelope_take(&env, true, &len, &rows);
	ok(frame && rows == 1 && len == 4 + XTCP_FRAME_MAX, "and that frame is exactly what a reader takes");
	xtcp_envelope_done(&env);
	xtcp_envelope_release(&env);
	free(big);
}

/*
 * Records through xtcp_envelope_add(): rows of a few bytes, and rows whose
 * strings do not fit the room it first gives the encoder (re-encoded once
 * the bound is reserved) and whose length takes a byte more or less than the
 * row before's.  Every row must be the bytes of xtcp_record_encode().
 */
static void test_envelope_records(void)
{
	static const size_t label_len[] = { 0, 3, 20000, 200, 0, 70000, 5, 4090, 4200, 1 };
	enum { N = sizeof(label_len) / sizeof(label_len[0]) };
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_envelope env;
	struct xtcp_row_iter it;
	const uint8_t *frame, *row;
	static char label[70001];
	uint8_t *want = NULL;
	size_t len, rows, rl, n, i = 0, bad = 0;
	uint64_t flen;
	int vl;

	memset(label, 'l', sizeof(label) - 1);
	xtcp_record_init(&rec);
	xtcp_envelope_init(&env, 0, 0);
	for (n = 0; n < N; n++) {
		rec.record_counter = n + 1;
		rec.label = label + sizeof(label) - 1 - label_len[n];
		if (xtcp_envelope_add(&env, &rec) != 0)
			bad++;
	}
	frame = xtcp_envelope_take(&env, true, &len, &rows);
	vl = frame ? xtcp_varint_get(frame, len, &flen) : 0;
	ok(frame && rows == N && vl > 0 && (size_t)vl + flen == len, "%d records in one frame", N);
	if (frame && vl > 0) {
		xtcp_row_iter_init(&it, frame + vl, (size_t)flen);
		for (i = 0; xtcp_row_iter_next(&it, &row, &rl) > 0 && i < N; i++) {
			rec.record_counter = i + 1;
			rec.label = label + sizeof(label) - 1 - label_len[i];
			want = realloc(want, xtcp_record_encoded_max(&rec));
			if (!want)
				abort();
			n = xtcp_record_encode(&rec, want);
			if (rl != n || memcmp(row, want, n))
				bad++;
		}
	}
	ok(!bad && i == N, "each row is its record's encoding: labels of 0 to 70,000 bytes");
	xtcp_envelope_done(&env);
	xtcp_envelope_release(&env);
	free(want);
}

static void test_reader(void)
{
	struct xtcp_envelope env;
	struct xtcp_reader r;
	uint8_t stream[4096];
	const uint8_t *frame, *e;
	size_t len, slen = 0, elen, i, cut, b1;
	int fd, rc, got, bad;

	/* Three frames: 2 rows, 0 rows (empty envelope), 1 row. */
	xtcp_envelope_init(&env, 0, 0);
	xtcp_envelope_add_raw(&env, row_bytes, 20);
	xtcp_envelope_add_raw(&env, row_bytes, 30);
	frame = xtcp_envelope_take(&env, true, &len, NULL);
	memcpy(stream, frame, len);
	slen = len;
	b1 = len;
	xtcp_envelope_done(&env);
	stream[slen++] = 0;             /* an empty envelope */
	xtcp_envelope_add_raw(&env, row_bytes, 40);
	frame = xtcp_envelope_take(&env, true, &len, NULL);
	memcpy(stream + slen, frame, len);
	slen += len;
	xtcp_envelope_done(&env);
	xtcp_envelope_release(&env);

	fd = temp_input(stream, slen);
	xtcp_reader_init(&r, fd);
	got = 0;
	while ((rc = xtcp_reader_next(&r, &e, &elen)) > 0)
		got++;
	ok(rc == 0 && got == 3, "reader: 3 frames then a clean end");
	xtcp_reader_release(&r);
	close(fd);

	/* Every cut inside the stream but between frames is an error naming the frame. */
	bad = 0;
	for (cut = 1; cut < slen; cut++) {
		int boundary = cut == b1 || cut == b1 + 1;   /* after frame 1 and frame 2 */

		fd = temp_input(stream, cut);
		xtcp_reader_init(&r, fd);
		got = 0;
		while ((rc = xtcp_reader_next(&r, &e, &elen)) > 0)
			got++;
		if (boundary ? rc != 0 : (rc != -1 || errno != EBADMSG || !strstr(r.err, "frame ")))
			bad++;
		xtcp_reader_release(&r);
		close(fd);
	}
	ok(!bad, "reader: every truncation is a clean end at a frame boundary or an error");

	/* Truncated third frame: the first two are still delivered. */
	fd = temp_input(stream, slen - 3);
	xtcp_reader_init(&r, fd);
	got = 0;
	while ((rc = xtcp_reader_next(&r, &e, &elen)) > 0)
		got++;
	ok(rc == -1 && got == 2 && r.frame_no == 3 && r.frame_offset == b1 + 1,
	   "reader: frames before a truncated one are delivered; error names frame 3 at byte %zu (%s)",
	   b1 + 1, r.err);
	xtcp_reader_release(&r);
	close(fd);

	/* Oversized length. */
	{
		uint8_t big[16];
		size_t n = xtcp_varint_put(big, (uint64_t)XTCP_FRAME_MAX + 1);

		fd = temp_input(big, n);
		xtcp_reader_init(&r, fd);
		rc = xtcp_reader_next(&r, &e, &elen);
		ok(rc == -1 && strstr(r.err, "exceeds"), "reader: a frame over 64 MiB is refused (%s)",
		   r.err);
		xtcp_reader_release(&r);
		close(fd);
	}

	/* Garbage bytes: a length that fits but an envelope that does not parse. */
	{
		static const uint8_t garbage[] = { 4, 0x52, 0x7f, 0x01, 0x02 };

		fd = temp_input(garbage, sizeof(garbage));
		xtcp_reader_init(&r, fd);
		rc = xtcp_reader_next(&r, &e, &elen);
		ok(rc == -1 && strstr(r.err, "malformed"), "reader: malformed envelope (%s)", r.err);
		xtcp_reader_release(&r);
		close(fd);
	}

	/* A large frame (bigger than the initial buffer) is read whole. */
	{
		size_t big = 300000;
		uint8_t *s = malloc(big + 16);
		size_t n = xtcp_varint_put(s, big - 4), k;

		k = n;
		s[k++] = 0x52;
		k += xtcp_varint_put(s + k, big - 4 - 1 - xtcp_varint_len(big - 4 - 1 - 3));
		memset(s + k, 0, n + big - 4 - k);
		fd = temp_input(s, n + big - 4);
		xtcp_reader_init(&r, fd);
		rc = xtcp_reader_next(&r, &e, &elen);
		ok(rc == 1 && elen == big - 4, "reader: a %zu-byte frame is read whole", big - 4);
		xtcp_reader_release(&r);
		close(fd);
		free(s);
	}
	(void)i;
}

/* Read every frame of @data: the number of frames and rows, or -1 with @r's error kept in @err. */
static int read_all(const uint8_t *data, size_t len, bool delimited, size_t *frames, size_t *rows,
		    char *err, size_t err_size)
{
	struct xtcp_reader r;
	struct xtcp_row_iter it;
	const uint8_t *e, *row;
	size_t elen, row_len;
	int fd = temp_input(data, len), rc;

	*frames = *rows = 0;
	if (delimited)
		xtcp_reader_init_delimited(&r, fd);
	else
		xtcp_reader_init(&r, fd);
	while ((rc = xtcp_reader_next(&r, &e, &elen)) > 0) {
		(*frames)++;
		if (delimited) {
			(*rows)++;
			continue;
		}
		xtcp_row_iter_init(&it, e, elen);
		while (xtcp_row_iter_next(&it, &row, &row_len) > 0)
			(*rows)++;
	}
	snprintf(err, err_size, "%s", rc < 0 ? r.err : "");
	xtcp_reader_release(&r);
	close(fd);
	return rc;
}

static void test_clickhouse_rows(void)
{
	/* rows: 08 01 (schema_version 1) and 08 02, in field 1, field 10, and both */
	static const uint8_t field1[] = { 8, 0x0a, 2, 0x08, 0x01, 0x0a, 2, 0x08, 0x02 };
	static const uint8_t mixed[] = { 8, 0x52, 2, 0x08, 0x01, 0x0a, 2, 0x08, 0x02 };
	/* field 1 as a varint and field 5 (length-delimited) around a field-1 row */
	static const uint8_t skipped[] = { 9, 0x08, 0x07, 0x0a, 2, 0x08, 0x01, 0x2a, 1, 0x41 };
	/* field 5 only: bytes, no row */
	static const uint8_t no_row[] = { 0, 3, 0x2a, 1, 0x41 };
	/* field 1 as a varint only */
	static const uint8_t varint1[] = { 2, 0x08, 0x05 };
	struct xtcp_row_iter it;
	const uint8_t *row;
	size_t frames, rows, len;
	char err[256];
	int rc;

	xtcp_row_iter_init(&it, field1 + 1, sizeof(field1) - 1);
	ok(xtcp_row_iter_next(&it, &row, &len) == 1 && len == 2 && row[1] == 1 &&
	   xtcp_row_iter_next(&it, &row, &len) == 1 && len == 2 && row[1] == 2 &&
	   xtcp_row_iter_next(&it, &row, &len) == 0 && it.rows == 2 && !it.other,
	   "row iter: rows in field 1, as ClickHouse writes ProtobufList, in order");
	xtcp_row_iter_init(&it, mixed + 1, sizeof(mixed) - 1);
	ok(xtcp_row_iter_next(&it, &row, &len) == 1 && row[1] == 1 &&
	   xtcp_row_iter_next(&it, &row, &len) == 1 && row[1] == 2 &&
	   xtcp_row_iter_next(&it, &row, &len) == 0, "row iter: fields 10 and 1 in one envelope");
	xtcp_row_iter_init(&it, skipped + 1, sizeof(skipped) - 1);
	ok(xtcp_row_iter_next(&it, &row, &len) == 1 && row[1] == 1 &&
	   xtcp_row_iter_next(&it, &row, &len) == 0 && it.rows == 1 && it.other == skipped + 1 &&
	   it.other_number == 1 && it.other_type == XTCP_WIRE_VARINT,
	   "row iter: a varint field 1 and other fields are skipped, the first is noted");

	rc = read_all(field1, sizeof(field1), false, &frames, &rows, err, sizeof(err));
	ok(rc == 0 && frames == 1 && rows == 2, "reader: a field-1 envelope gives its 2 rows");
	rc = read_all(skipped, sizeof(skipped), false, &frames, &rows, err, sizeof(err));
	ok(rc == 0 && frames == 1 && rows == 1, "reader: unknown fields beside a row are skipped");

	{
		uint8_t s[64];
		size_t n = 0;

		memcpy(s + n, field1, sizeof(field1));
		n += sizeof(field1);
		memcpy(s + n, no_row, sizeof(no_row));   /* frame 2 empty, frame 3 no row */
		n += sizeof(no_row);
		rc = read_all(s, n, false, &frames, &rows, err, sizeof(err));
		ok(rc == -1 && errno == EBADMSG && frames == 2 && rows == 2 &&
		   strstr(err, "frame 3 at byte 10: 3 bytes and no row: field 5 (length-delimited) "
			  "at frame byte 0") == err,
		   "reader: a frame of bytes and no row is an error naming frame and byte, after "
		   "the frames before it (%s)", err);
	}
	rc = read_all(varint1, sizeof(varint1), false, &frames, &rows, err, sizeof(err));
	ok(rc == -1 && frames == 0 && strstr(err, "field 1 (a varint)"),
	   "reader: a varint field 1 is no row (%s)", err);
	rc = read_all(no_row, 1, false, &frames, &rows, err, sizeof(err));
	ok(rc == 0 && frames == 1 && rows == 0, "reader: an empty frame is still an envelope of no rows");
}

static void test_delimited(void)
{
	/* rows of 5, 0, 129 and 3 bytes: daemon_version (field 2) of 3, -, 127 and 1 bytes */
	static const size_t lens[] = { 5, 0, 129, 3 };
	struct xtcp_output out;
	char path[] = "/tmp/t-stream.XXXXXX", err[256];
	uint8_t rec[200], file[1024];
	size_t frames, rows, i, cut, bad = 0;
	ssize_t n;
	int fd, rc;

	fd = mkstemp(path);
	unlink(path);
	xtcp_output_init(&out, fd, 16);
	for (i = 0; i < 4; i++) {
		if (lens[i]) {
			rec[0] = 0x12;
			rec[1] = (uint8_t)(lens[i] - 2);
			memset(rec + 2, 'a', lens[i] - 2);
		}
		xtcp_output_write_delimited(&out, rec, lens[i]);
	}
	ok(xtcp_output_flush(&out) == 0, "delimited: four rows written");
	xtcp_output_release(&out);
	n = pread(fd, file, sizeof(file), 0);
	close(fd);
	ok(n == 1 + 5 + 1 + 0 + 2 + 129 + 1 + 3 && file[0] == 5 && file[1] == 0x12 && file[6] == 0 &&
	   file[7] == 0x81 && file[8] == 1 && file[9] == 0x12 && file[138] == 3,
	   "delimited: uvarint(len) || row, the rows as they are");

	rc = read_all(file, (size_t)n, true, &frames, &rows, err, sizeof(err));
	ok(rc == 0 && rows == 4, "delimited reader: 4 rows, the empty one too");
	for (cut = 1; cut < (size_t)n; cut++) {
		size_t whole = cut >= 138 ? 3 : cut >= 7 ? 2 : cut >= 6 ? 1 : 0;
		bool boundary = cut == 6 || cut == 7 || cut == 138;

		rc = read_all(file, cut, true, &frames, &rows, err, sizeof(err));
		if (rows != whole || (boundary ? rc != 0 : rc != -1 || strncmp(err, "row ", 4)))
			bad++;
	}
	ok(!bad, "delimited reader: a cut keeps every row before it and names the row");
	rc = read_all(file, 9 + 100, true, &frames, &rows, err, sizeof(err));
	ok(rc == -1 && rows == 2 &&
	   !strcmp(err, "row 3 at byte 7: input ends inside the row (100 of 129 bytes)"),
	   "delimited reader: the error names the row and its byte (%s)", err);

	{
		/* rows that are no message: a field 0, a length past the end */
		static const uint8_t zero[] = { 2, 0x00, 0x01 };
		static const uint8_t over[] = { 3, 0x08, 0x01, 0x12 };

		rc = read_all(zero, sizeof(zero), true, &frames, &rows, err, sizeof(err));
		ok(rc == -1 && rows == 0 && !strcmp(err, "row 1 at byte 0: malformed record at row byte 0"),
		   "delimited reader: a field 0 is malformed (%s)", err);
		rc = read_all(over, sizeof(over), true, &frames, &rows, err, sizeof(err));
		ok(rc == -1 && !strcmp(err, "row 1 at byte 0: malformed record at row byte 2"),
		   "delimited reader: a field cut short is malformed (%s)", err);
	}
}

static void test_output(void)
{
	struct xtcp_output out;
	int fds[2];
	char buf[16];

	if (pipe(fds) < 0)
		abort();
	xtcp_output_init(&out, fds[1], 8);
	ok(xtcp_output_write(&out, "abc", 3) == 0 && xtcp_output_write(&out, "defghijkl", 9) == 0 &&
	   xtcp_output_flush(&out) == 0, "output: buffered and direct writes");
	ok(read(fds[0], buf, sizeof(buf)) == 12 && !memcmp(buf, "abcdefghijkl", 12),
	   "output: bytes arrive in order");
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	ok(xtcp_output_write(&out, "x", 1) == 0 && xtcp_output_flush(&out) == -1 && errno == EPIPE,
	   "output: a closed pipe is EPIPE");
	ok(xtcp_output_write(&out, "y", 1) == -1 && errno == EPIPE, "output: the error is sticky");
	xtcp_output_release(&out);
	close(fds[1]);
}

/* A pipe at either end is grown to XTCP_PIPE_SIZE; a file is left as it is. */
static void test_pipe_size(void)
{
	struct xtcp_output out;
	struct xtcp_reader r;
	char path[] = "/tmp/t-stream-pipe.XXXXXX";
	int fds[2], fd;

	if (pipe(fds) < 0) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	ok(fcntl(fds[1], F_GETPIPE_SZ) < XTCP_PIPE_SIZE, "a new pipe holds less");
	ok(xtcp_output_init(&out, fds[1], 0) == 0, "output on a pipe");
	ok(fcntl(fds[1], F_GETPIPE_SZ) >= XTCP_PIPE_SIZE, "the writer grew it to %d bytes",
	   XTCP_PIPE_SIZE);
	xtcp_output_release(&out);
	close(fds[0]);
	close(fds[1]);
	if (pipe(fds) < 0)
		return;
	ok(xtcp_reader_init(&r, fds[0]) == 0 && fcntl(fds[0], F_GETPIPE_SZ) >= XTCP_PIPE_SIZE,
	   "the reader grows it too");
	xtcp_reader_release(&r);
	close(fds[0]);
	close(fds[1]);
	fd = mkstemp(path);
	ok(fd >= 0 && xtcp_output_init(&out, fd, 0) == 0 && fcntl(fd, F_GETPIPE_SZ) < 0,
	   "a file: no pipe to grow, output as before");
	xtcp_output_release(&out);
	close(fd);
	unlink(path);
}

int main(void)
{
	test_pipe_size();
	test_uvarint();
	test_envelope_caps();
	test_envelope_rewind();
	test_envelope_frame_max();
	test_envelope_records();
	test_reader();
	test_clickhouse_rows();
	test_delimited();
	test_output();
	return done_testing();
}
