#ifndef XTCP_ALLOCCOUNT_H
#define XTCP_ALLOCCOUNT_H

/*
 * Allocation counting, for the B/op and allocs/op of xtcp-bench micro.
 *
 * alloccount.c defines malloc, calloc, realloc, memalign, aligned_alloc,
 * posix_memalign and free, forwarding to glibc's __libc_* functions, so it
 * replaces the allocator of the whole program that links it.  That is why it
 * is linked into one program only, xtcp-bench-micro, which `xtcp-bench micro`
 * runs: load, gen and floor keep the C library's malloc untouched.  (Counting
 * inside part of a program would need malloc hooks, which glibc 2.34 removed;
 * an LD_PRELOAD library would be one more thing to find and install.)
 *
 * Nothing is counted until xtcp_alloccount_start(), nor after
 * xtcp_alloccount_stop().  The counters are plain globals: count on one
 * thread, with no other thread allocating.  Under AddressSanitizer, which
 * owns malloc, nothing is replaced and nothing is counted;
 * xtcp_alloccount_works() says so.
 */

#include <stdbool.h>
#include <stdint.h>

struct xtcp_alloccount {
	uint64_t calls;        /* allocating calls (free is not one) */
	uint64_t bytes;        /* bytes they asked for */
};

/* Reset the counters and start counting. */
void xtcp_alloccount_start(void);

/* Stop counting; @count gets what was counted since xtcp_alloccount_start(). */
void xtcp_alloccount_stop(struct xtcp_alloccount *count);

/*
 * Whether the counter sees allocations: one counted malloc(24) must count as
 * one call of 24 bytes.  False under AddressSanitizer, or when a malloc
 * bypasses this one.
 */
bool xtcp_alloccount_works(void);

#endif
