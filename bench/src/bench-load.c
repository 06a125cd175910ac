/*
 * xtcp-bench load: hold N established loopback connections in a network
 * namespace until SIGTERM, spread over worker processes.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "sockload.h"

struct progress_msg {
	uint32_t worker;
	uint32_t done;           /* connections open; UINT32_MAX: failed */
	int32_t err;
};

static volatile sig_atomic_t load_stop;
static volatile sig_atomic_t child_died;

static void on_stop(int sig)
{
	(void)sig;
	load_stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
	child_died = 1;
}

#define MAX_CC 16

struct load {
	uint64_t conns;
	unsigned v6;
	const char *cc[MAX_CC];
	size_t n_cc;
	bool cc_given;
	char *cc_list;
	bool traffic;
	uint64_t per_proc;
	char netns[128];
	bool netns_given;
	bool created;
};

/* A worker: open @count connections, report progress, hold them. */
static void load_worker(const struct load *l, uint32_t index, uint64_t first, uint64_t count,
			int report)
{
	struct xtcp_sockload_worker w;
	struct progress_msg msg = { .worker = index };
	uint64_t i;
	struct timespec tick = { 0, 100000000 };

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(1);
	if (xtcp_sockload_worker_init(&w, (size_t)count) < 0)
		goto err;
	for (i = 0; i < count; i++) {
		uint64_t k = first + i;
		int family = (k * 7919 % 100) < l->v6 ? AF_INET6 : AF_INET;

		if (xtcp_sockload_worker_connect(&w, family, l->n_cc ? l->cc[k % l->n_cc] : NULL,
						 k % 4 == 0 ? 64 : 0) < 0)
			goto err;
		if ((i + 1) % 500 == 0 || i + 1 == count) {
			msg.done = (uint32_t)(i + 1);
			if (write(report, &msg, sizeof(msg)) != sizeof(msg))
				_exit(1);
		}
	}
	close(report);
	for (;;) {
		if (l->traffic) {
			/* every connection about once a second */
			if (xtcp_sockload_worker_traffic(&w, (size_t)(count / 10 + 1)) < 0)
				_exit(1);
			nanosleep(&tick, NULL);
		} else {
			pause();
		}
	}

err:
	msg.done = UINT32_MAX;
	msg.err = errno;
	if (write(report, &msg, sizeof(msg)) < 0)
		_exit(1);
	_exit(1);
}

