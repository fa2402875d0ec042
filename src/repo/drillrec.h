/*
 * Drill records: each `pgbkp drill` leaves its report (the JSON document
 * of drill/report.h) in the repository it drilled, as
 * drill/YYYYMMDD-HHMMSS.uuuuuu-<node>.json (objects of kind I, see
 * repo/FORMAT.md), so that info and the metrics endpoint can say when the
 * last drill ran, whether it passed and how long recovery took -- also for
 * drills run on another host.  The newest DRILLREC_KEEP are kept.
 */
#ifndef PGBKP_DRILLREC_H
#define PGBKP_DRILLREC_H

#include <stdbool.h>

#include "repo/repo.h"

#define DRILLREC_KEEP 100

typedef struct DrillRecord
{
	TimestampUs started;
	bool		passed;
	double		restore_seconds;
	double		recovery_seconds;
	double		checks_seconds;
	char		target[256];
} DrillRecord;

/* Store a drill's JSON report, and remove the oldest beyond DRILLREC_KEEP. */
int			drillrec_write(Repo *repo, const char *json, TimestampUs started, const char *node, PgbError *err);

/* The newest record: 1 with *out filled, 0 when there is none, -1 with err. */
int			drillrec_latest(Repo *repo, DrillRecord *out, PgbError *err);

#endif
