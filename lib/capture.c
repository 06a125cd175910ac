/*
 * Captured netlink traffic: classic pcap (LINKTYPE_NETLINK) or a raw dump.
 *
 * The whole file is read into memory and messages are handed out in place.
 * Every length read from the file is checked against what is left before it
 * is used; an impossible one ends the read with EBADMSG and a message that
 * says where.  After such an error every later call fails the same way.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"

#define PCAP_FILE_HDR	24
#define PCAP_REC_HDR	16
#define COOKED_HDR	16		/* netlink "cooked" header before each packet */
#define LINKTYPE_NETLINK 253
#define MAX_PACKET	(256 * 1024)	/* tcpdump's own snaplen limit */
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

/* A malformed file: c->err says where, errno EBADMSG. */
__attribute__((format(printf, 2, 3)))
static int fail(struct xtcp_capture *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, fmt, ap);
	va_end(ap);
	errno = EBADMSG;
	return -1;
}

static int detect(struct xtcp_capture *c)
{
	static const uint8_t magic_le[4] = { 0xd4, 0xc3, 0xb2, 0xa1 };
	static const uint8_t magic_be[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	static const uint8_t magic_ns_le[4] = { 0x4d, 0x3c, 0xb2, 0xa1 };
	static const uint8_t magic_ns_be[4] = { 0xa1, 0xb2, 0x3c, 0x4d };
	static const uint8_t magic_pcapng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };
	uint32_t linktype;

	if (c->size == 0) {
		set_err(c, "empty file");
		goto err_free;
	}
	if (c->size >= 4 && !memcmp(c->data, magic_pcapng, 4)) {
		set_err(c, "pcapng is not supported: convert it with 'editcap -F pcap'");
		goto err_free;
	}
	if (c->size < 4 ||
	    (memcmp(c->data, magic_le, 4) && memcmp(c->data, magic_be, 4) &&
	     memcmp(c->data, magic_ns_le, 4) && memcmp(c->data, magic_ns_be, 4))) {
		c->format = XTCP_CAPTURE_RAW;
		c->pos = 0;
		return 0;
	}

	c->format = XTCP_CAPTURE_PCAP;
	/* the magic's first byte says in which order the writer stored it */
	c->swapped = (c->data[0] == 0xd4 || c->data[0] == 0x4d) != HOST_LE;
	if (c->size < PCAP_FILE_HDR) {
		set_err(c, "truncated pcap file header (%zu of %d bytes)", c->size, PCAP_FILE_HDR);
		goto err_free;
	}
	if (ld16(c->data + 4, c->swapped) != 2) {
		set_err(c, "unsupported pcap version %u.%u",
			ld16(c->data + 4, c->swapped), ld16(c->data + 6, c->swapped));
		goto err_free;
	}
	/* the upper bits can carry FCS information */
	linktype = ld32(c->data + 20, c->swapped) & 0xffff;
	if (linktype != LINKTYPE_NETLINK) {
		set_err(c, "pcap link type %u is not netlink (%d): capture on an nlmon interface",
			linktype, LINKTYPE_NETLINK);
		goto err_free;
	}
	c->pos = PCAP_FILE_HDR;
	return 0;

err_free:
	free(c->data);
	c->data = NULL;
	c->size = 0;
	errno = EINVAL;
	return -1;
}

static int read_all(int fd, uint8_t **out, size_t *out_len)
{
	struct stat st;
	uint8_t *buf = NULL, *bigger;
	size_t cap = 0, len = 0;
	ssize_t n;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;	/* +1: see end of file without a realloc */
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 64 * 1024;
			bigger = realloc(buf, cap);
			if (!bigger)
				goto err_free;
			buf = bigger;
		} else if (!buf) {
			buf = malloc(cap);
			if (!buf)
				goto err_free;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto err_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*out_len = len;
	return 0;

err_free:
	free(buf);
	return -1;
}

int xtcp_capture_open(struct xtcp_capture *c, const char *path)
{
	int fd, saved;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err;
	if (read_all(fd, &c->data, &c->size) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto err;
	}
	close(fd);
	return detect(c);

err:
	set_err(c, "%s", strerror(errno));
	return -1;
}

int xtcp_capture_open_mem(struct xtcp_capture *c, const void *data, size_t len)
{
	memset(c, 0, sizeof(*c));
	if (len == 0 || !data) {
		set_err(c, "empty file");
		errno = EINVAL;
		return -1;
	}
	c->data = malloc(len);
	if (!c->data) {
		set_err(c, "%s", strerror(errno));
		return -1;
	}
	memcpy(c->data, data, len);
	c->size = len;
	return detect(c);
}

