/*
 * Unit tests for lib/schema.c (the generated field table and its lookups)
 * and lib/tcp.c (states, masks, families).  The table is checked against
 * protobuf-c's descriptor, the independent view of the same .proto.
 */

#include <string.h>
#include <sys/socket.h>

#include "schema.h"
#include "tap.h"
#include "tcp.h"

static const char *kind_type(enum xtcp_value_kind k)
{
	switch (k) {
	case XTCP_VALUE_U32:
	case XTCP_VALUE_STATE:
	case XTCP_VALUE_FAMILY:
		return "uint32";
	case XTCP_VALUE_U64:
		return "uint64";
	case XTCP_VALUE_I64:
		return "int64";
	case XTCP_VALUE_STRING:
		return "string";
	case XTCP_VALUE_BYTES:
	case XTCP_VALUE_ADDR:
		return "bytes";
	case XTCP_VALUE_ENUM:
		return "enum";
	default:
		return "?";
	}
}

static void test_table(void)
{
	const ProtobufCMessageDescriptor *d = XTCP_RECORD_DESC;
	size_t i, bad = 0, aliases = 0, times = 0;

	is(xtcp_schema_n, d->n_fields, "one entry per field of the descriptor");
	for (i = 0; i < xtcp_schema_n && i < d->n_fields; i++) {
		const struct xtcp_field *f = &xtcp_schema[i];
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (f->number != fd->id || strcmp(f->name, fd->name) || xtcp_field_desc(f) != fd ||
		    xtcp_field_of(fd) != f || strcmp(kind_type(f->kind), f->type) || !f->meaning[0]) {
			printf("#   entry %zu (%s) does not match the descriptor (%s %u)\n", i, f->name,
			       fd->name, fd->id);
			bad++;
		}
		if (xtcp_schema_find(f->name, strlen(f->name)) != f ||
		    xtcp_schema_by_number(f->number) != f)
			bad++;
		aliases += f->aliases[0] != '\0';
		times += f->unit_ns != 0;
	}
	ok(bad == 0, "every entry is its descriptor's field: number, name, type, lookups");
	for (i = 0, bad = 0; i < xtcp_schema_n; i++) {
		const char *p = xtcp_schema[i].aliases;

		while (*p) {
			size_t n = strcspn(p, ",");

			if (xtcp_schema_resolve(p, n) != &xtcp_schema[i]) {
				printf("#   alias %.*s does not resolve to %s\n", (int)n, p,
				       xtcp_schema[i].name);
				bad++;
			}
			p += n + (p[n] == ',');
		}
	}
	ok(bad == 0, "every alias resolves to its own field");
	ok(aliases > 40 && times >= 19, "aliases (%zu fields) and time units (%zu fields)", aliases,
	   times);
	ok(xtcp_schema_find("tcp_info_rtt", 12)->unit_ns == 1000 &&
	   !strcmp(xtcp_schema_find("tcp_info_rtt", 12)->unit, "us"), "tcp_info_rtt is in us");
	ok(xtcp_schema_find("inet_diag_msg_state", 19)->kind == XTCP_VALUE_STATE &&
	   xtcp_schema_find("inet_diag_msg_family", 20)->kind == XTCP_VALUE_FAMILY &&
	   xtcp_schema_find("inet_diag_msg_socket_source", 27)->kind == XTCP_VALUE_ADDR,
	   "state, family and address kinds come from the proto");
	ok(!xtcp_schema_find("tcp_info_rt", 11) && !xtcp_schema_find("tcp_info_rtt\0x", 14) &&
	   !xtcp_schema_by_number(9999), "unknown names and numbers are NULL");
}

