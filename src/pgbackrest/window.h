/*
 * The recoverable window of a pgBackRest stanza, computed as pgbkp computes
 * its own: per database system's archive (pgBackRest's min..max segment,
 * whose timeline is the one recovery ends on), from the stop time of the
 * oldest backup whose WAL lies within the archive, to the last transaction
 * that ended in the newest archived segments (the newest that hold one, up
 * to 16 back from the newest; read with pg/walreader from a
 * copy `pgbackrest archive-get` fetches into a private temporary directory;
 * pgBackRest itself does not say when its newest WAL was written).  A
 * backup is restorable when its own WAL start..stop lies within that range.
 */
#ifndef PGBKP_PGBR_WINDOW_H
#define PGBKP_PGBR_WINDOW_H

#include "pgbackrest/info.h"

typedef struct PgbrWindow
{
	int			db_id;
	TimeLineID	tli;			/* the timeline of the newest archived segment */
	const PgbrBackup *first;	/* the oldest restorable backup; NULL: none */
	TimestampUs start;			/* its stop time */
	bool		has_commit;		/* a transaction ended in the newest archived segments */
	TimestampUs last_commit;	/* a time target must not be after it */
	Lsn			archived_end;	/* end of the valid WAL in the newest segment */
	char		unread[256];	/* why the newest segment was not read (end_optional), or "" */
} PgbrWindow;

/* A backup's own WAL is within its database system's archive range. */
bool		pgbr_backup_restorable(const PgbrInfo *info, const PgbrBackup *b);

/*
 * The windows, one per database system with archived WAL (at most max);
 * the newest segments are fetched with pgBackRest.  end_optional: when the
 * newest segment cannot be fetched (pgBackRest's archive-get needs the
 * pg_control of its pg1-path, which a member being rebuilt no longer has),
 * the window has no end (has_commit false) and unread says why, instead of
 * an error.
 */
int			pgbr_windows(const RepoDef *def, const char *cluster, const PgbrInfo *info, bool end_optional,
						 PgbrWindow *out, int max, int *n, PgbError *err);

#endif
