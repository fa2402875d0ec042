/*
 * Cron expressions for the built-in scheduler: parsing, the next time an
 * expression fires in a given time zone, and printing one back as a crontab
 * schedule.
 *
 * Syntax.  Five fields separated by blanks: minute (0-59), hour (0-23),
 * day of month (1-31), month (1-12 or jan-dec) and day of week (0-7 or
 * sun-sat; 0 and 7 are both Sunday).  Each field is a comma-separated list
 * of items; an item is "*", a value "a", a range "a-b", or one of these with
 * a step: "*\/n" (every n-th value from the field's minimum), "a-b/n" and
 * "a/n" (from a to the field's maximum).  Names are three letters and
 * case-insensitive, and may be used in ranges ("mon-fri").  Refused: a wrong
 * number of fields, empty items, reversed ranges ("5-1"), a step of 0 or one
 * larger than the field's maximum, values out of range, names in the wrong
 * field and anything else that is not part of an item.  The macros @yearly
 * (= @annually), @monthly, @weekly, @daily (= @midnight) and @hourly stand
 * for "0 0 1 1 *", "0 0 1 * *", "0 0 * * 0", "0 0 * * *" and "0 * * * *";
 * @reboot is refused, since a schedule cannot express it.
 *
 * Days.  As in Vixie cron: when both the day-of-month and the day-of-week
 * field are restricted (neither is "*" or "*\/1"), a day matches if EITHER
 * matches ("0 0 1 * mon" fires on the 1st and on every Monday); otherwise a
 * day must match both.
 *
 * Time zone.  The fields are wall-clock time in the configured zone (an IANA
 * name; UTC when none is given).  Where a daylight-saving change makes a
 * wall-clock time ambiguous:
 *  - a time that occurs twice (clocks go back) fires only at its first
 *    occurrence; while the hour repeats nothing fires a second time;
 *  - a time that does not exist (clocks go forward) fires at the first
 *    instant after the gap (e.g. 03:00 when 02:00 jumps to 03:00), once,
 *    however many of the skipped times match; except that an expression
 *    whose hour field is every hour simply skips the missing times, as its
 *    next regular run is less than an hour away ("*\/15 * * * *" does not
 *    fire for 02:00-02:45, and fires at 03:00 as usual).
 * So a daily job runs exactly once on every day, whatever the clocks do.
 *
 * cron_next switches the process's TZ to do local-time conversions (and
 * restores it): it is not thread-safe, and must not run concurrently with
 * other threads that use local time.  The scheduler calls it from one thread.
 */
#ifndef PGBKP_CRON_H
#define PGBKP_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

#define CRON_TEXT_MAX	128		/* size of CronExpr.text, with the NUL */
#define CRON_FORMAT_MAX 256		/* enough for any cron_format output */

typedef struct CronExpr
{
	uint64_t	minutes;		/* bit m for minute 0..59 */
	uint32_t	hours;			/* bit h for hour 0..23 */
	uint32_t	mdays;			/* bit d for day of month 1..31 */
	uint16_t	months;			/* bit m for month 1..12 */
	uint8_t		wdays;			/* bit d for day of week 0..6, Sunday = 0 */
	bool		mday_any;		/* the day-of-month field was "*" (or "*\/1") */
	bool		wday_any;		/* the day-of-week field was "*" (or "*\/1") */
	char		text[CRON_TEXT_MAX];	/* as given, blanks normalised to one space */
} CronExpr;

/*
 * Parse text into *out.  On error: EXIT_CONFIG with a message quoting the
 * expression and naming the field and the offending token, e.g.
 * "cron expression \"0 25 * * *\": hour 25 is out of range 0-23"; *out is
 * left untouched and -1 returned.
 */
int			cron_parse(const char *text, CronExpr *out, PgbError *err);

/*
 * The first time strictly after `after` at which e fires, as wall-clock
 * time in zone tz (NULL or "" = UTC), into *next.  EXIT_CONFIG for a zone
 * this machine does not know; EXIT_NOT_FOUND if e does not fire within the
 * next 8 years (e.g. "0 0 30 2 *").  Not thread-safe (see above).
 */
int			cron_next(const CronExpr *e, const char *tz, time_t after, time_t *next,
					  PgbError *err);

/*
 * Whether tz names a zone in this machine's time zone database ($TZDIR or
 * /usr/share/zoneinfo).  NULL and "" (UTC) are valid.
 */
bool		cron_tz_valid(const char *tz);

/*
 * The canonical five-field form of e, for a crontab line: numbers only,
 * "*" for a whole field, "*\/n" for a step from the minimum, ranges for runs
 * of three or more ("0 0 * * *" for @daily, "30 2 * * 1-5" for
 * "30 2 * * mon-fri").  Parsing the result gives back the same schedule
 * when it is shorter than CRON_TEXT_MAX; a step that does not start at the
 * minimum becomes a list, so "1/2 1 4/2 1 4" gives 133 characters, which
 * suit a crontab line but not cron_parse.
 * Writes at most len bytes (NUL included; CRON_FORMAT_MAX always suffices)
 * and returns the length of the full text, like snprintf.
 */
int			cron_format(const CronExpr *e, char *buf, size_t len);

#endif
