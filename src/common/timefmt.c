/*
 * Timestamps as the operator types them and as PostgreSQL reads them.
 *
 * This file owns the one textual form pgbkp accepts for a point in time
 * ("YYYY-MM-DD HH:MM:SS[.ffffff][zone]") and the forms it prints: one for
 * recovery_target_time (always with an explicit UTC offset, so the server's
 * TimeZone setting cannot shift it), one for people and one for JSON.  A
 * point in time is a TimestampUs, microseconds since the Unix epoch in UTC.
 *
 * Parsing is strict and done by hand: every field has a fixed number of
 * digits and is range-checked, nothing may follow the zone, and a local time
 * that a daylight-saving change skips or repeats is refused rather than
 * guessed, since a recovery target an hour off restores the wrong data.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timefmt.h"

#define USECS_PER_SEC	INT64_C(1000000)
#define SECS_PER_DAY	INT64_C(86400)

#define TIME_EXPECTED	"expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|Z]"

/* The fields of a parsed timestamp, before any zone is applied. */
typedef struct TimeFields
{
	int			year;
	int			month;
	int			day;
	int			hour;
	int			minute;
	int			second;
	int			usec;
	bool		has_zone;
	int			offset_secs;	/* east of UTC; valid when has_zone */
} TimeFields;

static bool
is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && is_leap_year(year))
		return 29;
	return mdays[month - 1];
}

/* Exactly n decimal digits at *pos, advancing past them. */
static bool
take_digits(const char **pos, int n, int *out)
{
	const char *p = *pos;
	int			value = 0;

	for (int i = 0; i < n; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return false;
		value = value * 10 + (p[i] - '0');
	}
	*pos = p + n;
	*out = value;
	return true;
}

static bool
take_char(const char **pos, char c)
{
	if (**pos != c)
		return false;
	(*pos)++;
	return true;
}

/* 0001-01-01 00:00:00 and 9999-12-31 23:59:59 UTC, seconds since the epoch. */
#define TIME_MIN_SECS INT64_C(-62135596800)
#define TIME_MAX_SECS INT64_C(253402300799)

static int
bad_time(PgbError *err, const char *text, const char *reason)
{
	if (reason == NULL)
		return pgb_error(err, EXIT_USAGE, "invalid timestamp \"%s\": " TIME_EXPECTED, text);
	return pgb_error(err, EXIT_USAGE, "invalid timestamp \"%s\": %s (" TIME_EXPECTED ")",
					 text, reason);
}

/* Syntax and range checks; fills f.  Returns -1 with err set on failure. */
static int
parse_fields(const char *text, TimeFields *f, PgbError *err)
{
	const char *p = text;
	char		reason[128];

	memset(f, 0, sizeof(*f));

	if (!take_digits(&p, 4, &f->year) || !take_char(&p, '-') ||
		!take_digits(&p, 2, &f->month) || !take_char(&p, '-') ||
		!take_digits(&p, 2, &f->day))
		return bad_time(err, text, NULL);
	if (*p == '\0')
		return bad_time(err, text, "missing time of day");
	if (!take_char(&p, ' ') && !take_char(&p, 'T'))
		return bad_time(err, text, NULL);
	if (!take_digits(&p, 2, &f->hour) || !take_char(&p, ':') ||
		!take_digits(&p, 2, &f->minute))
		return bad_time(err, text, NULL);
	if (!take_char(&p, ':'))
		return bad_time(err, text, "missing seconds");
	if (!take_digits(&p, 2, &f->second))
		return bad_time(err, text, NULL);

	if (take_char(&p, '.'))
	{
		int			ndigits = 0;

		while (*p >= '0' && *p <= '9')
		{
			if (++ndigits > 6)
				return bad_time(err, text, "more than 6 fraction digits");
			f->usec = f->usec * 10 + (*p - '0');
			p++;
		}
		if (ndigits == 0)
			return bad_time(err, text, "missing fraction digits after \".\"");
		for (; ndigits < 6; ndigits++)
			f->usec *= 10;
	}

	if (take_char(&p, 'Z'))
		f->has_zone = true;
	else if (*p == '+' || *p == '-')
	{
		int			sign = (*p == '-') ? -1 : 1;
		int			oh;
		int			om = 0;

		p++;
		if (!take_digits(&p, 2, &oh))
			return bad_time(err, text, "invalid zone offset");
		if (take_char(&p, ':') && !take_digits(&p, 2, &om))
			return bad_time(err, text, "invalid zone offset");
		if (oh > 15 || om > 59)
			return bad_time(err, text, "zone offset out of range");
		f->has_zone = true;
		f->offset_secs = sign * (oh * 3600 + om * 60);
	}

	if (*p != '\0')
		return bad_time(err, text, "unexpected text after the time");

	if (f->year < 1)
		return bad_time(err, text, "year 0 out of range");
	if (f->month < 1 || f->month > 12)
	{
		snprintf(reason, sizeof(reason), "month %d out of range", f->month);
		return bad_time(err, text, reason);
	}
	if (f->day < 1 || f->day > days_in_month(f->year, f->month))
	{
		snprintf(reason, sizeof(reason), "day %d out of range for %04d-%02d",
				 f->day, f->year, f->month);
		return bad_time(err, text, reason);
	}
	if (f->hour > 23)
	{
		snprintf(reason, sizeof(reason), "hour %d out of range", f->hour);
		return bad_time(err, text, reason);
	}
	if (f->minute > 59)
	{
		snprintf(reason, sizeof(reason), "minute %d out of range", f->minute);
		return bad_time(err, text, reason);
	}
	if (f->second > 59)
	{
		snprintf(reason, sizeof(reason), "second %d out of range", f->second);
		return bad_time(err, text, reason);
	}
	return 0;
}

