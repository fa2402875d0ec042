/*
 * Unit tests for src/common/timefmt.c: strict parsing with and without a
 * zone (including local time across daylight-saving changes), the three
 * output forms and round trips between them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timefmt.h"

#define US INT64_C(1000000)

static char *saved_tz;

/* Each test starts in UTC; tests that need another zone switch to it. */
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

static void
use_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static TimestampUs
parse_ok(const char *text)
{
	PgbError	err = {0};
	TimestampUs t = -42;

	ck_assert_msg(time_parse(text, &t, &err) == 0, "\"%s\": %s", text, err.msg);
	ck_assert_int_eq(err.code, 0);
	return t;
}

/* Must fail with EXIT_USAGE, quote the input and contain reason (if given). */
static PgbError
parse_bad(const char *text, const char *reason)
{
	PgbError	err = {0};
	TimestampUs t = -42;
	char		quoted[256];

	ck_assert_msg(time_parse(text, &t, &err) == -1, "\"%s\" accepted", text);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(t, -42);
	snprintf(quoted, sizeof(quoted), "invalid timestamp \"%s\"", text ? text : "");
	ck_assert_msg(strstr(err.msg, quoted) != NULL, "message \"%s\" lacks %s", err.msg, quoted);
	if (reason)
		ck_assert_msg(strstr(err.msg, reason) != NULL, "message \"%s\" lacks \"%s\"",
					  err.msg, reason);
	return err;
}

/* Syntax errors also say what was expected. */
static void
parse_bad_syntax(const char *text)
{
	parse_bad(text, "expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|Z]");
}

START_TEST(test_parse_utc)
{
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:00+00"), 0);
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:00-00"), 0);
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:00+00:00"), 0);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:01Z"), US);
	ck_assert_int_eq(parse_ok("1970-01-01 00:00:00.000001Z"), 1);
	ck_assert_int_eq(parse_ok("1969-12-31 23:59:59.999999Z"), -1);
	ck_assert_int_eq(parse_ok("1969-12-31 23:59:59Z"), -US);
	ck_assert_int_eq(parse_ok("2026-11-25 21:38:58Z"), INT64_C(1795642738) * US);
	ck_assert_int_eq(parse_ok("2026-11-25 21:38:58.123456+00"),
					 INT64_C(1795642738) * US + 123456);
	ck_assert_int_eq(parse_ok("2026-11-25T21:38:58.123456Z"),
					 INT64_C(1795642738) * US + 123456);
	ck_assert_int_eq(parse_ok("2000-02-29 12:00:00Z"), INT64_C(951825600) * US);
	ck_assert_int_eq(parse_ok("2024-02-29 00:00:00Z"), INT64_C(1709164800) * US);
	ck_assert_int_eq(parse_ok("1900-03-01 00:00:00Z"), INT64_C(-2203891200) * US);
	ck_assert_int_eq(parse_ok("0001-01-01 00:00:00Z"), INT64_C(-62135596800) * US);
	ck_assert_int_eq(parse_ok("9999-12-31 23:59:59.999999Z"),
					 INT64_C(253402300799) * US + 999999);
	ck_assert_int_eq(parse_ok("2025-12-31 23:59:59Z"), INT64_C(1767225599) * US);
	ck_assert_int_eq(parse_ok("2026-12-31 23:59:59Z"), INT64_C(1798761599) * US);
}
END_TEST

START_TEST(test_parse_offsets)
{
	const TimestampUs new_year = INT64_C(1767225600) * US; /* 2026-01-01 00:00:00Z */

	ck_assert_int_eq(parse_ok("2026-01-01 05:30:00+05:30"), new_year);
	ck_assert_int_eq(parse_ok("2026-01-01 05:30:00.25+05:30"), new_year + 250000);
	ck_assert_int_eq(parse_ok("2025-12-31 16:00:00-08"), new_year);
	ck_assert_int_eq(parse_ok("2025-12-31 16:00:00-08:00"), new_year);
	ck_assert_int_eq(parse_ok("2025-12-31 14:30:00-09:30"), new_year);
	ck_assert_int_eq(parse_ok("2026-01-01 01:00:00+01"), new_year);
	ck_assert_int_eq(parse_ok("2026-01-01 15:59:00+15:59"), new_year);
	ck_assert_int_eq(parse_ok("2025-12-31 08:01:00-15:59"), new_year);
	ck_assert_int_eq(parse_ok("2026-01-01T05:45:00+05:45"), new_year);
	/* An offset can move the date across a month and a year. */
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00+01"), new_year - 3600 * US);
	ck_assert_int_eq(parse_ok("2025-12-31 23:00:00-01"), new_year);
}
END_TEST

