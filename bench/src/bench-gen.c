/*
 * xtcp-bench gen: write N synthetic records as a stream, the same bytes for
 * the same seed; with --sockets, polls of the same sockets (synth.h).
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "outfile.h"
#include "stream.h"
#include "synth.h"

typedef XtcpFlatRecord__V1__XtcpFlatRecord xtcp_rec;

int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "v6", required_argument, NULL, '6' },
		{ "rows", required_argument, NULL, 'R' },
		{ "sockets", required_argument, NULL, 'S' },
		{ "churn", required_argument, NULL, 'C' },
		{ "bare", no_argument, NULL, 'B' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n = 0, seed = 1, v6 = 40, rows = XTCP_DEFAULT_ROWS, sockets = 0, churn = 0, i;
	const char *out_path = NULL;
	bool have_n = false, bare = false;
	struct xtcp_outfile of = { .fd = -1 };
	struct xtcp_output out;
	struct xtcp_envelope env;
	struct xtcp_synth g;
	struct xtcp_synth_polls sp;
	xtcp_rec rec;
	const uint8_t *frame;
	size_t len, nrows;
	int c, e, fd = STDOUT_FILENO;

	while ((c = getopt_long(argc, argv, "n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = bench_parse_num("-n", optarg, 1, UINT64_MAX >> 1);
			have_n = true;
			break;
		case 's':
			seed = bench_parse_num("--seed", optarg, 0, UINT64_MAX);
			break;
		case '6':
			v6 = bench_parse_num("--v6", optarg, 0, 100);
			break;
		case 'R':
			rows = bench_parse_num("--rows", optarg, 1, 10000000);
			break;
		case 'S':
			sockets = bench_parse_num("--sockets", optarg, 1, 100000000);
			break;
		case 'C':
			churn = bench_parse_num("--churn", optarg, 0, 100);
			break;
		case 'B':
			bare = true;
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			bench_option_default("gen", c);
		}
	}
	bench_args_none("gen", argc, argv);
	if (!have_n)
		usage_error("gen: -n N is required");
	if (churn && !sockets)
		usage_error("gen: --churn needs --sockets");
	if (!out_path && isatty(STDOUT_FILENO)) {
		warnx("gen: refusing to write a binary stream to a terminal; "
		      "pipe it into xtcp-fmt or use -o FILE");
		return EXIT_USAGE;      /* as every stream writer of the toolbox */
	}
	if (out_path)
		fd = output_open(&of, out_path);
	catch_stop_signals();   /* a signal ends the run as if N were reached */
	if (xtcp_output_init(&out, fd, 1 << 16) < 0 ||
	    xtcp_envelope_init(&env, (size_t)rows, XTCP_DEFAULT_BYTES) < 0)
		err(1, "gen");
	xtcp_synth_init(&g, seed);
	g.v6_percent = (unsigned)v6;
	if (sockets && xtcp_synth_polls_init(&sp, seed, (size_t)sockets, (unsigned)churn) < 0)
		err(1, "gen");
	sp.v6_percent = (unsigned)v6;
	for (i = 0; i < n; i++) {
		bool last = i + 1 == n || stop_requested;

		if (sockets)
			xtcp_synth_polls_record(&sp, &rec);
		else
			xtcp_synth_record(&g, &rec);
		if (bare)
			xtcp_synth_bare(&rec);
		if (xtcp_envelope_add(&env, &rec) < 0)
			err(1, "gen");
		while ((frame = xtcp_envelope_take(&env, last, &len, &nrows)) != NULL) {
			if (xtcp_output_write(&out, frame, len) < 0)
				goto err_write;
			xtcp_envelope_done(&env);
		}
		if (last)
			break;
	}
	if (xtcp_output_flush(&out) < 0)
		goto err_write;
	xtcp_output_release(&out);
	xtcp_envelope_release(&env);
	if (sockets)
		xtcp_synth_polls_release(&sp);
	return output_finish(&of, out_path, 0);

err_write:
	e = errno;
	xtcp_output_release(&out);
	xtcp_envelope_release(&env);
	if (sockets)
		xtcp_synth_polls_release(&sp);
	errno = e;
	output_failed(&of, out_path);   /* EPIPE, the reader went away: quietly, exit 0 */
}
