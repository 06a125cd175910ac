/*
 * xtcp_netlink_parse against independent sources:
 *  - attribute fixtures captured from real kernels, checked against values
 *    decoded by hand from their bytes;
 *  - struct tcp_info offsets read from proto/record-fields.tsv at
 *    run time (not from lib/netlink.c), for every length 0..300;
 *  - what `ss --tcp --info -a -e -m` printed for the very dumps captured in
 *    the paired pcaps, socket by socket.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "capture.h"
#include "netlink.h"
#include "record.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord rec_t;
#define DESC xtcp_flat_record__v1__xtcp_flat_record__descriptor

static const char *top;   /* the repository: "." or $XTCP_TOP */

/* --- helpers ------------------------------------------------------------ */

static const char *fixture(const char *rel)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ & 3];

	snprintf(p, sizeof(path[0]), "%s/tests/data/netlink/%s", top, rel);
	return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const ProtobufCFieldDescriptor *field(const char *name)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(&DESC, name);

	if (!f) {
		printf("Bail out! no field '%s' in the schema\n", name);
		exit(1);
	}
	return f;
}

/* A numeric field by schema name. */
static uint64_t get(const rec_t *r, const char *name)
{
	const ProtobufCFieldDescriptor *f = field(name);
	const char *base = (const char *)r + f->offset;

	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
		return *(const uint64_t *)(const void *)base;
	case PROTOBUF_C_TYPE_STRING:
		return strlen(*(char *const *)(const void *)base);
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)(const void *)base)->len;
	default:
		return *(const uint32_t *)(const void *)base;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* A SOCK_DIAG_BY_FAMILY reply built by hand. */
struct msg {
	union {
		struct nlmsghdr h;
		uint8_t b[8192];
	} u;
	size_t len;
};

static void msg_fix_len(struct msg *m)
{
	m->u.h.nlmsg_len = (uint32_t)m->len;
}

static void msg_init(struct msg *m, uint8_t family)
{
	uint8_t *d = m->u.b + NLMSG_HDRLEN;
	int i;

	memset(m, 0, sizeof(*m));
	m->u.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->u.h.nlmsg_flags = NLM_F_MULTI;
	m->u.h.nlmsg_seq = 1;
	m->u.h.nlmsg_pid = 2;
	d[0] = family;
	d[1] = 1;
	d[2] = 2;
	d[3] = 3;
	d[4] = 0x12, d[5] = 0x34;	/* sport 4660 */
	d[6] = 0xab, d[7] = 0xcd;	/* dport 43981 */
	for (i = 0; i < 16; i++) {
		d[8 + i] = (uint8_t)(0xa0 + i);
		d[24 + i] = (uint8_t)(0xc0 + i);
	}
	put32(d + 40, 7);
	put32(d + 44, 0x11223344);
	put32(d + 48, 0x55667788);
	put32(d + 52, 9);
	put32(d + 56, 10);
	put32(d + 60, 11);
	put32(d + 64, 12);
	put32(d + 68, 13);
	m->len = NLMSG_HDRLEN + 72;
	msg_fix_len(m);
}

/* Append a raw attribute (header included), padded. */
static void msg_nla(struct msg *m, const void *nla, size_t len)
{
	memcpy(m->u.b + m->len, nla, len);
	m->len += NLA_ALIGN(len);
	msg_fix_len(m);
}

static void msg_attr(struct msg *m, uint16_t type, const void *payload, size_t len)
{
	uint8_t *a = m->u.b + m->len;

	put16(a, (uint16_t)(NLA_HDRLEN + len));
	put16(a + 2, type);
	if (len)
		memcpy(a + NLA_HDRLEN, payload, len);
	m->len += NLA_ALIGN(NLA_HDRLEN + len);
	msg_fix_len(m);
}

static struct xtcp_nl_parser parser;

static int parse(const struct msg *m, rec_t *rec)
{
	xtcp_record_init(rec);
	return xtcp_netlink_parse(&parser, &m->u.h, rec);
}

/* --- inet_diag_msg ------------------------------------------------------- */

static void test_inet_diag_msg(void)
{
	static const uint8_t v4_src[16] = { 0xa0, 0xa1, 0xa2, 0xa3 };
	static const uint8_t v4_dst[16] = { 0xc0, 0xc1, 0xc2, 0xc3 };
	uint8_t v6_src[16], v6_dst[16];
	struct msg m;
	rec_t rec;
	int i;

	msg_init(&m, AF_INET);
	ok(parse(&m, &rec) == 0, "bare AF_INET message parses");
	is(rec.inet_diag_msg_family, AF_INET, "family");
	is(rec.inet_diag_msg_state, 1, "state");
	is(rec.inet_diag_msg_timer, 2, "timer");
	is(rec.inet_diag_msg_retrans, 3, "retrans");
	is(rec.inet_diag_msg_socket_source_port, 0x1234, "source port is decoded big-endian");
	is(rec.inet_diag_msg_socket_destination_port, 0xabcd, "destination port is decoded big-endian");
	ok(rec.inet_diag_msg_socket_source.len == 16 &&
	   !memcmp(rec.inet_diag_msg_socket_source.data, v4_src, 16),
	   "IPv4 source: 4 bytes then 12 zero bytes even when the kernel sent junk");
	ok(rec.inet_diag_msg_socket_destination.len == 16 &&
	   !memcmp(rec.inet_diag_msg_socket_destination.data, v4_dst, 16),
	   "IPv4 destination: 4 bytes then 12 zero bytes");
	is(rec.inet_diag_msg_socket_interface, 7, "interface");
	is(rec.inet_diag_msg_socket_cookie, 0x5566778811223344ull, "cookie: idiag_cookie[0] is the low half");
	is(rec.inet_diag_msg_expires, 9, "expires");
	is(rec.inet_diag_msg_rqueue, 10, "rqueue");
	is(rec.inet_diag_msg_wqueue, 11, "wqueue");
	is(rec.inet_diag_msg_uid, 12, "uid");
	is(rec.inet_diag_msg_inode, 13, "inode");
	is(rec.tcp_info_rto, 0, "no INFO attribute: tcp_info stays 0");
	ok(rec.congestion_algorithm_string && !rec.congestion_algorithm_string[0],
	   "no CONG attribute: empty string, not NULL");
	ok(rec.ulp_name && !rec.ulp_name[0], "no ULP attribute: empty string, not NULL");

	msg_init(&m, AF_INET6);
	for (i = 0; i < 16; i++) {
		v6_src[i] = (uint8_t)(0xa0 + i);
		v6_dst[i] = (uint8_t)(0xc0 + i);
	}
	ok(parse(&m, &rec) == 0, "bare AF_INET6 message parses");
	is(rec.inet_diag_msg_family, AF_INET6, "family AF_INET6");
	ok(!memcmp(rec.inet_diag_msg_socket_source.data, v6_src, 16) &&
	   !memcmp(rec.inet_diag_msg_socket_destination.data, v6_dst, 16),
	   "IPv6 addresses: all 16 bytes");
}

/* --- the attribute fixtures -------------------------------------------- */

struct want {
	const char *field;
	uint64_t value;
};

struct attr_case {
	const char *file;
	const char *cong;		/* expected congestion_algorithm_string, or NULL */
	struct want want[10];
};

