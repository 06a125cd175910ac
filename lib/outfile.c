#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define MAX_LINKS 40    /* the kernel's own limit on the links of one path */

static struct xtcp_outfile *open_outfiles;

/* A link of /proc: a "magic" link such as /proc/self/fd/N, whose target is no path. */
static bool is_proc_link(const char *path)
{
	struct statfs sfs;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	bool proc;

	if (fd < 0)
		return false;
	proc = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	close(fd);
	return proc;
}

/*
 * @path with the symbolic links at its end followed to what they point to
 * (the directories on the way stay as they are: the temporary file only has
 * to be in the directory of the file it replaces).  Returns a malloc'd path
 * of something that is not a link, or does not exist, or is a link of /proc
 * (*@proc_link set), or NULL with errno.
 */
static char *follow_links(const char *path, bool *proc_link)
{
	char target[PATH_MAX], *cur = strdup(path), *next, *slash;
	struct stat st;
	ssize_t n;
	int hops, e;

	*proc_link = false;
	for (hops = 0; cur; hops++) {
		if (lstat(cur, &st) < 0)
			goto err_stat;
		if (!S_ISLNK(st.st_mode))
			return cur;
		if (is_proc_link(cur)) {
			*proc_link = true;
			return cur;
		}
		if (hops == MAX_LINKS) {
			errno = ELOOP;
			goto err;
		}
		n = readlink(cur, target, sizeof(target));
		if (n < 0)
			goto err;
		if ((size_t)n >= sizeof(target)) {
			errno = ENAMETOOLONG;
			goto err;
		}
		target[n] = '\0';
		slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash)
			next = strdup(target);
		else if (asprintf(&next, "%.*s%s", (int)(slash - cur + 1), cur, target) < 0)
			next = NULL;
		free(cur);
		cur = next;
	}
	errno = ENOMEM;
	return NULL;
err_stat:
	if (errno == ENOENT)
		return cur;     /* to be created (a dangling link creates its target) */
err:
	e = errno;
	free(cur);
	errno = e;
	return NULL;
}

/*
 * A link of /proc: /proc/self/fd/N (where /dev/stdout and /dev/fd/N lead) is
 * descriptor N itself, duplicated, so that its offset and O_APPEND hold
 * (`-o /dev/stdout >>log` appends); any other is opened as the shell's `>`
 * would.
 */
static int open_proc_link(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], *end;
	struct stat a, b;
	long n;

	if (!slash)
		return open(path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	n = strtol(slash + 1, &end, 10);
	if (end != slash + 1 && !*end && n >= 0 && n <= INT_MAX &&
	    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) < (int)sizeof(dir) &&
	    stat(dir, &a) == 0 && stat("/proc/self/fd", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return fcntl((int)n, F_DUPFD_CLOEXEC, 0);
	return open(path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
}

/* A device, FIFO or socket at @path, opened as the shell's `>` would (a socket is connected). */
static int open_direct(const char *path, const struct stat *st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, e;

	if (!S_ISSOCK(st->st_mode))
		return open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * The temporary file's mode and owner: those of the file it replaces (@old),
 * less what the caller cannot keep, or a plain create's.
 */
static void take_identity(int fd, const struct stat *old)
{
	mode_t mask, mode;

	if (!old) {
		mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
		return;
	}
	mode = old->st_mode & 07777;
	if (fchown(fd, old->st_uid, old->st_gid) < 0) {
		mode &= ~(mode_t)S_ISUID;
		if (fchown(fd, (uid_t)-1, old->st_gid) < 0)
			mode &= ~(mode_t)(S_ISGID | S_IRWXG);
	}
	fchmod(fd, mode);       /* if it fails, mkstemp's 0600 is the safe side */
}

/* The temporary file beside @f->path; @old is the file it will replace, NULL for none. */
static int open_temp(struct xtcp_outfile *f, const struct stat *old)
{
	const char *slash = strrchr(f->path, '/');
	int dirlen = slash ? (int)(slash - f->path + 1) : 0;

	if (asprintf(&f->tmp, "%.*s.%s.XXXXXX", dirlen, f->path,
		     slash ? slash + 1 : f->path) < 0) {
		f->tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0)
		return -1;
	take_identity(f->fd, old);
	return 0;
}

int xtcp_outfile_open(struct xtcp_outfile *f, const char *path)
{
	struct stat st;
	bool proc_link;
	int e;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = follow_links(path, &proc_link);
	if (!f->path)
		return -1;
	if (proc_link) {
		f->fd = open_proc_link(f->path);
	} else if (stat(f->path, &st) < 0) {
		if (errno == ENOENT)
			open_temp(f, NULL);
	} else if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
	} else if (S_ISREG(st.st_mode)) {
		open_temp(f, &st);
	} else {
		f->fd = open_direct(f->path, &st);
	}
	if (f->fd < 0)
		goto err;
	f->next = open_outfiles;
	open_outfiles = f;
	return 0;
err:
	e = errno;
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
	errno = e;
	return -1;
}

static void outfile_close(struct xtcp_outfile *f)
{
	struct xtcp_outfile **p;

	for (p = &open_outfiles; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
	f->fd = -1;
	f->next = NULL;
}

int xtcp_outfile_commit(struct xtcp_outfile *f)
{
	int fd = f->fd, e;

	f->fd = -1;
	if (f->tmp && fsync(fd) < 0 && errno != EINVAL)
		goto err_close;
	if (close(fd) < 0)
		goto err;
	if (f->tmp && rename(f->tmp, f->path) < 0)
		goto err;
	outfile_close(f);
	return 0;
err_close:
	e = errno;
	close(fd);
	errno = e;
err:
	e = errno;
	xtcp_outfile_abort(f);
	errno = e;
	return -1;
}

void xtcp_outfile_abort(struct xtcp_outfile *f)
{
	if (!f->path)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	outfile_close(f);
}

void xtcp_outfile_abort_all(void)
{
	while (open_outfiles)
		xtcp_outfile_abort(open_outfiles);
}
