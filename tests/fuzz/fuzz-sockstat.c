/*
 * libFuzzer target for the parsers of /proc/net/sockstat and
 * /proc/net/protocols: arbitrary bytes as either file.  Neither reads past
 * the text (the input is copied to a buffer of exactly its size, so ASan
 * sees any overread), each either fails with EBADMSG or gives counts that
 * are not negative, and a parse is the same however often it is made.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sockstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const struct xtcp_sockstat *st)
{
	if (rc < 0 && errno != EBADMSG)
		abort();
	if (rc == 0 && (st->used < 0 || st->tcp_inuse < 0 || st->tcp_tw < 0 ||
			st->tcp6_inuse < 0 || st->not_tcp < 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xtcp_sockstat a, b;
	char *text = malloc(size ? size : 1);
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rc = xtcp_sockstat_parse_sockstat(text, size, &a);
	check(rc, &a);
	if (xtcp_sockstat_parse_sockstat(text, size, &b) != rc || (rc == 0 && memcmp(&a, &b, sizeof(a))))
		abort();
	rc = xtcp_sockstat_parse_protocols(text, size, &a);
	check(rc, &a);
	if (xtcp_sockstat_parse_protocols(text, size, &b) != rc ||
	    (rc == 0 && (a.tcp6_inuse != b.tcp6_inuse || a.not_tcp != b.not_tcp)))
		abort();
	free(text);
	return 0;
}