/* Values decoded by hand from the fixture bytes (xxd). */
static const struct attr_case attr_cases[] = {
	{ "6_6_44/attribute_bbrinfo", NULL, {
		{ "bbr_info_bw_lo", 0x61a7f9e5 }, { "bbr_info_bw_hi", 0 },
		{ "bbr_info_min_rtt", 20 }, { "bbr_info_pacing_gain", 739 },
		{ "bbr_info_cwnd_gain", 739 } } },
	{ "6_6_44/attribute_bbrinfo_another_example", NULL, {
		{ "bbr_info_bw_lo", 0x1b206aff }, { "bbr_info_min_rtt", 70 },
		{ "bbr_info_pacing_gain", 739 }, { "bbr_info_cwnd_gain", 739 } } },
	{ "6_6_44/attribute_cgroup_id", NULL, { { "c_group", 0x1102 } } },
	{ "6_6_44/attribute_class_id", NULL, { { "class_id", 0 } } },
	{ "6_6_44/attribute_cong", "cubic", { { "congestion_algorithm_enum", 1 } } },
	{ "6_6_44/attribute_cong_bbr", "bbr", { { "congestion_algorithm_enum", 5 } } },
	{ "6_6_44/attribute_cong_dctcp", "dctcp", { { "congestion_algorithm_enum", 2 } } },
	{ "6_6_44/attribute_cong_vegas", "vegas", { { "congestion_algorithm_enum", 3 } } },
	{ "6_6_44/attribute_dctcpinfo", NULL, {
		{ "dctcp_info_enabled", 1 }, { "dctcp_info_ce_state", 0 },
		{ "dctcp_info_alpha", 654 }, { "dctcp_info_ab_ecn", 0 },
		{ "dctcp_info_ab_tot", 32768 } } },
	{ "6_6_44/attribute_dctcpinfo_4033", NULL, {
		{ "dctcp_info_enabled", 1 }, { "dctcp_info_alpha", 654 },
		{ "dctcp_info_ab_tot", 32768 } } },
	{ "6_6_44/attribute_meminfo", NULL, {
		{ "mem_info_rmem", 0 }, { "mem_info_wmem", 0 }, { "mem_info_fmem", 0 },
		{ "mem_info_tmem", 0 } } },
	{ "4_19_319/attribute_meminfo_f4096", NULL, {
		{ "mem_info_rmem", 0 }, { "mem_info_wmem", 0 }, { "mem_info_fmem", 4096 },
		{ "mem_info_tmem", 0 } } },
	{ "6_6_44/attribute_shutdown", NULL, { { "shutdown_state", 0 } } },
	{ "6_6_44/attribute_skmeminfo", NULL, {
		{ "sk_mem_info_rmem_alloc", 0 }, { "sk_mem_info_rcv_buf", 1000000 },
		{ "sk_mem_info_wmem_alloc", 0 }, { "sk_mem_info_snd_buf", 2626560 },
		{ "sk_mem_info_fwd_alloc", 0 }, { "sk_mem_info_drops", 0 } } },
	{ "6_6_44/attribute_skmeminfo2", NULL, {
		{ "sk_mem_info_rcv_buf", 1000000 }, { "sk_mem_info_snd_buf", 1000000 } } },
	{ "4_19_319/attribute_skmeminfo_send2626560_forward2096", NULL, {
		{ "sk_mem_info_rcv_buf", 1000000 }, { "sk_mem_info_snd_buf", 2626560 },
		{ "sk_mem_info_fwd_alloc", 4096 } } },
	{ "6_6_44/attribute_sockopt", NULL, { { "sock_opt", 0x52 } } },
	{ "6_6_44/attribute_tcclass", NULL, { { "traffic_class", 2 } } },
	{ "6_6_44/attribute_tos", NULL, { { "type_of_service", 0 } } },
	{ "6_6_44/attribute_tos2", NULL, { { "type_of_service", 2 } } },
	{ "6_6_44/attribute_vegasinfo", NULL, {
		{ "vegas_info_enabled", 1 }, { "vegas_info_rtt_cnt", 0 },
		{ "vegas_info_rtt", 211 }, { "vegas_info_min_rtt", 0x7fffffff } } },
};

static void test_attribute_fixtures(void)
{
	size_t i, j, len;
	uint8_t *nla;
	struct msg m;
	rec_t rec;

	for (i = 0; i < sizeof(attr_cases) / sizeof(attr_cases[0]); i++) {
		const struct attr_case *c = &attr_cases[i];

		nla = slurp(fixture(c->file), &len);
		if (!ok(nla != NULL, "read %s", c->file))
			continue;
		msg_init(&m, AF_INET);
		msg_nla(&m, nla, len);
		ok(parse(&m, &rec) == 0, "%s: parses", c->file);
		for (j = 0; j < 10 && c->want[j].field; j++)
			is(get(&rec, c->want[j].field), c->want[j].value, "%s: %s",
			   c->file, c->want[j].field);
		if (c->cong)
			ok(!strcmp(rec.congestion_algorithm_string, c->cong), "%s: name '%s'",
			   c->file, rec.congestion_algorithm_string);

		/* the same attribute with an AF_INET6 header, behind an unknown one */
		msg_init(&m, AF_INET6);
		msg_attr(&m, 200, "zz", 2);
		msg_nla(&m, nla, len);
		ok(parse(&m, &rec) == 0 &&
		   (!c->want[0].field || get(&rec, c->want[0].field) == c->want[0].value),
		   "%s: same in an IPv6 message after an unknown attribute", c->file);
		free(nla);
	}
}

/* --- struct tcp_info, driven by the spec table -------------------------- */

struct ti_field {
	char name[64];
	unsigned off, size;	/* bytes; size 0: a bitfield of byte @off */
	unsigned shift, mask;
};

static struct ti_field ti[80];
static int n_ti;

/* Read the tcp_info rows of record-fields.tsv: "u32 @8", "byte6 & 0x0F", ... */
static int load_spec(void)
{
	char path[512], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proto/record-fields.tsv", top);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n_ti < (int)(sizeof(ti) / sizeof(ti[0]))) {
		char *name, *type, *src, *s, *save;
		struct ti_field *t = &ti[n_ti];

		if (!strtok_r(line, "\t", &save) || !(name = strtok_r(NULL, "\t", &save)) ||
		    !(type = strtok_r(NULL, "\t", &save)) || !(src = strtok_r(NULL, "\n", &save)))
			continue;
		if (strncmp(name, "tcp_info_", 9))
			continue;
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name);
		if ((s = strstr(src, "u8 @")))
			t->size = 1, t->off = (unsigned)atoi(s + 4);
		else if ((s = strstr(src, "u16 @")))
			t->size = 2, t->off = (unsigned)atoi(s + 5);
		else if ((s = strstr(src, "u32 @")))
			t->size = 4, t->off = (unsigned)atoi(s + 5);
		else if ((s = strstr(src, "u64 @")))
			t->size = 8, t->off = (unsigned)atoi(s + 5);
		else if ((s = strstr(src, "byte"))) {
			t->off = (unsigned)atoi(s + 4);
			t->shift = (s = strstr(src, ">>")) ? (unsigned)atoi(s + 2) : 0;
			s = strstr(src, "0x");
			t->mask = s ? (unsigned)strtoul(s, NULL, 16) : 0;
			if (!t->mask)
				continue;
		} else
			continue;
		n_ti++;
	}
	fclose(f);
	return 0;
}

/* The value the spec says @t has in a tcp_info of @len bytes at @b. */
static uint64_t ti_expect(const struct ti_field *t, const uint8_t *b, size_t len)
{
	uint64_t v = 0;
	unsigned i;

	if (t->size == 0)
		return t->off < len ? (uint64_t)(b[t->off] >> t->shift) & t->mask : 0;
	if (t->off + t->size > len)
		return 0;
	for (i = 0; i < t->size; i++)
		v |= (uint64_t)b[t->off + i] << (8 * i);
	return v;
}

static int ti_check(const rec_t *rec, const uint8_t *b, size_t len, const char *what)
{
	int i, bad = 0;

	for (i = 0; i < n_ti; i++) {
		uint64_t want = ti_expect(&ti[i], b, len), got = get(rec, ti[i].name);

		if (got != want) {
			if (bad++ < 5)
				printf("# %s: %s = %llu, spec says %llu\n", what, ti[i].name,
				       (unsigned long long)got, (unsigned long long)want);
		}
	}
	return bad == 0;
}

