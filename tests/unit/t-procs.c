/* Unit tests for lib/procs.c: socket inode -> processes, kept across polls. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procs.h"
#include "tap.h"

static uint32_t inode_of(int fd)
{
	struct stat st;

	fstat(fd, &st);
	return (uint32_t)st.st_ino;
}

/* A child that holds what it inherited until killed; its end of @pipefd says it is up. */
static pid_t hold(void)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		prctl(PR_SET_NAME, "t-procs-child");
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A /proc of our own pid namespace: no other process changes under the counts. */
static const char *proc_root;

static void same(uint64_t got, uint64_t want, const char *name)
{
	if (proc_root)
		is(got, want, "%s", name);
	else
		ok(1, "# SKIP %s: needs a private pid namespace (root)", name);
}

static int run(void)
{
	struct xtcp_procs p;
	struct xtcp_proc_owner o;
	struct xtcp_procs_stats before;
	uint32_t a, b, none = 4000000000u;
	int fd_a, fd_b, fd;
	pid_t child, me = getpid();

	prctl(PR_SET_NAME, "t-procs");
	fd_a = socket(AF_INET, SOCK_STREAM, 0);
	a = inode_of(fd_a);

	ok(xtcp_procs_init(&p, proc_root) == 0, "init");
	ok(p.counts, "this kernel reports descriptor counts (Linux 6.2+)");
	xtcp_procs_begin_poll(&p);
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.pid == (uint32_t)me && o.count == 1 &&
	   !strcmp(o.comm, "t-procs"), "our socket: our pid and name");
	is(p.stats.refreshes, 1, "one refresh for the poll");
	ok(xtcp_procs_lookup(&p, 0, &o) == 0 && o.pid == 0 && o.count == 0 && !*o.comm,
	   "inode 0 (TIME_WAIT): nothing");

	/* nothing changed: no descriptor is read again */
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.pid == (uint32_t)me, "next poll: same owner");
	same(p.stats.links_read, before.links_read, "an unchanged host reads no descriptor link");
	same(p.stats.fd_dirs_read, before.fd_dirs_read, "nor any descriptor directory");
	ok(p.stats.stats > before.stats, "only a stat per process");

	/* a socket shared with a child: both count, the lowest pid is named */
	child = hold();
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.count == 2 &&
	   o.pid == (uint32_t)(me < child ? me : child), "shared with a child: count 2, lowest pid");
	same(p.stats.fd_dirs_read, before.fd_dirs_read + 1, "the new process alone was read");

	/* a new socket in a process whose count changed */
	fd_b = socket(AF_INET6, SOCK_STREAM, 0);
	b = inode_of(fd_b);
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, b, &o) == 1 && o.pid == (uint32_t)me && o.count == 1,
	   "a new socket");
	same(p.stats.fd_dirs_read, before.fd_dirs_read + 1, "only the process whose count changed");
	same(p.stats.full_scans, before.full_scans, "no full scan");

	/* the child exits: the socket is ours alone */
	stop(child);
	xtcp_procs_begin_poll(&p);
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.count == 1 && o.pid == (uint32_t)me,
	   "the child exited: count 1");

	/* the same count, another socket: found by a full scan, once a poll */
	close(fd_b);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	b = inode_of(fd);
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, b, &o) == 1 && o.pid == (uint32_t)me,
	   "a socket replacing another (same count) is found");
	is(p.stats.full_scans, before.full_scans + 1, "by a full scan");

	/* a socket no process holds: one full scan, then remembered */
	ok(xtcp_procs_lookup(&p, none, &o) == 0 && o.count == 0, "an unknown inode: no owner");
	is(p.stats.full_scans, before.full_scans + 1, "no second full scan in a poll");
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, none, &o) == 0, "still none");
	is(p.stats.full_scans, before.full_scans + 1, "the next poll scans once for it");
	xtcp_procs_begin_poll(&p);
	before = p.stats;
	ok(xtcp_procs_lookup(&p, none, &o) == 0, "still none");
	is(p.stats.full_scans, before.full_scans, "then it is remembered: no scan");

	/* a process that exits between polls is dropped; one that never was, ignored */
	child = hold();
	xtcp_procs_begin_poll(&p);
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.count == 2, "a second holder again");
	stop(child);
	xtcp_procs_begin_poll(&p);
	ok(xtcp_procs_lookup(&p, a, &o) == 1 && o.count == 1, "gone again");
	xtcp_procs_release(&p);

	/* another user's processes cannot be read: counted, not an error */
	child = fork();
	if (child == 0) {
		struct xtcp_procs q;
		int rc;

		close(fd_a);    /* else we would hold it ourselves */
		close(fd);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		if (xtcp_procs_init(&q, proc_root) < 0)
			_exit(4);
		xtcp_procs_begin_poll(&q);
		rc = xtcp_procs_lookup(&q, a, &o);
		/* our parent's socket: not found, and the parent among the denied */
		_exit(rc == 0 && q.denied > 0 ? 0 : 5);
	}
	{
		int status = -1;

		waitpid(child, &status, 0);
		if (getuid() == 0)
			ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			   "as another user: root's sockets have no owner, the processes are denied");
		else
			ok(1, "# SKIP needs root to become another user");
	}

	errno = 0;
	ok(xtcp_procs_init(&p, "/nonexistent/proc") < 0 && errno == ENOENT, "no /proc: ENOENT");
	close(fd);
	close(fd_a);
	return done_testing();
}

int main(void)
{
	static char dir[] = "/tmp/t-procs.XXXXXX";
	pid_t init;
	int status, rc;

	if (geteuid() != 0 || unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
		return run();
	fflush(stdout);
	init = fork();
	if (init < 0)
		return run();
	if (init == 0) {
		/* pid 1 of the new namespace, with its own /proc beside the host's */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && mkdtemp(dir) &&
		    mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
			proc_root = dir;
		/* the tests run in pid 2: LeakSanitizer cannot work as pid 1 */
		fflush(stdout);
		init = fork();
		if (init == 0) {
			rc = run();
			fflush(stdout);
			_exit(rc);
		}
		rc = init < 0 || waitpid(init, &status, 0) < 0 || !WIFEXITED(status) ? 1 :
		     WEXITSTATUS(status);
		if (proc_root) {
			umount(dir);
			rmdir(dir);
		}
		fflush(stdout);
		_exit(rc);
	}
	/*
	 * _exit: a process that made a pid namespace cannot fork into it once
	 * its init is gone, and LeakSanitizer's check at exit would fork.
	 */
	fflush(stdout);
	if (waitpid(init, &status, 0) < 0 || !WIFEXITED(status))
		_exit(1);
	_exit(WEXITSTATUS(status));
}
