#ifndef XTCP_OUTFILE_H
#define XTCP_OUTFILE_H

/*
 * Output files for -o FILE and -w FILE, replaced whole or not at all.
 *
 * What is at FILE decides how it is written:
 *   - nothing, or a regular file: the data goes to a temporary file
 *     ".NAME.XXXXXX" in the same directory, which xtcp_outfile_commit()
 *     syncs and renames over FILE, so a reader (or a cron job's consumer)
 *     never sees half a file and an aborted run leaves the old file as it
 *     was.  A replaced file keeps its permission bits, owner and group (as
 *     far as the caller may set them: when it may not give the file its old
 *     group, the group loses its permissions, so a replaced file is never
 *     more readable than the old one); a new file gets 0666 & ~umask, as a
 *     plain create.  Other hard links to an old file keep the old data.
 *   - a symbolic link (a chain of them): what it finally points to is the
 *     FILE above; the link stays a link, the temporary file is made in the
 *     target's directory.  A dangling link creates its target.  A link of
 *     /proc is no path to replace: /proc/self/fd/N (where /dev/stdout and
 *     /dev/fd/N lead) is descriptor N, duplicated, with its offset and
 *     O_APPEND; another is opened with O_TRUNC, as the shell's `>` would.
 *   - anything else that exists (a character or block device, a FIFO, a
 *     Unix stream socket): written directly, as a shell's `>` would, never
 *     replaced.  What was written stays written when the run is aborted.
 *   - a directory: refused (EISDIR).
 *
 * Every xtcp_outfile that is open (not yet committed or aborted) is on one
 * list of the process, so that an exit handler can abort them all
 * (xtcp_outfile_abort_all): an exit on an error path must not leave a
 * temporary file behind.  Not thread-safe: open, commit and abort from one
 * thread.
 */

struct xtcp_outfile {
	char *path;     /* the file to replace (links resolved); NULL once closed */
	char *tmp;      /* the temporary file; NULL when the destination is written directly */
	int fd;
	struct xtcp_outfile *next;      /* the list of open outfiles */
};

/*
 * Returns 0 with @f->fd open for writing, or -1 with errno: from mkstemp
 * (the directory's), from open or connect (a destination written
 * directly), EISDIR, ELOOP (over 40 links), ENOMEM.
 */
int xtcp_outfile_open(struct xtcp_outfile *f, const char *path);
/*
 * fsync, close, rename.  Returns 0 or -1 with errno (the temporary file is
 * removed, the old file left as it was).
 */
int xtcp_outfile_commit(struct xtcp_outfile *f);
/* Close and remove the temporary file; nothing is replaced.  Does nothing on a closed @f. */
void xtcp_outfile_abort(struct xtcp_outfile *f);
/* Abort every open outfile of the process (for atexit). */
void xtcp_outfile_abort_all(void);

#endif
