/*
 * The capture reader over every pcap in tests/data/netlink, the same
 * messages as a raw dump and in every pcap byte order, and damaged files:
 * each must end in a clean -1 with a message saying where, never a crash.
 * The same captures read a few bytes at a time and through pipes, the
 * packets' times, and inputs that never end.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "capture.h"

static const char *top;   /* the repository: "." or $XTCP_TOP */

static const char *fixture(const char *rel)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ & 3];

	snprintf(p, sizeof(path[0]), "%s/tests/data/netlink/%s", top, rel);
	return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* All kernel messages of a capture, concatenated with padding, as a raw dump. */
struct dump {
	uint8_t *buf;
	size_t len, cap;
	size_t n;		/* messages */
	size_t replies;		/* of them SOCK_DIAG_BY_FAMILY */
	int last_type;
	int end;		/* what the last xtcp_capture_next returned */
	uint64_t where;		/* a digest of each message's offset, packet and time */
	size_t max_cap;		/* the largest window the reader had */
	char err[256];
};

static void dump_add(struct dump *d, const struct nlmsghdr *nlh)
{
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);

	if (d->len + len > d->cap) {
		d->cap = (d->len + len) * 2;
		d->buf = realloc(d->buf, d->cap);
		if (!d->buf)
			abort();
	}
	memset(d->buf + d->len, 0, len);
	memcpy(d->buf + d->len, nlh, nlh->nlmsg_len);
	d->len += len;
	d->n++;
	if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
		d->replies++;
	d->last_type = nlh->nlmsg_type;
}

/* Read a whole capture; c is released. Returns what the last next() returned. */
static int drain(struct xtcp_capture *c, struct dump *d)
{
	const struct nlmsghdr *nlh;
	int r, misaligned = 0;

	memset(d, 0, sizeof(*d));
	while ((r = xtcp_capture_next(c, &nlh)) > 0) {
		if ((uintptr_t)nlh & 3)
			misaligned++;
		if (nlh->nlmsg_len < NLMSG_HDRLEN)
			misaligned += 1000;	/* the reader promised better */
		dump_add(d, nlh);
		d->where = (d->where * 1000003) ^ c->msg_offset ^ (c->packet_no << 40) ^
			   (uint64_t)c->time_ns;
		if (c->cap > d->max_cap)
			d->max_cap = c->cap;
	}
	d->end = misaligned ? -2 : r;
	snprintf(d->err, sizeof(d->err), "%s", c->err);
	xtcp_capture_release(c);
	return d->end;
}

/* As drain_mem, @chunk bytes a read (0: as many as fit). */
static int drain_chunked(const void *data, size_t len, size_t chunk, struct dump *d)
{
	struct xtcp_capture c;

	if (xtcp_capture_open_mem_chunked(&c, data, len, chunk) < 0) {
		memset(d, 0, sizeof(*d));
		d->end = -3;
		snprintf(d->err, sizeof(d->err), "%s", c.err);
		return -3;
	}
	return drain(&c, d);
}

static int drain_mem(const void *data, size_t len, struct dump *d)
{
	return drain_chunked(data, len, 0, d);
}

static int same_dump(const struct dump *a, const struct dump *b)
{
	return a->n == b->n && a->len == b->len && (!a->len || !memcmp(a->buf, b->buf, a->len));
}

/* The same messages at the same places, and the same end. */
static int same_reading(const struct dump *a, const struct dump *b)
{
	return same_dump(a, b) && a->where == b->where && a->end == b->end &&
	       !strcmp(a->err, b->err);
}

/* --- every pcap of the fixtures ------------------------------------------ */

static int is_request_only(const char *name)
{
	return strstr(name, "request") != NULL;
}

static void test_every_pcap(void)
{
	static const char *const dirs[] = { "4_19_319", "5_15_164", "6_1_103", "6_6_44" };
	size_t i, n_files = 0;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *dir = opendir(fixture(dirs[i]));
		struct dirent *e;

		if (!ok(dir != NULL, "open %s", fixture(dirs[i])))
			continue;
		while ((e = readdir(dir))) {
			struct xtcp_capture c;
			struct dump d;
			char rel[300];
			size_t n = strlen(e->d_name);

			if (n < 5 || strcmp(e->d_name + n - 5, ".pcap"))
				continue;
			n_files++;
			snprintf(rel, sizeof(rel), "%s/%s", dirs[i], e->d_name);
			if (!ok(xtcp_capture_open(&c, fixture(rel)) == 0, "%s opens", rel)) {
				printf("# %s\n", c.err);
				continue;
			}
			is(c.format, XTCP_CAPTURE_PCAP, "%s: detected as pcap", rel);
			drain(&c, &d);
			is(d.end, 0, "%s: read to the end without error%s%s", rel, d.err[0] ? ": " : "",
			   d.err);
			if (is_request_only(e->d_name))
				is(d.n, 0, "%s: requests only, nothing from the kernel", rel);
			else
				ok(d.n > 0, "%s: %zu kernel messages", rel, d.n);
			free(d.buf);
		}
		closedir(dir);
	}
	ok(n_files >= 29, "%zu pcap files in the fixtures", n_files);
}

