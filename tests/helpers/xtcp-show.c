/*
 * xtcp-show: a test helper that prints a stream as JSON lines, one object per
 * row with every field, decoding with protobuf-c's own unpack (not the
 * project's decoder), so tests check xtcp's bytes against an independent
 * reader.  Addresses print as text, other bytes fields as hex.
 *
 * usage: xtcp-show [FILE...]     (stdin when no FILE)
 * Prints "frames=N rows=N" on stderr at the end; exit 1 on a bad stream.
 */

#include <arpa/inet.h>
#include <err.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

static void put_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void put_row(const XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	const ProtobufCMessageDescriptor *desc = rec->base.descriptor;
	const char *base = (const char *)rec;
	unsigned i;

	putchar('{');
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const void *p = base + f->offset;

		printf("%s\"%s\":", i ? "," : "", f->name);
		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_ENUM:
			printf("%" PRIu32, *(const uint32_t *)p);
			break;
		case PROTOBUF_C_TYPE_UINT64:
			printf("%" PRIu64, *(const uint64_t *)p);
			break;
		case PROTOBUF_C_TYPE_INT64:
			printf("%" PRId64, *(const int64_t *)p);
			break;
		case PROTOBUF_C_TYPE_STRING:
			put_string(*(char *const *)p);
			break;
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *b = p;
			char text[INET6_ADDRSTRLEN];
			size_t k;

			if (b->len == 16 && strstr(f->name, "socket_") &&
			    inet_ntop(rec->inet_diag_msg_family == AF_INET6 ? AF_INET6 : AF_INET,
				      b->data, text, sizeof(text))) {
				printf("\"%s\"", text);
				break;
			}
			putchar('"');
			for (k = 0; k < b->len; k++)
				printf("%02x", b->data[k]);
			putchar('"');
			break;
		}
		default:
			printf("null");
		}
	}
	printf(",\"_unknown_fields\":%u}\n", rec->base.n_unknown_fields);
}

static int show(int fd, const char *name, uint64_t *frames, uint64_t *rows)
{
	struct xtcp_reader r;
	const uint8_t *env;
	size_t len, i;
	int rc;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "out of memory");
	while ((rc = xtcp_reader_next(&r, &env, &len)) > 0) {
		XtcpFlatRecord__V1__Envelope *e =
			xtcp_flat_record__v1__envelope__unpack(NULL, len, env);

		if (!e) {
			warnx("'%s': frame %" PRIu64 ": protobuf-c cannot unpack the envelope",
			      name, r.frame_no);
			return -1;
		}
		(*frames)++;
		for (i = 0; i < e->n_row; i++) {
			put_row(e->row[i]);
			(*rows)++;
		}
		xtcp_flat_record__v1__envelope__free_unpacked(e, NULL);
	}
	if (rc < 0)
		warnx("'%s': %s", name, r.err);
	xtcp_reader_release(&r);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t frames = 0, rows = 0;
	int i, failed = 0;

	if (argc < 2) {
		failed = show(STDIN_FILENO, "stdin", &frames, &rows) < 0;
	} else {
		for (i = 1; i < argc && !failed; i++) {
			int fd = open(argv[i], O_RDONLY);

			if (fd < 0)
				err(1, "cannot open '%s'", argv[i]);
			failed = show(fd, argv[i], &frames, &rows) < 0;
			close(fd);
		}
	}
	fflush(stdout);
	fprintf(stderr, "frames=%" PRIu64 " rows=%" PRIu64 "\n", frames, rows);
	return failed ? 1 : 0;
}
