/* Unit tests for lib/stream.c: varints, envelope caps, frame reader errors, output. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(void)
{
	test_uvarint();
	test_envelope_caps();
	test_envelope_rewind();
	test_reader();
	test_output();
	return done_testing();
}
