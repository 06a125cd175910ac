#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"

#define DENTS_SIZE 32768

struct xtcp_proc {
	uint32_t pid;
	bool denied;            /* its descriptors may not be read */
	uint64_t fd_ino;        /* inode of /proc/PID/fd: another for another process */
	int64_t nfds;           /* its size when the descriptors were read; -1: never */
	char comm[16];
	uint32_t *socks;        /* socket inodes it holds, sorted, unique */
	size_t n_socks, cap;
};

/* (socket inode, pid) in the map; (inode, poll) in the unheld set.  Inode 0 is empty. */
struct xtcp_proc_slot {
	uint32_t inode;
	uint32_t value;
};

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int xtcp_procs_init(struct xtcp_procs *p, const char *proc)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->proc_fd = open(proc ? proc : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->proc_fd < 0)
		return -1;
	p->dents = malloc(DENTS_SIZE);
	if (!p->dents) {
		close(p->proc_fd);
		p->proc_fd = -1;
		return -1;
	}
	/* We hold descriptors, so a kernel that counts them reports a size. */
	p->counts = fstatat(p->proc_fd, "self/fd", &st, 0) == 0 && st.st_size > 0;
	return 0;
}

void xtcp_procs_release(struct xtcp_procs *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->procs[i].socks);
	free(p->procs);
	free(p->next);
	free(p->slots);
	free(p->unheld);
	free(p->pids);
	free(p->found);
	free(p->dents);
	if (p->proc_fd >= 0)
		close(p->proc_fd);
	memset(p, 0, sizeof(*p));
	p->proc_fd = -1;
}

void xtcp_procs_begin_poll(struct xtcp_procs *p)
{
	p->poll++;
}

/* --- the socket map ------------------------------------------------------------ */

static size_t home(uint32_t inode, size_t n_slots)
{
	return (size_t)(((uint64_t)inode * 0x9e3779b97f4a7c15ull) >> 40) & (n_slots - 1);
}

static void place(struct xtcp_proc_slot *slots, size_t n_slots, struct xtcp_proc_slot s)
{
	size_t i;

	for (i = home(s.inode, n_slots); slots[i].inode; i = (i + 1) & (n_slots - 1))
		;
	slots[i] = s;
}

static int resize(struct xtcp_proc_slot **slots, size_t *n_slots, size_t want,
		  bool (*keep)(const struct xtcp_proc_slot *, uint64_t), uint64_t arg)
{
	struct xtcp_proc_slot *fresh = calloc(want, sizeof(*fresh));
	size_t i;

	if (!fresh)
		return -1;
	for (i = 0; i < *n_slots; i++)
		if ((*slots)[i].inode && (!keep || keep(&(*slots)[i], arg)))
			place(fresh, want, (*slots)[i]);
	free(*slots);
	*slots = fresh;
	*n_slots = want;
	return 0;
}

static int sock_add(struct xtcp_procs *p, uint32_t inode, uint32_t pid)
{
	if ((p->used + 1) * 2 > p->n_slots &&
	    resize(&p->slots, &p->n_slots, p->n_slots ? p->n_slots * 2 : 1024, NULL, 0) < 0)
		return -1;
	place(p->slots, p->n_slots, (struct xtcp_proc_slot){ inode, pid });
	p->used++;
	return 0;
}

