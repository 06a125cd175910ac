/*
 * Kafka delivery: re-batch rows into one-frame messages, produce them
 * without copies, account for every delivery report.  See kafka.h.
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "alloc.h"
#include "kafka.h"
#include "stream.h"

/*
 * A message's heap block: this header (the delivery report's opaque, so the
 * report knows how many rows it settles and what to free), then room for
 * the frame's length prefix, then the Envelope.  The value handed to
 * librdkafka starts at the prefix, inside the block; librdkafka references
 * it without copying and the delivery report frees the block.
 */
struct message_head {
	uint64_t rows;
};

#define HEAD_ROOM (sizeof(struct message_head) + XTCP_ENVELOPE_HEAD)
#define FIRST_CAP (64u << 10)

struct xtcp_kafka {
	rd_kafka_conf_t *conf;      /* until start, then owned by rk */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	bool timeout_set;           /* the caller set message.timeout.ms itself */
	bool idempotence_set;
	bool fatal;
	bool cause_hidden;          /* a failure whose error does not say why (see flush) */
	bool brokers_down;          /* all were, and no delivery since said one is back */
	char topic[256];

	size_t max_rows;
	size_t max_bytes;
	uint32_t key_field;         /* 0: no key */

	/* the batch being built: Envelope bytes at block[HEAD_ROOM..HEAD_ROOM+len) */
	uint8_t *block;
	size_t cap;                 /* bytes after HEAD_ROOM */
	size_t len;
	size_t rows;
	size_t last_len;            /* len of the last batch sent */
	uint8_t *key;
	size_t key_len;
	size_t key_cap;

