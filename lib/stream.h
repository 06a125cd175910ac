#ifndef XTCP_STREAM_H
#define XTCP_STREAM_H

/*
 * The stream: frames `uvarint(len) || Envelope`, where Envelope is
 * `message Envelope { repeated XtcpFlatRecord row = 10; }`.
 *
 * This is ClickHouse's ProtobufList format and Go's protodelim: no magic, no
 * header.  A clean end of input is end-of-file between frames.
 *
 * Rows in field 1: what ClickHouse itself writes as FORMAT ProtobufList puts
 * every row in Envelope field 1, whatever number the schema gives the
 * field.  Readers take a length-delimited field 1 as a row as well as field
 * 10 (an Envelope may hold both; rows come in the order of the bytes).
 * Writers write field 10 only.  Any other field of an Envelope is skipped,
 * but a frame that holds bytes and not a single row is an error, never an
 * empty result: it is not an Envelope of this stream (ClickHouse's Protobuf
 * format, say, or another message).  An empty frame (length 0) is an
 * Envelope of no rows.
 *
 * Rows without envelopes: ClickHouse's Protobuf format (also what Java's
 * parseDelimitedFrom and Go's protodelim read as a sequence of
 * XtcpFlatRecord) is `uvarint(len) || XtcpFlatRecord` per row, any number of
 * rows.  xtcp_output_write_delimited() writes one such row;
 * xtcp_reader_init_delimited() reads them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "wire.h"

#define XTCP_FRAME_MAX (64u << 20)          /* largest frame a reader accepts */
#define XTCP_ENVELOPE_ROW_FIELD 10
#define XTCP_ENVELOPE_ROW_FIELD_CLICKHOUSE 1 /* rows as ClickHouse writes them, read only */
#define XTCP_ENVELOPE_ROW_TAG 0x52          /* XTCP_WIRE_KEY(10, XTCP_WIRE_LEN) */
#define XTCP_DEFAULT_ROWS 1000
#define XTCP_DEFAULT_BYTES (256u << 10)


/*
 * Envelope builder.  Rows are appended already encoded; the running size is
 * kept, so appending is O(1) in the envelope's size.  The builder reserves
 * room in front of the rows for the frame's length prefix, so taking the
 * frame copies nothing.
 *
 * Caps: a frame holds at most max_rows rows and at most max_bytes bytes of
 * Envelope, except that a single row larger than max_bytes is a frame of its
 * own.  When an append would break a cap, the rows before it form a complete
 * frame ("ready") and the new row waits to start the next one.
 */
struct xtcp_envelope {
	uint8_t *buf;
	size_t cap;
	size_t len;          /* bytes of buf in use, from buf[XTCP_ENVELOPE_HEAD] */
	size_t rows;         /* rows in the current frame */
	size_t ready_len;    /* > 0: the first ready_len bytes form a ready frame */
	size_t ready_rows;
	size_t taken_len;    /* what the last xtcp_envelope_take handed out */
	size_t taken_rows;
	size_t max_rows;
	size_t max_bytes;
	uint64_t total_rows; /* rows appended since init */
	uint64_t frames_done; /* frames taken and dropped (xtcp_envelope_done) */
	unsigned row_vl;     /* bytes of the last row's length: where the next is encoded */
};

/* A point in an envelope's rows to come back to (xtcp_envelope_rewind). */
struct xtcp_envelope_mark {
	size_t len;
	size_t rows;
	uint64_t total_rows;
	uint64_t frames_done;
};

#define XTCP_ENVELOPE_HEAD 10

/*
 * 0 for max_rows means no cap on rows; 0 for max_bytes (or anything above
 * XTCP_FRAME_MAX) means XTCP_FRAME_MAX, the most a reader takes.  Returns 0
 * or -1 (ENOMEM).
 */
int xtcp_envelope_init(struct xtcp_envelope *env, size_t max_rows, size_t max_bytes);
void xtcp_envelope_release(struct xtcp_envelope *env);

/*
 * Append one record (encoded with xtcp_record_encode) or one already encoded
 * row.  Returns 1 when a frame is ready and must be taken
 * (xtcp_envelope_take) before the next append, 0 otherwise, -1 with errno
 * ENOMEM, or EFBIG when the row alone would make a frame over
 * XTCP_FRAME_MAX (nothing is appended).
 */
int xtcp_envelope_add(struct xtcp_envelope *env, const XtcpFlatRecord__V1__XtcpFlatRecord *rec);
int xtcp_envelope_add_raw(struct xtcp_envelope *env, const uint8_t *row, size_t len);

/*
 * The frame to write: the ready frame if there is one, else (when @flush)
 * every row appended so far.  Returns a pointer to `uvarint(len) || Envelope`
 * and sets *len, or NULL when there is nothing to take.  The bytes are valid
 * until the next call on @env; xtcp_envelope_done() then drops them.
 */
const uint8_t *xtcp_envelope_take(struct xtcp_envelope *env, bool flush, size_t *len, size_t *rows);
void xtcp_envelope_done(struct xtcp_envelope *env);

