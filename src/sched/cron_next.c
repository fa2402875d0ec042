/*
 * When a cron expression fires (see cron.h): the next run in a time zone,
 * and whether a zone exists.
 *
 * Finding the next run works in "wall seconds": a local date and time
 * counted as if it were UTC.  Candidate wall-clock minutes are visited in
 * order (matching days first, then matching hours and minutes within a day,
 * so a year is at most 366 cheap steps), and each is mapped to a real
 * instant: its only occurrence, its first occurrence when clocks go back, or
 * the end of the gap when clocks go forward.  That mapping never goes
 * backwards as wall-clock time goes forwards, so the first candidate whose
 * instant lies after the starting point is the answer.  Offsets come from
 * the C library's time zone database (localtime_r with TZ switched to the
 * configured zone), which knows every past and future rule of the zone;
 * dates from its calendar (gmtime_r).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/cron.h"

#define SECS_PER_DAY		INT64_C(86400)
#define CRON_HORIZON_DAYS	(8 * 366)	/* "never fires" after this many days */
#define TZ_NAME_MAX			200
#define TZ_DEFAULT_DIR		"/usr/share/zoneinfo"
#define TZ_PATH_MAX			4096

bool
cron_tz_valid(const char *tz)
{
	const char *dir;
	char		path[TZ_PATH_MAX];
	char		magic[4];
	struct stat st;
	int			fd;
	bool		ok;

	if (tz == NULL || tz[0] == '\0')
		return true;
	if (strlen(tz) > TZ_NAME_MAX || tz[0] == '/')
		return false;
	/* a name, not a path: letters, digits and _-+ in /-separated parts */
	for (const char *p = tz; *p; p++)
	{
		if (*p == '/')
		{
			if (p[1] == '/' || p[1] == '\0')
				return false;
			continue;
		}
		if (*p == '.' && (p == tz || p[-1] == '/'))
			return false;		/* no ".", ".." or hidden files */
		if (!isalnum((unsigned char) *p) && strchr("_-+.", *p) == NULL)
			return false;
	}

	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = TZ_DEFAULT_DIR;
	if (snprintf(path, sizeof(path), "%s/%s", dir, tz) >= (int) sizeof(path))
		return false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		read(fd, magic, sizeof(magic)) == (ssize_t) sizeof(magic) &&
		memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

/*
 * Local-time conversions.  For UTC no time zone is involved; otherwise TZ
 * is switched to the zone for the duration of one cron_next call.
 */
typedef struct CronZone
{
	bool		utc;
} CronZone;

/* The zone's offset east of UTC at instant t, in seconds. */
static int
zone_offset(const CronZone *z, int64_t t, int64_t *off)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (z->utc)
	{
		*off = 0;
		return 0;
	}
	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	*off = tm.tm_gmtoff;
	return 0;
}

/*
 * The instant at which wall-clock time w (wall seconds) fires: its only
 * occurrence, the first of two, or, if clocks skip it, the first instant
 * after the gap (*gap set).
 */
static int
wall_to_instant(const CronZone *z, int64_t w, int64_t *t, bool *gap)
{
	int64_t		offs[3];
	int64_t		omin,
				omax,
				lo,
				hi,
				off;
	bool		found = false;

	*gap = false;
	if (z->utc)
	{
		*t = w;
		return 0;
	}

	/*
	 * The offset that applies at w's instant is one of those around it (a
	 * day either side covers every real offset, -12h to +14h).
	 */
	if (zone_offset(z, w - SECS_PER_DAY, &offs[0]) < 0 ||
		zone_offset(z, w, &offs[1]) < 0 ||
		zone_offset(z, w + SECS_PER_DAY, &offs[2]) < 0)
		return -1;
	omin = omax = offs[0];
	for (int i = 0; i < 3; i++)
	{
		int64_t		cand = w - offs[i];

		if (offs[i] < omin)
			omin = offs[i];
		if (offs[i] > omax)
			omax = offs[i];
		if ((i > 0 && offs[i] == offs[i - 1]) || (i == 2 && offs[2] == offs[0]))
			continue;			/* already tried */
		if (zone_offset(z, cand, &off) < 0)
			return -1;
		if (off == offs[i] && (!found || cand < *t))
		{
			*t = cand;
			found = true;
		}
	}
	if (found)
		return 0;

	/*
	 * A gap: find the first instant whose wall-clock time is past w, i.e. the
	 * moment the clocks jumped.  lo's wall time is before w, hi's after.
	 */
	lo = w - omax;
	hi = w - omin;
	if (zone_offset(z, lo, &off) < 0 || lo + off > w ||
		zone_offset(z, hi, &off) < 0 || hi + off <= w)
		return -1;
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (zone_offset(z, mid, &off) < 0)
			return -1;
		if (mid + off > w)
			hi = mid;
		else
			lo = mid;
	}
	*t = hi;
	*gap = true;
	return 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Whether e fires on the day with the given date (wday: Sunday = 0). */