/* The fields' date and time of day as a struct tm (no zone, tm_isdst 0). */
static struct tm
fields_tm(const TimeFields *f)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f->year - 1900;
	tm.tm_mon = f->month - 1;
	tm.tm_mday = f->day;
	tm.tm_hour = f->hour;
	tm.tm_min = f->minute;
	tm.tm_sec = f->second;
	return tm;
}

/* Seconds since the epoch of the fields read as if they were UTC (the C library's calendar). */
static int64_t
fields_as_utc(const TimeFields *f)
{
	struct tm	tm = fields_tm(f);

	return (int64_t) timegm(&tm);
}

/*
 * mktime for the fields with the given tm_isdst.  Returns true and sets *t
 * if the result, converted back, shows the same wall-clock time and (unless
 * isdst is -1) the requested daylight-saving flag: that is, if this reading
 * of the local time exists.
 */
static bool
local_reading(const TimeFields *f, int isdst, time_t *t)
{
	struct tm	tm = fields_tm(f);
	time_t		result;

	tm.tm_isdst = isdst;
	tm.tm_wday = -1;			/* mktime sets it on success */

	result = mktime(&tm);
	if (result == (time_t) -1 && tm.tm_wday == -1)
		return false;
	if (tm.tm_year != f->year - 1900 || tm.tm_mon != f->month - 1 ||
		tm.tm_mday != f->day || tm.tm_hour != f->hour ||
		tm.tm_min != f->minute || tm.tm_sec != f->second)
		return false;
	if (isdst >= 0 && (tm.tm_isdst > 0) != (isdst > 0))
		return false;
	*t = result;
	return true;
}

static void
format_offset(int64_t secs, char *buf, size_t len)
{
	int64_t		a = secs < 0 ? -secs : secs;

	if (a % 3600 == 0)
		snprintf(buf, len, "%c%02d", secs < 0 ? '-' : '+', (int) (a / 3600));
	else
		snprintf(buf, len, "%c%02d:%02d", secs < 0 ? '-' : '+',
				 (int) (a / 3600), (int) (a % 3600 / 60));
}

/* Convert fields without a zone through the local time zone (TZ). */
static int
local_to_epoch(const char *text, const TimeFields *f, int64_t *secs, PgbError *err)
{
	time_t		t;
	time_t		t_std;
	time_t		t_dst;
	bool		std_ok;
	bool		dst_ok;

	std_ok = local_reading(f, 0, &t_std);
	dst_ok = local_reading(f, 1, &t_dst);
	if (std_ok && dst_ok && t_std != t_dst)
	{
		char		off_dst[16];
		char		off_std[16];

		format_offset(fields_as_utc(f) - (int64_t) t_dst, off_dst, sizeof(off_dst));
		format_offset(fields_as_utc(f) - (int64_t) t_std, off_std, sizeof(off_std));
		pgb_error(err, EXIT_USAGE,
				  "invalid timestamp \"%s\": the local time occurs twice (daylight saving time ends)",
				  text);
		return pgb_hint(err, "Add the UTC offset you mean: \"%s%s\" (daylight saving time) or \"%s%s\" (standard time).",
						text, off_dst, text, off_std);
	}

	if (!local_reading(f, -1, &t))
	{
		pgb_error(err, EXIT_USAGE,
				  "invalid timestamp \"%s\": the local time does not exist (skipped by a daylight saving time change)",
				  text);
		return pgb_hint(err, "Add a UTC offset, such as \"%s+00\" for UTC.", text);
	}
	*secs = (int64_t) t;
	return 0;
}