START_TEST(test_parse_fractions)
{
	const TimestampUs base = INT64_C(1767225600) * US;

	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.1Z"), base + 100000);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.12Z"), base + 120000);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.123Z"), base + 123000);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.1234Z"), base + 123400);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.12345Z"), base + 123450);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.123456Z"), base + 123456);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.000000Z"), base);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.999999Z"), base + 999999);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.05+00"), base + 50000);
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00.000001"), base + 1);	/* local = UTC */

	parse_bad("2026-01-01 00:00:00.1234567Z", "more than 6 fraction digits");
	parse_bad("2026-01-01 00:00:00.Z", "fraction");
	parse_bad("2026-01-01 00:00:00.", "fraction");
	parse_bad_syntax("2026-01-01 00:00:00,5Z");
}
END_TEST

START_TEST(test_parse_range_errors)
{
	parse_bad("2026-02-30 10:00:00", "day 30 out of range for 2026-02");
	parse_bad("2026-02-29 10:00:00", "day 29 out of range for 2026-02");
	parse_bad("2100-02-29 10:00:00", "day 29 out of range for 2100-02");
	parse_bad("2026-04-31 10:00:00", "day 31 out of range for 2026-04");
	parse_bad("2026-01-32 10:00:00", "day 32 out of range");
	parse_bad("2026-01-00 10:00:00", "day 0 out of range");
	parse_bad("2026-13-01 00:00:00", "month 13 out of range");
	parse_bad("2026-00-01 00:00:00", "month 0 out of range");
	parse_bad("2026-01-01 25:00:00", "hour 25 out of range");
	parse_bad("2026-01-01 24:00:00", "hour 24 out of range");
	parse_bad("2026-01-01 10:60:00", "minute 60 out of range");
	parse_bad("2026-01-01 10:00:60", "second 60 out of range");
	parse_bad("2026-01-01 10:00:99Z", "second 99 out of range");
	parse_bad("0000-01-01 00:00:00Z", "year 0");
	/* In range as written, outside years 1 to 9999 in UTC: could not be written back. */
	parse_bad("0001-01-01 00:30:00+01", "outside years 0001 to 9999");
	parse_bad("9999-12-31 23:30:00-01", "outside years 0001 to 9999");
	ck_assert_int_eq(parse_ok("0001-01-01 00:00:00Z"), INT64_C(-62135596800) * 1000000);
	ck_assert_int_eq(parse_ok("9999-12-31 23:59:59.999999Z"), INT64_C(253402300799) * 1000000 + 999999);
	parse_bad("2026-01-01 10:00:00+16", "offset out of range");
	parse_bad("2026-01-01 10:00:00-16:00", "offset out of range");
	parse_bad("2026-01-01 10:00:00+05:60", "offset out of range");
	parse_bad("2026-01-01 10:00:00+99", "offset out of range");

	/* Range errors also name the expected form. */
	parse_bad("2026-02-30 10:00:00", "expected YYYY-MM-DD HH:MM:SS");
}
END_TEST

