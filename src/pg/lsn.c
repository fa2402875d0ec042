/*
 * LSNs and WAL file names as pure arithmetic.
 *
 * This file owns the textual forms PostgreSQL uses for positions in the
 * write-ahead log: the "X/Y" notation of an LSN, the 24-hex-digit name of a
 * WAL segment, the other names that appear in an archive (.partial, .backup,
 * .history) and the content of a timeline history file.  Nothing here does
 * I/O; every function works on strings and integers only, so archive-push,
 * archive-get, backup and restore can agree on names without sharing state.
 *
 * Names are matched strictly: PostgreSQL writes upper-case hexadecimal, so
 * a name in lower case is not one of its files and is classified invalid.
 * LSNs typed by an operator may use either case, as pg_lsn input does.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/lsn.h"

#define WAL_LOG_SPAN	UINT64_C(0x100000000)	/* bytes covered by one "log" */
#define WAL_SEG_MIN		(UINT64_C(1) << 20)
#define WAL_SEG_MAX		(UINT64_C(1) << 30)

/* Value of a hexadecimal digit, or -1; upper_only refuses a-f. */
static int
hex_value(char c, bool upper_only)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (!upper_only && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Parse 1 to 8 hexadecimal digits at *pos into *out, advancing *pos past
 * them.  Returns false if there is no digit or more than 8.
 */
static bool
scan_hex32(const char **pos, uint32_t *out)
{
	const char *p = *pos;
	uint32_t	value = 0;
	int			ndigits = 0;
	int			d;

	while ((d = hex_value(*p, false)) >= 0)
	{
		if (++ndigits > 8)
			return false;
		value = (value << 4) | (uint32_t) d;
		p++;
	}
	if (ndigits == 0)
		return false;
	*pos = p;
	*out = value;
	return true;
}

/*
 * Parse "X/Y" starting at *pos, advancing *pos past it (the caller decides
 * what may follow).  Returns false on malformed input.
 */
static bool
scan_lsn(const char **pos, Lsn *out)
{
	const char *p = *pos;
	uint32_t	hi;
	uint32_t	lo;

	if (!scan_hex32(&p, &hi))
		return false;
	if (*p != '/')
		return false;
	p++;
	if (!scan_hex32(&p, &lo))
		return false;
	*pos = p;
	*out = ((Lsn) hi << 32) | lo;
	return true;
}

int
lsn_parse(const char *text, Lsn *out, PgbError *err)
{
	const char *p = text;
	Lsn			lsn;

	if (text == NULL || !scan_lsn(&p, &lsn) || *p != '\0')
		return pgb_error(err, EXIT_USAGE,
						 "invalid LSN \"%s\": expected two hexadecimal numbers of up to 8 digits separated by \"/\", such as 16/B374D848",
						 text ? text : "");
	*out = lsn;
	return 0;
}

void
lsn_format(Lsn lsn, char *buf, size_t len)
{
	if (len == 0)
		return;
	snprintf(buf, len, "%X/%X", (unsigned int) (lsn >> 32), (unsigned int) (lsn & 0xFFFFFFFF));
}

bool
wal_segment_size_valid(uint64_t segment_size)
{
	return segment_size >= WAL_SEG_MIN && segment_size <= WAL_SEG_MAX &&
		(segment_size & (segment_size - 1)) == 0;
}

SegNo
lsn_to_segno(Lsn lsn, uint64_t segment_size)
{
	return lsn / segment_size;
}

void
wal_segment_name(char *buf, TimeLineID tli, SegNo segno, uint64_t segment_size)
{
	uint64_t	segs_per_log = WAL_LOG_SPAN / segment_size;

	snprintf(buf, WAL_NAME_LEN + 1, "%08X%08X%08X",
			 (unsigned int) tli,
			 (unsigned int) (segno / segs_per_log),
			 (unsigned int) (segno % segs_per_log));
}

/* Exactly n upper-case hexadecimal digits at s, as a number. */
static bool
fixed_hex32(const char *s, int n, uint32_t *out)
{
	uint32_t	value = 0;

	for (int i = 0; i < n; i++)
	{
		int			d = hex_value(s[i], true);

		if (d < 0)
			return false;
		value = (value << 4) | (uint32_t) d;
	}
	*out = value;
	return true;
}

WalFileKind
wal_file_classify(const char *name, uint64_t segment_size, TimeLineID *tli, SegNo *segno)
{
	size_t		len;
	uint32_t	t;
	uint32_t	log;
	uint32_t	seg;
	uint32_t	offset;
	uint64_t	segs_per_log;
	WalFileKind kind;

	if (name == NULL)
		return WAL_KIND_INVALID;
	len = strlen(name);

	/* TTTTTTTT.history: no segment size involved. */
	if (len == 8 + strlen(".history") && strcmp(name + 8, ".history") == 0)
	{
		if (!fixed_hex32(name, 8, &t) || t == 0)
			return WAL_KIND_INVALID;
		if (tli)
			*tli = t;
		return WAL_KIND_HISTORY;
	}

	if (len < WAL_NAME_LEN || !wal_segment_size_valid(segment_size))
		return WAL_KIND_INVALID;
	if (!fixed_hex32(name, 8, &t) || !fixed_hex32(name + 8, 8, &log) ||
		!fixed_hex32(name + 16, 8, &seg))
		return WAL_KIND_INVALID;
	segs_per_log = WAL_LOG_SPAN / segment_size;
	if (t == 0 || seg >= segs_per_log)
		return WAL_KIND_INVALID;

	if (len == WAL_NAME_LEN)
		kind = WAL_KIND_SEGMENT;
	else if (strcmp(name + WAL_NAME_LEN, ".partial") == 0)
		kind = WAL_KIND_PARTIAL;
	else if (len == WAL_NAME_LEN + 1 + 8 + strlen(".backup") &&
			 name[WAL_NAME_LEN] == '.' &&
			 fixed_hex32(name + WAL_NAME_LEN + 1, 8, &offset) &&
			 offset < segment_size &&
			 strcmp(name + WAL_NAME_LEN + 1 + 8, ".backup") == 0)
		kind = WAL_KIND_BACKUP;
	else
		return WAL_KIND_INVALID;

	if (tli)
		*tli = t;
	if (segno)
		*segno = (SegNo) log * segs_per_log + seg;
	return kind;
}

/*
 * Timeline history files.  PostgreSQL writes one line per ancestor timeline:
 * the parent's TLI in decimal, a tab, the LSN where the child branched off,
 * a tab and a free-text reason.  Leading white space, blank lines and lines
 * starting with '#' are ignored; parent TLIs must strictly increase.
 */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Parse a decimal TLI (1..UINT32_MAX) from [*pos, end), advancing *pos. */
static bool
scan_tli(const char **pos, const char *end, TimeLineID *out)
{
	const char *p = *pos;
	uint64_t	value = 0;

	if (p >= end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
	{
		value = value * 10 + (uint64_t) (*p - '0');
		if (value > UINT32_MAX)
			return false;
		p++;
	}
	if (value == 0)
		return false;
	*pos = p;
	*out = (TimeLineID) value;
	return true;
}

int
wal_history_parse(const char *text, size_t len, int *count,
				  TimeLineID **tlis, Lsn **switch_lsns, PgbError *err)
{
	const char *p = text;
	const char *text_end = text + len;
	TimeLineID *tli_arr = NULL;
	Lsn		   *lsn_arr = NULL;
	int			n = 0;
	int			cap = 0;
	int			lineno = 0;

	*count = 0;
	*tlis = NULL;
	*switch_lsns = NULL;

	if (len > 0 && memchr(text, '\0', len) != NULL)
		return pgb_error(err, EXIT_CORRUPT,
						 "invalid timeline history: contains a NUL byte");

	while (p < text_end)
	{
		const char *line_end = memchr(p, '\n', (size_t) (text_end - p));
		const char *q;
		TimeLineID	tli;
		Lsn			lsn;
		char		lsnbuf[32];
		size_t		lsnlen;

		if (line_end == NULL)
			line_end = text_end;
		lineno++;

		q = p;
		while (q < line_end && is_blank(*q))
			q++;
		if (q == line_end || *q == '#')
		{
			p = line_end + (line_end < text_end ? 1 : 0);
			continue;
		}

		if (!scan_tli(&q, line_end, &tli))
		{
			pgb_error(err, EXIT_CORRUPT,
					  "invalid timeline history: line %d: expected a timeline ID (a positive decimal number)",
					  lineno);
			goto fail;
		}
		if (q == line_end || !is_blank(*q))
		{
			pgb_error(err, EXIT_CORRUPT,
					  "invalid timeline history: line %d: expected white space and a switch point after timeline %u",
					  lineno, tli);
			goto fail;
		}
		while (q < line_end && is_blank(*q))
			q++;

		/* The LSN scanner needs a terminated string: copy the token. */
		lsnlen = 0;
		while (q + lsnlen < line_end && !is_blank(q[lsnlen]))
			lsnlen++;
		if (lsnlen == 0 || lsnlen >= sizeof(lsnbuf))
		{
			pgb_error(err, EXIT_CORRUPT,
					  "invalid timeline history: line %d: expected a switch point LSN after timeline %u",
					  lineno, tli);
			goto fail;
		}
		memcpy(lsnbuf, q, lsnlen);
		lsnbuf[lsnlen] = '\0';
		{
			const char *lp = lsnbuf;

			if (!scan_lsn(&lp, &lsn) || *lp != '\0')
			{
				pgb_error(err, EXIT_CORRUPT,
						  "invalid timeline history: line %d: invalid switch point \"%s\"",
						  lineno, lsnbuf);
				goto fail;
			}
		}
		/* Whatever follows the LSN (after white space) is the reason. */

		if (n > 0 && tli <= tli_arr[n - 1])
		{
			pgb_error(err, EXIT_CORRUPT,
					  "invalid timeline history: line %d: timeline %u does not follow timeline %u (timelines must increase)",
					  lineno, tli, tli_arr[n - 1]);
			goto fail;
		}

		if (n == cap)
		{
			int			newcap = cap ? cap * 2 : 8;
			TimeLineID *nt;
			Lsn		   *nl;

			if (cap > INT_MAX / 2)
			{
				pgb_error(err, EXIT_CORRUPT,
						  "invalid timeline history: too many entries");
				goto fail;
			}
			nt = realloc(tli_arr, (size_t) newcap * sizeof(*tli_arr));
			if (nt == NULL)
			{
				pgb_error(err, EXIT_INTERNAL, "out of memory");
				goto fail;
			}
			tli_arr = nt;
			nl = realloc(lsn_arr, (size_t) newcap * sizeof(*lsn_arr));
			if (nl == NULL)
			{
				pgb_error(err, EXIT_INTERNAL, "out of memory");
				goto fail;
			}
			lsn_arr = nl;
			cap = newcap;
		}
		tli_arr[n] = tli;
		lsn_arr[n] = lsn;
		n++;

		p = line_end + (line_end < text_end ? 1 : 0);
	}

	*count = n;
	*tlis = tli_arr;
	*switch_lsns = lsn_arr;
	return 0;

fail:
	free(tli_arr);
	free(lsn_arr);
	return -1;
}
