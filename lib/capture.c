/*
 * Captured netlink traffic: classic pcap (LINKTYPE_NETLINK) or a raw dump.
 *
 * The input is read into a window that holds one record (a pcap packet with
 * its header, or a raw dump's message) and messages are handed out in place.
 * Every length read from the input is checked before it is used: against
 * XTCP_CAPTURE_MAX_RECORD before anything more is read, and against what the
 * input holds once it is; an impossible one ends the read with EBADMSG and
 * a message that says where.  After such an error every later call fails
 * the same way.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"

#define PCAP_FILE_HDR	24
#define PCAP_REC_HDR	16
#define COOKED_HDR	16		/* netlink "cooked" header before each packet */
#define LINKTYPE_NETLINK 253
#define MAX_RECORD	XTCP_CAPTURE_MAX_RECORD
#define WINDOW		(64 * 1024)	/* the window's first size */
#define HOST_LE		(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

static uint32_t ld32(const uint8_t *p, int swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t ld16(const uint8_t *p, int swapped)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap16(v) : v;
}

/* Set c->err; errno is left as it was. */
__attribute__((format(printf, 2, 0)))
static void vset_err(struct xtcp_capture *c, const char *fmt, va_list ap)
{
	int saved = errno;

	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	errno = saved;
}

__attribute__((format(printf, 2, 3)))
static void set_err(struct xtcp_capture *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, fmt, ap);
	va_end(ap);
}

/* A malformed input: c->err says where, errno EBADMSG (and so for every later call). */
__attribute__((format(printf, 2, 3)))
static int fail(struct xtcp_capture *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, fmt, ap);
	va_end(ap);
	c->error = errno = EBADMSG;
	return -1;
}

/*
 * Make at least @want bytes readable at buf[start] (want <= XTCP_CAPTURE_BUF_MAX),
 * fewer only at the end of the input.  Moves the unread bytes to the front
 * of the window, so what was handed out before is gone.  Returns 0, or -1
 * with errno and c->err set when the input cannot be read.
 */