/* --- the socket counts of the ss pairs ------------------------------------- */

static size_t ss_sockets(const char *rel)
{
	static const char *const states[] = {
		"ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
		"UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	};
	char line[8192];
	size_t n = 0, i;
	FILE *f = fopen(fixture(rel), "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char first[16] = "";

		if (line[0] == '\t' || line[0] == ' ' || sscanf(line, "%15s", first) != 1)
			continue;
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (!strcmp(first, states[i]))
				n++;
	}
	fclose(f);
	return n;
}

static void test_socket_counts(void)
{
	static const char *const pairs[][2] = {
		{ "4_19_319/4_19_319_tcp_10_sockets.pcap", "4_19_319/4_19_319_ss_tcp_info_a_10" },
		{ "4_19_319/4_19_319_tcp_100_sockets.pcap", "4_19_319/4_19_319_ss_tcp_info_a_100" },
		{ "5_15_164/5_15_164_tcp_10_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_10" },
		{ "5_15_164/5_15_164_tcp_100_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_100" },
		{ "5_15_164/5_15_164_tcp_1000_sockets.pcap", "5_15_164/5_15_164_ss_tcp_info_a_1000" },
		{ "6_1_103/6_1_103_tcp_10_sockets.pcap", "6_1_103/6_1_103_ss_tcp_info_a_10" },
		{ "6_1_103/6_1_103_tcp_100_sockets.pcap", "6_1_103/6_1_103_ss_tcp_info_a_100" },
		{ "6_6_44/tcp_10_sockets.pcap", "6_6_44/ss_tcp_info_a_10" },
		{ "6_6_44/tcp_100_sockets.pcap", "6_6_44/ss_tcp_info_a_100" },
		{ "6_6_44/tcp_100_sockets_bbr.pcap", "6_6_44/ss_tcp_info_a_100_bbr" },
		{ "6_6_44/tcp_100_sockets_dctcp.pcap", "6_6_44/ss_tcp_info_a_100_dctcp" },
		{ "6_6_44/tcp_100_sockets_vegas.pcap", "6_6_44/ss_tcp_info_a_100_vegas" },
		{ "6_6_44/ss_tcp_info_a_4.pcap", "6_6_44/ss_tcp_info_a_4" },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct xtcp_capture c;
		struct dump d;
		size_t want = ss_sockets(pairs[i][1]);

		ok(want >= 4, "%s: ss printed %zu sockets", pairs[i][1], want);
		if (!ok(xtcp_capture_open(&c, fixture(pairs[i][0])) == 0, "%s opens", pairs[i][0]))
			continue;
		drain(&c, &d);
		is(d.end, 0, "%s: no error", pairs[i][0]);
		ok(d.replies >= want, "%s: %zu SOCK_DIAG_BY_FAMILY replies for %zu sockets",
		   pairs[i][0], d.replies, want);
		is(d.last_type, NLMSG_DONE, "%s: ends with NLMSG_DONE", pairs[i][0]);
		free(d.buf);
	}
}

/* --- other encodings of the same messages ---------------------------------- */

/* The pcap with every header field byte-swapped (a big-endian writer). */
static uint8_t *to_big_endian(const uint8_t *le, size_t len, int nano)
{
	uint8_t *be = malloc(len);
	size_t pos, i;

	memcpy(be, le, len);
	if (nano) {
		static const uint8_t magic[4] = { 0xa1, 0xb2, 0x3c, 0x4d };

		memcpy(be, magic, 4);
	} else {
		wr32(be, __builtin_bswap32(rd32(le)));
	}
	be[4] = le[5], be[5] = le[4], be[6] = le[7], be[7] = le[6];
	for (i = 8; i < 24; i += 4)
		wr32(be + i, __builtin_bswap32(rd32(le + i)));
	for (pos = 24; pos + 16 <= len;) {
		uint32_t incl = rd32(le + pos + 8);

		for (i = 0; i < 16; i += 4)
			wr32(be + pos + i, __builtin_bswap32(rd32(le + pos + i)));
		pos += 16 + incl;
	}
	return be;
}

static void test_encodings(void)
{
	static const char *const files[] = {
		"6_6_44/tcp_100_sockets_bbr.pcap",
		"4_19_319/4_19_319_tcp_10_sockets.pcap",
		"6_6_44/netlink_sock_diag_reply_single_packet_port443v6.pcap",
	};
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct dump ref, d, d2;
		uint8_t *pcap = slurp(fixture(files[i]), &len), *be, *with_req;
		struct xtcp_capture c;
		char tmp[] = "/tmp/t-capture-XXXXXX";
		int fd;

		if (!ok(pcap != NULL, "read %s", files[i]))
			continue;
		drain_mem(pcap, len, &ref);
		ok(ref.end == 0 && ref.n > 0, "%s: %zu messages from memory", files[i], ref.n);

		/* raw dump of the same messages */
		ok(xtcp_capture_open_mem(&c, ref.buf, ref.len) == 0 && c.format == XTCP_CAPTURE_RAW,
		   "%s as a raw dump: detected as raw", files[i]);
		drain(&c, &d);
		ok(d.end == 0 && same_dump(&ref, &d), "%s as a raw dump: the same %zu messages",
		   files[i], d.n);
		free(d.buf);

		/* the raw dump from a file, with a request in front (skipped) */
		with_req = malloc(ref.len + 72);
		memset(with_req, 0, 72);
		wr32(with_req, 72);
		with_req[4] = SOCK_DIAG_BY_FAMILY;
		{
			uint16_t flags = NLM_F_REQUEST | NLM_F_DUMP;

			memcpy(with_req + 6, &flags, 2);
		}
		memcpy(with_req + 72, ref.buf, ref.len);
		fd = mkstemp(tmp);
		ok(fd >= 0 && write(fd, with_req, ref.len + 72) == (ssize_t)(ref.len + 72),
		   "write a raw dump to %s", tmp);
		if (fd >= 0)
			close(fd);
		ok(xtcp_capture_open(&c, tmp) == 0, "open the raw dump file");
		drain(&c, &d);
		ok(d.end == 0 && same_dump(&ref, &d), "raw dump file: request skipped, same messages");
		free(d.buf);
		unlink(tmp);
		free(with_req);

		/* big-endian pcap, micro- and nanosecond */
		be = to_big_endian(pcap, len, 0);
		drain_mem(be, len, &d);
		ok(d.end == 0 && same_dump(&ref, &d), "%s: big-endian pcap gives the same messages",
		   files[i]);
		free(d.buf);
		free(be);
		be = to_big_endian(pcap, len, 1);
		drain_mem(be, len, &d);
		ok(d.end == 0 && same_dump(&ref, &d), "%s: big-endian nanosecond pcap, same messages",
		   files[i]);
		free(d.buf);
		free(be);
		pcap[0] = 0x4d, pcap[1] = 0x3c;	/* a1b23c4d little-endian */
		drain_mem(pcap, len, &d2);
		ok(d2.end == 0 && same_dump(&ref, &d2), "%s: nanosecond pcap, same messages",
		   files[i]);
		free(d2.buf);
		free(ref.buf);
		free(pcap);
	}
}

