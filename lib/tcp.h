#ifndef XTCP_TCP_H
#define XTCP_TCP_H

/*
 * The TCP vocabulary the record speaks: socket states with their names and
 * the masks the kernel's dump request and ss's state filters use, and
 * address families.  (The congestion control enum is the schema's:
 * xtcp_field_enum_value() in lib/schema.h.)
 */

#include <stddef.h>
#include <stdint.h>

/* The kernel's TCP states (include/net/tcp_states.h), as inet_diag_msg.idiag_state has them. */
enum xtcp_tcp_state {
	XTCP_TCP_UNKNOWN = 0,
	XTCP_TCP_ESTABLISHED = 1,
	XTCP_TCP_SYN_SENT,
	XTCP_TCP_SYN_RECV,
	XTCP_TCP_FIN_WAIT1,
	XTCP_TCP_FIN_WAIT2,
	XTCP_TCP_TIME_WAIT,
	XTCP_TCP_CLOSE,
	XTCP_TCP_CLOSE_WAIT,
	XTCP_TCP_LAST_ACK,
	XTCP_TCP_LISTEN,
	XTCP_TCP_CLOSING,
	XTCP_TCP_NEW_SYN_RECV,
	XTCP_TCP_BOUND_INACTIVE,
	XTCP_TCP_STATE_COUNT
};

/* A state's bit in a mask (idiag_states, the kernel's TCPF_*). */
#define XTCP_TCPF(state) (1u << (state))

/* Every state the kernel may ever define (--states all). */
#define XTCP_STATES_ALL 0xffffffffu
/*
 * What a dump asks for by default: all but BOUND_INACTIVE, sockets bound
 * and neither listening nor connected (Linux 6.10 and later report them,
 * as CLOSE, only when asked: ss -a or -B).  Asking for them makes every
 * dump also walk the kernel's bind hash, which holds every bound socket:
 * some 20 ms more a dump at 100,000 sockets, and as much in each
 * namespace polled, however empty.
 */
#define XTCP_STATES_DEFAULT (XTCP_STATES_ALL & ~XTCP_TCPF(XTCP_TCP_BOUND_INACTIVE))
/* ss's SS_ALL: the states ss knows, UNKNOWN to NEW_SYN_RECV. */
#define XTCP_STATES_SS_ALL (XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV + 1) - 1)
/* ss's "connected": not listening, not closed. */
#define XTCP_STATES_CONNECTED \
	(XTCP_STATES_SS_ALL & ~(XTCP_TCPF(XTCP_TCP_UNKNOWN) | XTCP_TCPF(XTCP_TCP_LISTEN) | \
				XTCP_TCPF(XTCP_TCP_CLOSE)))
/* ss's "synchronized": connected, and past the handshake. */
#define XTCP_STATES_SYNCHRONIZED \
	(XTCP_STATES_CONNECTED & ~(XTCP_TCPF(XTCP_TCP_SYN_SENT) | XTCP_TCPF(XTCP_TCP_SYN_RECV) | \
				   XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV)))
/* ss's "bucket": the minisockets (request and time-wait sockets). */
#define XTCP_STATES_BUCKET \
	(XTCP_TCPF(XTCP_TCP_SYN_RECV) | XTCP_TCPF(XTCP_TCP_TIME_WAIT) | \
	 XTCP_TCPF(XTCP_TCP_NEW_SYN_RECV))
/* ss's "big": full sockets. */
#define XTCP_STATES_BIG \
	(XTCP_STATES_SS_ALL & ~(XTCP_STATES_BUCKET | XTCP_TCPF(XTCP_TCP_UNKNOWN)))

/* "ESTABLISHED", "SYN_SENT", ... as the kernel names them; "UNKNOWN" for 0 and any other number. */
const char *xtcp_tcp_state_name(unsigned state);

/* The state's name, or NULL for a number the kernel has no name for (0 is "UNKNOWN"). */
const char *xtcp_tcp_state_known_name(unsigned state);

/*
 * Parse a comma-separated list of states into a mask: the kernel's names in
 * any case, with '-' or '_' ("ESTABLISHED", "time_wait", "new-syn-recv"),
 * ss's ("estab", "syn-sent",
 * "time-wait", "unconn", and the words of ss's state filter: "listening",
 * "unconnected", "closed", ...) and ss's sets ("all", "connected",
 * "synchronized", "bucket", "big").  A kernel name is its one state; ss's
 * "syn-recv" is both request-socket states (SYN_RECV, NEW_SYN_RECV).  Returns 0, or -1 with errno EINVAL and *bad, *bad_len on the
 * unknown word.
 */
int xtcp_tcp_states_parse(const char *list, uint32_t *states, const char **bad, size_t *bad_len);

/* A state word (one list item) of @len bytes: 0 with *states set, or -1 (EINVAL). */
int xtcp_tcp_state_word(const char *word, size_t len, uint32_t *states);

/*
 * An address family by name: "AF_INET", "inet", "ipv4" and "AF_INET6",
 * "inet6", "ipv6", case-insensitive.  Returns AF_INET or AF_INET6, or -1
 * (EINVAL).
 */
int xtcp_family_parse(const char *word, size_t len);

#endif
