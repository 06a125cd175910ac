#ifndef XTCP_FORMAT_H
#define XTCP_FORMAT_H

/*
 * Rendering records as text: JSON lines, CSV, TSV, and a human table.
 *
 * A format is compiled once (xtcp_format_init) from a kind and a field list
 * into an array of field descriptors, then applied to each record by a direct
 * writer: no tree, no allocation, no printf per field.  Fields are found
 * through protobuf-c's descriptor of XtcpFlatRecord, so a field added to the
 * schema is rendered without touching this module.
 *
 * How values are written (the same rules in every kind; man/xtcp-fmt.1 is
 * the user's copy):
 *   - Every selected field is written for every record: a zero number is 0,
 *     an empty string is "" (JSON) or an empty cell (CSV, TSV).  proto3 cannot
 *     tell "unset" from zero, so neither does the output.
 *   - inet_diag_msg_state and tcp_info_state are TCP state names
 *     ("ESTABLISHED", "LISTEN", ...; 0 is "UNKNOWN"); a number the kernel
 *     has no name for stays a number.
 *   - Enums (congestion_algorithm_enum) are the value's full name from the
 *     schema ("CONGESTION_ALGORITHM_CUBIC"), or the number when the schema
 *     has no name for it (a newer writer).
 *   - inet_diag_msg_family is the number (2 = AF_INET, 10 = AF_INET6).
 *   - The two address fields are text, read according to the family:
 *     IPv4 dotted quad when the family is AF_INET and bytes 4..15 are zero,
 *     IPv6 in RFC 5952 form when it is AF_INET6 (IPv4-mapped addresses as
 *     ::ffff:1.2.3.4, RFC 5952 section 5, as inet_ntop does), "" when the
 *     field is empty; any other bytes are "0x" and lower-case hex.
 *   - In JSON, a 64-bit integer whose magnitude is above 2^53 (the largest
 *     that a double, and so JavaScript or jq 1.6, holds exactly) is written
 *     as a string of its decimal digits; smaller values are numbers.  CSV and
 *     TSV always write the digits.
 *   - Strings: bytes that are not valid UTF-8 become U+FFFD, one for each
 *     maximal invalid subsequence as Unicode (and Python's errors='replace')
 *     defines it.  JSON escapes '"', '\\' and control characters (\n \r \t
 *     \b \f, else \u00XX, DEL included; nothing else).  CSV quotes a cell
 *     holding ',', '"', CR or LF and doubles its quotes (RFC 4180; lines end
 *     in LF).  TSV writes '\\', TAB, LF and CR as \\ \t \n \r.  Text shows
 *     control characters as '?'.
 *   - Unknown fields of a record (from a newer writer) are not written.
 */

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "schema.h"
#include "stream.h"

enum xtcp_format_kind {
	XTCP_FORMAT_JSON,
	XTCP_FORMAT_CSV,
	XTCP_FORMAT_TSV,
	XTCP_FORMAT_TEXT,
};

/* The columns CSV and TSV write when no field list is given. */
#define XTCP_FORMAT_DEFAULT_FIELDS \
	"timestamp_ns,hostname,netns,inet_diag_msg_family,inet_diag_msg_state," \
	"inet_diag_msg_socket_source,inet_diag_msg_socket_source_port," \
	"inet_diag_msg_socket_destination,inet_diag_msg_socket_destination_port," \
	"inet_diag_msg_rqueue,inet_diag_msg_wqueue,inet_diag_msg_uid,inet_diag_msg_inode," \
	"tcp_info_rto,tcp_info_rtt,tcp_info_rtt_var,tcp_info_min_rtt,tcp_info_snd_mss," \
	"tcp_info_snd_cwnd,tcp_info_snd_ssthresh,tcp_info_retrans,tcp_info_total_retrans," \
	"tcp_info_lost,tcp_info_bytes_sent,tcp_info_bytes_acked,tcp_info_bytes_received," \
	"tcp_info_bytes_retrans,tcp_info_segs_out,tcp_info_segs_in,tcp_info_pacing_rate," \
	"tcp_info_delivery_rate,congestion_algorithm_string"

/* One compiled column.  Filled by xtcp_format_init; callers only read it. */
struct xtcp_format_field {
	const ProtobufCFieldDescriptor *desc;
	enum xtcp_value_kind value;
	unsigned width;         /* text: column width */
	const char *key;        /* JSON: ",\"name\":" (no comma on the first) */
	size_t key_len;
};