/* --- hand-made pcaps ------------------------------------------------------ */

struct pcap_builder {
	uint8_t buf[4096];
	size_t len;
};

static void pb_init(struct pcap_builder *b)
{
	static const uint8_t hdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 4, 0, 253, 0, 0, 0,
	};

	memcpy(b->buf, hdr, sizeof(hdr));
	b->len = sizeof(hdr);
}

/* One packet: cooked header with @proto, then @n bytes of netlink messages. */
static size_t pb_packet(struct pcap_builder *b, uint16_t proto, const void *msgs, size_t n)
{
	size_t at = b->len;
	uint8_t *p = b->buf + at;

	memset(p, 0, 32);
	wr32(p + 8, (uint32_t)(16 + n));
	wr32(p + 12, (uint32_t)(16 + n));
	p[16] = 0, p[17] = 4;		/* PACKET_OUTGOING */
	p[18] = 0x03, p[19] = 0x38;	/* ARPHRD_NETLINK */
	p[30] = (uint8_t)(proto >> 8), p[31] = (uint8_t)proto;
	memcpy(p + 32, msgs, n);
	b->len += 32 + n;
	return at;
}

/* A netlink message header saying @len bytes and type @type (16 bytes written). */
static void nl_msg_hdr(uint8_t *out, uint32_t len, uint16_t type)
{
	memset(out, 0, 16);
	wr32(out, len);
	memcpy(out + 4, &type, 2);
}

/* A netlink message of @len bytes (>= 16), type @type, filled with @fill. */
static void nl_msg(uint8_t *out, uint32_t len, uint16_t type, uint16_t flags, uint8_t fill)
{
	memset(out, fill, len);
	wr32(out, len);
	memcpy(out + 4, &type, 2);
	memcpy(out + 6, &flags, 2);
}

