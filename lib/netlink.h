#ifndef XTCP_NETLINK_H
#define XTCP_NETLINK_H

/*
 * Netlink sock_diag parsing: one SOCK_DIAG_BY_FAMILY reply message (struct
 * inet_diag_msg followed by attributes) into a record.
 *
 * Every length is validated before use.  Unknown attributes are skipped.
 * struct tcp_info of any kernel generation is accepted: a shorter one (4.19)
 * fills the fields it has and leaves the rest 0, a longer one (a newer kernel)
 * has its extra bytes ignored.  Attributes shorter than the fields the schema
 * reads from them are rejected as malformed, with one exception that follows
 * the kernel: INET_DIAG_INFO may be any length.
 */

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/*
 * Parser state, zeroed before first use.  Strings and addresses of the
 * parsed record point into this struct, so a record is valid until the next
 * parse with the same parser.
 */
struct xtcp_nl_parser {
	uint8_t src[16];
	uint8_t dst[16];
	char cong[32];
	char ulp[32];
	/*
	 * Set when the request left INET_DIAG_MEMINFO out and asked for
	 * SKMEMINFO: the mem_info fields are then filled from SKMEMINFO's
	 * rmem_alloc, wmem_queued, fwd_alloc and wmem_alloc, the values the
	 * kernel puts in MEMINFO.
	 */
	bool meminfo_from_sk;
};

/*
 * Fill the kernel fields of @rec from @nlh (nlmsg_type SOCK_DIAG_BY_FAMILY,
 * nlmsg_len already checked against the buffer by the caller).  Only fields
 * that come from the kernel are written: every such field is first reset to
 * 0, so metadata fields (hostname, netns, timestamp_ns, ...) that the caller
 * set before are kept.  inet_diag_msg_socket_dest_asn and _next_hop_asn are
 * reset too: enrichment that sets them runs after the parse.
 * Returns 0, or -1 with errno EBADMSG (message too short, an attribute
 * overruns the message, or an attribute is shorter than its struct) or
 * EAFNOSUPPORT (family is neither AF_INET nor AF_INET6).
 */
int xtcp_netlink_parse(struct xtcp_nl_parser *p, const struct nlmsghdr *nlh,
		       XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/* The congestion_algorithm_enum value for a congestion control name. */
XtcpFlatRecord__V1__XtcpFlatRecord__CongestionAlgorithm xtcp_netlink_cong_enum(const char *name);

#endif