int
time_parse(const char *text, TimestampUs *out, PgbError *err)
{
	TimeFields	f;
	int64_t		secs = 0;

	if (text == NULL)
		text = "";
	if (parse_fields(text, &f, err) < 0)
		return -1;

	if (f.has_zone)
		secs = fields_as_utc(&f) - f.offset_secs;
	else if (local_to_epoch(text, &f, &secs, err) < 0)
		return -1;

	/*
	 * A zone offset (or the local zone's) can move the instant out of years
	 * 1 to 9999, where it could no longer be written in this syntax and read
	 * back: 0001-01-01 00:30 in a zone east of UTC is a time in year 0.
	 */
	if (secs < TIME_MIN_SECS || secs > TIME_MAX_SECS)
		return bad_time(err, text, "the instant in UTC is outside years 0001 to 9999");

	*out = secs * USECS_PER_SEC + f.usec;
	return 0;
}

/* Split t into a broken-down UTC time and microseconds; false if unrepresentable. */
static bool
split_utc(TimestampUs t, struct tm *tm, int *usec)
{
	int64_t		secs = t / USECS_PER_SEC;
	int64_t		us = t % USECS_PER_SEC;
	time_t		tt;

	if (us < 0)
	{
		us += USECS_PER_SEC;
		secs--;
	}
	tt = (time_t) secs;
	if (gmtime_r(&tt, tm) == NULL)
		return false;
	*usec = (int) us;
	return true;
}

/* t as DATE<sep>TIME[.micro]<zone> in UTC; "invalid" when out of range. */
static void
format_utc(TimestampUs t, char *buf, size_t len, char sep, bool micro, const char *zone)
{
	struct tm	tm;
	int			usec;
	char		frac[16] = "";

	if (len == 0)
		return;
	if (!split_utc(t, &tm, &usec))
	{
		snprintf(buf, len, "invalid");
		return;
	}
	if (micro)
		snprintf(frac, sizeof(frac), ".%06d", usec);
	snprintf(buf, len, "%04d-%02d-%02d%c%02d:%02d:%02d%s%s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, frac, zone);
}

void
time_format_pg(TimestampUs t, char *buf, size_t len)
{
	format_utc(t, buf, len, ' ', true, "+00");
}

void
time_format_utc(TimestampUs t, char *buf, size_t len)
{
	format_utc(t, buf, len, ' ', false, "+00");
}

void
time_format_iso(TimestampUs t, char *buf, size_t len)
{
	format_utc(t, buf, len, 'T', true, "Z");
}

TimestampUs
time_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (TimestampUs) time(NULL) * USECS_PER_SEC;
	return (TimestampUs) ts.tv_sec * USECS_PER_SEC + ts.tv_nsec / 1000;
}

void
time_local_zone_name(char *buf, size_t len)
{
	const char *tz = getenv("TZ");
	char		link[512];
	ssize_t		n;
	FILE	   *fp;

	if (tz && tz[0])
	{
		snprintf(buf, len, "%s", tz[0] == ':' ? tz + 1 : tz);
		return;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0)
	{
		const char *z;

		link[n] = '\0';
		if ((z = strstr(link, "zoneinfo/")) != NULL && z[9])
		{
			snprintf(buf, len, "%s", z + 9);
			return;
		}
	}
	if ((fp = fopen("/etc/timezone", "r")) != NULL)
	{
		char		line[256];

		if (fgets(line, sizeof(line), fp) != NULL)
		{
			line[strcspn(line, " \t\r\n")] = '\0';
			if (line[0])
			{
				fclose(fp);
				snprintf(buf, len, "%s", line);
				return;
			}
		}
		fclose(fp);
	}
	snprintf(buf, len, "UTC");
}
