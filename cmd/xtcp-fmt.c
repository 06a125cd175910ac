/*
 * xtcp-fmt: render a stream of records as JSON lines, CSV, TSV, a table for
 * people, or ClickHouse's Protobuf format; --from json and --from protobuf
 * turn those back into a stream.  See man/xtcp-fmt.1.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"
#include "json.h"
#include "outfile.h"
#include "record.h"
#include "stream.h"

struct fmt {
	/* options */
	const char *format_name;
	const char *fields;
	const char *from;
	const char *out_path;
	bool header;

	/* state */
	bool delimited;         /* -f protobuf: rows as they are, no text */
	struct xtcp_format format;
	struct xtcp_output out;
	struct xtcp_outfile outfile;
	bool flush_often;       /* the output is a pipe or terminal: flush per frame or line */
	struct xtcp_poll poll;  /* the text view's: a line between polls */
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_decoder dec;
	struct xtcp_envelope env;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-fmt [options] [FILE...]\n"
		"Render a stream of TCP socket records (from xtcp-dump or xtcp-filter) as text\n"
		"or as ClickHouse's Protobuf format, or turn those back into a stream.  Reads\n"
		"FILEs or standard input.\n"
		"\n"
		"  -f, --format FMT     json (JSON lines), csv, tsv, text (a table for people) or\n"
		"                       protobuf (ClickHouse's Protobuf format: uvarint(len) ||\n"
		"                       XtcpFlatRecord per row); default text on a terminal,\n"
		"                       else json\n"
		"      --fields LIST    columns, comma separated schema field names, or all;\n"
		"                       default: every field for json, a useful set for csv and\n"
		"                       tsv, the socket table for text\n"
		"      --no-header      no header line (csv, tsv, text)\n"
		"      --list-fields    print the schema: every field's name, type, unit,\n"
		"                       aliases and meaning, then exit\n"
		"      --from FMT       json: read JSON lines (as -f json writes), or protobuf:\n"
		"                       rows of ClickHouse's Protobuf format (as -f protobuf\n"
		"                       writes), and write a stream\n"
		"  -o, --output FILE    write FILE instead of stdout, replaced whole on success\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 bad input or runtime failure, 2 usage error.\n"
		"Example: xtcp-dump | xtcp-fmt -f csv --fields netns,inet_diag_msg_state,tcp_info_rtt\n");
}

