/*
 * Fuzz target: cron_parse (sched/cron.c), the reader of schedule entries.
 * An expression that parses must format to a canonical form that parses to
 * the same schedule (cron.h promises it for forms shorter than
 * CRON_TEXT_MAX), and cron_next must either find a
 * later time or say there is none, in a zone with DST.
 */
#include "fuzz.h"

#include "sched/cron.h"

static bool
same_schedule(const CronExpr *a, const CronExpr *b)
{
	return a->minutes == b->minutes && a->hours == b->hours && a->mdays == b->mdays &&
		a->months == b->months && a->wdays == b->wdays &&
		a->mday_any == b->mday_any && a->wday_any == b->wday_any;
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_cstr(data, size);
	PgbError	err = {0};
	CronExpr	e;
	CronExpr	back;
	char		buf[CRON_FORMAT_MAX];
	time_t		after = 1793000000;	/* 2026-10-25, a DST change in Europe */
	time_t		next;
	int			n;

	if (cron_parse(text, &e, &err) == 0)
	{
		n = cron_format(&e, buf, sizeof(buf));
		if (n < 0 || (size_t) n >= sizeof(buf))
			fuzz_fail("cron_format needs more than CRON_FORMAT_MAX", e.text);
		if (n < CRON_TEXT_MAX && cron_parse(buf, &back, &err) != 0)
			fuzz_fail("cron_format output refused by cron_parse", buf);
		if (n < CRON_TEXT_MAX && !same_schedule(&e, &back))
			fuzz_fail("cron_format output is another schedule", buf);
		if (cron_next(&e, "Europe/Berlin", after, &next, &err) == 0 && next <= after)
			fuzz_fail("cron_next went back in time", e.text);
	}
	free(text);
	return 0;
}
