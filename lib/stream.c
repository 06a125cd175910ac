#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"

/* --- envelope ----------------------------------------------------------- */

static int envelope_reserve(struct xtcp_envelope *env, size_t extra)
{
	return XTCP_ALLOC_GROW(env->buf, XTCP_ENVELOPE_HEAD + env->len + extra, env->cap);
}

int xtcp_envelope_init(struct xtcp_envelope *env, size_t max_rows, size_t max_bytes)
{
	memset(env, 0, sizeof(*env));
	env->row_vl = 2;        /* what rows of 128 bytes to 16 KiB take */
	env->max_rows = max_rows;
	/* "no cap" is still the readers' limit: never a frame they refuse */
	env->max_bytes = max_bytes && max_bytes < XTCP_FRAME_MAX ? max_bytes : XTCP_FRAME_MAX;
	return envelope_reserve(env, max_bytes && max_bytes < (1u << 20) ? max_bytes + 4096 : 1u << 16);
}

void xtcp_envelope_release(struct xtcp_envelope *env)
{
	free(env->buf);
	memset(env, 0, sizeof(*env));
}

static bool envelope_full(const struct xtcp_envelope *env, size_t rows, size_t len)
{
	return (env->max_rows && rows >= env->max_rows) || (env->max_bytes && len >= env->max_bytes);
}

/* Account for one row of @rowlen bytes just written at the end of the buffer. */
static int envelope_commit(struct xtcp_envelope *env, size_t rowlen)
{
	size_t pending = env->rows - env->ready_rows;
	size_t pending_len = env->len - env->ready_len;

	if (pending > 0 && ((env->max_rows && pending + 1 > env->max_rows) ||
			    (env->max_bytes && pending_len + rowlen > env->max_bytes))) {
		env->ready_len = env->len;
		env->ready_rows = env->rows;
	}
	env->len += rowlen;
	env->rows++;
	env->total_rows++;
	if (!env->ready_len && envelope_full(env, env->rows, env->len)) {
		env->ready_len = env->len;
		env->ready_rows = env->rows;
	}
	return env->ready_len ? 1 : 0;
}

int xtcp_envelope_add(struct xtcp_envelope *env, const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	uint8_t *row;
	size_t n, vl;

	if (env->ready_len) {
		errno = EBUSY;
		return -1;
	}
	/*
	 * Encode after room for as many length bytes as the last row had
	 * (rows of a dump are alike: 128 bytes to 16 KiB, 2), and move the
	 * row only when this one's length takes another number of bytes.
	 * The room given to the encoder leaves the longest length and the
	 * tag either way.  It is mostly enough at once: the fixed part and
	 * a few KiB of strings, checked as they are written; a record with
	 * more is encoded again once its bound is reserved.
	 */
	if (envelope_reserve(env, 1 + 10 + xtcp_record_fixed_max + 4096) < 0)
		return -1;
	row = env->buf + XTCP_ENVELOPE_HEAD + env->len;
	n = xtcp_record_encode_in(rec, row + 1 + env->row_vl,
				  env->cap - XTCP_ENVELOPE_HEAD - env->len - 1 - 10);
	if (n == SIZE_MAX) {
		if (envelope_reserve(env, 1 + 10 + xtcp_record_encoded_max(rec)) < 0)
			return -1;
		row = env->buf + XTCP_ENVELOPE_HEAD + env->len;
		n = xtcp_record_encode(rec, row + 1 + env->row_vl);
	}
	vl = xtcp_varint_len(n);
	if (1 + vl + n > XTCP_FRAME_MAX) {
		errno = EFBIG;          /* no reader would take the frame */
		return -1;
	}
	if (vl != env->row_vl) {
		memmove(row + 1 + vl, row + 1 + env->row_vl, n);
		env->row_vl = (unsigned)vl;
	}
	row[0] = XTCP_ENVELOPE_ROW_TAG;
	xtcp_varint_put(row + 1, n);
	return envelope_commit(env, 1 + vl + n);
}

