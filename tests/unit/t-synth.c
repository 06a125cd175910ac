/* Unit tests for bench/src/synth.c: determinism, realism, field coverage, the netlink view. */

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "synth.h"
#include "netlink.h"
#include "tap.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

#define N 20000

static size_t encode(const xtcp_rec *rec, uint8_t *out)
{
	return xtcp_record_encode(rec, out);
}

static void test_determinism(void)
{
	struct xtcp_synth a, b, c;
	xtcp_rec ra, rb, rc;
	static uint8_t ba[4096], bb[4096], bc[4096];
	size_t i, la, lb, lc, same_c = 0, bad = 0;

	xtcp_synth_init(&a, 42);
	xtcp_synth_init(&b, 42);
	xtcp_synth_init(&c, 43);
	for (i = 0; i < N; i++) {
		xtcp_synth_record(&a, &ra);
		xtcp_synth_record(&b, &rb);
		xtcp_synth_record(&c, &rc);
		la = encode(&ra, ba);
		lb = encode(&rb, bb);
		lc = encode(&rc, bc);
		if (la != lb || memcmp(ba, bb, la))
			bad++;
		if (la == lc && !memcmp(ba, bc, la))
			same_c++;
	}
	is(bad, 0, "the same seed gives the same %d records", N);
	is(same_c, 0, "another seed gives other records");

	/* a known value pins the PRNG: splitmix64(0) */
	xtcp_synth_init(&a, 0);
	is(xtcp_synth_next(&a), 0xe220a8397b1dcdafull, "splitmix64 first value for seed 0");
}

/* Is the field's value non-zero (number), non-empty (string, bytes)? */
static int field_set(const xtcp_rec *rec, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)rec + f->offset;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s;

		memcpy(&s, base, sizeof(s));
		return s && s[0];
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData bd;

		memcpy(&bd, base, sizeof(bd));
		return bd.len > 0;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64: {
		uint64_t v;

		memcpy(&v, base, sizeof(v));
		return v != 0;
	}
	default: {
		uint32_t v;

		memcpy(&v, base, sizeof(v));
		return v != 0;
	}
	}
}

/* Fields a kernel reports as 0 in practice, which the generator leaves 0. */
static const char *const always_zero[] = {
	"tcp_info_last_ack_sent",            /* never set by Linux */
	"inet_diag_msg_socket_interface",    /* 0 unless bound to a device */
	"record_kind",                       /* the generator makes polls, no close event */
	"events_lost",                       /* close events (xtcp-dump -E) only */
};

/* xtcp-rate's fields (rate_interval_ns, X_delta, X_per_s): no collector writes them. */
static int is_rate_field(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "rate_interval_ns") || (n > 6 && !strcmp(name + n - 6, "_delta")) ||
	       (n > 6 && !strcmp(name + n - 6, "_per_s"));
}

static int exempt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(always_zero) / sizeof(always_zero[0]); i++)
		if (!strcmp(name, always_zero[i]))
			return 1;
	return is_rate_field(name);
}

static void test_realism(void)
{
	const ProtobufCMessageDescriptor *d = &xtcp_flat_record__v1__xtcp_flat_record__descriptor;
	static unsigned char seen[512];
	struct xtcp_synth g;
	xtcp_rec r;
	size_t i, k, v4 = 0, v6 = 0, estab = 0, incons = 0, missing = 0;
	size_t cong_bad = 0, addr_bad = 0, states = 0;
	unsigned char state_seen[16] = { 0 };
	const char *netns_seen[8] = { 0 };
	size_t n_netns = 0;

	xtcp_synth_init(&g, 7);
	for (i = 0; i < N; i++) {
		xtcp_synth_record(&g, &r);
		for (k = 0; k < d->n_fields; k++)
			if (field_set(&r, &d->fields[k]))
				seen[k] = 1;
		if (r.inet_diag_msg_family == AF_INET) {
			v4++;
			for (k = 4; k < 16; k++)
				if (r.inet_diag_msg_socket_source.data[k] ||
				    r.inet_diag_msg_socket_destination.data[k])
					addr_bad++;
		} else if (r.inet_diag_msg_family == AF_INET6) {
			v6++;
		}
		if (r.inet_diag_msg_state == 1)
			estab++;
		if (r.inet_diag_msg_state < 16)
			state_seen[r.inet_diag_msg_state] = 1;
		if (r.tcp_info_bytes_acked > r.tcp_info_bytes_sent ||
		    r.tcp_info_bytes_retrans > r.tcp_info_bytes_sent ||
		    r.tcp_info_min_rtt > r.tcp_info_rtt ||
		    r.tcp_info_data_segs_out > r.tcp_info_segs_out ||
		    r.tcp_info_data_segs_in > r.tcp_info_segs_in ||
		    (r.tcp_info_state && r.tcp_info_state != r.inet_diag_msg_state))
			incons++;
		if (r.congestion_algorithm_enum != xtcp_netlink_cong_enum(r.congestion_algorithm_string))
			cong_bad++;
		for (k = 0; k < n_netns; k++)
			if (!strcmp(netns_seen[k], r.netns))
				break;
		if (k == n_netns && n_netns < 8)
			netns_seen[n_netns++] = r.netns;
	}
	for (k = 0; k < d->n_fields; k++)
		if (!seen[k] && !exempt(d->fields[k].name)) {
			printf("# never set: %s\n", d->fields[k].name);
			missing++;
		}
	for (k = 0; k < 16; k++)
		states += state_seen[k];
	is(missing, 0, "every field is set in some record");
	ok(v4 > N / 2 && v6 > N / 4, "IPv4 and IPv6 (%zu, %zu)", v4, v6);
	ok(estab > N * 3 / 4 && estab < N, "mostly ESTABLISHED (%zu)", estab);
	ok(states >= 5, "several states (%zu)", states);
	ok(n_netns >= 4, "several namespaces (%zu)", n_netns);
	is(incons, 0, "counters agree (acked <= sent, min_rtt <= rtt, ...)");
	is(cong_bad, 0, "congestion enum matches the name");
	is(addr_bad, 0, "IPv4 addresses are 4 bytes and 12 zeros");
}

static void test_netlink(void)
{
	struct xtcp_synth g;
	struct xtcp_nl_parser p;
	xtcp_rec r, want, got;
	static uint8_t msg[XTCP_SYNTH_NETLINK_MAX], bw[4096], bg[4096];
	size_t i, lw, lg, bad = 0, bad_parse = 0, too_long = 0;

	memset(&p, 0, sizeof(p));
	xtcp_synth_init(&g, 99);
	for (i = 0; i < N; i++) {
		xtcp_synth_record(&g, &r);
		if (xtcp_synth_netlink(&r, msg) > XTCP_SYNTH_NETLINK_MAX)
			too_long++;
		want = r;
		want.inet_diag_msg_socket_dest_asn = 0;
		want.inet_diag_msg_socket_next_hop_asn = 0;
		got = r;
		if (xtcp_netlink_parse(&p, (const struct nlmsghdr *)msg, &got) < 0) {
			bad_parse++;
			continue;
		}
		lw = encode(&want, bw);
		lg = encode(&got, bg);
		if (lw != lg || memcmp(bw, bg, lw))
			bad++;
	}
	is(too_long, 0, "messages fit XTCP_SYNTH_NETLINK_MAX");
	is(bad_parse, 0, "xtcp_netlink_parse accepts every generated message");
	is(bad, 0, "parse(netlink(record)) gives back the record's kernel fields");
}

int main(void)
{
	test_determinism();
	test_realism();
	test_netlink();
	return done_testing();
}
