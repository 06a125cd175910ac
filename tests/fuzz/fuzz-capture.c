/*
 * libFuzzer target for the capture reader's framing: arbitrary bytes as a
 * pcap or raw dump, read whole, a few bytes at a time (as a pipe hands them
 * out: sizes from 1 byte to more than a window, chosen by the input), and
 * from a descriptor.  Every way must give the same reading: the same
 * messages with the same bytes, offsets, packet numbers and times, and the
 * same end (the same words when it is an error).  Every message returned
 * lies whole inside the window, 4-byte aligned, at least a header long; the
 * window never passes XTCP_CAPTURE_BUF_MAX; every failure says why.
 * (fuzz-netlink.c takes the messages on into the attribute parser.)
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one reading gave: a digest of every message and where it was. */
struct reading {
	int opened;             /* what the open returned */
	int end;                /* what the last xtcp_capture_next returned */
	int error;              /* errno then */
	uint64_t n, digest;
	char err[256];
};

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Read @c to its end into @r; @c is released. */
static void read_all(struct xtcp_capture *c, int opened, struct reading *r)
{
	const struct nlmsghdr *nlh;
	const uint8_t *m;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->opened = opened;
	r->digest = 0xcbf29ce484222325ull;
	if (opened == 0) {
		while ((rc = xtcp_capture_next(c, &nlh)) > 0) {
			m = (const uint8_t *)nlh;
			if (nlh->nlmsg_len < NLMSG_HDRLEN || ((uintptr_t)m & 3))
				abort();
			if (m < c->buf || m + nlh->nlmsg_len > c->buf + c->end)
				abort();	/* outside what was read */
			if (nlh->nlmsg_flags & NLM_F_REQUEST)
				abort();
			r->n++;
			r->digest = mix(r->digest, m, nlh->nlmsg_len);
			r->digest = mix(r->digest, &c->msg_offset, sizeof(c->msg_offset));
			r->digest = mix(r->digest, &c->packet_no, sizeof(c->packet_no));
			r->digest = mix(r->digest, &c->time_ns, sizeof(c->time_ns));
			if (c->format == XTCP_CAPTURE_RAW && c->time_ns)
				abort();	/* a raw dump has no times */
		}
		r->error = rc < 0 ? errno : 0;
		if (rc < 0 && r->error != EBADMSG)
			abort();	/* memory cannot fail to read */
		if (xtcp_capture_next(c, &nlh) != rc)
			abort();	/* an end, or an error, sticks */
	}
	if (c->cap > XTCP_CAPTURE_BUF_MAX)
		abort();
	if (rc < 0 && !c->err[0])
		abort();	/* every failure says why */
	r->end = rc;
	memcpy(r->err, c->err, sizeof(r->err));
	xtcp_capture_release(c);
}

static void same(const struct reading *a, const struct reading *b)
{
	if (a->opened != b->opened || a->end != b->end || a->error != b->error ||
	    a->n != b->n || a->digest != b->digest || strcmp(a->err, b->err))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xtcp_capture c;
	struct reading whole, part;
	size_t chunks[4], i;
	uint64_t h;
	int fd;

	read_all(&c, xtcp_capture_open_mem(&c, data, size), &whole);

	/* short reads: 1 byte, a size the input picks, and around the window */
	h = mix(0xcbf29ce484222325ull, data, size < 64 ? size : 64);
	chunks[0] = 1;
	chunks[1] = 2 + h % 61;
	chunks[2] = 100 + (h >> 8) % 5000;
	chunks[3] = 64 * 1024 + 1;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		read_all(&c, xtcp_capture_open_mem_chunked(&c, data, size, chunks[i]), &part);
		same(&whole, &part);
	}

	/* and from a descriptor, as xtcp-dump -r reads a file */
	fd = memfd_create("fuzz-capture", 0);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	lseek(fd, 0, SEEK_SET);
	read_all(&c, xtcp_capture_open_fd(&c, fd), &part);
	if (fcntl(fd, F_GETFD) < 0)
		abort();	/* the caller's descriptor stays open */
	close(fd);
	same(&whole, &part);
	return 0;
}
