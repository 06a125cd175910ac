#include "tcp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const state_names[XTCP_TCP_STATE_COUNT] = {
	[XTCP_TCP_UNKNOWN] = "UNKNOWN",
	[XTCP_TCP_ESTABLISHED] = "ESTABLISHED",
	[XTCP_TCP_SYN_SENT] = "SYN_SENT",
	[XTCP_TCP_SYN_RECV] = "SYN_RECV",
	[XTCP_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[XTCP_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[XTCP_TCP_TIME_WAIT] = "TIME_WAIT",
	[XTCP_TCP_CLOSE] = "CLOSE",
	[XTCP_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[XTCP_TCP_LAST_ACK] = "LAST_ACK",
	[XTCP_TCP_LISTEN] = "LISTEN",
	[XTCP_TCP_CLOSING] = "CLOSING",
	[XTCP_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	[XTCP_TCP_BOUND_INACTIVE] = "BOUND_INACTIVE",
};

#define SYN_RECV_BOTH (XTCP_TCPF(XTCP_TCP_SYN_RECV) | XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV))

/* Other spellings people type: ss's, the dashed forms, and ss's sets. */
static const struct {
	const char *name;
	uint32_t states;
} state_words[] = {
	{ "estab", XTCP_TCPF(XTCP_TCP_ESTABLISHED) },
	{ "syn-sent", XTCP_TCPF(XTCP_TCP_SYN_SENT) },
	{ "syn-recv", SYN_RECV_BOTH },
	{ "fin-wait-1", XTCP_TCPF(XTCP_TCP_FIN_WAIT1) },
	{ "fin_wait_1", XTCP_TCPF(XTCP_TCP_FIN_WAIT1) },
	{ "fin-wait-2", XTCP_TCPF(XTCP_TCP_FIN_WAIT2) },
	{ "fin_wait_2", XTCP_TCPF(XTCP_TCP_FIN_WAIT2) },
	{ "time-wait", XTCP_TCPF(XTCP_TCP_TIME_WAIT) },
	{ "unconn", XTCP_TCPF(XTCP_TCP_CLOSE) },
	{ "unconnected", XTCP_TCPF(XTCP_TCP_CLOSE) },
	{ "closed", XTCP_TCPF(XTCP_TCP_CLOSE) },
	{ "listening", XTCP_TCPF(XTCP_TCP_LISTEN) },
	{ "close-wait", XTCP_TCPF(XTCP_TCP_CLOSE_WAIT) },
	{ "last-ack", XTCP_TCPF(XTCP_TCP_LAST_ACK) },
	{ "all", XTCP_STATES_ALL },
	{ "connected", XTCP_STATES_CONNECTED },
	{ "synchronized", XTCP_STATES_SYNCHRONIZED },
	{ "bucket", XTCP_STATES_BUCKET },
	{ "big", XTCP_STATES_BIG },
};

const char *xtcp_tcp_state_known_name(unsigned state)
{
	return state < XTCP_TCP_STATE_COUNT ? state_names[state] : NULL;
}

const char *xtcp_tcp_state_name(unsigned state)
{
	const char *name = xtcp_tcp_state_known_name(state);

	return name ? name : state_names[XTCP_TCP_UNKNOWN];
}

static int word_is(const char *word, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(word, name, len) == 0;
}

/* A kernel name in any case, with '-' for '_' too ("new-syn-recv"). */
static int name_is(const char *word, size_t len, const char *name)
{
	size_t i;

	if (strlen(name) != len)
		return 0;
	for (i = 0; i < len; i++) {
		int c = word[i] == '-' ? '_' : word[i];

		if ((c | 32) != (name[i] | 32) || (c == '_') != (name[i] == '_'))
			return 0;
	}
	return 1;
}

int xtcp_tcp_state_word(const char *word, size_t len, uint32_t *states)
{
	size_t i;

	/* ss's words first: its "syn-recv" is both request states */
	for (i = 0; i < sizeof(state_words) / sizeof(state_words[0]); i++) {
		if (word_is(word, len, state_words[i].name)) {
			*states = state_words[i].states;
			return 0;
		}
	}
	for (i = XTCP_TCP_ESTABLISHED; i < XTCP_TCP_STATE_COUNT; i++) {
		if (name_is(word, len, state_names[i])) {
			*states = XTCP_TCPF(i);
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

int xtcp_tcp_states_parse(const char *list, uint32_t *states, const char **bad, size_t *bad_len)
{
	const char *p = list;
	uint32_t mask = 0, m;

	do {
		size_t len = strcspn(p, ",");

		if (xtcp_tcp_state_word(p, len, &m) < 0) {
			*bad = p;
			*bad_len = len;
			return -1;
		}
		mask |= m;
		p += len;
	} while (*p++ == ',');
	*states = mask;
	return 0;
}

int xtcp_family_parse(const char *word, size_t len)
{
	if (word_is(word, len, "AF_INET") || word_is(word, len, "inet") || word_is(word, len, "ipv4"))
		return AF_INET;
	if (word_is(word, len, "AF_INET6") || word_is(word, len, "inet6") ||
	    word_is(word, len, "ipv6"))
		return AF_INET6;
	errno = EINVAL;
	return -1;
}
