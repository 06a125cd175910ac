#ifndef XTCP_CGROUP_H
#define XTCP_CGROUP_H

/*
 * What a socket's cgroup id means: its cgroup v2 path, and the container,
 * Kubernetes pod and systemd unit that path names.
 *
 * The kernel's cgroup id (INET_DIAG_CGROUP_ID, the record's c_group) is the
 * inode number of the cgroup's directory in the cgroup2 filesystem.  A map
 * of directory inode -> path is built by walking the cgroup2 mount once;
 * an id the map does not know makes it walk again, at most once per poll,
 * and an id still unknown after a walk that began after the id was seen (a
 * removed cgroup: a socket keeps its cgroup's id after the directory is
 * gone) is remembered as having no path, so it costs nothing on later
 * polls.  A warm map answers every socket with one hash lookup and
 * allocates nothing.  So a path is the one the cgroup had at the last
 * walk: a cgroup removed after it keeps its path until the next walk.
 *
 * The mount is found in /proc/self/mountinfo (the first cgroup2 mount whose
 * root is the hierarchy's root, else the first cgroup2 mount: it may be at
 * /sys/fs/cgroup or /sys/fs/cgroup/unified, or anywhere); when we have none,
 * our closest ancestor's that has one, then init's, through /proc/PID/root
 * (`ip netns exec` mounts a fresh /sys that hides the cgroup mounts below
 * it; the shell that ran it still sees them; reaching another process's
 * root needs root).  The mount is opened once and kept.  Paths are the
 * hierarchy's, as the "0::" line of /proc/PID/cgroup shows them: "/" for
 * the root, "/system.slice/sshd.service", ...; a mount of a subtree (its
 * mountinfo root is not "/") prefixes that root.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the identities parsed from a path, NUL included. */
#define XTCP_CGROUP_ID_MAX 65           /* container ids and pod uids: up to 64 characters */
#define XTCP_CGROUP_UNIT_MAX 256

/*
 * What a cgroup path names (xtcp_cgroup_parse).  Each is "" when the path
 * does not name one; when it names several, the innermost (last) wins.
 *   - container_id: the id of docker-<id>.scope, cri-containerd-<id>.scope,
 *     crio-<id>.scope or libpod-<id>.scope (systemd driver), or the
 *     directory <id> below a "docker" directory or below a pod directory
 *     of a "kubepods" tree (cgroupfs driver).  An id is 12 to 64 lower-case
 *     hex digits (so conmon's crio-conmon-<id>.scope is not a container).
 *   - container_runtime: who made that container: "docker", "containerd",
 *     "cri-o" or "podman"; "" for a cgroupfs pod's container (its path
 *     does not say).
 *   - pod_uid: the uid of kubepods[-<qos>]-pod<uid>.slice (systemd driver,
 *     where the uid's '-' are written '_': they are turned back) or of a
 *     pod<uid> directory below a "kubepods" directory (cgroupfs driver).
 *   - systemd_unit: the innermost component that ends in ".service".
 */
struct xtcp_cgroup_names {
	char container_id[XTCP_CGROUP_ID_MAX];
	char container_runtime[16];
	char pod_uid[XTCP_CGROUP_ID_MAX];
	char systemd_unit[XTCP_CGROUP_UNIT_MAX];
};

void xtcp_cgroup_parse(const char *path, struct xtcp_cgroup_names *names);

/*
 * The cgroup2 mount in the mountinfo file @mountinfo (normally
 * "/proc/self/mountinfo"): its mount point into @mount and its root within
 * the hierarchy into @root (both unescaped, each @size bytes).  Returns 1
 * when there is one, 0 when there is none, -1 with errno when the file
 * cannot be read (ENAMETOOLONG: a path longer than @size).
 */
int xtcp_cgroup_find_mount(const char *mountinfo, char *mount, char *root, size_t size);

/* A cgroup as xtcp_cgroups_resolve() gives it; strings are never NULL. */
struct xtcp_cgroup {
	char *path;
	char *container_id;
	char *container_runtime;
	char *pod_uid;
	char *systemd_unit;
};

enum xtcp_cgroups_state {
	XTCP_CGROUPS_UNKNOWN,   /* not looked for yet: the first resolve looks */
	XTCP_CGROUPS_READY,
	XTCP_CGROUPS_NO_MOUNT,  /* no cgroup2 filesystem is mounted */
	XTCP_CGROUPS_FAILED,    /* mountinfo or the mount could not be read (errno in error) */
};

struct xtcp_cgroup_entry;

/* The map.  Callers read the counters and the state; the rest is private. */
struct xtcp_cgroups {
	enum xtcp_cgroups_state state;
	int error;                      /* FAILED: the errno */
	char mountinfo[128];
	bool init_fallback;             /* also look at an ancestor's and init's mounts */
	char mount[512];                /* for messages: where it was found */
	int mount_fd;
	char root[512];
	uint64_t poll;                  /* xtcp_cgroups_begin_poll count */
	uint64_t walk_poll;             /* the poll of the last walk */
	uint64_t walks;                 /* walks made */
	uint64_t lookups;               /* resolves made */
	uint64_t unknown_ids;           /* ids that had no directory after a walk */
	uint64_t first_unknown;         /* the first of them */
	unsigned unreadable;            /* directories the last walk could not read */
	int unreadable_errno;

	struct xtcp_cgroup_entry *entries;
	size_t n, cap;
	uint32_t *slots;                /* hash: entry index + 1, 0 empty */
	size_t n_slots;
	char *arena;                    /* paths and names, NUL-terminated */
	size_t arena_len, arena_cap;
};

/*
 * @mountinfo: where to find the mount (NULL: "/proc/self/mountinfo", then
 * init's).
 * Nothing is read until the first resolve.  Returns 0, or -1 with errno
 * ENAMETOOLONG.
 */
int xtcp_cgroups_init(struct xtcp_cgroups *cg, const char *mountinfo);
void xtcp_cgroups_release(struct xtcp_cgroups *cg);

/* A new poll starts: an unknown id may walk the tree again. */
void xtcp_cgroups_begin_poll(struct xtcp_cgroups *cg);

/*
 * The cgroup of id @id into @out.  Returns 1 when the id has a path; 0
 * when it has none (no mount: @cg->state says so; or no directory has
 * that inode: a removed cgroup), with @out's strings all ""; -1 with errno
 * ENOMEM.  @out's strings belong to @cg and stay valid until the next
 * resolve or begin_poll.
 */
int xtcp_cgroups_resolve(struct xtcp_cgroups *cg, uint64_t id, struct xtcp_cgroup *out);

#endif
