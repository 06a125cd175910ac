/*
 * The counting malloc (see alloccount.h): this program's malloc family
 * replaces glibc's and forwards to it, counting calls and bytes while
 * `counting` is set.
 */

#include "alloccount.h"

#include <errno.h>
#include <stdlib.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ALLOC_COUNT 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define NO_ALLOC_COUNT 1
#endif

static volatile bool counting;
static struct xtcp_alloccount counted;

#ifndef NO_ALLOC_COUNT
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

static inline void count_alloc(size_t size)
{
	if (counting) {
		counted.calls++;
		counted.bytes += size;
	}
}

void *malloc(size_t size)
{
	count_alloc(size);
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count_alloc(n * size);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count_alloc(size);
	return __libc_realloc(p, size);
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count_alloc(size);
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	count_alloc(size);
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void free(void *p)
{
	__libc_free(p);
}
#endif

void xtcp_alloccount_start(void)
{
	counted.calls = counted.bytes = 0;
	counting = true;
	__asm__ __volatile__("" ::: "memory");
}

void xtcp_alloccount_stop(struct xtcp_alloccount *count)
{
	/*
	 * The compiler takes malloc for the C library's, which touches no
	 * variable of ours, and may fold `counted` across the calls (the
	 * PGO-built micro did, and counted nothing): make it read memory.
	 */
	__asm__ __volatile__("" ::: "memory");
	counting = false;
	*count = counted;
}

bool xtcp_alloccount_works(void)
{
	struct xtcp_alloccount count;
	void *volatile p;

	xtcp_alloccount_start();
	p = malloc(24);
	xtcp_alloccount_stop(&count);
	free(p);
	return count.calls == 1 && count.bytes == 24;
}
