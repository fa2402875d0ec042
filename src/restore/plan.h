/*
 * Choosing what to restore: which backup can reach the recovery target, on
 * which timeline, and whether the archived WAL covers it.  The recoverable
 * window of a backup along a timeline is [its stop time, the archive time of
 * the last segment of the contiguous WAL run from its start on that
 * timeline's path]; a target outside every window is refused before any
 * file is written.
 *
 * Timelines: every timeline whose path passes through the backup's
 * timeline after the backup's stop LSN can be followed.  When the target
 * lies on several of them, they hold the same data up to where their paths
 * part; past that point they hold different data, and the one the target
 * means is chosen: a timeline that only continues after the target time was
 * created (a side branch promoted later, or the cluster's new timeline after
 * an in-place recovery) does not hold it; a path that has no WAL past the
 * parting point is a prefix of the other.  Where both were written at the
 * target (or an LSN, restore point or transaction past the parting point),
 * the choice is refused and --target-timeline must say which.
 */
#ifndef PGBKP_PLAN_H
#define PGBKP_PLAN_H

#include "repo/catalog.h"
#include "repo/walarchive.h"
#include "restore/target.h"

typedef struct BackupWindow
{
	bool		wal_complete;	/* the backup's own start..stop WAL is archived */
	TimestampUs start;			/* = backup stop time */
	TimestampUs end;			/* archive time of the last contiguous segment */
	SegNo		end_segno;
	TimeLineID	end_tli;
} BackupWindow;

void		plan_backup_window(const Manifest *m, const WalList *wal, BackupWindow *out);

/* The cluster's window: earliest usable backup's start to the latest end. valid=false if none. */
bool		plan_cluster_window(const Catalog *c, const WalList *wal, TimestampUs *start, TimestampUs *end);

/*
 * Pick the backup for target (or check the one named by set_label) and the
 * timeline recovery follows (*timeline).  EXIT_NOT_FOUND: no backups /
 * unknown label.  EXIT_CORRUPT: the label's manifest cannot be read, or
 * WAL or a parent it needs is missing.  EXIT_TARGET: nothing reaches the target (the message
 * states the recoverable window), or the target lies on timelines that hold
 * different data there (the message names them).
 */
int			plan_choose(const Catalog *c, const WalList *wal, const RestoreTarget *target,
						const char *set_label, const Manifest **chosen, TimeLineID *timeline,
						PgbError *err);

/* Why backup m (newer than the one chosen) was passed over for target, in a few words. */
void		plan_why_not(const Catalog *c, const WalList *wal, const RestoreTarget *target, const Manifest *m,
						 char *buf, size_t len);

/*
 * The WAL a server restored from m replays on its way to target t along
 * timeline: segment numbers first..last; *approx when the end can only be
 * estimated (a time, xid or name target).
 */
void		plan_wal_range(const Manifest *m, TimeLineID timeline, const RestoreTarget *t, const WalList *wal,
						   SegNo *first, SegNo *last, bool *approx);

#endif
