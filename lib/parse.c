#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MAX_DIGITS 24

static const struct {
	const char *name;
	enum xtcp_unit_class class;
	uint64_t factor;
} units[] = {
	{ "ns", XTCP_UNIT_TIME, 1 },
	{ "us", XTCP_UNIT_TIME, 1000 },
	{ "ms", XTCP_UNIT_TIME, 1000000 },
	{ "s", XTCP_UNIT_TIME, 1000000000 },
	{ "m", XTCP_UNIT_TIME, 60000000000 },
	{ "h", XTCP_UNIT_TIME, 3600000000000 },
	{ "B", XTCP_UNIT_SIZE, 1 },
	{ "k", XTCP_UNIT_SIZE, 1000 },
	{ "K", XTCP_UNIT_SIZE, 1000 },
	{ "kB", XTCP_UNIT_SIZE, 1000 },
	{ "KB", XTCP_UNIT_SIZE, 1000 },
	{ "M", XTCP_UNIT_SIZE, 1000000 },
	{ "MB", XTCP_UNIT_SIZE, 1000000 },
	{ "G", XTCP_UNIT_SIZE, 1000000000 },
	{ "GB", XTCP_UNIT_SIZE, 1000000000 },
	{ "T", XTCP_UNIT_SIZE, 1000000000000 },
	{ "TB", XTCP_UNIT_SIZE, 1000000000000 },
	{ "Ki", XTCP_UNIT_SIZE, 1ull << 10 },
	{ "KiB", XTCP_UNIT_SIZE, 1ull << 10 },
	{ "Mi", XTCP_UNIT_SIZE, 1ull << 20 },
	{ "MiB", XTCP_UNIT_SIZE, 1ull << 20 },
	{ "Gi", XTCP_UNIT_SIZE, 1ull << 30 },
	{ "GiB", XTCP_UNIT_SIZE, 1ull << 30 },
	{ "Ti", XTCP_UNIT_SIZE, 1ull << 40 },
	{ "TiB", XTCP_UNIT_SIZE, 1ull << 40 },
};

const char xtcp_number_units[] = "ns us ms s m h, k M G T Ki Mi Gi Ti (B, kB, KiB, ...)";

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 32) >= 'a' && (c | 32) <= 'f')
		return (c | 32) - 'a' + 10;
	return -1;
}

int xtcp_number_parse(const char *text, size_t len, struct xtcp_number *n)
{
	const char *p = text, *end = text + len;
	size_t digits = 0, i;

	memset(n, 0, sizeof(*n));
	n->den = 1;
	n->factor = 1;
	if (p < end && (*p == '-' || *p == '+'))
		n->neg = *p++ == '-';
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (p += 2; p < end; p++) {
			int v = hex_digit(*p);

			if (v < 0)
				goto syntax;
			if (++digits > 16) {
				errno = ERANGE;
				return -XTCP_NUMBER_TOO_LARGE;
			}
			n->num = n->num * 16 + (unsigned)v;
		}
		return 0;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
		n->num = n->num * 10 + (unsigned)(*p - '0');
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			n->num = n->num * 10 + (unsigned)(*p - '0');
			n->den *= 10;
		}
	}
	if (!digits)
		goto syntax;
	if (digits > MAX_DIGITS) {
		errno = ERANGE;
		return -XTCP_NUMBER_TOO_LARGE;
	}
	if (p == end)
		return 0;
	n->unit = p;
	n->unit_len = (size_t)(end - p);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == n->unit_len && !memcmp(units[i].name, p, n->unit_len)) {
			n->unit_class = units[i].class;
			n->factor = units[i].factor;
			return 0;
		}
	}
	/* a letter after the digits is a unit no table has; anything else is not a number */
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
		errno = EINVAL;
		return -XTCP_NUMBER_UNIT;
	}
syntax:
	errno = EINVAL;
	return -XTCP_NUMBER_SYNTAX;
}

/* An option's number: unsigned, of an accepted unit class, the whole text. */
static int option_number(const char *text, unsigned classes, struct xtcp_number *n)
{
	if (!*text || text[0] == '-' || text[0] == '+' ||
	    xtcp_number_parse(text, strlen(text), n) < 0 || !(classes & 1u << n->unit_class)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* num * factor / den, rounded down (@nearest: to the nearest), into @out within the range. */
static int scaled(const struct xtcp_number *n, bool nearest, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	u128 v;

	if (n->num > ~(u128)0 / n->factor) {
		errno = ERANGE;
		return -1;
	}
	v = n->num * n->factor;
	v = nearest ? (v + n->den / 2) / n->den : v / n->den;
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int xtcp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	struct xtcp_number n;

	if (option_number(text, 1u << XTCP_UNIT_NONE, &n) < 0 || n.den != 1) {
		errno = EINVAL;
		return -1;
	}
	return scaled(&n, false, min, max, out);
}

int xtcp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	struct xtcp_number n;

	if (option_number(text, 1u << XTCP_UNIT_NONE | 1u << XTCP_UNIT_SIZE, &n) < 0)
		return -1;
	return scaled(&n, false, min, max, out);
}

int xtcp_parse_duration(const char *text, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns)
{
	struct xtcp_number n;

	if (option_number(text, 1u << XTCP_UNIT_NONE | 1u << XTCP_UNIT_TIME, &n) < 0)
		return -1;
	if (n.unit_class == XTCP_UNIT_NONE)
		n.factor = 1000000000;          /* a bare number is seconds */
	return scaled(&n, true, min_ns, max_ns, out_ns);
}

/* The next word of @line after *@pos (spaces and tabs between), NUL-terminated in place. */
static char *next_word(char *line, size_t *pos)
{
	size_t i = *pos, start;

	while (line[i] == ' ' || line[i] == '\t')
		i++;
	if (!line[i])
		return NULL;
	start = i;
	while (line[i] && line[i] != ' ' && line[i] != '\t')
		i++;
	if (line[i])
		line[i++] = '\0';
	*pos = i;
	return line + start;
}

/* Whether the services(5) line @line names @name for @protocol; its port in *port. */
static bool service_line(char *line, const char *name, const char *protocol, uint32_t *port)
{
	char *word, *slash;
	size_t pos = 0;
	uint64_t v;
	bool named;

	line[strcspn(line, "#\r\n")] = '\0';
	word = next_word(line, &pos);
	if (!word)
		return false;
	named = !strcmp(word, name);
	word = next_word(line, &pos);
	if (!word || !(slash = strchr(word, '/')) || strcmp(slash + 1, protocol))
		return false;
	*slash = '\0';
	if (xtcp_parse_u64(word, 0, 65535, &v) < 0 || !(*word >= '0' && *word <= '9'))
		return false;
	while (!named && (word = next_word(line, &pos)))
		named = !strcmp(word, name);
	*port = (uint32_t)v;
	return named;
}

int xtcp_service_port(const char *path, const char *name, const char *protocol, uint32_t *port)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t line_cap = 0;
	bool found = false, failed;

	if (!f)
		return -1;
	while (!found && getline(&line, &line_cap, f) > 0)
		found = service_line(line, name, protocol, port);
	free(line);
	failed = !found && ferror(f);
	fclose(f);
	if (!found)
		errno = failed ? EIO : ENOENT;
	return found ? 0 : -1;
}
