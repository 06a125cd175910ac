#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"

static const char *const mount_dirs[] = { "/run/netns", "/run/docker/netns" };

bool xtcp_has_capability(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int xtcp_netns_set_init(struct xtcp_netns_set *set, bool all, const char *const *wanted,
			size_t n_wanted)
{
	struct stat st;

	memset(set, 0, sizeof(*set));
	set->all = all;
	set->wanted = wanted;
	set->n_wanted = n_wanted;
	set->save_fd = -1;
	set->self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (set->self_fd < 0)
		return -1;
	if (fstat(set->self_fd, &st) < 0)
		goto err_close;
	set->self_inode = st.st_ino;
	set->buf_size = XTCP_DIAG_BUF_SIZE;
	set->buf = malloc(set->buf_size);
	if (!set->buf)
		goto err_close;
	return 0;

err_close:
	close(set->self_fd);
	set->self_fd = -1;
	return -1;
}

static void netns_close(struct xtcp_netns *ns)
{
	xtcp_diag_close(&ns->diag);
}

void xtcp_netns_set_release(struct xtcp_netns_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		netns_close(&set->ns[i]);
	free(set->ns);
	free(set->buf);
	if (set->self_fd >= 0)
		close(set->self_fd);
	memset(set, 0, sizeof(*set));
	set->self_fd = -1;
}

static struct xtcp_netns *find_inode(struct xtcp_netns_set *set, uint64_t inode)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->ns[i].inode == inode)
			return &set->ns[i];
	return NULL;
}

/* The bind-mount name of @inode, if it has one. */
static bool mount_name(uint64_t inode, char *name, size_t size)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(mount_dirs) / sizeof(mount_dirs[0]); i++) {
		DIR *dir = opendir(mount_dirs[i]);

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", mount_dirs[i], de->d_name);
			if (stat(path, &st) == 0 && st.st_ino == inode) {
				snprintf(name, size, "%s", de->d_name);
				closedir(dir);
				return true;
			}
		}
		closedir(dir);
	}
	return false;
}

/* Open a sock_diag socket inside the namespace at @path (already stat'ed to @inode). */
static int netns_open(struct xtcp_netns_set *set, struct xtcp_netns *ns)
{
	int fd, e;

	if (ns->inode == set->self_inode) {
		if (xtcp_diag_open(&ns->diag) < 0)
			return -1;
		goto opened;
	}
	fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	e = xtcp_diag_open(&ns->diag) < 0 ? errno : 0;
	if (setns(set->self_fd, CLONE_NEWNET) < 0) {
		/* Stuck in another namespace: nothing later can be trusted. */
		abort();
	}
	if (e) {
		errno = e;
		return -1;
	}
opened:
	xtcp_diag_use_buffer(&ns->diag, set->buf, set->buf_size);
	ns->diag.save_fd = set->save_fd;
	return 0;
}

static int netns_rank(const struct xtcp_netns *ns)
{
	if (!strcmp(ns->name, "default"))
		return 0;
	return strncmp(ns->name, "netns:[", 7) ? 1 : 2;
}

static int netns_cmp(const void *a, const void *b)
{
	const struct xtcp_netns *x = a, *y = b;
	int rx = netns_rank(x), ry = netns_rank(y);

	if (rx != ry)
		return rx - ry;
	if (rx == 2)
		return x->inode < y->inode ? -1 : x->inode > y->inode;
	return strcmp(x->name, y->name);
}

/*
 * One namespace found at @path: keep it (already open), or open it.
 * @name is its name when the finder knows it (a bind mount), else NULL.
 */