/*
 * Start the next pcap packet.  Returns 1 with c->pkt set, 0 at the end of
 * the file, -1 on a bad record.
 */
static int next_packet(struct xtcp_capture *c)
{
	size_t left, rec_off;
	uint8_t *nl;
	uint32_t incl;
	unsigned misalign;

	for (;;) {
		rec_off = c->pos;
		left = c->size - rec_off;
		if (left == 0)
			return 0;
		c->packet_no++;
		if (left < PCAP_REC_HDR)
			return fail(c, "packet %llu at byte %zu: truncated pcap record header (%zu of %d bytes)",
				    (unsigned long long)c->packet_no, rec_off, left, PCAP_REC_HDR);
		incl = ld32(c->data + rec_off + 8, c->swapped);
		if (incl > MAX_PACKET)
			return fail(c, "packet %llu at byte %zu: packet length %u is impossible (more than %d)",
				    (unsigned long long)c->packet_no, rec_off, incl, MAX_PACKET);
		if (incl > left - PCAP_REC_HDR)
			return fail(c, "packet %llu at byte %zu: packet length %u overruns the file (%zu bytes left)",
				    (unsigned long long)c->packet_no, rec_off, incl, left - PCAP_REC_HDR);
		if (incl < COOKED_HDR)
			return fail(c, "packet %llu at byte %zu: packet length %u is shorter than the %d-byte netlink cooked header",
				    (unsigned long long)c->packet_no, rec_off, incl, COOKED_HDR);
		c->pos = rec_off + PCAP_REC_HDR + incl;

		/*
		 * nlmon captures every netlink family; rtnetlink replies
		 * reuse the same message type numbers (RTM_NEWADDR is 20,
		 * like SOCK_DIAG_BY_FAMILY), so only sock_diag packets count.
		 * The cooked header's protocol field is big-endian.
		 */
		nl = c->data + rec_off + PCAP_REC_HDR;
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
		return 1;
	}
}

/*
 * Check the message at file offset @offset with @left bytes from it to the
 * end of its packet (pcap) or of the file (raw).  Returns its length to step
 * over, or 0 after an error.
 */
static size_t check_msg(struct xtcp_capture *c, const uint8_t *msg, size_t left, size_t offset)
{
	char where[48] = "";
	uint32_t len = left >= NLMSG_HDRLEN ? ld32(msg, 0) : 0;

	if (left >= NLMSG_HDRLEN && len >= NLMSG_HDRLEN && len <= left)
		/* the last message's padding may be missing */
		return NLMSG_ALIGN(len) < left ? NLMSG_ALIGN(len) : left;

	if (c->format == XTCP_CAPTURE_PCAP)
		snprintf(where, sizeof(where), "packet %llu ", (unsigned long long)c->packet_no);
	if (left < NLMSG_HDRLEN)
		fail(c, "%sat byte %zu: %zu trailing bytes are too short for a netlink message header",
		     where, offset, left);
	else if (len < NLMSG_HDRLEN)
		fail(c, "%sat byte %zu: netlink message length %u is shorter than its header",
		     where, offset, len);
	else
		fail(c, "%sat byte %zu: netlink message length %u overruns the %s (%zu bytes left)",
		     where, offset, len, c->format == XTCP_CAPTURE_PCAP ? "packet" : "file", left);
	return 0;
}

int xtcp_capture_next(struct xtcp_capture *c, const struct nlmsghdr **nlh)
{
	const uint8_t *msg;
	size_t step, offset;
	uint16_t flags;
	int r;

	if (c->err[0] || !c->data) {
		errno = EBADMSG;
		return -1;
	}
	for (;;) {
		if (c->format == XTCP_CAPTURE_RAW) {
			if (c->pos >= c->size)
				return 0;
			msg = c->data + c->pos;
			offset = c->pos;
			step = check_msg(c, msg, c->size - c->pos, offset);
			if (!step)
				return -1;
			c->pos += step;
		} else {
			if (!c->pkt || c->pkt_pos >= c->pkt_len) {
				c->pkt = NULL;
				r = next_packet(c);
				if (r <= 0)
					return r;
				continue;
			}
			msg = c->pkt + c->pkt_pos;
			/* the packet's bytes end where the next record starts */
			offset = c->pos - c->pkt_len + c->pkt_pos;
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
	free(c->data);
	c->data = NULL;
	c->size = 0;
	c->pos = 0;
	c->pkt = NULL;
	c->pkt_len = 0;
	c->pkt_pos = 0;
}
