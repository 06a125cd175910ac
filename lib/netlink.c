/*
 * One SOCK_DIAG_BY_FAMILY reply (struct inet_diag_msg + attributes) into a
 * record.  Offsets follow proto/record-fields.tsv.
 *
 * Netlink data is in host byte order, except the ports (network order).
 * Everything is read with memcpy: a message handed over from a capture file
 * or a fuzzer need not be aligned.
 *
 * The attribute walk is written out rather than done with
 * mnl_attr_parse(): libmnl's iterator stops silently at an attribute that
 * overruns the message, and a truncated reply must be reported (EBADMSG),
 * not turned into a record with missing fields.  The checks are the ones
 * mnl_attr_ok() and mnl_attr_validate2() make.
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>

#include "netlink.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

/* inet_diag_msg, as the table reads it */
#define DIAG_MSG_LEN	72
#define ATTR_START	(NLMSG_HDRLEN + NLMSG_ALIGN(DIAG_MSG_LEN))

/* struct tcp_info up to tcpi_total_rto_time (kernel 6.7); longer ones are cut */
#define TCP_INFO_LEN	248

/* Minimum payload of each fixed-layout attribute: the bytes the table reads. */
#define MEMINFO_LEN	16
#define VEGASINFO_LEN	16
#define SKMEMINFO_LEN	36
#define DCTCPINFO_LEN	16
#define BBRINFO_LEN	20

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The length of the longest prefix of struct tcp_info that holds only whole
 * fields: a field cut by the end of a short attribute stays 0 rather than
 * taking half its bytes.
 */
static size_t tcp_info_whole(size_t len)
{
	if (len < 8)
		return len;		/* u8 fields and the bitfield bytes */
	if (len < 104)
		return len & ~(size_t)3;
	if (len < 136)
		return len & ~(size_t)7;	/* pacing_rate .. bytes_received */
	if (len < 160)
		return len & ~(size_t)3;
	if (len < 192)
		return len & ~(size_t)7;	/* delivery_rate .. sndbuf_limited */
	if (len < 200)
		return len & ~(size_t)3;
	if (len < 216)
		return len & ~(size_t)7;	/* bytes_sent, bytes_retrans */
	if (len < 240)
		return len & ~(size_t)3;
	if (len < 242)
		return 240;
	if (len < 244)
		return 242;		/* total_rto, total_rto_recoveries are u16 */
	return 244;
}

