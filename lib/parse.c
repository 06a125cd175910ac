#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Split "123.4unit" into its value and unit; the unit is returned in *unit. */
static int split_number(const char *text, double *value, uint64_t *integer, int *is_integer,
			const char **unit)
{
	const char *p = text;
	char *end;

	if (!*p || isspace((unsigned char)*p) || *p == '-' || *p == '+')
		return -1;
	errno = 0;
	*integer = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	*is_integer = *end != '.' && errno == 0;
	if (!*is_integer) {
		errno = 0;
		*value = strtod(p, &end);
		if (end == p || errno == ERANGE || !isfinite(*value))
			return -1;
	} else {
		*value = (double)*integer;
	}
	*unit = end;
	return 0;
}

static int check_range(uint64_t v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int xtcp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *unit;
	uint64_t v;
	double d;
	int is_int;

	if (split_number(text, &d, &v, &is_int, &unit) < 0 || *unit || !is_int) {
		errno = EINVAL;
		return -1;
	}
	return check_range(v, min, max, out);
}

static const struct {
	const char *suffix;
	uint64_t factor;
} size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "k", 1000 }, { "K", 1000 }, { "kB", 1000 }, { "KB", 1000 },
	{ "M", 1000000 }, { "MB", 1000000 },
	{ "G", 1000000000 }, { "GB", 1000000000 },
	{ "Ki", 1024 }, { "KiB", 1024 },
	{ "Mi", 1048576 }, { "MiB", 1048576 },
	{ "Gi", 1073741824 }, { "GiB", 1073741824 },
};

int xtcp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *unit;
	uint64_t v;
	double d;
	int is_int;
	size_t i;

	if (split_number(text, &d, &v, &is_int, &unit) < 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		uint64_t f = size_units[i].factor;

		if (strcmp(unit, size_units[i].suffix) != 0)
			continue;
		if (is_int) {
			if (v > UINT64_MAX / f) {
				errno = ERANGE;
				return -1;
			}
			return check_range(v * f, min, max, out);
		}
		d *= (double)f;
		if (d >= 18446744073709551615.0) {
			errno = ERANGE;
			return -1;
		}
		return check_range((uint64_t)d, min, max, out);
	}
	errno = EINVAL;
	return -1;
}

static const struct {
	const char *suffix;
	uint64_t ns;
} time_units[] = {
	{ "", 1000000000ull }, { "s", 1000000000ull }, { "ns", 1 }, { "us", 1000 },
	{ "ms", 1000000ull }, { "m", 60000000000ull }, { "h", 3600000000000ull },
};

int xtcp_parse_duration(const char *text, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns)
{
	const char *unit;
	uint64_t v;
	double d;
	int is_int;
	size_t i;

	if (split_number(text, &d, &v, &is_int, &unit) < 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (strcmp(unit, time_units[i].suffix) != 0)
			continue;
		d *= (double)time_units[i].ns;
		if (d >= 18446744073709551615.0) {
			errno = ERANGE;
			return -1;
		}
		if (is_int && v <= UINT64_MAX / time_units[i].ns)
			return check_range(v * time_units[i].ns, min_ns, max_ns, out_ns);
		return check_range((uint64_t)llround(d), min_ns, max_ns, out_ns);
	}
	errno = EINVAL;
	return -1;
}
