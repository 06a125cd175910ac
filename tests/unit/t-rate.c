/*
 * Unit tests for lib/rate.c: the counters the schema names, deltas and
 * rates, when a socket starts over (wrap, decrease, reused cookie, time),
 * forgetting absent sockets, the table under churn (no growth, no
 * allocation once warm), and the rows it writes.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "record.h"
#include "tap.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

#define SEC 1000000000LL
#define T0 (1767225600LL * SEC)

static uint8_t src4[16] = { 127, 0, 0, 1 };
static uint8_t dst4[16] = { 127, 0, 0, 2 };
static uint8_t row[4096];
static char host_a[] = "h", host_b[] = "other";

/* A plain ESTABLISHED socket with tcp_info, at poll @poll (10 s apart). */
static void sock(xtcp_rec *r, uint64_t cookie, uint64_t poll)
{
	xtcp_record_init(r);
	r->hostname = host_a;
	r->netns_inode = 4026531840u;
	r->inet_diag_msg_socket_cookie = cookie;
	r->inet_diag_msg_family = 2;
	r->inet_diag_msg_state = 1;
	r->tcp_info_state = 1;
	r->inet_diag_msg_socket_source.data = src4;
	r->inet_diag_msg_socket_source.len = 16;
	r->inet_diag_msg_socket_destination.data = dst4;
	r->inet_diag_msg_socket_destination.len = 16;
	r->inet_diag_msg_socket_source_port = 40000 + (uint32_t)(cookie & 0xffff);
	r->inet_diag_msg_socket_destination_port = 443;
	r->poll_sequence = poll;
	r->timestamp_ns = T0 + (int64_t)poll * 10 * SEC;
}

static size_t enc(const xtcp_rec *r)
{
	return xtcp_record_encode(r, row);
}

static int follow(struct xtcp_rate *rt, const xtcp_rec *r, struct xtcp_rate_result *res)
{
	return xtcp_rate_follow(rt, row, enc(r), res);
}

/* The index of counter @name among xtcp_rate_counters(). */
static size_t counter(const struct xtcp_rate *rt, const char *name)
{
	const struct xtcp_rate_counter *c;
	size_t n, i;

	c = xtcp_rate_counters(rt, &n);
	for (i = 0; i < n; i++)
		if (!strcmp(c[i].field->name, name))
			return i;
	fprintf(stderr, "no counter %s\n", name);
	exit(1);
}

static void test_counters(void)
{
	/* the 64-bit counters first, then the 32-bit ones, each in number order */
	static const char *const want[] = {
		"tcp_info_bytes_acked", "tcp_info_bytes_received", "tcp_info_busy_time",
		"tcp_info_rwnd_limited", "tcp_info_sndbuf_limited", "tcp_info_bytes_sent",
		"tcp_info_bytes_retrans",
		"tcp_info_total_retrans", "tcp_info_segs_out", "tcp_info_segs_in",
		"tcp_info_data_segs_in", "tcp_info_data_segs_out", "tcp_info_delivered",
		"tcp_info_delivered_ce", "tcp_info_dsack_dups", "tcp_info_reord_seen",
		"tcp_info_rcv_ooopack", "tcp_info_rehash", "tcp_info_total_rto",
		"tcp_info_total_rto_recoveries", "tcp_info_total_rto_time", "sk_mem_info_drops",
	};
	struct xtcp_rate *rt = xtcp_rate_new(3);
	const struct xtcp_rate_counter *c;
	size_t n, i, rates = 0;
	bool names = true, widths = true;

	ok(rt != NULL, "a follower is made from the schema's rate fields");
	c = xtcp_rate_counters(rt, &n);
	is(n, sizeof(want) / sizeof(want[0]), "the schema's _delta fields are the counters");
	for (i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s_delta", want[i]);
		names &= !strcmp(c[i].field->name, want[i]) && !strcmp(c[i].delta->name, name);
		widths &= c[i].wide == (c[i].field->kind == XTCP_VALUE_U64) &&
			  c[i].delta->kind == c[i].field->kind;
		if (c[i].per_s) {
			rates++;
			snprintf(name, sizeof(name), "%s_per_s", want[i]);
			names &= !strcmp(c[i].per_s->name, name) && !strcmp(c[i].per_s->unit, "bytes/s");
		}
	}
	ok(names, "each counter with its _delta field and, for the byte counters, _per_s");
	ok(widths, "a delta is as wide as its counter");
	is(rates, 4, "four byte rates: acked, received, sent, retrans");
	ok(c[counter(rt, "tcp_info_bytes_acked")].wide && !c[counter(rt, "tcp_info_segs_out")].wide,
	   "bytes_acked is 64-bit, segs_out 32-bit");
	xtcp_rate_free(rt);
	errno = 0;
	ok(xtcp_rate_new(0) == NULL && errno == EINVAL, "forgetting after 0 polls is refused");
}

