/* Unit tests for lib/parse.c, lib/outfile.c and the name parsers of lib/diag.c. */

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "diag.h"
#include "outfile.h"
#include "parse.h"
#include "tap.h"

static void test_numbers(void)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t want;
	} u64[] = {
		{ "0", 0, 0 }, { "42", 0, 42 }, { "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -1, 0 }, { "abc", -1, 0 }, { "", -1, 0 }, { "-1", -1, 0 },
		{ " 1", -1, 0 }, { "1 ", -1, 0 }, { "1.5", -1, 0 }, { "12k", -1, 0 },
	};
	static const struct {
		const char *text;
		int rc;
		uint64_t want;
	} sizes[] = {
		{ "256KiB", 0, 262144 }, { "256Ki", 0, 262144 }, { "1M", 0, 1000000 },
		{ "1Mi", 0, 1048576 }, { "2G", 0, 2000000000 }, { "1.5k", 0, 1500 }, { "7", 0, 7 },
		{ "1Q", -1, 0 }, { "k", -1, 0 },
	};
	static const struct {
		const char *text;
		int rc;
		uint64_t want;
	} durations[] = {
		{ "10", 0, 10000000000ull }, { "500ms", 0, 500000000 }, { "1.5s", 0, 1500000000 },
		{ "2m", 0, 120000000000ull }, { "1h", 0, 3600000000000ull }, { "250us", 0, 250000 },
		{ "7ns", 0, 7 }, { "0", -1, 0 }, { "0ms", -1, 0 }, { "5 s", -1, 0 }, { "5parsecs", -1, 0 },
		{ "-1s", -1, 0 }, { "", -1, 0 },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(u64) / sizeof(u64[0]); i++) {
		v = 0;
		ok(xtcp_parse_u64(u64[i].text, 0, UINT64_MAX, &v) == u64[i].rc && v == u64[i].want,
		   "u64 '%s'", u64[i].text);
	}
	ok(xtcp_parse_u64("11", 0, 10, &v) == -1 && errno == ERANGE, "u64 above max is ERANGE");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		v = 0;
		ok(xtcp_parse_size(sizes[i].text, 0, UINT64_MAX, &v) == sizes[i].rc &&
		   v == sizes[i].want, "size '%s'", sizes[i].text);
	}
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		v = 0;
		ok(xtcp_parse_duration(durations[i].text, 1, UINT64_MAX, &v) == durations[i].rc &&
		   v == durations[i].want, "duration '%s'", durations[i].text);
	}
}

static void test_names(void)
{
	const char *bad;
	size_t bad_len;
	uint32_t states;
	uint8_t ext;

	ok(xtcp_tcp_states_parse("established,LISTEN,time-wait", &states, &bad, &bad_len) == 0 &&
	   states == (1u << 1 | 1u << 10 | 1u << 6), "states: mixed spellings");
	ok(xtcp_tcp_states_parse("established,bogus", &states, &bad, &bad_len) == -1 &&
	   bad_len == 5 && !strncmp(bad, "bogus", 5), "states: the unknown word is pointed at");
	ok(xtcp_tcp_states_parse("", &states, &bad, &bad_len) == -1, "states: empty list is an error");
	ok(xtcp_diag_ext_parse("info,cong", &ext, &bad, &bad_len) == 0 && ext == (XTCP_EXT_INFO | XTCP_EXT_CONG),
	   "ext: info,cong");
	ok(xtcp_diag_ext_parse("all", &ext, &bad, &bad_len) == 0 && ext == XTCP_EXT_ALL, "ext: all");
	ok(xtcp_diag_ext_parse("none", &ext, &bad, &bad_len) == 0 && ext == 0, "ext: none is no attribute");
	ok(xtcp_diag_ext_parse("none,cong", &ext, &bad, &bad_len) == 0 && ext == XTCP_EXT_CONG,
	   "ext: none adds nothing to a list");
	ok(xtcp_diag_ext_parse("info,nope", &ext, &bad, &bad_len) == -1 && !strncmp(bad, "nope", 4),
	   "ext: unknown name");
	ok(!strcmp(xtcp_tcp_state_name(1), "ESTABLISHED") && !strcmp(xtcp_tcp_state_name(99), "UNKNOWN"),
	   "state names");
}