struct xtcp_format {
	enum xtcp_format_kind kind;
	bool header;                   /* CSV, TSV, text: write a header line */
	bool table;                    /* text without a field list: the socket table */
	struct xtcp_format_field *fields;
	size_t n_fields;
	size_t fixed_max;              /* bound of a line's bytes, strings and bytes aside */
	char *keys;                    /* storage for the JSON keys */
	const struct xtcp_format_field **var;  /* the fields of strings and bytes, */
	size_t n_var;                  /* which the bound has to look at */
};

/* "json", "csv", "tsv", "text" -> kind.  Returns 0, or -1 with errno EINVAL. */
int xtcp_format_kind_parse(const char *name, enum xtcp_format_kind *kind);

/*
 * Compile a format.  @fields is a comma-separated list of schema field names
 * (the order of the columns), "all" for every field in schema order, or NULL
 * for the default: every field for JSON, XTCP_FORMAT_DEFAULT_FIELDS for CSV
 * and TSV, the socket table for text (NETNS STATE LOCAL PEER RTT(ms) CWND
 * RETRANS SENT RECV CONG).  @header is whether CSV, TSV and text start with a
 * header line.
 *
 * Returns 0, or -1 with errno EINVAL (a name that is not a field, or an empty
 * name), EEXIST (a field listed twice), both with *bad and *bad_len pointing
 * at the name in @fields, or ENOMEM.  On failure nothing needs releasing.
 */
int xtcp_format_init(struct xtcp_format *fmt, enum xtcp_format_kind kind, const char *fields,
		     bool header, const char **bad, size_t *bad_len);
void xtcp_format_release(struct xtcp_format *fmt);

/*
 * Direct writers into a caller's buffer.  xtcp_format_record_max() bounds
 * what xtcp_format_record() writes for @rec (a constant plus the lengths of
 * its selected strings and bytes); xtcp_format_record() writes one line,
 * newline included, and returns its length.  The header is at most
 * xtcp_format_header_max() bytes; xtcp_format_header() returns 0 for formats
 * without one (JSON, or header false).
 */
size_t xtcp_format_record_max(const struct xtcp_format *fmt,
			      const XtcpFlatRecord__V1__XtcpFlatRecord *rec);
size_t xtcp_format_record(const struct xtcp_format *fmt,
			  const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out);
size_t xtcp_format_header_max(const struct xtcp_format *fmt);
size_t xtcp_format_header(const struct xtcp_format *fmt, char *out);

/*
 * The same into an xtcp_output's buffer (flushing it when the line would not
 * fit).  Return 0, or -1 with errno from the output (EPIPE, ENOSPC, ...) or
 * ENOMEM.
 */
int xtcp_format_write(const struct xtcp_format *fmt,
		      const XtcpFlatRecord__V1__XtcpFlatRecord *rec, struct xtcp_output *out);
int xtcp_format_write_header(const struct xtcp_format *fmt, struct xtcp_output *out);

/*
 * One field's value of @rec as @kind writes it: JSON the value after its key
 * (a string quoted and escaped), CSV and TSV the cell, text the column's
 * text without padding ("" for an empty string).  xtcp-stat shows a group's
 * keys with it, so they read as xtcp-fmt shows the same fields.
 * xtcp_format_value_max() bounds what xtcp_format_value() writes.
 */
size_t xtcp_format_value_max(const struct xtcp_field *f,
			     const XtcpFlatRecord__V1__XtcpFlatRecord *rec);
size_t xtcp_format_value(enum xtcp_format_kind kind, const struct xtcp_field *f,
			 const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out);

/*
 * The same as a label value of the Prometheus text format (without the
 * quotes): a string's bytes with \\, \" and \n escaped and invalid UTF-8
 * as U+FFFD; other kinds as text writes them.  Bounded by
 * xtcp_format_value_max().
 */
size_t xtcp_format_label_value(const struct xtcp_field *f,
			       const XtcpFlatRecord__V1__XtcpFlatRecord *rec, char *out);

/*
 * The text view between polls (struct xtcp_poll, lib/record.h: @poll
 * follows them, zeroed to start) writes a line of its own before the first
 * record of each poll after the first:
 *
 *	--- poll 2, 2026-01-01T00:00:10.000Z ---
 *
 * the poll's poll_sequence and its timestamp_ns in UTC to the millisecond
 * (either left out when 0).  A close record (record_kind
 * RECORD_KIND_CLOSE, xtcp-dump -E) begins no poll: it stays under the line of
 * the poll it follows, and the socket table marks its state "CLOSE (event)".
 * Other kinds write nothing.  Returns as xtcp_format_write().
 */
int xtcp_format_write_poll(const struct xtcp_format *fmt, struct xtcp_poll *poll,
			   const XtcpFlatRecord__V1__XtcpFlatRecord *rec, struct xtcp_output *out);

#endif
