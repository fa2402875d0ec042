/*
 * Cron expressions as text, both ways (see cron.h): parsing into a set of
 * bits per field, and printing the canonical five-field form back for a
 * crontab.  Parsing is done by hand, item by item, so that an error can name
 * the field and the token at fault.  When an expression fires is
 * cron_next.c's.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cron.h"

#define CRON_MAX_FIELDS		5

/* What one field accepts. */
typedef struct CronField
{
	const char *name;			/* as used in messages */
	int			min;			/* smallest value */
	int			max;			/* largest value accepted (7 for day of week) */
	int			top;			/* where "*" and "a/n" end (6 for day of week) */
	const char *const *names;	/* three-letter names, or NULL */
	int			name_base;		/* value of names[0] */
	const char *names_desc;		/* "a month name (jan-dec)" */
} CronField;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

enum
{
	F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY
};

static const CronField cron_fields[CRON_MAX_FIELDS] = {
	{"minute", 0, 59, 59, NULL, 0, NULL},
	{"hour", 0, 23, 23, NULL, 0, NULL},
	{"day-of-month", 1, 31, 31, NULL, 0, NULL},
	{"month", 1, 12, 12, month_names, 1, "a month name (jan-dec)"},
	{"day-of-week", 0, 7, 6, day_names, 0, "a day name (sun-sat)"},
};

