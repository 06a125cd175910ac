#ifndef XTCP_OWNER_H
#define XTCP_OWNER_H

/*
 * Who owns each socket, into its record: the cgroup (cgroup_path and what
 * it names: container_id, container_runtime, pod_uid, systemd_unit; from
 * c_group, lib/cgroup.h) and, on request, a process holding it
 * (process_pid, process_comm, process_count; from inet_diag_msg_inode,
 * lib/procs.h).
 *
 * What cannot be known is explained, once a run each, by notes the caller
 * takes and shows (xtcp_owners_note): no cgroup2 mount, a cgroup id with
 * no directory (a removed cgroup), cgroup directories or /proc/PID/fd that
 * may not be read, no /proc.  A field that cannot be filled stays empty
 * (0 for numbers); a record with no cgroup id (c_group 0: TIME_WAIT
 * sockets, kernels without INET_DIAG_CGROUP_ID) or no inode (0: TIME_WAIT,
 * orphaned sockets) has nothing to look up and needs no note.
 */

#include <stdbool.h>
#include <stddef.h>

#include "cgroup.h"
#include "procs.h"
#include "record.h"

struct xtcp_owners {
	bool cgroups_on;
	bool processes_on;
	struct xtcp_cgroups cgroups;
	struct xtcp_procs procs;
	int procs_error;                /* errno of opening /proc, else 0 */
	unsigned noted;                 /* notes already given (bits) */
	bool asked_cgroup;              /* a record had a cgroup id */
	bool asked_process;             /* a record had an inode */
};

/*
 * @cgroups: resolve c_group; @processes: find the process of each socket.
 * A missing /proc is a note, not a failure.  Returns 0, or -1 with errno
 * ENOMEM.
 */
int xtcp_owners_init(struct xtcp_owners *o, bool cgroups, bool processes);
void xtcp_owners_release(struct xtcp_owners *o);

/* A poll starts. */
void xtcp_owners_begin_poll(struct xtcp_owners *o);

/*
 * Set the owner fields of @rec from its c_group and inet_diag_msg_inode
 * (every one of them: a field not looked up is emptied).  The strings
 * belong to @o and stay valid until the next fill or begin_poll.  Returns
 * 0, or -1 with errno ENOMEM.
 */
int xtcp_owners_fill(struct xtcp_owners *o, XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/*
 * The next explanation not given yet, as one line without a newline, into
 * @buf.  Returns 1 when there was one, 0 when there is none.
 */
int xtcp_owners_note(struct xtcp_owners *o, char *buf, size_t size);

#endif
