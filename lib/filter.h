#ifndef XTCP_FILTER_H
#define XTCP_FILTER_H

/*
 * The filter language of xtcp-filter: an expression over the fields of a
 * record, compiled once and evaluated per row without allocating.
 *
 *   state == ESTABLISHED && rtt > 5ms && dst in 10.0.0.0/8
 *   cong ~ "^bbr" || (retrans > 0 && !(dport in (22, 443)))
 *
 * Grammar (man/xtcp-filter.1 is the user's copy, with the alias table):
 *
 *   expr    := and ( ("||" | "or") and )*
 *   and     := unary ( ("&&" | "and") unary )*
 *   unary   := ("!" | "not") unary | "(" expr ")" | test
 *   test    := FIELD                       true when the field is not 0 / ""
 *            | FIELD CMP value             CMP: == != < <= > >=
 *            | FIELD ("~" | "!~") STRING   PCRE2 regex on the bytes, unanchored
 *            | FIELD ["not"] "in" set
 *   set     := value | "(" value ("," value)* ")"
 *   value   := NUMBER[unit] | STRING ("..." or '...') | WORD | ADDRESS[/len]
 *
 * FIELD is what xtcp_schema_resolve() finds: a schema field name or an
 * alias (src, dst, sport, dport, state, rtt, cwnd, cong, ...; any tcp_info_X
 * as X, any inet_diag_msg_X as X).  Numbers are lib/parse.h's dialect:
 * decimal, 0x hex, fractions ("1.5ms"), size multipliers (k M G T x1000, Ki
 * Mi Gi Ti x1024, KiB ...) on any number, time units (ns us ms s m h) on time
 * fields only; a bare number is in the field's own unit (the schema's unit:
 * tcp_info_rtt is in microseconds, tcp_info_last_* in milliseconds).
 * Addresses: an IPv4 prefix matches AF_INET addresses and IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d); an IPv6 prefix matches AF_INET6 addresses;
 * "==" is "in" with a full-length prefix.  State fields take state names
 * (ESTABLISHED, estab, time-wait, connected, ...; any case) and numbers.
 *
 * ss's syntax (ss(8) FILTER) is read with ss's meaning: "=" and the words
 * eq ne lt gt le ge (geq leq neq) as comparisons, single "&" and "|", two
 * tests side by side as "and", src/dst/sport/dport/state/dev/fwmark
 * followed by a value without an operator, ports ":22", ":https" (tcp
 * services of /etc/services, looked up here), "*"; hosts "10.0.0.1:80",
 * "[::1]:22", "*:22"; interface names (if_nametoindex, in the calling
 * thread's namespace); "fwmark = MARK/MASK"; and a leading state filter
 * "state A state B exclude C EXPR" that applies to all of EXPR.  ss gives
 * "and" and "or" one precedence, left to right; so that no text means two
 * things, an expression using any of ss's forms where an "or" is followed
 * by an unparenthesised "and" is an error (EINVAL).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct xtcp_filter;

/* Why compiling failed: the 1-based byte column in the expression, and a message. */
struct xtcp_filter_error {
	size_t column;
	char msg[256];
};

/*
 * Compile @expr.  Returns the compiled filter, or NULL with errno EINVAL and
 * @err filled (a syntax, name or type error; err->column points at it), or
 * ENOMEM.  Regular expressions are compiled here, once.
 */
struct xtcp_filter *xtcp_filter_new(const char *expr, struct xtcp_filter_error *err);
void xtcp_filter_free(struct xtcp_filter *f);

/*
 * Regular expressions are PCRE2's, compiled once, matched on a string's
 * bytes (no UTF-8 decoding), with bounds on what one can cost, whatever the
 * pattern or the data: a pattern of at most XTCP_FILTER_REGEX_MAX bytes and
 * XTCP_FILTER_REGEX_NEST nested parentheses (else xtcp_filter_new fails); a
 * match of at most XTCP_FILTER_REGEX_STEPS backtracking steps and
 * XTCP_FILTER_REGEX_HEAP_KIB KiB of heap per value (else the row is an
 * error, ERANGE): about a millisecond per value at worst.
 */
