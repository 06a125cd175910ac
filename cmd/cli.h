#ifndef XTCP_CLI_H
#define XTCP_CLI_H

/*
 * What every xtcp command shares in how it talks to the user: the exit
 * codes and the one-line usage error.  Header-only, for cmd/ alone: the
 * library never prints or exits.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "schema.h"
#include "stream.h"

#define EXIT_USAGE 2

/*
 * The end of --help, --version and --list-fields: exit 0 once standard
 * output has taken everything, else one line and exit 1 (`--help >
 * /dev/full` is a failure like any other output).
 */
__attribute__((noreturn, unused))
static void exit_listing(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		warn("cannot write standard output");
		exit(1);
	}
	exit(0);
}

/* --version: "xtcp-TOOL 0.2.0+4bf045c" (see the Makefile's VERSION), then exit_listing(). */
__attribute__((noreturn, unused))
static void print_version(void)
{
	printf("%s %s\n", program_invocation_short_name, XTCP_VERSION);
	exit_listing();
}

/*
 * --list-fields of xtcp-fmt and xtcp-filter: the schema table, one field a
 * line in number order, tab-separated: name, type (uint32 uint64 int64
 * string bytes address state family enum), unit (us, bytes, ...; "-" for
 * none), aliases (comma-separated; "-" for none), meaning.
 */
__attribute__((unused))
static void list_fields(FILE *out)
{
	static const char *const kinds[] = {
		[XTCP_VALUE_U32] = "uint32",
		[XTCP_VALUE_U64] = "uint64",
		[XTCP_VALUE_I64] = "int64",
		[XTCP_VALUE_STRING] = "string",
		[XTCP_VALUE_BYTES] = "bytes",
		[XTCP_VALUE_ADDR] = "address",
		[XTCP_VALUE_STATE] = "state",
		[XTCP_VALUE_FAMILY] = "family",
		[XTCP_VALUE_ENUM] = "enum",
		[XTCP_VALUE_OTHER] = "other",
	};
	size_t i;

	for (i = 0; i < xtcp_schema_n; i++) {
		const struct xtcp_field *f = &xtcp_schema[i];

		fprintf(out, "%s\t%s\t%s\t%s\t%s\n", f->name, kinds[f->kind],
			f->unit[0] ? f->unit : "-", f->aliases[0] ? f->aliases : "-", f->meaning);
	}
}

/* "xtcp-TOOL: what (see 'xtcp-TOOL --help')" on stderr, exit 2. */
__attribute__((noreturn, format(printf, 1, 2), unused))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

/*
 * Before main, in every command: a closed standard descriptor (`xtcp-fmt
 * <&-`) gets a /dev/null that fails its use, write-only for stdin and
 * read-only for stdout and stderr.  Reading or writing it is then EBADF,
 * reported like any I/O error, and nothing the command or a library opens
 * can take its number (an input file as fd 1 would be written to).
 */
__attribute__((constructor, unused))
static void guard_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			_exit(EXIT_FAILURE);
}

/*
 * SIGINT, SIGTERM and SIGHUP end the run cleanly: stop_requested is set, and the
 * descriptor being read (input_fd, set by a stream filter around its reads)
 * becomes /dev/null, so its reader sees end of input and what was read so far
 * is written and committed as at a normal end.  SIGPIPE is ignored: writing
 * to a reader that went away fails with EPIPE (see output_failed).
 */
__attribute__((unused)) static volatile sig_atomic_t stop_requested;
__attribute__((unused)) static volatile sig_atomic_t input_fd = -1;
__attribute__((unused)) static int devnull_fd = -1;

__attribute__((unused))
static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (input_fd >= 0 && devnull_fd >= 0)
		dup2(devnull_fd, input_fd);
}

__attribute__((unused))
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);   /* a closed terminal or session: the same clean end */
	signal(SIGPIPE, SIG_IGN);
	devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * Open -o FILE or -w FILE (lib/outfile.h: a file is replaced whole at the
 * end, a device, FIFO or socket written directly) or exit 1 with one line.
 * Until output_finish() commits it, every exit (err(), errx(),
 * output_failed() included) removes what would have replaced the file, so
 * no exit leaves a temporary file behind.  Returns the descriptor.
 */
__attribute__((unused))
static int output_open(struct xtcp_outfile *f, const char *path)
{
	static bool at_exit;

	if (!at_exit && atexit(xtcp_outfile_abort_all) == 0)
		at_exit = true;
	if (xtcp_outfile_open(f, path) < 0)
		err(1, "cannot create '%s'", path);
	return f->fd;
}

/*
 * The end of a run's output, @failed saying whether the run failed: an -o
 * or -w file (@path, @f) is committed only after a run that succeeded and is
 * aborted after one that failed, so a failed run never replaces a file;
 * standard output (@path NULL) is closed.  Returns @failed, or 1 after
 * reporting that the output could not be written.
 */
__attribute__((unused))
static int output_finish(struct xtcp_outfile *f, const char *path, int failed)
{
	if (path && failed) {
		xtcp_outfile_abort(f);
	} else if (path && xtcp_outfile_commit(f) < 0) {
		warn("cannot write '%s'", path);
		failed = 1;
	} else if (!path && close(STDOUT_FILENO) < 0 && errno != EPIPE) {
		warn("cannot write to standard output");
		failed = 1;
	}
	return failed;
}

/*
 * Writing the output failed with errno: when the reader went away (EPIPE,
 * "| head") stop quietly with 0, else report and exit 1.  An unfinished
 * -o file (@outfile, NULL for standard output) is removed either way.
 */
