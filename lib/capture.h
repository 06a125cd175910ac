#ifndef XTCP_CAPTURE_H
#define XTCP_CAPTURE_H

/*
 * Reading captured netlink traffic, so dumps can be replayed without a kernel:
 *  - a classic pcap file (either byte order, micro- or nanosecond), link type
 *    253 (LINKTYPE_NETLINK): each packet is a 16-byte cooked header and one or
 *    more netlink messages, as `ip link add nlmon0 type nlmon` + tcpdump
 *    capture (both directions: requests are skipped);
 *  - a raw dump: netlink messages back to back, as `ss -D FILE` and
 *    `xtcp-dump -w FILE` write them.
 * The format is detected from the first bytes.
 */

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

enum xtcp_capture_format {
	XTCP_CAPTURE_RAW,
	XTCP_CAPTURE_PCAP,
};

struct xtcp_capture {
	uint8_t *data;          /* whole file */
	size_t size;
	size_t pos;             /* next pcap record, or next message of a raw dump */
	enum xtcp_capture_format format;
	int swapped;            /* pcap written in the other byte order */
	const uint8_t *pkt;     /* current pcap packet's netlink bytes */
	size_t pkt_len;
	size_t pkt_pos;
	uint64_t packet_no;     /* 1-based number of the current pcap packet */
	size_t msg_offset;      /* file offset of the message last returned */
	char err[256];          /* why the last call failed */
};

/*
 * Read the file at @path.  Returns 0, or -1 with errno set (from open/read,
 * or EINVAL: an empty file, a pcap of another link type, pcapng, a pcap
 * version other than 2.x, or a truncated pcap header) and @c->err holding a
 * one-line explanation (without the path).
 */
int xtcp_capture_open(struct xtcp_capture *c, const char *path);

/* Use @len bytes at @data (copied) instead of a file; same detection. */
int xtcp_capture_open_mem(struct xtcp_capture *c, const void *data, size_t len);

/*
 * The next netlink message sent by the kernel (requests, NLM_F_REQUEST, are
 * skipped).  The message is complete: its nlmsg_len is at least
 * sizeof(struct nlmsghdr) and lies inside the packet.  Returns 1 with *nlh
 * set (valid until xtcp_capture_release), 0 at the end of the file, -1 with
 * errno EBADMSG and @c->err saying where (packet number, byte offset) when a
 * pcap record or a message is truncated or its length is impossible.
 * Packets whose cooked-header protocol is not NETLINK_SOCK_DIAG (rtnetlink
 * traffic an nlmon interface also sees) are skipped.  Returned messages are
 * 4-byte aligned.  After an error every later call fails the same way.
 */
int xtcp_capture_next(struct xtcp_capture *c, const struct nlmsghdr **nlh);

void xtcp_capture_release(struct xtcp_capture *c);

#endif