static void test_handmade(void)
{
	struct pcap_builder b;
	struct xtcp_capture c;
	const struct nlmsghdr *nlh;
	uint8_t msgs[256];
	size_t second;
	int r;

	/* a packet of another netlink family (rtnetlink: RTM_NEWADDR is 20 too) */
	pb_init(&b);
	nl_msg(msgs, 16, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 0x11);
	pb_packet(&b, 0 /* NETLINK_ROUTE */, msgs, 16);
	nl_msg(msgs, 20, NLMSG_DONE, NLM_F_MULTI, 0x22);
	pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 20);
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0, "hand-made pcap opens");
	r = xtcp_capture_next(&c, &nlh);
	ok(r == 1 && nlh->nlmsg_type == NLMSG_DONE,
	   "packets of other netlink families are skipped");
	is(xtcp_capture_next(&c, &nlh), 0, "then the end");
	xtcp_capture_release(&c);

	/* a packet of odd length: the next one starts misaligned in the file */
	pb_init(&b);
	nl_msg(msgs, 21, NLMSG_DONE, 0, 0x33);	/* last message, no padding */
	pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 21);
	nl_msg(msgs, 24, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 0x44);
	nl_msg(msgs + 24, 20, NLMSG_DONE, NLM_F_MULTI, 0x55);
	second = pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 44);
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0, "pcap with an odd-sized packet opens");
	r = xtcp_capture_next(&c, &nlh);
	ok(r == 1 && nlh->nlmsg_len == 21 && c.msg_offset == 24 + 32, "21-byte message at byte 56");
	r = xtcp_capture_next(&c, &nlh);
	ok(r == 1 && !((uintptr_t)nlh & 3), "next packet's message is 4-byte aligned in memory");
	ok(r == 1 && nlh->nlmsg_len == 24 && ((const uint8_t *)nlh)[16] == 0x44,
	   "... with its own bytes");
	is(c.msg_offset, second + 32, "... and its offset in the file");
	is(c.packet_no, 2, "... in packet 2");
	r = xtcp_capture_next(&c, &nlh);
	ok(r == 1 && nlh->nlmsg_type == NLMSG_DONE && ((const uint8_t *)nlh)[16] == 0x55 &&
	   c.msg_offset == second + 32 + 24, "second message of the packet");
	is(xtcp_capture_next(&c, &nlh), 0, "end");
	xtcp_capture_release(&c);

	/* an empty packet (cooked header only) is fine, a shorter one is not */
	pb_init(&b);
	pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 0);
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0 && xtcp_capture_next(&c, &nlh) == 0,
	   "packet with only the cooked header: no messages, no error");
	xtcp_capture_release(&c);
	wr32(b.buf + 24 + 8, 10);
	b.len = 24 + 16 + 10;
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0, "pcap with a 10-byte packet opens");
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG && strstr(c.err, "cooked header"),
	   "10-byte packet: EBADMSG, %s", c.err);
	xtcp_capture_release(&c);

	/* trailing bytes after the last message of a packet */
	pb_init(&b);
	nl_msg(msgs, 20, NLMSG_DONE, 0, 0);
	pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 28);
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0 && xtcp_capture_next(&c, &nlh) == 1,
	   "message before 8 stray bytes");
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG &&
	   !strcmp(c.err, "packet 1 at byte 76: 8 trailing bytes are too short for a netlink message header"),
	   "8 stray bytes: %s", c.err);
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG, "the error sticks");
	xtcp_capture_release(&c);

	/* NLM_F_REQUEST messages inside a reply packet are skipped too */
	pb_init(&b);
	nl_msg(msgs, 16, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 0);
	nl_msg(msgs + 16, 16, NLMSG_DONE, NLM_F_MULTI, 0);
	pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 32);
	ok(xtcp_capture_open_mem(&c, b.buf, b.len) == 0 && xtcp_capture_next(&c, &nlh) == 1 &&
	   nlh->nlmsg_type == NLMSG_DONE && xtcp_capture_next(&c, &nlh) == 0,
	   "request skipped, reply returned");
	xtcp_capture_release(&c);
}

/* --- damaged files ------------------------------------------------------- */

static void test_raw_fixtures(void)
{
	struct xtcp_capture c;
	struct dump d;

	ok(xtcp_capture_open(&c, fixture("6_6_44/netlink_sock_diag_response_port4002")) == 0 &&
	   c.format == XTCP_CAPTURE_RAW, "one raw reply: detected as raw");
	drain(&c, &d);
	ok(d.end == 0 && d.n == 1 && d.replies == 1, "one raw reply: one message");
	free(d.buf);

	ok(xtcp_capture_open(&c, fixture("6_6_44/netlink_sock_diag_request_bytes")) == 0,
	   "a raw request opens");
	drain(&c, &d);
	ok(d.end == 0 && d.n == 0, "a raw request: nothing from the kernel");
	free(d.buf);

	/* this fixture keeps 16 of NLMSG_DONE's 20 bytes */
	ok(xtcp_capture_open(&c, fixture("6_6_44/netlink_end_of_dump_bytes")) == 0,
	   "truncated NLMSG_DONE opens");
	drain(&c, &d);
	ok(d.end == -1 && !strcmp(d.err, "at byte 0: netlink message length 20 overruns the file (16 bytes left)"),
	   "truncated NLMSG_DONE: %s", d.err);
	free(d.buf);
}

