#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "alloc.h"

/*
 * Fixed nsfs inodes of init namespaces (include/linux/proc_ns.h): the user
 * namespace's since Linux 3.8, the network namespace's since Linux 6.18
 * (before, it was numbered like any other).  Dynamic inodes start at
 * 0xF0000000, so no other namespace ever has these.
 */
#define INIT_USER_NS_INODE 0xEFFFFFFDu
#define INIT_NET_NS_INODE 0xEFFFFFF9u

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

#define PERM_HINTS(cap, examples) {                                                    \
	"(needs " #cap ")",                                                              \
	"(" #cap " counts only inside this process's user namespace)",                   \
	"(despite " #cap ": a security module's policy, such as " examples ")",          \
}

const char *xtcp_netns_perm_hint(int cap)
{
	static const char *const admin[] = PERM_HINTS(CAP_SYS_ADMIN, "AppArmor or SELinux");
	static const char *const ptrace[] = PERM_HINTS(CAP_SYS_PTRACE,
						       "Landlock, AppArmor or SELinux");
	static const char *const net_admin[] = PERM_HINTS(CAP_NET_ADMIN, "AppArmor or SELinux");
	const char *const *hints = cap == CAP_SYS_PTRACE ? ptrace :
				   cap == CAP_NET_ADMIN ? net_admin : admin;
	struct stat st;

	if (!xtcp_has_capability(cap))
		return hints[0];
	/* capabilities of a user namespace do not reach what its ancestors own */
	if (stat("/proc/self/ns/user", &st) == 0 && st.st_ino != INIT_USER_NS_INODE)
		return hints[1];
	/* in the init user namespace, only a security module refuses a held capability */
	return hints[2];
}

/* Count one miss; describe it when it is the first. */
__attribute__((format(printf, 3, 4)))
static void miss(struct xtcp_netns_miss *m, int err, const char *fmt, ...)
{
	va_list ap;

	if (m->n++)
		return;
	m->err = err;
	va_start(ap, fmt);
	vsnprintf(m->what, sizeof(m->what), fmt, ap);
	va_end(ap);
}

static void miss_process(struct xtcp_netns_miss *m, const char *pid, int err)
{
	char path[64], comm[32] = "";
	FILE *fp;

	if (m->n) {
		m->n++;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%.20s/comm", pid);
	fp = fopen(path, "re");
	if (fp) {
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
	}
	miss(m, err, "process %.20s (%s)", pid, comm[0] ? comm : "?");
}

/*
 * Call @visit with the path, name and stat of every namespace file under
 * the mount directories, until it returns true (then so does this).  What
 * cannot be read, other than an entry deleted since readdir, is counted in
 * @unreadable unless it is NULL.
 */
static bool each_mount(const struct xtcp_netns_set *set, struct xtcp_netns_miss *unreadable,
		       bool (*visit)(void *ctx, const char *path, const char *name,
				     const struct stat *st),
		       void *ctx)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(mount_dirs) / sizeof(mount_dirs[0]); i++) {
		DIR *dir = opendir(mount_dirs[i]);

		if (!dir) {
			if (errno != ENOENT && unreadable)
				miss(unreadable, errno, "'%s'", mount_dirs[i]);
			continue;
		}
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", mount_dirs[i], de->d_name);
			if (stat(path, &st) < 0) {
				if (errno != ENOENT && unreadable)
					miss(unreadable, errno, "'%s'", path);
				continue;
			}
			/* a file left behind by a failed `ip netns add` is no namespace */
			if (st.st_dev != set->nsfs_dev)
				continue;
			if (visit(ctx, path, de->d_name, &st)) {
				closedir(dir);
				return true;
			}
		}
		closedir(dir);
	}
	return false;
}

struct name_query {
	uint64_t inode;
	char *name;
	size_t size;
};

static bool name_if_match(void *ctx, const char *path, const char *name, const struct stat *st)
{
	struct name_query *q = ctx;

	(void)path;
	if (st->st_ino != q->inode)
		return false;
	snprintf(q->name, q->size, "%s", name);
	return true;
}

