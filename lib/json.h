#ifndef XTCP_JSON_H
#define XTCP_JSON_H

/*
 * Reading records back from JSON lines (jansson), the inverse of
 * lib/format.c's JSON writer: what xtcp_format_record() writes, this reads
 * into an equal record (strings that were not valid UTF-8 aside: the writer
 * replaced those bytes by U+FFFD).
 *
 * One JSON object per line.  Keys are schema field names; a key that is not a
 * field is an error, a field that is missing is zero.  Values:
 *   - integers as JSON integers or as strings of decimal digits (the writer
 *     uses strings above 2^53; jansson holds no integer above 2^63-1, so
 *     larger uint64 values must be strings), range-checked for the field;
 *   - inet_diag_msg_state, tcp_info_state: a state name as the writer uses
 *     ("ESTABLISHED", any case) or an integer;
 *   - inet_diag_msg_family: an integer, or "AF_INET" / "AF_INET6";
 *   - enums: the value's name ("CONGESTION_ALGORITHM_CUBIC"), the name
 *     without the common prefix ("cubic"), any case, or an integer;
 *   - strings: JSON strings (no \u0000: a record's strings cannot hold NUL);
 *   - address fields: "" (empty), IPv4 text (4 bytes + 12 zero bytes), IPv6
 *     text (16 bytes), or "0x" and hex digits for raw bytes; other bytes
 *     fields: "" or "0x" hex.
 * JSON null is not a value of any field.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/*
 * A decoder owns the memory that a decoded record's strings and bytes point
 * into, reused for each line: a record is valid until the next decode on the
 * same decoder, or its release.
 */
struct xtcp_json_decoder {
	uint8_t *arena;
	size_t arena_cap;
	char err[256];       /* why the last decode failed */
};

void xtcp_json_decoder_init(struct xtcp_json_decoder *dec);
void xtcp_json_decoder_release(struct xtcp_json_decoder *dec);

/*
 * Decode one JSON object (@text[0..len), no newline needed) into @rec (reset
 * first).  Returns 0, or -1 with errno EINVAL and @dec->err saying why
 * ("column 12: unexpected token near '}'", "unknown field 'rtt' (did you
 * mean 'tcp_info_rtt'?)", "field 'tcp_info_rtt': want an integer from 0 to
 * 4294967295, got -1"), or ENOMEM.
 */
int xtcp_json_decode(struct xtcp_json_decoder *dec, const char *text, size_t len,
		     XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * JSON lines from a file descriptor.  Lines holding only white space are
 * skipped; the last line needs no newline.  xtcp_json_reader_next() returns
 * 1 with *rec filled (valid until the next call), 0 at the end of input, -1
 * on error with errno set (EINVAL: a line that does not decode; EFBIG: a
 * line over XTCP_JSON_LINE_MAX; EIO etc. from read; ENOMEM) and @r->err
 * holding "line N: why" (for read errors, just the line number).
 */
#define XTCP_JSON_LINE_MAX (64u << 20)

struct xtcp_json_reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start;        /* unread data: buf[start..end) */
	size_t end;
	size_t scanned;      /* buf[start..scanned) holds no newline */
	bool eof;
	uint64_t line_no;    /* 1-based number of the line last read */
	struct xtcp_json_decoder dec;
	char err[300];
};

int xtcp_json_reader_init(struct xtcp_json_reader *r, int fd);
void xtcp_json_reader_release(struct xtcp_json_reader *r);
int xtcp_json_reader_next(struct xtcp_json_reader *r, XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * Whether the next xtcp_json_reader_next() may block in read(): no complete
 * line is buffered.  A caller writing to a pipe flushes its output first, so
 * whoever reads it is not kept waiting for input that has not come yet.
 */
bool xtcp_json_reader_would_read(const struct xtcp_json_reader *r);

#endif
