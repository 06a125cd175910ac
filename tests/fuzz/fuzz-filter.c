/*
 * The filter language on arbitrary bytes: the text before the first NUL is an
 * expression, the bytes after it a row.  Compiling never crashes and either
 * succeeds or names a column inside the expression (or just past its end);
 * a compiled filter in strict mode gives the same answer on the row's bytes
 * as on the record protobuf-c-compatible decoding makes of them, and rejects
 * exactly the rows the decoder rejects; the quick scan gives the same answer
 * on every canonical row (fields in ascending order).  Any difference aborts.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xtcp_decoder dec;
	XtcpFlatRecord__V1__XtcpFlatRecord rec;
	struct xtcp_filter_error e;
	struct xtcp_filter *f;
	const uint8_t *nul = memchr(data, 0, size);
	size_t expr_len = nul ? (size_t)(nul - data) : size;
	const uint8_t *row = nul ? nul + 1 : data + size;
	size_t row_len = size - expr_len - (nul ? 1 : 0);
	char *expr;
	int raw, quick, rc;

	expr = malloc(expr_len + 1);
	if (!expr)
		return 0;
	memcpy(expr, data, expr_len);
	expr[expr_len] = '\0';
	f = xtcp_filter_new(expr, &e);
	if (!f) {
		if (errno != ENOMEM && (e.column < 1 || e.column > expr_len + 1 || !e.msg[0]))
			abort();
		free(expr);
		return 0;
	}
	quick = xtcp_filter_match(f, row, row_len);
	xtcp_filter_set_strict(f, true);
	raw = xtcp_filter_match(f, row, row_len);
	rc = xtcp_record_decode(&dec, row, row_len, &rec);
	if ((rc == 0) != (raw >= 0))
		abort();
	if (rc == 0 && raw != xtcp_filter_match_record(f, &rec))
		abort();
	if (rc == 0 && quick != raw) {
		/* allowed only when the row is not canonical */
		static uint8_t out[1 << 16];

		if (xtcp_record_encoded_max(&rec) <= sizeof(out) &&
		    xtcp_record_encode(&rec, out) == row_len && !memcmp(out, row, row_len))
			abort();
	}
	xtcp_filter_free(f);
	free(expr);
	return 0;
}