static void found(struct xtcp_netns_set *set, const char *path, const char *name, uint64_t inode,
		  xtcp_netns_event_cb cb, void *arg)
{
	struct xtcp_netns *ns = find_inode(set, inode);

	if (ns) {
		ns->seen = true;
		return;
	}
	if (XTCP_ALLOC_GROW(set->ns, set->n + 1, set->cap) < 0) {
		cb(arg, XTCP_NETNS_FAILED, NULL, ENOMEM);
		return;
	}
	ns = &set->ns[set->n];
	memset(ns, 0, sizeof(*ns));
	ns->inode = inode;
	ns->seen = true;
	snprintf(ns->path, sizeof(ns->path), "%s", path);
	if (inode == set->self_inode)
		snprintf(ns->name, sizeof(ns->name), "default");
	else if (name)
		snprintf(ns->name, sizeof(ns->name), "%s", name);
	else if (!mount_name(inode, ns->name, sizeof(ns->name)))
		snprintf(ns->name, sizeof(ns->name), "netns:[%" PRIu64 "]", inode);
	if (netns_open(set, ns) < 0) {
		int e = errno;

		if (e == EPERM || e == EACCES)
			set->denied_enter++;
		cb(arg, XTCP_NETNS_FAILED, ns, e);
		return;
	}
	set->n++;
	cb(arg, XTCP_NETNS_ADDED, ns, 0);
}

static void discover_mounts(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(mount_dirs) / sizeof(mount_dirs[0]); i++) {
		DIR *dir = opendir(mount_dirs[i]);

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", mount_dirs[i], de->d_name);
			if (stat(path, &st) < 0) {
				if (errno == EACCES || errno == EPERM)
					set->denied_lookup++;
				continue;       /* deleted since readdir, or not ours to see */
			}
			found(set, path, de->d_name, st.st_ino, cb, arg);
		}
		closedir(dir);
	}
}

static void discover_procs(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	DIR *dir = opendir("/proc");

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", de->d_name);
		if (stat(path, &st) < 0) {
			if (errno == EACCES || errno == EPERM)
				set->denied_lookup++;
			continue;
		}
		found(set, path, NULL, st.st_ino, cb, arg);
	}
	closedir(dir);
}

/* Resolve one -n argument to a path; NULL name means "derive it". */
static void discover_wanted(struct xtcp_netns_set *set, const char *want, xtcp_netns_event_cb cb,
			    void *arg)
{
	char path[300];
	struct stat st;
	struct xtcp_netns missing;
	size_t i;

	if (!strcmp(want, "default")) {
		found(set, "/proc/self/ns/net", "default", set->self_inode, cb, arg);
		return;
	}
	if (strchr(want, '/')) {
		if (stat(want, &st) == 0) {
			found(set, want, NULL, st.st_ino, cb, arg);
			return;
		}
	} else {
		for (i = 0; i < sizeof(mount_dirs) / sizeof(mount_dirs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", mount_dirs[i], want);
			if (stat(path, &st) == 0) {
				found(set, path, want, st.st_ino, cb, arg);
				return;
			}
		}
	}
	memset(&missing, 0, sizeof(missing));
	snprintf(missing.name, sizeof(missing.name), "%s", want);
	if (strchr(want, '/'))
		snprintf(missing.path, sizeof(missing.path), "%s", want);
	else
		snprintf(missing.path, sizeof(missing.path), "/run/netns/%s", want);
	cb(arg, XTCP_NETNS_MISSING, &missing, errno);
}

int xtcp_netns_refresh(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg)
{
	size_t i, kept, before = set->n;
	bool vanished = false;

	for (i = 0; i < set->n; i++)
		set->ns[i].seen = false;
	set->denied_enter = set->denied_lookup = 0;
	if (set->all) {
		found(set, "/proc/self/ns/net", "default", set->self_inode, cb, arg);
		discover_mounts(set, cb, arg);
		discover_procs(set, cb, arg);
	}
	for (i = 0; i < set->n_wanted; i++)
		discover_wanted(set, set->wanted[i], cb, arg);
	if (!set->all && !set->n_wanted)
		found(set, "/proc/self/ns/net", "default", set->self_inode, cb, arg);

	for (i = kept = 0; i < set->n; i++) {
		if (!set->ns[i].seen) {
			cb(arg, XTCP_NETNS_VANISHED, &set->ns[i], 0);
			netns_close(&set->ns[i]);
			vanished = true;
			continue;
		}
		if (kept != i)
			set->ns[kept] = set->ns[i];
		kept++;
	}
	set->n = kept;
	if (vanished || set->n != before)
		qsort(set->ns, set->n, sizeof(set->ns[0]), netns_cmp);
	return (int)set->n;
}
