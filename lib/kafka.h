#ifndef XTCP_KAFKA_H
#define XTCP_KAFKA_H

/*
 * Delivering a stream to Kafka (librdkafka).
 *
 * Rows are re-batched into messages: each message value is one frame of the
 * stream format, `uvarint(len) || Envelope`, which is what ClickHouse's Kafka
 * engine reads with kafka_format='ProtobufList'.  A message holds at most
 * max_rows rows and max_bytes bytes of Envelope; a single row larger than
 * max_bytes is a message of its own (the broker, or librdkafka's
 * message.max.bytes, then decides whether it can be delivered: if not, its
 * row is counted as failed, never dropped silently).
 *
 * With a key (hostname or netns), every message carries that field of its
 * rows as the Kafka message key, and a message only holds rows with the same
 * key: a row with a different key first sends the batch so far.
 *
 * Each batch is built in its own heap buffer, which is handed to librdkafka
 * without a copy and freed when its delivery report arrives.  Size
 * accounting is O(1) per row.
 *
 * Lifecycle:
 *   k = xtcp_kafka_new();
 *   xtcp_kafka_set(k, "prop", "value") ... (any librdkafka property; also
 *     xtcp_kafka_set_file), then xtcp_kafka_start(k, topic, ...);
 *   xtcp_kafka_add_envelope() / xtcp_kafka_add_row() for the input;
 *   xtcp_kafka_flush(k, timeout) at the end; xtcp_kafka_stats(); xtcp_kafka_free().
 *
 * Functions return 0 or -1.  On -1, xtcp_kafka_error(k) is a one-line
 * description (librdkafka's words where it gave some) and errno is:
 *   EINVAL   a bad property name or value (set, set_file, start)
 *   ENOENT   set_file could not open its file (errno of fopen otherwise)
 *   ENOMEM   out of memory
 *   EBADMSG  add_envelope got an Envelope whose rows do not parse
 *   EIO      librdkafka refused to create the producer or hit a fatal error
 *   ETIMEDOUT flush: some messages were still undelivered at the timeout
 * A row that cannot be delivered is not an error of these calls: it is
 * counted in the stats (rows_failed, with the first librdkafka error).
 *
 * The library never prints.  librdkafka's own log lines are dropped, except
 * that the last broker-level error (connection refused, all brokers down,
 * ...) is kept in the stats so a caller can say why deliveries failed.
 */

#include <stddef.h>
#include <stdint.h>

enum xtcp_kafka_key {
	XTCP_KAFKA_KEY_NONE,
	XTCP_KAFKA_KEY_HOSTNAME,
	XTCP_KAFKA_KEY_NETNS,
};

#define XTCP_KAFKA_DEFAULT_ROWS 10000
#define XTCP_KAFKA_DEFAULT_BYTES (768u << 10)

struct xtcp_kafka_stats {
	uint64_t rows;               /* rows taken in */
	uint64_t messages;           /* messages handed to librdkafka (or refused by it) */
	uint64_t bytes;              /* bytes of those message values */
	uint64_t rows_delivered;
	uint64_t messages_delivered;
	uint64_t bytes_delivered;
	uint64_t rows_failed;        /* refused at produce time or failed in a delivery report */
	uint64_t messages_failed;
	uint64_t rows_pending;       /* handed over, no delivery report yet */
	uint64_t messages_pending;
	char first_error[256];       /* the first delivery failure, librdkafka's words */
	char broker_error[256];      /* the last broker-level error seen, or empty */
	char topic_error[256];       /* why the topic took nothing, when the cluster said (see flush) */
};

struct xtcp_kafka;

/* Returns NULL with errno ENOMEM. */
struct xtcp_kafka *xtcp_kafka_new(void);
/* Waits for nothing: undelivered messages are purged (call flush first). */
void xtcp_kafka_free(struct xtcp_kafka *k);

/* One librdkafka property, before start.  EINVAL: unknown name or bad value. */
int xtcp_kafka_set(struct xtcp_kafka *k, const char *name, const char *value);

/*
 * A file of properties, one `name=value` a line; blank lines and lines
 * starting with '#' are skipped, spaces around name and value trimmed.
 * A line longer than XTCP_KAFKA_CONFIG_LINE_MAX bytes or holding a NUL byte
 * is EINVAL, and the file is read no further (it may be /dev/zero).
 */
#define XTCP_KAFKA_CONFIG_LINE_MAX (1u << 20)

int xtcp_kafka_set_file(struct xtcp_kafka *k, const char *path);

/*
 * Create the producer for @topic.  @max_rows and @max_bytes are the batch
 * caps (0 = the defaults above); @timeout_ms bounds each message's delivery
 * (librdkafka's message.timeout.ms, unless the caller set that property).
 * Unless set by the caller, enable.idempotence is true, so retries after a
 * broker comes back neither duplicate nor reorder messages.
 */
int xtcp_kafka_start(struct xtcp_kafka *k, const char *topic, size_t max_rows,
		     size_t max_bytes, enum xtcp_kafka_key key, uint64_t timeout_ms);

/*
 * Take one row (a serialized XtcpFlatRecord) or every row of one Envelope
 * (a frame without its length prefix, as xtcp_reader_next returns it).
 * Full batches are produced on the way; when librdkafka's queue is full
 * these block, serving delivery reports, until there is room (they never
 * drop).  Returns 0, or -1 (ENOMEM, EBADMSG, EIO).
 */
int xtcp_kafka_add_row(struct xtcp_kafka *k, const uint8_t *row, size_t len);
int xtcp_kafka_add_envelope(struct xtcp_kafka *k, const uint8_t *envelope, size_t len);

/*
 * Produce the rows batched so far now, without waiting for a full batch
 * (when the input goes quiet, so rows do not sit in a half-full batch while
 * more input is awaited).  Returns 0, or -1 (EIO).
 */
int xtcp_kafka_send(struct xtcp_kafka *k);

/* Serve delivery reports that are ready, without waiting. */
void xtcp_kafka_poll(struct xtcp_kafka *k);

/*
 * Produce the rows batched so far and wait up to @timeout_ms for every
 * delivery report.  Returns 0 when nothing is pending any more (delivered or
 * failed: see the stats), -1 with ETIMEDOUT when some still are (they are
 * then purged and counted as failed), or -1 (ENOMEM, EIO).
 *
 * When messages failed in a way that hides the cause (timed out, purged,
 * unknown topic or partition) and some broker is up, flush asks the cluster
 * for the topic's metadata (waiting up to 2 s) and, when the topic or one of
 * its partitions carries an error, says so in the stats' topic_error:
 * "topic 'x' does not exist: broker error UNKNOWN_TOPIC_OR_PART", or
 * "topic 'x': broker error TOPIC_AUTHORIZATION_FAILED: Broker: Topic
 * authorization failed".
 */
int xtcp_kafka_flush(struct xtcp_kafka *k, uint64_t timeout_ms);

const struct xtcp_kafka_stats *xtcp_kafka_stats(const struct xtcp_kafka *k);
const char *xtcp_kafka_error(const struct xtcp_kafka *k);

#endif