/* The macros and the five fields each stands for. */
static const struct
{
	const char *name;
	const char *fields;
}			cron_macros[] = {
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
	{"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* Fail with EXIT_CONFIG: "cron expression \"<expr>\": <detail>". */
static int
cron_fail(PgbError *err, const char *expr, const char *fmt,...) PGB_PRINTF(3, 4);

static int
cron_fail(PgbError *err, const char *expr, const char *fmt,...)
{
	char		detail[PGB_ERRMSG_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return pgb_error(err, EXIT_CONFIG, "cron expression \"%s\": %s", expr, detail);
}

static uint64_t
bit_range(int lo, int hi)
{
	uint64_t	bits = 0;

	for (int v = lo; v <= hi; v++)
		bits |= UINT64_C(1) << v;
	return bits;
}

/*
 * One value of an item (tok[0..len)): digits, or a name where the field has
 * names.  Range-checked against the field.
 */
static int
parse_value(const char *expr, const CronField *f, const char *tok, size_t len,
			int *out, PgbError *err)
{
	size_t		i;

	if (len == 0)
		return -1;				/* the caller reports the malformed item */

	if (isdigit((unsigned char) tok[0]))
	{
		long		v = 0;

		for (i = 0; i < len; i++)
		{
			if (!isdigit((unsigned char) tok[i]))
				return cron_fail(err, expr, "%s \"%.*s\" is not a number",
								 f->name, (int) len, tok);
			if (v < 100000)
				v = v * 10 + (tok[i] - '0');
		}
		if (v < f->min || v > f->max)
			return cron_fail(err, expr, "%s %.*s is out of range %d-%d",
							 f->name, (int) len, tok, f->min, f->max);
		*out = (int) v;
		return 0;
	}

	if (f->names && len == 3)
	{
		for (i = 0; f->names[i]; i++)
		{
			if (strncasecmp(tok, f->names[i], 3) == 0)
			{
				*out = f->name_base + (int) i;
				return 0;
			}
		}
	}
	if (f->names)
		return cron_fail(err, expr, "%s \"%.*s\" is not a number or %s",
						 f->name, (int) len, tok, f->names_desc);
	return cron_fail(err, expr, "%s \"%.*s\" is not a number",
					 f->name, (int) len, tok);
}

/*
 * One item of a list: "*", "a", "a-b", each optionally followed by "/n".
 * Adds its values to *bits; *star says it was "*" or "*\/1".
 */
static int
parse_item(const char *expr, const CronField *f, const char *item, size_t len,
		   uint64_t *bits, bool *star, PgbError *err)
{
	const char *slash = memchr(item, '/', len);
	size_t		blen = slash ? (size_t) (slash - item) : len;
	const char *dash;
	int			lo,
				hi,
				step = 1;
	bool		is_star = false;

	*star = false;

	if (blen == 1 && item[0] == '*')
	{
		lo = f->min;
		hi = f->top;
		is_star = true;
	}
	else if (blen > 0 && (dash = memchr(item, '-', blen)) != NULL)
	{
		size_t		alen = (size_t) (dash - item);
		size_t		zlen = blen - alen - 1;

		if (alen == 0 || zlen == 0)
			goto malformed;
		if (parse_value(expr, f, item, alen, &lo, err) < 0 ||
			parse_value(expr, f, dash + 1, zlen, &hi, err) < 0)
			return -1;
		if (lo > hi)
			return cron_fail(err, expr, "%s range %.*s is reversed",
							 f->name, (int) blen, item);
	}
	else
	{
		if (parse_value(expr, f, item, blen, &lo, err) < 0)
		{
			if (blen == 0)
				goto malformed;
			return -1;
		}
		/* "a/n" runs from a to the end of the field */
		hi = slash ? (lo > f->top ? lo : f->top) : lo;
	}

	if (slash)
	{
		const char *s = slash + 1;
		size_t		slen = len - blen - 1;
		long		v = 0;

		if (slen == 0)
			goto malformed;
		for (size_t i = 0; i < slen; i++)
		{
			if (!isdigit((unsigned char) s[i]))
				return cron_fail(err, expr, "%s step \"%.*s\" is not a number",
								 f->name, (int) slen, s);
			if (v < 100000)
				v = v * 10 + (s[i] - '0');
		}
		if (v < 1 || v > f->max)
			return cron_fail(err, expr, "%s step %.*s is out of range 1-%d",
							 f->name, (int) slen, s, f->max);
		step = (int) v;
	}

	for (int v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << v;
	*star = is_star && step == 1;
	return 0;

malformed:
	return cron_fail(err, expr,
					 "invalid %s item \"%.*s\" (expected *, a value, a range a-b, each optionally with /step)",
					 f->name, (int) len, item);
}

/* A whole field: a comma-separated list of items. */
static int
parse_field(const char *expr, const CronField *f, const char *text,
			uint64_t *bits, bool *star, PgbError *err)
{
	const char *p = text;

	*bits = 0;
	*star = false;
	for (;;)
	{
		const char *comma = strchr(p, ',');
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);
		bool		item_star;

		if (len == 0)
			return cron_fail(err, expr, "empty item in the %s field \"%s\"",
							 f->name, text);
		if (parse_item(expr, f, p, len, bits, &item_star, err) < 0)
			return -1;
		if (item_star)
			*star = true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* Parse exactly five fields (already split) into *e. */
static int
parse_fields(const char *expr, char *const fields[CRON_MAX_FIELDS], CronExpr *e,
			 PgbError *err)
{
	uint64_t	bits[CRON_MAX_FIELDS];
	bool		star[CRON_MAX_FIELDS];

	for (int i = 0; i < CRON_MAX_FIELDS; i++)
		if (parse_field(expr, &cron_fields[i], fields[i], &bits[i], &star[i], err) < 0)
			return -1;

	/* day of week 7 is Sunday */
	if (bits[F_WDAY] & (UINT64_C(1) << 7))
		bits[F_WDAY] = (bits[F_WDAY] | 1) & ~(UINT64_C(1) << 7);

	e->minutes = bits[F_MINUTE];
	e->hours = (uint32_t) bits[F_HOUR];
	e->mdays = (uint32_t) bits[F_MDAY];
	e->months = (uint16_t) bits[F_MONTH];
	e->wdays = (uint8_t) bits[F_WDAY];
	e->mday_any = star[F_MDAY];
	e->wday_any = star[F_WDAY];
	return 0;
}

/*
 * Split s (modified in place) at blanks into at most max fields; returns the
 * number of fields found (which may exceed max: the extra are not stored).
 */
static int
split_fields(char *s, char **fields, int max)
{
	int			n = 0;
	char	   *p = s;

	for (;;)
	{
		while (*p && isspace((unsigned char) *p))
			p++;
		if (!*p)
			break;
		if (n < max)
			fields[n] = p;
		n++;
		while (*p && !isspace((unsigned char) *p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

int
cron_parse(const char *text, CronExpr *out, PgbError *err)
{
	char		work[CRON_TEXT_MAX * 2];
	char		norm[CRON_TEXT_MAX];
	char		macro[CRON_TEXT_MAX];
	char	   *fields[CRON_TEXT_MAX];	/* enough for any input that fits work */
	CronExpr	e;
	size_t		pos = 0;
	int			n;

	if (text == NULL)
		text = "";
	if (strlen(text) >= sizeof(work))
		return pgb_error(err, EXIT_CONFIG,
						 "cron expression \"%.40s...\" is too long (at most %d characters)",
						 text, CRON_TEXT_MAX - 1);
	memcpy(work, text, strlen(text) + 1);
	n = split_fields(work, fields, CRON_TEXT_MAX);

	/* normalised text: the fields joined by single spaces */
	for (int i = 0; i < n; i++)
	{
		size_t		flen = strlen(fields[i]);

		if (pos + (i > 0) + flen >= sizeof(norm))
			return pgb_error(err, EXIT_CONFIG,
							 "cron expression \"%.40s...\" is too long (at most %d characters)",
							 text, CRON_TEXT_MAX - 1);
		if (i > 0)
			norm[pos++] = ' ';
		memcpy(norm + pos, fields[i], flen);
		pos += flen;
	}
	norm[pos] = '\0';

	if (n == 0)
		return pgb_error(err, EXIT_CONFIG, "cron expression \"%s\" is empty", text);

	memset(&e, 0, sizeof(e));
	memcpy(e.text, norm, pos + 1);

	if (fields[0][0] == '@')
	{
		const char *expansion = NULL;

		if (strcasecmp(fields[0], "@reboot") == 0)
			return cron_fail(err, norm,
							 "@reboot is not supported: the scheduler runs jobs at times of day, not at start-up");
		for (size_t i = 0; i < sizeof(cron_macros) / sizeof(cron_macros[0]); i++)
			if (strcasecmp(fields[0], cron_macros[i].name) == 0)
				expansion = cron_macros[i].fields;
		if (expansion == NULL)
			return cron_fail(err, norm,
							 "unknown macro \"%s\" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
							 fields[0]);
		if (n != 1)
			return cron_fail(err, norm, "%s takes no other fields", fields[0]);
		snprintf(macro, sizeof(macro), "%s", expansion);
		n = split_fields(macro, fields, CRON_MAX_FIELDS);
	}
	else if (n != CRON_MAX_FIELDS)
		return cron_fail(err, norm,
						 "expected 5 fields (minute hour day-of-month month day-of-week), found %d",
						 n);

	if (parse_fields(norm, fields, &e, err) < 0)
		return -1;
	*out = e;
	return 0;
}

/* ---- printing ---- */

/* A bounded appender that counts what it could not write. */
typedef struct CronOut
{
	char	   *buf;
	size_t		len;
	size_t		pos;			/* length of the full text so far */
} CronOut;

static void
out_add(CronOut *o, const char *fmt,...) PGB_PRINTF(2, 3);

static void
out_add(CronOut *o, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
				  o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t) n;
}

static int
popcount64(uint64_t v)
{
	int			n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/*
 * One field over values lo..hi: "*" when whole (and star allowed), "*\/n"
 * for a step of three or more values from lo, else values and ranges.
 */
static void
format_field(CronOut *o, uint64_t bits, int lo, int hi, bool star)
{
	uint64_t	full = bit_range(lo, hi);
	bool		first = true;

	bits &= full;
	if (star && bits == full)
	{
		out_add(o, "*");
		return;
	}
	if (popcount64(bits) >= 3)
	{
		for (int step = 2; step <= hi - lo; step++)
		{
			uint64_t	prog = 0;

			for (int v = lo; v <= hi; v += step)
				prog |= UINT64_C(1) << v;
			if (prog == bits)
			{
				/* "*" would make a restricted day field unrestricted for cron's either-day rule */
				if (star)
					out_add(o, "*/%d", step);
				else
					out_add(o, "%d-%d/%d", lo, hi, step);
				return;
			}
		}
	}
	if (bits == 0)
	{
		/* cannot come from cron_parse; print something that does not fire */
		out_add(o, "%d", lo);
		return;
	}
	for (int v = lo; v <= hi; v++)
	{
		int			end = v;

		if (!((bits >> v) & 1))
			continue;
		while (end < hi && ((bits >> (end + 1)) & 1))
			end++;
		if (!first)
			out_add(o, ",");
		first = false;
		if (end - v >= 2)
			out_add(o, "%d-%d", v, end);
		else if (end == v + 1)
			out_add(o, "%d,%d", v, end);
		else
			out_add(o, "%d", v);
		v = end;
	}
}

int
cron_format(const CronExpr *e, char *buf, size_t len)
{
	CronOut		o = {buf, len, 0};

	if (buf && len > 0)
		buf[0] = '\0';
	format_field(&o, e->minutes, 0, 59, true);
	out_add(&o, " ");
	format_field(&o, e->hours, 0, 23, true);
	out_add(&o, " ");
	format_field(&o, e->mdays, 1, 31, e->mday_any);
	out_add(&o, " ");
	format_field(&o, e->months, 1, 12, true);
	out_add(&o, " ");
	format_field(&o, e->wdays, 0, 6, e->wday_any);
	return (int) o.pos;
}