static void test_tcp_info_fixtures(void)
{
	static const struct {
		const char *file;
		size_t payload;
	} files[] = {
		{ "4_19_319/attribute_info", 224 },
		{ "4_19_319/attribute_info2", 224 },
		{ "5_15_164/attribute_info", 232 },
		{ "6_1_103/attribute_info", 232 },
		{ "6_1_103/attribute_info2", 232 },
		{ "6_6_44/attribute_info", 240 },
		{ "6_6_44/attribute_info2", 240 },
	};
	size_t i, len;
	uint8_t *nla;
	struct msg m;
	rec_t rec;

	i = (size_t)load_spec();
	ok(i == 0 && n_ti == 61, "record-fields.tsv: %d tcp_info fields with offsets", n_ti);

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		nla = slurp(fixture(files[i].file), &len);
		if (!ok(nla != NULL, "read %s", files[i].file))
			continue;
		is(len - NLA_HDRLEN, files[i].payload, "%s: struct tcp_info of this kernel", files[i].file);
		msg_init(&m, AF_INET6);
		msg_nla(&m, nla, len);
		ok(parse(&m, &rec) == 0, "%s: parses", files[i].file);
		ok(ti_check(&rec, nla + NLA_HDRLEN, len - NLA_HDRLEN, files[i].file),
		   "%s: every tcp_info field as the spec table says", files[i].file);
		free(nla);
	}

	/* hand-decoded spot values, so the spec-driven check has a check too */
	nla = slurp(fixture("6_6_44/attribute_info"), &len);
	msg_init(&m, AF_INET);
	if (nla)
		msg_nla(&m, nla, len);
	ok(nla && parse(&m, &rec) == 0, "6.6 attribute_info");
	is(rec.tcp_info_state, 1, "6.6: state ESTABLISHED");
	is(rec.tcp_info_options, 0x1f, "6.6: options");
	is(rec.tcp_info_send_scale, 9, "6.6: snd_wscale 9");
	is(rec.tcp_info_rcv_scale, 9, "6.6: rcv_wscale 9");
	is(rec.tcp_info_delivery_rate_app_limited, 1, "6.6: app limited");
	is(rec.tcp_info_fast_open_client_failed, 0, "6.6: fastopen_client_fail");
	is(rec.tcp_info_rto, 201000, "6.6: rto");
	is(rec.tcp_info_ato, 40000, "6.6: ato");
	is(rec.tcp_info_snd_mss, 32768, "6.6: snd_mss");
	is(rec.tcp_info_rcv_mss, 536, "6.6: rcv_mss");
	is(rec.tcp_info_last_data_sent, 1328, "6.6: last_data_sent");
	is(rec.tcp_info_last_data_recv, 1327, "6.6: last_data_recv");
	is(rec.tcp_info_rtt, 47, "6.6: rtt");
	is(rec.tcp_info_rtt_var, 20, "6.6: rttvar");
	is(rec.tcp_info_snd_ssthresh, 0x7fffffff, "6.6: snd_ssthresh");
	is(rec.tcp_info_adv_mss, 65483, "6.6: advmss");
	is(rec.tcp_info_pacing_rate, 13688981723ull, "6.6: pacing_rate");
	is(rec.tcp_info_max_pacing_rate, UINT64_MAX, "6.6: max_pacing_rate");
	is(rec.tcp_info_bytes_acked, 11, "6.6: bytes_acked");
	is(rec.tcp_info_min_rtt, 40, "6.6: min_rtt");
	is(rec.tcp_info_delivery_rate, 819200000, "6.6: delivery_rate");
	is(rec.tcp_info_delivered, 2, "6.6: delivered");
	is(rec.tcp_info_bytes_sent, 10, "6.6: bytes_sent");
	is(rec.tcp_info_snd_wnd, 65536, "6.6: snd_wnd");
	is(rec.tcp_info_rcv_wnd, 65536, "6.6: rcv_wnd (6.x field)");
	is(rec.tcp_info_total_rto, 0, "6.6: total_rto is past its 240 bytes");
	free(nla);

	nla = slurp(fixture("4_19_319/attribute_info"), &len);
	msg_init(&m, AF_INET);
	if (nla)
		msg_nla(&m, nla, len);
	ok(nla && parse(&m, &rec) == 0, "4.19 attribute_info");
	is(rec.tcp_info_rto, 201000, "4.19: rto");
	is(rec.tcp_info_snd_mss, 32768, "4.19: snd_mss");
	is(rec.tcp_info_reord_seen, 0, "4.19: reord_seen (last field of 224 bytes)");
	is(rec.tcp_info_snd_wnd, 0, "4.19: snd_wnd absent, 0");
	is(rec.tcp_info_rcv_wnd, 0, "4.19: rcv_wnd absent, 0");
	free(nla);
}

static void test_tcp_info_lengths(void)
{
	uint8_t payload[300];
	size_t len, i;
	int bad = 0;
	struct msg m;
	rec_t rec;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)((i * 37 + 11) % 255 + 1);	/* never 0 */
	for (len = 0; len <= sizeof(payload); len++) {
		char what[64];

		snprintf(what, sizeof(what), "tcp_info of %zu bytes", len);
		msg_init(&m, AF_INET);
		msg_attr(&m, INET_DIAG_INFO, payload, len);
		if (parse(&m, &rec) != 0 || !ti_check(&rec, payload, len, what))
			bad++;
	}
	is(bad, 0, "tcp_info of every length 0..300: whole fields set, cut or missing ones 0");

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_INFO, payload, 100);
	ok(parse(&m, &rec) == 0, "100-byte tcp_info parses");
	ok(rec.tcp_info_rcv_space != 0, "100 bytes: rcv_space @96 is set");
	is(rec.tcp_info_total_retrans, 0, "100 bytes: total_retrans @100 is 0");
	is(rec.tcp_info_pacing_rate, 0, "100 bytes: pacing_rate is 0");

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_INFO, payload, 300);
	ok(parse(&m, &rec) == 0, "300-byte tcp_info (a future kernel) is accepted");
	ok(rec.tcp_info_total_rto_time != 0, "300 bytes: total_rto_time is set");

	memset(payload, 0, sizeof(payload));
	payload[6] = 0xa5;
	payload[7] = 0x07;
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_INFO, payload, 8);
	ok(parse(&m, &rec) == 0, "8-byte tcp_info parses");
	is(rec.tcp_info_send_scale, 5, "snd_wscale is the low nibble");
	is(rec.tcp_info_rcv_scale, 10, "rcv_wscale is the high nibble");
	is(rec.tcp_info_delivery_rate_app_limited, 1, "app_limited is bit 0 of byte 7");
	is(rec.tcp_info_fast_open_client_failed, 3, "fastopen_client_fail is bits 1-2 of byte 7");
}

/* --- attributes the fixtures do not have ----------------------------- */