/* The bind-mount name of @inode, if it has one. */
static bool mount_name(const struct xtcp_netns_set *set, uint64_t inode, char *name, size_t size)
{
	struct name_query q = { .inode = inode, .name = name, .size = size };

	return each_mount(set, NULL, name_if_match, &q);
}

static bool kernel_at_least(unsigned major, unsigned minor)
{
	struct utsname u;
	unsigned a, b;

	return uname(&u) == 0 && sscanf(u.release, "%u.%u", &a, &b) == 2 &&
	       (a > major || (a == major && b >= minor));
}

/* What the records call the namespace of @inode; @name is its bind-mount name when known. */
static void name_of(const struct xtcp_netns_set *set, uint64_t inode, const char *name, char *out,
		    size_t size)
{
	if (inode == INIT_NET_NS_INODE || inode == set->init_inode)
		snprintf(out, size, "default");
	else if (inode == set->self_inode && set->self_name[0])
		snprintf(out, size, "%s", set->self_name);
	else if (name)
		snprintf(out, size, "%s", name);
	else if (!mount_name(set, inode, out, size))
		snprintf(out, size, "netns:[%" PRIu64 "]", inode);
}

int xtcp_netns_set_init(struct xtcp_netns_set *set, bool all, const char *const *wanted,
			size_t n_wanted)
{
	struct stat st;
	size_t i, j;

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
	set->nsfs_dev = st.st_dev;
	set->buf_size = XTCP_DIAG_BUF_SIZE;
	set->buf = malloc(set->buf_size);
	set->want = calloc(n_wanted ? n_wanted : 1, sizeof(*set->want));
	if (!set->buf || !set->want)
		goto err_free;
	/* the same argument twice is one namespace, reported once */
	for (i = 0; i < n_wanted; i++)
		for (j = 0; j < i && !set->want[i].gone; j++)
			set->want[i].gone = !strcmp(wanted[i], wanted[j]);

	/* The init namespace: PID 1's, or the fixed inode when /proc/1 is not ours to read. */
	if (stat("/proc/1/ns/net", &st) == 0 && st.st_dev == set->nsfs_dev)
		set->init_inode = st.st_ino;
	else if (set->self_inode == INIT_NET_NS_INODE || kernel_at_least(6, 18))
		set->init_inode = INIT_NET_NS_INODE;
	if (set->init_inode)
		name_of(set, set->self_inode, NULL, set->self_name, sizeof(set->self_name));
	else if (!mount_name(set, set->self_inode, set->self_name, sizeof(set->self_name)))
		snprintf(set->self_name, sizeof(set->self_name), "default");
	return 0;

err_free:
	free(set->buf);
	free(set->want);
err_close:
	close(set->self_fd);
	set->self_fd = -1;
	return -1;
}

unsigned xtcp_netns_fds_each(const struct xtcp_netns_set *set)
{
	return 1 + (set->events ? 1 : 0) + (set->sockstat ? 2 : 0);
}

/* What @ns holds open: its socket, and what else opened. */
static unsigned fds_of(const struct xtcp_netns *ns)
{
	return 1 + (ns->events.fd >= 0) + (ns->stat.sockstat_fd >= 0) +
	       (ns->stat.protocols_fd >= 0);
}

/* The process's descriptors but those the set holds. */
static void count_other_fds(struct xtcp_netns_set *set)
{
	unsigned long n = 0;
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return;         /* keep the last count */
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	n--;                    /* the directory's own */
	set->fds_other = n > set->fds_held ? n - set->fds_held : 0;
}

/* Whether one more namespace fits under the descriptor limit. */
static bool fd_room(const struct xtcp_netns_set *set)
{
	return !set->fd_limit || set->fds_other + set->fds_held + xtcp_netns_fds_each(set) +
					 XTCP_NETNS_FD_RESERVE <= set->fd_limit;
}

