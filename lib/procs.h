#ifndef XTCP_PROCS_H
#define XTCP_PROCS_H

/*
 * Which processes hold each socket: a map of socket inode -> processes, from
 * the descriptors in /proc/PID/fd, as `ss -p` finds them, kept across polls.
 *
 * Socket inodes are unique across network namespaces (one sockfs), so one
 * map answers for every namespace polled.  A poll (xtcp_procs_begin_poll)
 * refreshes the map at its first lookup, reading only what changed since
 * the last refresh:
 *   - /proc is listed for the set of processes: the descriptors of a new
 *     process are read, an exited process's sockets are dropped;
 *   - every other process costs one stat of /proc/PID/fd, whose size is its
 *     number of open descriptors (Linux 6.2 and later) and whose inode
 *     changes when the pid is reused: its descriptors are read again only
 *     when either changed.  On older kernels, which report no count, every
 *     process's descriptors are read at every poll, as ss does.
 *   - a socket the map does not know (its process closed one descriptor and
 *     opened another, keeping its count) makes the next lookup read every
 *     process's descriptors again, at most once a poll; a socket still not
 *     found is remembered as held by no process we can see (a socket only
 *     the kernel holds, or held by a process in another pid namespace or
 *     one we may not read) and costs nothing until it is gone.
 * The name of a process (comm) is read when its descriptors are.
 *
 * A process that exits while its descriptors are read is left out: the
 * sockets only it held have no process.  A process whose descriptors may
 * not be read (another user's, without CAP_SYS_PTRACE) is counted in
 * @denied and left out.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The holders of one socket (xtcp_procs_lookup). */
struct xtcp_proc_owner {
	uint32_t pid;           /* the lowest pid holding it: the first that ss -p lists */
	char *comm;             /* its name (/proc/PID/comm) */
	uint32_t count;         /* processes holding it (ss -p lists each) */
};

struct xtcp_proc;
struct xtcp_proc_slot;

/* What the refreshes did (for tests and benchmarks). */
struct xtcp_procs_stats {
	uint64_t refreshes;     /* passes over /proc */
	uint64_t full_scans;    /* of them, passes that read every process's descriptors */
	uint64_t stats;         /* stat calls of /proc/PID/fd */
	uint64_t fd_dirs_read;  /* processes whose descriptors were read */
	uint64_t links_read;    /* descriptor links read */
};

struct xtcp_procs {
	int proc_fd;                    /* /proc */
	int error;                      /* /proc could not be read: the errno, else 0 */
	unsigned denied;                /* processes whose descriptors may not be read */
	uint64_t poll;
	uint64_t refresh_poll;          /* the poll of the last refresh */
	uint64_t full_poll;             /* the poll of the last full scan */
	bool counts;                    /* the kernel reports descriptor counts */
	struct xtcp_procs_stats stats;

	/* private */
	struct xtcp_proc *procs;        /* by pid */
	size_t n, cap;
	struct xtcp_proc *next;         /* the next refresh's array */
	size_t next_cap;
	struct xtcp_proc_slot *slots;   /* (socket inode, pid) pairs, open addressing */
	size_t n_slots, used;
	struct xtcp_proc_slot *unheld;  /* (inode, last poll looked up) of sockets no process holds */
	size_t n_unheld_slots, unheld_used;
	uint32_t *pids;
	size_t n_pids, pids_cap;
	uint32_t *found;                /* a process's sockets as read */
	size_t found_cap;
	uint8_t *dents;                 /* getdents64 buffer */
};

/*
 * @proc: the procfs mount to read (NULL: "/proc").  Returns 0, or -1 with
 * errno from opening it.
 */
int xtcp_procs_init(struct xtcp_procs *p, const char *proc);
void xtcp_procs_release(struct xtcp_procs *p);

/* A new poll starts: the next lookup refreshes the map. */
void xtcp_procs_begin_poll(struct xtcp_procs *p);

/*
 * The processes holding the socket with inode @inode into @owner.  Returns 1
 * when one holds it, 0 when none does (@owner zeroed, comm ""), -1 with
 * errno ENOMEM.  When /proc cannot be listed, @p->error says why and every
 * lookup returns 0.  @owner->comm stays valid until the next lookup or
 * begin_poll.
 */
int xtcp_procs_lookup(struct xtcp_procs *p, uint32_t inode, struct xtcp_proc_owner *owner);

#endif
