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
 *
 * The input is read as it is used, one record at a time (a pcap packet, or a
 * raw dump's message), so it may be a pipe and it may be endless: memory
 * stays below XTCP_CAPTURE_BUF_MAX whatever the input holds, and reading
 * stops at the first record whose header is impossible.
 */

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The largest record: a pcap packet's captured length (tcpdump's and
 * libpcap's snaplen limit, 256 KiB), and a raw dump's nlmsg_len (a sock_diag
 * reply is a few hundred bytes; the captures in tests/data hold packets of up
 * to 32 KiB).  A record claiming more is an error.
 */
#define XTCP_CAPTURE_MAX_RECORD (256u * 1024)

/* The most the reader buffers: one record and its pcap header, padded. */
#define XTCP_CAPTURE_BUF_MAX (XTCP_CAPTURE_MAX_RECORD + 32)

enum xtcp_capture_format {
	XTCP_CAPTURE_RAW,
	XTCP_CAPTURE_PCAP,
};

struct xtcp_capture {
	int fd;                 /* the input, or -1 when reading memory */
	bool own_fd;            /* opened by xtcp_capture_open: closed on release */
	const uint8_t *mem;     /* xtcp_capture_open_mem's bytes */
	size_t mem_len, mem_pos;
	size_t read_size;       /* most bytes one read may take; 0 = what fits */
	uint8_t *buf;           /* a window on the input: buf[start..end) unread */
	size_t cap, start, end;
	bool eof;
	uint64_t offset;        /* input offset of buf[start] */
	enum xtcp_capture_format format;
	bool swapped;           /* pcap written in the other byte order */
	bool nano;              /* pcap times in nanoseconds, not microseconds */
	const uint8_t *pkt;     /* current pcap packet's netlink bytes */
	size_t pkt_len;
	size_t pkt_pos;
	uint64_t pkt_offset;    /* input offset of pkt[0] */
	uint64_t packet_no;     /* 1-based number of the current pcap packet */
	uint64_t msg_offset;    /* input offset of the message last returned */
	/*
	 * When the message last returned was captured: its pcap packet's time
	 * in nanoseconds since the epoch.  A raw dump holds no times: 0.
	 */
	int64_t time_ns;
	int error;              /* errno of the failure, once there was one */
	char err[256];          /* why the last call failed */
};

/*
 * Open the file at @path and read its first bytes.  Returns 0, or -1 with
 * errno set (from open/read, or EINVAL: an empty file, a pcap of another link
 * type, pcapng, a pcap version other than 2.x, or a truncated pcap header)
 * and @c->err holding a one-line explanation (without the path).  Nothing is
 * left to release after a failure (xtcp_capture_release is harmless).
 */
int xtcp_capture_open(struct xtcp_capture *c, const char *path);

/*
 * The same from the descriptor @fd (standard input, a pipe: it need not be
 * seekable), which stays the caller's to close after xtcp_capture_release.
 */
int xtcp_capture_open_fd(struct xtcp_capture *c, int fd);

/*
 * The same from the @len bytes at @data, read as a file would be (a window at
 * a time); they must stay valid until xtcp_capture_release.
 */
int xtcp_capture_open_mem(struct xtcp_capture *c, const void *data, size_t len);

/*
 * For tests: as xtcp_capture_open_mem, but the window starts at @read_size
 * bytes (when above 0) and no read takes more, as a slow pipe hands out data.
 */
int xtcp_capture_open_mem_chunked(struct xtcp_capture *c, const void *data, size_t len,
				  size_t read_size);

/*
 * The next netlink message sent by the kernel (requests, NLM_F_REQUEST, are
 * skipped).  The message is complete: its nlmsg_len is at least
 * sizeof(struct nlmsghdr) and lies inside the packet.  Returns 1 with *nlh
 * set, 0 at the end of the input, -1 with errno EBADMSG and @c->err saying
 * where (packet number, byte offset) when a pcap record or a message is
 * truncated or its length is impossible, or -1 with read(2)'s errno when the
 * input cannot be read (@c->err says so too).
 * *nlh points into the reader's buffer: it is valid only until the next call
 * of xtcp_capture_next or xtcp_capture_release.  @c->msg_offset and
 * @c->time_ns describe it.
 * Packets whose cooked-header protocol is not NETLINK_SOCK_DIAG (rtnetlink
 * traffic an nlmon interface also sees) are skipped.  Returned messages are
 * 4-byte aligned.  After an error every later call fails the same way.
 */
int xtcp_capture_next(struct xtcp_capture *c, const struct nlmsghdr **nlh);

void xtcp_capture_release(struct xtcp_capture *c);

#endif
