/*
 * libFuzzer target for the bytes xtcp reads from outside: a capture file
 * (pcap or raw dump) and the SOCK_DIAG_BY_FAMILY messages in it.
 *
 * The input is used twice: as a whole capture (xtcp_capture_open_mem, every
 * message, each reply parsed), and as one message whose nlmsg_len is the
 * input's length, so mutations reach the attribute parser directly without
 * having to keep the pcap framing valid.
 */

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "netlink.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xtcp_nl_parser parser;

/* What a successful parse promises, checked on every record. */
static void check(const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	static const uint8_t zero[12];

	if (rec->inet_diag_msg_family != AF_INET && rec->inet_diag_msg_family != AF_INET6)
		abort();
	if (rec->inet_diag_msg_socket_source.len != 16 ||
	    rec->inet_diag_msg_socket_destination.len != 16)
		abort();
	if (rec->inet_diag_msg_family == AF_INET &&
	    (memcmp(rec->inet_diag_msg_socket_source.data + 4, zero, 12) ||
	     memcmp(rec->inet_diag_msg_socket_destination.data + 4, zero, 12)))
		abort();
	if (strlen(rec->congestion_algorithm_string) >= sizeof(parser.cong) ||
	    strlen(rec->ulp_name) >= sizeof(parser.ulp))
		abort();
	if (rec->congestion_algorithm_enum != xtcp_netlink_cong_enum(rec->congestion_algorithm_string))
		abort();
	if (rec->inet_diag_msg_socket_source_port > 0xffff ||
	    rec->inet_diag_msg_socket_destination_port > 0xffff)
		abort();
}

static void parse_one(const struct nlmsghdr *nlh)
{
	XtcpFlatRecord__V1__XtcpFlatRecord rec;

	xtcp_record_init(&rec);
	if (xtcp_netlink_parse(&parser, nlh, &rec) == 0)
		check(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	struct xtcp_capture c;
	uint8_t *msg;
	uint32_t len;
	int r;

	if (xtcp_capture_open_mem(&c, data, size) == 0) {
		while ((r = xtcp_capture_next(&c, &nlh)) > 0) {
			if (nlh->nlmsg_len < NLMSG_HDRLEN)
				abort();
			if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				parse_one(nlh);
		}
		if (r < 0 && !c.err[0])
			abort();	/* every failure says why */
		xtcp_capture_release(&c);
	} else if (!c.err[0]) {
		abort();
	}

	/* an exact-size copy, so ASan sees any read past nlmsg_len */
	if (size >= NLMSG_HDRLEN && size <= UINT32_MAX) {
		msg = malloc(size);
		if (!msg)
			return 0;
		memcpy(msg, data, size);
		len = (uint32_t)size;
		memcpy(msg, &len, sizeof(len));
		parse_one((const struct nlmsghdr *)(void *)msg);
		free(msg);
	}
	return 0;
}
