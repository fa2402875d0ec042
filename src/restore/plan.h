/*
 * Choosing what to restore: which backup can reach the recovery target, and
 * whether the archived WAL covers it.  The recoverable window of a backup is
 * [its stop time, the archive time of the last segment of the contiguous WAL
 * run from its start]; a target outside every window is refused before any
 * file is written.
 */
#ifndef PGBKP_PLAN_H
#define PGBKP_PLAN_H

#include "repo/catalog.h"
#include "repo/walarchive.h"

typedef enum TargetKind
{
	TARGET_LATEST = 0,			/* replay all archived WAL */
	TARGET_TIME,
	TARGET_LSN,
	TARGET_XID,
	TARGET_NAME,
	TARGET_IMMEDIATE
} TargetKind;

typedef struct RestoreTarget
{
	TargetKind	kind;
	TimestampUs time;
	Lsn			lsn;
	const char *text;			/* xid or restore point name */
} RestoreTarget;

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
 * Pick the backup for target (or check the one named by set_label).
 * EXIT_NOT_FOUND: no backups / unknown label.  EXIT_TARGET: nothing reaches
 * the target; the message states the recoverable window.
 */
int			plan_choose(const Catalog *c, const WalList *wal, const RestoreTarget *target,
						const char *set_label, const Manifest **chosen, PgbError *err);

#endif