/* @t holds TCP_INFO_LEN bytes. */
static void put_tcp_info(xtcp_rec *rec, const uint8_t *t)
{
	rec->tcp_info_state = t[0];
	rec->tcp_info_ca_state = t[1];
	rec->tcp_info_retransmits = t[2];
	rec->tcp_info_probes = t[3];
	rec->tcp_info_backoff = t[4];
	rec->tcp_info_options = t[5];
	rec->tcp_info_send_scale = t[6] & 0x0f;
	rec->tcp_info_rcv_scale = (t[6] >> 4) & 0x0f;
	rec->tcp_info_delivery_rate_app_limited = t[7] & 0x01;
	rec->tcp_info_fast_open_client_failed = (t[7] >> 1) & 0x03;
	rec->tcp_info_rto = ld32(t + 8);
	rec->tcp_info_ato = ld32(t + 12);
	rec->tcp_info_snd_mss = ld32(t + 16);
	rec->tcp_info_rcv_mss = ld32(t + 20);
	rec->tcp_info_unacked = ld32(t + 24);
	rec->tcp_info_sacked = ld32(t + 28);
	rec->tcp_info_lost = ld32(t + 32);
	rec->tcp_info_retrans = ld32(t + 36);
	rec->tcp_info_fackets = ld32(t + 40);
	rec->tcp_info_last_data_sent = ld32(t + 44);
	rec->tcp_info_last_ack_sent = ld32(t + 48);
	rec->tcp_info_last_data_recv = ld32(t + 52);
	rec->tcp_info_last_ack_recv = ld32(t + 56);
	rec->tcp_info_pmtu = ld32(t + 60);
	rec->tcp_info_rcv_ssthresh = ld32(t + 64);
	rec->tcp_info_rtt = ld32(t + 68);
	rec->tcp_info_rtt_var = ld32(t + 72);
	rec->tcp_info_snd_ssthresh = ld32(t + 76);
	rec->tcp_info_snd_cwnd = ld32(t + 80);
	rec->tcp_info_adv_mss = ld32(t + 84);
	rec->tcp_info_reordering = ld32(t + 88);
	rec->tcp_info_rcv_rtt = ld32(t + 92);
	rec->tcp_info_rcv_space = ld32(t + 96);
	rec->tcp_info_total_retrans = ld32(t + 100);
	rec->tcp_info_pacing_rate = ld64(t + 104);
	rec->tcp_info_max_pacing_rate = ld64(t + 112);
	rec->tcp_info_bytes_acked = ld64(t + 120);
	rec->tcp_info_bytes_received = ld64(t + 128);
	rec->tcp_info_segs_out = ld32(t + 136);
	rec->tcp_info_segs_in = ld32(t + 140);
	rec->tcp_info_not_sent_bytes = ld32(t + 144);
	rec->tcp_info_min_rtt = ld32(t + 148);
	rec->tcp_info_data_segs_in = ld32(t + 152);
	rec->tcp_info_data_segs_out = ld32(t + 156);
	rec->tcp_info_delivery_rate = ld64(t + 160);
	rec->tcp_info_busy_time = ld64(t + 168);
	rec->tcp_info_rwnd_limited = ld64(t + 176);
	rec->tcp_info_sndbuf_limited = ld64(t + 184);
	rec->tcp_info_delivered = ld32(t + 192);
	rec->tcp_info_delivered_ce = ld32(t + 196);
	rec->tcp_info_bytes_sent = ld64(t + 200);
	rec->tcp_info_bytes_retrans = ld64(t + 208);
	rec->tcp_info_dsack_dups = ld32(t + 216);
	rec->tcp_info_reord_seen = ld32(t + 220);
	rec->tcp_info_rcv_ooopack = ld32(t + 224);
	rec->tcp_info_snd_wnd = ld32(t + 228);
	rec->tcp_info_rcv_wnd = ld32(t + 232);
	rec->tcp_info_rehash = ld32(t + 236);
	rec->tcp_info_total_rto = ld16(t + 240);
	rec->tcp_info_total_rto_recoveries = ld16(t + 242);
	rec->tcp_info_total_rto_time = ld32(t + 244);
}

static void parse_tcp_info(xtcp_rec *rec, const uint8_t *payload, size_t len)
{
	uint8_t padded[TCP_INFO_LEN];
	size_t whole;

	if (len >= TCP_INFO_LEN) {
		put_tcp_info(rec, payload);
		return;
	}
	whole = tcp_info_whole(len);
	memcpy(padded, payload, whole);
	memset(padded + whole, 0, sizeof(padded) - whole);
	put_tcp_info(rec, padded);
}

/* Copy a possibly unterminated attribute string, cut to fit @dst. */
static void copy_name(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t i;

	/* a few bytes ("cubic", every socket): a loop, not memchr and memcpy calls */
	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len && src[i]; i++)
		dst[i] = (char)src[i];
	dst[i] = '\0';
}

XtcpFlatRecord__V1__XtcpFlatRecord__CongestionAlgorithm xtcp_netlink_cong_enum(const char *name)
{
	/* xtcp2 compatibility: the first three characters decide. */
	if (!name || !name[0] || !name[1] || !name[2])
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_UNSPECIFIED;
	if (!memcmp(name, "cub", 3))
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_CUBIC;
	if (!memcmp(name, "dct", 3))
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_DCTCP;
	if (!memcmp(name, "veg", 3))
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_VEGAS;
	if (!memcmp(name, "pra", 3))
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_PRAGUE;
	if (!memcmp(name, "bbr", 3)) {
		if (name[3] == '2')
			return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_BBR2;
		if (name[3] == '3')
			return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_BBR3;
		return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_BBR1;
	}
	return XTCP_FLAT_RECORD__V1__XTCP_FLAT_RECORD__CONGESTION_ALGORITHM__CONGESTION_ALGORITHM_UNSPECIFIED;
}

/*
 * Step to the next attribute of [*pos, end).  Returns 1 with the type and
 * payload, 0 at the end, -1 when an attribute header or payload does not fit.
 */
