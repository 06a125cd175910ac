#ifndef XTCP_OUTFILE_H
#define XTCP_OUTFILE_H

/*
 * Atomic output files for -o FILE: data goes to a temporary file in the same
 * directory, which xtcp_outfile_commit() syncs and renames over FILE, so a
 * reader (or a cron job's consumer) never sees half a file.  Abort removes
 * the temporary file.
 */

struct xtcp_outfile {
	char *path;
	char *tmp;
	int fd;
};

/* Returns 0 with @f->fd open for writing, or -1 with errno from mkstemp. */
int xtcp_outfile_open(struct xtcp_outfile *f, const char *path);
/* fsync, close, rename.  Returns 0 or -1 with errno (the temporary file is removed). */
int xtcp_outfile_commit(struct xtcp_outfile *f);
void xtcp_outfile_abort(struct xtcp_outfile *f);

#endif
