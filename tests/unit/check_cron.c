/*
 * Unit tests for src/sched/cron.c: every syntax form and every class of
 * error, canonical printing, and next-run computation across month ends,
 * leap days, year ends and daylight-saving changes in both hemispheres.
 *
 * Times are written as "YYYY-MM-DD HH:MM[:SS] +hhmm" (local wall-clock time
 * with its offset) and converted here with timegm, and results are printed
 * back in the zone with localtime_r/strftime, so the expected values do not
 * depend on the code under test.  The zone transitions used were checked
 * with zdump and date (e.g. TZ=Europe/Berlin date -d @1774746000).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/cron.h"

static char *saved_tz;

static void
tz_setup(void)
{
	const char *tz = getenv("TZ");

	saved_tz = tz ? strdup(tz) : NULL;
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
tz_teardown(void)
{
	if (saved_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
}

/* "2026-03-29 01:59 +0100" or with seconds: the instant it names. */
static time_t
at(const char *s)
{
	struct tm	tm = {0};
	int			sec = 0,
				off,
				n;
	char		sign;
	char		zone[8];

	n = sscanf(s, "%d-%d-%d %d:%d:%d %7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &sec, zone);
	if (n != 7)
	{
		n = sscanf(s, "%d-%d-%d %d:%d %7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				   &tm.tm_hour, &tm.tm_min, zone);
		ck_assert_msg(n == 6, "bad test time \"%s\"", s);
	}
	tm.tm_sec = sec;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	sign = zone[0];
	ck_assert_msg((sign == '+' || sign == '-') && strlen(zone) == 5, "bad zone in \"%s\"", s);
	off = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 +
		((zone[3] - '0') * 10 + (zone[4] - '0')) * 60;
	return timegm(&tm) - (sign == '-' ? -off : off);
}

/* t as "YYYY-MM-DD HH:MM +hhmm" in zone tz (NULL = UTC). */
static void
local(const char *tz, time_t t, char *buf, size_t len)
{
	struct tm	tm;
	char		value[128];

	snprintf(value, sizeof(value), "%s", tz && *tz ? tz : "UTC");
	setenv("TZ", value, 1);
	tzset();
	ck_assert(localtime_r(&t, &tm) != NULL);
	strftime(buf, len, tm.tm_sec ? "%Y-%m-%d %H:%M:%S %z" : "%Y-%m-%d %H:%M %z", &tm);
	setenv("TZ", "UTC", 1);
	tzset();
}

static CronExpr
parse_ok(const char *text)
{
	PgbError	err = {0};
	CronExpr	e;

	memset(&e, 0x5a, sizeof(e));
	ck_assert_msg(cron_parse(text, &e, &err) == 0, "\"%s\": %s", text, err.msg);
	ck_assert_int_eq(err.code, 0);
	return e;
}

/* Must fail with EXIT_CONFIG and a message containing each of the parts. */
static void
parse_bad(const char *text, const char *part1, const char *part2)
{
	PgbError	err = {0};
	CronExpr	e;
	CronExpr	before;

	memset(&e, 0x5a, sizeof(e));
	before = e;
	ck_assert_msg(cron_parse(text, &e, &err) == -1, "\"%s\" accepted", text);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(memcmp(&e, &before, sizeof(e)) == 0, "\"%s\": output changed on error", text);
	ck_assert_msg(strstr(err.msg, "cron expression \"") == err.msg, "message \"%s\"", err.msg);
	if (part1)
		ck_assert_msg(strstr(err.msg, part1) != NULL, "message \"%s\" lacks \"%s\"", err.msg, part1);
	if (part2)
		ck_assert_msg(strstr(err.msg, part2) != NULL, "message \"%s\" lacks \"%s\"", err.msg, part2);
}

/* The canonical text of an expression. */
static void
format_is(const char *text, const char *expected)
{
	CronExpr	e = parse_ok(text);
	CronExpr	again;
	char		buf[CRON_FORMAT_MAX];
	int			n = cron_format(&e, buf, sizeof(buf));

	ck_assert_msg(strcmp(buf, expected) == 0, "\"%s\" printed as \"%s\", expected \"%s\"",
				  text, buf, expected);
	ck_assert_int_eq(n, (int) strlen(expected));
	/* and printing is lossless */
	again = parse_ok(buf);
	ck_assert(again.minutes == e.minutes && again.hours == e.hours &&
			  again.mdays == e.mdays && again.months == e.months &&
			  again.wdays == e.wdays && again.mday_any == e.mday_any &&
			  again.wday_any == e.wday_any);
}

/*
 * Starting just after `from`, the expression fires at each of the expected
 * times in turn (local times in tz, NULL-terminated).
 */
static void
fires(const char *text, const char *tz, const char *from, const char *const *expected)
{
	CronExpr	e = parse_ok(text);
	time_t		t = at(from);

	for (int i = 0; expected[i]; i++)
	{
		PgbError	err = {0};
		time_t		next = 0;
		char		got[64];

		ck_assert_msg(cron_next(&e, tz, t, &next, &err) == 0, "\"%s\" in %s: %s",
					  text, tz ? tz : "UTC", err.msg);
		local(tz, next, got, sizeof(got));
		ck_assert_msg(strcmp(got, expected[i]) == 0,
					  "\"%s\" in %s, run %d after %s: got %s, expected %s",
					  text, tz ? tz : "UTC", i + 1, from, got, expected[i]);
		ck_assert_msg(next > t, "not strictly later");
		t = next;
	}
}

#define FIRES(text, tz, from, ...) \
	do { \
		const char *const exp_[] = {__VA_ARGS__, NULL}; \
		fires(text, tz, from, exp_); \
	} while (0)

/* ---- parsing ---- */

START_TEST(test_parse_star_and_numbers)
{
	CronExpr	e = parse_ok("* * * * *");

	ck_assert(e.minutes == (UINT64_C(1) << 60) - 1);
	ck_assert_uint_eq(e.hours, (1u << 24) - 1);
	ck_assert_uint_eq(e.mdays, 0xfffffffeu);
	ck_assert_uint_eq(e.months, 0x1ffe);
	ck_assert_uint_eq(e.wdays, 0x7f);
	ck_assert(e.mday_any && e.wday_any);
	ck_assert_str_eq(e.text, "* * * * *");

	e = parse_ok("  5\t4 \n 3 2   1 ");
	ck_assert(e.minutes == UINT64_C(1) << 5);
	ck_assert_uint_eq(e.hours, 1u << 4);
	ck_assert_uint_eq(e.mdays, 1u << 3);
	ck_assert_uint_eq(e.months, 1u << 2);
	ck_assert_uint_eq(e.wdays, 1u << 1);
	ck_assert(!e.mday_any && !e.wday_any);
	ck_assert_str_eq(e.text, "5 4 3 2 1");

	e = parse_ok("59 23 31 12 6");
	ck_assert(e.minutes == UINT64_C(1) << 59);
	ck_assert_uint_eq(e.hours, 1u << 23);
	ck_assert_uint_eq(e.mdays, 1u << 31);
	ck_assert_uint_eq(e.months, 1u << 12);
	ck_assert_uint_eq(e.wdays, 1u << 6);

	/* leading zeros are numbers too */
	e = parse_ok("00 05 01 01 00");
	ck_assert(e.minutes == 1 && e.hours == 1u << 5 && e.wdays == 1);
}
END_TEST

START_TEST(test_parse_lists_ranges_steps)
{
	CronExpr	e;

	e = parse_ok("0,15,30,45 1-3 1,15-17 * *");
	ck_assert(e.minutes == (UINT64_C(1) | UINT64_C(1) << 15 | UINT64_C(1) << 30 | UINT64_C(1) << 45));
	ck_assert_uint_eq(e.hours, 0xe);
	ck_assert_uint_eq(e.mdays, 1u << 1 | 1u << 15 | 1u << 16 | 1u << 17);

	e = parse_ok("*/15 */6 */10 */3 */2");
	ck_assert(e.minutes == (UINT64_C(1) | UINT64_C(1) << 15 | UINT64_C(1) << 30 | UINT64_C(1) << 45));
	ck_assert_uint_eq(e.hours, 1u | 1u << 6 | 1u << 12 | 1u << 18);
	ck_assert_uint_eq(e.mdays, 1u << 1 | 1u << 11 | 1u << 21 | 1u << 31);
	ck_assert_uint_eq(e.months, 1u << 1 | 1u << 4 | 1u << 7 | 1u << 10);
	ck_assert_uint_eq(e.wdays, 1u | 1u << 2 | 1u << 4 | 1u << 6);
	ck_assert(!e.mday_any && !e.wday_any);

	/* a-b/n and a/n (a to the end of the field) */
	e = parse_ok("10-40/10 3/7 * * *");
	ck_assert(e.minutes == (UINT64_C(1) << 10 | UINT64_C(1) << 20 | UINT64_C(1) << 30 | UINT64_C(1) << 40));
	ck_assert_uint_eq(e.hours, 1u << 3 | 1u << 10 | 1u << 17);

	/* a one-value range, overlapping items */
	e = parse_ok("5-5 1-4,2-6 * * *");
	ck_assert(e.minutes == UINT64_C(1) << 5);
	ck_assert_uint_eq(e.hours, 0x7e);

	/* "*\/1" counts as "*" for the day rule; "1-31" does not */
	e = parse_ok("0 0 */1 * */1");
	ck_assert(e.mday_any && e.wday_any);
	e = parse_ok("0 0 1-31 * 0-6");
	ck_assert(!e.mday_any && !e.wday_any);
	ck_assert_uint_eq(e.mdays, 0xfffffffeu);
	ck_assert_uint_eq(e.wdays, 0x7f);
	e = parse_ok("0 0 * * 1,*");
	ck_assert(e.wday_any);
}
END_TEST

START_TEST(test_parse_names_and_sunday)
{
	CronExpr	e;

	e = parse_ok("0 0 * jan,MAR,Dec mon-fri");
	ck_assert_uint_eq(e.months, 1u << 1 | 1u << 3 | 1u << 12);
	ck_assert_uint_eq(e.wdays, 0x3e);

	e = parse_ok("0 0 * Feb-Apr/2 SUN,sat");
	ck_assert_uint_eq(e.months, 1u << 2 | 1u << 4);
	ck_assert_uint_eq(e.wdays, 1u | 1u << 6);

	/* mixing names and numbers */
	e = parse_ok("0 0 * 1-jun mon-5");
	ck_assert_uint_eq(e.months, 0x7e);
	ck_assert_uint_eq(e.wdays, 0x3e);

	/* 7 is Sunday, alone or ending a range */
	e = parse_ok("0 0 * * 7");
	ck_assert_uint_eq(e.wdays, 1);
	e = parse_ok("0 0 * * 5-7");
	ck_assert_uint_eq(e.wdays, 1u | 1u << 5 | 1u << 6);
	e = parse_ok("0 0 * * 0-7");
	ck_assert_uint_eq(e.wdays, 0x7f);
	ck_assert(!e.wday_any);
}
END_TEST

START_TEST(test_parse_macros)
{
	static const struct
	{
		const char *macro;
		const char *fields;
	}			cases[] = {
		{"@yearly", "0 0 1 1 *"},
		{"@annually", "0 0 1 1 *"},
		{"@monthly", "0 0 1 * *"},
		{"@weekly", "0 0 * * 0"},
		{"@daily", "0 0 * * *"},
		{"@midnight", "0 0 * * *"},
		{"@hourly", "0 * * * *"},
		{"  @Daily ", "0 0 * * *"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		CronExpr	m = parse_ok(cases[i].macro);
		CronExpr	f = parse_ok(cases[i].fields);
		char		buf[CRON_FORMAT_MAX];

		ck_assert_msg(m.minutes == f.minutes && m.hours == f.hours && m.mdays == f.mdays &&
					  m.months == f.months && m.wdays == f.wdays &&
					  m.mday_any == f.mday_any && m.wday_any == f.wday_any,
					  "%s", cases[i].macro);
		cron_format(&m, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].fields);
	}
	ck_assert_str_eq(parse_ok(" @Daily ").text, "@Daily");

	parse_bad("@reboot", "@reboot is not supported", NULL);
	parse_bad("@fortnightly", "unknown macro \"@fortnightly\"", NULL);
	parse_bad("@daily 5", "@daily takes no other fields", NULL);
}
END_TEST

START_TEST(test_parse_errors)
{
	/* field count */
	parse_bad("", "is empty", NULL);
	parse_bad("   ", "is empty", NULL);
	parse_bad(NULL, "is empty", NULL);
	parse_bad("* * * *", "expected 5 fields", "found 4");
	parse_bad("0 0 * * * 2026", "expected 5 fields", "found 6");
	parse_bad("0  0 * * * /bin/true", "cron expression \"0 0 * * * /bin/true\"", "found 6");
	parse_bad("1 2 3 4 5 6 7", "cron expression \"1 2 3 4 5 6 7\": expected 5 fields", "found 7");

	/* out of range, naming the field */
	parse_bad("0 25 * * *", "cron expression \"0 25 * * *\": hour 25 is out of range 0-23", NULL);
	parse_bad("60 * * * *", "minute 60 is out of range 0-59", NULL);
	parse_bad("0 0 0 * *", "day-of-month 0 is out of range 1-31", NULL);
	parse_bad("0 0 32 * *", "day-of-month 32 is out of range 1-31", NULL);
	parse_bad("0 0 * 0 *", "month 0 is out of range 1-12", NULL);
	parse_bad("0 0 * 13 *", "month 13 is out of range 1-12", NULL);
	parse_bad("0 0 * * 8", "day-of-week 8 is out of range 0-7", NULL);
	parse_bad("0 0-99999999999 * * *", "hour 99999999999 is out of range 0-23", NULL);
	parse_bad("0 1,2,30 * * *", "hour 30 is out of range", NULL);

	/* empty items */
	parse_bad("1,,2 * * * *", "empty item in the minute field \"1,,2\"", NULL);
	parse_bad("* 1, * * *", "empty item in the hour field \"1,\"", NULL);
	parse_bad("* * ,1 * *", "empty item in the day-of-month field", NULL);

	/* reversed ranges */
	parse_bad("5-1 * * * *", "minute range 5-1 is reversed", NULL);
	parse_bad("* * * * fri-mon", "day-of-week range fri-mon is reversed", NULL);
	parse_bad("* * * dec-jan *", "month range dec-jan is reversed", NULL);

	/* steps */
	parse_bad("*/0 * * * *", "minute step 0 is out of range 1-59", NULL);
	parse_bad("* 1-5/0 * * *", "hour step 0 is out of range 1-23", NULL);
	parse_bad("*/60 * * * *", "minute step 60 is out of range 1-59", NULL);
	parse_bad("*/x * * * *", "minute step \"x\" is not a number", NULL);
	parse_bad("*/5/2 * * * *", "minute step \"5/2\" is not a number", NULL);
	parse_bad("*/ * * * *", "invalid minute item \"*/\"", NULL);
	parse_bad("/5 * * * *", "invalid minute item \"/5\"", NULL);

	/* malformed items and trailing garbage */
	parse_bad("5x * * * *", "minute \"5x\" is not a number", NULL);
	parse_bad("* 1- * * *", "invalid hour item \"1-\"", NULL);
	parse_bad("* -1 * * *", "invalid hour item \"-1\"", NULL);
	parse_bad("** * * * *", "minute \"**\" is not a number", NULL);
	parse_bad("*-5 * * * *", "minute \"*\" is not a number", NULL);
	parse_bad("1-2-3 * * * *", "minute \"2-3\" is not a number", NULL);
	parse_bad("0 0 * * 1;", "day-of-week \"1;\" is not a number", NULL);

	/* names: unknown, or in the wrong field */
	parse_bad("0 0 * * monday", "day-of-week \"monday\" is not a number or a day name (sun-sat)", NULL);
	parse_bad("0 0 * foo *", "month \"foo\" is not a number or a month name (jan-dec)", NULL);
	parse_bad("0 0 * mon *", "month \"mon\" is not a number or a month name", NULL);
	parse_bad("0 0 * * jan", "day-of-week \"jan\" is not a number or a day name", NULL);
	parse_bad("0 0 jan * *", "day-of-month \"jan\" is not a number", NULL);
	parse_bad("0 x * * *", "hour \"x\" is not a number", NULL);
	parse_bad("0 0 * */jan *", "month step \"jan\" is not a number", NULL);

	/* too long to keep */
	parse_bad("0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,"
			  "30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50 * * * *",
			  "too long", NULL);
}
END_TEST

START_TEST(test_format)
{
	format_is("* * * * *", "* * * * *");
	format_is("0 0 * * *", "0 0 * * *");
	format_is("*/15 * * * *", "*/15 * * * *");
	format_is("0-59/15 * * * *", "*/15 * * * *");
	format_is("0,15,30,45 */2 * * *", "*/15 */2 * * *");
	format_is("*/30 * * * *", "0,30 * * * *");
	format_is("30 2 * * mon-fri", "30 2 * * 1-5");
	format_is("0 1 * * 1-6", "0 1 * * 1-6");
	format_is("0 0 * jan,feb,mar,jul fri", "0 0 * 1-3,7 5");
	format_is("0 0 * * sun,fri,sat", "0 0 * * 0,5,6");
	format_is("0 0 * * 7", "0 0 * * 0");
	format_is("0 0 * * 0-7", "0 0 * * 0-6");
	format_is("0 0 1-31 * mon", "0 0 1-31 * 1");
	format_is("0 0 */1 * */1", "0 0 * * *");
	format_is("5,7,9,20-25 1,2 1,3,5,7 * *", "5,7,9,20-25 1,2 1,3,5,7 * *");
	format_is("10-40/10 3/7 * * *", "10,20,30,40 3,10,17 * * *");
	format_is("0 0 29 2 *", "0 0 29 2 *");
	format_is("@weekly", "0 0 * * 0");

	/* truncation reports the full length, like snprintf */
	{
		CronExpr	e = parse_ok("30 2 * * mon-fri");
		char		small[8];

		ck_assert_int_eq(cron_format(&e, small, sizeof(small)), 12);
		ck_assert_str_eq(small, "30 2 * ");
		ck_assert_int_eq(cron_format(&e, NULL, 0), 12);
	}
}
END_TEST

/* ---- next run, UTC ---- */

START_TEST(test_next_every_minute)
{
	FIRES("* * * * *", NULL, "2026-06-10 12:00:30 +0000", "2026-06-10 12:01 +0000",
		  "2026-06-10 12:02 +0000");
	/* strictly after: a start on a firing minute moves on */
	FIRES("* * * * *", NULL, "2026-06-10 12:00 +0000", "2026-06-10 12:01 +0000");
	FIRES("* * * * *", "", "2026-06-10 12:00:59 +0000", "2026-06-10 12:01 +0000");
}
END_TEST

START_TEST(test_next_every_quarter_hour)
{
	FIRES("*/15 * * * *", NULL, "2026-06-10 12:40 +0000", "2026-06-10 12:45 +0000",
		  "2026-06-10 13:00 +0000", "2026-06-10 13:15 +0000");
	FIRES("*/15 * * * *", NULL, "2026-06-10 23:50 +0000", "2026-06-11 00:00 +0000");
}
END_TEST

START_TEST(test_next_weekly_and_weekdays)
{
	/* 2026-06-10 is a Wednesday; Sunday 01:00 */
	FIRES("0 1 * * 0", NULL, "2026-06-10 12:00 +0000", "2026-06-14 01:00 +0000",
		  "2026-06-21 01:00 +0000");
	FIRES("0 1 * * sun", NULL, "2026-06-13 23:00 +0000", "2026-06-14 01:00 +0000");
	FIRES("0 1 * * 7", NULL, "2026-06-14 00:59:59 +0000", "2026-06-14 01:00 +0000");
	FIRES("0 1 * * 0", NULL, "2026-06-14 01:00 +0000", "2026-06-21 01:00 +0000");
	FIRES("0 1 * * 0", NULL, "2026-06-14 01:00:01 +0000", "2026-06-21 01:00 +0000");

	/* Monday to Saturday 01:00: Sunday is skipped */
	FIRES("0 1 * * 1-6", NULL, "2026-06-12 00:30 +0000", "2026-06-12 01:00 +0000",
		  "2026-06-13 01:00 +0000", "2026-06-15 01:00 +0000", "2026-06-16 01:00 +0000");
	FIRES("0 1 * * mon-sat", NULL, "2026-06-13 02:00 +0000", "2026-06-15 01:00 +0000");

	/* daily */
	FIRES("30 4 * * *", NULL, "2026-06-10 04:29:59 +0000", "2026-06-10 04:30 +0000",
		  "2026-06-11 04:30 +0000");
	FIRES("30 4 * * *", NULL, "2026-06-10 04:30 +0000", "2026-06-11 04:30 +0000");
	FIRES("@daily", NULL, "2026-06-10 04:30 +0000", "2026-06-11 00:00 +0000");
	FIRES("@hourly", NULL, "2026-06-10 04:30 +0000", "2026-06-10 05:00 +0000");
	FIRES("@monthly", NULL, "2026-06-10 04:30 +0000", "2026-07-01 00:00 +0000");
	FIRES("@yearly", NULL, "2026-06-10 04:30 +0000", "2027-01-01 00:00 +0000");
	/* several hours and minutes in a day */
	FIRES("15,45 8-9 * * *", NULL, "2026-06-10 08:30 +0000", "2026-06-10 08:45 +0000",
		  "2026-06-10 09:15 +0000", "2026-06-10 09:45 +0000", "2026-06-11 08:15 +0000");
}
END_TEST

START_TEST(test_next_month_ends_and_leap_days)
{
	/* the 31st: months with 30 days (and February) are skipped */
	FIRES("0 0 31 * *", NULL, "2026-01-31 00:00 +0000", "2026-03-31 00:00 +0000",
		  "2026-05-31 00:00 +0000", "2026-07-31 00:00 +0000", "2026-08-31 00:00 +0000",
		  "2026-10-31 00:00 +0000", "2026-12-31 00:00 +0000", "2027-01-31 00:00 +0000");
	FIRES("0 0 30 * *", NULL, "2026-01-30 00:00 +0000", "2026-03-30 00:00 +0000");
	/* 29 February: the next leap year */
	FIRES("0 0 29 2 *", NULL, "2026-01-01 00:00 +0000", "2028-02-29 00:00 +0000",
		  "2032-02-29 00:00 +0000");
	FIRES("0 0 29 feb *", NULL, "2028-02-28 12:00 +0000", "2028-02-29 00:00 +0000");
	/* 2100 is not a leap year: nearly 8 years to wait */
	FIRES("0 0 29 2 *", NULL, "2096-03-01 00:00 +0000", "2104-02-29 00:00 +0000");
	/* last days of February */
	FIRES("0 12 28,29 2 *", NULL, "2027-02-28 12:00 +0000", "2028-02-28 12:00 +0000",
		  "2028-02-29 12:00 +0000", "2029-02-28 12:00 +0000");
}
END_TEST

/*
 * Day by day across 2100, which is not a leap year: a daily job fires once
 * every 86400 seconds, at the midnight timegm names, and a weekly one on the
 * right weekday after the missing 29 February.
 */
START_TEST(test_next_calendar_sweep)
{
	CronExpr	e = parse_ok("0 0 * * *");
	time_t		t = at("2099-12-31 00:00 +0000");

	for (int i = 0; i < 800; i++)
	{
		PgbError	err = {0};
		time_t		next = 0;
		struct tm	tm;

		ck_assert_msg(cron_next(&e, NULL, t, &next, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(next - t, 86400);
		gmtime_r(&next, &tm);
		ck_assert_int_eq(tm.tm_hour, 0);
		ck_assert_int_eq(tm.tm_min, 0);
		ck_assert_int_eq((long long) timegm(&tm), (long long) next);
		ck_assert_msg(!(tm.tm_mon == 1 && tm.tm_mday == 29), "29 February %d", tm.tm_year + 1900);
		t = next;
	}
	FIRES("0 0 * * mon", NULL, "2100-02-27 00:00 +0000", "2100-03-01 00:00 +0000", "2100-03-08 00:00 +0000");
	FIRES("0 0 * * tue", NULL, "2400-02-28 00:00 +0000", "2400-02-29 00:00 +0000");
}
END_TEST

START_TEST(test_next_year_end)
{
	FIRES("* * * * *", NULL, "2026-12-31 23:59 +0000", "2027-01-01 00:00 +0000");
	FIRES("59 23 31 12 *", NULL, "2026-12-31 23:58 +0000", "2026-12-31 23:59 +0000",
		  "2027-12-31 23:59 +0000");
	FIRES("0 0 1 1 *", NULL, "2026-12-31 23:59:59 +0000", "2027-01-01 00:00 +0000");
	FIRES("*/20 * * * *", "Europe/Berlin", "2026-12-31 23:50 +0100", "2027-01-01 00:00 +0100",
		  "2027-01-01 00:20 +0100");
}
END_TEST

START_TEST(test_next_day_rule)
{
	/* both restricted: the 1st OR any Monday (2026-06-01 is a Monday) */
	FIRES("0 0 1 * mon", NULL, "2026-06-01 00:00 +0000", "2026-06-08 00:00 +0000",
		  "2026-06-15 00:00 +0000", "2026-06-22 00:00 +0000", "2026-06-29 00:00 +0000",
		  "2026-07-01 00:00 +0000", "2026-07-06 00:00 +0000");
	/* Friday the 13th is every 13th and every Friday */
	FIRES("0 0 13 * 5", NULL, "2026-06-10 00:00 +0000", "2026-06-12 00:00 +0000",
		  "2026-06-13 00:00 +0000", "2026-06-19 00:00 +0000");
	/* "1-31" is a restriction, so with a weekday it is every day */
	FIRES("0 0 1-31 * mon", NULL, "2026-06-10 00:00 +0000", "2026-06-11 00:00 +0000");
	/* one side "*": both must match */
	FIRES("0 0 * * mon", NULL, "2026-06-02 00:00 +0000", "2026-06-08 00:00 +0000");
	FIRES("0 0 */1 * mon", NULL, "2026-06-02 00:00 +0000", "2026-06-08 00:00 +0000");
	FIRES("0 0 1-7 * *", NULL, "2026-06-07 00:00 +0000", "2026-07-01 00:00 +0000");
	/* the month restricts both sides: Mondays and 1sts of June only */
	FIRES("0 0 1 jun mon", NULL, "2026-06-29 00:00 +0000", "2027-06-01 00:00 +0000",
		  "2027-06-07 00:00 +0000");
}
END_TEST

START_TEST(test_next_names)
{
	/* weekends in summer (2026-06-06 is the first Saturday of June) */
	FIRES("0 9 * jun-aug sat,sun", NULL, "2026-05-30 00:00 +0000", "2026-06-06 09:00 +0000",
		  "2026-06-07 09:00 +0000", "2026-06-13 09:00 +0000");
	FIRES("0 9 * Jun-Aug SAT,Sun", NULL, "2026-08-30 09:00 +0000", "2027-06-05 09:00 +0000");
	FIRES("0 0 1 */3 *", NULL, "2026-02-15 00:00 +0000", "2026-04-01 00:00 +0000",
		  "2026-07-01 00:00 +0000", "2026-10-01 00:00 +0000", "2027-01-01 00:00 +0000");
}
END_TEST

START_TEST(test_next_never)
{
	static const char *const never[] = {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 feb *"};

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
	{
		CronExpr	e = parse_ok(never[i]);
		PgbError	err = {0};
		time_t		next = 42;

		ck_assert_int_eq(cron_next(&e, "Europe/Berlin", at("2026-06-10 00:00 +0000"), &next, &err), -1);
		ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
		ck_assert_int_eq(next, 42);
		ck_assert_msg(strstr(err.msg, never[i]) && strstr(err.msg, "does not fire in the next 8 years"),
					  "%s", err.msg);
	}
}
END_TEST

/* ---- next run, time zones ---- */

START_TEST(test_zone_validity)
{
	CronExpr	e = parse_ok("0 0 * * *");
	PgbError	err = {0};
	time_t		next = 42;

	ck_assert(cron_tz_valid(NULL));
	ck_assert(cron_tz_valid(""));
	ck_assert(cron_tz_valid("UTC"));
	ck_assert(cron_tz_valid("Europe/Berlin"));
	ck_assert(cron_tz_valid("America/Argentina/Buenos_Aires"));
	ck_assert(cron_tz_valid("Etc/GMT+5"));
	ck_assert(!cron_tz_valid("Mars/Olympus_Mons"));
	ck_assert(!cron_tz_valid("Europe"));	/* a directory */
	ck_assert(!cron_tz_valid("europe/berlin"));
	ck_assert(!cron_tz_valid("Europe/Berlin "));
	ck_assert(!cron_tz_valid("/etc/localtime"));
	ck_assert(!cron_tz_valid("../zoneinfo/UTC"));
	ck_assert(!cron_tz_valid("Europe/../UTC"));
	ck_assert(!cron_tz_valid("Europe//Berlin"));
	ck_assert(!cron_tz_valid("CET-1CEST,M3.5.0,M10.5.0/3"));

	ck_assert_int_eq(cron_next(&e, "Mars/Olympus_Mons", 0, &next, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_str_eq(err.msg, "unknown time zone \"Mars/Olympus_Mons\"");
	ck_assert(strstr(err.hint, "Europe/Berlin") != NULL);
	ck_assert_int_eq(next, 42);
}
END_TEST

START_TEST(test_zone_restores_tz)
{
	CronExpr	e = parse_ok("0 0 * * *");
	PgbError	err = {0};
	time_t		next;
	time_t		t = at("2026-06-10 12:00 +0000");
	struct tm	tm;

	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(cron_next(&e, "Asia/Tokyo", t, &next, &err), 0);
	ck_assert_str_eq(getenv("TZ"), "America/New_York");
	localtime_r(&t, &tm);
	ck_assert_int_eq(tm.tm_hour, 8);

	unsetenv("TZ");
	tzset();
	ck_assert_int_eq(cron_next(&e, "Asia/Tokyo", t, &next, &err), 0);
	ck_assert(getenv("TZ") == NULL);
}
END_TEST

START_TEST(test_zone_offsets)
{
	/* daily at 00:00 in Kolkata (+05:30) is 18:30 UTC */
	{
		CronExpr	e = parse_ok("0 0 * * *");
		PgbError	err = {0};
		time_t		next = 0;

		ck_assert_int_eq(cron_next(&e, "Asia/Kolkata", at("2026-06-10 18:00 +0000"), &next, &err), 0);
		ck_assert_int_eq(next, 1781116200);	/* 2026-06-10 18:30 UTC */
	}
	FIRES("30 4 * * *", "Asia/Kolkata", "2026-06-10 00:00 +0000", "2026-06-11 04:30 +0530");
	FIRES("*/45 * * * *", "Asia/Kolkata", "2026-06-10 23:50 +0530", "2026-06-11 00:00 +0530",
		  "2026-06-11 00:45 +0530");
	FIRES("0 12 * * *", "Australia/Adelaide", "2026-06-10 12:00 +0930", "2026-06-11 12:00 +0930");
	FIRES("0 12 * * *", "Australia/Adelaide", "2026-12-10 12:00 +1030", "2026-12-11 12:00 +1030");
	/* UTC spelled out is the same as no zone */
	FIRES("30 4 * * *", "UTC", "2026-06-10 00:00 +0000", "2026-06-10 04:30 +0000");
	/* a day in the zone is not a day in UTC: Sunday in Tokyo begins on Saturday UTC */
	FIRES("0 1 * * 0", "Asia/Tokyo", "2026-06-10 00:00 +0000", "2026-06-14 01:00 +0900");
	FIRES("0 0 1 1 *", "Pacific/Kiritimati", "2026-06-10 00:00 +0000", "2027-01-01 00:00 +1400");
}
END_TEST

START_TEST(test_dst_berlin)
{
	/* 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist */
	FIRES("30 2 * * *", "Europe/Berlin", "2026-03-28 03:00 +0100", "2026-03-29 03:00 +0200",
		  "2026-03-30 02:30 +0200");
	{
		CronExpr	e = parse_ok("30 2 * * *");
		PgbError	err = {0};
		time_t		next = 0;

		ck_assert_int_eq(cron_next(&e, "Europe/Berlin", at("2026-03-28 03:00 +0100"), &next, &err), 0);
		ck_assert_int_eq(next, 1774746000);	/* 2026-03-29 01:00 UTC */
	}
	/* several skipped times still fire once; 03:00 is that same run */
	FIRES("0,30 2,3 * * *", "Europe/Berlin", "2026-03-29 01:00 +0100", "2026-03-29 03:00 +0200",
		  "2026-03-29 03:30 +0200", "2026-03-30 02:00 +0200");
	FIRES("*/15 2 * * *", "Europe/Berlin", "2026-03-29 00:00 +0100", "2026-03-29 03:00 +0200",
		  "2026-03-30 02:00 +0200");
	/* jobs of every hour just skip the missing hour */
	FIRES("*/30 * * * *", "Europe/Berlin", "2026-03-29 01:00 +0100", "2026-03-29 01:30 +0100",
		  "2026-03-29 03:00 +0200", "2026-03-29 03:30 +0200");
	FIRES("15 * * * *", "Europe/Berlin", "2026-03-29 01:00 +0100", "2026-03-29 01:15 +0100",
		  "2026-03-29 03:15 +0200");

	/* 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice */
	FIRES("30 2 * * *", "Europe/Berlin", "2026-10-24 03:00 +0200", "2026-10-25 02:30 +0200",
		  "2026-10-26 02:30 +0100");
	/* started during the repeated hour, after the first 02:30 */
	FIRES("30 2 * * *", "Europe/Berlin", "2026-10-25 02:10 +0100", "2026-10-26 02:30 +0100");
	FIRES("30 2 * * *", "Europe/Berlin", "2026-10-25 02:40 +0200", "2026-10-26 02:30 +0100");
	/* started during the repeated hour, before the first 02:30 */
	FIRES("30 2 * * *", "Europe/Berlin", "2026-10-25 02:10 +0200", "2026-10-25 02:30 +0200");
	FIRES("*/30 * * * *", "Europe/Berlin", "2026-10-25 01:30 +0200", "2026-10-25 02:00 +0200",
		  "2026-10-25 02:30 +0200", "2026-10-25 03:00 +0100", "2026-10-25 03:30 +0100");
	FIRES("*/30 * * * *", "Europe/Berlin", "2026-10-25 02:15 +0100", "2026-10-25 03:00 +0100");
	FIRES("0 3 * * *", "Europe/Berlin", "2026-10-25 00:00 +0200", "2026-10-25 03:00 +0100");
}
END_TEST

START_TEST(test_dst_new_york)
{
	/* 2026-03-08: 02:00 EST becomes 03:00 EDT */
	FIRES("30 2 * * *", "America/New_York", "2026-03-07 12:00 -0500", "2026-03-08 03:00 -0400",
		  "2026-03-09 02:30 -0400");
	FIRES("*/30 * * * *", "America/New_York", "2026-03-08 01:15 -0500", "2026-03-08 01:30 -0500",
		  "2026-03-08 03:00 -0400");
	/* 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:00-01:59 happens twice */
	FIRES("30 1 * * *", "America/New_York", "2026-10-31 12:00 -0400", "2026-11-01 01:30 -0400",
		  "2026-11-02 01:30 -0500");
	FIRES("30 2 * * *", "America/New_York", "2026-10-31 12:00 -0400", "2026-11-01 02:30 -0500");
	FIRES("*/30 * * * *", "America/New_York", "2026-11-01 00:45 -0400", "2026-11-01 01:00 -0400",
		  "2026-11-01 01:30 -0400", "2026-11-01 02:00 -0500");
}
END_TEST

START_TEST(test_dst_sydney)
{
	/* 2026-04-05: 03:00 AEDT becomes 02:00 AEST; 02:00-02:59 happens twice */
	FIRES("30 2 * * *", "Australia/Sydney", "2026-04-04 12:00 +1100", "2026-04-05 02:30 +1100",
		  "2026-04-06 02:30 +1000");
	FIRES("*/30 * * * *", "Australia/Sydney", "2026-04-05 01:45 +1100", "2026-04-05 02:00 +1100",
		  "2026-04-05 02:30 +1100", "2026-04-05 03:00 +1000");
	/* 2026-10-04: 02:00 AEST becomes 03:00 AEDT */
	FIRES("30 2 * * *", "Australia/Sydney", "2026-10-03 12:00 +1000", "2026-10-04 03:00 +1100",
		  "2026-10-05 02:30 +1100");
	FIRES("*/30 * * * *", "Australia/Sydney", "2026-10-04 01:15 +1000", "2026-10-04 01:30 +1000",
		  "2026-10-04 03:00 +1100");
}
END_TEST

START_TEST(test_dst_half_hour)
{
	/* Lord Howe: 2026-10-04 02:00 +10:30 becomes 02:30 +11 */
	FIRES("0 2 * * *", "Australia/Lord_Howe", "2026-10-03 12:00 +1030", "2026-10-04 02:30 +1100",
		  "2026-10-05 02:00 +1100");
	FIRES("45 2 * * *", "Australia/Lord_Howe", "2026-10-03 12:00 +1030", "2026-10-04 02:45 +1100");
	FIRES("*/15 * * * *", "Australia/Lord_Howe", "2026-10-04 01:40 +1030", "2026-10-04 01:45 +1030",
		  "2026-10-04 02:30 +1100", "2026-10-04 02:45 +1100");
	/* 2026-04-05 02:00 +11 becomes 01:30 +10:30; 01:30-01:59 happens twice */
	FIRES("*/30 * * * *", "Australia/Lord_Howe", "2026-04-05 00:45 +1100", "2026-04-05 01:00 +1100",
		  "2026-04-05 01:30 +1100", "2026-04-05 02:00 +1030");
	FIRES("45 1 * * *", "Australia/Lord_Howe", "2026-04-04 12:00 +1100", "2026-04-05 01:45 +1100",
		  "2026-04-06 01:45 +1030");
	/* Adelaide (+09:30/+10:30) moves a whole hour on a half-hour offset */
	FIRES("30 2 * * *", "Australia/Adelaide", "2026-10-03 12:00 +0930", "2026-10-04 03:00 +1030",
		  "2026-10-05 02:30 +1030");
}
END_TEST

/* ---- against a brute-force reference ---- */

/*
 * The rules of cron.h applied minute by minute: walk real instants in
 * order, remembering the latest wall-clock time seen; a wall-clock time not
 * later than that is a repeat and never fires; a jump past minutes that
 * would have matched fires at once (unless the job runs every hour).
 * Starts three hours early to know what the clocks did before `after`.
 */
static time_t
reference_next(const CronExpr *e, const char *tz, time_t after)
{
	bool		every_hour = (e->hours & 0xffffff) == 0xffffff;
	time_t		t = after - after % 60 - 3 * 3600;
	int64_t		maxwall = INT64_MIN;

	setenv("TZ", tz, 1);
	tzset();
	for (int i = 0; i < 8 * 24 * 60; i++, t += 60)
	{
		struct tm	lt;
		int64_t		w;
		bool		fire = false;

		localtime_r(&t, &lt);
		w = (int64_t) t + lt.tm_gmtoff;
		if (w <= maxwall)
			continue;			/* a repeated wall-clock minute */
		for (int64_t s = (maxwall == INT64_MIN ? w : maxwall + 60); s <= w; s += 60)
		{
			time_t		st = (time_t) s;
			struct tm	g;
			bool		dm,
						wm,
						day;

			if (s < w && every_hour)
				continue;
			gmtime_r(&st, &g);
			dm = (e->mdays >> g.tm_mday) & 1;
			wm = (e->wdays >> g.tm_wday) & 1;
			day = (!e->mday_any && !e->wday_any) ? (dm || wm) : (dm && wm);
			if (day && ((e->months >> (g.tm_mon + 1)) & 1) &&
				((e->hours >> g.tm_hour) & 1) && ((e->minutes >> g.tm_min) & 1))
				fire = true;
		}
		maxwall = w;
		if (fire && t > after)
		{
			setenv("TZ", "UTC", 1);
			tzset();
			return t;
		}
	}
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

START_TEST(test_against_reference)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
		"Asia/Kolkata"
	};
	/* days with a change in each zone (Kolkata has none) */
	static const char *const days[] = {
		"2026-03-08 00:00 +0000", "2026-03-29 00:00 +0000", "2026-04-04 12:00 +0000",
		"2026-10-03 12:00 +0000", "2026-10-25 00:00 +0000", "2026-11-01 00:00 +0000"
	};
	static const char *const exprs[] = {
		"* * * * *", "*/15 * * * *", "30 2 * * *", "0 2 * * *", "0,30 1-3 * * *",
		"*/20 */2 * * *", "59 1 * * *", "0 3 * * *", "45 * * * *", "*/7 2 * * *",
		"10 0,2,23 * * 0", "5,35 1,2 * * *"
	};
	int			checked = 0;

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
		for (size_t d = 0; d < sizeof(days) / sizeof(days[0]); d++)
			for (size_t x = 0; x < sizeof(exprs) / sizeof(exprs[0]); x++)
			{
				CronExpr	e = parse_ok(exprs[x]);
				/* a few starting points through the day of the change */
				for (int s = 0; s < 36 * 3600; s += 7 * 3600 + 17 * 60 + 13)
				{
					time_t		t = at(days[d]) + s;

					for (int run = 0; run < 3; run++)
					{
						PgbError	err = {0};
						time_t		next = 0;
						time_t		ref = reference_next(&e, zones[z], t);

						ck_assert_msg(cron_next(&e, zones[z], t, &next, &err) == 0, "%s", err.msg);
						ck_assert_msg(ref != 0, "reference found nothing");
						ck_assert_msg(next == ref, "\"%s\" in %s after %lld: got %lld, reference %lld",
									  exprs[x], zones[z], (long long) t, (long long) next,
									  (long long) ref);
						t = next;
						checked++;
					}
				}
			}
	ck_assert_int_gt(checked, 1000);
}
END_TEST

/* ---- speed ---- */

static double
cpu_us_per_call(const char *text, const char *tz)
{
	CronExpr	e = parse_ok(text);
	time_t		t = at("2026-01-01 00:00 +0000");
	clock_t		start = clock();
	int			n = 200;

	for (int i = 0; i < n; i++)
	{
		PgbError	err = {0};
		time_t		next;

		ck_assert_int_eq(cron_next(&e, tz, t + i * 86400 * 3, &next, &err), 0);
	}
	return (double) (clock() - start) * 1e6 / CLOCKS_PER_SEC / n;
}

START_TEST(test_speed)
{
	/* well under a millisecond per call, even for rare schedules */
	ck_assert_double_lt(cpu_us_per_call("30 2 * * *", "Europe/Berlin"), 1000.0);
	ck_assert_double_lt(cpu_us_per_call("*/15 * * * *", "Australia/Lord_Howe"), 1000.0);
	ck_assert_double_lt(cpu_us_per_call("0 0 1 1 *", "America/New_York"), 1000.0);
	ck_assert_double_lt(cpu_us_per_call("0 0 29 2 *", NULL), 1000.0);
}
END_TEST

START_TEST(test_format_restricted_day_step)
{
	CronExpr	e;
	PgbError	err = {0};
	char		buf[CRON_FORMAT_MAX];

	/* a stepped but restricted day of month must not print as "*\/2": cron would treat it as unrestricted */
	ck_assert_int_eq(cron_parse("0 0 1-31/2 * mon", &e, &err), 0);
	cron_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 0 1-31/2 * 1");
	ck_assert_int_eq(cron_parse("0 0 * * */2", &e, &err), 0);
	cron_format(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 0 * * 0-6/2");	/* restricted here, so not "*\/2" */
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite	   *s = suite_create("cron");
	TCase	   *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_format_restricted_day_step);
	tcase_add_test(tc, test_parse_star_and_numbers);
	tcase_add_test(tc, test_parse_lists_ranges_steps);
	tcase_add_test(tc, test_parse_names_and_sunday);
	tcase_add_test(tc, test_parse_macros);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("next");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_add_test(tc, test_next_every_minute);
	tcase_add_test(tc, test_next_every_quarter_hour);
	tcase_add_test(tc, test_next_weekly_and_weekdays);
	tcase_add_test(tc, test_next_month_ends_and_leap_days);
	tcase_add_test(tc, test_next_calendar_sweep);
	tcase_add_test(tc, test_next_year_end);
	tcase_add_test(tc, test_next_day_rule);
	tcase_add_test(tc, test_next_names);
	tcase_add_test(tc, test_next_never);
	suite_add_tcase(s, tc);

	tc = tcase_create("zones");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_add_test(tc, test_zone_validity);
	tcase_add_test(tc, test_zone_restores_tz);
	tcase_add_test(tc, test_zone_offsets);
	tcase_add_test(tc, test_dst_berlin);
	tcase_add_test(tc, test_dst_new_york);
	tcase_add_test(tc, test_dst_sydney);
	tcase_add_test(tc, test_dst_half_hour);
	suite_add_tcase(s, tc);

	tc = tcase_create("reference");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_against_reference);
	tcase_add_test(tc, test_speed);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(cron_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