int xtcp_envelope_add_raw(struct xtcp_envelope *env, const uint8_t *data, size_t len)
{
	uint8_t *row;
	size_t vl;

	if (env->ready_len) {
		errno = EBUSY;
		return -1;
	}
	if (len > XTCP_FRAME_MAX - 1 - xtcp_varint_len(len)) {
		errno = EFBIG;
		return -1;
	}
	if (envelope_reserve(env, 1 + 10 + len) < 0)
		return -1;
	row = env->buf + XTCP_ENVELOPE_HEAD + env->len;
	row[0] = XTCP_ENVELOPE_ROW_TAG;
	vl = xtcp_varint_put(row + 1, len);
	memcpy(row + 1 + vl, data, len);
	return envelope_commit(env, 1 + vl + len);
}

const uint8_t *xtcp_envelope_take(struct xtcp_envelope *env, bool flush, size_t *len, size_t *rows)
{
	size_t body, vl;
	uint8_t *start;

	if (env->ready_len) {
		body = env->ready_len;
		env->taken_rows = env->ready_rows;
	} else if (flush && env->rows) {
		body = env->len;
		env->taken_rows = env->rows;
	} else {
		env->taken_len = env->taken_rows = 0;
		return NULL;
	}
	env->taken_len = body;
	vl = xtcp_varint_len(body);
	start = env->buf + XTCP_ENVELOPE_HEAD - vl;
	xtcp_varint_put(start, body);
	*len = vl + body;
	if (rows)
		*rows = env->taken_rows;
	return start;
}

void xtcp_envelope_done(struct xtcp_envelope *env)
{
	uint8_t *rows = env->buf + XTCP_ENVELOPE_HEAD;

	if (!env->taken_len)
		return;
	memmove(rows, rows + env->taken_len, env->len - env->taken_len);
	env->len -= env->taken_len;
	env->rows -= env->taken_rows;
	env->taken_len = env->taken_rows = 0;
	env->ready_len = env->ready_rows = 0;
	env->frames_done++;
	if (env->rows && envelope_full(env, env->rows, env->len)) {
		env->ready_len = env->len;
		env->ready_rows = env->rows;
	}
}

void xtcp_envelope_mark(const struct xtcp_envelope *env, struct xtcp_envelope_mark *mark)
{
	mark->len = env->len;
	mark->rows = env->rows;
	mark->total_rows = env->total_rows;
	mark->frames_done = env->frames_done;
}

int xtcp_envelope_rewind(struct xtcp_envelope *env, const struct xtcp_envelope_mark *mark)
{
	if (env->frames_done != mark->frames_done || env->ready_len || env->len < mark->len) {
		errno = EBUSY;
		return -1;
	}
	env->len = mark->len;
	env->rows = mark->rows;
	env->total_rows = mark->total_rows;
	return 0;
}

/* --- rows of an envelope ----------------------------------------------- */

void xtcp_row_iter_init(struct xtcp_row_iter *it, const uint8_t *envelope, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->p = envelope;
	it->end = envelope + len;
}

static bool is_row(const struct xtcp_wire_field *f)
{
	return f->type == XTCP_WIRE_LEN && (f->number == XTCP_ENVELOPE_ROW_FIELD ||
					    f->number == XTCP_ENVELOPE_ROW_FIELD_CLICKHOUSE);
}

int xtcp_row_iter_next(struct xtcp_row_iter *it, const uint8_t **row, size_t *len)
{
	struct xtcp_wire_reader r = { it->p, it->end };
	struct xtcp_wire_field f;
	int rc;

	while ((rc = xtcp_wire_next(&r, &f)) > 0) {
		if (f.number == 0)
			break;          /* an Envelope field needs a number */
		it->p = r.p;
		if (is_row(&f)) {
			*row = f.data;
			*len = f.len;
			it->rows++;
			return 1;
		}
		if (!it->other) {
			it->other = f.at;
			it->other_number = f.number;
			it->other_type = f.type;
		}
	}
	if (rc == 0)
		return 0;
	it->p = f.at;
	errno = EBADMSG;
	return -1;
}