static void test_deltas(void)
{
	struct xtcp_rate *rt = xtcp_rate_new(3);
	struct xtcp_rate_result res;
	struct xtcp_decoder dec;
	size_t acked = counter(rt, "tcp_info_bytes_acked"), segs = counter(rt, "tcp_info_segs_out");
	size_t drops = counter(rt, "sk_mem_info_drops"), len;
	const uint8_t *out;
	xtcp_rec r, back;

	sock(&r, 7, 1);
	r.tcp_info_bytes_acked = 1000;
	r.tcp_info_segs_out = 10;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW && res.interval_ns == 0 &&
	   res.delta[acked] == 0, "a socket's first record is new: interval and deltas 0");
	out = xtcp_rate_encode(rt, &res, row, enc(&r), &len);
	ok(out && len == enc(&r) && !memcmp(out, row, len),
	   "a new socket's row goes out as it came (every rate field 0, so none written)");

	sock(&r, 7, 2);
	r.timestamp_ns -= 5 * SEC;   /* 5 s after the first */
	r.tcp_info_bytes_acked = 1000 + 2500000;
	r.tcp_info_segs_out = 10 + 3;
	r.sk_mem_info_drops = 2;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED, "the second: changed");
	is(res.interval_ns, 5 * SEC, "the interval since the previous record");
	is(res.delta[acked], 2500000, "bytes_acked delta");
	is(res.per_s[acked], 500000, "bytes_acked per second: delta * 1e9 / interval");
	is(res.delta[segs], 3, "segs_out delta");
	is(res.per_s[segs], 0, "no rate for a segment counter");
	is(res.delta[drops], 2, "sk_mem_info_drops delta");

	len = enc(&r);
	out = xtcp_rate_encode(rt, &res, row, len, &len);
	xtcp_decoder_init(&dec);
	ok(out && xtcp_record_decode(&dec, out, len, &back) == 0, "the row out decodes");
	ok(back.rate_interval_ns == 5 * SEC && back.tcp_info_bytes_acked_delta == 2500000 &&
	   back.tcp_info_bytes_acked_per_s == 500000 && back.tcp_info_segs_out_delta == 3 &&
	   back.sk_mem_info_drops_delta == 2 && back.tcp_info_bytes_acked == 1000 + 2500000 &&
	   back.inet_diag_msg_socket_cookie == 7 && back.base.n_unknown_fields == 0,
	   "its own fields, and the rate fields as the schema has them");
	/* a row that holds rate fields (xtcp-rate twice) gets them replaced */
	{
		static uint8_t first[4096], plain[4096];
		size_t first_len = len, plain_len = enc(&r);
		struct xtcp_rate *again = xtcp_rate_new(3);
		xtcp_rec r1;

		memcpy(first, out, len);
		memcpy(plain, row, plain_len);
		sock(&r1, 7, 1);
		r1.tcp_info_bytes_acked = 1000;
		r1.tcp_info_segs_out = 10;
		follow(again, &r1, &res);
		ok(xtcp_rate_follow(again, first, first_len, &res) == 0 && res.replace &&
		   res.delta[acked] == 2500000, "a row that holds rate fields: noted, and followed");
		out = xtcp_rate_encode(again, &res, first, first_len, &len);
		ok(out && len == first_len && !memcmp(out, first, len),
		   "... its rate fields are replaced, not repeated: xtcp-rate twice is once");
		xtcp_rate_free(again);
		again = xtcp_rate_new(3);
		ok(xtcp_rate_follow(again, first, first_len, &res) == 0 &&
		   res.flags == XTCP_RATE_NEW, "the same row to a new follower: a new socket");
		out = xtcp_rate_encode(again, &res, first, first_len, &len);
		ok(out && len == plain_len && !memcmp(out, plain, len),
		   "... its rate fields, 0 now, are gone: the row as the collector wrote it");
		xtcp_rate_free(again);
	}

	sock(&r, 7, 3);
	r.tcp_info_bytes_acked = 1000 + 2500000;
	r.tcp_info_segs_out = 13;
	r.sk_mem_info_drops = 2;
	r.inet_diag_msg_state = 8;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED && res.delta[acked] == 0,
	   "a state change alone is a change");
	sock(&r, 7, 4);
	r.tcp_info_bytes_acked = 1000 + 2500000;
	r.tcp_info_segs_out = 13;
	r.sk_mem_info_drops = 2;
	r.inet_diag_msg_state = 8;
	ok(follow(rt, &r, &res) == 0 && res.flags == 0 && res.interval_ns == 10 * SEC,
	   "nothing moved: no flag, the interval still measured");

	/* a huge delta over 1 ns: the rate saturates */
	sock(&r, 8, 1);
	follow(rt, &r, &res);
	r.timestamp_ns += 1;
	r.tcp_info_bytes_acked = UINT64_MAX - 1;
	ok(follow(rt, &r, &res) == 0 && res.per_s[acked] == UINT64_MAX,
	   "a rate beyond 2^64-1 is 2^64-1");
	r.timestamp_ns += 3;
	r.tcp_info_bytes_acked = UINT64_MAX;
	ok(follow(rt, &r, &res) == 0 && res.per_s[acked] == 1000000000 / 3,
	   "rates round down: 1 byte in 3 ns");
	xtcp_decoder_release(&dec);
	xtcp_rate_free(rt);
}

