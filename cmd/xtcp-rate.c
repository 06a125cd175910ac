/*
 * xtcp-rate: follow each socket of a stream across polls, and add to every
 * record the interval since its socket's previous record, the growth of
 * the kernel's counters and the byte rates.  See man/xtcp-rate.1, and
 * lib/rate.h for the rules.
 *
 * Rows go out as they came with the rate fields after them; each input
 * frame with a row left becomes one output frame, so the grouping survives.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"
#include "parse.h"
#include "rate.h"
#include "stream.h"

struct rate_cmd {
	/* options */
	bool changed_only;
	unsigned forget;
	const char *out_path;

	/* state */
	struct xtcp_rate *rate;
	struct xtcp_output out;
	struct xtcp_outfile outfile;
	struct xtcp_envelope env;
	bool flush_often;
	uint64_t frames_in;     /* frames read, over every input */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-rate [options] [FILE...]\n"
		"Follow each TCP socket of a stream across polls and add to every record the\n"
		"time since its socket's previous record (rate_interval_ns, 0 on the first),\n"
		"the growth of the kernel's counters (tcp_info_bytes_acked_delta, ...) and\n"
		"the byte rates (tcp_info_bytes_acked_per_s, ...).  Reads FILEs or standard\n"
		"input, writes a stream.\n"
		"\n"
		"      --changed        keep only the records whose socket is new or whose\n"
		"                       state or counters changed since its previous record\n"
		"      --forget N       forget a socket after N polls without it (default %u)\n"
		"  -o, --output FILE    write FILE instead of stdout, replaced whole on success\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 bad input or runtime failure, 2 usage error.\n"
		"Example: xtcp-dump -c 0 -i 5s | xtcp-rate | xtcp-filter 'rate_bytes_acked > 1M' |\n"
		"         xtcp-fmt\n", XTCP_RATE_FORGET_DEFAULT);
}

enum { OPT_CHANGED = 256, OPT_FORGET };

static const struct option long_options[] = {
	{ "changed", no_argument, NULL, OPT_CHANGED },
	{ "forget", required_argument, NULL, OPT_FORGET },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void parse_options(struct rate_cmd *rc, int argc, char **argv)
{
	uint64_t v;
	int c;

	rc->forget = XTCP_RATE_FORGET_DEFAULT;
	while ((c = getopt_long(argc, argv, ":o:hV", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_CHANGED:
			rc->changed_only = true;
			break;
		case OPT_FORGET:
			if (xtcp_parse_u64(optarg, 1, 1000000, &v) < 0)
				usage_error("invalid --forget '%s': want a number of polls from 1 to "
					    "1000000", optarg);
			rc->forget = (unsigned)v;
			break;
		case 'o':
			rc->out_path = optarg;
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
}

static void write_frame(struct rate_cmd *rc)
{
	const uint8_t *frame;
	size_t len;

	while ((frame = xtcp_envelope_take(&rc->env, true, &len, NULL))) {
		if (xtcp_output_write(&rc->out, frame, len) < 0)
			output_failed(&rc->outfile, rc->out_path);
		xtcp_envelope_done(&rc->env);
	}
}

/* One row: followed, and unless --changed drops it, added to the frame.  -1: a bad row. */
static int rate_row(struct rate_cmd *rc, const uint8_t *row, size_t len)
{
	struct xtcp_rate_result res;
	const uint8_t *out;
	size_t out_len;
	int added;

	if (xtcp_rate_follow(rc->rate, row, len, &res) < 0) {
		if (errno == ENOMEM)
			err(1, "cannot follow the sockets");
		return -1;
	}
	if (rc->changed_only && !res.flags)
		return 0;
	out = xtcp_rate_encode(rc->rate, &res, row, len, &out_len);
	if (!out)
		err(1, "cannot build a record");
	added = xtcp_envelope_add_raw(&rc->env, out, out_len);
	if (added < 0 && errno == EFBIG) {
		write_frame(rc);        /* every row before it is out */
		errx(1, "a record over %u bytes cannot be a frame of a stream", XTCP_FRAME_MAX);
	}
	if (added < 0)
		err(1, "cannot build a frame");
	if (added > 0)
		write_frame(rc);
	return 0;
}

/* Returns 0, or -1 after reporting bad input. */
static int rate_stream(void *arg, int fd, const char *name)
{
	struct rate_cmd *rc = arg;
	struct xtcp_reader r;
	struct xtcp_row_iter it;
	const uint8_t *envelope, *row;
	size_t len, row_len, row_no;
	uint64_t frames;
	int n;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	while ((n = xtcp_reader_next(&r, &envelope, &len)) > 0) {
		xtcp_row_iter_init(&it, envelope, len);
		for (row_no = 1; xtcp_row_iter_next(&it, &row, &row_len) > 0; row_no++) {
			if (rate_row(rc, row, row_len) == 0)
				continue;
			warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": row %zu is not a valid "
			      "record", name, r.frame_no, r.frame_offset, row_no);
			/* this frame is dropped whole, as xtcp-filter drops it */
			if (xtcp_envelope_take(&rc->env, true, &len, NULL))
				xtcp_envelope_done(&rc->env);
			xtcp_reader_release(&r);
			return -1;
		}
		write_frame(rc);
		if (rc->flush_often && xtcp_output_flush(&rc->out) < 0)
			output_failed(&rc->outfile, rc->out_path);
	}
	rc->frames_in += r.frame_no;
	frames = r.frame_no;
	n = reader_end(&r, n, name,
		       "JSON lines? turn them into a stream with xtcp-fmt --from json");
	return refuse_empty_input(frames, n, name, rc->out_path);
}

int main(int argc, char **argv)
{
	struct rate_cmd rc;
	int failed;

	memset(&rc, 0, sizeof(rc));
	parse_options(&rc, argc, argv);

	if (!rc.out_path && isatty(STDOUT_FILENO)) {
		fputs("xtcp-rate: refusing to write binary records to a terminal; pipe into "
		      "xtcp-fmt (or use -o FILE to save)\n", stderr);
		return EXIT_USAGE;
	}
	if (optind == argc && isatty(STDIN_FILENO)) {
		fputs("xtcp-rate: refusing to read binary records from a terminal; pipe a "
		      "stream into it (xtcp-dump -c 0 | xtcp-rate) or name a FILE\n", stderr);
		return EXIT_USAGE;
	}
	rc.rate = xtcp_rate_new(rc.forget);
	if (!rc.rate)
		err(1, "cannot follow the sockets");

	catch_stop_signals();

	rc.flush_often = output_buffer_open(&rc.out, &rc.outfile, rc.out_path);
	if (xtcp_envelope_init(&rc.env, 0, 0) < 0)
		err(1, "cannot allocate a frame");
	failed = read_inputs(argc, argv, optind, rate_stream, &rc) < 0;

	/*
	 * Everything valid before an error is written; -o commits only a run
	 * that succeeded.  When --changed kept nothing of a stream that had
	 * frames, one empty frame says so, as xtcp-filter's "no match" does.
	 */
	if (!failed && rc.frames_in && !rc.env.frames_done &&
	    xtcp_output_write_empty_frame(&rc.out) < 0)
		output_failed(&rc.outfile, rc.out_path);
	failed = output_buffer_finish(&rc.out, &rc.outfile, rc.out_path, failed);
	xtcp_output_release(&rc.out);
	xtcp_envelope_release(&rc.env);
	xtcp_rate_free(rc.rate);
	return failed ? 1 : 0;
}