/*
 * A pipe between two xtcp tools holds 64 KiB by default: a writer of 256
 * KiB blocks, and wakes its reader, four times per write.  Either end asks
 * for XTCP_PIPE_SIZE (it is one buffer); a kernel that refuses (above
 * /proc/sys/fs/pipe-max-size, or a user over their pipe quota) keeps what
 * it has, which only costs the switches.  Anything but a pipe is left alone.
 */
static void grow_pipe(int fd)
{
	int size = fcntl(fd, F_GETPIPE_SZ);       /* -1 (EBADF) for anything but a pipe */

	if (size >= 0 && size < XTCP_PIPE_SIZE)
		(void)fcntl(fd, F_SETPIPE_SZ, XTCP_PIPE_SIZE);
}

/* --- reader ------------------------------------------------------------- */

int xtcp_reader_init(struct xtcp_reader *r, int fd)
{
	grow_pipe(fd);
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = 1u << 16;
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -1;
}

int xtcp_reader_init_delimited(struct xtcp_reader *r, int fd)
{
	if (xtcp_reader_init(r, fd) < 0)
		return -1;
	r->delimited = true;
	return 0;
}

void xtcp_reader_release(struct xtcp_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read more input so that at least @want bytes are buffered; fewer at EOF. */
static int reader_fill(struct xtcp_reader *r, size_t want)
{
	ssize_t n;

	if (r->start > 0 && (r->cap - r->start < want || r->start == r->end)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (want > r->cap - r->start && XTCP_ALLOC_GROW(r->buf, r->start + want, r->cap) < 0)
		return -1;
	while (!r->eof && r->end - r->start < want) {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int reader_error(struct xtcp_reader *r, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "%s %" PRIu64 " at byte %" PRIu64 ": ",
		     r->delimited ? "row" : "frame", r->frame_no, r->frame_offset);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(r->err))
		vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

static const char *wire_type_name(unsigned type)
{
	static const char *const names[] = {
		[XTCP_WIRE_VARINT] = "a varint",
		[XTCP_WIRE_I64] = "fixed 64 bits",
		[XTCP_WIRE_LEN] = "length-delimited",
		[XTCP_WIRE_I32] = "fixed 32 bits",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "?";
}

/* The checks of a frame's Envelope before it is handed out. */
static int check_envelope(struct xtcp_reader *r, const uint8_t *envelope, size_t len)
{
	struct xtcp_row_iter it;
	const uint8_t *row;
	size_t row_len;
	int rc;

	xtcp_row_iter_init(&it, envelope, len);
	while ((rc = xtcp_row_iter_next(&it, &row, &row_len)) > 0)
		;
	if (rc < 0)
		return reader_error(r, EBADMSG, "malformed envelope at frame byte %zu",
				    (size_t)(it.p - envelope));
	if (!it.rows && it.other)
		return reader_error(r, EBADMSG, "%zu bytes and no row: field %" PRIu32 " (%s) at "
				    "frame byte %zu is not a row of an Envelope (field 10, or 1)",
				    len, it.other_number, wire_type_name(it.other_type),
				    (size_t)(it.other - envelope));
	return 0;
}

/* A row of ClickHouse's Protobuf format: a well-formed message, field numbers above 0. */
static int check_row(struct xtcp_reader *r, const uint8_t *row, size_t len)
{
	struct xtcp_wire_reader w;
	struct xtcp_wire_field f;
	int rc;

	xtcp_wire_reader_init(&w, row, len);
	while ((rc = xtcp_wire_next(&w, &f)) > 0 && f.number > 0)
		;
	if (rc != 0)
		return reader_error(r, EBADMSG, "malformed record at row byte %zu",
				    (size_t)(f.at - row));
	return 0;
}

int xtcp_reader_next(struct xtcp_reader *r, const uint8_t **envelope, size_t *len)
{
	const char *unit = r->delimited ? "row" : "frame";
	uint64_t flen;
	int n;

	r->start += r->consumed;
	r->offset += r->consumed;
	r->consumed = 0;
	if (reader_fill(r, 10) < 0)
		return -1;
	if (r->start == r->end)
		return 0;
	r->frame_no++;
	r->frame_offset = r->offset;
	n = xtcp_varint_get(r->buf + r->start, r->end - r->start, &flen);
	if (n < 0)
		return reader_error(r, EBADMSG, "%s length is not a varint", unit);
	if (n == 0)
		return reader_error(r, EBADMSG, "input ends inside the %s length", unit);
	if (flen > XTCP_FRAME_MAX)
		return reader_error(r, EBADMSG, "%s length %" PRIu64 " exceeds the maximum of %u",
				    unit, flen, XTCP_FRAME_MAX);
	if (reader_fill(r, (size_t)n + flen) < 0)
		return -1;
	if (r->end - r->start < (size_t)n + flen)
		return reader_error(r, EBADMSG, "input ends inside the %s (%zu of %" PRIu64 " bytes)",
				    unit, r->end - r->start - (size_t)n, flen);
	*envelope = r->buf + r->start + n;
	*len = (size_t)flen;
	if ((r->delimited ? check_row : check_envelope)(r, *envelope, *len) < 0)
		return -1;
	r->consumed = (size_t)n + (size_t)flen;
	return 1;
}

bool xtcp_reader_would_block(const struct xtcp_reader *r)
{
	size_t start = r->start + r->consumed, avail = r->end - start;
	uint64_t flen;
	int n;

	if (r->eof)
		return false;
	n = xtcp_varint_get(r->buf + start, avail, &flen);
	return n == 0 || (n > 0 && avail - (size_t)n < flen);
}

/* --- output ------------------------------------------------------------- */

int xtcp_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			/* git's write_in_full: a write that takes nothing would loop forever */
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int xtcp_output_init(struct xtcp_output *out, int fd, size_t cap)
{
	grow_pipe(fd);
	memset(out, 0, sizeof(*out));
	out->fd = fd;
	out->cap = cap ? cap : 1u << 16;
	out->buf = malloc(out->cap);
	return out->buf ? 0 : -1;
}

int xtcp_output_flush(struct xtcp_output *out)
{
	if (out->error) {
		errno = out->error;
		return -1;
	}
	if (out->len && xtcp_write_all(out->fd, out->buf, out->len) < 0) {
		out->error = errno;
		return -1;
	}
	out->len = 0;
	return 0;
}

int xtcp_output_write(struct xtcp_output *out, const void *data, size_t len)
{
	if (out->error) {
		errno = out->error;
		return -1;
	}
	if (out->len + len > out->cap) {
		if (xtcp_output_flush(out) < 0)
			return -1;
		if (len >= out->cap) {
			if (xtcp_write_all(out->fd, data, len) < 0) {
				out->error = errno;
				return -1;
			}
			return 0;
		}
	}
	memcpy(out->buf + out->len, data, len);
	out->len += len;
	return 0;
}

int xtcp_output_write_delimited(struct xtcp_output *out, const uint8_t *row, size_t len)
{
	uint8_t prefix[XTCP_VARINT_MAX];

	if (xtcp_output_write(out, prefix, xtcp_varint_put(prefix, len)) < 0)
		return -1;
	return xtcp_output_write(out, row, len);
}

int xtcp_output_write_empty_frame(struct xtcp_output *out)
{
	static const uint8_t empty;

	return xtcp_output_write(out, &empty, 1);
}

void xtcp_output_release(struct xtcp_output *out)
{
	free(out->buf);
	out->buf = NULL;
}