static void test_start_over(void)
{
	struct xtcp_rate *rt = xtcp_rate_new(3);
	struct xtcp_rate_result res;
	size_t acked = counter(rt, "tcp_info_bytes_acked"), segs = counter(rt, "tcp_info_segs_out");
	xtcp_rec r;

	/* a 32-bit counter that went down on a socket with a cookie wrapped */
	sock(&r, 11, 1);
	r.tcp_info_segs_out = UINT32_MAX - 5;
	r.tcp_info_bytes_acked = 100;
	follow(rt, &r, &res);
	sock(&r, 11, 2);
	r.tcp_info_segs_out = 4;
	r.tcp_info_bytes_acked = 200;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED && res.delta[segs] == 10 &&
	   res.delta[acked] == 100, "a 32-bit counter wraps on a socket with a cookie: delta mod 2^32");

	/* without a cookie, a 32-bit counter that went down is another socket */
	sock(&r, 0, 1);
	r.tcp_info_segs_out = 50;
	follow(rt, &r, &res);
	sock(&r, 0, 2);
	r.tcp_info_segs_out = 60;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED && res.delta[segs] == 10,
	   "without a cookie the address/port tuple is the key");
	sock(&r, 0, 3);
	r.tcp_info_segs_out = 2;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW && res.interval_ns == 0 &&
	   res.delta[segs] == 0, "without a cookie, a counter that went down starts the socket over");
	sock(&r, 0, 4);
	r.tcp_info_segs_out = 5;
	ok(follow(rt, &r, &res) == 0 && res.delta[segs] == 3,
	   "... and the next record counts from the new start");

	/* a 64-bit counter that went down: another socket, cookie or not */
	sock(&r, 12, 1);
	r.tcp_info_bytes_acked = 5000;
	follow(rt, &r, &res);
	sock(&r, 12, 2);
	r.tcp_info_bytes_acked = 4000;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW && res.delta[acked] == 0,
	   "a 64-bit counter that went down starts the socket over");

	/* the cookie again with other ports: reused */
	sock(&r, 13, 1);
	follow(rt, &r, &res);
	sock(&r, 13, 2);
	r.inet_diag_msg_socket_source_port = 1;
	r.tcp_info_bytes_acked = 10;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW,
	   "the same cookie with another tuple is another socket");

	/* not later than the previous record */
	sock(&r, 14, 1);
	follow(rt, &r, &res);
	r.tcp_info_bytes_acked = 10;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW,
	   "a record no later than the previous one starts the socket over");
	r.timestamp_ns -= SEC;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW, "... an earlier one too");

	/* other hosts are other sockets, whatever the inode and cookie */
	sock(&r, 15, 1);
	r.tcp_info_bytes_acked = 10;
	follow(rt, &r, &res);
	r.hostname = host_b;
	r.tcp_info_bytes_acked = 99999;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_NEW, "another host's socket is new");
	sock(&r, 15, 2);
	r.tcp_info_bytes_acked = 30;
	ok(follow(rt, &r, &res) == 0 && res.delta[acked] == 20, "... and the first host's follows on");

	/* without tcp_info there is nothing to compare */
	sock(&r, 16, 1);
	r.tcp_info_bytes_acked = 700;
	r.tcp_info_segs_out = 9;
	follow(rt, &r, &res);
	sock(&r, 16, 2);
	r.inet_diag_msg_state = 6;   /* TIME_WAIT: the kernel sends no tcp_info */
	r.tcp_info_state = 0;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED &&
	   res.interval_ns == 10 * SEC && res.delta[acked] == 0 && res.delta[segs] == 0,
	   "to a record without tcp_info: interval measured, deltas 0, not new");
	sock(&r, 16, 3);
	r.tcp_info_bytes_acked = 900;
	ok(follow(rt, &r, &res) == 0 && res.flags == XTCP_RATE_CHANGED && res.delta[acked] == 0,
	   "from a record without tcp_info: deltas 0");
	xtcp_rate_free(rt);
}