#define XTCP_FILTER_REGEX_MAX 1024
#define XTCP_FILTER_REGEX_NEST 50
#define XTCP_FILTER_REGEX_STEPS 100000
#define XTCP_FILTER_REGEX_HEAP_KIB 1024

/*
 * Evaluate on one serialized XtcpFlatRecord (a row of an Envelope), reading
 * only the fields the expression uses.  Returns 1 (match), 0 (no match), or
 * -1 with errno EBADMSG (a malformed row) or ERANGE (a regular expression
 * went over one of its limits on this row's value, below).  Uses scratch
 * space inside @f: one filter must not be used by two threads at once.
 * Allocates nothing (PCRE2 keeps the heap its backtracking took in the
 * filter's one match block).
 *
 * What is checked: the row is scanned as protobuf-c's decoder reads it (tags
 * of at most 5 bytes, varints, lengths, the wire type of every known field;
 * a repeated field's last value wins), up to the point where every field so
 * far came in ascending field-number order (as every protobuf encoder,
 * xtcp's included, writes them) and the next field's number is above every
 * field the expression reads.  The rest of the row cannot change the answer
 * and is not read: a malformed tail is not noticed here (xtcp-filter checks
 * each row it keeps with xtcp_record_check() before passing it on).  In
 * strict mode the whole row is always scanned, so a row is rejected exactly
 * when xtcp_record_decode() rejects it, and the answer always equals
 * xtcp_filter_match_record() on the decoded row.
 */
int xtcp_filter_match(struct xtcp_filter *f, const uint8_t *row, size_t len);

/* Strict mode (see above); off after xtcp_filter_new(). */
void xtcp_filter_set_strict(struct xtcp_filter *f, bool strict);

/* The same on a decoded record.  Returns 1 or 0, or -1 (ERANGE) as above. */
int xtcp_filter_match_record(struct xtcp_filter *f, const XtcpFlatRecord__V1__XtcpFlatRecord *rec);

/* How many distinct fields the expression reads. */
size_t xtcp_filter_n_fields(const struct xtcp_filter *f);

/*
 * A read-only view of the compiled expression as a tree, for compilers to
 * other languages (lib/bytecode.c).  Terms are numbered; the whole
 * expression is xtcp_filter_root().  What a term tests:
 *   AND, OR: all or any of kids[0..n_kids); NOT: not kids[0]; CONST: value.
 *   RANGE: lo <= field <= hi, for an unsigned field (a bare field that is
 *     a number is RANGE 1 .. its maximum).
 *   MASK: a state field whose value v has bit v set in lo (v < 64).
 *   BITS: (field & lo) == hi.
 *   PREFIX: an address field in family's prefix addr/prefix_len, with the
 *     matching rules of the header's comment (an AF_INET prefix matches
 *     IPv4-mapped addresses of AF_INET6 records too).
 *   OTHER: anything else (strings, regular expressions, signed fields).
 * text_start and text_len locate the term in the expression it was
 * compiled from (0 and 0 for a term with no text of its own).
 */
enum xtcp_filter_term_kind {
	XTCP_TERM_AND, XTCP_TERM_OR, XTCP_TERM_NOT, XTCP_TERM_CONST,
	XTCP_TERM_RANGE, XTCP_TERM_MASK, XTCP_TERM_BITS, XTCP_TERM_PREFIX, XTCP_TERM_OTHER,
};

struct xtcp_filter_term {
	enum xtcp_filter_term_kind kind;
	const ProtobufCFieldDescriptor *field;   /* RANGE, MASK, BITS, PREFIX, OTHER */
	const uint32_t *kids;
	size_t n_kids;
	bool value;                               /* CONST */
	uint64_t lo, hi;
	int family;                               /* PREFIX: AF_INET or AF_INET6 */
	unsigned prefix_len;
	uint8_t addr[16];                         /* network order; IPv4 in the first 4 */
	size_t text_start, text_len;
};

uint32_t xtcp_filter_root(const struct xtcp_filter *f);
void xtcp_filter_term(const struct xtcp_filter *f, uint32_t i, struct xtcp_filter_term *t);

/*
 * From now on, term @i is true for every row @f is given: someone else (the
 * kernel, through a dump request) has decided it.  The term's own tests are
 * no longer evaluated.
 */
void xtcp_filter_assume(struct xtcp_filter *f, uint32_t i);

#endif