static void test_synthetic_attributes(void)
{
	static const struct {
		const char *name;
		int value;
	} cong[] = {
		{ "cubic", 1 }, { "dctcp", 2 }, { "vegas", 3 }, { "prague", 4 },
		{ "bbr", 5 }, { "bbr2", 6 }, { "bbr3", 7 }, { "reno", 0 },
		{ "", 0 }, { "bb", 0 }, { "htcp", 0 }, { "cub", 1 },
	};
	uint8_t buf[128], *nest;
	uint32_t u32;
	uint64_t u64;
	struct msg m;
	rec_t rec;
	size_t i;

	for (i = 0; i < sizeof(cong) / sizeof(cong[0]); i++)
		is(xtcp_netlink_cong_enum(cong[i].name), cong[i].value, "cong_enum(\"%s\")",
		   cong[i].name);
	is(xtcp_netlink_cong_enum(NULL), 0, "cong_enum(NULL)");

	msg_init(&m, AF_INET);
	u32 = 0xdeadbeef;
	msg_attr(&m, INET_DIAG_MARK, &u32, 4);
	u32 = 0x00100002;
	msg_attr(&m, INET_DIAG_CLASS_ID, &u32, 4);
	u64 = 0x8877665544332211ull;
	msg_attr(&m, INET_DIAG_CGROUP_ID, &u64, 8);
	buf[0] = 0x52, buf[1] = 0x05;
	msg_attr(&m, INET_DIAG_SOCKOPT, buf, 2);
	buf[0] = 3;
	msg_attr(&m, INET_DIAG_SHUTDOWN, buf, 1);
	buf[0] = 0xb8;
	msg_attr(&m, INET_DIAG_TOS, buf, 1);
	buf[0] = 0x28;
	msg_attr(&m, INET_DIAG_TCLASS, buf, 1);
	msg_attr(&m, INET_DIAG_CONG, "bbr2", 4);	/* no NUL */
	/* ULP_INFO { NAME "tls", TLS { ... } }, flagged nested as the kernel may */
	memset(buf, 0, sizeof(buf));
	nest = buf;
	put16(nest, NLA_HDRLEN + 4), put16(nest + 2, INET_ULP_INFO_NAME);
	memcpy(nest + 4, "tls", 4);
	nest += 8;
	put16(nest, NLA_HDRLEN + 8), put16(nest + 2, INET_ULP_INFO_TLS | NLA_F_NESTED);
	nest += 12;
	msg_attr(&m, INET_DIAG_ULP_INFO | NLA_F_NESTED, buf, (size_t)(nest - buf));
	ok(parse(&m, &rec) == 0, "synthetic message with every small attribute parses");
	is(rec.socket_mark, 0xdeadbeef, "MARK -> socket_mark");
	is(rec.class_id, 0x00100002, "CLASS_ID");
	is(rec.c_group, 0x8877665544332211ull, "CGROUP_ID, all 64 bits");
	is(rec.sock_opt, 0x0552, "SOCKOPT: first byte is the low byte");
	is(rec.shutdown_state, 3, "SHUTDOWN");
	is(rec.type_of_service, 0xb8, "TOS");
	is(rec.traffic_class, 0x28, "TCLASS");
	ok(!strcmp(rec.congestion_algorithm_string, "bbr2"), "CONG without a NUL");
	is(rec.congestion_algorithm_enum, 6, "bbr2 -> BBR2");
	ok(!strcmp(rec.ulp_name, "tls"), "ULP_INFO nested NAME -> ulp_name '%s'", rec.ulp_name);

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_CONG, "prague", 7);
	msg_attr(&m, INET_DIAG_ULP_INFO, NULL, 0);
	ok(parse(&m, &rec) == 0 && rec.congestion_algorithm_enum == 4, "prague -> PRAGUE");
	ok(rec.ulp_name[0] == 0, "empty ULP_INFO: no name");

	memset(buf, 'x', sizeof(buf));
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_CONG, buf, 100);
	put16(buf, NLA_HDRLEN + 60), put16(buf + 2, INET_ULP_INFO_NAME);
	msg_attr(&m, INET_DIAG_ULP_INFO, buf, NLA_HDRLEN + 60);
	ok(parse(&m, &rec) == 0, "over-long names parse");
	is(strlen(rec.congestion_algorithm_string), sizeof(parser.cong) - 1, "CONG name cut to fit");
	is(strlen(rec.ulp_name), sizeof(parser.ulp) - 1, "ULP name cut to fit");

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_CONG, "", 0);
	ok(parse(&m, &rec) == 0 && rec.congestion_algorithm_string[0] == 0 &&
	   rec.congestion_algorithm_enum == 0, "empty CONG attribute");

	/* a message at an odd address: every read must be alignment-free */
	{
		static uint8_t odd[sizeof(m.u.b) + 1];
		uint8_t *nla;
		size_t len;

		nla = slurp(fixture("6_6_44/attribute_info"), &len);
		msg_init(&m, AF_INET6);
		if (nla)
			msg_nla(&m, nla, len);
		memcpy(odd + 1, m.u.b, m.len);
		xtcp_record_init(&rec);
		ok(nla && xtcp_netlink_parse(&parser, (const struct nlmsghdr *)(void *)(odd + 1), &rec) == 0 &&
		   rec.tcp_info_rto == 201000, "message at an unaligned address");
		free(nla);
	}

	/* an unaligned attribute length in the middle, no padding at the end */
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_TOS, "\x10", 1);
	msg_attr(&m, INET_DIAG_SHUTDOWN, "\x02", 1);
	m.len -= 3;	/* drop the last attribute's padding */
	msg_fix_len(&m);
	ok(parse(&m, &rec) == 0 && rec.type_of_service == 0x10 && rec.shutdown_state == 2,
	   "5-byte attributes; the last one without padding");

	/* a type that comes twice is read in order: the last one wins, a short one fails */
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_TOS, "\x10", 1);
	u32 = 7;
	msg_attr(&m, INET_DIAG_MARK, &u32, 4);
	msg_attr(&m, INET_DIAG_TOS, "\x20", 1);
	ok(parse(&m, &rec) == 0 && rec.type_of_service == 0x20 && rec.socket_mark == 7,
	   "TOS twice: the second one is the record's");
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_CONG, "reno", 5);
	msg_attr(&m, INET_DIAG_CONG, "bbr", 4);
	ok(parse(&m, &rec) == 0 && !strcmp(rec.congestion_algorithm_string, "bbr") &&
	   rec.congestion_algorithm_enum == 5, "CONG twice: name and enum of the second");
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_MARK, &u32, 2);
	msg_attr(&m, INET_DIAG_MARK, &u32, 4);
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "MARK twice, the first one short: EBADMSG");
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_MARK, &u32, 4);
	msg_attr(&m, INET_DIAG_MARK, &u32, 2);
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "MARK twice, the second one short: EBADMSG");
}

/* --- malformed input ------------------------------------------------- */

/* meminfo_from_sk: mem_info from SKMEMINFO when the request left MEMINFO out. */
static void test_meminfo_from_sk(void)
{
	uint32_t sk[9] = { 11, 22, 33, 44, 55, 66, 77, 88, 99 }, mi[4] = { 1, 2, 3, 4 };
	struct msg m;
	rec_t rec;

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_SKMEMINFO, sk, sizeof(sk));
	ok(parse(&m, &rec) == 0, "SKMEMINFO alone parses");
	ok(rec.mem_info_rmem == 0 && rec.mem_info_wmem == 0 && rec.mem_info_fmem == 0 &&
	   rec.mem_info_tmem == 0, "without meminfo_from_sk, mem_info stays 0");
	parser.meminfo_from_sk = true;
	ok(parse(&m, &rec) == 0, "SKMEMINFO alone parses, meminfo_from_sk");
	is(rec.mem_info_rmem, 11, "rmem = SK_MEMINFO_RMEM_ALLOC");
	is(rec.mem_info_wmem, 66, "wmem = SK_MEMINFO_WMEM_QUEUED");
	is(rec.mem_info_fmem, 55, "fmem = SK_MEMINFO_FWD_ALLOC");
	is(rec.mem_info_tmem, 33, "tmem = SK_MEMINFO_WMEM_ALLOC");
	is(rec.sk_mem_info_wmem_queued, 66, "sk_mem_info kept as sent");
	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_MEMINFO, mi, sizeof(mi));
	ok(parse(&m, &rec) == 0 && rec.mem_info_rmem == 1 && rec.mem_info_tmem == 4,
	   "MEMINFO itself still fills mem_info with meminfo_from_sk");
	parser.meminfo_from_sk = false;
}

