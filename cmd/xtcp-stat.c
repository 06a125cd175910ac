/*
 * xtcp-stat: summarise each poll of a stream by groups (count, sum, min,
 * max, quantiles of chosen fields) as a table, JSON lines, CSV or the
 * Prometheus text format for node_exporter's textfile collector.  See
 * man/xtcp-stat.1 and lib/stat.h.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"
#include "parse.h"
#include "record.h"
#include "stat.h"
#include "stream.h"

#define DEFAULT_BY "netns,state"
#define DEFAULT_FIELDS "rtt,cwnd,retrans"
#define DEFAULT_QUANTILES "0.5,0.9,0.99"
#define DEFAULT_MAX_SERIES 1000         /* -f openmetrics */

struct stat_cmd {
	/* options */
	struct xtcp_stat_options opt;
	const char *format_name;
	const char *out_path;
	bool max_series_set;

	/* state */
	struct xtcp_stat *stat;
	struct xtcp_output out;
	struct xtcp_outfile outfile;
	bool flush_often;
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_decoder dec;
	uint64_t written;               /* polls written */
	bool noted;                     /* the --max-series note is out */
	struct xtcp_stat_poll last;     /* openmetrics: the last poll, whose exposition is kept */
	const char *last_text;          /* (the summariser's, until its next summary) */
	size_t last_len;
	bool have_last;
	uint64_t closes_left_out;       /* openmetrics: close records, not summarised */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-stat [options] [FILE...]\n"
		"Summarise each poll of a stream of TCP socket records (from xtcp-dump or\n"
		"xtcp-filter) by groups: the count of sockets and the sum, min, max and\n"
		"quantiles of chosen fields.  Reads FILEs or standard input.\n"
		"\n"
		"      --by LIST         group by these fields or aliases, comma separated\n"
		"                        (default " DEFAULT_BY "; '' for one group)\n"
		"      --fields LIST     summarise these numeric fields or aliases (default\n"
		"                        " DEFAULT_FIELDS "; '' for counts only)\n"
		"      --quantiles LIST  quantiles from 0 to 1 (default " DEFAULT_QUANTILES "; ''\n"
		"                        for none): linear interpolation, R's type 7\n"
		"  -f, --format FMT      text (a table, the default), json (JSON lines), csv, or\n"
		"                        openmetrics (the Prometheus text format for\n"
		"                        node_exporter's textfile collector; the last poll)\n"
		"      --max-series N    at most N groups a poll, the rest folded into one\n"
		"                        (other=\"true\"); default %u with -f openmetrics,\n"
		"                        else 0 (no cap)\n"
		"      --no-header       no header line (csv, text)\n"
		"      --list-fields     print the schema: every field's name, type, unit,\n"
		"                        aliases and meaning, then exit\n"
		"  -o, --output FILE     write to FILE atomically instead of stdout\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"A poll is a run of records with the same poll_sequence; the close records\n"
		"after a poll (xtcp-dump -E) are summarised apart, after it, except in\n"
		"openmetrics, which leaves them out.  Exit status: 0 success, 1 bad input\n"
		"or runtime failure, 2 usage error.\n"
		"Example: xtcp-dump -n all | xtcp-stat --by netns --fields rtt\n",
		DEFAULT_MAX_SERIES);
}

enum {
	OPT_BY = 256,
	OPT_FIELDS,
	OPT_QUANTILES,
	OPT_MAX_SERIES,
	OPT_NO_HEADER,
	OPT_LIST_FIELDS,
};