static int next_attr(const uint8_t **pos, const uint8_t *end, uint16_t *type,
		     const uint8_t **payload, size_t *len)
{
	const uint8_t *a = *pos;
	size_t left = (size_t)(end - a);
	uint16_t nla_len;

	if (left == 0)
		return 0;
	if (left < NLA_HDRLEN)
		return -1;
	nla_len = ld16(a);
	if (nla_len < NLA_HDRLEN || nla_len > left)
		return -1;
	*type = ld16(a + 2) & NLA_TYPE_MASK;
	*payload = a + NLA_HDRLEN;
	*len = nla_len - NLA_HDRLEN;
	/* The last attribute's padding may be missing. */
	*pos = (size_t)NLA_ALIGN(nla_len) < left ? a + NLA_ALIGN(nla_len) : end;
	return 1;
}

static int parse_ulp(struct xtcp_nl_parser *p, const uint8_t *pos, const uint8_t *end)
{
	const uint8_t *payload;
	uint16_t type;
	size_t len;
	int r;

	while ((r = next_attr(&pos, end, &type, &payload, &len)) > 0)
		if (type == INET_ULP_INFO_NAME)
			copy_name(p->ulp, sizeof(p->ulp), payload, len);
	return r;
}

static void reset(struct xtcp_nl_parser *p, xtcp_rec *rec)
{
	/*
	 * The kernel fields are declared in one block, from
	 * inet_diag_msg_family (1001) to c_group (2103), plus the two
	 * additions socket_mark and ulp_name; t-netlink checks that every
	 * other field survives a parse.
	 */
	memset(&rec->inet_diag_msg_family, 0,
	       offsetof(xtcp_rec, c_group) + sizeof(rec->c_group) -
	       offsetof(xtcp_rec, inet_diag_msg_family));
	rec->socket_mark = 0;
	p->cong[0] = '\0';
	p->ulp[0] = '\0';
	rec->congestion_algorithm_string = p->cong;
	rec->ulp_name = p->ulp;
	rec->inet_diag_msg_socket_source.data = p->src;
	rec->inet_diag_msg_socket_source.len = sizeof(p->src);
	rec->inet_diag_msg_socket_destination.data = p->dst;
	rec->inet_diag_msg_socket_destination.len = sizeof(p->dst);
}

