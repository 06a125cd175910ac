/*
 * xtcp-dump: poll the kernel's TCP sockets (netlink sock_diag) and write them
 * as a stream of Envelope frames.  See man/xtcp-dump.1.
 */

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/sock_diag.h>

#include "alloc.h"
#include "bytecode.h"
#include "cli.h"
#include "capture.h"
#include "diag.h"
#include "filter.h"
#include "events.h"
#include "netlink.h"
#include "netns.h"
#include "outfile.h"
#include "owner.h"
#include "parse.h"
#include "record.h"
#include "stream.h"

struct dump {
	/* options */
	uint64_t count;
	uint64_t interval_ns;
	uint32_t states;
	uint8_t ext;
	uint8_t req_ext;        /* what the requests ask: ext, perhaps less meminfo (see parse_options) */
	int families[2];
	int n_families;
	bool one_walk;          /* both families in one request (AF_UNSPEC), while the kernel takes it */
	const char *read_path;
	const char *write_path;
	const char *out_path;
	const char **netns_args;
	size_t n_netns_args, netns_args_cap;
	bool netns_all;
	bool no_skip;                   /* --no-skip */
	unsigned jobs;                  /* -j; 0: not given (the CPUs online) */
	unsigned jitter_pct;
	int save_fd;

	bool processes;                 /* -p */
	bool no_cgroup;                 /* --no-cgroup */
	const char *filter_expr;        /* --filter */
	bool explain;                   /* --explain */
	bool events;                    /* -E */
	bool events_only;               /* -E without -c or -i: no polls */
	size_t event_buffer;            /* --event-buffer */

	/* state */
	struct xtcp_filter *filter;     /* what user space checks of --filter; NULL: nothing */
	struct xtcp_filter *event_filter;       /* -E: all of --filter (no bytecode, no state mask) */
	struct xtcp_bytecode bc;        /* what the kernel checks */
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_owners owners;
	bool owners_on;
	struct xtcp_nl_parser parser;
	struct xtcp_envelope env;
	struct xtcp_output out;
	struct xtcp_outfile outfile;    /* -o */
	struct xtcp_outfile savefile;   /* -w */
	size_t max_rows, max_bytes;     /* --rows, --bytes */
	uint64_t record_counter;
	char daemon_version[64];
	char hostname[256];
	uint64_t polls_done;
	bool warned_denied;
	bool warned_limit;              /* said that the descriptor limit leaves namespaces out */
	bool netns_lost;                /* an explicitly named namespace vanished */
	uint64_t netns_warned[4];       /* errno values already reported for -n all */

	/* -E */
	struct xtcp_netns_set *set;     /* while polling live */
	uint8_t *event_buf;             /* XTCP_EVENTS_BUF_SIZE, shared by every namespace */
	struct pollfd *pfds;
	size_t pfds_cap;
	struct xtcp_netns *event_ns;    /* the namespace whose events are being read */
	uint64_t frame_netns;           /* the namespace of the close records not yet written */
	uint64_t pending_since;         /* CLOCK_MONOTONIC of the first of them; 0: none */
	uint64_t lost_warned_at;        /* when loss was last reported */
	bool events_lost;               /* some were lost: exit 1 */
	bool events_failed;             /* a namespace's events could not be read */
	bool events_denied_warned;
};

/* Close records wait at most this long for their frame to fill. */
#define EVENTS_FLUSH_NS 100000000ull
/* Without polls (-E alone), -n all looks for new namespaces this often. */
#define EVENTS_REFRESH_NS 1000000000ull

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: xtcp-dump [options]\n"
		"Poll the kernel's TCP sockets and write them as a stream of protobuf frames\n"
		"(uvarint(len) || Envelope) for xtcp-filter, xtcp-fmt and xtcp-kafka.\n"
		"\n"
		"  -c, --count N        polls to make (default 1; 0 = until interrupted)\n"
		"  -i, --interval DUR   time between poll starts (500ms, 10s, 1m; default 1s)\n"
		"  -n, --netns NS       namespace to poll (repeatable): all, default, a name under\n"
		"                       /run/netns or /run/docker/netns, or a path such as\n"
		"                       /proc/PID/ns/net (default: the caller's own)\n"
		"      --jitter PCT     delay each poll start by a random 0..PCT%% of the interval\n"
		"  -j, --jobs N         dump up to N namespaces at once, on N threads (default:\n"
		"                       the CPUs online; output as with -j 1; 1 with -w)\n"
		"      --no-skip        dump every family of every namespace, also when the\n"
		"                       kernel's counts (/proc/net/sockstat) say it has no\n"
		"                       socket the dump could find\n"
		"  -4, --ipv4           IPv4 sockets only\n"
		"  -6, --ipv6           IPv6 sockets only\n"
		"      --states LIST    kernel-side state filter (established,listen,time-wait,...;\n"
		"                       all, connected, synchronized; default all but\n"
		"                       bound-inactive)\n"
		"      --ext LIST       attributes to request: all (default), none, or\n"
		"                       meminfo,info,vegas,cong,tos,tclass,skmeminfo,shutdown\n"
		"                       (meminfo with skmeminfo: taken from skmeminfo)\n"
		"      --filter EXPR    keep the sockets EXPR matches (xtcp-filter's language);\n"
		"                       ports, prefixes, states, device, mark and cgroup go to\n"
		"                       the kernel as sock_diag bytecode\n"
		"      --explain        with --filter: print what goes to the kernel and what\n"
		"                       stays in user space, and exit\n"
		"  -p, --processes      also record a process holding each socket (process_pid,\n"
		"                       process_comm, process_count; as ss -p)\n"
		"      --no-cgroup      do not resolve cgroup ids into cgroup_path, container_id,\n"
		"                       pod_uid and systemd_unit\n"
		"      --hostname NAME  hostname field (default: gethostname(); empty with -r)\n"
		"      --label TEXT     label field\n"
		"      --tag TEXT       tag field\n"
		"      --location TEXT  location field\n"
		"      --rows N         at most N rows per frame (default %u; 0 = no cap)\n"
		"      --bytes N        at most N bytes per frame (default 256KiB; 0 = no cap)\n"
		"  -E, --events         also write a close record for every TCP socket destroyed\n"
		"                       in the namespaces polled (sock_diag destroy groups, as\n"
		"                       ss -E); alone, without -c or -i: only close records,\n"
		"                       until interrupted; with -i, -c defaults to 0\n"
		"      --event-buffer N receive buffer for close events per namespace\n"
		"                       (default 32MiB)\n"
		"  -o, --output FILE    write FILE instead of stdout, replaced whole on success\n"
		"  -r, --read FILE      decode a capture (pcap of netlink, or raw as ss -D writes;\n"
		"                       - for standard input) instead of asking the kernel\n"
		"  -w, --write FILE     also save the raw kernel replies to FILE (for -r)\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage error.\n"
		"Example: xtcp-dump | xtcp-fmt -f json\n",
		XTCP_DEFAULT_ROWS);
}

enum {
	OPT_STATES = 256,
	OPT_EXT,
	OPT_HOSTNAME,
	OPT_LABEL,
	OPT_TAG,
	OPT_LOCATION,
	OPT_ROWS,
	OPT_BYTES,
	OPT_JITTER,
	OPT_NO_CGROUP,
	OPT_FILTER,
	OPT_EXPLAIN,
	OPT_EVENT_BUFFER,
	OPT_NO_SKIP,
};