static void test_truncated(void)
{
	static const char *const files[] = {
		"6_6_44/ss_tcp_info_a_4.pcap",
		"4_19_319/netlink_sock_diag_reply_single_packet_port4005.pcap",
	};
	size_t f;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len, cut, bad = 0, clean_end = 0, errors = 0, boundaries = 0, pos, unlike = 0;
		uint8_t *pcap = slurp(fixture(files[f]), &len);
		struct dump full, d, d7;

		if (!ok(pcap != NULL, "read %s", files[f]))
			continue;
		drain_mem(pcap, len, &full);
		for (cut = 0; cut < len; cut++) {
			int r = drain_mem(pcap, cut, &d);
			int boundary = 0;

			for (pos = 24; pos <= cut; pos += 16 + rd32(pcap + pos + 8))
				if (pos == cut) {
					boundary = 1;
					break;
				} else if (pos + 16 > len) {
					break;
				}
			if (cut == 0) {
				bad += !(r == -3 && !strcmp(d.err, "empty file"));
			} else if (cut < 24) {
				/* under 4 bytes there is no magic: a (broken) raw dump */
				bad += !((r == -3 || (cut < 4 && r == -1)) && d.err[0]);
			} else if (boundary) {
				/* a clean end: the messages of the whole packets */
				boundaries++;
				bad += !(r == 0 && d.n <= full.n && (!d.len || !memcmp(d.buf, full.buf, d.len)));
				clean_end++;
			} else {
				errors++;
				if (!(r == -1 && strstr(d.err, "packet ") && strstr(d.err, " at byte ") &&
				      d.n <= full.n && (!d.len || !memcmp(d.buf, full.buf, d.len)))) {
					if (bad < 3)
						printf("# cut %zu: r %d, %s\n", cut, r, d.err);
					bad++;
				}
			}
			/* 7 bytes a read: the same messages, the same end, the same words */
			drain_chunked(pcap, cut, 7, &d7);
			unlike += !same_reading(&d, &d7);
			free(d7.buf);
			free(d.buf);
		}
		is(bad, 0, "%s cut at each of %zu bytes: %zu clean ends at packet boundaries, "
		   "%zu EBADMSG with the place", files[f], len, clean_end, errors);
		is(unlike, 0, "%s: each cut read 7 bytes at a time ends the same", files[f]);
		ok(boundaries >= 1 && errors > len / 2, "%s: both kinds were seen", files[f]);
		free(full.buf);
		free(pcap);
	}
}

static void test_corrupted(void)
{
	size_t len, rec3 = 24, i;
	uint8_t *pcap = slurp(fixture("6_6_44/tcp_10_sockets.pcap"), &len), *bad;
	struct dump d;
	char want[200];
	uint32_t incl;

	if (!ok(pcap != NULL, "read tcp_10_sockets.pcap"))
		return;
	bad = malloc(len);
	for (i = 0; i < 2; i++)
		rec3 += 16 + rd32(pcap + rec3 + 8);
	incl = rd32(pcap + rec3 + 8);

	memcpy(bad, pcap, len);
	wr32(bad + rec3 + 8, 0xffffffff);
	drain_mem(bad, len, &d);
	snprintf(want, sizeof(want), "packet 3 at byte %zu: packet length 4294967295 is impossible "
		 "(more than 262144)", rec3);
	ok(d.end == -1 && !strcmp(d.err, want), "incl_len 0xffffffff: %s", d.err);
	free(d.buf);

	memcpy(bad, pcap, len);
	wr32(bad + rec3 + 8, (uint32_t)(len - rec3 - 16 + 1));
	drain_mem(bad, len, &d);
	snprintf(want, sizeof(want), "packet 3 at byte %zu: packet length %zu overruns the file "
		 "(%zu bytes left)", rec3, len - rec3 - 16 + 1, len - rec3 - 16);
	ok(d.end == -1 && !strcmp(d.err, want), "incl_len past the end: %s", d.err);
	free(d.buf);

	memcpy(bad, pcap, len);
	wr32(bad + rec3 + 8, incl - 100);	/* the packet ends inside a message */
	drain_mem(bad, len, &d);
	ok(d.end == -1 && strstr(d.err, "packet 3 at byte ") && strstr(d.err, "overruns the packet"),
	   "incl_len 100 too short: %s", d.err);
	free(d.buf);

	memcpy(bad, pcap, len);
	wr32(bad + rec3 + 16 + 16, 9999);	/* first message of packet 3 */
	drain_mem(bad, len, &d);
	snprintf(want, sizeof(want), "packet 3 at byte %zu: netlink message length 9999 overruns "
		 "the packet (%u bytes left)", rec3 + 32, incl - 16);
	ok(d.end == -1 && !strcmp(d.err, want), "nlmsg_len 9999: %s", d.err);
	free(d.buf);

	memcpy(bad, pcap, len);
	wr32(bad + rec3 + 16 + 16, 15);
	drain_mem(bad, len, &d);
	snprintf(want, sizeof(want), "packet 3 at byte %zu: netlink message length 15 is shorter "
		 "than its header", rec3 + 32);
	ok(d.end == -1 && !strcmp(d.err, want), "nlmsg_len 15: %s", d.err);
	free(d.buf);

	memcpy(bad, pcap, len);
	wr32(bad + 20, 1);
	drain_mem(bad, len, &d);
	ok(d.end == -3 && strstr(d.err, "link type 1 "), "link type 1 (ethernet): %s", d.err);
	{
		struct xtcp_capture c;

		errno = 0;
		ok(xtcp_capture_open_mem(&c, bad, len) == -1 && errno == EINVAL,
		   "link type 1: EINVAL");
	}

	memcpy(bad, pcap, len);
	bad[4] = 3;
	drain_mem(bad, len, &d);
	ok(d.end == -3 && strstr(d.err, "version"), "pcap version 3: %s", d.err);

	memcpy(bad, "\x0a\x0d\x0d\x0a", 4);
	drain_mem(bad, len, &d);
	ok(d.end == -3 && strstr(d.err, "pcapng"), "pcapng: %s", d.err);

	free(bad);
	free(pcap);
}

