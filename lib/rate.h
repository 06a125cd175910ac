#ifndef XTCP_RATE_H
#define XTCP_RATE_H

/*
 * Rates: each socket of a stream followed from one poll to the next, and
 * each of its records given how much the kernel's counters grew since the
 * socket's previous record (what xtcp-rate does; man/xtcp-rate.1 is the
 * user's copy of these rules).
 *
 * The counters and the fields written come from the schema (lib/schema.h),
 * by name: every field X_delta is the delta of the counter X (a uint32 or
 * uint64 field), X_per_s is X_delta per second, and rate_interval_ns is the
 * time between the two records.  A counter is added by adding its _delta
 * field to the .proto.
 *
 * A socket is (hostname, netns_inode, inet_diag_msg_socket_cookie); when
 * the cookie is 0 (a writer that had none), (hostname, netns_inode, family,
 * addresses, ports) instead.  The hostname keeps apart hosts merged into
 * one stream, whose default namespaces share an inode and whose cookies
 * count from 1 alike.
 *
 * A record starts its socket over -- it is "new": interval, deltas and
 * rates 0, XTCP_RATE_NEW -- when the socket has no entry (its first record,
 * or it was forgotten), and when the entry cannot be the same socket:
 *   - the cookie is the same but the addresses or ports are not (a cookie
 *     reused, as after a reboot in a long recording);
 *   - its timestamp_ns is not later than the previous record's (a poll
 *     read twice, files out of order);
 *   - a 64-bit counter went down (they cannot wrap: 2^64 bytes);
 *   - a 32-bit counter went down and there is no cookie to prove the
 *     socket the same (the tuple of a closed socket is soon reused).
 * A 32-bit counter that went down on a socket with a cookie wrapped: its
 * delta is taken modulo 2^32 (segs_out wraps in minutes at 100 Gbit/s).
 *
 * Counters are compared only between two consecutive records of a socket
 * that both carry tcp_info (tcp_info_state not 0; TIME_WAIT and request
 * sockets have none, nor a dump with --ext leaving it out); otherwise the
 * deltas and rates are 0, and the interval is still measured.
 *
 * A close record (record_kind RECORD_KIND_CLOSE, from xtcp-dump -E) is its
 * socket's last: it gets its deltas as any record, then the entry is
 * dropped; it belongs to no poll (it neither begins one nor counts as a
 * sighting in one).
 *
 * A poll is as lib/record.h says (struct xtcp_poll).  An entry whose socket
 * has not been seen for @forget_polls polls is dropped when the next poll
 * begins, so a namespace that vanished, a closed socket or a filtered-out
 * one costs memory for that long.  Entries live in one pool and one
 * open-addressing table, both grown (never per row) to the most sockets
 * alive at once and reused after that: no allocation per row.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

#define XTCP_RATE_COUNTERS_MAX 32
#define XTCP_RATE_FORGET_DEFAULT 3

/* One counter followed: the 64-bit ones first, each kind in the order of its _delta field. */
struct xtcp_rate_counter {
	const struct xtcp_field *field;         /* the kernel's counter: tcp_info_bytes_acked */
	const struct xtcp_field *delta;         /* tcp_info_bytes_acked_delta */
	const struct xtcp_field *per_s;         /* tcp_info_bytes_acked_per_s, or NULL */
	bool wide;                              /* 64 bits, else 32 */
};

/*
 * What xtcp_rate_follow() found for one record.  XTCP_RATE_NEW: the socket
 * starts (over) here; XTCP_RATE_CHANGED: inet_diag_msg_state or a counter
 * differs from the previous record.  delta[] and per_s[] are by counter, in
 * the order of xtcp_rate_counters() (per_s 0 for a counter without a rate);
 * bit i of @present says that the i-th rate field by number is not 0 (what
 * xtcp_rate_encode() writes); @replace that the row holds rate fields
 * already (xtcp-rate twice).
 */
#define XTCP_RATE_NEW 1u
#define XTCP_RATE_CHANGED 2u

struct xtcp_rate_result {
	unsigned flags;
	uint64_t interval_ns;
	uint64_t delta[XTCP_RATE_COUNTERS_MAX];
	uint64_t per_s[XTCP_RATE_COUNTERS_MAX];
	uint64_t present;
	bool replace;
	size_t split;           /* where in the row the rate fields go (xtcp_rate_encode) */
};

struct xtcp_rate_stats {
	size_t sockets;         /* entries now */
	size_t entries_max;     /* entries the pool has room for */
	size_t slots;           /* the table's size */
	uint64_t polls;         /* polls begun */
	uint64_t forgotten;     /* entries dropped for absence */
	uint64_t allocations;   /* times the pool, the table or the row buffer grew */
};

struct xtcp_rate;

/*
 * A new follower that forgets a socket after @forget_polls polls without it
 * (at least 1).  Returns NULL with errno ENOMEM, or EINVAL when
 * @forget_polls is 0 or the schema's rate fields do not fit these rules
 * (more than XTCP_RATE_COUNTERS_MAX counters or 64 rate fields, a _delta
 * field without its counter or of another width): a build error the unit
 * tests catch.
 */
struct xtcp_rate *xtcp_rate_new(unsigned forget_polls);
void xtcp_rate_free(struct xtcp_rate *r);

/* The counters followed; *n is set to their number. */
const struct xtcp_rate_counter *xtcp_rate_counters(const struct xtcp_rate *r, size_t *n);

/*
 * One record (an XtcpFlatRecord's bytes, as xtcp_row_iter gives them): its
 * socket's entry is found or made and updated, and @res says what changed.
 * The row is read as the record decoder reads it (a known field of the
 * wrong wire type is malformed; of a field given twice the last counts).
 * Returns 0, or -1 with errno EBADMSG (a malformed row: nothing changed)
 * or ENOMEM (the table could not grow: the record's socket is not
 * followed).
 */
int xtcp_rate_follow(struct xtcp_rate *r, const uint8_t *row, size_t len,
		     struct xtcp_rate_result *res);

/*
 * The row with the rate fields of @res (those its present bits mark): its
 * own fields as they are (rate fields it held dropped, with @res->replace)
 * and the rate fields, all in number order when the row's own were (the
 * rate fields go before the first of its fields numbered above them).
 * @res is what xtcp_rate_follow() said of this @row.  Returns the bytes,
 * valid until the next call, and sets *out_len; NULL with errno ENOMEM.
 */
const uint8_t *xtcp_rate_encode(struct xtcp_rate *r, const struct xtcp_rate_result *res,
				const uint8_t *row, size_t len, size_t *out_len);

void xtcp_rate_stats(const struct xtcp_rate *r, struct xtcp_rate_stats *st);

#endif
