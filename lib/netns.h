#ifndef XTCP_NETNS_H
#define XTCP_NETNS_H

/*
 * The set of network namespaces a collector polls, each with its own
 * NETLINK_SOCK_DIAG socket.
 *
 * A socket is opened inside its namespace once (setns in, socket, setns
 * back) and kept; a netlink socket answers for the namespace it was created
 * in, so polling needs no setns and no thread per namespace.  Before each
 * poll xtcp_netns_refresh() discovers the namespaces again: sockets are
 * opened for new ones and closed for vanished ones (which also lets the
 * kernel free a deleted namespace).
 *
 * Discovery for "all": bind mounts under /run/netns and /run/docker/netns,
 * and /proc/PID/ns/net of every process, deduplicated by nsfs inode.  Only
 * files on nsfs count: a plain file left under /run/netns is no namespace.
 *
 * Names follow the record's netns field, the same whoever polls:
 *   "default"        the init namespace: that of PID 1 as /proc shows it (the
 *                    host's, or a container's own);
 *   NAME             the name of its bind mount under /run/netns or
 *                    /run/docker/netns (also for the caller's own namespace,
 *                    as under `ip netns exec NAME`);
 *   "netns:[INODE]"  any other.
 * When the init namespace cannot be identified (an unprivileged caller on a
 * kernel whose init namespace has no fixed inode cannot read /proc/1/ns/net),
 * the caller's own namespace without a bind mount is "default".  A namespace
 * keeps the name it had when first found.
 *
 * Entries are kept sorted: "default" first, then names, then netns:[...] by
 * inode.  Steady-state refreshes allocate nothing.  With set->sockstat each
 * namespace also keeps the files that tell what a dump of it would find
 * (lib/sockstat.h), opened inside it like its socket.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "events.h"
#include "sockstat.h"

struct xtcp_netns {
	char name[128];
	char path[128];         /* where it was found: for messages */
	uint64_t inode;
	struct xtcp_diag diag;
	struct xtcp_events events;      /* with set->events: its close events (events.fd -1 if not) */
	int events_err;                 /* errno of xtcp_events_open() when it failed, else 0 */
	struct xtcp_sockstat_files stat;        /* with set->sockstat: its counts (fds -1 if not) */
	bool seen;              /* found by the current refresh */
	bool self;              /* the caller's own namespace */
	bool named;             /* asked for explicitly (a -n argument) */
};

/*
 * What a refresh reports.  An explicitly named namespace is the one its name
 * led to at the first refresh: when the name later leads nowhere, or to
 * another namespace, or the namespace cannot be entered any more, it is
 * reported once (MISSING or FAILED, with ns->named) and not looked for again.
 */
enum xtcp_netns_event {
	XTCP_NETNS_ADDED,       /* a socket was opened in a new namespace */
	XTCP_NETNS_VANISHED,    /* it is no longer found; its socket was closed */
	XTCP_NETNS_FAILED,      /* found but could not be entered (err = errno; EINVAL: it is
				   another kind of namespace); ns is NULL when the set could
				   not grow (ENOMEM) */
	XTCP_NETNS_MISSING,     /* an explicitly named namespace is not there, or no longer:
				   err = errno of stat(2), EINVAL when the file is not a
				   network namespace, ESTALE when the name now leads to
				   another namespace; ns is a stand-in holding the name (the
				   one it was polled under, once found) and the path */
};

/*
 * Lookups that failed for want of permission (or for another reason than a
 * process exiting mid-scan, which is not counted): how many, and the first.
 */
struct xtcp_netns_miss {
	unsigned n;
	int err;                /* errno of the first */
	char what[96];          /* the first: "process 1 (systemd)", "'/run/docker/netns'",
				   or a namespace's name */
};

typedef void (*xtcp_netns_event_cb)(void *arg, enum xtcp_netns_event event,
				    const struct xtcp_netns *ns, int err);

struct xtcp_netns_want {
	uint64_t inode;         /* what the -n argument led to at first; 0: not found yet */
	char path[256];         /* where */
	bool gone;              /* it vanished: not looked for again */
};