static void test_random(void)
{
	uint8_t buf[4096];
	size_t iter, i, errors = 0, ends = 0, no_msg = 0;
	uint32_t seed = 12345;
	struct dump d;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
	for (iter = 0; iter < 3000; iter++) {
		size_t len = 1 + RND() % sizeof(buf);
		int r;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)RND();
		if (iter % 3 == 1 && len >= 24) {
			/* a valid pcap header, random records */
			static const uint8_t hdr[24] = {
				0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 4, 0, 253, 0, 0, 0,
			};

			memcpy(buf, hdr, 24);
			for (i = 24; i + 16 <= len; i += 16 + (buf[i + 8] & 0x3f))
				wr32(buf + i + 8, buf[i + 8] & 0x3f);
		} else if (iter % 3 == 2) {
			/* raw messages with small plausible lengths */
			for (i = 0; i + 16 <= len; i += buf[i] & 0xfc)
				if ((buf[i] &= 0xfc) < 16)
					buf[i] = 16;
			for (i = 0; i + 16 <= len; i += buf[i])
				buf[i + 1] = buf[i + 2] = buf[i + 3] = 0;
		}
		r = drain_mem(buf, len, &d);
		if (r == -1 && d.err[0])
			errors++;
		else if (r == 0)
			ends++;
		else if (r == -3 && d.err[0])
			no_msg++;
		else
			printf("# random input %zu: r %d\n", iter, r);
		free(d.buf);
	}
	is(errors + ends + no_msg, 3000, "3000 random inputs: %zu errors with a message, %zu clean "
	   "ends, %zu refused at open", errors, ends, no_msg);
}

/* --- reading as the input comes ------------------------------------------ */

static const char *const chunk_files[] = {
	"5_15_164/5_15_164_tcp_1000_sockets.pcap",
	"6_6_44/tcp_100_sockets.pcap",
	"4_19_319/4_19_319_tcp_10_sockets.pcap",
	"6_6_44/netlink_sock_diag_reply_single_packet_port443v6.pcap",
	"6_6_44/netlink_sock_diag_response_port4002",
};

/* Any number of bytes a read gives the same reading, in a bounded window. */
static void test_chunked(void)
{
	static const size_t chunks[] = { 1, 3, 16, 17, 1000, 65536 };
	size_t f, i, len;

	for (f = 0; f < sizeof(chunk_files) / sizeof(chunk_files[0]); f++) {
		uint8_t *data = slurp(fixture(chunk_files[f]), &len);
		struct dump ref, d;
		size_t unlike = 0, over = 0;

		if (!ok(data != NULL, "read %s", chunk_files[f]))
			continue;
		drain_mem(data, len, &ref);
		ok(ref.end == 0 && ref.n > 0, "%s: %zu messages", chunk_files[f], ref.n);
		ok(ref.max_cap <= 64 * 1024, "%s (%zu bytes): a window of %zu bytes", chunk_files[f],
		   len, ref.max_cap);
		for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			drain_chunked(data, len, chunks[i], &d);
			if (!same_reading(&ref, &d)) {
				printf("# %zu bytes a read: %zu messages, end %d %s\n", chunks[i], d.n,
				       d.end, d.err);
				unlike++;
			}
			over += d.max_cap > XTCP_CAPTURE_BUF_MAX;
			free(d.buf);
		}
		is(unlike, 0, "%s read 1, 3, 16, 17, 1000 and 65536 bytes at a time: the same "
		   "messages, offsets and times", chunk_files[f]);
		is(over, 0, "%s: the window never passed %u bytes", chunk_files[f],
		   XTCP_CAPTURE_BUF_MAX);
		free(ref.buf);
		free(data);
	}
}