static void test_forget(void)
{
	struct xtcp_rate *rt = xtcp_rate_new(2);
	struct xtcp_rate_result res;
	struct xtcp_rate_stats st;
	xtcp_rec r;
	uint64_t poll;

	/* socket 1 in every poll; 2 absent for polls 2 (back at 3); 3 absent for 2 and 3 */
	for (poll = 1; poll <= 4; poll++) {
		sock(&r, 1, poll);
		follow(rt, &r, &res);
		if (poll != 2) {
			sock(&r, 2, poll);
			follow(rt, &r, &res);
			if (poll == 3)
				ok(res.flags == 0 && res.interval_ns == 20 * SEC,
				   "absent for 1 poll of 2: followed on, over two polls' time");
		}
		if (poll == 1 || poll == 4) {
			sock(&r, 3, poll);
			follow(rt, &r, &res);
			if (poll == 4)
				ok(res.flags == XTCP_RATE_NEW, "absent for 2 polls of 2: forgotten, new");
		}
	}
	xtcp_rate_stats(rt, &st);
	is(st.polls, 4, "four polls");
	is(st.forgotten, 1, "one socket forgotten");
	is(st.sockets, 3, "three sockets followed");

	/* a namespace that vanished: its sockets age out */
	for (poll = 5; poll <= 7; poll++) {
		sock(&r, 1, poll);
		follow(rt, &r, &res);
	}
	xtcp_rate_stats(rt, &st);
	is(st.sockets, 1, "sockets gone for good are dropped");

	/* poll_sequence counts from 1 again (another run), time goes on: another poll */
	sock(&r, 1, 1);
	r.timestamp_ns = T0 + 100 * SEC;
	follow(rt, &r, &res);
	xtcp_rate_stats(rt, &st);
	ok(st.polls == 8 && res.flags == 0 && res.interval_ns == 30 * SEC,
	   "a poll is told by its sequence and its time: runs read one after another");
	xtcp_rate_free(rt);
}

