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
 * and /proc/PID/ns/net of every process, deduplicated by nsfs inode.  Names
 * follow the record's netns field: "default" for the caller's own
 * namespace, the bind-mount name, else "netns:[INODE]".
 *
 * Entries are kept sorted: "default" first, then names, then netns:[...] by
 * inode.  Steady-state refreshes allocate nothing.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct xtcp_netns {
	char name[128];
	char path[128];         /* where it was found: for messages */
	uint64_t inode;
	struct xtcp_diag diag;
	bool seen;              /* found by the current refresh */
};

enum xtcp_netns_event {
	XTCP_NETNS_ADDED,       /* a socket was opened in a new namespace */
	XTCP_NETNS_VANISHED,    /* it is no longer found; its socket was closed */
	XTCP_NETNS_FAILED,      /* found but could not be entered (err = errno) */
	XTCP_NETNS_MISSING,     /* an explicitly named namespace is not there (err = errno) */
};

typedef void (*xtcp_netns_event_cb)(void *arg, enum xtcp_netns_event event,
				    const struct xtcp_netns *ns, int err);

struct xtcp_netns_set {
	struct xtcp_netns *ns;
	size_t n;
	size_t cap;
	int self_fd;                    /* the caller's namespace, to return to */
	uint64_t self_inode;
	uint8_t *buf;                   /* one receive buffer shared by every socket */
	size_t buf_size;
	bool all;
	const char *const *wanted;      /* explicit -n arguments (not copied) */
	size_t n_wanted;
	unsigned denied_enter;          /* namespaces the last refresh found but could not enter */
	unsigned denied_lookup;         /* paths (/proc/PID/ns/net, mounts) it could not stat */
	int save_fd;                    /* passed to each socket (xtcp_diag.save_fd) */
};

/*
 * @all: discover every namespace (plus @wanted, if any); else only the
 * @n_wanted namespaces named in @wanted: "default", a name under /run/netns
 * or /run/docker/netns, or a path (/proc/PID/ns/net, a bind mount).  No
 * namespace at all means just the caller's.
 * Returns 0 or -1 with errno.
 */
int xtcp_netns_set_init(struct xtcp_netns_set *set, bool all, const char *const *wanted,
			size_t n_wanted);
void xtcp_netns_set_release(struct xtcp_netns_set *set);

/*
 * Discover again; report every change through @cb.  Returns the number of
 * namespaces ready to poll, or -1 with errno when discovery itself failed
 * (e.g. the caller's own namespace cannot be opened).
 */
int xtcp_netns_refresh(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg);

/* Whether the process has capability @cap (CAP_NET_ADMIN, ...) in its effective set. */
bool xtcp_has_capability(int cap);

#endif
