/*
 * xtcp-mock-kafka: a test helper that runs librdkafka's mock cluster
 * (rdkafka_mock.h: a real Kafka protocol endpoint on 127.0.0.1) as its own
 * process, for the tests, make pgo and bench/.
 *
 * usage: xtcp-mock-kafka [-n BROKERS] [-t TOPIC [-p PARTITIONS]] [-e ERR:COUNT]
 *                        [-T TOPIC:ERR]
 *
 * Prints the bootstrap servers ("127.0.0.1:PORT,...") on one line on stdout,
 * flushes, and stays up until SIGTERM or SIGINT.  -t creates TOPIC with PARTITIONS partitions (default 1) up
 * front; other topics are created on first use.  -e makes the next COUNT
 * Produce requests fail with the Kafka error code ERR (10 is
 * MESSAGE_TOO_LARGE: what a broker with a smaller message.max.bytes
 * answers; the mock has no size limit of its own).  -T makes the metadata
 * of TOPIC carry the Kafka error code ERR (3 is UNKNOWN_TOPIC_OR_PART: what
 * a broker without auto.create.topics.enable answers for a topic that does
 * not exist; 29 is TOPIC_AUTHORIZATION_FAILED).
 *
 * Faults on signals: SIGUSR1 takes every broker down (connections closed,
 * new ones refused), SIGUSR2 brings them back up.
 */

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define KAFKA_API_PRODUCE 0     /* the Produce request's API key (the header does not export it) */

static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
	last_signal = sig;
}

static long number(const char *text, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		errx(2, "invalid %s '%s'", what, text);
	return v;
}

static void set_brokers(rd_kafka_mock_cluster_t *mc, int n, int up)
{
	int id;

	for (id = 1; id <= n; id++) {
		if (up)
			rd_kafka_mock_broker_set_up(mc, id);
		else
			rd_kafka_mock_broker_set_down(mc, id);
	}
}

int main(int argc, char **argv)
{
	const char *topic = NULL, *bad_topic = NULL;
	int brokers = 1, partitions = 1, c, err_code = 0, err_count = 0, topic_err = 0, i;
	char errstr[256], *colon;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa;
	sigset_t mask, old;
	rd_kafka_resp_err_t *errs;

	while ((c = getopt(argc, argv, "n:t:p:e:T:h")) != -1) {
		switch (c) {
		case 'n':
			brokers = (int)number(optarg, 1, 16, "broker count");
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			partitions = (int)number(optarg, 1, 1000, "partition count");
			break;
		case 'e':
			colon = strchr(optarg, ':');
			if (!colon)
				errx(2, "invalid -e '%s': want ERR:COUNT", optarg);
			*colon = '\0';
			err_code = (int)number(optarg, -200, 1000, "error code");
			err_count = (int)number(colon + 1, 0, 1000, "error count");
			break;
		case 'T':
			colon = strrchr(optarg, ':');
			if (!colon || colon == optarg)
				errx(2, "invalid -T '%s': want TOPIC:ERR", optarg);
			*colon = '\0';
			bad_topic = optarg;
			topic_err = (int)number(colon + 1, -200, 1000, "error code");
			break;
		case 'h':
			printf("usage: xtcp-mock-kafka [-n BROKERS] [-t TOPIC [-p PARTITIONS]] "
			       "[-e ERR:COUNT] [-T TOPIC:ERR]\n");
			return 0;
		default:
			return 2;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	/* librdkafka's threads inherit this mask: signals come to this thread only */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, &old);

	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk)
		errx(1, "cannot create a librdkafka handle: %s", errstr);
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc)
		errx(1, "cannot start the mock cluster");
	if (topic && rd_kafka_mock_topic_create(mc, topic, partitions, 1))
		errx(1, "cannot create topic '%s'", topic);
	if (bad_topic)
		rd_kafka_mock_topic_set_error(mc, bad_topic, (rd_kafka_resp_err_t)topic_err);
	if (err_count) {
		errs = calloc((size_t)err_count, sizeof(*errs));
		if (!errs)
			err(1, "calloc");
		for (i = 0; i < err_count; i++)
			errs[i] = (rd_kafka_resp_err_t)err_code;
		rd_kafka_mock_push_request_errors_array(mc, KAFKA_API_PRODUCE, (size_t)err_count, errs);
		free(errs);
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	if (fflush(stdout) != 0)
		err(1, "cannot write to standard output");

	for (;;) {
		sigsuspend(&old);
		if (last_signal == SIGUSR1)
			set_brokers(mc, brokers, 0);
		else if (last_signal == SIGUSR2)
			set_brokers(mc, brokers, 1);
		else if (last_signal == SIGTERM || last_signal == SIGINT)
			break;
		last_signal = 0;
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