START_TEST(test_parse_syntax_errors)
{
	PgbError	err;

	err = parse_bad("2026-01-01", "missing time of day");
	ck_assert_ptr_nonnull(strstr(err.msg, "expected YYYY-MM-DD HH:MM:SS"));
	parse_bad("2026-01-01 10:00", "missing seconds");
	parse_bad("2026-01-01 10:00:00 UTC", "unexpected text");
	parse_bad("2026-01-01 10:00:00Z ", "unexpected text");
	parse_bad("2026-01-01 10:00:00ZZ", "unexpected text");
	parse_bad("2026-01-01 10:00:00+0530", "unexpected text");
	parse_bad("2026-01-01 10:00:00+05:30:00", "unexpected text");
	parse_bad("2026-01-01 10:00:00x", "unexpected text");
	parse_bad("2026-01-01 10:00:00\n", "unexpected text");
	parse_bad("2026-01-01 10:00:00+5", "zone offset");
	parse_bad("2026-01-01 10:00:00+05:3", "zone offset");
	parse_bad("2026-01-01 10:00:00+", "zone offset");
	parse_bad("2026-01-01 10:00:00+:30", "zone offset");

	parse_bad_syntax("yesterday");
	parse_bad_syntax("now");
	parse_bad_syntax("");
	parse_bad_syntax("2026");
	parse_bad_syntax("2026-1-01 00:00:00");
	parse_bad_syntax("2026-01-1 00:00:00");
	parse_bad_syntax("26-01-01 00:00:00");
	parse_bad_syntax("02026-01-01 00:00:00");
	parse_bad_syntax("2026/01/01 00:00:00");
	parse_bad_syntax("2026-01-01  10:00:00");
	parse_bad_syntax("2026-01-01t10:00:00");
	parse_bad_syntax("2026-01-01_10:00:00");
	parse_bad_syntax(" 2026-01-01 10:00:00");
	parse_bad_syntax("2026-01-01 1:00:00");
	parse_bad_syntax("2026-01-01 10:0:00");
	parse_bad_syntax("2026-01-01 10:00:0");
	parse_bad_syntax("2026-01-01 10-00-00");
	parse_bad_syntax("+026-01-01 10:00:00");
	parse_bad_syntax("2026-+1-01 10:00:00");
	parse_bad_syntax("2026-01-01 -1:00:00");
	parse_bad_syntax("1795642738");
	parse_bad_syntax(NULL);
}
END_TEST

/* Local time in a zone with daylight saving time; tz is a zone name or POSIX rule. */
static void
check_new_york(const char *tz)
{
	PgbError	err;

	use_tz(tz);

	/* Standard time (EST, -05) and daylight time (EDT, -04). */
	ck_assert_int_eq(parse_ok("2026-01-15 12:00:00"), INT64_C(1768496400) * US);
	ck_assert_int_eq(parse_ok("2026-07-15 12:00:00"), INT64_C(1784131200) * US);
	ck_assert_int_eq(parse_ok("2026-07-15T12:00:00.5"), INT64_C(1784131200) * US + 500000);

	/* Around the spring-forward gap on 2026-03-08. */
	ck_assert_int_eq(parse_ok("2026-03-08 01:59:59"), INT64_C(1772953199) * US);
	ck_assert_int_eq(parse_ok("2026-03-08 03:00:00"), INT64_C(1772953200) * US);
	parse_bad("2026-03-08 02:00:00", "does not exist");
	err = parse_bad("2026-03-08 02:30:00", "does not exist");
	ck_assert_ptr_nonnull(strstr(err.hint, "+00"));

	/* Around the fall-back overlap on 2026-11-01. */
	ck_assert_int_eq(parse_ok("2026-11-01 00:59:59"), INT64_C(1793509199) * US);
	ck_assert_int_eq(parse_ok("2026-11-01 02:00:00"), INT64_C(1793516400) * US);
	err = parse_bad("2026-11-01 01:30:00", "occurs twice");
	ck_assert_msg(strstr(err.hint, "2026-11-01 01:30:00-04") != NULL, "hint: %s", err.hint);
	ck_assert_msg(strstr(err.hint, "2026-11-01 01:30:00-05") != NULL, "hint: %s", err.hint);
	parse_bad("2026-11-01 01:00:00", "occurs twice");
	/* With an offset the overlap is not ambiguous. */
	ck_assert_int_eq(parse_ok("2026-11-01 01:30:00-04"), INT64_C(1793511000) * US);
	ck_assert_int_eq(parse_ok("2026-11-01 01:30:00-05"), INT64_C(1793514600) * US);

	/* Explicit zones ignore TZ. */
	ck_assert_int_eq(parse_ok("2026-01-15 17:00:00Z"), INT64_C(1768496400) * US);
	ck_assert_int_eq(parse_ok("2026-01-15 22:30:00+05:30"), INT64_C(1768496400) * US);

	/* Local midnight of the epoch's eve: mktime returns -1 legitimately here. */
	ck_assert_int_eq(parse_ok("1969-12-31 19:00:00"), 0);
	ck_assert_int_eq(parse_ok("1969-12-31 18:59:59"), -US);
	ck_assert_int_eq(parse_ok("1969-12-31 18:59:59.5"), -US + 500000);

	/* Range checks are the same for local times. */
	parse_bad("2026-02-30 10:00:00", "day 30 out of range for 2026-02");
}