static bool
day_matches(const CronExpr *e, int month, int mday, int wday)
{
	bool		dm = (e->mdays >> mday) & 1;
	bool		wm = (e->wdays >> wday) & 1;

	if (!((e->months >> month) & 1))
		return false;
	if (!e->mday_any && !e->wday_any)
		return dm || wm;		/* both restricted: either one (Vixie cron) */
	return dm && wm;
}

/* The search itself, with the zone in effect. */
static int
cron_search(const CronExpr *e, const CronZone *z, int64_t after, int64_t *next,
			PgbError *err)
{
	const uint32_t all_hours = (UINT32_C(1) << 24) - 1;
	bool		every_hour = (e->hours & all_hours) == all_hours;
	int64_t		off,
				start_wall,
				start_day,
				start_min;

	if (zone_offset(z, after, &off) < 0)
		return pgb_error(err, EXIT_INTERNAL, "cannot convert time %lld to local time",
						 (long long) after);
	start_wall = after + off;
	start_day = floor_div(start_wall, SECS_PER_DAY);
	start_min = (start_wall - start_day * SECS_PER_DAY) / 60;	/* minute of the day */

	for (int64_t day = start_day; day <= start_day + CRON_HORIZON_DAYS; day++)
	{
		time_t		midnight = (time_t) (day * SECS_PER_DAY);
		struct tm	date;
		int			year,
					month,
					mday;
		int			h0 = 0;

		/* the day's date in the C library's (proleptic Gregorian) calendar */
		if (gmtime_r(&midnight, &date) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "cannot convert day %lld to a date", (long long) day);
		year = date.tm_year + 1900;
		month = date.tm_mon + 1;
		mday = date.tm_mday;
		if (!day_matches(e, month, mday, date.tm_wday))
			continue;

		/* earlier wall-clock times on the first day fire before `after` */
		if (day == start_day)
			h0 = (int) (start_min / 60);
		for (int h = h0; h < 24; h++)
		{
			int			m0 = (day == start_day && h == h0) ? (int) (start_min % 60) : 0;

			if (!((e->hours >> h) & 1))
				continue;
			for (int m = m0; m < 60; m++)
			{
				int64_t		t = 0;
				bool		gap;

				if (!((e->minutes >> m) & 1))
					continue;
				if (wall_to_instant(z, day * SECS_PER_DAY + h * 3600 + m * 60, &t, &gap) < 0)
					return pgb_error(err, EXIT_INTERNAL,
									 "cannot convert %04d-%02d-%02d %02d:%02d from local time",
									 year, month, mday, h, m);
				/* an hourly job's next run is near: skipped times are just skipped */
				if (gap && every_hour)
					continue;
				if (t > after)
				{
					*next = t;
					return 0;
				}
			}
		}
	}

	pgb_error(err, EXIT_NOT_FOUND, "cron expression \"%s\" does not fire in the next 8 years",
			  e->text);
	return pgb_hint(err, "Check that the day of month exists in the month chosen.");
}

int
cron_next(const CronExpr *e, const char *tz, time_t after, time_t *next, PgbError *err)
{
	CronZone	z;
	char	   *saved = NULL;
	bool		had_tz;
	int64_t		result = 0;
	int			rc;

	/* keep well inside what time_t and int date arithmetic can hold */
	if ((int64_t) after < -(INT64_C(1) << 40) || (int64_t) after > INT64_C(1) << 40)
		return pgb_error(err, EXIT_INTERNAL, "time %lld is out of range", (long long) after);
	if (!cron_tz_valid(tz))
	{
		pgb_error(err, EXIT_CONFIG, "unknown time zone \"%s\"", tz);
		return pgb_hint(err, "Use a name from the time zone database, such as \"Europe/Berlin\" or \"UTC\" (see %s).",
						TZ_DEFAULT_DIR);
	}

	z.utc = (tz == NULL || tz[0] == '\0');
	if (z.utc)
		rc = cron_search(e, &z, after, &result, err);
	else
	{
		const char *old = getenv("TZ");
		char		value[TZ_NAME_MAX + 2];

		had_tz = old != NULL;
		if (had_tz && (saved = strdup(old)) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		/* a leading ':' makes the C library read the zone file, nothing else */
		snprintf(value, sizeof(value), ":%s", tz);
		if (setenv("TZ", value, 1) != 0)
		{
			free(saved);
			return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not set TZ");
		}
		tzset();

		rc = cron_search(e, &z, after, &result, err);

		if (had_tz)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
	}
	if (rc < 0)
		return -1;
	*next = (time_t) result;
	return 0;
}
