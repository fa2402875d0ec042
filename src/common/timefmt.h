/*
 * Timestamps as the operator types them and as PostgreSQL reads them.
 * Internally a point in time is microseconds since the Unix epoch (UTC).
 */
#ifndef PGBKP_TIMEFMT_H
#define PGBKP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

typedef int64_t TimestampUs;	/* microseconds since 1970-01-01 00:00:00 UTC */

/*
 * Parse "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|-HH[:MM]|Z]" (a 'T' may
 * replace the space; 1-6 fraction digits).  Without a zone the local time
 * zone (TZ) applies, including DST.  Fields are range-checked (month 1-12,
 * day valid for the month incl. leap years, hour 0-23, min 0-59, sec 0-59,
 * offset up to 15:59).  On error: EXIT_USAGE with a message quoting the
 * input and naming what was expected; returns -1.
 */
int			time_parse(const char *text, TimestampUs *out, PgbError *err);

/* "2026-11-25 21:38:58.123456+00" (UTC, always with offset): for PostgreSQL. */
void		time_format_pg(TimestampUs t, char *buf, size_t len);

/* "2026-11-25 21:38:58+00" UTC, second precision: for humans. */
void		time_format_utc(TimestampUs t, char *buf, size_t len);

/* "2026-11-25T21:38:58.123456Z": ISO 8601 for JSON. */
void		time_format_iso(TimestampUs t, char *buf, size_t len);

/*
 * The name of this process's local time zone, as cron uses it: $TZ (without
 * a leading ':'), else the zone /etc/localtime links to, else the first line
 * of /etc/timezone, else "UTC".
 */
void		time_local_zone_name(char *buf, size_t len);

/* Current wall-clock time. */
TimestampUs time_now(void);

#endif