static const struct option long_options[] = {
	{ "by", required_argument, NULL, OPT_BY },
	{ "fields", required_argument, NULL, OPT_FIELDS },
	{ "quantiles", required_argument, NULL, OPT_QUANTILES },
	{ "format", required_argument, NULL, 'f' },
	{ "max-series", required_argument, NULL, OPT_MAX_SERIES },
	{ "no-header", no_argument, NULL, OPT_NO_HEADER },
	{ "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void parse_options(struct stat_cmd *sc, int argc, char **argv)
{
	uint64_t n;
	int c;

	sc->opt.by = DEFAULT_BY;
	sc->opt.fields = DEFAULT_FIELDS;
	sc->opt.quantiles = DEFAULT_QUANTILES;
	sc->opt.header = true;
	while ((c = getopt_long(argc, argv, ":f:o:hV", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_BY:
			sc->opt.by = optarg;
			break;
		case OPT_FIELDS:
			sc->opt.fields = optarg;
			break;
		case OPT_QUANTILES:
			sc->opt.quantiles = optarg;
			break;
		case 'f':
			sc->format_name = optarg;
			break;
		case OPT_MAX_SERIES:
			if (xtcp_parse_u64(optarg, 0, 1000000000, &n) < 0)
				usage_error("invalid --max-series '%s': want a count from 0 to 1000000000 "
					    "(0: no cap)", optarg);
			sc->opt.max_series = (size_t)n;
			sc->max_series_set = true;
			break;
		case OPT_NO_HEADER:
			sc->opt.header = false;
			break;
		case OPT_LIST_FIELDS:
			list_fields(stdout);
			exit_listing();
		case 'o':
			sc->out_path = optarg;
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
	if (sc->format_name && xtcp_stat_format_parse(sc->format_name, &sc->opt.format) < 0)
		usage_error("invalid format '%s': want text, json, csv or openmetrics",
			    sc->format_name);
	if (sc->opt.format == XTCP_STAT_OPENMETRICS && !sc->max_series_set)
		sc->opt.max_series = DEFAULT_MAX_SERIES;
}

static void compile(struct stat_cmd *sc)
{
	struct xtcp_stat_error e;
	const struct xtcp_field *f;
	const char *hint;
	int n;

	sc->stat = xtcp_stat_new(&sc->opt, &e);
	if (sc->stat)
		return;
	if (errno == ENOMEM)
		err(1, "cannot set up the summary");
	n = (int)e.len;
	switch (e.problem) {
	case XTCP_STAT_UNKNOWN_FIELD:
		hint = xtcp_schema_suggest(e.at, e.len, XTCP_SUGGEST_ALIASES);
		fprintf(stderr, "%s: unknown field '%.*s' in --%s", program_invocation_short_name,
			n, e.at, e.option);
		if (hint)
			fprintf(stderr, "; did you mean '%s'?", hint);
		fprintf(stderr, " (see '%s --list-fields')\n", program_invocation_short_name);
		exit(EXIT_USAGE);
	case XTCP_STAT_EMPTY_NAME:
		usage_error("empty item in --%s", e.option);
	case XTCP_STAT_TWICE:
		usage_error("'%.*s' is in --%s twice", n, e.at, e.option);
	case XTCP_STAT_NOT_NUMBER:
		usage_error("field '%.*s' in --fields is not a number; group by it with --by", n,
			    e.at);
	case XTCP_STAT_CANNOT_GROUP:
		usage_error("field '%.*s' in --by cannot be a group's key", n, e.at);
	case XTCP_STAT_RESERVED:
		f = xtcp_schema_resolve(e.at, e.len);
		if (f && f->aliases[0])
			usage_error("'%.*s' in --%s is a column of the summary itself; name the field "
				    "by its alias '%.*s'", n, e.at, e.option,
				    (int)strcspn(f->aliases, ","), f->aliases);
		usage_error("'%.*s' in --%s is a column of the summary itself", n, e.at, e.option);
	case XTCP_STAT_BAD_QUANTILE:
		usage_error("invalid quantile '%.*s' in --quantiles: want a number from 0 to 1 with at "
			    "most %d decimals", n, e.at, XTCP_STAT_QUANTILE_DIGITS);
	case XTCP_STAT_TOO_MANY:
		usage_error("more than %d items in --%s", XTCP_STAT_MAX_LIST, e.option);
	}
	usage_error("invalid --%s", e.option);
}

static void write_text(struct stat_cmd *sc, const char *text, size_t len)
{
	if (len && xtcp_output_write(&sc->out, text, len) < 0)
		output_failed(&sc->outfile, sc->out_path);
}

static void note_folded(struct stat_cmd *sc, const struct xtcp_stat_poll *poll)
{
	if (!poll->folded || sc->noted)
		return;
	sc->noted = true;
	warnx("poll %" PRIu64 " has %zu groups, over --max-series %zu: the %zu with the fewest "
	      "sockets are folded into one (other)%s", poll->poll_sequence, poll->groups,
	      sc->opt.max_series, poll->folded,
	      sc->opt.format == XTCP_STAT_OPENMETRICS ? "" : "; later polls are not noted");
}

/*
 * The current poll is complete: summarise it.  Text, JSON and CSV go out
 * now; OpenMetrics keeps the exposition of the last poll for the end.
 */
static void end_poll(struct stat_cmd *sc)
{
	struct xtcp_stat_poll poll;
	const char *text;
	size_t len;

	if (xtcp_stat_summarise(sc->stat, &poll, &text, &len) < 0)
		err(1, "cannot summarise a poll");
	if (sc->opt.format == XTCP_STAT_OPENMETRICS) {
		sc->last = poll;
		sc->last_text = text;
		sc->last_len = len;
		sc->have_last = true;
		return;
	}
	note_folded(sc, &poll);
	write_text(sc, text, len);
	sc->written++;
	if (sc->flush_often && xtcp_output_flush(&sc->out) < 0)
		output_failed(&sc->outfile, sc->out_path);
}

/* Returns 0, or -1 after reporting bad input. */
static int read_stream(struct stat_cmd *sc, int fd, const char *name)
{
	struct xtcp_reader r;
	struct xtcp_row_iter it;
	const uint8_t *env, *row;
	size_t len, row_len, row_no;
	int rc;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	while ((rc = xtcp_reader_next(&r, &env, &len)) > 0) {
		xtcp_row_iter_init(&it, env, len);
		for (row_no = 1; xtcp_row_iter_next(&it, &row, &row_len) > 0; row_no++) {
			if (xtcp_record_decode(&sc->dec, row, row_len, &sc->rec) < 0) {
				if (errno == ENOMEM)
					err(1, "cannot decode a record");
				warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": row %zu is not a "
				      "valid record", name, r.frame_no, r.frame_offset, row_no);
				xtcp_reader_release(&r);
				return -1;
			}
			/*
			 * A textfile's gauges are the sockets alive at the last poll;
			 * sockets closed since would need counters kept across runs.
			 */
			if (sc->opt.format == XTCP_STAT_OPENMETRICS &&
			    sc->rec.record_kind == XTCP_RECORD_KIND_CLOSE) {
				sc->closes_left_out++;
				continue;
			}
			if (xtcp_stat_ends_poll(sc->stat, &sc->rec))
				end_poll(sc);
			if (xtcp_stat_add(sc->stat, &sc->rec) < 0) {
				if (errno == EOVERFLOW)
					errx(1, "%s: frame %" PRIu64 ": a poll of more than %u records "
					     "is more than xtcp-stat can hold", name, r.frame_no,
					     UINT32_MAX - 1);
				err(1, "cannot hold the poll's records");
			}
		}
	}
	return reader_end(&r, rc, name,
			  "JSON lines? turn them into a stream with xtcp-fmt --from json");
}

static int process(void *arg, int fd, const char *name)
{
	return read_stream(arg, fd, name);
}

/*
 * After the input: the poll being read is complete at a clean end of input;
 * after bad input or a signal it may be cut short, and is dropped.
 */
static void finish(struct stat_cmd *sc, bool failed)
{
	if (!failed && !stop_requested && xtcp_stat_rows(sc->stat))
		end_poll(sc);
	xtcp_stat_reset(sc->stat);
	if (sc->opt.format != XTCP_STAT_OPENMETRICS)
		return;
	if (!sc->have_last) {
		if (failed || stop_requested)
			return;
		/* no record at all: the metric families, without samples */
		if (xtcp_stat_summarise(sc->stat, &sc->last, &sc->last_text, &sc->last_len) < 0)
			err(1, "cannot summarise a poll");
	}
	note_folded(sc, &sc->last);
	if (sc->closes_left_out)
		warnx("%" PRIu64 " close record%s (xtcp-dump -E) left out: -f openmetrics shows the "
		      "sockets of the last poll", sc->closes_left_out,
		      sc->closes_left_out == 1 ? "" : "s");
	write_text(sc, sc->last_text, sc->last_len);
	sc->written++;
}

int main(int argc, char **argv)
{
	struct stat_cmd sc;
	struct stat st;
	const char *text;
	size_t len;
	int fd = STDOUT_FILENO, failed = 0, i;

	memset(&sc, 0, sizeof(sc));
	xtcp_record_init(&sc.rec);
	xtcp_decoder_init(&sc.dec);
	parse_options(&sc, argc, argv);
	compile(&sc);

	if (optind == argc && isatty(STDIN_FILENO)) {
		fputs("xtcp-stat: refusing to read binary records from a terminal; pipe a stream "
		      "into it (xtcp-dump | xtcp-stat) or name a FILE\n", stderr);
		xtcp_stat_free(sc.stat);
		return EXIT_USAGE;
	}

	catch_stop_signals();

	if (sc.out_path) {
		if (xtcp_outfile_open(&sc.outfile, sc.out_path) < 0)
			err(1, "cannot create '%s'", sc.out_path);
		fd = sc.outfile.fd;
	}
	sc.flush_often = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
	if (xtcp_output_init(&sc.out, fd, 1u << 16) < 0)
		err(1, "cannot allocate the output buffer");
	xtcp_stat_preamble(sc.stat, &text, &len);
	write_text(&sc, text, len);

	if (optind == argc) {
		failed = read_input(NULL, process, &sc) < 0;
	} else {
		for (i = optind; i < argc && !failed && !stop_requested; i++)
			failed = read_input(strcmp(argv[i], "-") ? argv[i] : NULL, process, &sc) < 0;
	}
	finish(&sc, failed);

	if (xtcp_output_flush(&sc.out) < 0)
		output_failed(&sc.outfile, sc.out_path);
	if (sc.out_path) {
		/* bad input before any poll: the file as it was is better than an empty one */
		if (failed && !sc.written) {
			xtcp_outfile_abort(&sc.outfile);
		} else if (xtcp_outfile_commit(&sc.outfile) < 0) {
			warn("cannot write '%s'", sc.out_path);
			failed = 1;
		}
	}
	if (!sc.out_path && close(STDOUT_FILENO) < 0 && errno != EPIPE) {
		warn("cannot write to standard output");
		failed = 1;
	}
	xtcp_output_release(&sc.out);
	xtcp_decoder_release(&sc.dec);
	xtcp_stat_free(sc.stat);
	return failed ? 1 : 0;
}
