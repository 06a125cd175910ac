/*
 * Synthetic records.  Every choice is drawn from the generator's own
 * splitmix64 stream, in a fixed order, so a seed names one stream forever:
 * changing the order of the draws below changes every stream (and the
 * expected bytes in the tests).
 */

#include "synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "netlink.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

/* The record's strings are char * but never written through: constants are fine. */
#define LIT(s) ((char *)(uintptr_t)(s))

/* 2026-01-01T00:00:00Z; polls are 10 s apart, POLL_ROWS records each. */
#define BASE_NS    1767225600000000000LL
#define POLL_NS    10000000000LL
#define POLL_ROWS  1000

struct netns_def {
	const char *name;
	uint64_t inode;
	uint32_t nsid;
	int container;
};

static const struct netns_def netns_defs[] = {
	{ "", 4026531840u, 0, 0 },                       /* the host's own */
	{ "blue", 4026532301u, 1, 0 },
	{ "red", 4026532377u, 2, 0 },
	{ "cni-5d0f2b7e-9a41-4c3e-8f1a-2b6c7d8e9f01", 4026532512u, 3, 1 },
	{ "cni-a13c77d2-0b5e-4f6a-9c8d-1e2f3a4b5c6d", 4026532640u, 4, 1 },
};
#define N_NETNS (sizeof(netns_defs) / sizeof(netns_defs[0]))

static const char *const images[] = {
	"docker.io/library/nginx:1.27", "ghcr.io/acme/api:2.4.1", "docker.io/library/postgres:16",
};