START_TEST(test_parse_local_new_york)
{
	if (access("/usr/share/zoneinfo/America/New_York", R_OK) != 0)
		return;					/* no tzdata: the POSIX rule test still runs */
	check_new_york("America/New_York");
}
END_TEST

START_TEST(test_parse_local_posix_rule)
{
	check_new_york("EST5EDT,M3.2.0,M11.1.0");
}
END_TEST

START_TEST(test_parse_local_no_dst)
{
	use_tz("UTC");
	ck_assert_int_eq(parse_ok("2026-01-01 00:00:00"), INT64_C(1767225600) * US);
	ck_assert_int_eq(parse_ok("1969-12-31 23:59:59"), -US);
	ck_assert_int_eq(parse_ok("2026-03-08 02:30:00"), INT64_C(1772937000) * US);
	ck_assert_int_eq(parse_ok("2026-11-01 01:30:00"), INT64_C(1793496600) * US);

	use_tz("IST-5:30");			/* fixed +05:30, no DST */
	ck_assert_int_eq(parse_ok("2026-01-01 05:30:00"), INT64_C(1767225600) * US);
	ck_assert_int_eq(parse_ok("2026-07-01 05:30:00"),
					 parse_ok("2026-07-01 00:00:00Z"));

	use_tz("<-08>8");			/* fixed -08 */
	ck_assert_int_eq(parse_ok("2025-12-31 16:00:00"), INT64_C(1767225600) * US);
}
END_TEST

START_TEST(test_parse_local_southern)
{
	/* Sydney: DST in January, standard time in July. */
	use_tz("AEST-10AEDT,M10.1.0,M4.1.0/3");
	ck_assert_int_eq(parse_ok("2026-01-01 11:00:00"), INT64_C(1767225600) * US);
	ck_assert_int_eq(parse_ok("2026-07-01 10:00:00"), parse_ok("2026-07-01 00:00:00Z"));
	/* 2026-10-04 02:30 is skipped, 2026-04-05 02:30 happens twice. */
	parse_bad("2026-10-04 02:30:00", "does not exist");
	parse_bad("2026-04-05 02:30:00", "occurs twice");
}
END_TEST

static const char *
fmt_pg(TimestampUs t)
{
	static char buf[64];

	time_format_pg(t, buf, sizeof(buf));
	return buf;
}

static const char *
fmt_utc(TimestampUs t)
{
	static char buf[64];

	time_format_utc(t, buf, sizeof(buf));
	return buf;
}

static const char *
fmt_iso(TimestampUs t)
{
	static char buf[64];

	time_format_iso(t, buf, sizeof(buf));
	return buf;
}

/*
 * Every day from 1599 to 2401 (the leap rules of 1600, 1700, 2000, 2100 and
 * 2400 included), stepped by a calendar of the test's own: each parses to
 * the previous day plus 86400 seconds and to what timegm says.
 */