struct xtcp_netns_set {
	struct xtcp_netns *ns;
	size_t n;
	size_t cap;
	int self_fd;                    /* the caller's namespace, to return to */
	uint64_t self_inode;
	uint64_t init_inode;            /* the init namespace's, 0 when it cannot be known */
	uint64_t nsfs_dev;              /* st_dev of every namespace file */
	char self_name[128];
	uint8_t *buf;                   /* one receive buffer shared by every socket */
	size_t buf_size;
	bool all;
	bool renamed;                   /* a namespace got its bind-mount name in this refresh */
	const char *const *wanted;      /* explicit -n arguments (not copied) */
	struct xtcp_netns_want *want;   /* one per wanted */
	size_t n_wanted;
	/* what the last refresh could not see, for xtcp_netns_unseen() */
	struct xtcp_netns_miss denied_enter;   /* found, but setns(2) refused */
	struct xtcp_netns_miss denied_lookup;  /* /proc/PID/ns/net that could not be read */
	struct xtcp_netns_miss unreadable;     /* mount directories or entries that could not be read */
	struct xtcp_netns_miss over_limit;     /* found, but no descriptors left to hold it */
	int save_fd;                    /* passed to each socket (xtcp_diag.save_fd) */
	/*
	 * Close events: XTCP_EVENTS_IPV4 | _IPV6, or 0 for none.  Set before the
	 * first refresh; each namespace then also gets an events socket, opened
	 * inside it with its sock_diag socket, with a receive buffer of
	 * events_rcvbuf bytes.  A namespace whose events socket cannot be opened
	 * is still polled: it is ADDED with events_err set (EPERM: no
	 * CAP_NET_ADMIN over it), for the caller to judge.
	 */
	unsigned events;
	size_t events_rcvbuf;
	/*
	 * Set before the first refresh: each namespace also gets its
	 * /proc/net/sockstat and /proc/net/protocols, opened inside it
	 * (lib/sockstat.h), for the caller to read before each poll.  A
	 * namespace whose files cannot be opened is still polled, with
	 * stat.sockstat_fd -1.
	 */
	bool sockstat;
	/*
	 * Set before the first refresh: the process's descriptor limit (its
	 * soft RLIMIT_NOFILE), or 0 for no check.  A new namespace is then
	 * opened only while what it needs (xtcp_netns_fds_each()) fits under
	 * the limit with XTCP_NETNS_FD_RESERVE to spare for everything else
	 * (discovery's directories, output files, /proc reads); the rest are
	 * counted in over_limit, and opened by a later refresh once there is
	 * room.  fds_held: what the open namespaces hold; fds_other: the
	 * process's other descriptors, counted at the first refresh and again
	 * whenever an open runs out of descriptors.
	 */
	unsigned long fd_limit;
	unsigned long fds_held;
	unsigned long fds_other;
};

/* Descriptors left free for everything but the namespaces, under set->fd_limit. */
#define XTCP_NETNS_FD_RESERVE 64

/*
 * @all: discover every namespace (plus @wanted, if any); else only the
 * @n_wanted namespaces named in @wanted: "default" (the caller's own
 * namespace, whatever its name), a name under /run/netns or
 * /run/docker/netns, or a path (/proc/PID/ns/net, a bind mount).  No
 * namespace at all means just the caller's.
 * Returns 0 or -1 with errno.
 */
int xtcp_netns_set_init(struct xtcp_netns_set *set, bool all, const char *const *wanted,
			size_t n_wanted);
void xtcp_netns_set_release(struct xtcp_netns_set *set);

/*
 * Discover again; report every change through @cb.  Returns the number of
 * namespaces ready to poll (0 once every explicitly named one is gone and
 * there is nothing else), or -1 with errno when discovery itself failed.
 */
int xtcp_netns_refresh(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg);

/*
 * What the last refresh of an "all" set could not see, as one clause for a
 * message ("; cannot enter 3 more (needs CAP_SYS_ADMIN); ..."), or "" when
 * it saw everything.  Each kind of miss gives its cause: the capability
 * missing, or, when the caller holds it, the first process or namespace that
 * was refused and why holding the capability was not enough.
 */
const char *xtcp_netns_unseen(const struct xtcp_netns_set *set, char *buf, size_t size);

/* The descriptors each namespace holds: its socket, and its events socket and sockstat files when asked for. */
unsigned xtcp_netns_fds_each(const struct xtcp_netns_set *set);

/*
 * Why permission was refused although the caller may need only @cap
 * (CAP_SYS_ADMIN to enter a namespace, CAP_SYS_PTRACE to read another's
 * /proc/PID/ns/net, CAP_NET_ADMIN to listen to its close events):
 * "(needs CAP_X)" when the caller lacks it; else why
 * holding it was not enough (it counts only inside the caller's user
 * namespace, or a security module refuses it).
 */
const char *xtcp_netns_perm_hint(int cap);

/* Whether the process has capability @cap (CAP_NET_ADMIN, ...) in its effective set. */
bool xtcp_has_capability(int cap);

#endif
