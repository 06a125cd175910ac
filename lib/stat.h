#ifndef XTCP_STAT_H
#define XTCP_STAT_H

/*
 * Summaries of a stream, poll by poll (xtcp-stat): the records of each poll
 * are grouped by key fields, and for each group the count of records and,
 * for each chosen numeric field, its sum, smallest and largest value and
 * chosen quantiles, rendered as a table for people, JSON lines, CSV or the
 * Prometheus text exposition format.  man/xtcp-stat.1 is the user's copy of
 * these rules.
 *
 * Polls.  A poll is a run of consecutive records with the same
 * poll_sequence and record_kind; poll rows whose poll_sequence is 0
 * (writers that do not set it) are polls by timestamp_ns instead.
 * xtcp_stat_ends_poll() tells when a record starts the next one.  A poll's
 * timestamp is its first record's timestamp_ns.
 *
 * Close records (record_kind RECORD_KIND_CLOSE, xtcp-dump -E) are sockets
 * that ended between two polls, not sockets a poll found: the ones that
 * follow poll N (their poll_sequence is N) are summarised on their own,
 * after poll N's summary, as a "poll" of kind RECORD_KIND_CLOSE, whatever
 * their timestamps (each has the time it was read).  A socket seen by a
 * poll and then closed is in both, once each.  Without polls (xtcp-dump -E
 * alone: poll_sequence 0) every close record of the run is one summary.
 *
 * Values.  Every record has every field (proto3 cannot tell a field that is
 * unset from 0), so every group has `count` values of every field, zeros
 * included.  Sums are exact (128 bits).  Quantiles are R's type 7, the
 * linear interpolation of numpy's default and of Python's
 * statistics.quantiles(method='inclusive'): for the n values of a group in
 * ascending order x[0] .. x[n-1] and a quantile p = a / 10^k (at most
 * XTCP_STAT_QUANTILE_DIGITS decimals), h = (n - 1) * p, j = floor(h),
 * q = x[j] + (h - j) * (x[j+1] - x[j]), computed exactly (a rational of
 * denominator 10^k) and written as an exact decimal; one value is every
 * quantile of itself.  Numbers are written exactly: no floating point.
 *
 * Cost: a record costs O(1) amortised time and memory; a poll's values are
 * kept until it is summarised (8 bytes per record per field, 4 per record),
 * in arrays that are reused for the next poll, so a run allocates only when
 * a poll is larger than any before.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "schema.h"

#define XTCP_STAT_QUANTILE_DIGITS 6
#define XTCP_STAT_MAX_LIST 256          /* fields in --by, --fields; quantiles */

enum xtcp_stat_format {
	XTCP_STAT_TEXT,
	XTCP_STAT_JSON,
	XTCP_STAT_CSV,
	XTCP_STAT_OPENMETRICS,
};

/* "text", "json", "csv", "openmetrics" (or "prometheus") -> format.  Returns 0, or -1 (EINVAL). */
int xtcp_stat_format_parse(const char *name, enum xtcp_stat_format *format);

struct xtcp_stat_options {
	enum xtcp_stat_format format;
	const char *by;          /* comma-separated fields or aliases; "" for one group */
	const char *fields;      /* comma-separated numeric fields or aliases; "" for none */
	const char *quantiles;   /* comma-separated, each from 0 to 1; "" for none */
	size_t max_series;       /* groups a poll shows at most, the rest folded into one; 0: all */
	bool header;             /* csv and text: the header line */
};

/* Why options did not compile (xtcp_stat_new), and where: @at[0..len) in the list. */
enum xtcp_stat_problem {
	XTCP_STAT_UNKNOWN_FIELD = 1,    /* not a field name or alias */
	XTCP_STAT_EMPTY_NAME,           /* an empty item (",," or a trailing ",") */
	XTCP_STAT_TWICE,                /* the same field twice in one list, or a quantile twice */
	XTCP_STAT_NOT_NUMBER,           /* in fields: not a number (a string, state, address, ...) */
	XTCP_STAT_CANNOT_GROUP,         /* in by: a field of a type that cannot be a key */
	XTCP_STAT_RESERVED,             /* poll_sequence, timestamp_ns or record_kind by those
					   names: the summary's own columns (their aliases are
					   fine) */
	XTCP_STAT_BAD_QUANTILE,         /* not a decimal from 0 to 1 of at most 6 decimals */
	XTCP_STAT_TOO_MANY,             /* more than XTCP_STAT_MAX_LIST items */
};

struct xtcp_stat_error {
	enum xtcp_stat_problem problem;
	const char *option;      /* "by", "fields" or "quantiles" */
	const char *at;
	size_t len;
};

/*
 * Compile options.  Returns a summariser, or NULL with errno EINVAL and
 * @err filled, or ENOMEM.
 */
struct xtcp_stat *xtcp_stat_new(const struct xtcp_stat_options *opt, struct xtcp_stat_error *err);
void xtcp_stat_free(struct xtcp_stat *s);

/* Whether @rec starts another poll than the rows added since the last summary or reset. */
bool xtcp_stat_ends_poll(const struct xtcp_stat *s, const XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * Add one record to the current poll (the caller checks
 * xtcp_stat_ends_poll() first).  Returns 0, or -1 with errno ENOMEM, or
 * EOVERFLOW when a poll would pass 2^32 - 1 records.
 */
int xtcp_stat_add(struct xtcp_stat *s, const XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/* Records in the current poll. */
size_t xtcp_stat_rows(const struct xtcp_stat *s);

/* What a summary covered. */
struct xtcp_stat_poll {
	uint64_t poll_sequence;
	int64_t timestamp_ns;
	uint32_t record_kind;    /* XTCP_RECORD_KIND_POLL, or _CLOSE: the close records after a poll */
	uint64_t rows;
	size_t groups;           /* distinct keys in the poll */
	size_t folded;           /* of those, folded into the "other" group by max_series */
};

/*
 * Summarise the current poll and start the next (the rows are dropped, the
 * memory kept).  The text is in the summariser until the next summary:
 * *text, *len.  One poll in text, JSON or CSV; in OpenMetrics a whole
 * exposition (HELP and TYPE lines included: a poll of no records gives
 * them without samples).  With max_series N and more than N groups, the
 * N - 1 groups with the most records (on a tie, the first in key order) are
 * shown and the others summarised as one group of all their records.
 * Returns 0, or -1 with errno ENOMEM.
 */
int xtcp_stat_summarise(struct xtcp_stat *s, struct xtcp_stat_poll *poll, const char **text,
			size_t *len);

/* Drop the current poll's rows without a summary. */
void xtcp_stat_reset(struct xtcp_stat *s);

/*
 * What comes once before the polls: the CSV header line (with header
 * true), else nothing (*len 0).
 */
void xtcp_stat_preamble(const struct xtcp_stat *s, const char **text, size_t *len);

/*
 * The metric name OpenMetrics output gives field @f (into @buf, at least
 * 128 bytes), from the name of the field and its unit, as Prometheus's
 * naming conventions ask: "xtcp_", the name (tcp_info_ shortened to tcp_,
 * a trailing _ns, _us, _ms, _per_s or _mbps dropped), then the unit in base
 * units (_seconds, _bytes, _bytes_per_second, _segments, _packets) unless
 * the name ends with it: tcp_info_rtt is xtcp_tcp_rtt_seconds.  @infix
 * ("_min", "_max", or "") goes before the unit.  Returns the length.
 */
size_t xtcp_stat_metric_name(const struct xtcp_field *f, const char *infix, char *buf);

#endif
