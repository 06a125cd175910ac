#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int xtcp_outfile_open(struct xtcp_outfile *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	mode_t mask;

	f->fd = -1;
	f->path = strdup(path);
	if (!f->path || asprintf(&f->tmp, "%.*s.%s.XXXXXX", dirlen, path,
				 slash ? slash + 1 : path) < 0) {
		free(f->path);
		f->path = f->tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) {
		int e = errno;

		free(f->path);
		free(f->tmp);
		f->path = f->tmp = NULL;
		errno = e;
		return -1;
	}
	/* mkstemp makes 0600; give the file the mode a plain create would. */
	mask = umask(0);
	umask(mask);
	fchmod(f->fd, 0666 & ~mask);
	return 0;
}

static void outfile_free(struct xtcp_outfile *f)
{
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
	f->fd = -1;
}

int xtcp_outfile_commit(struct xtcp_outfile *f)
{
	int e;

	if (fsync(f->fd) < 0 && errno != EINVAL)
		goto err;
	if (close(f->fd) < 0) {
		f->fd = -1;
		goto err;
	}
	f->fd = -1;
	if (rename(f->tmp, f->path) < 0)
		goto err;
	outfile_free(f);
	return 0;
err:
	e = errno;
	xtcp_outfile_abort(f);
	errno = e;
	return -1;
}

void xtcp_outfile_abort(struct xtcp_outfile *f)
{
	if (!f->tmp)
		return;
	if (f->fd >= 0)
		close(f->fd);
	unlink(f->tmp);
	outfile_free(f);
}