/* A child writes @len bytes of @data into a pipe, @chunk at a time; returns its end. */
static int pipe_from(const uint8_t *data, size_t len, size_t chunk, pid_t *pid)
{
	int fds[2];
	size_t off, n;

	if (pipe(fds) < 0)
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(fds[0]);
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			if (write(fds[1], data + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void test_pipes(void)
{
	size_t f, len;

	for (f = 0; f < sizeof(chunk_files) / sizeof(chunk_files[0]); f++) {
		uint8_t *data = slurp(fixture(chunk_files[f]), &len);
		struct xtcp_capture c;
		struct dump ref, d;
		pid_t pid;
		int fd, status = -1;

		if (!ok(data != NULL, "read %s", chunk_files[f]))
			continue;
		drain_mem(data, len, &ref);
		fd = pipe_from(data, len, 333, &pid);
		if (!ok(xtcp_capture_open_fd(&c, fd) == 0, "%s through a pipe: opens", chunk_files[f]))
			printf("# %s\n", c.err);
		drain(&c, &d);
		ok(c.fd == -1 && fcntl(fd, F_GETFD) >= 0, "... and the pipe is still the caller's");
		close(fd);
		waitpid(pid, &status, 0);
		ok(same_reading(&ref, &d), "%s through a pipe, 333 bytes a write: the same reading",
		   chunk_files[f]);
		free(d.buf);
		free(ref.buf);
		free(data);
	}
}

/*
 * A bad header ends the reading there: nothing after it is waited for (the
 * writer keeps the pipe open) or read.
 */
static void test_stops_at_bad_header(void)
{
	static const uint8_t pcap_hdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 4, 0, 253, 0, 0, 0,
	};
	struct xtcp_capture c;
	const struct nlmsghdr *nlh;
	uint8_t msg[40];
	int fds[2];

	/* a raw message that claims 300000 bytes, and the pipe stays open */
	if (pipe(fds) < 0)
		return;
	nl_msg_hdr(msg, 300000, SOCK_DIAG_BY_FAMILY);
	ok(write(fds[1], msg, 16) == 16, "16 bytes into a pipe");
	ok(xtcp_capture_open_fd(&c, fds[0]) == 0 && c.format == XTCP_CAPTURE_RAW,
	   "a raw dump's first header is enough to open it");
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG &&
	   !strcmp(c.err, "at byte 0: netlink message length 300000 is impossible (more than 262144)"),
	   "a raw message over the maximum fails at once: %s", c.err);
	xtcp_capture_release(&c);

	/* a complete message is handed out before the input ends */
	nl_msg_hdr(msg, 20, NLMSG_DONE);
	ok(write(fds[1], msg, 20) == 20, "a whole 20-byte message into an open pipe");
	ok(xtcp_capture_open_fd(&c, fds[0]) == 0 && xtcp_capture_next(&c, &nlh) == 1 &&
	   nlh->nlmsg_type == NLMSG_DONE && c.time_ns == 0,
	   "it is returned at once (no time: a raw dump has none)");
	xtcp_capture_release(&c);

	/* a pcap record that claims 4 GiB */
	memcpy(msg, pcap_hdr, 24);
	memset(msg + 24, 0, 16);
	wr32(msg + 24 + 8, 0xffffffff);
	ok(write(fds[1], msg, 40) == 40, "a pcap header and a record header into the pipe");
	ok(xtcp_capture_open_fd(&c, fds[0]) == 0 && c.format == XTCP_CAPTURE_PCAP, "pcap opens");
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG &&
	   !strcmp(c.err, "packet 1 at byte 24: packet length 4294967295 is impossible (more than 262144)"),
	   "a record over the maximum fails at once: %s", c.err);
	xtcp_capture_release(&c);
	close(fds[0]);
	close(fds[1]);
}

/* Inputs that never end, or are large: the window stays what one record needs. */
static void test_endless(void)
{
	struct xtcp_capture c;
	const struct nlmsghdr *nlh;
	uint8_t *big;
	size_t i, n = 20000, len = n * 64;
	struct dump d;

	ok(xtcp_capture_open(&c, "/dev/zero") == 0 && c.format == XTCP_CAPTURE_RAW,
	   "/dev/zero opens (as a raw dump)");
	errno = 0;
	ok(xtcp_capture_next(&c, &nlh) == -1 && errno == EBADMSG &&
	   !strcmp(c.err, "at byte 0: netlink message length 0 is shorter than its header"),
	   "/dev/zero: %s", c.err);
	ok(c.cap <= 64 * 1024 && c.offset == 0, "... having read one window (%zu bytes)", c.cap);
	xtcp_capture_release(&c);

	/* 1.28 MB of 64-byte messages, then one bad header */
	big = malloc(len + 16);
	for (i = 0; i < n; i++)
		nl_msg_hdr(big + i * 64, 64, SOCK_DIAG_BY_FAMILY);
	nl_msg_hdr(big + len, 8, SOCK_DIAG_BY_FAMILY);
	drain_chunked(big, len + 16, 4000, &d);
	ok(d.n == n && d.end == -1 && d.max_cap <= 64 * 1024,
	   "%zu messages in a %zu-byte window, then an error", d.n, d.max_cap);
	ok(strstr(d.err, "at byte 1280000: netlink message length 8 is shorter than its header") != NULL,
	   "... at its offset: %s", d.err);
	free(d.buf);
	free(big);

	/* the largest legal records are read; the window grows to them and no further */
	big = calloc(1, XTCP_CAPTURE_MAX_RECORD + 64);
	nl_msg_hdr(big, XTCP_CAPTURE_MAX_RECORD, SOCK_DIAG_BY_FAMILY);
	drain_chunked(big, XTCP_CAPTURE_MAX_RECORD, 5000, &d);
	ok(d.end == 0 && d.n == 1 && d.max_cap <= XTCP_CAPTURE_BUF_MAX,
	   "a raw message of exactly %u bytes is read (window %zu)", XTCP_CAPTURE_MAX_RECORD,
	   d.max_cap);
	free(d.buf);
	free(big);
}