START_TEST(test_calendar_sweep)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y = 1599,
				m = 12,
				d = 25;
	TimestampUs prev = 0;
	PgbError	err = {0};

	for (int i = 0; y < 2401 || m == 1; i++)
	{
		char		text[64];
		struct tm	tm = {0};
		TimestampUs t;
		bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		snprintf(text, sizeof(text), "%04d-%02d-%02d 12:34:56Z", y, m, d);
		/* plain tests: every ck_assert is a write to the runner */
		if (time_parse(text, &t, &err) != 0)
			ck_abort_msg("\"%s\": %s", text, err.msg);
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = 12;
		tm.tm_min = 34;
		tm.tm_sec = 56;
		if (t != (TimestampUs) timegm(&tm) * US)
			ck_abort_msg("%s: not what timegm says", text);
		if (i > 0 && t - prev != 86400 * US)
			ck_abort_msg("%s: not a day after the day before", text);
		prev = t;
		if (++d > mdays[m - 1] + (m == 2 && leap))
		{
			d = 1;
			if (++m > 12)
			{
				m = 1;
				y++;
			}
		}
	}
	/* 29 February exists in 1600, 2000 and 2400 only among the century years */
	parse_ok("1600-02-29 00:00:00Z");
	parse_ok("2000-02-29 00:00:00Z");
	parse_ok("2400-02-29 00:00:00Z");
	parse_bad("1700-02-29 00:00:00Z", "day 29 out of range for 1700-02");
	parse_bad("1900-02-29 00:00:00Z", "day 29 out of range for 1900-02");
	parse_bad("2100-02-29 00:00:00Z", "day 29 out of range for 2100-02");
}
END_TEST

/* Around a daylight-saving change local times stay one second apart where they exist. */
START_TEST(test_calendar_dst_seconds)
{
	use_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	/* clocks go from 02:00 to 03:00 on 2026-03-29 */
	ck_assert_int_eq(parse_ok("2026-03-29 03:00:00") - parse_ok("2026-03-29 01:59:59"), US);
	ck_assert_int_eq(parse_ok("2026-03-29 03:00:00"), parse_ok("2026-03-29 01:00:00Z"));
	/* the day of the change is 23 hours long, the autumn one 25 */
	ck_assert_int_eq(parse_ok("2026-03-30 00:00:00") - parse_ok("2026-03-29 00:00:00"), 23 * 3600 * US);
	ck_assert_int_eq(parse_ok("2026-10-26 00:00:00") - parse_ok("2026-10-25 00:00:00"), 25 * 3600 * US);
}
END_TEST

START_TEST(test_format)
{
	TimestampUs t = INT64_C(1795642738) * US + 123456;

	ck_assert_str_eq(fmt_pg(t), "2026-11-25 21:38:58.123456+00");
	ck_assert_str_eq(fmt_utc(t), "2026-11-25 21:38:58+00");
	ck_assert_str_eq(fmt_iso(t), "2026-11-25T21:38:58.123456Z");

	ck_assert_str_eq(fmt_pg(0), "1970-01-01 00:00:00.000000+00");
	ck_assert_str_eq(fmt_utc(0), "1970-01-01 00:00:00+00");
	ck_assert_str_eq(fmt_iso(0), "1970-01-01T00:00:00.000000Z");

	ck_assert_str_eq(fmt_pg(1), "1970-01-01 00:00:00.000001+00");
	ck_assert_str_eq(fmt_pg(-1), "1969-12-31 23:59:59.999999+00");
	ck_assert_str_eq(fmt_utc(-1), "1969-12-31 23:59:59+00");
	ck_assert_str_eq(fmt_iso(-1), "1969-12-31T23:59:59.999999Z");
	ck_assert_str_eq(fmt_utc(-US), "1969-12-31 23:59:59+00");
	ck_assert_str_eq(fmt_utc(-US - 1), "1969-12-31 23:59:58+00");
	ck_assert_str_eq(fmt_utc(999999), "1970-01-01 00:00:00+00");	/* truncates */

	ck_assert_str_eq(fmt_pg(INT64_C(951825600) * US), "2000-02-29 12:00:00.000000+00");
	ck_assert_str_eq(fmt_iso(INT64_C(253402300799) * US + 999999),
					 "9999-12-31T23:59:59.999999Z");
	ck_assert_str_eq(fmt_utc(INT64_C(-62135596800) * US), "0001-01-01 00:00:00+00");
}
END_TEST