/*
 * Taking back rows: xtcp_envelope_mark() notes where the envelope is;
 * xtcp_envelope_rewind() drops every row appended since, as if they never
 * were (a dump the kernel interrupted, asked again).  Returns 0, or -1 with
 * errno EBUSY when that is no longer possible: since the mark a frame was
 * completed (ready) or taken, so some of those rows are out of our hands.
 */
void xtcp_envelope_mark(const struct xtcp_envelope *env, struct xtcp_envelope_mark *mark);
int xtcp_envelope_rewind(struct xtcp_envelope *env, const struct xtcp_envelope_mark *mark);

/*
 * Iterating the rows of one Envelope's bytes (the frame without its length
 * prefix): its length-delimited fields 10 and 1, in order.  Other fields
 * are skipped; @other then points at the first of them (NULL while there is
 * none), so that a caller can tell an Envelope of no rows from bytes that
 * are no Envelope.  Returns 1 with *row and *len set, 0 at the end, -1
 * (EBADMSG) when malformed (@p is then where).
 */
struct xtcp_row_iter {
	const uint8_t *p;
	const uint8_t *end;
	size_t rows;                  /* rows returned so far */
	const uint8_t *other;         /* the first field that is not a row, or NULL */
	uint32_t other_number;        /* its number and wire type */
	unsigned other_type;
};
void xtcp_row_iter_init(struct xtcp_row_iter *it, const uint8_t *envelope, size_t len);
int xtcp_row_iter_next(struct xtcp_row_iter *it, const uint8_t **row, size_t *len);

/*
 * Frame reader over a file descriptor, with its own buffer.
 * xtcp_reader_next() returns 1 with *envelope and *len set to one frame's
 * Envelope bytes (valid until the next call), 0 at a clean end of input, -1
 * on error with errno set (EBADMSG: truncated frame, oversized length, a
 * malformed Envelope, or a frame of bytes without a row; EIO etc. from read)
 * and @r->err holding "frame N at byte OFF: why".  The rows of a frame are
 * checked (xtcp_row_iter) before the frame is returned, so a returned frame
 * is always well formed, and holds a row unless it is empty.
 *
 * The same reader takes ClickHouse's Protobuf format when made with
 * xtcp_reader_init_delimited(): xtcp_reader_next() then returns one row (an
 * XtcpFlatRecord's bytes, checked to be a well-formed protobuf message, not
 * decoded) at a time; frame_no and frame_offset are the row's number and
 * offset, and the errors say "row N at byte OFF: why".
 */
struct xtcp_reader {
	int fd;
	bool delimited;      /* rows of ClickHouse's Protobuf format, not frames */
	uint8_t *buf;
	size_t cap;
	size_t start;        /* unread data: buf[start..end) */
	size_t end;
	bool eof;
	uint64_t frame_no;   /* 1-based number of the frame (or row) last returned */
	uint64_t offset;     /* input offset of buf[start] */
	uint64_t frame_offset;
	size_t consumed;     /* length of the frame last returned, dropped on the next call */
	char err[200];
};

int xtcp_reader_init(struct xtcp_reader *r, int fd);
int xtcp_reader_init_delimited(struct xtcp_reader *r, int fd);
void xtcp_reader_release(struct xtcp_reader *r);
int xtcp_reader_next(struct xtcp_reader *r, const uint8_t **envelope, size_t *len);

/*
 * True when xtcp_reader_next() would have to read more input before it can
 * return (the next frame is not whole in the buffer and the input has not
 * ended): a caller can flush what it holds before it waits.
 */
bool xtcp_reader_would_block(const struct xtcp_reader *r);

/*
 * Buffered binary output to a file descriptor.  Writes retry EINTR and short
 * counts.  Errors (EPIPE when the reader went away, ENOSPC, ...) are sticky:
 * xtcp_output_write returns -1 with errno set and so does every later call.
 */
struct xtcp_output {
	int fd;
	uint8_t *buf;
	size_t cap;
	size_t len;
	int error;           /* errno of the first failure, else 0 */
};

/* What a pipe at either end is grown to (see grow_pipe in stream.c). */
#define XTCP_PIPE_SIZE (1 << 20)

int xtcp_output_init(struct xtcp_output *out, int fd, size_t cap);
int xtcp_output_write(struct xtcp_output *out, const void *data, size_t len);
int xtcp_output_flush(struct xtcp_output *out);
void xtcp_output_release(struct xtcp_output *out);

/*
 * One row of ClickHouse's Protobuf format: `uvarint(len) || row`, @row being
 * an XtcpFlatRecord's bytes (as xtcp_row_iter gives them), copied as they
 * are.  Returns as xtcp_output_write.
 */
int xtcp_output_write_delimited(struct xtcp_output *out, const uint8_t *row, size_t len);

/*
 * An empty frame (one byte, uvarint 0: an Envelope of no rows).  A run that
 * succeeded with nothing to report writes one, so that a reader can tell
 * it from the empty output of a writer that failed (see xtcp(7)).  Returns
 * as xtcp_output_write.
 */
int xtcp_output_write_empty_frame(struct xtcp_output *out);

/* Full-write helper used by the above: retries EINTR and short writes. */
int xtcp_write_all(int fd, const void *data, size_t len);

#endif