static void test_bad_input(void)
{
	static const struct {
		uint16_t type;
		size_t min;
		const char *name;
	} mins[] = {
		{ INET_DIAG_MEMINFO, 16, "MEMINFO" },
		{ INET_DIAG_VEGASINFO, 16, "VEGASINFO" },
		{ INET_DIAG_TOS, 1, "TOS" },
		{ INET_DIAG_TCLASS, 1, "TCLASS" },
		{ INET_DIAG_SKMEMINFO, 36, "SKMEMINFO" },
		{ INET_DIAG_SHUTDOWN, 1, "SHUTDOWN" },
		{ INET_DIAG_DCTCPINFO, 16, "DCTCPINFO" },
		{ INET_DIAG_MARK, 4, "MARK" },
		{ INET_DIAG_BBRINFO, 20, "BBRINFO" },
		{ INET_DIAG_CLASS_ID, 4, "CLASS_ID" },
		{ INET_DIAG_CGROUP_ID, 8, "CGROUP_ID" },
		{ INET_DIAG_SOCKOPT, 2, "SOCKOPT" },
	};
	uint8_t payload[64];
	struct msg m;
	rec_t rec;
	size_t i;
	int r;

	memset(payload, 0x5a, sizeof(payload));
	for (i = 0; i < sizeof(mins) / sizeof(mins[0]); i++) {
		msg_init(&m, AF_INET);
		msg_attr(&m, mins[i].type, payload, mins[i].min - 1);
		errno = 0;
		r = parse(&m, &rec);
		ok(r == -1 && errno == EBADMSG, "%s of %zu bytes: EBADMSG", mins[i].name, mins[i].min - 1);
		msg_init(&m, AF_INET);
		msg_attr(&m, mins[i].type, payload, mins[i].min);
		ok(parse(&m, &rec) == 0, "%s of %zu bytes: accepted", mins[i].name, mins[i].min);
		msg_init(&m, AF_INET);
		msg_attr(&m, mins[i].type, payload, mins[i].min + 13);
		ok(parse(&m, &rec) == 0, "%s of %zu bytes (longer): accepted", mins[i].name,
		   mins[i].min + 13);
	}

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_INFO, NULL, 0);
	ok(parse(&m, &rec) == 0, "INFO of 0 bytes is accepted (any length)");

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_TOS, payload, 1);
	put16(m.u.b + m.len - 8, 9);	/* nla_len 9 > the 8 bytes left */
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "nla_len overrunning the message: EBADMSG");

	msg_init(&m, AF_INET);
	msg_attr(&m, INET_DIAG_CONG, "cubic", 6);
	m.len -= 4;	/* cut the attribute: nlmsg_len ends inside it */
	msg_fix_len(&m);
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "message ends inside an attribute: EBADMSG");

	for (i = 0; i < 4; i++) {
		msg_init(&m, AF_INET);
		msg_attr(&m, INET_DIAG_TOS, payload, 1);
		put16(m.u.b + m.len - 8, (uint16_t)i);
		errno = 0;
		ok(parse(&m, &rec) == -1 && errno == EBADMSG, "nla_len %zu < 4: EBADMSG", i);
	}

	for (i = 1; i < 4; i++) {
		msg_init(&m, AF_INET);
		m.len += i;	/* stray bytes, too short for an attribute header */
		msg_fix_len(&m);
		errno = 0;
		ok(parse(&m, &rec) == -1 && errno == EBADMSG, "%zu trailing bytes: EBADMSG", i);
	}

	msg_init(&m, AF_INET);
	m.u.h.nlmsg_len = NLMSG_HDRLEN + 71;
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "message shorter than inet_diag_msg: EBADMSG");
	m.u.h.nlmsg_len = 8;
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "nlmsg_len 8: EBADMSG");

	msg_init(&m, AF_INET);
	m.u.b[NLMSG_HDRLEN] = AF_UNIX;
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EAFNOSUPPORT, "family AF_UNIX: EAFNOSUPPORT");
	m.u.b[NLMSG_HDRLEN] = 0;
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EAFNOSUPPORT, "family 0: EAFNOSUPPORT");

	msg_init(&m, AF_INET);
	msg_attr(&m, 0, payload, 3);
	msg_attr(&m, INET_DIAG_SKV6ONLY, payload, 1);
	msg_attr(&m, INET_DIAG_PAD, NULL, 0);
	msg_attr(&m, INET_DIAG_MD5SIG, payload, 20);
	msg_attr(&m, 999, payload, 33);
	msg_attr(&m, INET_DIAG_TOS, "\x04", 1);
	ok(parse(&m, &rec) == 0 && rec.type_of_service == 4,
	   "unknown and unused attribute types are skipped");

	/* ULP_INFO whose nested attribute overruns it */
	msg_init(&m, AF_INET);
	put16(payload, 40), put16(payload + 2, INET_ULP_INFO_NAME);
	msg_attr(&m, INET_DIAG_ULP_INFO, payload, 12);
	errno = 0;
	ok(parse(&m, &rec) == -1 && errno == EBADMSG, "nested ULP attribute overrunning: EBADMSG");
}

/* --- what a parse writes and what it keeps ---------------------------- */

static int kernel_field(uint32_t id)
{
	return (id >= 1001 && id < 3000) || id == 3002 || id == 3003;
}

static void test_reset(void)
{
	static char meta[] = "meta";
	static uint8_t bytes[3] = { 1, 2, 3 };
	unsigned i, kept = 0, cleared = 0, n_meta = 0, n_kernel = 0;
	uint8_t *nla;
	size_t len;
	struct msg m;
	rec_t rec;

	/* a first parse with everything, then a bare one: nothing may leak */
	nla = slurp(fixture("6_6_44/netlink_sock_diag_response_port4002"), &len);
	xtcp_record_init(&rec);
	ok(nla && xtcp_netlink_parse(&parser, (const struct nlmsghdr *)(void *)nla, &rec) == 0,
	   "full message parses");
	free(nla);

	/* every field: a non-zero value */
	for (i = 0; i < DESC.n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &DESC.fields[i];
		char *p = (char *)&rec + f->offset;

		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING:
			*(char **)(void *)p = meta;
			break;
		case PROTOBUF_C_TYPE_BYTES:
			((ProtobufCBinaryData *)(void *)p)->data = bytes;
			((ProtobufCBinaryData *)(void *)p)->len = 3;
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64:
			*(uint64_t *)(void *)p = 0x0101010101010101ull * (i % 200 + 1);
			break;
		default:
			*(uint32_t *)(void *)p = 0x01010101u * (i % 200 + 1);
			break;
		}
	}
	msg_init(&m, AF_INET);
	m.len = NLMSG_HDRLEN + 72;
	msg_fix_len(&m);
	memset(m.u.b + NLMSG_HDRLEN + 1, 0, 71);	/* every inet_diag_msg field 0 */
	ok(xtcp_netlink_parse(&parser, &m.u.h, &rec) == 0, "bare message over a filled record");

	for (i = 0; i < DESC.n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &DESC.fields[i];
		const char *p = (const char *)&rec + f->offset;
		uint64_t v;

		if (!kernel_field(f->id)) {
			n_meta++;
			switch (f->type) {
			case PROTOBUF_C_TYPE_STRING:
				v = *(char *const *)(const void *)p == meta;
				break;
			case PROTOBUF_C_TYPE_BYTES:
				v = ((const ProtobufCBinaryData *)(const void *)p)->data == bytes;
				break;
			case PROTOBUF_C_TYPE_UINT64:
			case PROTOBUF_C_TYPE_INT64:
				v = *(const uint64_t *)(const void *)p == 0x0101010101010101ull * (i % 200 + 1);
				break;
			default:
				v = *(const uint32_t *)(const void *)p == 0x01010101u * (i % 200 + 1);
				break;
			}
			if (v)
				kept++;
			else
				printf("# metadata field %s was overwritten\n", f->name);
			continue;
		}
		n_kernel++;
		if (f->id == 1001) {	/* family: the one non-zero byte */
			cleared += get(&rec, f->name) == AF_INET;
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			const ProtobufCBinaryData *b = (const void *)p;
			static const uint8_t zero[16];

			v = b->len == 16 && !memcmp(b->data, zero, 16);
		} else {
			v = get(&rec, f->name) == 0;
		}
		if (v)
			cleared++;
		else
			printf("# kernel field %s was not reset\n", f->name);
	}
	ok(n_meta >= 40, "%u metadata fields in the schema", n_meta);
	is(kept, n_meta, "every metadata field is kept");
	ok(n_kernel >= 115, "%u kernel fields in the schema", n_kernel);
	is(cleared, n_kernel, "every kernel field is reset");
}

