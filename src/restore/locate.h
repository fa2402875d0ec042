/*
 * Choosing the backup for a target with the WAL index (repo/walindex.h):
 * a restore point or a transaction is looked up in the archived WAL, so the
 * backup chosen is the newest one taken before it (never one taken after
 * it, which PostgreSQL could not recover to it), an unknown name or
 * transaction is refused with what the archive does hold, and a time target
 * is refused when no transaction ended after it in the archived WAL (there
 * PostgreSQL would replay to the end and stop with "recovery ended before
 * configured recovery target was reached").  Other targets go to
 * plan_choose unchanged.
 */
#ifndef PGBKP_LOCATE_H
#define PGBKP_LOCATE_H

#include "restore/plan.h"

int			plan_choose_indexed(Repo *repo, const Catalog *c, const WalList *wal, const RestoreTarget *target,
								bool exclusive, const char *set_label, const Manifest **chosen,
								TimeLineID *timeline, PgbError *err);

/*
 * The newest commit or abort after backup m's stop along timeline's path,
 * within the WAL archived without a gap from m on and pgbkp stream's
 * in-progress object of the segment after it, when archive-get would serve
 * that (*any false: none).
 */
int			plan_last_commit(Repo *repo, const WalList *wal, const Manifest *m, TimeLineID timeline, bool *any,
							 TimestampUs *newest, PgbError *err);

/* The recoverable window of one timeline: from the earliest backup restorable along it. */
typedef struct TimelineWindow
{
	TimeLineID	tli;
	TimestampUs start;			/* that backup's stop time */
	TimestampUs end_archived;	/* archive time of the last segment without a gap */
	bool		has_commit;
	TimestampUs last_commit;	/* a time target must be before it */
} TimelineWindow;

int			plan_timeline_windows(Repo *repo, const Catalog *c, const WalList *wal, TimelineWindow *out, int max,
								  int *n, PgbError *err);

#endif
