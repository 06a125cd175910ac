/*
 * xtcp-kafka: deliver a stream of records to Kafka, one frame per message,
 * losing nothing: every row is delivered or counted as failed, and any
 * failure means exit 1.  See man/xtcp-kafka.1.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kafka.h"
#include "parse.h"
#include "stream.h"

#define DEFAULT_TIMEOUT_NS (30ull * 1000000000ull)
#define INPUT_LINGER_MS 10       /* input quiet this long: send the rows batched so far */

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-kafka -b BROKERS -t TOPIC [options] [FILE...]\n"
		"Deliver a stream of TCP socket records (from xtcp-dump or xtcp-filter) to Kafka.\n"
		"Each message is one frame, uvarint(len) || Envelope (ClickHouse's ProtobufList).\n"
		"Reads FILEs or standard input.\n"
		"\n"
		"  -b, --brokers LIST   bootstrap servers, host:port[,host:port...]\n"
		"  -t, --topic TOPIC    topic to produce to\n"
		"  -X PROP=VALUE        set a librdkafka property (repeatable), as kcat does\n"
		"  -F, --config FILE    read librdkafka properties, one PROP=VALUE a line\n"
		"      --rows N         at most N rows per message (default 10000)\n"
		"      --bytes SIZE     at most SIZE bytes per message (default 768KiB); a\n"
		"                       larger single row is sent alone\n"
		"      --key KEY        message key: none, hostname or netns (default none);\n"
		"                       a message holds rows of one key only\n"
		"      --timeout DUR    how long a message may wait for delivery, and the\n"
		"                       wait for the last reports at the end (default 30s)\n"
		"  -q, --quiet          no summary line unless something failed\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Prints a summary on stderr: rows read, messages, bytes, rows delivered, failed.\n"
		"Exit status: 0 every row delivered, 1 any row not delivered or bad input,\n"
		"2 usage error.\n"
		"Example: xtcp-dump -n all -c 0 -i 10s | xtcp-kafka -b kafka1:9092 -t xtcp\n");
}

enum {
	OPT_ROWS = 256,
	OPT_BYTES,
	OPT_KEY,
	OPT_TIMEOUT,
};

static const struct option long_options[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "topic", required_argument, NULL, 't' },
	{ "config", required_argument, NULL, 'F' },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "bytes", required_argument, NULL, OPT_BYTES },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct options {
	const char *brokers;
	const char *topic;
	uint64_t rows;
	uint64_t bytes;
	enum xtcp_kafka_key key;
	uint64_t timeout_ms;
	bool quiet;
};

__attribute__((noreturn))
static void kafka_failed(struct xtcp_kafka *k, const char *what)
{
	int usage = errno == EINVAL;

	warnx("%s: %s", what, xtcp_kafka_error(k));
	xtcp_kafka_free(k);
	exit(usage ? EXIT_USAGE : 1);
}