static void test_outfile(void)
{
	char dir[] = "/tmp/t-outfile.XXXXXX";
	char path[256], cmd[300];
	struct xtcp_outfile f;
	struct stat st;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/out.pb", dir);
	ok(xtcp_outfile_open(&f, path) == 0, "outfile: open");
	ok(stat(path, &st) == -1, "outfile: the target does not exist before commit");
	ok(write(f.fd, "hello", 5) == 5 && xtcp_outfile_commit(&f) == 0, "outfile: commit");
	ok(stat(path, &st) == 0 && st.st_size == 5, "outfile: the target holds the data");
	ok(xtcp_outfile_open(&f, path) == 0, "outfile: open again");
	xtcp_outfile_abort(&f);
	ok(stat(path, &st) == 0 && st.st_size == 5, "outfile: abort keeps the old file");
	snprintf(path, sizeof(path), "%s/missing/out.pb", dir);
	ok(xtcp_outfile_open(&f, path) == -1 && errno == ENOENT, "outfile: missing directory is ENOENT");
	ok(xtcp_outfile_open(&f, dir) == -1 && errno == EISDIR, "outfile: a directory is EISDIR");
	snprintf(path, sizeof(path), "%s/loop", dir);
	ok(symlink("loop", path) == 0 && xtcp_outfile_open(&f, path) == -1 && errno == ELOOP &&
	   unlink(path) == 0, "outfile: a link to itself is ELOOP");
	{
		struct xtcp_outfile a, b;

		snprintf(path, sizeof(path), "%s/out.pb", dir);
		ok(xtcp_outfile_open(&a, path) == 0 && xtcp_outfile_open(&b, path) == 0 &&
		   write(a.fd, "x", 1) == 1, "outfile: two open at once");
		xtcp_outfile_abort_all();
		ok(a.fd == -1 && !a.path && b.fd == -1 && !b.path && stat(path, &st) == 0 &&
		   st.st_size == 5, "outfile: abort_all closes every one, the old file stays");
		xtcp_outfile_abort(&a);
		ok(!a.path, "outfile: abort of a closed outfile does nothing");
		/* /dev/null's twin, never /dev/null itself: a regression would replace it */
		snprintf(path, sizeof(path), "%s/null", dir);
		ok(mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0 && xtcp_outfile_open(&f, path) == 0 &&
		   !f.tmp && write(f.fd, "x", 1) == 1 && xtcp_outfile_commit(&f) == 0 &&
		   stat(path, &st) == 0 && S_ISCHR(st.st_mode) && unlink(path) == 0,
		   "outfile: a device is written directly");
	}
	snprintf(cmd, sizeof(cmd), "n=$(ls -A %s | wc -l); rm -rf %s; test $n -eq 1", dir, dir);
	ok(system(cmd) == 0, "outfile: no temporary file left behind");
}

static void test_services(void)
{
	static const char *const names[] = { "http", "https", "ssh", "domain", "smtp", "imaps",
					     "kerberos", "postgresql", "www", "submission" };
	char path[] = "/tmp/t-services.XXXXXX", longline[1500];
	uint32_t port = 0;
	struct servent *se;
	size_t i, same = 0, known = 0;
	FILE *f;
	int fd = mkstemp(path);

	memset(longline, 'x', sizeof(longline));
	memcpy(longline + 1030, " ghost 7/tcp", 12);	/* one line of 1,500 bytes, ghost its second word */
	longline[sizeof(longline) - 1] = '\0';
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	ok(f != NULL, "services: a file to read");
	if (!f)
		return;
	fprintf(f, "# services\n\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\nhttp 80/udp\n"
		   "kafka 9092/udp\nweird 70000/tcp\nbad x/tcp\nneg -1/tcp\n%s\n"
		   "  ssh 22/tcp  \r\nlast 9/tcp secure", longline);
	fclose(f);
	ok(xtcp_service_port(path, "http", "tcp", &port) == 0 && port == 80, "services: a name");
	ok(xtcp_service_port(path, "www", "tcp", &port) == 0 && port == 80, "services: an alias");
	ok(xtcp_service_port(path, "http", "udp", &port) == 0 && port == 80, "services: the protocol asked");
	errno = 0;
	ok(xtcp_service_port(path, "kafka", "tcp", &port) == -1 && errno == ENOENT,
	   "services: a name of another protocol only is not found");
	ok(xtcp_service_port(path, "WorldWideWeb", "tcp", &port) == -1, "services: not in comments");
	ok(xtcp_service_port(path, "weird", "tcp", &port) == -1 &&
	   xtcp_service_port(path, "bad", "tcp", &port) == -1 &&
	   xtcp_service_port(path, "neg", "tcp", &port) == -1, "services: bad ports are not services");
	ok(xtcp_service_port(path, "ghost", "tcp", &port) == -1,
	   "services: the middle of a long line is not a line");
	ok(xtcp_service_port(path, "ssh", "tcp", &port) == 0 && port == 22,
	   "services: leading blanks and a CR");
	ok(xtcp_service_port(path, "secure", "tcp", &port) == 0 && port == 9,
	   "services: an alias on a last line without a newline");
	unlink(path);
	errno = 0;
	ok(xtcp_service_port(path, "http", "tcp", &port) == -1 && errno == ENOENT,
	   "services: a missing file");
	/* the system's file, against glibc's own reader */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		se = getservbyname(names[i], "tcp");
		if (!se)
			continue;
		known++;
		same += xtcp_service_port(XTCP_SERVICES, names[i], "tcp", &port) == 0 &&
			port == ntohs((uint16_t)se->s_port);
	}
	ok(known > 0 && same == known, "services: %zu names of " XTCP_SERVICES " as getservbyname "
	   "reads them (%zu known)", same, known);
}

int main(void)
{
	test_numbers();
	test_services();
	test_names();
	test_outfile();
	return done_testing();
}