/* --- single-message fixtures ----------------------------------------- */

static void test_message_fixtures(void)
{
	static const struct {
		const char *file;
		unsigned sport, dport, inode, cookie, expires, rtt, rttvar, last_sent;
		uint64_t pacing, bytes_acked, delivery_rate;
	} files[] = {
		{ "6_6_44/netlink_sock_diag_response_port4002", 1623, 4002, 10695, 0x1003, 6030,
		  227, 153, 962, 2883872387ull, 121, 1489454545ull },
		{ "6_6_44/netlink_sock_diag_response_port4007", 64427, 4007, 10064, 0x1005, 6030,
		  257, 131, 962, 2543852498ull, 121, 1638400000ull },
		{ "6_6_44/netlink_sock_diag_response_port4819", 47299, 4819, 199068, 0x69fe, 13672,
		  47, 20, 1328, 13688981723ull, 11, 819200000ull },
	};
	static const uint8_t lo[16] = { 127, 0, 0, 1 };
	size_t i, len;
	uint8_t *buf;
	rec_t rec;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *f = files[i].file;

		buf = slurp(fixture(f), &len);
		if (!ok(buf && len == 448, "read %s", f))
			continue;
		xtcp_record_init(&rec);
		ok(xtcp_netlink_parse(&parser, (const struct nlmsghdr *)(void *)buf, &rec) == 0,
		   "%s: parses", f);
		is(rec.inet_diag_msg_family, AF_INET, "%s: AF_INET", f);
		is(rec.inet_diag_msg_state, 1, "%s: ESTABLISHED", f);
		is(rec.inet_diag_msg_timer, 2, "%s: keepalive timer", f);
		is(rec.inet_diag_msg_socket_source_port, files[i].sport, "%s: sport", f);
		is(rec.inet_diag_msg_socket_destination_port, files[i].dport, "%s: dport", f);
		ok(!memcmp(rec.inet_diag_msg_socket_source.data, lo, 16) &&
		   !memcmp(rec.inet_diag_msg_socket_destination.data, lo, 16), "%s: 127.0.0.1", f);
		is(rec.inet_diag_msg_socket_cookie, files[i].cookie, "%s: cookie", f);
		is(rec.inet_diag_msg_expires, files[i].expires, "%s: expires", f);
		is(rec.inet_diag_msg_uid, 1000, "%s: uid", f);
		is(rec.inet_diag_msg_inode, files[i].inode, "%s: inode", f);
		is(rec.shutdown_state, 0, "%s: shutdown", f);
		is(rec.c_group, 0x1102, "%s: cgroup id", f);
		is(rec.sock_opt, 0x52, "%s: sockopt", f);
		is(rec.sk_mem_info_rcv_buf, 1000000, "%s: skmem rb", f);
		is(rec.sk_mem_info_snd_buf, 2626560, "%s: skmem tb", f);
		is(rec.tcp_info_rtt, files[i].rtt, "%s: rtt", f);
		is(rec.tcp_info_rtt_var, files[i].rttvar, "%s: rttvar", f);
		is(rec.tcp_info_last_data_sent, files[i].last_sent, "%s: last_data_sent", f);
		is(rec.tcp_info_pacing_rate, files[i].pacing, "%s: pacing_rate", f);
		is(rec.tcp_info_bytes_acked, files[i].bytes_acked, "%s: bytes_acked", f);
		is(rec.tcp_info_delivery_rate, files[i].delivery_rate, "%s: delivery_rate", f);
		is(rec.tcp_info_rcv_wnd, 65536, "%s: rcv_wnd", f);
		ok(!strcmp(rec.congestion_algorithm_string, "cubic") &&
		   rec.congestion_algorithm_enum == 1, "%s: cubic", f);
		free(buf);
	}
}

/* --- the ss oracle ---------------------------------------------------- */

struct sock {
	rec_t rec;
	uint8_t src[16], dst[16];
	char cong[32];
};

struct socks {
	struct sock *v;
	size_t n, cap;
};

static int load_socks(const char *path, struct socks *s)
{
	struct xtcp_capture c;
	const struct nlmsghdr *nlh;
	struct sock *e;
	size_t i;
	int r;

	memset(s, 0, sizeof(*s));
	if (xtcp_capture_open(&c, path) < 0) {
		printf("# %s: %s\n", path, c.err);
		return -1;
	}
	while ((r = xtcp_capture_next(&c, &nlh)) > 0) {
		if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 256;
			s->v = realloc(s->v, s->cap * sizeof(*s->v));
			if (!s->v)
				abort();
		}
		e = &s->v[s->n];
		xtcp_record_init(&e->rec);
		if (xtcp_netlink_parse(&parser, nlh, &e->rec) < 0) {
			printf("# %s: message at byte %" PRIu64 " does not parse\n", path, c.msg_offset);
			r = -1;
			break;
		}
		memcpy(e->src, parser.src, 16);
		memcpy(e->dst, parser.dst, 16);
		memcpy(e->cong, parser.cong, sizeof(e->cong));
		s->n++;
	}
	if (r < 0)
		printf("# %s: %s\n", path, c.err);
	xtcp_capture_release(&c);
	for (i = 0; i < s->n; i++) {
		s->v[i].rec.inet_diag_msg_socket_source.data = s->v[i].src;
		s->v[i].rec.inet_diag_msg_socket_destination.data = s->v[i].dst;
		s->v[i].rec.congestion_algorithm_string = s->v[i].cong;
	}
	return r;
}

static const char *const ss_states[] = {
	[1] = "ESTAB", [2] = "SYN-SENT", [3] = "SYN-RECV", [4] = "FIN-WAIT-1",
	[5] = "FIN-WAIT-2", [6] = "TIME-WAIT", [7] = "UNCONN", [8] = "CLOSE-WAIT",
	[9] = "LAST-ACK", [10] = "LISTEN", [11] = "CLOSING",
};

static int ss_state(const char *tok)
{
	int i;

	for (i = 1; i <= 11; i++)
		if (!strcmp(tok, ss_states[i]))
			return i;
	return 0;
}

/* One socket as ss printed it: its tokens. */
struct ss_block {
	char *tok[200];
	int n;
};

static const char *ss_find(const struct ss_block *b, const char *key, int *index)
{
	size_t k = strlen(key);
	int i;

	for (i = 5; i < b->n; i++)
		if (!strncmp(b->tok[i], key, k) && b->tok[i][k] == ':') {
			if (index)
				*index = i;
			return b->tok[i] + k + 1;
		}
	return NULL;
}

static int ss_has(const struct ss_block *b, const char *word, int *index)
{
	int i;

	for (i = 5; i < b->n; i++)
		if (!strcmp(b->tok[i], word)) {
			if (index)
				*index = i;
			return 1;
		}
	return 0;
}

static void fmt_addr(char *out, size_t size, const rec_t *r, int dst, int wildcard6)
{
	const ProtobufCBinaryData *a = dst ? &r->inet_diag_msg_socket_destination :
		&r->inet_diag_msg_socket_source;
	unsigned port = dst ? r->inet_diag_msg_socket_destination_port :
		r->inet_diag_msg_socket_source_port;
	char host[INET6_ADDRSTRLEN], p[12];

	inet_ntop((int)r->inet_diag_msg_family, a->data, host, sizeof(host));
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		snprintf(p, sizeof(p), "*");
	if (r->inet_diag_msg_family == AF_INET6 && !strcmp(host, "::") && !wildcard6)
		snprintf(out, size, "*:%s", p);	/* ss: a dual-stack (not v6only) wildcard */
	else if (r->inet_diag_msg_family == AF_INET6)
		snprintf(out, size, "[%s]:%s", host, p);
	else
		snprintf(out, size, "%s:%s", host, p);
}