static void test_lookup(void)
{
	int32_t v = 0;

	ok(!strcmp(xtcp_schema_resolve("rtt", 3)->name, "tcp_info_rtt") &&
	   !strcmp(xtcp_schema_resolve("ifindex", 7)->name, "inet_diag_msg_socket_interface") &&
	   !strcmp(xtcp_schema_resolve("rqueue", 6)->name, "inet_diag_msg_rqueue") &&
	   !strcmp(xtcp_schema_resolve("source", 6)->name, "inet_diag_msg_socket_source") &&
	   !strcmp(xtcp_schema_resolve("state", 5)->name, "inet_diag_msg_state"),
	   "resolve: aliases first, then the name, then the prefixes");
	ok(!strcmp(xtcp_schema_suggest("rttt", 4, XTCP_SUGGEST_ALIASES), "rtt") &&
	   !strcmp(xtcp_schema_suggest("tcp_info_rttt", 13, 0), "tcp_info_rtt") &&
	   !strcmp(xtcp_schema_suggest("rtt", 3, 0), "tcp_info_rtt") &&
	   !strcmp(xtcp_schema_suggest("cwnd", 4, 0), "tcp_info_snd_cwnd") &&
	   xtcp_schema_suggest("zzzzzzzzzz", 10, XTCP_SUGGEST_ALIASES) == NULL,
	   "suggest: aliases only when asked");
	ok(xtcp_field_enum_value(xtcp_schema_find("congestion_algorithm_enum", 25), "bbr1", 4, &v) == 0 &&
	   v == 5 && xtcp_field_enum_value(xtcp_schema_find("congestion_algorithm_enum", 25),
					   "CONGESTION_ALGORITHM_CUBIC", 26, &v) == 0 && v == 1 &&
	   xtcp_field_enum_value(xtcp_schema_find("congestion_algorithm_enum", 25), "reno", 4, &v) < 0,
	   "enum values by full or short name");
	ok(!strcmp(xtcp_field_enum_name(xtcp_schema_find("congestion_algorithm_enum", 25), 3),
		   "CONGESTION_ALGORITHM_VEGAS") &&
	   !xtcp_field_enum_name(xtcp_schema_find("congestion_algorithm_enum", 25), 99),
	   "enum names");
}

static void test_tcp(void)
{
	uint32_t m = 0;
	const char *bad;
	size_t bad_len;

	/* the masks as raw bit arithmetic had them */
	is(XTCP_STATES_SS_ALL, 0x1fffu, "SS_ALL");
	is(XTCP_STATES_CONNECTED, 0x1fffu & ~(1u << 10 | 1u << 7 | 1u << 0), "connected");
	is(XTCP_STATES_SYNCHRONIZED,
	   0x1fffu & ~(1u << 10 | 1u << 7 | 1u << 2 | 1u << 3 | 1u << 12 | 1u << 0), "synchronized");
	is(XTCP_STATES_BUCKET, 1u << 3 | 1u << 6 | 1u << 12, "bucket");
	is(XTCP_STATES_BIG, 0x1fffu & ~(1u << 3 | 1u << 6 | 1u << 12 | 1u << 0), "big");
	ok(xtcp_tcp_states_parse("ESTABLISHED,syn-recv,syn_recv", &m, &bad, &bad_len) == 0 &&
	   m == (XTCP_TCPF(XTCP_TCP_ESTABLISHED) | XTCP_TCPF(XTCP_TCP_SYN_RECV) |
		 XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV)), "ss's syn-recv is both request states");
	ok(xtcp_tcp_states_parse("syn_recv", &m, &bad, &bad_len) == 0 &&
	   m == XTCP_TCPF(XTCP_TCP_SYN_RECV), "the kernel's SYN_RECV is one state");
	ok(xtcp_tcp_states_parse("new-syn-recv,NEW_SYN_RECV,bound-inactive", &m, &bad, &bad_len) == 0 &&
	   m == (XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV) | XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE)),
	   "kernel names with dashes or underscores");
	ok(xtcp_tcp_states_parse("new_syn-recvx", &m, &bad, &bad_len) < 0 &&
	   xtcp_tcp_states_parse("new syn recv", &m, &bad, &bad_len) < 0, "but nothing else");
	ok(!strcmp(xtcp_tcp_state_name(XTCP_TCP_BOUND_INACTIVE), "BOUND_INACTIVE") &&
	   !strcmp(xtcp_tcp_state_name(14), "UNKNOWN") && !xtcp_tcp_state_known_name(14) &&
	   !strcmp(xtcp_tcp_state_known_name(0), "UNKNOWN"), "state names");
	ok(xtcp_family_parse("ipv6", 4) == AF_INET6 && xtcp_family_parse("AF_INET", 7) == AF_INET &&
	   xtcp_family_parse("inet6x", 6) < 0, "families");
}

int main(void)
{
	test_table();
	test_lookup();
	test_tcp();
	return done_testing();
}