/* The packets' own times, in every pcap flavour; none in a raw dump. */
static void test_times(void)
{
	static const int64_t micro[2] = { 1721999999123456000, 1722000000999999000 };
	static const int64_t nano[2] = { 1721999999000123456, 1722000000000999999 };
	struct pcap_builder b;
	uint8_t msgs[32], *be;
	size_t at[2], i, len;
	int flavour;

	pb_init(&b);
	for (i = 0; i < 2; i++) {
		nl_msg(msgs, 20, i ? NLMSG_DONE : SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 0);
		at[i] = pb_packet(&b, NETLINK_SOCK_DIAG, msgs, 20);
	}
	wr32(b.buf + at[0], 1721999999);
	wr32(b.buf + at[0] + 4, 123456);
	wr32(b.buf + at[1], 1722000000);
	wr32(b.buf + at[1] + 4, 999999);
	for (flavour = 0; flavour < 4; flavour++) {
		int is_nano = flavour & 1, is_be = flavour & 2;
		const int64_t *want = is_nano ? nano : micro;
		struct xtcp_capture c;
		const struct nlmsghdr *nlh;
		int good = 1;

		if (is_nano)
			b.buf[0] = 0x4d, b.buf[1] = 0x3c;
		else
			b.buf[0] = 0xd4, b.buf[1] = 0xc3;
		be = is_be ? to_big_endian(b.buf, b.len, is_nano) : NULL;
		if (xtcp_capture_open_mem(&c, be ? be : b.buf, b.len) < 0)
			good = 0;
		for (i = 0; good && i < 2; i++)
			good = xtcp_capture_next(&c, &nlh) == 1 && c.time_ns == want[i];
		ok(good, "%s-endian %ssecond pcap: each message carries its packet's time (%lld)",
		   is_be ? "big" : "little", is_nano ? "nano" : "micro", (long long)c.time_ns);
		xtcp_capture_release(&c);
		free(be);
	}

	/* a fixture: the first kernel message's time is its record's, read here */
	{
		uint8_t *pcap = slurp(fixture("6_6_44/tcp_10_sockets.pcap"), &len);
		struct xtcp_capture c;
		const struct nlmsghdr *nlh;
		size_t pos = 24;
		uint64_t k;

		if (!ok(pcap != NULL, "read tcp_10_sockets.pcap"))
			return;
		ok(xtcp_capture_open_mem(&c, pcap, len) == 0 && xtcp_capture_next(&c, &nlh) == 1,
		   "tcp_10_sockets.pcap: a first kernel message");
		for (k = 1; k < c.packet_no; k++)
			pos += 16 + rd32(pcap + pos + 8);
		is(c.time_ns, (int64_t)rd32(pcap + pos) * 1000000000 + (int64_t)rd32(pcap + pos + 4) * 1000,
		   "... at the time of its packet %" PRIu64 " (July 2024)", c.packet_no);
		ok(c.time_ns >= 1719792000000000000 && c.time_ns < 1722470400000000000,
		   "... which is July 2024");
		xtcp_capture_release(&c);
		free(pcap);
	}
}

static void test_open_errors(void)
{
	struct xtcp_capture c;
	char tmp[] = "/tmp/t-capture-XXXXXX";
	int fd;

	errno = 0;
	ok(xtcp_capture_open(&c, "/nonexistent/capture.pcap") == -1 && errno == ENOENT,
	   "missing file: ENOENT");
	ok(strstr(c.err, "No such file") != NULL, "missing file: '%s'", c.err);
	xtcp_capture_release(&c);

	fd = mkstemp(tmp);
	if (fd >= 0)
		close(fd);
	errno = 0;
	ok(xtcp_capture_open(&c, tmp) == -1 && errno == EINVAL && !strcmp(c.err, "empty file"),
	   "empty file: EINVAL, '%s'", c.err);
	xtcp_capture_release(&c);
	unlink(tmp);

	errno = 0;
	ok(xtcp_capture_open_mem(&c, "", 0) == -1 && errno == EINVAL, "empty buffer: EINVAL");
	errno = 0;
	ok(xtcp_capture_open(&c, "/") == -1 && errno == EISDIR, "a directory: EISDIR (%s)", c.err);
	ok(!strcmp(c.err, "Is a directory"), "... in those words: '%s'", c.err);
	errno = 0;
	ok(xtcp_capture_open_fd(&c, 999) == -1 && errno == EBADF && !strcmp(c.err, "Bad file descriptor"),
	   "a closed descriptor: EBADF, '%s'", c.err);
	xtcp_capture_release(&c);
	xtcp_capture_release(&c);
	errno = 0;
	ok(xtcp_capture_open_mem(&c, "\xd4\xc3\xb2\xa1\x02\x00", 6) == -1 && errno == EINVAL &&
	   strstr(c.err, "truncated pcap file header"), "6-byte pcap: %s", c.err);
	xtcp_capture_release(&c);
}

int main(void)
{
	top = getenv("XTCP_TOP");
	if (!top || !*top)
		top = ".";
	if (access(fixture("README.md"), R_OK)) {
		printf("Bail out! no fixtures at %s (run from the top of the repository, or set XTCP_TOP)\n", fixture(""));
		return 1;
	}

	test_every_pcap();
	test_socket_counts();
	test_encodings();
	test_handmade();
	test_raw_fixtures();
	test_truncated();
	test_corrupted();
	test_random();
	test_chunked();
	test_pipes();
	test_stops_at_bad_header();
	test_endless();
	test_times();
	test_open_errors();
	return done_testing();
}