static void netns_close(struct xtcp_netns_set *set, struct xtcp_netns *ns)
{
	set->fds_held -= fds_of(ns);
	xtcp_diag_close(&ns->diag);
	xtcp_events_close(&ns->events);
	xtcp_sockstat_close(&ns->stat);
}

/*
 * In the namespace: its sock_diag socket, its events socket and its
 * sockstat files when asked for.
 */
static int open_sockets(struct xtcp_netns_set *set, struct xtcp_netns *ns)
{
	ns->events.fd = -1;
	ns->stat.sockstat_fd = ns->stat.protocols_fd = -1;
	if (xtcp_diag_open(&ns->diag) < 0)
		return -1;
	if (set->events && xtcp_events_open(&ns->events, set->events, set->events_rcvbuf) < 0)
		ns->events_err = errno;
	/* without them it is dumped every poll: nothing lost but the saving */
	if (set->sockstat)
		xtcp_sockstat_open(&ns->stat);
	return 0;
}

void xtcp_netns_set_release(struct xtcp_netns_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		netns_close(set, &set->ns[i]);
	free(set->ns);
	free(set->buf);
	free(set->want);
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

/* Open a sock_diag socket inside the namespace at @path (already stat'ed to @inode). */
static int netns_open(struct xtcp_netns_set *set, struct xtcp_netns *ns)
{
	int fd, e;

	if (ns->self) {
		if (open_sockets(set, ns) < 0)
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
	e = open_sockets(set, ns) < 0 ? errno : 0;
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
 * @name is its name when the finder knows it (a bind mount), else NULL;
 * @named: an -n argument led to it.  Returns it, or NULL when it could not
 * be entered (reported as FAILED).
 */
static struct xtcp_netns *found(struct xtcp_netns_set *set, const char *path, const char *name,
				uint64_t inode, bool named, xtcp_netns_event_cb cb, void *arg)
{
	struct xtcp_netns *ns = find_inode(set, inode);

	if (ns) {
		ns->seen = true;
		ns->named |= named;
		/*
		 * First found through a process (`ip netns add` between its
		 * unshare and its bind mount, or a process later mounted by
		 * name): it takes the name as soon as it has one.
		 */
		if (name && !strncmp(ns->name, "netns:[", 7)) {
			name_of(set, inode, name, ns->name, sizeof(ns->name));
			set->renamed = true;
		}
		return ns;
	}
	if (XTCP_ALLOC_GROW(set->ns, set->n + 1, set->cap) < 0) {
		cb(arg, XTCP_NETNS_FAILED, NULL, ENOMEM);
		return NULL;
	}
	ns = &set->ns[set->n];
	memset(ns, 0, sizeof(*ns));
	ns->events.fd = -1;
	ns->stat.sockstat_fd = ns->stat.protocols_fd = -1;
	ns->inode = inode;
	ns->seen = true;
	ns->self = inode == set->self_inode;
	ns->named = named;
	snprintf(ns->path, sizeof(ns->path), "%s", path);
	name_of(set, inode, name, ns->name, sizeof(ns->name));
	/* the caller's own namespace and those named are always tried */
	if (!ns->self && !named && !fd_room(set)) {
		miss(&set->over_limit, EMFILE, "'%s'", ns->name);
		return NULL;
	}
	if (netns_open(set, ns) < 0) {
		int e = errno;

		if (!named && (e == EMFILE || e == ENFILE)) {
			count_other_fds(set);
			miss(&set->over_limit, e, "'%s'", ns->name);
			return NULL;
		}
		if (!named && (e == EPERM || e == EACCES))
			miss(&set->denied_enter, e, "'%s'", ns->name);
		cb(arg, XTCP_NETNS_FAILED, ns, e);
		return NULL;
	}
	set->n++;
	set->fds_held += fds_of(ns);
	cb(arg, XTCP_NETNS_ADDED, ns, 0);
	return ns;
}

static void found_self(struct xtcp_netns_set *set, bool named, xtcp_netns_event_cb cb, void *arg)
{
	found(set, "/proc/self/ns/net", NULL, set->self_inode, named, cb, arg);
}

struct discovery {
	struct xtcp_netns_set *set;
	xtcp_netns_event_cb cb;
	void *arg;
};

static bool found_mount(void *ctx, const char *path, const char *name, const struct stat *st)
{
	struct discovery *dc = ctx;

	found(dc->set, path, name, st->st_ino, false, dc->cb, dc->arg);
	return false;
}

static void discover_mounts(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg)
{
	struct discovery dc = { .set = set, .cb = cb, .arg = arg };

	each_mount(set, &set->unreadable, found_mount, &dc);
}

/* Whether the process @pid (a /proc entry's name) has been reaped. */
static bool gone(const char *pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%.20s", pid);
	return stat(path, &st) < 0 && errno == ENOENT;
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
			/*
			 * ENOENT: it exited since readdir, or is a zombie (no
			 * namespaces left); ESRCH: it is being reaped.  Churn.
			 * EACCES: the kernel's ptrace access check refused, or
			 * the task was reaped after the lookup of /proc/PID
			 * (the link's own lookup finds no task and says
			 * EACCES): churn when /proc/PID is gone now.
			 */
			int e = errno;

			if (e == ENOENT || e == ESRCH || (e == EACCES && gone(de->d_name)))
				continue;
			miss_process(&set->denied_lookup, de->d_name, e);
			continue;
		}
		found(set, path, NULL, st.st_ino, false, cb, arg);
	}
	closedir(dir);
}

/*
 * Where the -n argument @want leads: the file at @path (its bind-mount
 * name in *@name when it is a word).  Returns 0, or -1 with errno (EINVAL:
 * not a network namespace file).
 */
static int resolve(const struct xtcp_netns_set *set, const char *want, char *path, size_t size,
		   struct stat *st, const char **name)
{
	size_t i;
	int e = ENOENT;
	int fd, type;

	*name = NULL;
	if (strchr(want, '/')) {
		snprintf(path, size, "%s", want);
		if (stat(path, st) < 0)
			return -1;
	} else {
		for (i = 0; i < sizeof(mount_dirs) / sizeof(mount_dirs[0]); i++) {
			snprintf(path, size, "%s/%s", mount_dirs[i], want);
			if (stat(path, st) == 0)
				break;
			if (!i)
				e = errno;
		}
		if (i == sizeof(mount_dirs) / sizeof(mount_dirs[0])) {
			snprintf(path, size, "%s/%s", mount_dirs[0], want);
			errno = e;
			return -1;
		}
		*name = want;
	}
	if (st->st_dev != set->nsfs_dev) {
		errno = EINVAL;
		return -1;
	}
	/* another kind of namespace (/proc/PID/ns/mnt)?  Before Linux 4.11 setns(2) tells */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	type = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	if (type >= 0 && type != CLONE_NEWNET) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * The -n argument @i leads nowhere (@e) or elsewhere (ESTALE): report it,
 * and give it up when it was found before.
 */
static void wanted_missing(struct xtcp_netns_set *set, size_t i, const char *path, int e,
			   xtcp_netns_event_cb cb, void *arg)
{
	struct xtcp_netns stand_in;

	memset(&stand_in, 0, sizeof(stand_in));
	snprintf(stand_in.name, sizeof(stand_in.name), "%s", set->wanted[i]);
	snprintf(stand_in.path, sizeof(stand_in.path), "%s", path);
	stand_in.inode = set->want[i].inode;
	stand_in.named = true;
	if (set->want[i].inode)
		set->want[i].gone = true;
	cb(arg, XTCP_NETNS_MISSING, &stand_in, e);
}

static void discover_wanted(struct xtcp_netns_set *set, size_t i, xtcp_netns_event_cb cb,
			    void *arg)
{
	struct xtcp_netns_want *w = &set->want[i];
	const char *want = set->wanted[i], *name;
	char path[300];
	struct stat st;

	if (w->gone)
		return;
	if (!strcmp(want, "default")) {
		found_self(set, true, cb, arg);
		return;
	}
	/* a name that still leads to its namespace needs no second look */
	if (w->inode && stat(w->path, &st) == 0 && st.st_dev == set->nsfs_dev &&
	    st.st_ino == w->inode) {
		found(set, w->path, NULL, st.st_ino, true, cb, arg);
		return;
	}
	if (resolve(set, want, path, sizeof(path), &st, &name) < 0) {
		wanted_missing(set, i, path, errno, cb, arg);
		return;
	}
	if (w->inode && st.st_ino != w->inode) {
		wanted_missing(set, i, path, ESTALE, cb, arg);
		return;
	}
	if (found(set, path, name, st.st_ino, true, cb, arg)) {
		w->inode = st.st_ino;
		snprintf(w->path, sizeof(w->path), "%s", path);
	}
}

int xtcp_netns_refresh(struct xtcp_netns_set *set, xtcp_netns_event_cb cb, void *arg)
{
	size_t i, kept, before = set->n;
	bool vanished = false;

	for (i = 0; i < set->n; i++)
		set->ns[i].seen = false;
	memset(&set->denied_enter, 0, sizeof(set->denied_enter));
	memset(&set->denied_lookup, 0, sizeof(set->denied_lookup));
	memset(&set->unreadable, 0, sizeof(set->unreadable));
	memset(&set->over_limit, 0, sizeof(set->over_limit));
	if (set->fd_limit && !set->fds_held && !set->n)
		count_other_fds(set);
	if (set->all) {
		found_self(set, false, cb, arg);
		discover_mounts(set, cb, arg);
		discover_procs(set, cb, arg);
	}
	for (i = 0; i < set->n_wanted; i++)
		discover_wanted(set, i, cb, arg);
	if (!set->all && !set->n_wanted)
		found_self(set, false, cb, arg);

	for (i = kept = 0; i < set->n; i++) {
		if (!set->ns[i].seen) {
			cb(arg, XTCP_NETNS_VANISHED, &set->ns[i], 0);
			netns_close(set, &set->ns[i]);
			vanished = true;
			continue;
		}
		if (kept != i)
			set->ns[kept] = set->ns[i];
		kept++;
	}
	set->n = kept;
	if (vanished || set->renamed || set->n != before)
		qsort(set->ns, set->n, sizeof(set->ns[0]), netns_cmp);
	set->renamed = false;
	return (int)set->n;
}

static size_t append(char *buf, size_t size, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t size, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len >= size)
		return len;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	return n < 0 ? len : len + (size_t)n;
}

/* One kind of miss: "; cannot VERB N NOUNs (needs CAP_X)", or the first named with its cause. */
static size_t append_miss(char *buf, size_t size, size_t len, const struct xtcp_netns_miss *m,
			  const char *verb, const char *noun, const char *nouns, int cap)
{
	bool perm = cap && (m->err == EPERM || m->err == EACCES);
	const char *hint = perm ? xtcp_netns_perm_hint(cap) : "";

	if (!m->n)
		return len;
	if (perm && xtcp_has_capability(cap) == false)
		return append(buf, size, len, "; cannot %s %u %s %s", verb, m->n,
			      m->n == 1 ? noun : nouns, hint);
	if (m->n == 1)
		return append(buf, size, len, "; cannot %s %s: %s%s%s", verb, m->what,
			      strerror(m->err), *hint ? " " : "", hint);
	return append(buf, size, len, "; cannot %s %u %s, first %s: %s%s%s", verb, m->n, nouns,
		      m->what, strerror(m->err), *hint ? " " : "", hint);
}

const char *xtcp_netns_unseen(const struct xtcp_netns_set *set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	len = append_miss(buf, size, len, &set->denied_enter, "enter", "more", "more",
			  CAP_SYS_ADMIN);
	len = append_miss(buf, size, len, &set->unreadable, "read", "namespace directory or file",
			  "namespace directories or files", 0);
	append_miss(buf, size, len, &set->denied_lookup, "look up the namespace of",
		    "process", "processes", CAP_SYS_PTRACE);
	return buf;
}