/* -X and -F are applied in command-line order, so a later one wins. */
static void parse_options(struct options *o, struct xtcp_kafka *k, int argc, char **argv)
{
	uint64_t ns;
	char *eq;
	int c;

	o->key = XTCP_KAFKA_KEY_NONE;
	o->timeout_ms = DEFAULT_TIMEOUT_NS / 1000000;
	while ((c = getopt_long(argc, argv, ":b:t:X:F:qhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'X':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				usage_error("invalid -X '%s': want PROP=VALUE", optarg);
			*eq = '\0';
			if (xtcp_kafka_set(k, optarg, eq + 1) < 0)
				usage_error("invalid -X '%s=%s': %s", optarg, eq + 1,
					    xtcp_kafka_error(k));
			break;
		case 'F':
			if (xtcp_kafka_set_file(k, optarg) < 0) {
				if (errno == EINVAL)
					usage_error("%s", xtcp_kafka_error(k));
				errx(1, "%s", xtcp_kafka_error(k));
			}
			break;
		case OPT_ROWS:
			if (xtcp_parse_u64(optarg, 1, 10000000, &o->rows) < 0)
				usage_error("invalid --rows '%s': want 1 to 10000000", optarg);
			break;
		case OPT_BYTES:
			if (xtcp_parse_size(optarg, 64, 1ull << 30, &o->bytes) < 0)
				usage_error("invalid --bytes '%s': want a size from 64 to 1GiB", optarg);
			break;
		case OPT_KEY:
			if (!strcmp(optarg, "none"))
				o->key = XTCP_KAFKA_KEY_NONE;
			else if (!strcmp(optarg, "hostname"))
				o->key = XTCP_KAFKA_KEY_HOSTNAME;
			else if (!strcmp(optarg, "netns"))
				o->key = XTCP_KAFKA_KEY_NETNS;
			else
				usage_error("invalid --key '%s': want none, hostname or netns", optarg);
			break;
		case OPT_TIMEOUT:
			if (xtcp_parse_duration(optarg, 100000000ull, 86400000000000ull, &ns) < 0)
				usage_error("invalid --timeout '%s': want a duration from 100ms to 24h",
					    optarg);
			o->timeout_ms = ns / 1000000;
			break;
		case 'q':
			o->quiet = true;
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
	if (!o->brokers)
		usage_error("no brokers: give -b host:port");
	if (!o->topic)
		usage_error("no topic: give -t TOPIC");
	if (!*o->topic)
		usage_error("empty topic name");
}

/*
 * True when the next frame is not in the reader's buffer and the input has
 * had nothing to read for INPUT_LINGER_MS: a live pipeline (xtcp-dump -c 0
 * -i 10s) is between polls, so the rows batched so far should go now, not
 * wait for a full batch.  The linger keeps a steady writer that is merely
 * slower than us (xtcp-bench gen | xtcp-kafka) from cutting every frame into
 * a message of its own.
 */
static bool input_idle(const struct xtcp_reader *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };

	if (!xtcp_reader_would_block(r))
		return false;
	return poll(&p, 1, INPUT_LINGER_MS) == 0;
}

/* Returns 0, or -1 after reporting bad input. */
static int deliver(struct xtcp_kafka *k, int fd, const char *name)
{
	struct xtcp_reader r;
	const uint8_t *env;
	uint64_t frames;
	size_t len;
	int rc;

	if (xtcp_reader_init(&r, fd) < 0)
		err(1, "cannot allocate the input buffer");
	for (;;) {
		if (input_idle(&r) && xtcp_kafka_send(k) < 0)
			kafka_failed(k, "cannot produce");
		rc = xtcp_reader_next(&r, &env, &len);
		if (rc <= 0)
			break;
		if (xtcp_kafka_add_envelope(k, env, len) < 0) {
			xtcp_reader_release(&r);
			if (errno == EBADMSG) {
				warnx("%s: frame %" PRIu64 " at byte %" PRIu64 ": %s", name,
				      r.frame_no, r.frame_offset, xtcp_kafka_error(k));
				return -1;
			}
			kafka_failed(k, "cannot produce");
		}
	}
	frames = r.frame_no;
	return refuse_empty_input(frames, reader_end(&r, rc, name, NULL), name, "");
}

static int process(void *arg, int fd, const char *name)
{
	return deliver(arg, fd, name);
}

int main(int argc, char **argv)
{
	struct options o;
	struct xtcp_kafka *k;
	const struct xtcp_kafka_stats *st;
	int bad_input = 0, flush_rc, i;

	memset(&o, 0, sizeof(o));
	k = xtcp_kafka_new();
	if (!k)
		err(1, "cannot create the producer");
	parse_options(&o, k, argc, argv);

	if (optind == argc && isatty(STDIN_FILENO)) {
		fputs("xtcp-kafka: refusing to read binary records from a terminal; pipe a "
		      "stream into it (xtcp-dump | xtcp-kafka ...) or name a FILE\n", stderr);
		xtcp_kafka_free(k);
		return EXIT_USAGE;
	}
	if (xtcp_kafka_set(k, "bootstrap.servers", o.brokers) < 0)
		usage_error("invalid -b '%s': %s", o.brokers, xtcp_kafka_error(k));
	if (xtcp_kafka_start(k, o.topic, o.rows, o.bytes, o.key, o.timeout_ms) < 0)
		kafka_failed(k, "cannot start the producer");

	catch_stop_signals();

	if (optind == argc) {
		bad_input = read_input(NULL, process, k) < 0;
	} else {
		for (i = optind; i < argc && !bad_input && !stop_requested; i++)
			bad_input = read_input(strcmp(argv[i], "-") ? argv[i] : NULL, process, k) < 0;
	}

	/*
	 * Every message may take up to the timeout from when it was produced;
	 * the last ones were produced just now, and librdkafka checks timeouts
	 * once a second, so wait a little longer than that for their reports.
	 */
	flush_rc = xtcp_kafka_flush(k, o.timeout_ms + 2000);
	st = xtcp_kafka_stats(k);
	if (flush_rc < 0 && errno != ETIMEDOUT)
		kafka_failed(k, "cannot deliver");
	if (st->rows_failed || flush_rc < 0) {
		fprintf(stderr, "xtcp-kafka: %" PRIu64 " of %" PRIu64 " rows not delivered: %s",
			st->rows - st->rows_delivered, st->rows,
			st->first_error[0] ? st->first_error : xtcp_kafka_error(k));
		if (st->topic_error[0])
			fprintf(stderr, " (%s)", st->topic_error);
		else if (st->broker_error[0])
			fprintf(stderr, " (last broker error: %s)", st->broker_error);
		fputc('\n', stderr);
	}
	if (!o.quiet || st->rows_failed || flush_rc < 0 || bad_input)
		fprintf(stderr, "xtcp-kafka: rows=%" PRIu64 " messages=%" PRIu64 " bytes=%" PRIu64
			" delivered=%" PRIu64 " failed=%" PRIu64 "%s\n", st->rows, st->messages,
			st->bytes, st->rows_delivered, st->rows - st->rows_delivered,
			stop_requested ? " (interrupted)" : "");
	i = bad_input || st->rows_failed || flush_rc < 0 || st->rows != st->rows_delivered;
	xtcp_kafka_free(k);
	return i ? 1 : 0;
}