static const struct option long_options[] = {
	{ "count", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, 'i' },
	{ "netns", required_argument, NULL, 'n' },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "no-skip", no_argument, NULL, OPT_NO_SKIP },
	{ "jobs", required_argument, NULL, 'j' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "states", required_argument, NULL, OPT_STATES },
	{ "ext", required_argument, NULL, OPT_EXT },
	{ "processes", no_argument, NULL, 'p' },
	{ "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "location", required_argument, NULL, OPT_LOCATION },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "bytes", required_argument, NULL, OPT_BYTES },
	{ "events", no_argument, NULL, 'E' },
	{ "event-buffer", required_argument, NULL, OPT_EVENT_BUFFER },
	{ "output", required_argument, NULL, 'o' },
	{ "read", required_argument, NULL, 'r' },
	{ "write", required_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void emit_frames(struct dump *d, bool flush)
{
	const uint8_t *frame;
	size_t len;

	while ((frame = xtcp_envelope_take(&d->env, flush, &len, NULL))) {
		if (xtcp_output_write(&d->out, frame, len) < 0)
			output_failed(&d->outfile, d->out_path);
		xtcp_envelope_done(&d->env);
	}
}

/* One socket the kernel sent: parsed, owned, kept when @filter (NULL: all) matches it. */
static int add_socket(struct dump *d, const struct nlmsghdr *nlh, struct xtcp_filter *filter)
{
	int rc;

	if (xtcp_netlink_parse(&d->parser, nlh, &d->rec) < 0)
		return -1;
	if (d->owners_on && xtcp_owners_fill(&d->owners, &d->rec) < 0)
		err(1, "cannot look up the owner of a socket");
	if (filter) {
		/* record_counter counts the records written: a filter sees the next one's */
		d->rec.record_counter = d->record_counter + 1;
		rc = xtcp_filter_match_record(filter, &d->rec);
		if (rc < 0)
			errx(1, "--filter: a regular expression went over its limit of %u steps on "
			     "a socket (see xtcp-filter(1))", XTCP_FILTER_REGEX_STEPS);
		if (rc == 0)
			return 0;
	}
	d->rec.record_counter = ++d->record_counter;
	rc = xtcp_envelope_add(&d->env, &d->rec);
	if (rc < 0)
		err(1, "cannot build a frame");
	if (rc > 0)
		emit_frames(d, false);
	return 0;
}

static int on_socket(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;

	return add_socket(d, nlh, d->filter);
}

static void begin_poll(struct dump *d, uint64_t seq)
{
	d->rec.timestamp_ns = (int64_t)now_ns(CLOCK_REALTIME);
	d->rec.poll_sequence = seq;
	d->rec.record_kind = XTCP_RECORD_KIND_POLL;
}

/*
 * Writing -w FILE failed (errno): as a failed write of the main output, one
 * line and exit 1.  The records read so far are written first, so the main
 * stream is whole up to here; at exit neither -w nor -o FILE is committed.
 */
__attribute__((noreturn))
static void save_failed(struct dump *d)
{
	warn("cannot write '%s'", d->write_path);
	emit_frames(d, true);
	if (xtcp_output_flush(&d->out) < 0)
		output_failed(&d->outfile, d->out_path);
	exit(1);
}

/* The whole of --filter in user space, from now on (the kernel refused the bytecode). */
static void filter_in_user_space(struct dump *d)
{
	struct xtcp_filter_error e;

	xtcp_filter_free(d->filter);
	d->filter = xtcp_filter_new(d->filter_expr, &e);
	if (!d->filter)
		err(1, "cannot compile the expression");
	free(d->bc.code);
	d->bc.code = NULL;
	d->bc.len = 0;
}

/*
 * -j: namespaces dumped on several threads.  Only the kernel's side runs in
 * parallel: everything that touches struct dump's records, parser, owners,
 * filter, counter and envelope happens in namespace order, by the thread
 * whose namespace has the turn.  A thread without the turn keeps the
 * replies in its own buffer (held); when that is full, its callback waits
 * for the turn and the kernel's dump waits with it (netlink dumps are
 * flow-controlled).  The lowest namespace in progress has the turn, so
 * every wait ends.
 */
#define JOB_HELD_MAX (4u << 20)

struct jobs {
	struct dump *d;
	struct xtcp_netns_set *set;
	pthread_mutex_t lock;
	pthread_cond_t turn_cond;
	size_t next_take;               /* the next namespace a thread takes */
	size_t next_turn;               /* the namespace whose records go out now */
	uint8_t *stale_code;            /* refused bytecode, freed after the poll */
	uint8_t *settled;               /* per namespace: done before its turn, nothing to write */
	size_t settled_cap;
	int failed;
	/* the threads live for the run: started as namespaces need them, woken each poll */
	pthread_cond_t go_cond, done_cond;
	unsigned generation;            /* polls started */
	size_t n_threads;               /* started, besides the polling thread */
	size_t running;                 /* threads still in this poll */
	bool quit;
};

struct job {
	struct jobs *jobs;
	pthread_t thread;
	unsigned generation;            /* the last poll this thread joined */
	struct xtcp_netns *ns;
	size_t index;
	bool turn;
	bool in_attempt;
	size_t attempt_start;           /* held bytes before this dump attempt */
	struct xtcp_envelope_mark mark;
	uint64_t mark_counter;
	uint8_t *held;                  /* JOB_HELD_MAX */
	size_t held_len;
	uint8_t *recv_buf;              /* XTCP_DIAG_BUF_SIZE */
};

static void set_poll_netns(struct dump *d, struct xtcp_netns *ns)
{
	d->rec.netns = ns->name;
	d->rec.netns_inode = ns->inode;
	d->rec.events_lost = ns->events.lost;
}

static int replay_held(struct job *j, size_t from, size_t to)
{
	struct dump *d = j->jobs->d;

	while (from < to) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(j->held + from);

		if (add_socket(d, nlh, d->filter) < 0)
			return -1;
		from += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return 0;
}

/* Wait until @j's namespace is next, then send what it holds. */
static int job_take_turn(struct job *j)
{
	struct jobs *js = j->jobs;
	struct dump *d = js->d;
	size_t held = j->held_len;

	pthread_mutex_lock(&js->lock);
	while (js->next_turn != j->index)
		pthread_cond_wait(&js->turn_cond, &js->lock);
	pthread_mutex_unlock(&js->lock);
	j->turn = true;
	j->held_len = 0;
	set_poll_netns(d, j->ns);
	if (!j->in_attempt)
		return replay_held(j, 0, held);
	/* the dumps before this attempt are kept whatever happens to it */
	if (replay_held(j, 0, j->attempt_start) < 0)
		return -1;
	j->mark_counter = d->record_counter;
	xtcp_envelope_mark(&d->env, &j->mark);
	return replay_held(j, j->attempt_start, held);
}

static int on_socket_job(const struct nlmsghdr *nlh, void *arg)
{
	struct job *j = arg;
	struct dump *d = j->jobs->d;
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);

	if (!j->turn && __atomic_load_n(&j->jobs->next_turn, __ATOMIC_ACQUIRE) == j->index &&
	    job_take_turn(j) < 0)
		return -1;
	if (!j->turn && j->held_len + len > JOB_HELD_MAX && job_take_turn(j) < 0)
		return -1;
	if (j->turn)
		return add_socket(d, nlh, d->filter);
	memcpy(j->held + j->held_len, nlh, nlh->nlmsg_len);
	j->held_len += len;
	return 0;
}

/* The turn goes to namespace @next, over those that have nothing to write; under the lock. */
static void give_turn(struct jobs *js, size_t next)
{
	while (next < js->set->n && js->settled[next])
		next++;
	__atomic_store_n(&js->next_turn, next, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&js->turn_cond);
}

static void pass_turn(struct job *j)
{
	struct jobs *js = j->jobs;

	j->turn = false;
	pthread_mutex_lock(&js->lock);
	give_turn(js, js->next_turn + 1);
	pthread_mutex_unlock(&js->lock);
}

/*
 * @j's namespace is done and nothing of it waits to go out (skipped, empty,
 * or failed before its turn): it needs no turn, and its thread goes on to
 * the next namespace instead of waiting for the ones before it.
 */
static void settle(struct job *j)
{
	struct jobs *js = j->jobs;

	pthread_mutex_lock(&js->lock);
	if (js->next_turn == j->index)
		give_turn(js, j->index + 1);
	else
		js->settled[j->index] = 1;
	pthread_mutex_unlock(&js->lock);
}

/* One dump with --filter's request; a kernel that refuses the bytecode gets none. */
static int dump_family(struct dump *d, struct xtcp_diag *diag, int family, struct job *j)
{
	xtcp_diag_cb cb = j ? on_socket_job : on_socket;
	void *arg = j ? (void *)j : (void *)d;
	const uint8_t *code;
	size_t code_len;
	int rc;

	if (j)
		pthread_mutex_lock(&j->jobs->lock);
	code = d->bc.code;
	code_len = d->bc.len;
	if (j)
		pthread_mutex_unlock(&j->jobs->lock);
	rc = xtcp_diag_dump_filtered(diag, family, d->states, d->req_ext, code, code_len, cb, arg);
	if (rc < 0 && code && diag->failed == XTCP_DIAG_KERNEL &&
	    (errno == EINVAL || errno == EPERM)) {
		int e = errno;

		if (j) {
			/* the filter changes under the turn; another thread may have changed it */
			if (!j->turn && job_take_turn(j) < 0)
				return -1;
			pthread_mutex_lock(&j->jobs->lock);
		}
		if (d->bc.code) {
			warnx("note: the kernel refused the --filter bytecode (%s); filtering in "
			      "user space", strerror(e));
			if (j) {
				j->jobs->stale_code = d->bc.code;
				d->bc.code = NULL;
			}
			filter_in_user_space(d);
		}
		if (j)
			pthread_mutex_unlock(&j->jobs->lock);
		rc = xtcp_diag_dump_filtered(diag, family, d->states, d->req_ext, NULL, 0, cb, arg);
	}
	return rc;
}

static const char *family_word(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "TCP";
}

/*
 * One dump of @family in @ns, asked again when the kernel says a socket
 * table changed under it; returns 0, -1 after reporting a failure, or 1
 * when the kernel refused a request of both families (AF_UNSPEC) before
 * replying: nothing was read, the caller asks per family.
 */
static int dump_in(struct dump *d, struct xtcp_netns *ns, int family, struct job *j)
{
	struct xtcp_diag *diag = &ns->diag;
	int attempt, e, rc;

	for (attempt = 0;; attempt++) {
		struct xtcp_envelope_mark local;
		struct xtcp_envelope_mark *mark = j ? &j->mark : &local;
		uint64_t *mark_counter = j ? &j->mark_counter : &(uint64_t){ 0 };

		if (!j || j->turn) {
			*mark_counter = d->record_counter;
			xtcp_envelope_mark(&d->env, mark);
		}
		if (j) {
			j->in_attempt = true;
			j->attempt_start = j->held_len;
		}
		rc = dump_family(d, diag, family, j);
		e = errno;
		if (j)
			j->in_attempt = false;
		if (rc == 0)
			return 0;
		if (diag->failed == XTCP_DIAG_SAVE)
			save_failed(d);
		/* Before its turn, nothing of this attempt went out: it only sits in held. */
		if (j && !j->turn) {
			if ((family == AF_UNSPEC && diag->failed == XTCP_DIAG_KERNEL &&
			     (e == EOPNOTSUPP || e == EINVAL) && j->held_len == j->attempt_start) ||
			    (e == EINTR && attempt < 3)) {
				j->held_len = j->attempt_start;
				if (e == EINTR)
					continue;
				return 1;
			}
		} else {
			if (family == AF_UNSPEC && diag->failed == XTCP_DIAG_KERNEL &&
			    (e == EOPNOTSUPP || e == EINVAL) && d->record_counter == *mark_counter)
				return 1;
			/* Interrupted: drop this dump's rows and ask again, while none has gone out. */
			if (e == EINTR && attempt < 3 && xtcp_envelope_rewind(&d->env, mark) == 0) {
				d->record_counter = *mark_counter;
				continue;
			}
		}
		errno = e;
		if (errno == EINTR) {
			warnx("network namespace '%s': %s dump interrupted %d times; its records "
			      "may be inconsistent", ns->name, family_word(family), attempt + 1);
			return 0;
		}
		if (diag->failed == XTCP_DIAG_CALLBACK && errno == EBADMSG) {
			warnx("network namespace '%s': malformed sock_diag reply from the kernel",
			      ns->name);
			return -1;
		}
		warn("network namespace '%s': %s dump: %s", ns->name, family_word(family), diag->err);
		return -1;
	}
}

/*
 * One poll of one namespace; returns 0, or -1 after reporting a failure.
 * A family whose counts say the dump would find nothing is not dumped
 * (lib/sockstat.h says why that loses nothing); counts that cannot be read
 * leave every family dumped.  Both families to dump: one request for both.
 */
static int poll_kernel(struct dump *d, struct xtcp_netns *ns, struct job *j)
{
	struct xtcp_sockstat st;
	bool counted, v4_enough, want[2];
	int i, n_want = 0, rc;

	if (!j)
		set_poll_netns(d, ns);
	/* an IPv4 dump is all a poll needs when it is of both families, or of IPv4 alone */
	v4_enough = (__atomic_load_n(&d->one_walk, __ATOMIC_RELAXED) && d->n_families == 2) ||
		    (d->n_families == 1 && d->families[0] == AF_INET);
	/* read before any dump: what it says holds at a time no later than the dumps */
	counted = ns->stat.sockstat_fd >= 0 &&
		  xtcp_sockstat_read(&ns->stat, ns->diag.is_open + (ns->events.fd >= 0),
				     v4_enough, &st) == 0;

	for (i = 0; i < d->n_families; i++) {
		want[i] = !counted || xtcp_sockstat_may_find(&st, d->families[i], d->states);
		n_want += want[i];
	}
	/* atomic: with -j, any thread may find the kernel refuses it */
	if (__atomic_load_n(&d->one_walk, __ATOMIC_RELAXED) && n_want == 2) {
		rc = dump_in(d, ns, AF_UNSPEC, j);
		if (rc <= 0)
			return rc;
		__atomic_store_n(&d->one_walk, false, __ATOMIC_RELAXED);        /* for the rest of the run */
	}
	for (i = 0; i < d->n_families; i++)
		if (want[i] && dump_in(d, ns, d->families[i], j) < 0)
			return -1;
	return 0;
}

/*
 * Decode the capture at -r (a path, or - for standard input).  The records of
 * each poll in it carry the capture's time of the poll's first reply, as a
 * live poll carries its start time (a raw dump has no times: 0).
 */
static int replay_capture(struct dump *d)
{
	const char *path = strcmp(d->read_path, "-") ? d->read_path : NULL;
	char name_buf[4096];
	const char *name = input_name(path, name_buf, sizeof(name_buf));
	struct xtcp_capture cap;
	const struct nlmsghdr *nlh;
	uint64_t msg_no = 0;
	uint32_t families_seen = 0;
	bool stamped = false;
	int rc = 0, done = 0;

	if ((path ? xtcp_capture_open(&cap, path) : xtcp_capture_open_fd(&cap, STDIN_FILENO)) < 0) {
		warnx("cannot read %s: %s", name, cap.err[0] ? cap.err : strerror(errno));
		return -1;
	}
	input_fd = cap.fd;
	d->rec.poll_sequence = 1;
	/* a stop makes the input end (catch_stop_signals): what was read is written */
	while ((rc = xtcp_capture_next(&cap, &nlh)) > 0) {
		msg_no++;
		/*
		 * A capture may hold several polls (ss run again and again): a
		 * dump of a family this poll has already seen starts the next one.
		 */
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY && done &&
		    nlh->nlmsg_len > NLMSG_HDRLEN) {
			unsigned family = *((const uint8_t *)nlh + NLMSG_HDRLEN);
			uint32_t bit = family == AF_INET6 ? 2 : 1;

			if (families_seen & bit) {
				emit_frames(d, true);
				d->rec.poll_sequence++;
				stamped = false;
				families_seen = 0;
			}
			done = 0;
		}
		if (!stamped) {
			d->rec.timestamp_ns = cap.time_ns;
			stamped = true;
		}
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY && nlh->nlmsg_len > NLMSG_HDRLEN)
			families_seen |= *((const uint8_t *)nlh + NLMSG_HDRLEN) == AF_INET6 ? 2 : 1;
		if (xtcp_diag_handle(nlh, on_socket, d, &done) < 0) {
			if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				warnx("%s: message %" PRIu64 " at byte %" PRIu64 ": malformed sock_diag "
				      "reply: %s", name, msg_no, cap.msg_offset, strerror(errno));
			else
				warnx("%s: message %" PRIu64 " at byte %" PRIu64 ": the kernel reported: %s",
				      name, msg_no, cap.msg_offset, strerror(errno));
			rc = -1;
			break;
		}
	}
	input_fd = -1;
	/* A signal cuts the input short (see catch_stop_signals): that end is clean. */
	if (rc < 0 && cap.error == EBADMSG && stop_requested)
		rc = 0;
	else if (rc < 0 && cap.error)
		warnx("%s: %s", name, cap.err);
	xtcp_capture_release(&cap);
	return rc < 0 ? -1 : 0;
}