/*
 * Compare one record with one ss block: every value ss printed must be what
 * the record says, in ss's own format.  Returns the number of mismatches;
 * *checked counts the comparisons.
 */
static int ss_compare(const struct ss_block *b, const rec_t *r, int *checked, int verbose)
{
	char want[128];
	const char *got;
	int bad = 0, n = 0, i, v6only;

#define CHECK(key, ...) do { \
		if ((got = ss_find(b, key, NULL))) { \
			snprintf(want, sizeof(want), __VA_ARGS__); \
			n++; \
			if (strcmp(got, want)) { \
				bad++; \
				if (verbose) \
					printf("#   %s: ss %s, record %s\n", key, got, want); \
			} \
		} \
	} while (0)
#define CHECK_TOK(cond, what) do { \
		n++; \
		if (!(cond)) { \
			bad++; \
			if (verbose) \
				printf("#   %s\n", what); \
		} \
	} while (0)

	CHECK_TOK(ss_state(b->tok[0]) == (int)r->inet_diag_msg_state, "state");
	snprintf(want, sizeof(want), "%u", r->inet_diag_msg_rqueue);
	CHECK_TOK(!strcmp(b->tok[1], want), "Recv-Q");
	snprintf(want, sizeof(want), "%u", r->inet_diag_msg_wqueue);
	CHECK_TOK(!strcmp(b->tok[2], want), "Send-Q");
	/* "[::]" when the socket is v6only (INET_DIAG_SKV6ONLY, not recorded), else "*" */
	v6only = ss_find(b, "v6only", NULL) && !strcmp(ss_find(b, "v6only", NULL), "1");
	fmt_addr(want, sizeof(want), r, 0, v6only);
	CHECK_TOK(!strcmp(b->tok[3], want), "local address");
	fmt_addr(want, sizeof(want), r, 1, v6only);
	CHECK_TOK(!strcmp(b->tok[4], want), "peer address");

	CHECK("sk", "%llx", (unsigned long long)r->inet_diag_msg_socket_cookie);
	CHECK("ino", "%u", r->inet_diag_msg_inode);
	CHECK("uid", "%u", r->inet_diag_msg_uid);
	CHECK("tos", "%#x", r->type_of_service);
	CHECK("tclass", "%#x", r->traffic_class);
	CHECK("class_id", "%#x", r->class_id);
	CHECK("skmem", "(r%u,rb%u,t%u,tb%u,f%u,w%u,o%u,bl%u,d%u)", r->sk_mem_info_rmem_alloc,
	      r->sk_mem_info_rcv_buf, r->sk_mem_info_wmem_alloc, r->sk_mem_info_snd_buf,
	      r->sk_mem_info_fwd_alloc, r->sk_mem_info_wmem_queued, r->sk_mem_info_optmem,
	      r->sk_mem_info_backlog, r->sk_mem_info_drops);

	CHECK("wscale", "%u,%u", r->tcp_info_send_scale, r->tcp_info_rcv_scale);
	CHECK("rto", "%g", r->tcp_info_rto / 1000.0);
	CHECK("backoff", "%u", r->tcp_info_backoff);
	CHECK("rtt", "%g/%g", r->tcp_info_rtt / 1000.0, r->tcp_info_rtt_var / 1000.0);
	CHECK("ato", "%g", r->tcp_info_ato / 1000.0);
	CHECK("mss", "%u", r->tcp_info_snd_mss);
	CHECK("pmtu", "%u", r->tcp_info_pmtu);
	CHECK("rcvmss", "%u", r->tcp_info_rcv_mss);
	CHECK("advmss", "%u", r->tcp_info_adv_mss);
	CHECK("cwnd", "%u", r->tcp_info_snd_cwnd);
	CHECK("ssthresh", "%u", r->tcp_info_snd_ssthresh);
	CHECK("bytes_sent", "%llu", (unsigned long long)r->tcp_info_bytes_sent);
	CHECK("bytes_retrans", "%llu", (unsigned long long)r->tcp_info_bytes_retrans);
	CHECK("bytes_acked", "%llu", (unsigned long long)r->tcp_info_bytes_acked);
	CHECK("bytes_received", "%llu", (unsigned long long)r->tcp_info_bytes_received);
	CHECK("segs_out", "%u", r->tcp_info_segs_out);
	CHECK("segs_in", "%u", r->tcp_info_segs_in);
	CHECK("data_segs_out", "%u", r->tcp_info_data_segs_out);
	CHECK("data_segs_in", "%u", r->tcp_info_data_segs_in);
	CHECK("lastsnd", "%u", r->tcp_info_last_data_sent);
	CHECK("lastrcv", "%u", r->tcp_info_last_data_recv);
	CHECK("lastack", "%u", r->tcp_info_last_ack_recv);
	CHECK("delivered", "%u", r->tcp_info_delivered);
	CHECK("delivered_ce", "%u", r->tcp_info_delivered_ce);
	CHECK("busy", "%llums", (unsigned long long)r->tcp_info_busy_time / 1000);
	CHECK("unacked", "%u", r->tcp_info_unacked);
	CHECK("retrans", "%u/%u", r->tcp_info_retrans, r->tcp_info_total_retrans);
	CHECK("lost", "%u", r->tcp_info_lost);
	CHECK("sacked", "%u", r->tcp_info_sacked);
	CHECK("dsack_dups", "%u", r->tcp_info_dsack_dups);
	CHECK("reordering", "%u", r->tcp_info_reordering);
	CHECK("reord_seen", "%u", r->tcp_info_reord_seen);
	CHECK("rcv_rtt", "%g", r->tcp_info_rcv_rtt / 1000.0);
	CHECK("rcv_space", "%u", r->tcp_info_rcv_space);
	CHECK("rcv_ssthresh", "%u", r->tcp_info_rcv_ssthresh);
	CHECK("notsent", "%u", r->tcp_info_not_sent_bytes);
	CHECK("minrtt", "%g", r->tcp_info_min_rtt / 1000.0);
	CHECK("rcv_ooopack", "%u", r->tcp_info_rcv_ooopack);
	CHECK("snd_wnd", "%u", r->tcp_info_snd_wnd);
	CHECK("rcv_wnd", "%u", r->tcp_info_rcv_wnd);
	if (r->dctcp_info_enabled)
		CHECK("dctcp", "(ce_state:%u,alpha:%u,ab_ecn:%u,ab_tot:%u)", r->dctcp_info_ce_state,
		      r->dctcp_info_alpha, r->dctcp_info_ab_ecn, r->dctcp_info_ab_tot);
	else
		CHECK("dctcp", "fallback_mode");
	CHECK("bbr", "(bw:%.0fbps,mrtt:%g,pacing_gain:%g,cwnd_gain:%g)",
	      ((double)((uint64_t)r->bbr_info_bw_hi << 32 | r->bbr_info_bw_lo)) * 8.0,
	      r->bbr_info_min_rtt / 1000.0, r->bbr_info_pacing_gain / 256.0,
	      r->bbr_info_cwnd_gain / 256.0);

	if (ss_has(b, "pacing_rate", &i) && i + 1 < b->n) {
		snprintf(want, sizeof(want), "%.0fbps", r->tcp_info_pacing_rate * 8.0);
		if (r->tcp_info_max_pacing_rate && r->tcp_info_max_pacing_rate != UINT64_MAX)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "/%.0fbps",
				 r->tcp_info_max_pacing_rate * 8.0);
		CHECK_TOK(!strcmp(b->tok[i + 1], want), "pacing_rate");
	}
	if (ss_has(b, "delivery_rate", &i) && i + 1 < b->n) {
		snprintf(want, sizeof(want), "%.0fbps", r->tcp_info_delivery_rate * 8.0);
		CHECK_TOK(!strcmp(b->tok[i + 1], want), "delivery_rate");
	}
	if (r->congestion_algorithm_string[0]) {
		/* the words ss prints from tcp_info options and the CONG name */
		CHECK_TOK(ss_has(b, r->congestion_algorithm_string, NULL), "congestion control name");
		CHECK_TOK(ss_has(b, "ts", NULL) == !!(r->tcp_info_options & 1), "ts option");
		CHECK_TOK(ss_has(b, "sack", NULL) == !!(r->tcp_info_options & 2), "sack option");
		CHECK_TOK(ss_has(b, "ecn", NULL) == !!(r->tcp_info_options & 8), "ecn option");
		CHECK_TOK(ss_has(b, "ecnseen", NULL) == !!(r->tcp_info_options & 16), "ecnseen option");
		CHECK_TOK(ss_has(b, "app_limited", NULL) == !!r->tcp_info_delivery_rate_app_limited,
			  "app_limited");
	}