static void parse_cc(struct load *l, const char *list)
{
	char *s, *save = NULL;

	free(l->cc_list);
	l->cc_list = strdup(list);
	if (!l->cc_list)
		err(1, "--cc");
	l->n_cc = 0;
	for (s = strtok_r(l->cc_list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (l->n_cc == MAX_CC)
			usage_error("--cc: more than %d congestion controls", MAX_CC);
		l->cc[l->n_cc++] = s;
	}
	if (!l->n_cc)
		usage_error("--cc: empty list");
}

static void load_cleanup(struct load *l, pid_t *pids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	if (l->created && xtcp_sockload_netns_remove(l->netns) < 0)
		warn("cannot remove namespace '%s'", l->netns);
}

/* Stop the workers and remove our namespace, then report @what with errno's cause. */
__attribute__((noreturn))
static void load_fail(struct load *l, pid_t *pids, size_t n, const char *what)
{
	int e = errno;

	load_cleanup(l, pids, n);
	errno = e;
	err(1, "%s", what);
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connections", required_argument, NULL, 'n' },
		{ "netns", required_argument, NULL, 'N' },
		{ "v6", required_argument, NULL, '6' },
		{ "cc", required_argument, NULL, 'C' },
		{ "traffic", no_argument, NULL, 'T' },
		{ "per-process", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct load l = { .v6 = 50 };
	static const char *const default_cc[] = { "cubic", "bbr", "dctcp", "reno" };
	bool have_n = false, tty = isatty(STDERR_FILENO);
	struct sigaction sa = { 0 };
	struct progress_msg msg;
	uint64_t done = 0, total_workers, *done_by, first = 0;
	pid_t *pids;
	long hard;
	size_t i, finished = 0;
	int c, pfd[2];
	sigset_t block, old;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			l.conns = bench_parse_num("-n", optarg, 1, 10000000);
			have_n = true;
			break;
		case 'N':
			if (snprintf(l.netns, sizeof(l.netns), "%s", optarg) >= (int)sizeof(l.netns) ||
			    !optarg[0] || strchr(optarg, '/'))
				usage_error("--netns: '%s' is not a namespace name", optarg);
			l.netns_given = true;
			break;
		case '6':
			l.v6 = (unsigned)bench_parse_num("--v6", optarg, 0, 100);
			break;
		case 'C':
			parse_cc(&l, optarg);
			l.cc_given = true;
			break;
		case 'T':
			l.traffic = true;
			break;
		case 'P':
			l.per_proc = bench_parse_num("--per-process", optarg, 1, 1000000);
			break;
		default:
			bench_option_default("load", c);
		}
	}
	bench_args_none("load", argc, argv);
	if (!have_n)
		usage_error("load: -n N is required");
	hard = xtcp_sockload_nofile_raise();
	if (hard < 0)
		err(1, "RLIMIT_NOFILE");
	if (!l.per_proc) {
		l.per_proc = (uint64_t)(hard - 64) / 2;
		if (l.per_proc > 8000)
			l.per_proc = 8000;
	}
	if (l.per_proc * 2 + 16 > (uint64_t)hard)
		usage_error("--per-process: %" PRIu64 " connections need %" PRIu64
			    " descriptors, over the hard limit %ld", l.per_proc, l.per_proc * 2 + 16, hard);

	if (!l.netns_given)
		snprintf(l.netns, sizeof(l.netns), "xtcp-bench-%ld", (long)getpid());
	if (xtcp_sockload_netns_enter(l.netns) == 0) {
		l.created = false;
		if (xtcp_sockload_netns_setup(false) < 0)
			err(1, "bringing lo up");
	} else if (errno == ENOENT) {
		if (xtcp_sockload_netns_create(l.netns) < 0) {
			warnx("cannot create namespace '%s': %s%s", l.netns, strerror(errno),
			      errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
			return 1;
		}
		l.created = true;
		if (xtcp_sockload_netns_setup(true) < 0)
			load_fail(&l, NULL, 0, "setting up the namespace");
	} else {
		warnx("cannot enter namespace '%s': %s", l.netns, xtcp_sockload_netns_strerror(errno));
		return 1;
	}

	/* congestion controls: an explicit list must work; the default takes what there is */
	if (l.cc_given) {
		for (i = 0; i < l.n_cc; i++)
			if (xtcp_sockload_cong_check(l.cc[i]) < 0) {
				int e = errno;

				load_cleanup(&l, NULL, 0);
				if (e == ENOENT)
					usage_error("--cc: unknown congestion control '%s'", l.cc[i]);
				errno = e;
				warn("congestion control '%s'", l.cc[i]);
				return 1;
			}
	} else {
		for (i = 0; i < sizeof(default_cc) / sizeof(default_cc[0]); i++)
			if (xtcp_sockload_cong_check(default_cc[i]) == 0)
				l.cc[l.n_cc++] = default_cc[i];
	}

	total_workers = (l.conns + l.per_proc - 1) / l.per_proc;
	pids = calloc(total_workers, sizeof(*pids));
	done_by = calloc(total_workers, sizeof(*done_by));
	if (!pids || !done_by || pipe2(pfd, O_CLOEXEC) < 0)
		load_fail(&l, NULL, 0, "load");

	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < total_workers; i++) {
		uint64_t count = l.conns - first < l.per_proc ? l.conns - first : l.per_proc;

		fflush(NULL);
		pids[i] = fork();
		if (pids[i] < 0)
			load_fail(&l, pids, i, "fork");
		if (pids[i] == 0) {
			close(pfd[0]);
			load_worker(&l, (uint32_t)i, first, count, pfd[1]);
		}
		first += count;
	}
	close(pfd[1]);

	while (finished < total_workers && !load_stop) {
		ssize_t r = read(pfd[0], &msg, sizeof(msg));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(msg) || msg.worker >= total_workers) {
			load_cleanup(&l, pids, total_workers);
			warnx("load: a worker exited before its connections were up");
			return 1;
		}
		if (msg.done == UINT32_MAX) {
			load_cleanup(&l, pids, total_workers);
			errno = msg.err;
			warn("load: worker %u: cannot open a connection", msg.worker);
			return 1;
		}
		done += msg.done - done_by[msg.worker];
		done_by[msg.worker] = msg.done;
		if (done_by[msg.worker] == (l.conns - msg.worker * l.per_proc < l.per_proc ?
					    l.conns - msg.worker * l.per_proc : l.per_proc))
			finished++;
		if (tty)
			fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " connections",
				program_invocation_short_name, done, l.conns);
	}
	close(pfd[0]);
	if (tty)
		fputc('\n', stderr);
	if (load_stop) {
		load_cleanup(&l, pids, total_workers);
		return 0;
	}
	printf("ready netns=%s connections=%" PRIu64 " sockets=%" PRIu64 " workers=%" PRIu64
	       " cc=", l.netns, l.conns, 2 * l.conns, total_workers);
	for (i = 0; i < l.n_cc; i++)
		printf("%s%s", i ? "," : "", l.cc[i]);
	printf("%s\n", l.n_cc ? "" : "default");
	if (fflush(stdout) != 0 && errno != EPIPE)
		load_fail(&l, pids, total_workers, "writing readiness");

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!load_stop && !child_died)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	load_cleanup(&l, pids, total_workers);
	free(pids);
	free(done_by);
	free(l.cc_list);
	if (child_died && !load_stop) {
		warnx("load: a worker died; connections were lost");
		return 1;
	}
	return 0;
}