__attribute__((noreturn, unused))
static void output_failed(struct xtcp_outfile *outfile, const char *out_path)
{
	int e = errno;

	if (out_path)
		xtcp_outfile_abort(outfile);
	if (e == EPIPE)
		exit(0);
	errno = e;
	if (out_path)
		warn("cannot write '%s'", out_path);
	else
		warn("cannot write to standard output");
	exit(1);
}

/*
 * The end of a loop over xtcp_reader_next(), @rc what it returned last: an
 * error is reported (a read error, or where the stream is bad, with
 * @json_hint in parentheses when the input starts like JSON lines), unless
 * it is the cut that SIGINT or SIGTERM made, which is a clean end.  Releases
 * @r.  Returns 0, or -1 after reporting.
 */
__attribute__((unused))
static int reader_end(struct xtcp_reader *r, int rc, const char *name, const char *json_hint)
{
	int failed = rc < 0 && !(stop_requested && errno == EBADMSG);

	if (failed && errno != EBADMSG)
		warn("%s: cannot read", name);
	else if (failed && json_hint && r->frame_no == 1 && r->end > r->start &&
		 r->buf[r->start] == '{')
		warnx("%s: %s (%s)", name, r->err, json_hint);
	else if (failed)
		warnx("%s: %s", name, r->err);
	xtcp_reader_release(r);
	return failed ? -1 : 0;
}

/*
 * With -o (@out_path), a stream input that ended cleanly (@rc 0) without a
 * single frame (@frames) is refused: a successful xtcp-dump writes at least
 * one frame (an empty one when it found no socket), and so does
 * xtcp-filter whenever its input held one, so an empty stream is what a
 * writer that failed leaves, and `xtcp-dump -n gone | xtcp-fmt -o FILE`
 * must not make a FILE that says "no sockets".  An input that SIGINT,
 * SIGTERM or SIGHUP ended is not refused.  An empty @out_path stands for
 * a sink that is not a file (xtcp-kafka's topic).  Returns @rc, or -1 after
 * reporting.
 */
__attribute__((unused))
static int refuse_empty_input(uint64_t frames, int rc, const char *name, const char *out_path)
{
	if (rc < 0 || frames || !out_path || stop_requested)
		return rc;
	if (*out_path)
		warnx("%s: not a single frame, as a failed xtcp-dump leaves; '%s' not written",
		      name, out_path);
	else
		warnx("%s: not a single frame, as a failed xtcp-dump leaves; nothing sent", name);
	return -1;
}

/* An input's name in messages: 'FILE' (quoted), or standard input. */
__attribute__((unused))
static const char *input_name(const char *path, char *buf, size_t size)
{
	if (!path)
		return "standard input";
	snprintf(buf, size, "'%s'", path);
	return buf;
}

/*
 * Read one input: open @path (NULL for standard input), hand the descriptor
 * to @read with its name for messages (see input_name), close it.
 * While @read runs the descriptor is input_fd, so SIGINT and SIGTERM end it
 * cleanly.  Returns what @read returns, or -1 after reporting that @path
 * cannot be opened.
 */
typedef int (*input_reader)(void *arg, int fd, const char *name);

__attribute__((unused))
static int read_input(const char *path, input_reader read, void *arg)
{
	char buf[4096];
	const char *name = input_name(path, buf, sizeof(buf));
	int fd = STDIN_FILENO, rc;

	if (path) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			warn("cannot open '%s'", path);
			return -1;
		}
	}
	input_fd = fd;
	rc = read(arg, fd, name);
	input_fd = -1;
	if (path)
		close(fd);
	return rc;
}

/*
 * Each FILE of argv[first..argc) in turn ("-" is standard input), or
 * standard input when there is none, through read_input(); it stops at the
 * first that fails and when a stop signal came.  Returns -1 when one
 * failed, else 0.
 */
__attribute__((unused))
static int read_inputs(int argc, char **argv, int first, input_reader read, void *arg)
{
	int i;

	if (first == argc)
		return read_input(NULL, read, arg);
	for (i = first; i < argc && !stop_requested; i++)
		if (read_input(strcmp(argv[i], "-") ? argv[i] : NULL, read, arg) < 0)
			return -1;
	return 0;
}

/*
 * A stream tool's output: -o FILE (@out_path; see output_open()) or
 * standard output (@out_path NULL), behind a 64 KiB buffer.  Returns
 * whether to flush it at each frame: when it is a pipe or a terminal that a
 * reader waits on, not a regular file.  Exits 1 after reporting a failure.
 */
__attribute__((unused))
static bool output_buffer_open(struct xtcp_output *out, struct xtcp_outfile *outfile,
			       const char *out_path)
{
	struct stat st;
	int fd = out_path ? output_open(outfile, out_path) : STDOUT_FILENO;

	if (xtcp_output_init(out, fd, 1u << 16) < 0)
		err(1, "cannot allocate the output buffer");
	return fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
}

/*
 * The end of output_buffer_open()'s output, @failed saying whether the run
 * failed: what is buffered written (as output_failed() says when that
 * fails), then output_finish().  Returns what output_finish() returns; @out
 * is still to be released.
 */
__attribute__((unused))
static int output_buffer_finish(struct xtcp_output *out, struct xtcp_outfile *outfile,
				const char *out_path, int failed)
{
	if (xtcp_output_flush(out) < 0)
		output_failed(outfile, out_path);
	return output_finish(outfile, out_path, failed);
}

#endif
