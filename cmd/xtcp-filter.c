/*
 * xtcp-filter: keep the records of a stream that match an expression.  See
 * man/xtcp-filter.1 for the language and lib/filter.h for its contract.
 *
 * Kept rows are checked whole, then copied byte for byte (unknown fields
 * included); each input frame with a kept row becomes one output frame, so
 * the grouping survives.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "filter.h"
#include "format.h"
#include "outfile.h"
#include "record.h"
#include "stream.h"

struct filter_cmd {
	/* options */
	bool invert;
	bool count_only;
	const char *out_path;

	/* state */
	struct xtcp_filter *filter;
	struct xtcp_output out;
	struct xtcp_outfile outfile;
	struct xtcp_envelope env;
	bool flush_often;
	uint64_t kept;
	uint64_t frames_in;     /* frames read, every input */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-filter [options] EXPR [FILE...]\n"
		"Keep the TCP socket records of a stream that match EXPR.  Reads FILEs or\n"
		"standard input, writes a stream (or, with -c, the number of matches).\n"
		"\n"
		"  -v, --invert-match   keep the records that do not match\n"
		"  -c, --count          print only the number of matching records\n"
		"  -o, --output FILE    write FILE instead of stdout, replaced whole on success\n"
		"      --list-fields    print the schema: every field's name, type, unit,\n"
		"                       aliases and meaning, then exit\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"EXPR: tests FIELD OP VALUE joined by && || ! and parentheses.  FIELD is any\n"
		"schema field (--list-fields) or an alias: src dst sport dport state\n"
		"family rtt rttvar minrtt cwnd ssthresh mss retrans lost unacked cong netns\n"
		"hostname bytes_acked delivery_rate ... (any tcp_info_X as X).  OP: == != < <=\n"
		"> >= ~ !~ in.  Units (man 7 xtcp): ns us ms s m h on times; k M G T, Ki Mi Gi\n"
		"Ti (and KiB ...) on any number.\n"
		"\n"
		"Exit status: 0 success (with or without matches), 1 bad input or runtime\n"
		"failure, 2 usage error or bad expression.\n"
		"Example: xtcp-dump | xtcp-filter 'state == ESTABLISHED && rtt > 5ms' | xtcp-fmt\n");
}

enum { OPT_LIST_FIELDS = 256 };