static int fill(struct xtcp_capture *c, size_t want)
{
	size_t have = c->end - c->start, room, cap;
	uint8_t *bigger;
	ssize_t n;

	if (have >= want || c->eof)
		return 0;
	/* at most a part of one record moves: what is left of the window is then one read */
	if (c->start) {
		memmove(c->buf, c->buf + c->start, have);
		c->start = 0;
		c->end = have;
	}
	if (want > c->cap) {
		cap = c->cap * 2 > want ? c->cap * 2 : want;
		if (cap > XTCP_CAPTURE_BUF_MAX)
			cap = XTCP_CAPTURE_BUF_MAX;
		bigger = realloc(c->buf, cap);
		if (!bigger)
			goto err;
		c->buf = bigger;
		c->cap = cap;
	}
	while (c->end - c->start < want) {
		room = c->cap - c->end;
		if (c->read_size && room > c->read_size)
			room = c->read_size;
		if (c->fd < 0) {
			n = (ssize_t)(c->mem_len - c->mem_pos < room ? c->mem_len - c->mem_pos : room);
			if (n > 0)
				memcpy(c->buf + c->end, c->mem + c->mem_pos, (size_t)n);
			c->mem_pos += (size_t)n;
		} else {
			n = read(c->fd, c->buf + c->end, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				goto err;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->end += (size_t)n;
	}
	return 0;

err:
	c->error = errno;
	set_err(c, "cannot read at byte %" PRIu64 ": %s", c->offset + have, strerror(errno));
	return -1;
}

static void consume(struct xtcp_capture *c, size_t n)
{
	c->start += n;
	c->offset += n;
}

static int detect(struct xtcp_capture *c)
{
	static const uint8_t magic_le[4] = { 0xd4, 0xc3, 0xb2, 0xa1 };
	static const uint8_t magic_be[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	static const uint8_t magic_ns_le[4] = { 0x4d, 0x3c, 0xb2, 0xa1 };
	static const uint8_t magic_ns_be[4] = { 0xa1, 0xb2, 0x3c, 0x4d };
	static const uint8_t magic_pcapng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	const uint8_t *hdr;
	uint32_t linktype;
	size_t have;

	/* 4 bytes tell the format: a raw dump's first message may be all a pipe holds yet */
	if (fill(c, 4) < 0)
		return -1;
	hdr = c->buf + c->start;
	have = c->end - c->start;
	if (have == 0) {
		set_err(c, "empty file");
		goto err_inval;
	}
	if (have >= 4 && !memcmp(hdr, magic_pcapng, 4)) {
		set_err(c, "pcapng is not supported: convert it with 'editcap -F pcap'");
		goto err_inval;
	}
	if (have < 4 ||
	    (memcmp(hdr, magic_le, 4) && memcmp(hdr, magic_be, 4) &&
	     memcmp(hdr, magic_ns_le, 4) && memcmp(hdr, magic_ns_be, 4))) {
		c->format = XTCP_CAPTURE_RAW;
		return 0;
	}

	c->format = XTCP_CAPTURE_PCAP;
	if (fill(c, PCAP_FILE_HDR) < 0)
		return -1;
	hdr = c->buf + c->start;
	have = c->end - c->start;
	/* the magic's first byte says in which order the writer stored it */
	c->swapped = (hdr[0] == 0xd4 || hdr[0] == 0x4d) != HOST_LE;
	c->nano = hdr[0] == 0x4d || hdr[3] == 0x4d;
	if (have < PCAP_FILE_HDR) {
		set_err(c, "truncated pcap file header (%zu of %d bytes)", have, PCAP_FILE_HDR);
		goto err_inval;
	}
	if (ld16(hdr + 4, c->swapped) != 2) {
		set_err(c, "unsupported pcap version %u.%u",
			ld16(hdr + 4, c->swapped), ld16(hdr + 6, c->swapped));
		goto err_inval;
	}
	/* the upper bits can carry FCS information */
	linktype = ld32(hdr + 20, c->swapped) & 0xffff;
	if (linktype != LINKTYPE_NETLINK) {
		set_err(c, "pcap link type %u is not netlink (%d): capture on an nlmon interface",
			linktype, LINKTYPE_NETLINK);
		goto err_inval;
	}
	consume(c, PCAP_FILE_HDR);
	return 0;

err_inval:
	errno = EINVAL;
	return -1;
}

/* Start reading from c->fd or c->mem: the window, the first bytes, the format. */
static int start(struct xtcp_capture *c, size_t read_size)
{
	int e;

	c->read_size = read_size;
	c->cap = read_size && read_size < WINDOW ? read_size : WINDOW;
	c->buf = malloc(c->cap);
	if (!c->buf) {
		set_err(c, "%s", strerror(errno));
		c->cap = 0;
		return -1;
	}
	if (detect(c) == 0)
		return 0;
	e = errno;
	if (c->error)	/* the first read failed: its cause is the whole story */
		set_err(c, "%s", strerror(e));
	free(c->buf);
	c->buf = NULL;
	c->cap = c->start = c->end = 0;
	errno = e;
	return -1;
}

static void init(struct xtcp_capture *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

int xtcp_capture_open(struct xtcp_capture *c, const char *path)
{
	int fd, e;

	init(c, -1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(c, "%s", strerror(errno));
		return -1;
	}
	c->fd = fd;
	if (start(c, 0) == 0) {
		c->own_fd = true;
		return 0;
	}
	e = errno;
	close(fd);
	c->fd = -1;
	errno = e;
	return -1;
}

int xtcp_capture_open_fd(struct xtcp_capture *c, int fd)
{
	init(c, fd);
	if (start(c, 0) == 0)
		return 0;
	c->fd = -1;
	return -1;
}

int xtcp_capture_open_mem_chunked(struct xtcp_capture *c, const void *data, size_t len,
				  size_t read_size)
{
	init(c, -1);
	c->mem = data;
	c->mem_len = data ? len : 0;
	return start(c, read_size);
}

int xtcp_capture_open_mem(struct xtcp_capture *c, const void *data, size_t len)
{
	return xtcp_capture_open_mem_chunked(c, data, len, 0);
}

/*
 * Start the next pcap packet.  Returns 1 with c->pkt set, 0 at the end of
 * the input, -1 on a bad record or a read error.
 */
static int next_packet(struct xtcp_capture *c)
{
	const uint8_t *rec;
	uint64_t rec_off;
	size_t left;
	uint8_t *nl;
	uint32_t incl, sec, frac;
	unsigned misalign;

	for (;;) {
		if (fill(c, PCAP_REC_HDR) < 0)
			return -1;
		rec_off = c->offset;
		left = c->end - c->start;
		if (left == 0)
			return 0;
		c->packet_no++;
		if (left < PCAP_REC_HDR)
			return fail(c, "packet %" PRIu64 " at byte %" PRIu64 ": truncated pcap record "
				    "header (%zu of %d bytes)", c->packet_no, rec_off, left, PCAP_REC_HDR);
		incl = ld32(c->buf + c->start + 8, c->swapped);
		if (incl > MAX_RECORD)
			return fail(c, "packet %" PRIu64 " at byte %" PRIu64 ": packet length %" PRIu32
				    " is impossible (more than %u)", c->packet_no, rec_off, incl, MAX_RECORD);
		if (fill(c, PCAP_REC_HDR + (size_t)incl) < 0)
			return -1;
		rec = c->buf + c->start;
		left = c->end - c->start;
		if (incl > left - PCAP_REC_HDR)
			return fail(c, "packet %" PRIu64 " at byte %" PRIu64 ": packet length %" PRIu32
				    " overruns the file (%zu bytes left)", c->packet_no, rec_off, incl,
				    left - PCAP_REC_HDR);
		if (incl < COOKED_HDR)
			return fail(c, "packet %" PRIu64 " at byte %" PRIu64 ": packet length %" PRIu32
				    " is shorter than the %d-byte netlink cooked header", c->packet_no,
				    rec_off, incl, COOKED_HDR);
		consume(c, PCAP_REC_HDR + incl);
		sec = ld32(rec, c->swapped);
		frac = ld32(rec + 4, c->swapped);
		c->time_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (c->nano ? 1 : 1000);

		/*
		 * nlmon captures every netlink family; rtnetlink replies
		 * reuse the same message type numbers (RTM_NEWADDR is 20,
		 * like SOCK_DIAG_BY_FAMILY), so only sock_diag packets count.
		 * The cooked header's protocol field is big-endian.
		 */
		nl = c->buf + (c->start - incl);
		if (((unsigned)nl[14] << 8 | nl[15]) != NETLINK_SOCK_DIAG)
			continue;
		nl += COOKED_HDR;

		/*
		 * Netlink messages are 4-byte aligned in memory; a packet
		 * after an odd-sized one is not.  Slide it back over its own
		 * (already read) headers so callers can use struct nlmsghdr.
		 */
		misalign = (unsigned)((uintptr_t)nl & 3);
		if (misalign) {
			memmove(nl - misalign, nl, incl - COOKED_HDR);
			nl -= misalign;
		}
		c->pkt = nl;
		c->pkt_len = incl - COOKED_HDR;
		c->pkt_pos = 0;
		c->pkt_offset = rec_off + PCAP_REC_HDR + COOKED_HDR;
		return 1;
	}
}

/*
 * Check the message at input offset @offset with @left bytes from it to the
 * end of its packet (pcap) or of the input (raw).  Returns its length to step
 * over, or 0 after an error.
 */
static size_t check_msg(struct xtcp_capture *c, const uint8_t *msg, size_t left, uint64_t offset)
{
	char where[48] = "";
	uint32_t len = left >= NLMSG_HDRLEN ? ld32(msg, 0) : 0;

	if (left >= NLMSG_HDRLEN && len >= NLMSG_HDRLEN && len <= left)
		/* the last message's padding may be missing */
		return NLMSG_ALIGN(len) < left ? NLMSG_ALIGN(len) : left;

	if (c->format == XTCP_CAPTURE_PCAP)
		snprintf(where, sizeof(where), "packet %" PRIu64 " ", c->packet_no);
	if (left < NLMSG_HDRLEN)
		fail(c, "%sat byte %" PRIu64 ": %zu trailing bytes are too short for a netlink message header",
		     where, offset, left);
	else if (len < NLMSG_HDRLEN)
		fail(c, "%sat byte %" PRIu64 ": netlink message length %" PRIu32 " is shorter than its header",
		     where, offset, len);
	else if (len > MAX_RECORD)
		fail(c, "%sat byte %" PRIu64 ": netlink message length %" PRIu32 " is impossible (more than %u)",
		     where, offset, len, MAX_RECORD);
	else
		fail(c, "%sat byte %" PRIu64 ": netlink message length %" PRIu32 " overruns the %s (%zu bytes left)",
		     where, offset, len, c->format == XTCP_CAPTURE_PCAP ? "packet" : "file", left);
	return 0;
}

/* The next message of a raw dump at buf[start], whole in the window. */
static int next_raw(struct xtcp_capture *c, const uint8_t **msg, size_t *step)
{
	size_t left;
	uint32_t len;

	if (fill(c, NLMSG_HDRLEN) < 0)
		return -1;
	left = c->end - c->start;
	if (left == 0)
		return 0;
	if (left >= NLMSG_HDRLEN) {
		len = ld32(c->buf + c->start, 0);
		/* the padding too, when it is there */
		if (len >= NLMSG_HDRLEN && len <= MAX_RECORD && fill(c, NLMSG_ALIGN(len)) < 0)
			return -1;
		left = c->end - c->start;
	}
	*msg = c->buf + c->start;
	*step = check_msg(c, *msg, left, c->offset);
	return *step ? 1 : -1;
}

int xtcp_capture_next(struct xtcp_capture *c, const struct nlmsghdr **nlh)
{
	const uint8_t *msg;
	size_t step;
	uint64_t offset;
	uint16_t flags;
	int r;

	if (c->error || !c->buf) {
		errno = c->error ? c->error : EBADMSG;
		return -1;
	}
	for (;;) {
		if (c->format == XTCP_CAPTURE_RAW) {
			offset = c->offset;
			r = next_raw(c, &msg, &step);
			if (r <= 0)
				return r;
			consume(c, step);
		} else {
			if (!c->pkt || c->pkt_pos >= c->pkt_len) {
				c->pkt = NULL;
				r = next_packet(c);
				if (r <= 0)
					return r;
				continue;
			}
			msg = c->pkt + c->pkt_pos;
			offset = c->pkt_offset + c->pkt_pos;
			step = check_msg(c, msg, c->pkt_len - c->pkt_pos, offset);
			if (!step)
				return -1;
			c->pkt_pos += step;
		}
		memcpy(&flags, msg + 6, sizeof(flags));
		if (flags & NLM_F_REQUEST)
			continue;
		c->msg_offset = offset;
		*nlh = (const struct nlmsghdr *)(const void *)msg;
		return 1;
	}
}

void xtcp_capture_release(struct xtcp_capture *c)
{
	if (c->own_fd && c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->own_fd = false;
	free(c->buf);
	c->buf = NULL;
	c->cap = c->start = c->end = 0;
	c->pkt = NULL;
	c->pkt_len = 0;
	c->pkt_pos = 0;
}
