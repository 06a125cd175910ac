#include "owner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
	NOTE_NO_MOUNT = 1u << 0,
	NOTE_CGROUP_FAILED = 1u << 1,
	NOTE_CGROUP_GONE = 1u << 2,
	NOTE_CGROUP_UNREADABLE = 1u << 3,
	NOTE_PROC_FAILED = 1u << 4,
	NOTE_PROC_DENIED = 1u << 5,
};

static char empty[1];

int xtcp_owners_init(struct xtcp_owners *o, bool cgroups, bool processes)
{
	memset(o, 0, sizeof(*o));
	o->cgroups_on = cgroups;
	o->processes_on = processes;
	o->procs.proc_fd = -1;
	if (xtcp_cgroups_init(&o->cgroups, NULL) < 0)
		return -1;
	if (processes && xtcp_procs_init(&o->procs, NULL) < 0) {
		if (errno == ENOMEM)
			return -1;
		o->procs_error = errno;
	}
	return 0;
}

void xtcp_owners_release(struct xtcp_owners *o)
{
	xtcp_cgroups_release(&o->cgroups);
	if (o->processes_on && !o->procs_error)
		xtcp_procs_release(&o->procs);
}

void xtcp_owners_begin_poll(struct xtcp_owners *o)
{
	xtcp_cgroups_begin_poll(&o->cgroups);
	if (o->processes_on && !o->procs_error)
		xtcp_procs_begin_poll(&o->procs);
}

int xtcp_owners_fill(struct xtcp_owners *o, XtcpFlatRecord__V1__XtcpFlatRecord *rec)
{
	struct xtcp_cgroup cg = { empty, empty, empty, empty, empty };
	struct xtcp_proc_owner proc = { 0, empty, 0 };

	if (o->cgroups_on && rec->c_group) {
		o->asked_cgroup = true;
		if (xtcp_cgroups_resolve(&o->cgroups, rec->c_group, &cg) < 0)
			return -1;
	}
	rec->cgroup_path = cg.path;
	rec->container_id = cg.container_id;
	rec->container_runtime = cg.container_runtime;
	rec->pod_uid = cg.pod_uid;
	rec->systemd_unit = cg.systemd_unit;

	if (o->processes_on && rec->inet_diag_msg_inode) {
		o->asked_process = true;
		if (!o->procs_error && xtcp_procs_lookup(&o->procs, rec->inet_diag_msg_inode, &proc) < 0)
			return -1;
	}
	rec->process_pid = proc.pid;
	rec->process_comm = proc.comm;
	rec->process_count = proc.count;
	return 0;
}

/* The first of @pending not given yet, marked given. */
static unsigned take(struct xtcp_owners *o, unsigned pending)
{
	unsigned bit;

	pending &= ~o->noted;
	if (!pending)
		return 0;
	bit = pending & -pending;
	o->noted |= bit;
	return bit;
}

int xtcp_owners_note(struct xtcp_owners *o, char *buf, size_t size)
{
	const struct xtcp_cgroups *cg = &o->cgroups;
	const char *cg_fields = "cgroup_path, container_id, pod_uid and systemd_unit are empty";
	unsigned pending = 0;

	if (o->asked_cgroup) {
		if (cg->state == XTCP_CGROUPS_NO_MOUNT)
			pending |= NOTE_NO_MOUNT;
		if (cg->state == XTCP_CGROUPS_FAILED)
			pending |= NOTE_CGROUP_FAILED;
		if (cg->unknown_ids)
			pending |= NOTE_CGROUP_GONE;
		if (cg->unreadable)
			pending |= NOTE_CGROUP_UNREADABLE;
	}
	if (o->asked_process) {
		if (o->procs_error || o->procs.error)
			pending |= NOTE_PROC_FAILED;
		if (o->procs.denied)
			pending |= NOTE_PROC_DENIED;
	}
	switch (take(o, pending)) {
	case NOTE_NO_MOUNT:
		snprintf(buf, size, "no cgroup2 filesystem is mounted (none in %s%s): %s; mount one "
			 "(mount -t cgroup2 none /sys/fs/cgroup) to fill them", cg->mountinfo,
			 cg->init_fallback ? ", the parent processes' or init's" : "", cg_fields);
		return 1;
	case NOTE_CGROUP_FAILED:
		snprintf(buf, size, "cannot read the cgroup2 filesystem%s%s%s: %s: %s",
			 cg->mount[0] ? " at '" : "", cg->mount, cg->mount[0] ? "'" : "",
			 strerror(cg->error), cg_fields);
		return 1;
	case NOTE_CGROUP_GONE:
		snprintf(buf, size, "cgroup id %" PRIu64 " has no directory under '%s' (removed after "
			 "its sockets were made): sockets of a removed cgroup have an empty cgroup_path",
			 cg->first_unknown, cg->mount);
		return 1;
	case NOTE_CGROUP_UNREADABLE:
		snprintf(buf, size, "cannot read %u cgroup director%s under '%s': %s: sockets in them "
			 "have an empty cgroup_path", cg->unreadable, cg->unreadable == 1 ? "y" : "ies",
			 cg->mount, strerror(cg->unreadable_errno));
		return 1;
	case NOTE_PROC_FAILED:
		snprintf(buf, size, "cannot read '/proc': %s: process_pid and process_comm are empty",
			 strerror(o->procs_error ? o->procs_error : o->procs.error));
		return 1;
	case NOTE_PROC_DENIED:
		snprintf(buf, size, "cannot read the descriptors of %u process%s (/proc/PID/fd; needs "
			 "root or CAP_SYS_PTRACE): sockets only they hold have no process_pid",
			 o->procs.denied, o->procs.denied == 1 ? "" : "es");
		return 1;
	}
	return 0;
}