static void set_metadata(struct dump *d)
{
	d->rec.schema_version = XTCP_SCHEMA_VERSION;
	snprintf(d->daemon_version, sizeof(d->daemon_version), "xtcp %s", XTCP_VERSION);
	d->rec.daemon_version = d->daemon_version;
	/* A replayed capture is another host's: no name unless --hostname gives one. */
	if (!d->read_path && (!d->rec.hostname || !*d->rec.hostname)) {
		if (gethostname(d->hostname, sizeof(d->hostname) - 1) == 0)
			d->rec.hostname = d->hostname;
	}
}

static void sleep_until(uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / 1000000000ull),
		.tv_nsec = (long)(deadline % 1000000000ull),
	};

	while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void parse_options(struct dump *d, int argc, char **argv)
{
	const char *bad;
	size_t bad_len;
	uint64_t v;
	int want4 = 0, want6 = 0, c;
	bool count_given = false, interval_given = false;

	d->count = 1;
	d->interval_ns = 1000000000ull;
	d->states = XTCP_STATES_DEFAULT;
	d->ext = XTCP_EXT_ALL;
	d->max_rows = XTCP_DEFAULT_ROWS;
	d->max_bytes = XTCP_DEFAULT_BYTES;
	d->event_buffer = XTCP_EVENTS_RCVBUF_DEFAULT;

	while ((c = getopt_long(argc, argv, ":c:i:n:j:46pEo:r:w:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			count_given = true;
			if (xtcp_parse_u64(optarg, 0, UINT64_MAX, &d->count) < 0)
				usage_error("invalid poll count '%s': want a whole number, 0 for no end",
					    optarg);
			break;
		case 'i':
			interval_given = true;
			if (xtcp_parse_duration(optarg, 1, UINT64_MAX, &d->interval_ns) < 0)
				usage_error("invalid interval '%s': want a duration above 0 such as "
					    "500ms, 10s or 1m", optarg);
			break;
		case 'n':
			if (!strcmp(optarg, "all")) {
				d->netns_all = true;
				break;
			}
			if (XTCP_ALLOC_GROW(d->netns_args, d->n_netns_args + 1, d->netns_args_cap) < 0)
				err(1, "out of memory");
			d->netns_args[d->n_netns_args++] = optarg;
			break;
		case OPT_JITTER:
			if (xtcp_parse_u64(optarg, 0, 100, &v) < 0)
				usage_error("invalid --jitter '%s': want a percentage from 0 to 100", optarg);
			d->jitter_pct = (unsigned)v;
			break;
		case OPT_NO_SKIP:
			d->no_skip = true;
			break;
		case 'j':
			if (xtcp_parse_u64(optarg, 1, 4096, &v) < 0)
				usage_error("invalid --jobs '%s': want a whole number from 1 to 4096",
					    optarg);
			d->jobs = (unsigned)v;
			break;
		case '4':
			want4 = 1;
			break;
		case '6':
			want6 = 1;
			break;
		case OPT_STATES:
			if (xtcp_tcp_states_parse(optarg, &d->states, &bad, &bad_len) < 0)
				usage_error("unknown TCP state '%.*s' in --states", (int)bad_len, bad);
			break;
		case OPT_EXT:
			if (xtcp_diag_ext_parse(optarg, &d->ext, &bad, &bad_len) < 0)
				usage_error("unknown attribute '%.*s' in --ext (want all, none, meminfo, "
					    "info, vegas, cong, tos, tclass, skmeminfo, shutdown)",
					    (int)bad_len, bad);
			break;
		case 'p':
			d->processes = true;
			break;
		case OPT_NO_CGROUP:
			d->no_cgroup = true;
			break;
		case OPT_FILTER:
			d->filter_expr = optarg;
			break;
		case OPT_EXPLAIN:
			d->explain = true;
			break;
		case 'E':
			d->events = true;
			break;
		case OPT_EVENT_BUFFER:
			if (xtcp_parse_size(optarg, 4096, 1u << 30, &v) < 0)
				usage_error("invalid --event-buffer '%s': want a size from 4KiB to 1GiB "
					    "(32MiB)", optarg);
			d->event_buffer = v;
			break;
		case OPT_HOSTNAME:
			d->rec.hostname = optarg;
			break;
		case OPT_LABEL:
			d->rec.label = optarg;
			break;
		case OPT_TAG:
			d->rec.tag = optarg;
			break;
		case OPT_LOCATION:
			d->rec.location = optarg;
			break;
		case OPT_ROWS:
			if (xtcp_parse_u64(optarg, 0, UINT32_MAX, &v) < 0)
				usage_error("invalid --rows '%s': want a whole number", optarg);
			d->max_rows = v;
			break;
		case OPT_BYTES:
			if (xtcp_parse_size(optarg, 0, XTCP_FRAME_MAX, &v) < 0)
				usage_error("invalid --bytes '%s': want a size up to 64MiB (256KiB, 1M)",
					    optarg);
			d->max_bytes = v;
			break;
		case 'o':
			d->out_path = optarg;
			break;
		case 'r':
			d->read_path = optarg;
			break;
		case 'w':
			d->write_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit_listing();
		case 'V':
			print_version();
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (d->read_path && d->write_path)
		usage_error("-r and -w cannot be combined: -w saves what the kernel sends");
	if (d->read_path && (d->netns_all || d->n_netns_args))
		usage_error("-r and -n cannot be combined: a capture is not a namespace");
	if (d->read_path && d->no_skip)
		usage_error("-r and --no-skip cannot be combined: a capture has no namespace to count");
	if (d->read_path && d->processes)
		usage_error("-r and -p cannot be combined: a capture's sockets are not this host's");
	if (d->explain && !d->filter_expr)
		usage_error("--explain needs --filter");
	if (d->explain && d->read_path)
		usage_error("--explain asks about the kernel; -r reads a capture");
	if (d->read_path && d->events)
		usage_error("-r and -E cannot be combined: close events come from the kernel, live");
	/* -E alone listens until interrupted; with -i it polls until interrupted too */
	if (d->events && !count_given) {
		d->count = 0;
		if (!interval_given) {
			d->events_only = true;
			d->interval_ns = EVENTS_REFRESH_NS;
		}
	}
	if (!want4 && !want6)
		want4 = want6 = 1;
	if (want4)
		d->families[d->n_families++] = AF_INET;
	if (want6)
		d->families[d->n_families++] = AF_INET6;
	/*
	 * Both families: one request for both, so the kernel walks its tables
	 * once.  Not with -w: a capture keeps a dump per family (as ss -D
	 * writes them), which is how -r tells one poll from the next.
	 */
	d->one_walk = d->n_families == 2 && !d->write_path;
	/*
	 * The four values of INET_DIAG_MEMINFO are four of SKMEMINFO's, read
	 * by the kernel from the same socket fields in the same fill: with
	 * both asked, the parser takes them from SKMEMINFO and the kernel
	 * fills and copies 20 bytes a socket less (about 5 % of its dump; see
	 * docs/performance.md).  Not with -w: a capture keeps what was asked.
	 */
	d->req_ext = d->ext;
	if ((d->ext & XTCP_EXT_MEMINFO) && (d->ext & XTCP_EXT_SKMEMINFO) && !d->write_path) {
		d->req_ext &= (uint8_t)~XTCP_EXT_MEMINFO;
		d->parser.meminfo_from_sk = true;
	}
}

/* --- close events (-E) ---------------------------------------------------- */

/* The close records not yet written go out now, and to the reader. */
static void flush_events(struct dump *d)
{
	emit_frames(d, true);
	if (xtcp_output_flush(&d->out) < 0)
		output_failed(&d->outfile, d->out_path);
	d->pending_since = 0;
}

static int on_event(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;

	d->rec.events_lost = d->event_ns->events.lost;
	/* the kernel's bytecode and state mask are for dumps: an event gets all of --filter */
	return add_socket(d, nlh, d->event_filter);
}

/*
 * What the kernel dropped in @ns since it was last said: one line, at most
 * every 10 seconds (@last: the total, at the end of the run).
 */
static void report_lost(struct dump *d, struct xtcp_netns *ns, bool last)
{
	struct xtcp_events *ev = &ns->events;
	uint64_t now = now_ns(CLOCK_MONOTONIC), news = ev->lost - ev->lost_reported;

	if (ev->lost)
		d->events_lost = true;
	if (last && ev->lost)
		warnx("network namespace '%s': %" PRIu64 " close event%s lost in all (the kernel's "
		      "queue overflowed; --event-buffer makes it larger)", ns->name, ev->lost,
		      ev->lost == 1 ? "" : "s");
	else if (news && (!d->lost_warned_at || now - d->lost_warned_at >= 10000000000ull))
		warnx("network namespace '%s': the kernel dropped %" PRIu64 " close event%s "
		      "(%" PRIu64 " so far): they come faster than they are read", ns->name,
		      news, news == 1 ? "" : "s", ev->lost);
	else
		return;
	ev->lost_reported = ev->lost;
	d->lost_warned_at = now;
}

/*
 * Read the close events queued in @ns (a bounded number, so that other
 * namespaces and the schedule get their turn); returns how many datagrams.
 */
static size_t read_events(struct dump *d, struct xtcp_netns *ns)
{
	size_t total = 0;
	int round, n;

	if (ns->events.fd < 0)
		return 0;
	/* a frame never spans two namespaces */
	if (d->env.rows && d->frame_netns != ns->inode)
		flush_events(d);
	d->frame_netns = ns->inode;
	d->event_ns = ns;
	d->rec.netns = ns->name;
	d->rec.netns_inode = ns->inode;
	d->rec.record_kind = XTCP_RECORD_KIND_CLOSE;
	for (round = 0; round < 64; round++) {
		d->rec.timestamp_ns = (int64_t)now_ns(CLOCK_REALTIME);
		n = xtcp_events_read(&ns->events, d->event_buf, on_event, d);
		report_lost(d, ns, false);
		if (n < 0) {
			if (errno == EBADMSG)
				warnx("network namespace '%s': malformed close event from the kernel",
				      ns->name);
			else
				warn("network namespace '%s': cannot read close events", ns->name);
			xtcp_events_close(&ns->events);
			d->events_failed = true;
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	if (d->env.rows && !d->pending_since)
		d->pending_since = now_ns(CLOCK_MONOTONIC);
	return total;
}

/* Everything still queued in @ns, and the final count of what was lost. */
static void drain_events(struct dump *d, struct xtcp_netns *ns)
{
	while (read_events(d, ns))
		;
	xtcp_events_count_lost(&ns->events);
	report_lost(d, ns, true);
}

/*
 * Read close events as they come until @deadline (CLOCK_MONOTONIC) or a
 * stop signal, writing them in frames: a frame goes out when it is full or
 * EVENTS_FLUSH_NS after its first record.  The stop signals are let in only
 * while waiting (ppoll), so one that comes just before the wait is not
 * slept through.
 */
static void wait_for_events(struct dump *d, struct xtcp_netns_set *set, uint64_t deadline)
{
	sigset_t stops, old;
	uint64_t now, wake;
	struct timespec ts;
	size_t i;
	int r;

	if (XTCP_ALLOC_GROW(d->pfds, set->n + 1, d->pfds_cap) < 0)
		err(1, "out of memory");
	for (i = 0; i < set->n; i++) {
		d->pfds[i].fd = set->ns[i].events.fd;   /* -1: poll(2) skips it */
		d->pfds[i].events = POLLIN;
	}
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &old);
	while (!stop_requested) {
		now = now_ns(CLOCK_MONOTONIC);
		if (d->pending_since && now >= d->pending_since + EVENTS_FLUSH_NS)
			flush_events(d);
		if (now >= deadline)
			break;
		wake = deadline;
		if (d->pending_since && d->pending_since + EVENTS_FLUSH_NS < wake)
			wake = d->pending_since + EVENTS_FLUSH_NS;
		ts.tv_sec = (time_t)((wake - now) / 1000000000ull);
		ts.tv_nsec = (long)((wake - now) % 1000000000ull);
		r = ppoll(d->pfds, set->n, &ts, &old);
		if (r < 0 && errno != EINTR)
			err(1, "cannot wait for close events");
		for (i = 0; r > 0 && i < set->n; i++) {
			if (d->pfds[i].revents)
				read_events(d, &set->ns[i]);
			d->pfds[i].fd = set->ns[i].events.fd;   /* closed if it failed */
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* An events socket could not be opened in @ns (ns->events_err). */
static void events_unavailable(struct dump *d, const struct xtcp_netns *ns)
{
	int e = ns->events_err;
	const char *hint = e == EPERM ? xtcp_netns_perm_hint(CAP_NET_ADMIN) : "";

	/* the caller's own namespace or one named: the run cannot do what was asked */
	if (ns->self || ns->named)
		errx(1, "cannot listen to close events in network namespace '%s': %s%s%s", ns->name,
		     strerror(e), *hint ? " " : "", hint);
	if (d->events_denied_warned)
		return;
	warnx("cannot listen to close events in network namespace '%s': %s%s%s; it is polled "
	      "without them", ns->name, strerror(e), *hint ? " " : "", hint);
	d->events_denied_warned = true;
}

/*
 * Why an explicitly named namespace cannot be polled: the cause of a
 * MISSING or FAILED event.
 */
static const char *netns_cause(const struct xtcp_netns *ns, int e, char *buf, size_t size)
{
	if (e == EINVAL)
		snprintf(buf, size, "'%s' is not a network namespace file", ns->path);
	else if (e == ESTALE)
		snprintf(buf, size, "'%s' leads to another namespace now", ns->path);
	else if ((e == EPERM || e == EACCES) && !strncmp(ns->path, "/proc/", 6))
		snprintf(buf, size, "cannot open '%s': %s %s", ns->path, strerror(e),
			 xtcp_netns_perm_hint(CAP_SYS_PTRACE));
	else
		snprintf(buf, size, "cannot open '%s': %s", ns->path, strerror(e));
	return buf;
}

/* What a refresh found: tell the user about what changed or failed. */
static void on_netns_event(void *arg, enum xtcp_netns_event event, const struct xtcp_netns *ns,
			   int e)
{
	struct dump *d = arg;
	char cause[400];

	switch (event) {
	case XTCP_NETNS_ADDED:
		if (ns->events_err)
			events_unavailable(d, ns);
		break;
	case XTCP_NETNS_VANISHED:
		/* -n all: namespaces come and go; a named one was reported as MISSING */
		/* what it sent before it went (ns is in d->set: the same entry, writable) */
		drain_events(d, &d->set->ns[ns - d->set->ns]);
		break;
	case XTCP_NETNS_FAILED:
		if (ns && ns->self)
			errx(1, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(e));
		if (ns && ns->named) {
			/* only at the start: a named namespace once entered stays open */
			if (e == EINVAL)
				errx(1, "%s", netns_cause(ns, e, cause, sizeof(cause)));
			errx(1, "cannot enter network namespace '%s' (%s): %s%s%s", ns->name, ns->path,
			     strerror(e), e == EPERM ? " " : "",
			     e == EPERM ? xtcp_netns_perm_hint(CAP_SYS_ADMIN) : "");
		}
		/*
		 * -n all: missing privileges are summed up once per run, after
		 * the refresh; a namespace gone before it could be entered is
		 * churn; anything else is said once per kind of failure.
		 */
		if (e == EPERM || e == EACCES || e == ENOENT)
			break;
		if (e > 0 && (size_t)e < sizeof(d->netns_warned) * 8) {
			if (d->netns_warned[e / 64] & (1ull << (e % 64)))
				break;
			d->netns_warned[e / 64] |= 1ull << (e % 64);
		}
		if (!ns)
			warnx("cannot track another network namespace: %s", strerror(e));
		else
			warnx("cannot enter network namespace '%s' (%s): %s", ns->name, ns->path,
			      strerror(e));
		break;
	case XTCP_NETNS_MISSING:
		netns_cause(ns, e, cause, sizeof(cause));
		if (!d->polls_done && !strcmp(ns->name, ns->path))
			errx(1, "%s", cause);
		if (!d->polls_done)
			errx(1, "network namespace '%s': %s", ns->name, cause);
		warnx("network namespace '%s' vanished: %s", ns->name, cause);
		d->netns_lost = true;
		break;
	}
}

/* A random delay of 0..jitter_pct% of the interval (xorshift; quality is not the point). */
static uint64_t jitter_ns(struct dump *d)
{
	static uint64_t x;

	if (!d->jitter_pct)
		return 0;
	if (!x)
		x = now_ns(CLOCK_REALTIME) | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x % (d->interval_ns / 100 * d->jitter_pct + 1);
}

/*
 * Many namespaces hold many descriptors: the soft limit goes up to the hard
 * one (poll(2) is used, never select(2)).  Returns the limit now in force,
 * 0 when there is none.
 */
static unsigned long raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = cur;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 0 : (unsigned long)rl.rlim_cur;
}

/* Take namespaces until none is left; each goes out in its turn. */
static void job_run(struct job *j)
{
	struct jobs *js = j->jobs;
	struct dump *d = js->d;

	for (;;) {
		pthread_mutex_lock(&js->lock);
		j->index = js->next_take;
		if (j->index < js->set->n && !stop_requested)
			js->next_take++;
		else
			j->index = SIZE_MAX;
		pthread_mutex_unlock(&js->lock);
		if (j->index == SIZE_MAX)
			return;
		j->ns = &js->set->ns[j->index];
		j->held_len = 0;
		xtcp_diag_use_buffer(&j->ns->diag, j->recv_buf, XTCP_DIAG_BUF_SIZE);
		if (poll_kernel(d, j->ns, j) < 0)
			__atomic_store_n(&js->failed, 1, __ATOMIC_RELAXED);
		/* what is still to write is in held: the receive buffer is done with */
		xtcp_diag_use_buffer(&j->ns->diag, js->set->buf, js->set->buf_size);
		if (!j->turn && !j->held_len) {
			settle(j);
			continue;
		}
		if (!j->turn && job_take_turn(j) < 0)
			__atomic_store_n(&js->failed, 1, __ATOMIC_RELAXED);
		/* A frame never spans two namespaces. */
		emit_frames(d, true);
		pass_turn(j);
	}
}

/* A thread of the pool: one job_run() a poll, until told to quit. */
static void *job_worker(void *arg)
{
	struct job *j = arg;
	struct jobs *js = j->jobs;

	pthread_mutex_lock(&js->lock);
	for (;;) {
		while (j->generation == js->generation && !js->quit)
			pthread_cond_wait(&js->go_cond, &js->lock);
		if (js->quit)
			break;
		j->generation = js->generation;
		pthread_mutex_unlock(&js->lock);
		job_run(j);
		pthread_mutex_lock(&js->lock);
		if (--js->running == 0)
			pthread_cond_signal(&js->done_cond);
	}
	pthread_mutex_unlock(&js->lock);
	return NULL;
}

static void jobs_init(struct jobs *js, struct dump *d, struct xtcp_netns_set *set)
{
	memset(js, 0, sizeof(*js));
	js->d = d;
	js->set = set;
	pthread_mutex_init(&js->lock, NULL);
	pthread_cond_init(&js->turn_cond, NULL);
	pthread_cond_init(&js->go_cond, NULL);
	pthread_cond_init(&js->done_cond, NULL);
}

/* The threads stop between polls only, so none is inside one here. */
static void jobs_release(struct jobs *js, struct job *job)
{
	size_t i;

	pthread_mutex_lock(&js->lock);
	js->quit = true;
	pthread_cond_broadcast(&js->go_cond);
	pthread_mutex_unlock(&js->lock);
	for (i = 1; i <= js->n_threads; i++)
		pthread_join(job[i].thread, NULL);
	free(js->settled);
	pthread_cond_destroy(&js->done_cond);
	pthread_cond_destroy(&js->go_cond);
	pthread_cond_destroy(&js->turn_cond);
	pthread_mutex_destroy(&js->lock);
}

/*
 * One poll of every namespace of the set on @n_jobs threads, this one among
 * them; threads missing (the namespaces grew) are started first.
 */
static int poll_jobs(struct jobs *js, struct job *job, size_t n_jobs)
{
	sigset_t all, old;
	size_t i;

	/* signals stay with this thread: the one that sleeps between polls and sees them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; js->n_threads + 1 < n_jobs; js->n_threads++) {
		struct job *j = &job[js->n_threads + 1];

		j->jobs = js;
		j->generation = js->generation;
		if ((errno = pthread_create(&j->thread, NULL, job_worker, j)))
			err(1, "cannot start a thread");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	job[0].jobs = js;
	for (i = 0; i <= js->n_threads; i++)
		job[i].turn = false;
	if (js->settled_cap < js->set->n) {
		/* grows with the namespaces, not per poll */
		free(js->settled);
		js->settled_cap = js->set->n + js->set->n / 4 + 16;
		js->settled = malloc(js->settled_cap);
		if (!js->settled)
			err(1, "out of memory");
	}
	memset(js->settled, 0, js->set->n);
	pthread_mutex_lock(&js->lock);
	js->next_take = 0;
	js->next_turn = 0;
	js->failed = 0;
	js->running = js->n_threads;
	js->generation++;
	pthread_cond_broadcast(&js->go_cond);
	pthread_mutex_unlock(&js->lock);
	job_run(&job[0]);
	pthread_mutex_lock(&js->lock);
	while (js->running)
		pthread_cond_wait(&js->done_cond, &js->lock);
	pthread_mutex_unlock(&js->lock);
	free(js->stale_code);
	js->stale_code = NULL;
	return js->failed ? -1 : 0;
}

/*
 * -j: how many threads (at most the namespaces, each poll); 1 takes the
 * single-threaded path.  Default: the CPUs online.
 */
static size_t jobs_wanted(struct dump *d)
{
	long cpus;

	if (d->write_path)
		return 1;       /* a capture is one ordered stream */
	if (d->jobs)
		return d->jobs;
	if (!d->netns_all && d->n_netns_args <= 1)
		return 1;       /* one namespace: no need to ask (sysconf reads /sys) */
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus > 4096 ? 4096 : (size_t)cpus;
}

static int poll_live(struct dump *d)
{
	struct xtcp_netns_set set;
	uint64_t start, poll, slot = 0, next, now, skipped = 0, last_warn = 0;
	char unseen[512], note[512];
	int failed = 0, n;
	size_t i, max_jobs = jobs_wanted(d), n_jobs = 0;
	struct job *job = NULL;
	struct jobs js;

	if (xtcp_netns_set_init(&set, d->netns_all, d->netns_args, d->n_netns_args) < 0)
		err(1, "cannot open '/proc/self/ns/net'");
	set.save_fd = d->save_fd;
	set.sockstat = !d->no_skip;
	if (d->netns_all || d->n_netns_args > 1)
		set.fd_limit = raise_fd_limit();
	d->set = &set;
	if (d->events) {
		for (i = 0; i < (size_t)d->n_families; i++)
			set.events |= d->families[i] == AF_INET ? XTCP_EVENTS_IPV4 : XTCP_EVENTS_IPV6;
		set.events_rcvbuf = d->event_buffer;
		d->event_buf = malloc(XTCP_EVENTS_BUF_SIZE);
		if (!d->event_buf)
			err(1, "out of memory");
	}
	start = now_ns(CLOCK_MONOTONIC);
	for (poll = 0; !stop_requested && (d->count == 0 || poll < d->count); poll++) {
		n = xtcp_netns_refresh(&set, on_netns_event, d);
		if (n < 0)
			err(1, "cannot discover network namespaces");
		if (n == 0)
			break;  /* every namespace named is gone: said as each went */
		if (!d->warned_denied && *xtcp_netns_unseen(&set, unseen, sizeof(unseen))) {
			warnx("%s %zu network namespace%s%s", d->events_only ? "listening in" : "polling",
			      set.n, set.n == 1 ? "" : "s", unseen);
			d->warned_denied = true;
		}
		if (!d->warned_limit && set.over_limit.n) {
			warnx("not polling %u network namespace%s (first %s): the descriptor limit "
			      "(ulimit -n) of %lu is reached at %u descriptors a namespace; the rest "
			      "are polled", set.over_limit.n, set.over_limit.n == 1 ? "" : "s",
			      set.over_limit.what, set.fd_limit, xtcp_netns_fds_each(&set));
			d->warned_limit = true;
		}
		if (!d->events_only) {
			/* close records read before it go out first: a frame is of one kind */
			if (d->events)
				flush_events(d);
			begin_poll(d, poll + 1);
			xtcp_owners_begin_poll(&d->owners);
			if (max_jobs > 1 && set.n > 1 && !job) {
				/* once: as many as could ever run */
				job = calloc(max_jobs, sizeof(*job));
				if (!job)
					err(1, "out of memory");
				jobs_init(&js, d, &set);
			}
			for (; job && n_jobs < max_jobs && n_jobs < set.n; n_jobs++) {
				job[n_jobs].held = malloc(JOB_HELD_MAX);
				job[n_jobs].recv_buf = malloc(XTCP_DIAG_BUF_SIZE);
				if (!job[n_jobs].held || !job[n_jobs].recv_buf)
					err(1, "out of memory");
			}
			if (max_jobs > 1 && set.n > 1 &&
			    poll_jobs(&js, job, max_jobs < set.n ? max_jobs : set.n) < 0)
				failed = 1;
			for (i = 0; (max_jobs <= 1 || set.n <= 1) && i < set.n && !stop_requested; i++) {
				if (poll_kernel(d, &set.ns[i], NULL) < 0)
					failed = 1;
				/* A frame never spans two namespaces. */
				emit_frames(d, true);
			}
			while (xtcp_owners_note(&d->owners, note, sizeof(note)))
				warnx("%s", note);
			if (xtcp_output_flush(&d->out) < 0)
				output_failed(&d->outfile, d->out_path);
		}
		d->polls_done++;        /* without polls (-E alone): the refreshes */
		if (d->count && poll + 1 >= d->count)
			break;
		/*
		 * Fixed schedule: slot N starts at start + N * interval.  A poll
		 * that overran its slot moves the next start to the next free
		 * slot instead of drifting; say so at most every 10 seconds.
		 */
		slot++;
		next = start + slot * d->interval_ns;
		now = now_ns(CLOCK_MONOTONIC);
		if (now > next) {
			uint64_t skip = (now - next) / d->interval_ns + 1;

			slot += skip;
			next += skip * d->interval_ns;
			skipped += skip;
			/* -E alone has no polls to skip: its refreshes just run late */
			if (!d->events_only && (!last_warn || now - last_warn >= 10000000000ull)) {
				warnx("polls are slower than the %.3gs interval; skipped %" PRIu64
				      " scheduled poll%s so far", (double)d->interval_ns / 1e9, skipped,
				      skipped == 1 ? "" : "s");
				last_warn = now;
			}
		}
		if (d->events)
			wait_for_events(d, &set, next + jitter_ns(d));
		else
			sleep_until(next + jitter_ns(d));
	}
	if (d->events) {
		for (i = 0; i < set.n; i++)
			drain_events(d, &set.ns[i]);
		flush_events(d);
	}
	if (job)
		jobs_release(&js, job);
	xtcp_netns_set_release(&set);
	d->set = NULL;
	for (i = 0; i < n_jobs; i++) {
		free(job[i].held);
		free(job[i].recv_buf);
	}
	free(job);
	free(d->event_buf);
	free(d->pfds);
	return failed || d->netns_lost || d->events_lost || d->events_failed ? -1 : 0;
}

static void print_term(const struct dump *d, const char *what, uint32_t term)
{
	struct xtcp_filter_term t;

	xtcp_filter_term(d->filter, term, &t);
	printf("%s: %.*s\n", what, (int)t.text_len, d->filter_expr + t.text_start);
}

static bool listed(const uint32_t *terms, size_t n, uint32_t term)
{
	while (n--)
		if (terms[n] == term)
			return true;
	return false;
}

/* --explain: the request and what user space still checks, on stdout. */
static void explain(struct dump *d)
{
	char *text;
	size_t i, need;

	printf("filter: %s\n", d->filter_expr);
	if (d->states == XTCP_STATES_ALL)
		printf("states: all\n");
	else if (d->states == XTCP_STATES_DEFAULT)
		printf("states: all but bound-inactive (the default)\n");
	else
		printf("states: 0x%08x (the dump asks the kernel for these only)\n", d->states);
	if (d->bc.too_large)
		printf("kernel bytecode: none, the expression needs more than %u bytes\n",
		       XTCP_BYTECODE_MAX);
	else if (!d->bc.code)
		printf("kernel bytecode: none\n");
	else {
		need = xtcp_bytecode_format(d->bc.code, d->bc.len, NULL, 0) + 1;
		text = malloc(need);
		if (!text)
			err(1, "out of memory");
		xtcp_bytecode_format(d->bc.code, d->bc.len, text, need);
		printf("kernel bytecode: %zu bytes\n%s", d->bc.len, text);
		free(text);
	}
	for (i = 0; i < d->bc.n_decided; i++)
		print_term(d, "kernel decides", d->bc.decided[i]);
	for (i = 0; i < d->bc.n_narrowed; i++)
		print_term(d, "kernel narrows, user space re-checks", d->bc.narrowed[i]);
	if (xtcp_bytecode_exact(&d->bc))
		printf("user space: nothing\n");
	for (i = 0; i < d->bc.n_conjuncts; i++)
		if (!listed(d->bc.decided, d->bc.n_decided, d->bc.conjuncts[i]))
			print_term(d, "user space", d->bc.conjuncts[i]);
	if (fclose(stdout) != 0)
		err(1, "cannot write the explanation");
	exit(0);
}

/*
 * --filter: compile it, take what the kernel decides out of what user
 * space checks, narrow --states.  A bad expression is a usage error.
 */
static void setup_filter(struct dump *d)
{
	struct xtcp_filter_error e;
	size_t i;

	d->filter = xtcp_filter_new(d->filter_expr, &e);
	if (!d->filter) {
		if (errno == ENOMEM)
			err(1, "cannot compile the expression");
		errx(EXIT_USAGE, "bad expression at column %zu: %s", e.column, e.msg);
	}
	if (d->read_path)
		return;         /* a capture: no kernel to ask */
	if (d->events && !(d->event_filter = xtcp_filter_new(d->filter_expr, &e)))
		err(1, "cannot compile the expression");
	if (xtcp_bytecode_compile(&d->bc, d->filter) < 0)
		err(1, "cannot compile the expression");
	if (d->bc.too_large && !d->explain)
		warnx("note: --filter needs more than %u bytes of sock_diag bytecode; filtering "
		      "in user space", XTCP_BYTECODE_MAX);
	d->states &= d->bc.states;
	if (d->explain)
		explain(d);
	for (i = 0; i < d->bc.n_decided; i++)
		xtcp_filter_assume(d->filter, d->bc.decided[i]);
	if (xtcp_bytecode_exact(&d->bc)) {
		xtcp_filter_free(d->filter);
		d->filter = NULL;
	}
}

int main(int argc, char **argv)
{
	struct dump d;
	int fd = STDOUT_FILENO, failed = 0;

	memset(&d, 0, sizeof(d));
	d.save_fd = -1;
	xtcp_record_init(&d.rec);
	parse_options(&d, argc, argv);
	if (d.filter_expr)
		setup_filter(&d);

	if (!d.out_path && isatty(STDOUT_FILENO)) {
		fputs("xtcp-dump: refusing to write binary records to a terminal; "
		      "pipe into xtcp-fmt (xtcp-dump | xtcp-fmt) or use -o FILE\n", stderr);
		return EXIT_USAGE;
	}

	catch_stop_signals();

	set_metadata(&d);
	if (xtcp_envelope_init(&d.env, d.max_rows, d.max_bytes) < 0)
		err(1, "cannot allocate a frame");
	if (d.write_path)
		d.save_fd = output_open(&d.savefile, d.write_path);
	if (d.out_path)
		fd = output_open(&d.outfile, d.out_path);
	if (xtcp_output_init(&d.out, fd, 1u << 16) < 0)
		err(1, "cannot allocate the output buffer");

	/* A capture's cgroup ids and inodes are another host's, or another time's. */
	d.owners_on = !d.read_path && (d.processes || !d.no_cgroup);
	if (xtcp_owners_init(&d.owners, !d.no_cgroup, d.processes) < 0)
		err(1, "cannot allocate the owner maps");

	if (d.read_path) {
		failed = replay_capture(&d) < 0;
		emit_frames(&d, true);
	} else {
		failed = poll_live(&d) < 0;
	}

	/* A run that succeeded writes a frame, an empty one when it found no socket. */
	if (!failed && !d.env.frames_done && xtcp_output_write_empty_frame(&d.out) < 0)
		output_failed(&d.outfile, d.out_path);
	if (xtcp_output_flush(&d.out) < 0)
		output_failed(&d.outfile, d.out_path);
	/* -w and -o are committed only when the run succeeded */
	if (d.write_path)
		failed = output_finish(&d.savefile, d.write_path, failed);
	failed = output_finish(&d.outfile, d.out_path, failed);
	xtcp_output_release(&d.out);
	xtcp_envelope_release(&d.env);
	xtcp_owners_release(&d.owners);
	xtcp_filter_free(d.filter);
	xtcp_filter_free(d.event_filter);
	xtcp_bytecode_release(&d.bc);
	free(d.netns_args);
	return failed ? 1 : 0;
}