int xtcp_netlink_parse(struct xtcp_nl_parser *p, const struct nlmsghdr *nlh,
		       XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const uint8_t *msg = (const uint8_t *)nlh;
	const uint8_t *d = msg + NLMSG_HDRLEN;
	const uint8_t *pos, *end, *a;
	uint32_t msg_len;
	uint16_t type;
	size_t len;
	int r;

	reset(p, rec);
	msg_len = ld32(msg);
	if (msg_len < NLMSG_HDRLEN + DIAG_MSG_LEN)
		goto err_badmsg;
	if (d[0] != AF_INET && d[0] != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}

	rec->inet_diag_msg_family = d[0];
	rec->inet_diag_msg_state = d[1];
	rec->inet_diag_msg_timer = d[2];
	rec->inet_diag_msg_retrans = d[3];
	rec->inet_diag_msg_socket_source_port = (uint32_t)d[4] << 8 | d[5];
	rec->inet_diag_msg_socket_destination_port = (uint32_t)d[6] << 8 | d[7];
	memcpy(p->src, d + 8, 16);
	memcpy(p->dst, d + 24, 16);
	if (d[0] == AF_INET) {
		memset(p->src + 4, 0, 12);
		memset(p->dst + 4, 0, 12);
	}
	rec->inet_diag_msg_socket_interface = ld32(d + 40);
	rec->inet_diag_msg_socket_cookie = ld32(d + 44) | (uint64_t)ld32(d + 48) << 32;
	rec->inet_diag_msg_expires = ld32(d + 52);
	rec->inet_diag_msg_rqueue = ld32(d + 56);
	rec->inet_diag_msg_wqueue = ld32(d + 60);
	rec->inet_diag_msg_uid = ld32(d + 64);
	rec->inet_diag_msg_inode = ld32(d + 68);

	pos = msg + ATTR_START;
	end = msg + msg_len;
	while ((r = next_attr(&pos, end, &type, &a, &len)) > 0) {
		switch (type) {
		case INET_DIAG_MEMINFO:
			if (len < MEMINFO_LEN)
				goto err_badmsg;
			rec->mem_info_rmem = ld32(a);
			rec->mem_info_wmem = ld32(a + 4);
			rec->mem_info_fmem = ld32(a + 8);
			rec->mem_info_tmem = ld32(a + 12);
			break;
		case INET_DIAG_INFO:
			parse_tcp_info(rec, a, len);
			break;
		case INET_DIAG_VEGASINFO:
			if (len < VEGASINFO_LEN)
				goto err_badmsg;
			rec->vegas_info_enabled = ld32(a);
			rec->vegas_info_rtt_cnt = ld32(a + 4);
			rec->vegas_info_rtt = ld32(a + 8);
			rec->vegas_info_min_rtt = ld32(a + 12);
			break;
		case INET_DIAG_CONG:
			copy_name(p->cong, sizeof(p->cong), a, len);
			rec->congestion_algorithm_enum = xtcp_netlink_cong_enum(p->cong);
			break;
		case INET_DIAG_TOS:
			if (len < 1)
				goto err_badmsg;
			rec->type_of_service = a[0];
			break;
		case INET_DIAG_TCLASS:
			if (len < 1)
				goto err_badmsg;
			rec->traffic_class = a[0];
			break;
		case INET_DIAG_SKMEMINFO:
			if (len < SKMEMINFO_LEN)
				goto err_badmsg;
			rec->sk_mem_info_rmem_alloc = ld32(a);
			rec->sk_mem_info_rcv_buf = ld32(a + 4);
			rec->sk_mem_info_wmem_alloc = ld32(a + 8);
			rec->sk_mem_info_snd_buf = ld32(a + 12);
			rec->sk_mem_info_fwd_alloc = ld32(a + 16);
			rec->sk_mem_info_wmem_queued = ld32(a + 20);
			rec->sk_mem_info_optmem = ld32(a + 24);
			rec->sk_mem_info_backlog = ld32(a + 28);
			rec->sk_mem_info_drops = ld32(a + 32);
			if (p->meminfo_from_sk) {
				rec->mem_info_rmem = rec->sk_mem_info_rmem_alloc;
				rec->mem_info_wmem = rec->sk_mem_info_wmem_queued;
				rec->mem_info_fmem = rec->sk_mem_info_fwd_alloc;
				rec->mem_info_tmem = rec->sk_mem_info_wmem_alloc;
			}
			break;
		case INET_DIAG_SHUTDOWN:
			if (len < 1)
				goto err_badmsg;
			rec->shutdown_state = a[0];
			break;
		case INET_DIAG_DCTCPINFO:
			if (len < DCTCPINFO_LEN)
				goto err_badmsg;
			rec->dctcp_info_enabled = ld16(a);
			rec->dctcp_info_ce_state = ld16(a + 2);
			rec->dctcp_info_alpha = ld32(a + 4);
			rec->dctcp_info_ab_ecn = ld32(a + 8);
			rec->dctcp_info_ab_tot = ld32(a + 12);
			break;
		case INET_DIAG_MARK:
			if (len < 4)
				goto err_badmsg;
			rec->socket_mark = ld32(a);
			break;
		case INET_DIAG_BBRINFO:
			if (len < BBRINFO_LEN)
				goto err_badmsg;
			rec->bbr_info_bw_lo = ld32(a);
			rec->bbr_info_bw_hi = ld32(a + 4);
			rec->bbr_info_min_rtt = ld32(a + 8);
			rec->bbr_info_pacing_gain = ld32(a + 12);
			rec->bbr_info_cwnd_gain = ld32(a + 16);
			break;
		case INET_DIAG_CLASS_ID:
			if (len < 4)
				goto err_badmsg;
			rec->class_id = ld32(a);
			break;
		case INET_DIAG_ULP_INFO:
			if (parse_ulp(p, a, a + len) < 0)
				goto err_badmsg;
			break;
		case INET_DIAG_CGROUP_ID:
			if (len < 8)
				goto err_badmsg;
			rec->c_group = ld64(a);
			break;
		case INET_DIAG_SOCKOPT:
			if (len < 2)
				goto err_badmsg;
			/* two bytes of bitfields: byte 0 is the low byte */
			rec->sock_opt = (uint32_t)a[0] | (uint32_t)a[1] << 8;
			break;
		default:
			break;
		}
	}
	if (r < 0)
		goto err_badmsg;
	return 0;

err_badmsg:
	errno = EBADMSG;
	return -1;
}