	struct xtcp_kafka_stats st;
	char err[512];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct xtcp_kafka *k, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->err, sizeof(k->err), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

struct xtcp_kafka *xtcp_kafka_new(void)
{
	struct xtcp_kafka *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->conf = rd_kafka_conf_new();
	if (!k->conf) {
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	return k;
}

int xtcp_kafka_set(struct xtcp_kafka *k, const char *name, const char *value)
{
	char errstr[256];

	if (!k->conf)
		return fail(k, EINVAL, "cannot set '%s': the producer is already started", name);
	if (rd_kafka_conf_set(k->conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return fail(k, EINVAL, "%s", errstr);
	if (!strcmp(name, "message.timeout.ms") || !strcmp(name, "delivery.timeout.ms"))
		k->timeout_set = true;
	if (!strcmp(name, "enable.idempotence"))
		k->idempotence_set = true;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * The next line of @fp in *line (NUL-terminated, without its newline), read
 * no further than the limit: 1, 0 at the end, or -1 with errno EFBIG (longer
 * than XTCP_KAFKA_CONFIG_LINE_MAX), EILSEQ (a NUL byte), ENOMEM or read's.
 */
static int config_line(FILE *fp, char **line, size_t *cap)
{
	size_t len = 0;
	int ch;

	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (ch == '\0') {
			errno = EILSEQ;
			return -1;
		}
		if (len == XTCP_KAFKA_CONFIG_LINE_MAX) {
			errno = EFBIG;
			return -1;
		}
		if (XTCP_ALLOC_GROW(*line, len + 2, *cap) < 0)
			return -1;
		(*line)[len++] = (char)ch;
	}
	if (ch == EOF && ferror(fp))
		return -1;
	if (ch == EOF && !len)
		return 0;
	if (XTCP_ALLOC_GROW(*line, len + 1, *cap) < 0)
		return -1;
	(*line)[len] = '\0';
	return 1;
}

int xtcp_kafka_set_file(struct xtcp_kafka *k, const char *path)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL, *name, *eq;
	size_t size = 0;
	unsigned line_no = 0;
	int rc = 0, got;

	if (!fp)
		return fail(k, errno, "cannot open '%s': %s", path, strerror(errno));
	while ((got = config_line(fp, &line, &size)) > 0) {
		line_no++;
		name = trim(line);
		if (!*name || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			rc = fail(k, EINVAL, "'%s' line %u: want name=value", path, line_no);
			break;
		}
		*eq = '\0';
		if (xtcp_kafka_set(k, trim(name), trim(eq + 1)) < 0) {
			char why[sizeof(k->err)];

			memcpy(why, k->err, sizeof(why));
			rc = fail(k, EINVAL, "'%s' line %u: %s", path, line_no, why);
			break;
		}
	}
	if (got < 0 && errno == EFBIG)
		rc = fail(k, EINVAL, "'%s' line %u: longer than %u bytes", path, line_no + 1,
			  XTCP_KAFKA_CONFIG_LINE_MAX);
	else if (got < 0 && errno == EILSEQ)
		rc = fail(k, EINVAL, "'%s' line %u: a NUL byte: not a text file", path, line_no + 1);
	else if (got < 0 && errno == ENOMEM)
		rc = fail(k, ENOMEM, "'%s' line %u: out of memory", path, line_no + 1);
	else if (got < 0)
		rc = fail(k, EIO, "cannot read '%s': %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return rc;
}

/* --- librdkafka callbacks (run from rd_kafka_poll / rd_kafka_flush) --------- */

static void note_failure(struct xtcp_kafka *k, uint64_t rows, rd_kafka_resp_err_t err)
{
	k->st.rows_failed += rows;
	k->st.messages_failed++;
	switch (err) {
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		k->cause_hidden = true;
		break;
	default:
		break;
	}
	if (!k->st.first_error[0])
		snprintf(k->st.first_error, sizeof(k->st.first_error), "%s", rd_kafka_err2str(err));
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct xtcp_kafka *k = opaque;
	struct message_head *head = msg->_private;
	uint64_t rows = head->rows;

	(void)rk;
	k->st.rows_pending -= rows;
	k->st.messages_pending--;
	if (msg->err) {
		note_failure(k, rows, msg->err);
	} else {
		k->brokers_down = false;
		k->st.rows_delivered += rows;
		k->st.messages_delivered++;
		k->st.bytes_delivered += msg->len;
	}
	free(head);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct xtcp_kafka *k = opaque;
	char why[200];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		k->fatal = true;
		rd_kafka_fatal_error(rk, why, sizeof(why));
		reason = why;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		k->brokers_down = true;
	snprintf(k->st.broker_error, sizeof(k->st.broker_error), "%s", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

/* ---------------------------------------------------------------------------- */

int xtcp_kafka_start(struct xtcp_kafka *k, const char *topic, size_t max_rows,
		     size_t max_bytes, enum xtcp_kafka_key key, uint64_t timeout_ms)
{
	char errstr[512], value[32];

	if (!k->conf)
		return fail(k, EINVAL, "the producer is already started");
	k->max_rows = max_rows ? max_rows : XTCP_KAFKA_DEFAULT_ROWS;
	k->max_bytes = max_bytes ? max_bytes : XTCP_KAFKA_DEFAULT_BYTES;
	k->key_field = key == XTCP_KAFKA_KEY_HOSTNAME ? 20 : key == XTCP_KAFKA_KEY_NETNS ? 30 : 0;

	if (!k->timeout_set && timeout_ms) {
		snprintf(value, sizeof(value), "%" PRIu64, timeout_ms);
		if (rd_kafka_conf_set(k->conf, "message.timeout.ms", value, errstr,
				      sizeof(errstr)) != RD_KAFKA_CONF_OK)
			return fail(k, EINVAL, "%s", errstr);
	}
	if (!k->idempotence_set &&
	    rd_kafka_conf_set(k->conf, "enable.idempotence", "true", errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return fail(k, EINVAL, "%s", errstr);
	rd_kafka_conf_set_opaque(k->conf, k);
	rd_kafka_conf_set_dr_msg_cb(k->conf, on_delivery);
	rd_kafka_conf_set_error_cb(k->conf, on_error);
	rd_kafka_conf_set_log_cb(k->conf, on_log);

	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, k->conf, errstr, sizeof(errstr));
	if (!k->rk)
		return fail(k, EIO, "%s", errstr);
	k->conf = NULL;
	snprintf(k->topic, sizeof(k->topic), "%s", topic);
	k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
	if (!k->rkt)
		return fail(k, EINVAL, "topic '%s': %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}

/* Hand the batch to librdkafka; blocks while its queue is full. */
static int send_batch(struct xtcp_kafka *k)
{
	struct message_head *head = (struct message_head *)k->block;
	size_t prefix = xtcp_varint_len(k->len), value_len = prefix + k->len;
	uint64_t rows = k->rows;
	rd_kafka_resp_err_t err;
	uint8_t *value;

	if (!rows)
		return 0;
	value = k->block + HEAD_ROOM - prefix;
	xtcp_varint_put(value, k->len);
	head->rows = rows;
	k->last_len = k->len;
	k->block = NULL;
	k->cap = k->len = k->rows = 0;

	k->st.messages++;
	k->st.bytes += value_len;
	for (;;) {
		err = rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->rkt),
					RD_KAFKA_V_VALUE(value, value_len),
					RD_KAFKA_V_KEY(k->key_len ? k->key : NULL, k->key_len),
					RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_OPAQUE(head),
					RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(k->rk, 100);
		if (k->fatal)
			break;
	}
	if (err) {
		note_failure(k, rows, err);
		free(head);
	} else {
		k->st.rows_pending += rows;
		k->st.messages_pending++;
	}
	rd_kafka_poll(k->rk, 0);
	if (k->fatal)
		return fail(k, EIO, "%s", k->st.broker_error);
	return 0;
}

/*
 * A new batch starts with room for what the last one used (plus an
 * eighth), so full batches are built without growing, and small ones (a key
 * per namespace) do not each hold a max_bytes block while they wait for
 * delivery.
 */
static int reserve(struct xtcp_kafka *k, size_t need)
{
	size_t cap = k->cap;
	uint8_t *block;

	if (!cap) {
		cap = k->last_len + k->last_len / 8;
		if (cap < FIRST_CAP)
			cap = FIRST_CAP;
		if (cap > k->max_bytes)
			cap = k->max_bytes;
	}

	if (k->len + need <= k->cap)
		return 0;
	while (cap < k->len + need)
		cap *= 2;
	if (cap > k->max_bytes && k->len + need <= k->max_bytes)
		cap = k->max_bytes;
	block = realloc(k->block, HEAD_ROOM + cap);
	if (!block)
		return fail(k, ENOMEM, "cannot allocate a message of %zu bytes", cap);
	k->block = block;
	k->cap = cap;
	return 0;
}

int xtcp_kafka_add_row(struct xtcp_kafka *k, const uint8_t *row, size_t len)
{
	size_t need = 1 + xtcp_varint_len(len) + len;
	const uint8_t *key = NULL;
	size_t key_len = 0;
	uint8_t *p;

	if (!k->rk)
		return fail(k, EINVAL, "the producer is not started");
	if (k->key_field) {
		if (xtcp_record_field_bytes(row, len, k->key_field, &key, &key_len) < 0)
			return fail(k, EBADMSG, "a row is not a valid record");
		if (k->rows && (key_len != k->key_len || (key_len && memcmp(key, k->key, key_len))) &&
		    send_batch(k) < 0)
			return -1;
	}
	if (k->rows && (k->rows >= k->max_rows || k->len + need > k->max_bytes) &&
	    send_batch(k) < 0)
		return -1;
	if (k->key_field && !k->rows) {
		if (key_len > k->key_cap) {
			p = realloc(k->key, key_len);
			if (!p)
				return fail(k, ENOMEM, "cannot allocate a key of %zu bytes", key_len);
			k->key = p;
			k->key_cap = key_len;
		}
		if (key_len)
			memcpy(k->key, key, key_len);
		k->key_len = key_len;
	}
	if (reserve(k, need) < 0)
		return -1;
	p = k->block + HEAD_ROOM + k->len;
	*p++ = XTCP_ENVELOPE_ROW_TAG;
	p += xtcp_varint_put(p, len);
	memcpy(p, row, len);
	k->len += need;
	k->rows++;
	k->st.rows++;
	return 0;
}

int xtcp_kafka_add_envelope(struct xtcp_kafka *k, const uint8_t *envelope, size_t len)
{
	struct xtcp_row_iter it;
	const uint8_t *row;
	size_t row_len, row_no = 0;
	int rc;

	/* a frame with a bad row goes nowhere: check every row before any is added */
	xtcp_row_iter_init(&it, envelope, len);
	while ((rc = xtcp_row_iter_next(&it, &row, &row_len)) > 0) {
		row_no++;
		if (xtcp_record_check(row, row_len) < 0)
			return fail(k, EBADMSG, "row %zu is not a valid record", row_no);
	}
	if (rc < 0)
		return fail(k, EBADMSG, "malformed Envelope");
	xtcp_row_iter_init(&it, envelope, len);
	while (xtcp_row_iter_next(&it, &row, &row_len) > 0)
		if (xtcp_kafka_add_row(k, row, row_len) < 0)
			return -1;
	return 0;
}

int xtcp_kafka_send(struct xtcp_kafka *k)
{
	return k->rk ? send_batch(k) : 0;
}

void xtcp_kafka_poll(struct xtcp_kafka *k)
{
	if (k->rk)
		rd_kafka_poll(k->rk, 0);
}

/*
 * A message that timed out or was purged does not say why: ask the cluster
 * what it knows of the topic (a missing topic, a refused one, a partition
 * without a leader).  Nothing to ask while every broker is down: that is
 * said already.
 */
static void diagnose_topic(struct xtcp_kafka *k)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	rd_kafka_resp_err_t err = 0;
	int i, partition = -1;

	if (!k->cause_hidden || k->brokers_down || k->st.topic_error[0])
		return;
	if (rd_kafka_metadata(k->rk, 0, k->rkt, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	if (md->topic_cnt == 1) {
		t = &md->topics[0];
		err = t->err;
		for (i = 0; !err && i < t->partition_cnt; i++) {
			err = t->partitions[i].err;
			partition = t->partitions[i].id;
		}
	}
	if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && partition < 0)
		snprintf(k->st.topic_error, sizeof(k->st.topic_error),
			 "topic '%s' does not exist: broker error %s", k->topic, rd_kafka_err2name(err));
	else if (err && partition < 0)
		snprintf(k->st.topic_error, sizeof(k->st.topic_error),
			 "topic '%s': broker error %s: %s", k->topic, rd_kafka_err2name(err),
			 rd_kafka_err2str(err));
	else if (err)
		snprintf(k->st.topic_error, sizeof(k->st.topic_error),
			 "topic '%s' partition %d: broker error %s: %s", k->topic, partition,
			 rd_kafka_err2name(err), rd_kafka_err2str(err));
	rd_kafka_metadata_destroy(md);
}

int xtcp_kafka_flush(struct xtcp_kafka *k, uint64_t timeout_ms)
{
	int rc;

	rd_kafka_resp_err_t err;
	uint64_t pending;

	if (!k->rk)
		return 0;
	if (send_batch(k) < 0)
		return -1;
	err = rd_kafka_flush(k->rk, timeout_ms > INT32_MAX ? INT32_MAX : (int)timeout_ms);
	if (k->fatal)
		return fail(k, EIO, "%s", k->st.broker_error);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR && !k->st.messages_pending) {
		diagnose_topic(k);
		return 0;
	}
	/* Give up on the rest: their reports then say they were purged. */
	pending = k->st.messages_pending;
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(k->rk, 1000);
	rc = fail(k, ETIMEDOUT, "%" PRIu64 " messages not delivered within %" PRIu64 " ms",
		  pending, timeout_ms);
	diagnose_topic(k);
	errno = ETIMEDOUT;
	return rc;
}

const struct xtcp_kafka_stats *xtcp_kafka_stats(const struct xtcp_kafka *k)
{
	return &k->st;
}

const char *xtcp_kafka_error(const struct xtcp_kafka *k)
{
	return k->err;
}

void xtcp_kafka_free(struct xtcp_kafka *k)
{
	if (!k)
		return;
	if (k->rk) {
		/* Purged messages get their reports (and their blocks freed) here. */
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(k->rk, 1000);
		if (k->rkt)
			rd_kafka_topic_destroy(k->rkt);
		rd_kafka_destroy(k->rk);
	}
	if (k->conf)
		rd_kafka_conf_destroy(k->conf);
	free(k->block);
	free(k->key);
	free(k);
}
