#ifndef XTCP_BYTECODE_H
#define XTCP_BYTECODE_H

/*
 * sock_diag bytecode (INET_DIAG_REQ_BYTECODE) and a state mask from a
 * filter expression (lib/filter.h), so that a dump asks the kernel only for
 * the sockets the expression can match.
 *
 * What the kernel can decide: source and destination ports (any
 * comparison), address prefixes of either family (an IPv4 prefix matches
 * IPv4-mapped addresses too, as in the filter), the bound device (== and
 * !=), the mark (==, != and MARK/MASK), the cgroup id (== and !=), and the
 * states (folded into the request's idiag_states, not into the bytecode).
 * Every other test is user space's.  The request is built to keep a
 * superset of the expression's rows: a test the kernel cannot decide is
 * "anything" there (so "port 22 or rtt > 5ms" sends nothing for the or),
 * and the parts it decides only approximately are re-checked.  What the
 * request decides exactly are whole top-level conjuncts of the expression
 * (A && B && C, or A && (B && C): each of A, B, C); @decided lists them, and the caller
 * passes them to xtcp_filter_assume() and evaluates the rest.
 *
 * Approximations, from the kernel's inet_diag_bc_sk(): the mark the kernel
 * tests on a time-wait or request socket is its own (tw_mark, ir_mark)
 * while the record has the INET_DIAG_MARK attribute, which only full
 * sockets carry (else 0), so mark tests are re-checked; a request for
 * SYN_RECV also brings NEW_SYN_RECV sockets (reported as SYN_RECV), and
 * CLOSE brings BOUND_INACTIVE ones (reported as CLOSE), so states are
 * widened to those the records can say.
 *
 * The code follows inet_diag_bc_audit(): every instruction's "yes" is its
 * own length (the chain of instructions the audit walks), "no" jumps
 * forward to an instruction or to the end + 4 (reject); ports use GE and LE
 * only (EQ is newer than some kernels we run on).  MARK_COND needs
 * CAP_NET_ADMIN (else EPERM), CGROUP_COND a kernel that has it, built with
 * CONFIG_SOCK_CGROUP_DATA (else EINVAL): a caller falls back to user space
 * when the kernel refuses the request.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xtcp_filter;

/* The largest bytecode a request can carry (a u16 attribute length, and "no" offsets of 16 bits). */
#define XTCP_BYTECODE_MAX 65528

struct xtcp_bytecode {
	uint8_t *code;          /* the attribute's payload; NULL when there is none to send */
	size_t len;
	uint32_t states;        /* idiag_states: every state a matching row can be dumped from */
	uint32_t *decided;      /* top-level conjuncts the request decides exactly */
	size_t n_decided;
	uint32_t *narrowed;     /* conjuncts the request narrows, re-checked in user space */
	size_t n_narrowed;
	uint32_t *conjuncts;    /* the top-level conjuncts (kids of ANDs, however nested) */
	size_t n_conjuncts;
	bool too_large;         /* the code went over XTCP_BYTECODE_MAX: none is sent */
};

/*
 * Compile @f.  Returns 0, or -1 with errno ENOMEM.  An expression whose code
 * would be too large gives no code (too_large set; its state mask and the
 * conjuncts the mask alone decides still count).
 */
int xtcp_bytecode_compile(struct xtcp_bytecode *bc, const struct xtcp_filter *f);
void xtcp_bytecode_release(struct xtcp_bytecode *bc);

/* Whether every conjunct is decided: the rows the kernel sends are the answer. */
bool xtcp_bytecode_exact(const struct xtcp_bytecode *bc);

/*
 * Write the code as text into @buf (at most @size bytes, NUL-terminated),
 * one instruction a line ("16: D_GE 443 yes 24 no 40").  Returns the length
 * it needed (as snprintf).  Any bytes are accepted: an instruction that
 * does not fit is shown as such.
 */
size_t xtcp_bytecode_format(const uint8_t *code, size_t len, char *buf, size_t size);

#endif