/* Remove the pair: linear probing's backward-shift deletion, no tombstones. */
static void sock_del(struct xtcp_procs *p, uint32_t inode, uint32_t pid)
{
	size_t mask = p->n_slots - 1, i, j, k;

	for (i = home(inode, p->n_slots); p->slots[i].inode; i = (i + 1) & mask)
		if (p->slots[i].inode == inode && p->slots[i].value == pid)
			break;
	if (!p->slots[i].inode)
		return;
	for (j = i;;) {
		j = (j + 1) & mask;
		if (!p->slots[j].inode)
			break;
		k = home(p->slots[j].inode, p->n_slots);
		/* the entry at j may stay when its home is cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		p->slots[i] = p->slots[j];
		i = j;
	}
	p->slots[i].inode = 0;
	p->used--;
}

/* --- reading a process ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void drop(struct xtcp_procs *p, struct xtcp_proc *proc)
{
	size_t i;

	for (i = 0; i < proc->n_socks; i++)
		sock_del(p, proc->socks[i], proc->pid);
	free(proc->socks);
	proc->socks = NULL;
	proc->n_socks = proc->cap = 0;
}

/* Make @proc hold exactly p->found[0..n) (sorted, unique), updating the map. */
static int set_socks(struct xtcp_procs *p, struct xtcp_proc *proc, size_t n)
{
	size_t a = 0, b = 0;

	while (a < proc->n_socks || b < n) {
		if (b == n || (a < proc->n_socks && proc->socks[a] < p->found[b])) {
			sock_del(p, proc->socks[a++], proc->pid);
		} else if (a == proc->n_socks || p->found[b] < proc->socks[a]) {
			if (sock_add(p, p->found[b++], proc->pid) < 0)
				return -1;
		} else {
			a++;
			b++;
		}
	}
	if (XTCP_ALLOC_GROW(proc->socks, n, proc->cap) < 0)
		return -1;
	if (n)
		memcpy(proc->socks, p->found, n * sizeof(*p->found));
	proc->n_socks = n;
	return 0;
}

/* "socket:[12345]" -> 12345; 0 for any other link. */
static uint32_t socket_inode(const char *link, ssize_t len)
{
	uint64_t v = 0;
	ssize_t i;

	if (len < 10 || memcmp(link, "socket:[", 8) || link[len - 1] != ']')
		return 0;
	for (i = 8; i < len - 1; i++) {
		if (link[i] < '0' || link[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(link[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

/* Read the name of @proc.  Returns 0, or 1 when the process is gone. */
static int read_comm(struct xtcp_procs *p, struct xtcp_proc *proc)
{
	char path[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%u/comm", proc->pid);
	fd = openat(p->proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, proc->comm, sizeof(proc->comm) - 1);
	if (n < 0 && errno == ESRCH) {
		close(fd);
		return 1;
	}
	close(fd);
	if (n <= 0)
		return 0;
	if (proc->comm[n - 1] == '\n')
		n--;
	proc->comm[n] = 0;
	return 0;
}

/*
 * Read the descriptors of @proc, whose /proc/PID/fd is @st.  Returns 0, 1
 * when the process is gone, -1 with errno ENOMEM.
 */
static int read_fds(struct xtcp_procs *p, struct xtcp_proc *proc, const struct stat *st)
{
	char path[32], link[64];
	size_t n = 0;
	long got;
	int fd;

	snprintf(path, sizeof(path), "%u/fd", proc->pid);
	fd = openat(p->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return 1;
		proc->denied = true;
		goto done;
	}
	p->stats.fd_dirs_read++;
	while ((got = syscall(SYS_getdents64, fd, p->dents, DENTS_SIZE)) > 0) {
		long off;

		for (off = 0; off < got;) {
			const struct linux_dirent64 *de = (const void *)(p->dents + off);
			ssize_t len;
			uint32_t inode;

			off += de->d_reclen;
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			len = readlinkat(fd, de->d_name, link, sizeof(link));
			p->stats.links_read++;
			if (len <= 0 || !(inode = socket_inode(link, len)))
				continue;
			if (XTCP_ALLOC_GROW(p->found, n + 1, p->found_cap) < 0) {
				close(fd);
				return -1;
			}
			p->found[n++] = inode;
		}
	}
	if (got < 0) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ESRCH)
			return 1;       /* it exited while we read */
		proc->denied = true;
		n = 0;
		goto done;
	}
	close(fd);
	proc->denied = false;
	if (n > 1) {
		size_t i, u = 1;

		qsort(p->found, n, sizeof(*p->found), cmp_u32);
		for (i = 1; i < n; i++)
			if (p->found[i] != p->found[u - 1])
				p->found[u++] = p->found[i];
		n = u;
	}
	/* gone between its descriptors and its name: left out, as when gone before */
	if (read_comm(p, proc))
		return 1;
done:
	proc->fd_ino = st->st_ino;
	proc->nfds = st->st_size;
	return set_socks(p, proc, proc->denied ? 0 : n);
}

/* Read @proc again when it changed (or always, @full).  Returns as read_fds. */
static int check(struct xtcp_procs *p, struct xtcp_proc *proc, bool full)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "%u/fd", proc->pid);
	p->stats.stats++;
	if (fstatat(p->proc_fd, path, &st, 0) < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return 1;
		memset(&st, 0, sizeof(st));
		st.st_size = -1;
		return read_fds(p, proc, &st);
	}
	if (!full && proc->nfds >= 0 && p->counts && st.st_ino == proc->fd_ino &&
	    st.st_size == proc->nfds)
		return 0;
	if (st.st_ino != proc->fd_ino)
		proc->comm[0] = 0;      /* another process with this pid */
	return read_fds(p, proc, &st);
}

/* The pids in /proc, sorted, into p->pids. */
static int list_pids(struct xtcp_procs *p)
{
	long got;
	bool sorted = true;

	p->n_pids = 0;
	if (lseek(p->proc_fd, 0, SEEK_SET) < 0)
		return -1;
	while ((got = syscall(SYS_getdents64, p->proc_fd, p->dents, DENTS_SIZE)) > 0) {
		long off;

		for (off = 0; off < got;) {
			const struct linux_dirent64 *de = (const void *)(p->dents + off);
			const char *c;
			uint64_t pid = 0;

			off += de->d_reclen;
			for (c = de->d_name; *c >= '0' && *c <= '9' && pid <= UINT32_MAX; c++)
				pid = pid * 10 + (uint64_t)(*c - '0');
			if (*c || c == de->d_name || !pid || pid > UINT32_MAX)
				continue;
			if (XTCP_ALLOC_GROW(p->pids, p->n_pids + 1, p->pids_cap) < 0)
				return -1;
			if (p->n_pids && p->pids[p->n_pids - 1] >= pid)
				sorted = false;
			p->pids[p->n_pids++] = (uint32_t)pid;
		}
	}
	if (got < 0)
		return -1;
	if (!sorted)
		qsort(p->pids, p->n_pids, sizeof(*p->pids), cmp_u32);
	return 0;
}

/*
 * Bring the map up to date: every process listed now, read again when it
 * changed (@full: always).  Returns 0, or -1 with errno (ENOMEM; or /proc
 * could not be listed, which also sets p->error).
 */
static int refresh(struct xtcp_procs *p, bool full)
{
	size_t i, o = 0, k = 0;
	int failed = 0, r;

	if (list_pids(p) < 0) {
		if (errno != ENOMEM)
			p->error = errno;
		return -1;
	}
	if (XTCP_ALLOC_GROW(p->next, p->n_pids, p->next_cap) < 0)
		return -1;
	p->stats.refreshes++;
	if (full)
		p->stats.full_scans++;
	p->denied = 0;
	for (i = 0; i < p->n_pids; i++) {
		struct xtcp_proc cur;

		while (o < p->n && p->procs[o].pid < p->pids[i])
			drop(p, &p->procs[o++]);
		if (o < p->n && p->procs[o].pid == p->pids[i]) {
			cur = p->procs[o++];
		} else {
			memset(&cur, 0, sizeof(cur));
			cur.pid = p->pids[i];
			cur.nfds = -1;
		}
		/* after a failure the rest is kept as it was, to be released whole */
		r = failed ? 0 : check(p, &cur, full);
		if (r < 0)
			failed = 1;
		if (r == 1) {
			drop(p, &cur);
			continue;
		}
		if (cur.denied)
			p->denied++;
		p->next[k++] = cur;
	}
	while (o < p->n)
		drop(p, &p->procs[o++]);
	{
		struct xtcp_proc *t = p->procs;
		size_t tc = p->cap;

		p->procs = p->next;
		p->cap = p->next_cap;
		p->n = k;
		p->next = t;
		p->next_cap = tc;
	}
	if (failed) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* --- sockets no process holds -------------------------------------------------- */

static bool recent(const struct xtcp_proc_slot *s, uint64_t poll)
{
	return s->value + 1u >= (uint32_t)poll;
}

static struct xtcp_proc_slot *unheld_find(struct xtcp_procs *p, uint32_t inode)
{
	size_t i;

	if (!p->n_unheld_slots)
		return NULL;
	for (i = home(inode, p->n_unheld_slots); p->unheld[i].inode;
	     i = (i + 1) & (p->n_unheld_slots - 1))
		if (p->unheld[i].inode == inode)
			return &p->unheld[i];
	return NULL;
}

/* Remember @inode; entries not looked up this poll or the last are dropped as it grows. */
static int unheld_add(struct xtcp_procs *p, uint32_t inode)
{
	if ((p->unheld_used + 1) * 2 > p->n_unheld_slots) {
		size_t kept = 0, want = 256, i;

		for (i = 0; i < p->n_unheld_slots; i++)
			if (p->unheld[i].inode && recent(&p->unheld[i], p->poll))
				kept++;
		while (want < (kept + 1) * 4)
			want *= 2;
		if (resize(&p->unheld, &p->n_unheld_slots, want, recent, p->poll) < 0)
			return -1;
		p->unheld_used = kept;
	}
	place(p->unheld, p->n_unheld_slots, (struct xtcp_proc_slot){ inode, (uint32_t)p->poll });
	p->unheld_used++;
	return 0;
}

/* --- lookup ----------------------------------------------------------------------- */

static struct xtcp_proc *proc_of(struct xtcp_procs *p, uint32_t pid)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->procs[mid].pid < pid)
			lo = mid + 1;
		else if (p->procs[mid].pid > pid)
			hi = mid;
		else
			return &p->procs[mid];
	}
	return NULL;
}

static char no_comm[1];

static int find_owner(struct xtcp_procs *p, uint32_t inode, struct xtcp_proc_owner *owner)
{
	struct xtcp_proc *proc;
	size_t i;

	if (!p->n_slots)
		return 0;
	for (i = home(inode, p->n_slots); p->slots[i].inode; i = (i + 1) & (p->n_slots - 1)) {
		if (p->slots[i].inode != inode)
			continue;
		if (!owner->count++ || p->slots[i].value < owner->pid)
			owner->pid = p->slots[i].value;
	}
	if (!owner->count)
		return 0;
	proc = proc_of(p, owner->pid);
	owner->comm = proc ? proc->comm : no_comm;
	return 1;
}

int xtcp_procs_lookup(struct xtcp_procs *p, uint32_t inode, struct xtcp_proc_owner *owner)
{
	struct xtcp_proc_slot *u;
	bool scanned = false;

	memset(owner, 0, sizeof(*owner));
	owner->comm = no_comm;
	if (!inode || p->error)
		return 0;
	if (p->refresh_poll != p->poll) {
		bool first = p->stats.refreshes == 0;

		if (refresh(p, false) < 0)
			return p->error ? 0 : -1;
		p->refresh_poll = p->poll;
		/* the first refresh reads every process */
		if (first) {
			p->full_poll = p->poll;
			scanned = true;
		}
	}
	if (find_owner(p, inode, owner))
		return 1;
	if ((u = unheld_find(p, inode))) {
		u->value = (uint32_t)p->poll;
		return 0;
	}
	if (p->full_poll != p->poll) {
		if (refresh(p, true) < 0)
			return p->error ? 0 : -1;
		p->full_poll = p->poll;
		scanned = true;
		if (find_owner(p, inode, owner))
			return 1;
	}
	/* Only a scan that began after the socket was seen proves no one holds it. */
	if (scanned && unheld_add(p, inode) < 0)
		return -1;
	return 0;
}