static void test_close(void)
{
	struct xtcp_rate *rt = xtcp_rate_new(2);
	struct xtcp_rate_result res;
	struct xtcp_rate_stats st;
	xtcp_rec r;
	uint64_t poll;

	sock(&r, 1, 1);
	r.tcp_info_bytes_acked = 100;
	follow(rt, &r, &res);
	sock(&r, 2, 1);
	follow(rt, &r, &res);
	/* socket 1 closes 4 s after poll 1: its last record, between polls 1 and 2 */
	sock(&r, 1, 1);
	r.record_kind = XTCP_RECORD_KIND_CLOSE;
	r.inet_diag_msg_state = 7;
	r.tcp_info_state = 7;
	r.timestamp_ns += 4 * SEC;
	r.tcp_info_bytes_acked = 350;
	follow(rt, &r, &res);
	ok(res.flags == XTCP_RATE_CHANGED && res.interval_ns == 4 * SEC &&
	   res.delta[counter(rt, "tcp_info_bytes_acked")] == 250,
	   "a close record gets its deltas since the socket's previous record");
	xtcp_rate_stats(rt, &st);
	ok(st.sockets == 1 && st.polls == 1, "then its socket is forgotten; it began no poll");
	/* close events of sockets never polled: new, and forgotten at once */
	for (poll = 0; poll < 5; poll++) {
		sock(&r, 10 + poll, 1);
		r.record_kind = XTCP_RECORD_KIND_CLOSE;
		r.timestamp_ns += (int64_t)(poll + 1) * SEC;
		follow(rt, &r, &res);
	}
	xtcp_rate_stats(rt, &st);
	ok(res.flags == XTCP_RATE_NEW && st.sockets == 1 && st.polls == 1,
	   "a close record of an unknown socket is new and leaves nothing behind");
	/* the cookie comes back in poll 2 (reused): a new socket */
	sock(&r, 1, 2);
	follow(rt, &r, &res);
	ok(res.flags == XTCP_RATE_NEW, "after its close record a socket starts over");
	sock(&r, 2, 2);
	follow(rt, &r, &res);
	ok(res.flags == 0 && res.interval_ns == 10 * SEC,
	   "the close records between two polls did not age the other sockets");
	xtcp_rate_free(rt);
}

/* splitmix64, for the churn test */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void test_churn(void)
{
	enum { SOCKETS = 5000, POLLS = 120, FORGET = 3 };
	static uint64_t cookies[SOCKETS];
	static uint64_t acked[SOCKETS];
	struct xtcp_rate *rt = xtcp_rate_new(FORGET);
	struct xtcp_rate_result res;
	struct xtcp_rate_stats st;
	size_t ia = counter(rt, "tcp_info_bytes_acked"), i, wrong = 0, most = 0;
	uint64_t seed = 42, next_cookie = 1, allocs_warm = 0, poll;
	xtcp_rec r;

	for (i = 0; i < SOCKETS; i++)
		cookies[i] = next_cookie++;
	for (poll = 1; poll <= POLLS; poll++) {
		for (i = 0; i < SOCKETS; i++) {
			bool fresh = poll == 1;

			/* 5% of the sockets close and others open in their place */
			if (poll > 1 && next_random(&seed) % 100 < 5) {
				cookies[i] = next_cookie++;
				acked[i] = 0;
				fresh = true;
			}
			sock(&r, cookies[i], poll);
			acked[i] += i;
			r.tcp_info_bytes_acked = acked[i];
			if (follow(rt, &r, &res) < 0 || (fresh != (res.flags == XTCP_RATE_NEW)) ||
			    (!fresh && res.delta[ia] != i))
				wrong++;
		}
		xtcp_rate_stats(rt, &st);
		if (st.sockets > most)
			most = st.sockets;
		if (poll == 20)
			allocs_warm = st.allocations;
	}
	is(wrong, 0, "%d sockets, 5%% replaced each poll, %d polls: every record new or not "
	   "as it should be, every delta right", SOCKETS, POLLS);
	xtcp_rate_stats(rt, &st);
	ok(most <= SOCKETS + SOCKETS * 5 / 100 * (FORGET + 2),
	   "entries stay O(sockets alive): at most %zu for %d alive", most, SOCKETS);
	is(st.allocations, allocs_warm, "no allocation after the first 20 polls (%llu in all)",
	   (unsigned long long)st.allocations);
	ok(st.entries_max <= 2 * SOCKETS && st.slots <= 4 * SOCKETS,
	   "pool of %zu entries, table of %zu slots", st.entries_max, st.slots);
	ok(st.forgotten > 0 && st.forgotten + st.sockets == next_cookie - 1,
	   "every socket is followed or was forgotten");
	xtcp_rate_free(rt);
}