static const struct option long_options[] = {
	{ "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
	{ "invert-match", no_argument, NULL, 'v' },
	{ "count", no_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void parse_options(struct filter_cmd *fc, int argc, char **argv)
{
	int c;

	/* '+': options only before EXPR, so an expression may start with '!' or '-' */
	while ((c = getopt_long(argc, argv, ":vco:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'v':
			fc->invert = true;
			break;
		case 'c':
			fc->count_only = true;
			break;
		case 'o':
			fc->out_path = optarg;
			break;
		case OPT_LIST_FIELDS:
			list_fields(stdout);
			exit_listing();
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
	if (optind == argc)
		usage_error("missing EXPR");
}

static void compile(struct filter_cmd *fc, const char *expr)
{
	struct xtcp_filter_error e;

	fc->filter = xtcp_filter_new(expr, &e);
	if (fc->filter)
		return;
	if (errno == ENOMEM)
		err(1, "cannot compile the expression");
	errx(EXIT_USAGE, "bad expression at column %zu: %s", e.column, e.msg);
}

/* Returns 0, or -1 after reporting bad input. */
static int filter_stream(struct filter_cmd *fc, int fd, const char *name)
{
	struct xtcp_reader r;
	struct xtcp_row_iter it;
	const uint8_t *envelope, *row, *frame;
	size_t len, row_len, row_no, frame_len;
	uint64_t frame_kept, frames;
	int rc, m;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	while ((rc = xtcp_reader_next(&r, &envelope, &len)) > 0) {
		xtcp_row_iter_init(&it, envelope, len);
		frame_kept = 0;
		for (row_no = 1; xtcp_row_iter_next(&it, &row, &row_len) > 0; row_no++) {
			m = xtcp_filter_match(fc->filter, row, row_len);
			/* the match read what the expression needs; a kept row is checked whole */
			if (m >= 0 && m != fc->invert && xtcp_record_check(row, row_len) < 0)
				m = -1;
			if (m < 0) {
				/* this frame is dropped whole: nothing of a bad frame is written */
				xtcp_envelope_take(&fc->env, true, &frame_len, NULL);
				xtcp_envelope_done(&fc->env);
				if (errno == ERANGE)
					warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": row %zu: a "
					      "regular expression went over its limit of %u steps "
					      "(see xtcp-filter(1))", name, r.frame_no, r.frame_offset,
					      row_no, XTCP_FILTER_REGEX_STEPS);
				else
					warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": row %zu is "
					      "not a valid record", name, r.frame_no, r.frame_offset,
					      row_no);
				xtcp_reader_release(&r);
				return -1;
			}
			if (m == fc->invert)
				continue;
			frame_kept++;
			if (!fc->count_only && xtcp_envelope_add_raw(&fc->env, row, row_len) < 0)
				err(1, "cannot build a frame");
		}
		fc->kept += frame_kept;
		if (fc->count_only)
			continue;
		frame = xtcp_envelope_take(&fc->env, true, &frame_len, NULL);
		if (frame) {
			if (xtcp_output_write(&fc->out, frame, frame_len) < 0)
				output_failed(&fc->outfile, fc->out_path);
			xtcp_envelope_done(&fc->env);
			if (fc->flush_often && xtcp_output_flush(&fc->out) < 0)
				output_failed(&fc->outfile, fc->out_path);
		}
	}
	fc->frames_in += r.frame_no;
	frames = r.frame_no;
	rc = reader_end(&r, rc, name,
			"JSON lines? turn them into a stream with xtcp-fmt --from json");
	return refuse_empty_input(frames, rc, name, fc->out_path);
}

static int process(void *arg, int fd, const char *name)
{
	return filter_stream(arg, fd, name);
}

int main(int argc, char **argv)
{
	struct filter_cmd fc;
	int failed;

	memset(&fc, 0, sizeof(fc));
	parse_options(&fc, argc, argv);
	compile(&fc, argv[optind++]);

	if (!fc.count_only && !fc.out_path && isatty(STDOUT_FILENO)) {
		fputs("xtcp-filter: refusing to write binary records to a terminal; pipe into "
		      "xtcp-fmt (or use -c to count, -o FILE to save)\n", stderr);
		xtcp_filter_free(fc.filter);
		return EXIT_USAGE;
	}
	if (optind == argc && isatty(STDIN_FILENO)) {
		fputs("xtcp-filter: refusing to read binary records from a terminal; pipe a "
		      "stream into it (xtcp-dump | xtcp-filter EXPR) or name a FILE\n", stderr);
		xtcp_filter_free(fc.filter);
		return EXIT_USAGE;
	}

	catch_stop_signals();

	fc.flush_often = output_buffer_open(&fc.out, &fc.outfile, fc.out_path);
	if (xtcp_envelope_init(&fc.env, 0, 0) < 0)
		err(1, "cannot allocate a frame");
	failed = read_inputs(argc, argv, optind, process, &fc) < 0;

	/*
	 * Everything valid before an error is written; -o commits only a run
	 * that succeeded.  A stream that had frames and kept none is one empty
	 * frame, so that a reader can tell "no match" from a failed writer.
	 */
	if (!failed && !fc.count_only && fc.frames_in && !fc.env.frames_done &&
	    xtcp_output_write_empty_frame(&fc.out) < 0)
		output_failed(&fc.outfile, fc.out_path);
	if (fc.count_only) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", fc.kept);

		if (xtcp_output_write(&fc.out, line, (size_t)n) < 0)
			output_failed(&fc.outfile, fc.out_path);
	}
	failed = output_buffer_finish(&fc.out, &fc.outfile, fc.out_path, failed);
	xtcp_output_release(&fc.out);
	xtcp_envelope_release(&fc.env);
	xtcp_filter_free(fc.filter);
	return failed ? 1 : 0;
}
