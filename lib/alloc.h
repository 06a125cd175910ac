#ifndef XTCP_ALLOC_H
#define XTCP_ALLOC_H

/*
 * Growable arrays, after git's ALLOC_GROW: an array pointer, the number of
 * elements it has room for, and a count the caller keeps.
 *
 *	if (XTCP_ALLOC_GROW(list->items, list->n + 1, list->alloc) < 0)
 *		return -1;
 *	list->items[list->n++] = item;
 *
 * XTCP_ALLOC_GROW(arr, need, alloc) makes room for at least @need elements:
 * when @alloc is smaller, @arr is reallocated to about one and a half times
 * what it had (at least @need, at least 16), and @arr and @alloc are updated.
 * It evaluates to 0, or to -1 with errno ENOMEM (also when the size would
 * overflow), leaving @arr and @alloc as they were.  @arr and @alloc are
 * evaluated more than once: pass plain lvalues.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The element count to grow to, or 0 when need * elem would overflow. */
static inline size_t xtcp_alloc_nr(size_t alloc, size_t need, size_t elem)
{
	size_t n = alloc < SIZE_MAX / 3 - 16 ? (alloc + 16) * 3 / 2 : SIZE_MAX;

	if (n < need)
		n = need;
	return elem && n > SIZE_MAX / elem ? 0 : n;
}

#define XTCP_ALLOC_GROW(arr, need, alloc) __extension__ ({                            \
	int grow_rc_ = 0;                                                             \
	size_t grow_need_ = (need);                                                   \
	if (grow_need_ > (alloc)) {                                                   \
		size_t grow_n_ = xtcp_alloc_nr((alloc), grow_need_, sizeof(*(arr)));  \
		void *grow_p_ = grow_n_ ? realloc((arr), grow_n_ * sizeof(*(arr))) : NULL; \
		if (grow_p_) {                                                        \
			(arr) = grow_p_;                                              \
			(alloc) = grow_n_;                                            \
		} else {                                                              \
			errno = ENOMEM;                                               \
			grow_rc_ = -1;                                                \
		}                                                                     \
	}                                                                             \
	grow_rc_;                                                                     \
})

#endif