START_TEST(test_format_ignores_tz)
{
	TimestampUs t = INT64_C(1784131200) * US;	/* 2026-07-15 16:00:00Z */

	use_tz("EST5EDT,M3.2.0,M11.1.0");
	ck_assert_str_eq(fmt_pg(t), "2026-07-15 16:00:00.000000+00");
	ck_assert_str_eq(fmt_utc(t), "2026-07-15 16:00:00+00");
	ck_assert_str_eq(fmt_iso(t), "2026-07-15T16:00:00.000000Z");
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char		buf[11];
	char		untouched[1] = {'Q'};

	time_format_pg(INT64_C(1795642738) * US, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-25");
	time_format_iso(INT64_C(1795642738) * US, buf, 5);
	ck_assert_str_eq(buf, "2026");
	time_format_utc(0, untouched, 0);
	ck_assert_int_eq(untouched[0], 'Q');
}
END_TEST

START_TEST(test_round_trips)
{
	static const TimestampUs values[] = {
		0, 1, -1, 999999, -999999, US, -US,
		INT64_C(951825600) * US,
		INT64_C(1709164800) * US + 7,
		INT64_C(1795642738) * US + 123456,
		INT64_C(1772953199) * US + 999999,
		INT64_C(-2203891200) * US + 500000,
		INT64_C(253402300799) * US + 999999,
		INT64_C(-62135596800) * US,
	};

	use_tz("EST5EDT,M3.2.0,M11.1.0");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		TimestampUs t = values[i];
		TimestampUs secs = t / US - (t % US < 0 ? 1 : 0);
		char		buf[64];

		time_format_pg(t, buf, sizeof(buf));
		ck_assert_int_eq(parse_ok(buf), t);
		time_format_iso(t, buf, sizeof(buf));
		ck_assert_int_eq(parse_ok(buf), t);
		time_format_utc(t, buf, sizeof(buf));
		ck_assert_int_eq(parse_ok(buf), secs * US);
	}

	/* Every day of a leap year and a common year survives a round trip. */
	for (TimestampUs t = INT64_C(1704067200) * US;	/* 2024-01-01 */
		 t < INT64_C(1767225600) * US;	/* 2026-01-01 */
		 t += INT64_C(86400) * US + 1)
	{
		char		buf[64];

		time_format_pg(t, buf, sizeof(buf));
		ck_assert_int_eq(parse_ok(buf), t);
	}
}
END_TEST

START_TEST(test_time_now)
{
	TimestampUs a = time_now();
	time_t		wall = time(NULL);
	TimestampUs b = time_now();

	ck_assert_int_gt(a, INT64_C(1577836800) * US);	/* after 2020-01-01 */
	ck_assert_int_le(a, b);
	ck_assert_int_le(a / US, (TimestampUs) wall + 1);
	ck_assert_int_le((TimestampUs) wall, b / US + 1);
}
END_TEST

static Suite *
timefmt_suite(void)
{
	Suite	   *s = suite_create("timefmt");
	TCase	   *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_add_test(tc, test_parse_utc);
	tcase_add_test(tc, test_parse_offsets);
	tcase_add_test(tc, test_parse_fractions);
	tcase_add_test(tc, test_parse_range_errors);
	tcase_add_test(tc, test_parse_syntax_errors);
	tcase_add_test(tc, test_calendar_sweep);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_add_test(tc, test_parse_local_new_york);
	tcase_add_test(tc, test_parse_local_posix_rule);
	tcase_add_test(tc, test_parse_local_no_dst);
	tcase_add_test(tc, test_parse_local_southern);
	tcase_add_test(tc, test_calendar_dst_seconds);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, tz_setup, tz_teardown);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_ignores_tz);
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_test(tc, test_round_trips);
	tcase_add_test(tc, test_time_now);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(timefmt_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