enum {
	OPT_FIELDS = 256,
	OPT_NO_HEADER,
	OPT_LIST_FIELDS,
	OPT_FROM,
};

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "fields", required_argument, NULL, OPT_FIELDS },
	{ "no-header", no_argument, NULL, OPT_NO_HEADER },
	{ "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void parse_options(struct fmt *f, int argc, char **argv)
{
	int c;

	f->header = true;
	while ((c = getopt_long(argc, argv, ":f:o:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			f->format_name = optarg;
			break;
		case OPT_FIELDS:
			f->fields = optarg;
			break;
		case OPT_NO_HEADER:
			f->header = false;
			break;
		case OPT_LIST_FIELDS:
			list_fields(stdout);
			exit_listing();
		case OPT_FROM:
			f->from = optarg;
			break;
		case 'o':
			f->out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit_listing();
		case 'V':
			print_version();
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (f->from && strcmp(f->from, "json") && strcmp(f->from, "protobuf"))
		usage_error("invalid --from '%s': want json or protobuf", f->from);
	if (f->from && (f->format_name || f->fields || !f->header))
		usage_error("--from %s writes a stream; -f, --fields and --no-header do not apply",
			    f->from);
	f->delimited = f->format_name && !strcmp(f->format_name, "protobuf");
	if (f->delimited && (f->fields || !f->header))
		usage_error("-f protobuf copies whole rows; --fields and --no-header do not apply");
}

static void compile_format(struct fmt *f)
{
	enum xtcp_format_kind kind;
	const char *bad, *hint;
	size_t bad_len;

	if (!f->format_name)
		kind = !f->out_path && isatty(STDOUT_FILENO) ? XTCP_FORMAT_TEXT : XTCP_FORMAT_JSON;
	else if (xtcp_format_kind_parse(f->format_name, &kind) < 0)
		usage_error("invalid format '%s': want json, csv, tsv, text or protobuf",
			    f->format_name);
	if (xtcp_format_init(&f->format, kind, f->fields, f->header, &bad, &bad_len) == 0)
		return;
	if (errno == ENOMEM)
		err(1, "cannot compile the format");
	if (errno == EEXIST)
		usage_error("field '%.*s' is listed twice in --fields", (int)bad_len, bad);
	if (!bad_len)
		usage_error("empty field name in --fields '%s'", f->fields);
	hint = xtcp_schema_suggest(bad, bad_len, 0);
	fprintf(stderr, "xtcp-fmt: unknown field '%.*s' in --fields", (int)bad_len, bad);
	if (hint)
		fprintf(stderr, "; did you mean '%s'?", hint);
	fputs(" (see 'xtcp-fmt --list-fields')\n", stderr);
	exit(EXIT_USAGE);
}

/* --- stream -> text -------------------------------------------------------- */

/* Returns 0, or -1 after reporting bad input. */
static int format_stream(struct fmt *f, int fd, const char *name)
{
	struct xtcp_reader r;
	struct xtcp_row_iter it;
	const uint8_t *env, *row;
	size_t len, row_len, row_no;
	struct stat st;
	bool input_waits = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
	uint64_t frames;
	int rc;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	while ((rc = xtcp_reader_next(&r, &env, &len)) > 0) {
		xtcp_row_iter_init(&it, env, len);
		for (row_no = 1; xtcp_row_iter_next(&it, &row, &row_len) > 0; row_no++) {
			/* -f protobuf passes rows on as they are: each is checked whole first */
			if ((f->delimited ? xtcp_record_check(row, row_len) :
			     xtcp_record_decode(&f->dec, row, row_len, &f->rec)) < 0) {
				if (errno == ENOMEM)
					err(1, "cannot decode a record");
				warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": row %zu is not a "
				      "valid record", name, r.frame_no, r.frame_offset, row_no);
				xtcp_reader_release(&r);
				return -1;
			}
			if (f->delimited ? xtcp_output_write_delimited(&f->out, row, row_len) < 0 :
			    xtcp_format_write_poll(&f->format, &f->poll, &f->rec, &f->out) < 0 ||
			    xtcp_format_write(&f->format, &f->rec, &f->out) < 0)
				output_failed(&f->outfile, f->out_path);
		}
		/*
		 * A frame's lines are out before the wait for the next: into a
		 * pipe or terminal at every frame, into a file (tail -f) when the
		 * input is one that makes us wait and the next frame has not
		 * come; a file read into a file still goes in large writes.
		 */
		if ((f->flush_often || (input_waits && xtcp_reader_would_block(&r))) &&
		    xtcp_output_flush(&f->out) < 0)
			output_failed(&f->outfile, f->out_path);
	}
	frames = r.frame_no;
	rc = reader_end(&r, rc, name, "JSON lines? read them with --from json");
	return refuse_empty_input(frames, rc, name, f->out_path);
}

/* --- JSON lines or Protobuf rows -> stream ---------------------------------- */

static void emit_frames(struct fmt *f, bool flush)
{
	const uint8_t *frame;
	size_t len;

	while ((frame = xtcp_envelope_take(&f->env, flush, &len, NULL))) {
		if (xtcp_output_write(&f->out, frame, len) < 0)
			output_failed(&f->outfile, f->out_path);
		xtcp_envelope_done(&f->env);
	}
}

/* About to wait for input: hand over what is ready to whoever waits on the output. */
static void hand_over(struct fmt *f, bool input_would_block)
{
	if (!f->flush_often || !input_would_block)
		return;
	emit_frames(f, true);
	if (xtcp_output_flush(&f->out) < 0)
		output_failed(&f->outfile, f->out_path);
}

/* A row went into the envelope (@rc from xtcp_envelope_add*): write a frame it completed. */
static void row_added(struct fmt *f, int rc)
{
	if (rc < 0 && errno == EFBIG) {
		emit_frames(f, true);   /* every row before it is out */
		errx(1, "a record over %u bytes cannot be a frame of a stream", XTCP_FRAME_MAX);
	}
	if (rc < 0)
		err(1, "cannot build a frame");
	if (rc > 0)
		emit_frames(f, false);
}

static int read_json(struct fmt *f, int fd, const char *name)
{
	struct xtcp_json_reader r;
	int rc;

	if (xtcp_json_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	for (;;) {
		hand_over(f, xtcp_json_reader_would_read(&r));
		rc = xtcp_json_reader_next(&r, &f->rec);
		if (rc <= 0)
			break;
		row_added(f, xtcp_envelope_add(&f->env, &f->rec));
	}
	if (rc < 0) {
		if (errno == ENOMEM)
			err(1, "cannot read JSON");
		warnx("%s: %s", name, r.err);
	}
	xtcp_json_reader_release(&r);
	return rc;
}

/* Rows of ClickHouse's Protobuf format, each checked whole as a record, into frames. */
static int read_delimited(struct fmt *f, int fd, const char *name)
{
	struct xtcp_reader r;
	const uint8_t *row;
	size_t len;
	int rc;

	if (xtcp_reader_init_delimited(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	for (;;) {
		hand_over(f, xtcp_reader_would_block(&r));
		rc = xtcp_reader_next(&r, &row, &len);
		if (rc <= 0)
			break;
		if (xtcp_record_check(row, len) < 0) {
			warnx("%s: row %" PRIu64 " at byte %" PRIu64 ": not a valid record%s", name,
			      r.frame_no, r.frame_offset,
			      r.frame_no == 1 ? " (a stream of frames? read it without --from)" : "");
			xtcp_reader_release(&r);
			return -1;
		}
		row_added(f, xtcp_envelope_add_raw(&f->env, row, len));
	}
	return reader_end(&r, rc, name, NULL);
}

/* --- main ---------------------------------------------------------------------- */

static int process(void *arg, int fd, const char *name)
{
	struct fmt *f = arg;

	if (!f->from)
		return format_stream(f, fd, name);
	return strcmp(f->from, "json") ? read_delimited(f, fd, name) : read_json(f, fd, name);
}

int main(int argc, char **argv)
{
	struct fmt f;
	int failed;

	memset(&f, 0, sizeof(f));
	xtcp_record_init(&f.rec);
	xtcp_decoder_init(&f.dec);
	parse_options(&f, argc, argv);

	if (f.from) {
		if (!f.out_path && isatty(STDOUT_FILENO)) {
			fputs("xtcp-fmt: refusing to write binary records to a terminal; pipe into "
			      "xtcp-fmt, xtcp-filter or xtcp-kafka, or use -o FILE\n", stderr);
			return EXIT_USAGE;
		}
	} else {
		if (f.delimited && !f.out_path && isatty(STDOUT_FILENO)) {
			fputs("xtcp-fmt: refusing to write binary records to a terminal; pipe into "
			      "clickhouse-client (INSERT ... FORMAT Protobuf), or use -o FILE\n", stderr);
			return EXIT_USAGE;
		}
		if (!f.delimited)
			compile_format(&f);
		if (optind == argc && isatty(STDIN_FILENO)) {
			fputs("xtcp-fmt: refusing to read binary records from a terminal; pipe a "
			      "stream into it (xtcp-dump | xtcp-fmt) or name a FILE\n", stderr);
			xtcp_format_release(&f.format);
			return EXIT_USAGE;
		}
	}

	catch_stop_signals();

	f.flush_often = output_buffer_open(&f.out, &f.outfile, f.out_path);
	if (f.from) {
		if (xtcp_envelope_init(&f.env, XTCP_DEFAULT_ROWS, XTCP_DEFAULT_BYTES) < 0)
			err(1, "cannot allocate a frame");
	} else if (!f.delimited && xtcp_format_write_header(&f.format, &f.out) < 0) {
		output_failed(&f.outfile, f.out_path);
	}
	failed = read_inputs(argc, argv, optind, process, &f) < 0;

	/* Everything valid before an error is written; -o commits only a run that succeeded. */
	if (f.from)
		emit_frames(&f, true);
	failed = output_buffer_finish(&f.out, &f.outfile, f.out_path, failed);
	xtcp_output_release(&f.out);
	xtcp_envelope_release(&f.env);
	xtcp_decoder_release(&f.dec);
	xtcp_format_release(&f.format);
	return failed ? 1 : 0;
}
