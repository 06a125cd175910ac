#ifndef XTCP_SYNTH_H
#define XTCP_SYNTH_H

/*
 * Synthetic records: a deterministic stream of realistic XtcpFlatRecords
 * for benchmarks, tests and training the compiler's profile.  Benchmark
 * scaffolding (libxtcp-bench.a), not part of libxtcp.
 *
 * The same seed gives the same records, byte for byte, on every machine: the
 * generator uses its own PRNG (splitmix64) and never reads the clock or the
 * host.  Values are plausible rather than random: most sockets ESTABLISHED;
 * LAN, regional and WAN round-trip times; cubic, bbr, dctcp, reno and a few
 * vegas with the matching enum and the matching BBR/DCTCP/Vegas info;
 * counters that agree with each other (bytes_acked <= bytes_sent,
 * bytes_retrans <= bytes_sent, min_rtt <= rtt, segs_out >= data_segs_out,
 * ...); IPv4 and IPv6 addresses; several network namespaces with fixed
 * inodes, some of them containers; every field group of the schema set in
 * some record.  TIME_WAIT and SYN_SENT sockets carry only inet_diag_msg
 * fields, as the kernel reports them.
 */

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/*
 * Generator state.  Strings and bytes of a generated record point into this
 * struct (or into constants), so a record is valid until the next
 * xtcp_synth_record() on the same generator.
 */
struct xtcp_synth {
	uint64_t state;          /* splitmix64 */
	uint64_t seed;
	uint64_t count;          /* records generated so far */
	unsigned v6_percent;     /* share of AF_INET6 sockets, 0..100 (default 40) */
	uint8_t src[16];
	uint8_t dst[16];
	char container_id[65];
	char container_name[32];
	char cgroup_path[256];
	char pod_uid[40];
	char systemd_unit[64];
};

/* Start a stream.  Every seed, 0 included, is valid. */
void xtcp_synth_init(struct xtcp_synth *g, uint64_t seed);

/* The next number of the generator's PRNG (splitmix64). */
uint64_t xtcp_synth_next(struct xtcp_synth *g);

/*
 * Fill @rec (reset first) with the next synthetic record.  Never fails and
 * never allocates.
 */
void xtcp_synth_record(struct xtcp_synth *g, XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * @rec as today's xtcp-dump would write it, kernel-sized: without what only
 * an enriching collector or the dump's options fill (location, label, tag,
 * the uplinks, the ASNs, the container fields).  The draws are the same as
 * without, so a seed still names the same sockets.
 */
void xtcp_synth_bare(XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * Polls of the same sockets (xtcp-bench gen --sockets): @sockets sockets,
 * every one in every poll, in the same order; poll p (from 0) is 10 s after
 * poll p-1, and all its records carry the poll's timestamp_ns and
 * poll_sequence p+1, as xtcp-dump's do.  A socket is the synthetic record
 * of a generator seeded from (seed, slot, generation) -- the same draws in
 * every poll -- whose counters grow by a steady amount per poll of its own
 * (some sockets idle, growing by nothing), the 32-bit ones wrapping as the
 * kernel's do.  Before each poll after the first, each slot's socket is
 * replaced by a new one (the next generation: new cookie and addresses,
 * counters from the start) with probability @churn_percent.
 */
struct xtcp_synth_polls {
	uint64_t seed;
	size_t sockets;
	unsigned churn_percent;
	unsigned v6_percent;     /* as in struct xtcp_synth */
	uint64_t count;          /* records generated so far */
	uint32_t *generation;    /* by slot */
	uint32_t *born;          /* the poll the slot's socket appeared in */
	struct xtcp_synth g;     /* the current record's generator */
	struct xtcp_synth churn; /* the draws that decide churn */
};

/* Returns 0, or -1 with errno ENOMEM. */
int xtcp_synth_polls_init(struct xtcp_synth_polls *sp, uint64_t seed, size_t sockets,
			  unsigned churn_percent);
void xtcp_synth_polls_release(struct xtcp_synth_polls *sp);

/* The next record: slot count % sockets of poll count / sockets.  Valid as xtcp_synth_record's. */
void xtcp_synth_polls_record(struct xtcp_synth_polls *sp, XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * The SOCK_DIAG_BY_FAMILY reply a kernel would send for the kernel fields of
 * @rec (struct inet_diag_msg and the attributes xtcp-dump asks for: meminfo,
 * tcp_info, cong, tos, tclass for IPv6, skmeminfo, shutdown, the congestion
 * control's own info, mark, class_id, cgroup id, sockopt, ulp), so that
 * xtcp_netlink_parse() of it gives back those fields (the ASN fields aside:
 * they are not kernel fields).  Writes at most XTCP_SYNTH_NETLINK_MAX bytes
 * to @buf, 4-byte aligned, and returns the message length.
 */
#define XTCP_SYNTH_NETLINK_MAX 768
size_t xtcp_synth_netlink(const XtcpFlatRecord__V1__XtcpFlatRecord *rec, uint8_t *buf);

#endif
