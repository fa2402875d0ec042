/*
 * The retention policy: which backups, and which archived WAL, a repository
 * no longer needs.  Pure: it reads a catalog and a policy (including "now")
 * and returns a plan; it does no I/O, so every rule is tested in memory.
 * cmd_expire carries the plan out.
 *
 * The rules, in order:
 *
 *  1. Choose the full backups to keep.
 *     count  the newest N full backups.
 *     time   every full backup that stopped within the last N days
 *            (stop_time >= now - N * 86400 s), plus the newest full backup
 *            that stopped before that, so that every moment of the last N
 *            days stays recoverable.
 *     Both keep the newest full backup whenever N >= 1.
 *  2. A diff or incr backup follows its chain root (the full backup reached
 *     through its parent labels): kept if the root is kept.
 *  3. Nothing newer than the oldest kept full backup is removed, whatever
 *     its chain: that includes a backup whose chain is broken (a parent
 *     missing from the catalog).  A broken-chain backup older than the oldest
 *     kept full backup is removed.  Without any full backup nothing is removed.
 *  4. With a diff count (pgBackRest's retention-diff), only the newest N
 *     diff backups among those kept stay; an older one goes, with every
 *     incr backup built on it.  Full backups are never counted.
 *  5. Every kept backup keeps its whole chain of parents.
 *  6. WAL: segments, .partial and .backup files whose segment number is
 *     below the lowest start segment of the kept backups are removed, on
 *     every timeline.  That is the start segment of the oldest kept backup
 *     (on one timeline; with several, the lowest).  With an archive count
 *     (pgBackRest's retention-archive and -archive-type), the continuous WAL
 *     starts instead at the Nth newest kept backup of that type (full; full
 *     or diff; any), and an older kept backup keeps only the WAL from its
 *     start to its stop segment (it restores to its end, no further).
 *     History files are always kept.  Without kept backups no WAL is
 *     removed.
 *
 * "Newer" and "older" are catalog order (oldest first).  Backups the catalog
 * could not read (corrupt) or that never finished (incomplete) are not part
 * of the plan: the policy neither removes nor counts them.
 */
#ifndef PGBKP_RETENTION_H
#define PGBKP_RETENTION_H

#include <stdbool.h>
#include "common/timefmt.h"
#include "pg/lsn.h"
#include "repo/catalog.h"

#define RETENTION_DAY_US ((TimestampUs) 86400 * 1000000)

typedef enum RetentionType
{
	RETENTION_COUNT,			/* keep the newest N full backups */
	RETENTION_TIME				/* keep N days of recoverability */
} RetentionType;

typedef enum RetentionArchiveType
{
	RETENTION_ARCHIVE_FULL,
	RETENTION_ARCHIVE_DIFF,		/* full and diff backups count */
	RETENTION_ARCHIVE_INCR		/* every backup counts */
} RetentionArchiveType;

typedef struct RetentionPolicy
{
	RetentionType type;
	int			full;			/* count: full backups; time: days; >= 1 */
	TimestampUs now;			/* time: the days are counted back from here */
	int			diff;			/* newest diff backups to keep; 0: all */
	int			archive;		/* backups of archive_type with continuous WAL; 0: every kept one */
	RetentionArchiveType archive_type;
} RetentionPolicy;



typedef struct RetentionPlan
{
	int			count;			/* backups in the catalog */
	bool	   *expire;			/* [count], catalog order: remove this backup */
	int			nexpire;
	int			nkeep;
	int			nkeep_full;		/* full backups among the kept */
	bool		have_wal_cutoff;	/* false: remove no WAL at all */
	SegNo		wal_cutoff;		/* WAL below this segment number goes (wal_remove_before) ... */
	int			nkeep_ranges;	/* ... except these ranges (backups older than the cutoff) */
	SegRange   *keep_ranges;
} RetentionPlan;

/* "count" or "time" (NULL: count); EXIT_USAGE otherwise. */
int			retention_type_parse(const char *text, RetentionType *out, PgbError *err);
/* "full", "diff" or "incr" (NULL: full); EXIT_USAGE otherwise. */
int			retention_archive_type_parse(const char *text, RetentionArchiveType *out, PgbError *err);

/*
 * Decide what the policy removes from the catalog.  EXIT_USAGE when
 * policy->full < 1.  Free the plan with retention_plan_free.
 */
int			retention_plan(const Catalog *cat, const RetentionPolicy *policy,
						   RetentionPlan *out, PgbError *err);
void		retention_plan_free(RetentionPlan *plan);

#endif