#undef CHECK
#undef CHECK_TOK
	*checked = n;
	return bad;
}

/*
 * @same_run: the pcap is the traffic of the very ss run that printed
 * @ss_text, so every socket must be found; otherwise (6_6_44's 10-socket
 * pair comes from two different runs) only sockets whose cookie is in both.
 */
static void test_ss_pair(const char *pcap, const char *ss_text, int same_run)
{
	struct socks socks;
	struct ss_block *blocks = NULL;
	size_t n_blocks = 0, cap = 0, i, j, len;
	char *text, *line, *save_line;
	int matched = 0, reported = 0, with_cookie = 0, estab_min = 1 << 30, r;

	text = (char *)slurp(fixture(ss_text), &len);
	if (!ok(text != NULL, "read %s", ss_text))
		return;
	r = load_socks(fixture(pcap), &socks);
	if (!ok(r == 0 && socks.n > 0, "%s: %zu replies decode", pcap, socks.n)) {
		free(text);
		free(socks.v);
		return;
	}

	for (line = strtok_r(text, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
		struct ss_block *b;
		char *tok, *save_tok;

		if (line[0] != '\t' && line[0] != ' ') {
			char first[16] = "";

			sscanf(line, "%15s", first);
			if (!ss_state(first))
				continue;
			if (n_blocks == cap) {
				cap = cap ? cap * 2 : 64;
				blocks = realloc(blocks, cap * sizeof(*blocks));
				if (!blocks)
					abort();
			}
			blocks[n_blocks++].n = 0;
		} else if (!n_blocks) {
			continue;
		}
		b = &blocks[n_blocks - 1];
		for (tok = strtok_r(line, " \t", &save_tok); tok && b->n < 200;
		     tok = strtok_r(NULL, " \t", &save_tok))
			b->tok[b->n++] = tok;
	}

	for (i = 0; i < n_blocks; i++) {
		const char *sk = ss_find(&blocks[i], "sk", NULL);
		unsigned long long cookie = sk ? strtoull(sk, NULL, 16) : 0;
		int best = -1, best_bad = 1 << 30, best_checked = 0, checked;

		for (j = 0; j < socks.n; j++) {
			int bad;

			if (socks.v[j].rec.inet_diag_msg_socket_cookie != cookie)
				continue;
			bad = ss_compare(&blocks[i], &socks.v[j].rec, &checked, 0);
			if (bad < best_bad) {
				best_bad = bad;
				best = (int)j;
				best_checked = checked;
			}
		}
		if (best >= 0)
			with_cookie++;
		if (best >= 0 && best_bad == 0) {
			matched++;
			if (!strcmp(blocks[i].tok[0], "ESTAB") && best_checked < estab_min)
				estab_min = best_checked;
		} else if ((same_run || best >= 0) && reported++ < 3) {
			printf("# %s: socket sk:%s (%s %s) has no matching record\n", ss_text,
			       sk ? sk : "?", blocks[i].tok[3], blocks[i].tok[4]);
			if (best >= 0)
				ss_compare(&blocks[i], &socks.v[best].rec, &checked, 1);
		}
	}
	if (same_run)
		ok(n_blocks > 0 && (size_t)matched == n_blocks,
		   "%s: %d of %zu sockets ss printed are decoded with the same values", pcap,
		   matched, n_blocks);
	else
		ok(with_cookie > 0 && matched == with_cookie,
		   "%s: %d of the %d sockets also in this other ss run decoded with the same values",
		   pcap, matched, with_cookie);
	if (estab_min != 1 << 30)
		ok(estab_min >= 30, "%s: at least %d values compared per established socket", pcap,
		   estab_min);
	free(blocks);
	free(text);
	free(socks.v);
}

static void test_ss_oracle(void)
{
	static const struct {
		const char *pcap, *ss;
		int same_run;
	} pairs[] = {
		{ "4_19_319/4_19_319_tcp_10_sockets.pcap", "4_19_319/4_19_319_ss_tcp_info_a_10", 1 },
		{ "4_19_319/4_19_319_tcp_100_sockets.pcap", "4_19_319/4_19_319_ss_tcp_info_a_100", 1 },
		{ "5_15_164/5_15_164_tcp_10_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_10", 1 },
		{ "5_15_164/5_15_164_tcp_100_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_100", 1 },
		{ "5_15_164/5_15_164_tcp_1000_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_1000", 1 },
		{ "6_1_103/6_1_103_tcp_10_sockets.pcap", "6_1_103/6_1_103_ss_tcp_info_a_10", 1 },
		{ "6_1_103/6_1_103_tcp_100_sockets.pcap", "6_1_103/6_1_103_ss_tcp_info_a_100", 1 },
		{ "6_6_44/tcp_10_sockets.pcap", "6_6_44/ss_tcp_info_a_10", 0 },
		{ "6_6_44/tcp_100_sockets.pcap", "6_6_44/ss_tcp_info_a_100", 1 },
		{ "6_6_44/tcp_100_sockets_bbr.pcap", "6_6_44/ss_tcp_info_a_100_bbr", 1 },
		{ "6_6_44/tcp_100_sockets_dctcp.pcap", "6_6_44/ss_tcp_info_a_100_dctcp", 1 },
		{ "6_6_44/tcp_100_sockets_vegas.pcap", "6_6_44/ss_tcp_info_a_100_vegas", 1 },
		{ "6_6_44/ss_tcp_info_a_4.pcap", "6_6_44/ss_tcp_info_a_4", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		test_ss_pair(pairs[i].pcap, pairs[i].ss, pairs[i].same_run);
}

/* --- speed, reported, not tested (sanitizer builds are slow) -------------- */

static void report_speed(void)
{
	struct xtcp_capture c;
	const struct nlmsghdr *nlh, *msgs[4096];
	struct timespec t0, t1;
	size_t n = 0, i, rounds = 200;
	rec_t rec;
	double ns;

	if (xtcp_capture_open(&c, fixture("6_6_44/tcp_100_sockets.pcap")) < 0)
		return;
	while (n < 4096 && xtcp_capture_next(&c, &nlh) > 0)
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			msgs[n++] = nlh;
	xtcp_record_init(&rec);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t k = 0; k < rounds; k++)
		for (i = 0; i < n; i++)
			xtcp_netlink_parse(&parser, msgs[i], &rec);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	     (double)(n * rounds);
	printf("# xtcp_netlink_parse: %.1f ns per message (%zu messages x %zu)\n", ns, n, rounds);
	xtcp_capture_release(&c);
}

int main(void)
{
	top = getenv("XTCP_TOP");
	if (!top || !*top)
		top = ".";
	if (access(fixture("README.md"), R_OK)) {
		printf("Bail out! no fixtures at %s (run from the top of the repository, or set XTCP_TOP)\n", fixture(""));
		return 1;
	}

	test_inet_diag_msg();
	test_attribute_fixtures();
	test_tcp_info_fixtures();
	test_tcp_info_lengths();
	test_synthetic_attributes();
	test_meminfo_from_sk();
	test_bad_input();
	test_reset();
	test_message_fixtures();
	test_ss_oracle();
	report_speed();
	return done_testing();
}
