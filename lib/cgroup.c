#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* --- what a path names ----------------------------------------------------- */

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static bool ends(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

static bool is_id(const char *s, size_t len)
{
	size_t i;

	if (len < 12 || len >= XTCP_CGROUP_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A pod uid: hex digits and '-' (or '_' in a slice name). */
static bool is_uid(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= XTCP_CGROUP_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

static void set(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = 0;
}

/* The container id a systemd scope name carries, or NULL; *runtime gets who made it. */
static const char *scope_id(const char *c, size_t len, size_t *id_len, const char **runtime)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {
		{ "docker-", "docker" }, { "cri-containerd-", "containerd" }, { "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};
	size_t i, n;

	if (!ends(c, len, ".scope"))
		return NULL;
	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		n = strlen(scopes[i].prefix);
		if (starts(c, len, scopes[i].prefix) && is_id(c + n, len - n - 6)) {
			*id_len = len - n - 6;
			*runtime = scopes[i].runtime;
			return c + n;
		}
	}
	return NULL;
}

void xtcp_cgroup_parse(const char *path, struct xtcp_cgroup_names *names)
{
	const char *c = path, *prev = NULL, *id, *runtime;
	size_t len, prev_len = 0, id_len, i;
	bool kubepods = false, below_pod = false;

	memset(names, 0, sizeof(*names));
	for (;;) {
		bool pod_here = false;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		len = strcspn(c, "/");
		if (starts(c, len, "kubepods"))
			kubepods = true;

		if (starts(c, len, "kubepods") && ends(c, len, ".slice")) {
			/* kubepods-burstable-pod<uid>.slice, kubepods-pod<uid>.slice */
			const char *pod = NULL;

			for (i = 0; i + 4 <= len; i++)
				if (!memcmp(c + i, "-pod", 4))
					pod = c + i + 4;
			if (pod && is_uid(pod, (size_t)(c + len - 6 - pod))) {
				size_t n = (size_t)(c + len - 6 - pod);

				set(names->pod_uid, sizeof(names->pod_uid), pod, n);
				for (i = 0; i < n; i++)
					if (names->pod_uid[i] == '_')
						names->pod_uid[i] = '-';
				pod_here = true;
			}
		} else if (kubepods && starts(c, len, "pod") && is_uid(c + 3, len - 3)) {
			set(names->pod_uid, sizeof(names->pod_uid), c + 3, len - 3);
			pod_here = true;
		}

		runtime = NULL;
		if ((id = scope_id(c, len, &id_len, &runtime))) {
			set(names->container_id, sizeof(names->container_id), id, id_len);
		} else if (is_id(c, len) && prev && prev_len == 6 && !memcmp(prev, "docker", 6)) {
			set(names->container_id, sizeof(names->container_id), c, len);
			runtime = "docker";
		} else if (is_id(c, len) && below_pod) {
			set(names->container_id, sizeof(names->container_id), c, len);
			runtime = "";   /* a cgroupfs pod's directories do not say whose */
		}
		if (runtime)
			set(names->container_runtime, sizeof(names->container_runtime), runtime,
			    strlen(runtime));

		if (len > 8 && ends(c, len, ".service"))
			set(names->systemd_unit, sizeof(names->systemd_unit), c, len);

		below_pod = pod_here;
		prev = c;
		prev_len = len;
		c += len;
	}
}

/* --- the mount ----------------------------------------------------------------- */

/* Copy mountinfo's field @s (up to a space) unescaping \ooo; -1 when it does not fit. */
static int unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			ch = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

int xtcp_cgroup_find_mount(const char *mountinfo, char *mount, char *root, size_t size)
{
	FILE *fp = fopen(mountinfo, "re");
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t n;
	int found = 0;

	if (!fp)
		return -1;
	while ((n = getline(&line, &line_cap, fp)) > 0) {
		const char *field[5], *sep, *p = line;
		size_t flen[5];
		bool whole;
		int i;

		/* id parent major:minor root mount-point options ... - fstype source options */
		for (i = 0; i < 5; i++) {
			while (*p == ' ')
				p++;
			field[i] = p;
			flen[i] = strcspn(p, " \n");
			p += flen[i];
		}
		sep = strstr(p, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		whole = flen[3] == 1 && field[3][0] == '/';
		if (found && !whole)
			continue;       /* keep the first, unless a later one is the whole hierarchy */
		if (unescape(field[3], flen[3], root, size) < 0 ||
		    unescape(field[4], flen[4], mount, size) < 0) {
			free(line);
			fclose(fp);
			errno = ENAMETOOLONG;
			return -1;
		}
		found = 1;
		if (whole)
			break;
	}
	free(line);
	if (ferror(fp)) {
		fclose(fp);
		errno = EIO;
		return -1;
	}
	fclose(fp);
	return found;
}

/* --- the map ---------------------------------------------------------------------- */

#define NO_PATH SIZE_MAX
#define WALK_DEPTH 64

struct xtcp_cgroup_entry {
	uint64_t id;
	size_t path;                    /* arena offset, NO_PATH: no directory has this inode */
	size_t container, runtime, pod, unit;   /* arena offsets of the names, once parsed */
	bool parsed;
	bool confirmed;                 /* NO_PATH: a walk that began after the id was seen missed it */
};

int xtcp_cgroups_init(struct xtcp_cgroups *cg, const char *mountinfo)
{
	memset(cg, 0, sizeof(*cg));
	if (!mountinfo) {
		mountinfo = "/proc/self/mountinfo";
		cg->init_fallback = true;
	}
	if (strlen(mountinfo) >= sizeof(cg->mountinfo)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(cg->mountinfo, mountinfo);
	cg->mount_fd = -1;
	return 0;
}

void xtcp_cgroups_release(struct xtcp_cgroups *cg)
{
	if (cg->mount_fd >= 0)
		close(cg->mount_fd);
	cg->mount_fd = -1;
	free(cg->entries);
	free(cg->slots);
	free(cg->arena);
	cg->entries = NULL;
	cg->slots = NULL;
	cg->arena = NULL;
	cg->n = cg->cap = cg->n_slots = cg->arena_len = cg->arena_cap = 0;
}

void xtcp_cgroups_begin_poll(struct xtcp_cgroups *cg)
{
	cg->poll++;
}

static size_t slot_of(uint64_t id, size_t n_slots)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (n_slots - 1);
}

static struct xtcp_cgroup_entry *find(const struct xtcp_cgroups *cg, uint64_t id)
{
	size_t i;

	if (!cg->n_slots)
		return NULL;
	for (i = slot_of(id, cg->n_slots); cg->slots[i]; i = (i + 1) & (cg->n_slots - 1))
		if (cg->entries[cg->slots[i] - 1].id == id)
			return &cg->entries[cg->slots[i] - 1];
	return NULL;
}

static int rehash(struct xtcp_cgroups *cg, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	size_t e, i;

	if (!slots)
		return -1;
	for (e = 0; e < cg->n; e++) {
		for (i = slot_of(cg->entries[e].id, n_slots); slots[i]; i = (i + 1) & (n_slots - 1))
			;
		slots[i] = (uint32_t)(e + 1);
	}
	free(cg->slots);
	cg->slots = slots;
	cg->n_slots = n_slots;
	return 0;
}

/* Append @len bytes of @s and a NUL to the arena; returns the offset or NO_PATH (ENOMEM). */
static size_t arena_add(struct xtcp_cgroups *cg, const char *s, size_t len)
{
	size_t at = cg->arena_len;

	if (XTCP_ALLOC_GROW(cg->arena, cg->arena_len + len + 1, cg->arena_cap) < 0)
		return NO_PATH;
	memcpy(cg->arena + at, s, len);
	cg->arena[at + len] = 0;
	cg->arena_len += len + 1;
	return at;
}

/* A new entry for @id (not in the map) at arena offset @path. */
static struct xtcp_cgroup_entry *add(struct xtcp_cgroups *cg, uint64_t id, size_t path)
{
	struct xtcp_cgroup_entry *e;
	size_t i;

	if (cg->n >= UINT32_MAX - 1) {
		errno = ENOMEM;
		return NULL;
	}
	if (XTCP_ALLOC_GROW(cg->entries, cg->n + 1, cg->cap) < 0)
		return NULL;
	if ((cg->n + 1) * 2 > cg->n_slots && rehash(cg, cg->n_slots ? cg->n_slots * 2 : 256) < 0)
		return NULL;
	e = &cg->entries[cg->n];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->path = path;
	for (i = slot_of(id, cg->n_slots); cg->slots[i]; i = (i + 1) & (cg->n_slots - 1))
		;
	cg->slots[i] = (uint32_t)(++cg->n);
	return e;
}

/* Add the directory @path[0..len) with inode @ino; -1 on ENOMEM. */
static int add_dir(struct xtcp_cgroups *cg, uint64_t ino, const char *path, size_t len)
{
	size_t at;

	if (find(cg, ino))
		return 0;
	at = arena_add(cg, len ? path : "/", len ? len : 1);
	if (at == NO_PATH || !add(cg, ino, at))
		return -1;
	return 0;
}

static bool dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/*
 * The subdirectories of @fd (closed here), whose path is @path[0..len)
 * (room for PATH_MAX bytes).  Directories that vanish while they are read
 * are skipped; ones that cannot be read are counted in cg->unreadable.
 */
static int walk_dir(struct xtcp_cgroups *cg, int fd, char *path, size_t len, unsigned depth)
{
	DIR *dir = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!dir) {
		close(fd);
		return 0;
	}
	while ((de = readdir(dir))) {
		size_t name_len;
		uint64_t ino = de->d_ino;
		int sub;

		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (dot_or_dotdot(de->d_name))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode))
				continue;
			ino = st.st_ino;
		}
		name_len = strlen(de->d_name);
		if (len + 1 + name_len >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, name_len + 1);
		if (add_dir(cg, ino, path, len + 1 + name_len) < 0) {
			rc = -1;
			break;
		}
		if (depth >= WALK_DEPTH)
			continue;
		sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT) {
				cg->unreadable++;
				cg->unreadable_errno = errno;
			}
			continue;
		}
		if (walk_dir(cg, sub, path, len + 1 + name_len, depth + 1) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(dir);
	path[len] = 0;
	return rc;
}

/* An id no directory has, seen missing by a walk that began after the id was seen. */
static void missed(struct xtcp_cgroups *cg, struct xtcp_cgroup_entry *e)
{
	if (!cg->unknown_ids++)
		cg->first_unknown = e->id;
	e->confirmed = true;
}

/*
 * Build the map again from the mount.  Ids that had no directory keep an
 * entry when they still have none, confirmed: this walk began after they
 * were seen.  Returns 0, or -1 with errno (ENOMEM; or the mount cannot be
 * opened, which sets the FAILED state).
 */
static int walk(struct xtcp_cgroups *cg)
{
	char path[PATH_MAX];
	struct xtcp_cgroup_entry *missing = NULL;
	size_t n_missing = 0, i, root_len;
	struct stat st;
	int fd, rc = -1;

	for (i = 0; i < cg->n; i++)
		if (cg->entries[i].path == NO_PATH)
			n_missing++;
	if (n_missing && !(missing = malloc(n_missing * sizeof(*missing))))
		return -1;
	for (n_missing = 0, i = 0; i < cg->n; i++)
		if (cg->entries[i].path == NO_PATH)
			missing[n_missing++] = cg->entries[i];

	cg->n = 0;
	cg->arena_len = 0;
	cg->unreadable = 0;
	if (cg->n_slots)
		memset(cg->slots, 0, cg->n_slots * sizeof(*cg->slots));
	if (arena_add(cg, "", 0) == NO_PATH)        /* offset 0 is "" */
		goto out;
	cg->walks++;
	cg->walk_poll = cg->poll;

	fd = openat(cg->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		cg->state = XTCP_CGROUPS_FAILED;
		cg->error = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	root_len = strcmp(cg->root, "/") ? strlen(cg->root) : 0;
	memcpy(path, cg->root, root_len);
	path[root_len] = 0;
	if (add_dir(cg, st.st_ino, path, root_len) < 0) {
		close(fd);
		goto out;
	}
	if (walk_dir(cg, fd, path, root_len, 1) < 0)
		goto out;
	for (i = 0; i < n_missing; i++) {
		struct xtcp_cgroup_entry *e;

		if (find(cg, missing[i].id))
			continue;
		if (!(e = add(cg, missing[i].id, NO_PATH)))
			goto out;
		if (missing[i].confirmed)
			e->confirmed = true;
		else
			missed(cg, e);
	}
	rc = 0;
out:
	free(missing);
	return rc;
}

static void empty(struct xtcp_cgroup *out)
{
	static char none[1];

	out->path = out->container_id = out->container_runtime = out->pod_uid = none;
	out->systemd_unit = none;
}

/* Keep a name in the arena: its offset, 0 for "", NO_PATH on ENOMEM. */
static size_t keep(struct xtcp_cgroups *cg, const char *name)
{
	return *name ? arena_add(cg, name, strlen(name)) : 0;
}

/* Parse an entry's path once and keep the names beside it. */
static int parse_entry(struct xtcp_cgroups *cg, struct xtcp_cgroup_entry *e)
{
	struct xtcp_cgroup_names names;
	size_t container, runtime, pod, unit;

	xtcp_cgroup_parse(cg->arena + e->path, &names);
	container = keep(cg, names.container_id);
	runtime = keep(cg, names.container_runtime);
	pod = keep(cg, names.pod_uid);
	unit = keep(cg, names.systemd_unit);
	if (container == NO_PATH || runtime == NO_PATH || pod == NO_PATH || unit == NO_PATH)
		return -1;
	e->container = container;
	e->runtime = runtime;
	e->pod = pod;
	e->unit = unit;
	e->parsed = true;
	return 0;
}

/* The parent of process @pid, or 0. */
static unsigned parent_of(unsigned pid)
{
	char path[32], buf[512], *p;
	unsigned ppid = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');          /* after the name, which may hold anything */
	if (!p || sscanf(p + 1, " %*c %u", &ppid) != 1)
		return 0;
	return ppid;
}

/* Whether @path is the file @st describes. */
static bool is_file(const char *path, const struct stat *st)
{
	struct stat at;

	return stat(path, &at) == 0 && at.st_dev == st->st_dev && at.st_ino == st->st_ino;
}

/* Whether process @pid has our mount namespace and our root: then it sees our mounts. */
static bool sees_ours(unsigned pid, const struct stat *ns, const struct stat *root)
{
	char path[40];

	snprintf(path, sizeof(path), "/proc/%u/ns/mnt", pid);
	if (!is_file(path, ns))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/root", pid);
	return is_file(path, root);
}

/*
 * Our own mounts, else (by default) those of our closest ancestor, then
 * init, that has one, through /proc/PID/root: `ip netns exec` mounts a fresh
 * /sys, hiding the cgroup mounts below it, and the shell that ran it still
 * sees them.  An ancestor in our mount namespace with our root sees what we
 * see, and its mountinfo is not read.  Then the mount is opened and kept (it
 * stays reachable when that process is gone).
 */
static int find_mount(struct xtcp_cgroups *cg)
{
	char mount[sizeof(cg->mount) - 32], mountinfo[32];
	unsigned pid = (unsigned)getppid(), steps;
	struct stat ns, root;
	bool ours_known;
	int r;

	r = xtcp_cgroup_find_mount(cg->mountinfo, cg->mount, cg->root, sizeof(cg->mount));
	ours_known = r == 0 && cg->init_fallback && stat("/proc/self/ns/mnt", &ns) == 0 &&
		     stat("/", &root) == 0;
	for (steps = 0; r == 0 && cg->init_fallback && steps < 64; steps++) {
		if (pid <= 1 || steps == 63)
			pid = 1;
		snprintf(mountinfo, sizeof(mountinfo), "/proc/%u/mountinfo", pid);
		if (!(ours_known && sees_ours(pid, &ns, &root)) &&
		    xtcp_cgroup_find_mount(mountinfo, mount, cg->root, sizeof(mount)) == 1) {
			snprintf(cg->mount, sizeof(cg->mount), "/proc/%u/root%s", pid, mount);
			if (access(cg->mount, R_OK | X_OK) == 0)
				r = 1;
		}
		if (pid == 1)
			break;
		pid = parent_of(pid);
	}
	if (r != 1) {
		if (r == 0)
			cg->mount[0] = 0;
		return r;
	}
	cg->mount_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->mount_fd < 0)
		return -1;
	return 1;
}

int xtcp_cgroups_resolve(struct xtcp_cgroups *cg, uint64_t id, struct xtcp_cgroup *out)
{
	struct xtcp_cgroup_entry *e;
	bool walked = false;
	int r;

	empty(out);
	cg->lookups++;
	if (cg->state == XTCP_CGROUPS_UNKNOWN) {
		r = find_mount(cg);
		if (r < 0) {
			cg->state = XTCP_CGROUPS_FAILED;
			cg->error = errno;
			return 0;
		}
		if (r == 0) {
			cg->state = XTCP_CGROUPS_NO_MOUNT;
			return 0;
		}
		cg->state = XTCP_CGROUPS_READY;
		if (walk(cg) < 0)
			return cg->state == XTCP_CGROUPS_READY ? -1 : 0;
		walked = true;
	}
	if (cg->state != XTCP_CGROUPS_READY)
		return 0;

	e = find(cg, id);
	if (!e || (e->path == NO_PATH && !e->confirmed)) {
		/* Unknown: walk again, once a poll. */
		if (!walked && cg->walk_poll != cg->poll) {
			if (walk(cg) < 0)
				return cg->state == XTCP_CGROUPS_READY ? -1 : 0;
			walked = true;
			e = find(cg, id);
		}
		/* Not walked now: the poll's walk may have run just before the cgroup was made. */
		if (!e && !(e = add(cg, id, NO_PATH)))
			return -1;
		if (e->path == NO_PATH && !e->confirmed && walked)
			missed(cg, e);
	}
	if (e->path == NO_PATH)
		return 0;
	if (!e->parsed && parse_entry(cg, e) < 0)
		return -1;
	out->path = cg->arena + e->path;
	out->container_id = cg->arena + e->container;
	out->container_runtime = cg->arena + e->runtime;
	out->pod_uid = cg->arena + e->pod;
	out->systemd_unit = cg->arena + e->unit;
	return 1;
}