uint64_t xtcp_synth_next(struct xtcp_synth *g)
{
	uint64_t z = (g->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void xtcp_synth_init(struct xtcp_synth *g, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->seed = seed;
	g->state = seed;
	g->v6_percent = 40;
}

/* Uniform in [lo, hi]. */
static uint64_t range(struct xtcp_synth *g, uint64_t lo, uint64_t hi)
{
	return lo + xtcp_synth_next(g) % (hi - lo + 1);
}

/* Roughly log-uniform in [1, 2^bits): small values common, large ones present. */
static uint64_t logu(struct xtcp_synth *g, unsigned bits)
{
	unsigned b = (unsigned)range(g, 0, bits - 1);

	return (1ull << b) + (xtcp_synth_next(g) & ((1ull << b) - 1));
}

static unsigned pick_state(struct xtcp_synth *g)
{
	unsigned r = (unsigned)range(g, 0, 99);

	if (r < 84)
		return 1;   /* ESTABLISHED */
	if (r < 90)
		return 6;   /* TIME_WAIT */
	if (r < 93)
		return 10;  /* LISTEN */
	if (r < 96)
		return 8;   /* CLOSE_WAIT */
	if (r < 98)
		return 5;   /* FIN_WAIT2 */
	return 2;           /* SYN_SENT */
}

static const char *pick_cong(struct xtcp_synth *g)
{
	unsigned r = (unsigned)range(g, 0, 99);

	if (r < 50)
		return "cubic";
	if (r < 75)
		return "bbr";
	if (r < 87)
		return "dctcp";
	if (r < 96)
		return "reno";
	return "vegas";
}

static void put_addrs(struct xtcp_synth *g, xtcp_rec *rec, int v6)
{
	uint64_t a = xtcp_synth_next(g), b = xtcp_synth_next(g);

	memset(g->src, 0, sizeof(g->src));
	memset(g->dst, 0, sizeof(g->dst));
	if (!v6) {
		/* local 10.1.x.y, peer 10.x.y.z inside the DC or a public address */
		g->src[0] = 10;
		g->src[1] = 1;
		g->src[2] = (uint8_t)(a >> 8);
		g->src[3] = (uint8_t)(a | 1);
		if (b & 1) {
			g->dst[0] = 10;
			g->dst[1] = (uint8_t)(b >> 8);
		} else {
			g->dst[0] = (uint8_t)(b >> 8) % 190 + 11;
			g->dst[1] = (uint8_t)(b >> 16);
		}
		g->dst[2] = (uint8_t)(b >> 24);
		g->dst[3] = (uint8_t)((b >> 32) | 1);
	} else {
		static const uint8_t local[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00 };

		memcpy(g->src, local, 8);
		memcpy(g->src + 8, &a, 8);
		g->dst[0] = 0x20;
		g->dst[1] = 0x01;
		g->dst[2] = 0x0d;
		g->dst[3] = 0xb8;
		memcpy(g->dst + 4, &b, 8);
		g->dst[15] = (uint8_t)(a >> 40) | 1;
	}
	rec->inet_diag_msg_socket_source.data = g->src;
	rec->inet_diag_msg_socket_source.len = 16;
	rec->inet_diag_msg_socket_destination.data = g->dst;
	rec->inet_diag_msg_socket_destination.len = 16;
}

static void put_metadata(struct xtcp_synth *g, xtcp_rec *rec, const struct netns_def *ns)
{
	uint64_t n = g->count;

	rec->schema_version = XTCP_SCHEMA_VERSION;
	rec->daemon_version = LIT("xtcp-bench-gen");
	/* every record of a poll with the poll's time, as xtcp-dump stamps them */
	rec->timestamp_ns = BASE_NS + (int64_t)(n / POLL_ROWS) * POLL_NS;
	rec->hostname = LIT("web-07.fra1.example.net");
	rec->location = LIT("fra1");
	rec->netns = LIT(ns->name);
	rec->netns_inode = ns->inode;
	rec->nsid = ns->nsid;
	if (ns->container) {
		unsigned i;
		uint64_t h = ns->inode * 0x9e3779b97f4a7c15ull;

		for (i = 0; i < 64; i++) {
			g->container_id[i] = "0123456789abcdef"[(h >> (4 * (i % 16))) & 15];
			if (i % 16 == 15)
				h = h * 0xbf58476d1ce4e5b9ull + 1;
		}
		g->container_id[64] = '\0';
		snprintf(g->container_name, sizeof(g->container_name), "app-%u", ns->nsid);
		rec->container_id = g->container_id;
		rec->container_runtime = LIT("containerd");
		rec->container_name = g->container_name;
		rec->container_image = LIT(images[ns->nsid % 3]);
	}
	rec->label = LIT("bench");
	rec->tag = LIT("synthetic");
	rec->record_counter = n + 1;
	rec->socket_fd = 3 + (uint64_t)(ns - netns_defs);
	rec->netlinker_id = (uint64_t)(ns - netns_defs) % 2;
	rec->poll_sequence = n / POLL_ROWS + 1;

	rec->uplink1_ifname = LIT("eth0");
	rec->uplink1_nic_driver = LIT("mlx5_core");
	rec->uplink1_nic_model = LIT("ConnectX-6 Dx");
	rec->uplink1_nic_pci_vendor = 0x15b3;
	rec->uplink1_nic_pci_device = 0x101d;
	rec->uplink1_nic_bus_info = LIT("0000:3b:00.0");
	rec->uplink1_nic_speed_mbps = 100000;
	rec->uplink1_nic_fw_version = LIT("22.39.1002");
	rec->uplink1_lldp_chassis_name = LIT("tor-a.fra1");
	rec->uplink1_lldp_chassis_id = LIT("a0:36:9f:12:34:56");
	rec->uplink1_lldp_mgmt_ip = LIT("10.255.0.1");
	rec->uplink1_lldp_port_id = LIT("Ethernet12");
	rec->uplink1_lldp_port_descr = LIT("web-07 eth0");
	rec->uplink2_ifname = LIT("eth1");
	rec->uplink2_nic_driver = LIT("mlx5_core");
	rec->uplink2_nic_model = LIT("ConnectX-6 Dx");
	rec->uplink2_nic_pci_vendor = 0x15b3;
	rec->uplink2_nic_pci_device = 0x101d;
	rec->uplink2_nic_bus_info = LIT("0000:3b:00.1");
	rec->uplink2_nic_speed_mbps = 100000;
	rec->uplink2_nic_fw_version = LIT("22.39.1002");
	rec->uplink2_lldp_chassis_name = LIT("tor-b.fra1");
	rec->uplink2_lldp_chassis_id = LIT("a0:36:9f:65:43:21");
	rec->uplink2_lldp_mgmt_ip = LIT("10.255.0.2");
	rec->uplink2_lldp_port_id = LIT("Ethernet12");
	rec->uplink2_lldp_port_descr = LIT("web-07 eth1");
}

/* tcp_info and the other attributes of a socket that has them. */
static void put_tcp(struct xtcp_synth *g, xtcp_rec *rec, int v6, unsigned state)
{
	unsigned cls = (unsigned)range(g, 0, 9);
	uint32_t rtt, mss, cwnd, unacked;
	uint64_t sent, acked, bw;
	const char *cong;

	/* rtt in µs: LAN, regional, WAN */
	if (cls < 5)
		rtt = (uint32_t)range(g, 40, 900);
	else if (cls < 8)
		rtt = (uint32_t)range(g, 1000, 25000);
	else
		rtt = (uint32_t)range(g, 25000, 280000);
	mss = v6 ? 1428 : 1448;
	cwnd = state == 10 ? 10 : (uint32_t)range(g, 10, 10 + logu(g, 10));
	unacked = state == 1 ? (uint32_t)range(g, 0, cwnd) : 0;
	sent = state == 10 ? 0 : logu(g, 36);
	acked = sent > (uint64_t)unacked * mss ? sent - (uint64_t)unacked * mss : 0;

	rec->tcp_info_state = state;
	rec->tcp_info_ca_state = range(g, 0, 19) == 0 ? 1 : 0;
	rec->tcp_info_retransmits = range(g, 0, 49) == 0 ? 1 : 0;
	rec->tcp_info_probes = range(g, 0, 99) == 0 ? 1 : 0;
	rec->tcp_info_backoff = range(g, 0, 99) == 0 ? 1 : 0;
	rec->tcp_info_options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE |
				(range(g, 0, 3) == 0 ? TCPI_OPT_ECN : 0);
	rec->tcp_info_send_scale = 7;
	rec->tcp_info_rcv_scale = (uint32_t)range(g, 7, 10);
	rec->tcp_info_delivery_rate_app_limited = (uint32_t)range(g, 0, 1);
	rec->tcp_info_fast_open_client_failed = range(g, 0, 199) == 0 ? 1 : 0;
	rec->tcp_info_rtt = rtt;
	rec->tcp_info_rtt_var = rtt / 4 + (uint32_t)range(g, 0, rtt / 4);
	rec->tcp_info_min_rtt = rtt - (uint32_t)range(g, 0, rtt / 3);
	rec->tcp_info_rto = 200000 + rtt + 4 * rec->tcp_info_rtt_var;
	rec->tcp_info_ato = state == 1 ? 40000 : 0;
	rec->tcp_info_snd_mss = mss;
	rec->tcp_info_rcv_mss = state == 10 ? 536 : mss;
	rec->tcp_info_adv_mss = mss;
	rec->tcp_info_pmtu = 1500;
	rec->tcp_info_unacked = unacked;
	rec->tcp_info_sacked = unacked ? (uint32_t)range(g, 0, unacked / 8) : 0;
	rec->tcp_info_lost = unacked ? (uint32_t)range(g, 0, unacked / 16) : 0;
	rec->tcp_info_retrans = rec->tcp_info_lost;
	rec->tcp_info_fackets = rec->tcp_info_sacked;
	rec->tcp_info_last_data_sent = (uint32_t)logu(g, 20);
	rec->tcp_info_last_ack_sent = 0;
	rec->tcp_info_last_data_recv = (uint32_t)logu(g, 20);
	rec->tcp_info_last_ack_recv = (uint32_t)range(g, 0, rec->tcp_info_last_data_recv);
	rec->tcp_info_rcv_ssthresh = (uint32_t)range(g, 64000, 3145728);
	rec->tcp_info_snd_ssthresh = range(g, 0, 1) ? 0x7fffffff : (uint32_t)range(g, 2, cwnd);
	rec->tcp_info_snd_cwnd = cwnd;
	rec->tcp_info_reordering = 3 + (range(g, 0, 9) == 0 ? (uint32_t)range(g, 1, 20) : 0);
	rec->tcp_info_rcv_rtt = rtt + (uint32_t)range(g, 0, rtt / 2);
	rec->tcp_info_rcv_space = (uint32_t)range(g, 14480, 6291456);
	rec->tcp_info_bytes_sent = sent;
	rec->tcp_info_bytes_acked = acked;
	rec->tcp_info_bytes_retrans = sent ? range(g, 0, sent / 100) : 0;
	rec->tcp_info_bytes_received = state == 10 ? 0 : logu(g, 34);
	rec->tcp_info_data_segs_out = (uint32_t)(sent / mss + (sent ? 1 : 0));
	rec->tcp_info_data_segs_in = (uint32_t)(rec->tcp_info_bytes_received / mss +
						(rec->tcp_info_bytes_received ? 1 : 0));
	rec->tcp_info_segs_out = rec->tcp_info_data_segs_out + rec->tcp_info_data_segs_in / 2 + 1;
	rec->tcp_info_segs_in = rec->tcp_info_data_segs_in + rec->tcp_info_data_segs_out / 2 + 1;
	rec->tcp_info_total_retrans = (uint32_t)(rec->tcp_info_bytes_retrans / mss);
	rec->tcp_info_not_sent_bytes = (uint32_t)range(g, 0, 3) == 0 ? (uint32_t)logu(g, 16) : 0;
	bw = (uint64_t)cwnd * mss * 1000000 / rtt;
	rec->tcp_info_pacing_rate = bw * 2;
	rec->tcp_info_max_pacing_rate = UINT64_MAX;
	rec->tcp_info_delivery_rate = bw - bw / (range(g, 2, 16));
	rec->tcp_info_busy_time = sent ? logu(g, 40) : 0;
	rec->tcp_info_rwnd_limited = range(g, 0, 9) == 0 ? rec->tcp_info_busy_time / 10 : 0;
	rec->tcp_info_sndbuf_limited = range(g, 0, 9) == 0 ? rec->tcp_info_busy_time / 20 : 0;
	rec->tcp_info_delivered = rec->tcp_info_data_segs_out - unacked / 2;
	rec->tcp_info_delivered_ce = (rec->tcp_info_options & TCPI_OPT_ECN) ?
				     rec->tcp_info_delivered / 50 : 0;
	rec->tcp_info_dsack_dups = rec->tcp_info_total_retrans / 4;
	rec->tcp_info_reord_seen = rec->tcp_info_reordering > 3 ? (uint32_t)range(g, 1, 50) : 0;
	rec->tcp_info_rcv_ooopack = (uint32_t)range(g, 0, 7) == 0 ? (uint32_t)range(g, 1, 500) : 0;
	rec->tcp_info_snd_wnd = (uint32_t)range(g, 65535, 4194304);
	rec->tcp_info_rcv_wnd = (uint32_t)range(g, 65535, 4194304);
	rec->tcp_info_rehash = (uint32_t)range(g, 0, 30) == 0 ? 1 : 0;
	rec->tcp_info_total_rto = (uint32_t)(rec->tcp_info_total_retrans / 8) & 0xffff;
	rec->tcp_info_total_rto_recoveries = rec->tcp_info_total_rto / 2;
	rec->tcp_info_total_rto_time = rec->tcp_info_total_rto * 250;

	cong = state == 10 ? "cubic" : pick_cong(g);
	rec->congestion_algorithm_string = LIT(cong);
	rec->congestion_algorithm_enum = xtcp_netlink_cong_enum(cong);
	if (!strcmp(cong, "bbr")) {
		rec->bbr_info_bw_lo = (uint32_t)bw;
		rec->bbr_info_bw_hi = (uint32_t)(bw >> 32);
		rec->bbr_info_min_rtt = rec->tcp_info_min_rtt;
		rec->bbr_info_pacing_gain = range(g, 0, 7) == 0 ? 739 : 256;
		rec->bbr_info_cwnd_gain = 512;
	} else if (!strcmp(cong, "dctcp")) {
		rec->dctcp_info_enabled = 1;
		rec->dctcp_info_ce_state = (uint32_t)range(g, 0, 1);
		rec->dctcp_info_alpha = (uint32_t)range(g, 0, 1024);
		rec->dctcp_info_ab_tot = (uint32_t)(acked & 0xffffffffu);
		rec->dctcp_info_ab_ecn = rec->dctcp_info_ab_tot / 64;
	} else if (!strcmp(cong, "vegas")) {
		rec->vegas_info_enabled = 1;
		rec->vegas_info_rtt_cnt = (uint32_t)range(g, 1, 40);
		rec->vegas_info_rtt = rtt;
		rec->vegas_info_min_rtt = rec->tcp_info_min_rtt;
	}

	rec->mem_info_rmem = (uint32_t)range(g, 0, 3) == 0 ? (uint32_t)logu(g, 18) : 0;
	rec->mem_info_wmem = unacked * mss;
	rec->mem_info_fmem = (uint32_t)range(g, 0, 1) * 4096;
	rec->mem_info_tmem = rec->mem_info_wmem;
	rec->sk_mem_info_rmem_alloc = rec->mem_info_rmem;
	rec->sk_mem_info_rcv_buf = (uint32_t)range(g, 131072, 6291456);
	rec->sk_mem_info_wmem_alloc = rec->mem_info_wmem;
	rec->sk_mem_info_snd_buf = (uint32_t)range(g, 16384, 4194304);
	rec->sk_mem_info_fwd_alloc = rec->mem_info_fmem;
	rec->sk_mem_info_wmem_queued = rec->mem_info_wmem + rec->tcp_info_not_sent_bytes;
	rec->sk_mem_info_optmem = (uint32_t)range(g, 0, 1) * 320;
	rec->sk_mem_info_backlog = (uint32_t)range(g, 0, 63) == 0 ? (uint32_t)range(g, 1, 8192) : 0;
	rec->sk_mem_info_drops = (uint32_t)range(g, 0, 99) == 0 ? (uint32_t)range(g, 1, 40) : 0;

	rec->type_of_service = range(g, 0, 3) == 0 ? 0x48 : 0;  /* AF41 for some */
	rec->traffic_class = v6 ? rec->type_of_service : 0;
	rec->shutdown_state = state == 8 ? 1 : 0;
	rec->class_id = range(g, 0, 4) == 0 ? 0x10001 : 0;
	rec->sock_opt = 0x2 | (range(g, 0, 2) == 0 ? 0x20 : 0);   /* reuse, sometimes nodelay-ish bits */
	rec->c_group = 0x0000100000000000ull | range(g, 1000, 9999);
	rec->socket_mark = range(g, 0, 9) == 0 ? (uint32_t)range(g, 1, 0xffff) : 0;
	rec->ulp_name = range(g, 0, 19) == 0 ? LIT("tls") : LIT("");
}

/*
 * Who owns the socket, as xtcp-dump -p finds it: derived from what the
 * record already holds (no draw from the PRNG, so the other fields stay
 * what they were): the service decides the process, the namespace the
 * cgroup (a Kubernetes pod's container, else a systemd service).
 */
static void put_owner(struct xtcp_synth *g, xtcp_rec *rec, const struct netns_def *ns)
{
	static const struct {
		uint32_t port;
		const char *comm;
	} services[] = {
		{ 443, "nginx" }, { 80, "nginx" }, { 22, "sshd" }, { 5432, "postgres" },
		{ 6379, "redis-server" }, { 9092, "java" }, { 8080, "api" },
	};
	uint32_t port = rec->inet_diag_msg_socket_source_port < 32768 ?
			rec->inet_diag_msg_socket_source_port :
			rec->inet_diag_msg_socket_destination_port;
	const char *comm = "curl";
	size_t i;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (services[i].port == port)
			comm = services[i].comm;
	rec->process_comm = LIT(comm);
	rec->process_pid = 1000 + (uint32_t)((ns - netns_defs) * 7919 + port * 31) % 60000;
	/* nginx's workers share its listening sockets */
	rec->process_count = rec->inet_diag_msg_state == 10 && !strcmp(comm, "nginx") ? 5 : 1;
	if (ns->container) {
		const char *uid = ns->name + 4;         /* cni-<uuid> */
		char *p;

		static const char slice[] = "/kubepods.slice/kubepods-burstable.slice/"
					    "kubepods-burstable-pod";

		snprintf(g->pod_uid, sizeof(g->pod_uid), "%s", uid);
		snprintf(g->cgroup_path, sizeof(g->cgroup_path), "%s%s.slice/cri-containerd-%s.scope",
			 slice, uid, g->container_id);
		/* a slice name writes the uid's '-' as '_' */
		for (p = g->cgroup_path + sizeof(slice) - 1; *p && *p != '.'; p++)
			if (*p == '-')
				*p = '_';
		rec->cgroup_path = g->cgroup_path;
		rec->pod_uid = g->pod_uid;
	} else {
		snprintf(g->systemd_unit, sizeof(g->systemd_unit), "%s.service", comm);
		snprintf(g->cgroup_path, sizeof(g->cgroup_path), "/system.slice/%s", g->systemd_unit);
		rec->cgroup_path = g->cgroup_path;
		rec->systemd_unit = g->systemd_unit;
	}
}

void xtcp_synth_record(struct xtcp_synth *g, xtcp_rec *rec)
{
	const struct netns_def *ns = &netns_defs[range(g, 0, N_NETNS - 1)];
	int v6 = range(g, 0, 99) < g->v6_percent;
	unsigned state = pick_state(g);
	static const uint32_t uids[] = { 0, 33, 101, 999, 1000 };
	static const uint32_t service_ports[] = { 443, 80, 22, 5432, 6379, 9092, 8080 };
	uint32_t service = service_ports[range(g, 0, 6)];

	xtcp_record_init(rec);
	put_metadata(g, rec, ns);
	put_addrs(g, rec, v6);
	rec->inet_diag_msg_family = v6 ? AF_INET6 : AF_INET;
	rec->inet_diag_msg_state = state;
	if (state == 10) {
		rec->inet_diag_msg_socket_source_port = service;
		rec->inet_diag_msg_socket_destination_port = 0;
		memset(g->dst, 0, sizeof(g->dst));
		if (range(g, 0, 1))
			memset(g->src, 0, sizeof(g->src));   /* 0.0.0.0 / :: */
	} else if (range(g, 0, 2) == 0) {
		/* the server side: a service port here */
		rec->inet_diag_msg_socket_source_port = service;
		rec->inet_diag_msg_socket_destination_port = (uint32_t)range(g, 32768, 60999);
	} else {
		rec->inet_diag_msg_socket_source_port = (uint32_t)range(g, 32768, 60999);
		rec->inet_diag_msg_socket_destination_port = service;
	}
	rec->inet_diag_msg_socket_interface = 0;
	rec->inet_diag_msg_socket_cookie = xtcp_synth_next(g) >> 8;
	rec->inet_diag_msg_uid = uids[range(g, 0, 4)];
	if (state == 6) {
		/* TIME_WAIT: only the inet_diag_msg, timer 3 (time-wait) */
		rec->inet_diag_msg_timer = 3;
		rec->inet_diag_msg_expires = (uint32_t)range(g, 1, 60000);
		rec->inet_diag_msg_uid = 0;
		g->count++;
		return;
	}
	rec->inet_diag_msg_inode = (uint32_t)range(g, 10000, 99999999);
	put_owner(g, rec, ns);
	if (state == 2) {
		rec->inet_diag_msg_timer = 1;
		rec->inet_diag_msg_retrans = (uint32_t)range(g, 0, 3);
		rec->inet_diag_msg_expires = (uint32_t)range(g, 1, 3000);
		g->count++;
		return;
	}
	if (state == 1 && range(g, 0, 3) == 0) {
		rec->inet_diag_msg_timer = range(g, 0, 4) ? 2 : 1;   /* keepalive, or retransmit */
		rec->inet_diag_msg_expires = (uint32_t)range(g, 1, 7200000);
		rec->inet_diag_msg_retrans = rec->inet_diag_msg_timer == 1 ? 1 : 0;
	}
	if (state == 10) {
		rec->inet_diag_msg_rqueue = (uint32_t)range(g, 0, 4);
		rec->inet_diag_msg_wqueue = 4096;   /* the backlog */
	} else {
		rec->inet_diag_msg_rqueue = range(g, 0, 9) == 0 ? (uint32_t)logu(g, 16) : 0;
		rec->inet_diag_msg_wqueue = range(g, 0, 4) == 0 ? (uint32_t)logu(g, 20) : 0;
	}
	if (rec->inet_diag_msg_family == AF_INET6 || range(g, 0, 9) == 0) {
		/* enrichment, which only some deployments do */
		static const uint64_t asns[] = { 13335, 15169, 16509, 8075, 3320, 4200000001ull };

		rec->inet_diag_msg_socket_dest_asn = asns[range(g, 0, 5)];
		rec->inet_diag_msg_socket_next_hop_asn = asns[range(g, 0, 5)];
	}
	put_tcp(g, rec, v6, state);
	g->count++;
}

void xtcp_synth_bare(xtcp_rec *rec)
{
	char *empty = LIT("");

	rec->location = rec->label = rec->tag = empty;
	rec->container_id = rec->container_runtime = rec->container_name = empty;
	rec->container_image = empty;
	rec->uplink1_ifname = rec->uplink1_nic_driver = rec->uplink1_nic_model = empty;
	rec->uplink1_nic_bus_info = rec->uplink1_nic_fw_version = empty;
	rec->uplink1_lldp_chassis_name = rec->uplink1_lldp_chassis_id = empty;
	rec->uplink1_lldp_mgmt_ip = rec->uplink1_lldp_port_id = rec->uplink1_lldp_port_descr = empty;
	rec->uplink2_ifname = rec->uplink2_nic_driver = rec->uplink2_nic_model = empty;
	rec->uplink2_nic_bus_info = rec->uplink2_nic_fw_version = empty;
	rec->uplink2_lldp_chassis_name = rec->uplink2_lldp_chassis_id = empty;
	rec->uplink2_lldp_mgmt_ip = rec->uplink2_lldp_port_id = rec->uplink2_lldp_port_descr = empty;
	rec->uplink1_nic_pci_vendor = rec->uplink1_nic_pci_device = rec->uplink1_nic_speed_mbps = 0;
	rec->uplink2_nic_pci_vendor = rec->uplink2_nic_pci_device = rec->uplink2_nic_speed_mbps = 0;
	rec->inet_diag_msg_socket_dest_asn = rec->inet_diag_msg_socket_next_hop_asn = 0;
}

/* --- polls of the same sockets ------------------------------------------ */

int xtcp_synth_polls_init(struct xtcp_synth_polls *sp, uint64_t seed, size_t sockets,
			  unsigned churn_percent)
{
	memset(sp, 0, sizeof(*sp));
	sp->seed = seed;
	sp->sockets = sockets;
	sp->churn_percent = churn_percent;
	sp->v6_percent = 40;
	sp->generation = calloc(sockets, sizeof(*sp->generation));
	sp->born = calloc(sockets, sizeof(*sp->born));
	if (!sp->generation || !sp->born) {
		xtcp_synth_polls_release(sp);
		errno = ENOMEM;
		return -1;
	}
	xtcp_synth_init(&sp->churn, seed ^ 0x636875726eull);
	return 0;
}

void xtcp_synth_polls_release(struct xtcp_synth_polls *sp)
{
	free(sp->generation);
	free(sp->born);
	sp->generation = sp->born = NULL;
}

/* A counter grown by @polls steps of @step; the 32-bit ones wrap. */
static void grow32(uint32_t *counter, uint64_t polls, uint64_t step)
{
	*counter = (uint32_t)(*counter + polls * step);
}

static void grow64(uint64_t *counter, uint64_t polls, uint64_t step)
{
	*counter += polls * step;
}

static void grow_counters(struct xtcp_synth *g, xtcp_rec *rec, uint64_t polls)
{
	uint64_t acked, recv, mss = rec->tcp_info_snd_mss ? rec->tcp_info_snd_mss : 1448;

	/* a steady rate of the socket's own: idle, a trickle, or up to 10 MB/s */
	switch (range(g, 0, 3)) {
	case 0:
		return;
	case 1:
		acked = range(g, 1, 20000);
		break;
	default:
		acked = range(g, 1, 100000000);
		break;
	}
	recv = acked / range(g, 1, 64);
	grow64(&rec->tcp_info_bytes_acked, polls, acked);
	grow64(&rec->tcp_info_bytes_sent, polls, acked + acked / 100);
	grow64(&rec->tcp_info_bytes_retrans, polls, acked / 100);
	grow64(&rec->tcp_info_bytes_received, polls, recv);
	grow32(&rec->tcp_info_data_segs_out, polls, acked / mss + 1);
	grow32(&rec->tcp_info_data_segs_in, polls, recv / mss + 1);
	grow32(&rec->tcp_info_segs_out, polls, acked / mss + recv / mss / 2 + 2);
	grow32(&rec->tcp_info_segs_in, polls, recv / mss + acked / mss / 2 + 2);
	grow32(&rec->tcp_info_delivered, polls, acked / mss + 1);
	grow32(&rec->tcp_info_total_retrans, polls, acked / 100 / mss);
	grow64(&rec->tcp_info_busy_time, polls, POLL_NS / 1000 / 2);
}

void xtcp_synth_polls_record(struct xtcp_synth_polls *sp, xtcp_rec *rec)
{
	uint64_t poll = sp->count / sp->sockets;
	size_t slot = (size_t)(sp->count % sp->sockets), i;
	struct xtcp_synth seeder;

	if (slot == 0 && poll > 0 && sp->churn_percent) {
		for (i = 0; i < sp->sockets; i++) {
			if (range(&sp->churn, 0, 99) >= sp->churn_percent)
				continue;
			sp->generation[i]++;
			sp->born[i] = (uint32_t)poll;
		}
	}
	xtcp_synth_init(&seeder, sp->seed);
	seeder.state ^= slot * 0x9e3779b97f4a7c15ull + sp->generation[slot];
	xtcp_synth_init(&sp->g, xtcp_synth_next(&seeder));
	sp->g.v6_percent = sp->v6_percent;
	xtcp_synth_record(&sp->g, rec);
	rec->timestamp_ns = BASE_NS + (int64_t)poll * POLL_NS;
	rec->poll_sequence = poll + 1;
	rec->record_counter = sp->count + 1;
	if (rec->tcp_info_state && rec->inet_diag_msg_state != 10)
		grow_counters(&sp->g, rec, poll - sp->born[slot]);
	sp->count++;
}

/* --- the kernel's view of a record ------------------------------------- */

static uint8_t *put_attr(uint8_t *p, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };

	memcpy(p, &a, sizeof(a));
	memcpy(p + NLA_HDRLEN, data, len);
	memset(p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return p + NLA_HDRLEN + NLA_ALIGN(len);
}

static void st16(uint8_t *p, uint32_t v)
{
	uint16_t x = (uint16_t)v;

	memcpy(p, &x, 2);
}

static void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void tcp_info_bytes(const xtcp_rec *rec, uint8_t *t)
{
	memset(t, 0, 248);
	t[0] = (uint8_t)rec->tcp_info_state;
	t[1] = (uint8_t)rec->tcp_info_ca_state;
	t[2] = (uint8_t)rec->tcp_info_retransmits;
	t[3] = (uint8_t)rec->tcp_info_probes;
	t[4] = (uint8_t)rec->tcp_info_backoff;
	t[5] = (uint8_t)rec->tcp_info_options;
	t[6] = (uint8_t)((rec->tcp_info_send_scale & 15) | (rec->tcp_info_rcv_scale & 15) << 4);
	t[7] = (uint8_t)((rec->tcp_info_delivery_rate_app_limited & 1) |
			 (rec->tcp_info_fast_open_client_failed & 3) << 1);
	st32(t + 8, rec->tcp_info_rto);
	st32(t + 12, rec->tcp_info_ato);
	st32(t + 16, rec->tcp_info_snd_mss);
	st32(t + 20, rec->tcp_info_rcv_mss);
	st32(t + 24, rec->tcp_info_unacked);
	st32(t + 28, rec->tcp_info_sacked);
	st32(t + 32, rec->tcp_info_lost);
	st32(t + 36, rec->tcp_info_retrans);
	st32(t + 40, rec->tcp_info_fackets);
	st32(t + 44, rec->tcp_info_last_data_sent);
	st32(t + 48, rec->tcp_info_last_ack_sent);
	st32(t + 52, rec->tcp_info_last_data_recv);
	st32(t + 56, rec->tcp_info_last_ack_recv);
	st32(t + 60, rec->tcp_info_pmtu);
	st32(t + 64, rec->tcp_info_rcv_ssthresh);
	st32(t + 68, rec->tcp_info_rtt);
	st32(t + 72, rec->tcp_info_rtt_var);
	st32(t + 76, rec->tcp_info_snd_ssthresh);
	st32(t + 80, rec->tcp_info_snd_cwnd);
	st32(t + 84, rec->tcp_info_adv_mss);
	st32(t + 88, rec->tcp_info_reordering);
	st32(t + 92, rec->tcp_info_rcv_rtt);
	st32(t + 96, rec->tcp_info_rcv_space);
	st32(t + 100, rec->tcp_info_total_retrans);
	st64(t + 104, rec->tcp_info_pacing_rate);
	st64(t + 112, rec->tcp_info_max_pacing_rate);
	st64(t + 120, rec->tcp_info_bytes_acked);
	st64(t + 128, rec->tcp_info_bytes_received);
	st32(t + 136, rec->tcp_info_segs_out);
	st32(t + 140, rec->tcp_info_segs_in);
	st32(t + 144, rec->tcp_info_not_sent_bytes);
	st32(t + 148, rec->tcp_info_min_rtt);
	st32(t + 152, rec->tcp_info_data_segs_in);
	st32(t + 156, rec->tcp_info_data_segs_out);
	st64(t + 160, rec->tcp_info_delivery_rate);
	st64(t + 168, rec->tcp_info_busy_time);
	st64(t + 176, rec->tcp_info_rwnd_limited);
	st64(t + 184, rec->tcp_info_sndbuf_limited);
	st32(t + 192, rec->tcp_info_delivered);
	st32(t + 196, rec->tcp_info_delivered_ce);
	st64(t + 200, rec->tcp_info_bytes_sent);
	st64(t + 208, rec->tcp_info_bytes_retrans);
	st32(t + 216, rec->tcp_info_dsack_dups);
	st32(t + 220, rec->tcp_info_reord_seen);
	st32(t + 224, rec->tcp_info_rcv_ooopack);
	st32(t + 228, rec->tcp_info_snd_wnd);
	st32(t + 232, rec->tcp_info_rcv_wnd);
	st32(t + 236, rec->tcp_info_rehash);
	st16(t + 240, rec->tcp_info_total_rto);
	st16(t + 242, rec->tcp_info_total_rto_recoveries);
	st32(t + 244, rec->tcp_info_total_rto_time);
}

size_t xtcp_synth_netlink(const xtcp_rec *rec, uint8_t *buf)
{
	struct nlmsghdr nlh = { .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_MULTI };
	uint8_t d[72], a[248], *p;
	const char *cong = rec->congestion_algorithm_string;
	size_t len;

	memset(d, 0, sizeof(d));
	d[0] = (uint8_t)rec->inet_diag_msg_family;
	d[1] = (uint8_t)rec->inet_diag_msg_state;
	d[2] = (uint8_t)rec->inet_diag_msg_timer;
	d[3] = (uint8_t)rec->inet_diag_msg_retrans;
	d[4] = (uint8_t)(rec->inet_diag_msg_socket_source_port >> 8);
	d[5] = (uint8_t)rec->inet_diag_msg_socket_source_port;
	d[6] = (uint8_t)(rec->inet_diag_msg_socket_destination_port >> 8);
	d[7] = (uint8_t)rec->inet_diag_msg_socket_destination_port;
	if (rec->inet_diag_msg_socket_source.len >= 16)
		memcpy(d + 8, rec->inet_diag_msg_socket_source.data, 16);
	if (rec->inet_diag_msg_socket_destination.len >= 16)
		memcpy(d + 24, rec->inet_diag_msg_socket_destination.data, 16);
	st32(d + 40, rec->inet_diag_msg_socket_interface);
	st32(d + 44, (uint32_t)rec->inet_diag_msg_socket_cookie);
	st32(d + 48, (uint32_t)(rec->inet_diag_msg_socket_cookie >> 32));
	st32(d + 52, rec->inet_diag_msg_expires);
	st32(d + 56, rec->inet_diag_msg_rqueue);
	st32(d + 60, rec->inet_diag_msg_wqueue);
	st32(d + 64, rec->inet_diag_msg_uid);
	st32(d + 68, rec->inet_diag_msg_inode);
	memcpy(buf + NLMSG_HDRLEN, d, sizeof(d));
	p = buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(d));

	/* TIME_WAIT and SYN_SENT sockets come without attributes. */
	if (rec->tcp_info_state) {
		st32(a, rec->mem_info_rmem);
		st32(a + 4, rec->mem_info_wmem);
		st32(a + 8, rec->mem_info_fmem);
		st32(a + 12, rec->mem_info_tmem);
		p = put_attr(p, INET_DIAG_MEMINFO, a, 16);
		tcp_info_bytes(rec, a);
		p = put_attr(p, INET_DIAG_INFO, a, 248);
		if (rec->vegas_info_enabled) {
			st32(a, rec->vegas_info_enabled);
			st32(a + 4, rec->vegas_info_rtt_cnt);
			st32(a + 8, rec->vegas_info_rtt);
			st32(a + 12, rec->vegas_info_min_rtt);
			p = put_attr(p, INET_DIAG_VEGASINFO, a, 16);
		}
		if (cong && cong[0]) {
			len = strnlen(cong, 31);
			p = put_attr(p, INET_DIAG_CONG, cong, len + 1);
		}
		a[0] = (uint8_t)rec->type_of_service;
		p = put_attr(p, INET_DIAG_TOS, a, 1);
		if (rec->inet_diag_msg_family == AF_INET6) {
			a[0] = (uint8_t)rec->traffic_class;
			p = put_attr(p, INET_DIAG_TCLASS, a, 1);
		}
		st32(a, rec->sk_mem_info_rmem_alloc);
		st32(a + 4, rec->sk_mem_info_rcv_buf);
		st32(a + 8, rec->sk_mem_info_wmem_alloc);
		st32(a + 12, rec->sk_mem_info_snd_buf);
		st32(a + 16, rec->sk_mem_info_fwd_alloc);
		st32(a + 20, rec->sk_mem_info_wmem_queued);
		st32(a + 24, rec->sk_mem_info_optmem);
		st32(a + 28, rec->sk_mem_info_backlog);
		st32(a + 32, rec->sk_mem_info_drops);
		p = put_attr(p, INET_DIAG_SKMEMINFO, a, 36);
		a[0] = (uint8_t)rec->shutdown_state;
		p = put_attr(p, INET_DIAG_SHUTDOWN, a, 1);
		if (rec->dctcp_info_enabled) {
			st16(a, rec->dctcp_info_enabled);
			st16(a + 2, rec->dctcp_info_ce_state);
			st32(a + 4, rec->dctcp_info_alpha);
			st32(a + 8, rec->dctcp_info_ab_ecn);
			st32(a + 12, rec->dctcp_info_ab_tot);
			p = put_attr(p, INET_DIAG_DCTCPINFO, a, 16);
		}
		if (rec->bbr_info_cwnd_gain) {
			st32(a, rec->bbr_info_bw_lo);
			st32(a + 4, rec->bbr_info_bw_hi);
			st32(a + 8, rec->bbr_info_min_rtt);
			st32(a + 12, rec->bbr_info_pacing_gain);
			st32(a + 16, rec->bbr_info_cwnd_gain);
			p = put_attr(p, INET_DIAG_BBRINFO, a, 20);
		}
		if (rec->socket_mark) {
			st32(a, rec->socket_mark);
			p = put_attr(p, INET_DIAG_MARK, a, 4);
		}
		st32(a, rec->class_id);
		p = put_attr(p, INET_DIAG_CLASS_ID, a, 4);
		if (rec->ulp_name && rec->ulp_name[0]) {
			uint8_t nest[48];
			uint8_t *q;

			len = strnlen(rec->ulp_name, 31);
			q = put_attr(nest, INET_ULP_INFO_NAME, rec->ulp_name, len + 1);
			p = put_attr(p, INET_DIAG_ULP_INFO, nest, (size_t)(q - nest));
		}
		st64(a, rec->c_group);
		p = put_attr(p, INET_DIAG_CGROUP_ID, a, 8);
		st16(a, rec->sock_opt);
		p = put_attr(p, INET_DIAG_SOCKOPT, a, 2);
	}
	nlh.nlmsg_len = (uint32_t)(p - buf);
	memcpy(buf, &nlh, sizeof(nlh));
	return nlh.nlmsg_len;
}