static void test_malformed(void)
{
	struct xtcp_rate *rt = xtcp_rate_new(3);
	struct xtcp_rate_result res;
	struct xtcp_rate_stats st;
	static const uint8_t truncated[] = { 0x08 };               /* field 1, no value */
	static const uint8_t hostname_varint[] = { 0xa0, 0x01, 0x05 }; /* field 20, varint */
	static const uint8_t group[] = { 0x0b };                   /* field 1, start group */

	errno = 0;
	ok(xtcp_rate_follow(rt, truncated, sizeof(truncated), &res) < 0 && errno == EBADMSG,
	   "a row cut short is EBADMSG");
	errno = 0;
	ok(xtcp_rate_follow(rt, hostname_varint, sizeof(hostname_varint), &res) < 0 &&
	   errno == EBADMSG, "a known field of the wrong wire type is EBADMSG, as the decoder has it");
	errno = 0;
	ok(xtcp_rate_follow(rt, group, sizeof(group), &res) < 0 && errno == EBADMSG,
	   "a group is EBADMSG");
	xtcp_rate_stats(rt, &st);
	ok(st.sockets == 0 && st.polls == 0, "a bad row changes nothing");
	ok(xtcp_rate_follow(rt, NULL, 0, &res) == 0 && res.flags == XTCP_RATE_NEW,
	   "an empty row is a record of zeros");
	xtcp_rate_free(rt);
}

/* A row whose rate fields are replaced keeps fields of any tag, beyond 2^29 too, as they came. */
static void test_replace_keeps_odd_fields(void)
{
	/* a 5-byte tag of field number 2^29 and more (protobuf-c keeps it, as 32 bits), fixed64 */
	static const uint8_t odd[] = { 0xe9, 0xca, 0x9c, 0xc3, 0x18, 1, 2, 3, 4, 5, 6, 7, 8 };
	static uint8_t twice[4096];
	struct xtcp_rate *rt = xtcp_rate_new(3), *again = xtcp_rate_new(3);
	struct xtcp_rate_result res;
	const uint8_t *out;
	size_t len, n;
	xtcp_rec r;

	sock(&r, 21, 1);
	r.tcp_info_bytes_acked = 10;
	follow(rt, &r, &res);
	sock(&r, 21, 2);
	r.tcp_info_bytes_acked = 30;
	len = enc(&r);
	memcpy(row + len, odd, sizeof(odd));
	len += sizeof(odd);
	ok(xtcp_rate_follow(rt, row, len, &res) == 0 &&
	   res.delta[counter(rt, "tcp_info_bytes_acked")] == 20,
	   "a row with a field of a 5-byte tag is followed");
	out = xtcp_rate_encode(rt, &res, row, len, &n);
	memcpy(twice, out, n);
	/* the rate fields now in the row are replaced by a follower that sees it first */
	ok(xtcp_rate_follow(again, twice, n, &res) == 0 && res.replace &&
	   (out = xtcp_rate_encode(again, &res, twice, n, &n)) && n == len && !memcmp(out, row, len),
	   "its rate fields replaced, the other fields are all there, that one included");
	xtcp_rate_free(rt);
	xtcp_rate_free(again);
}

int main(void)
{
	test_counters();
	test_deltas();
	test_start_over();
	test_forget();
	test_close();
	test_churn();
	test_malformed();
	test_replace_keeps_odd_fields();
	return done_testing();
}
