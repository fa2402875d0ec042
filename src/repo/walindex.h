/*
 * The WAL index: for each archived WAL segment, a summary of what its
 * records say that recovery targets are made of -- every commit and abort
 * (LSN, transaction, time) and every restore point (LSN, time, name) --
 * read with pg/walreader and kept in the repository next to the archive
 * (wal-index/TTTTTTTTLLLLLLLL/<segment>.json, objects of kind I, see
 * repo/FORMAT.md), so that a restore can find where a restore point or a
 * transaction is, and when the last commit was, without reading WAL again.
 *
 * A summary is made on demand (walindex_get: read it, or make and store it
 * from the segment and the one after it) or for the whole archive by
 * `pgbkp wal-index rebuild`.  It is derived data: a missing or unreadable
 * summary is made again from the segment, never trusted over it.
 */
#ifndef PGBKP_WALINDEX_H
#define PGBKP_WALINDEX_H

#include <stdbool.h>

#include "pg/walreader.h"
#include "repo/repo.h"

#define WALINDEX_FORMAT 1

typedef struct WalCommit
{
	Lsn			lsn;
	uint32_t	xid;
	bool		abort;
	TimestampUs time;
} WalCommit;

typedef struct WalPoint
{
	Lsn			lsn;
	TimestampUs time;
	char		name[64];
} WalPoint;

typedef struct WalSummary
{
	TimeLineID	tli;
	SegNo		segno;
	int			records;
	Lsn			valid_end;
	bool		switched;
	bool		complete;		/* no record left unread at the end (next segment missing) */
	int			ncommits;
	WalCommit  *commits;		/* in LSN order */
	int			npoints;
	WalPoint   *points;
} WalSummary;

/* Summarize a segment's content (next: the following segment, or NULL). */
int			walsummary_compute(const uint8_t *seg, size_t size, TimeLineID tli, SegNo segno, const uint8_t *next,
							   WalSummary *out, PgbError *err);

/* As JSON text (malloc'd), and back (EXIT_CORRUPT on anything unexpected). */
char	   *walsummary_encode(const WalSummary *s);
int			walsummary_decode(const char *text, WalSummary *out, PgbError *err);
void		walsummary_free(WalSummary *s);

/* The summary of an archived segment: read from the index, or made from the segment and stored. */
int			walindex_get(Repo *repo, TimeLineID tli, SegNo segno, WalSummary *out, PgbError *err);

/* Make the summary from the segment again and store it, replacing any. */
int			walindex_build(Repo *repo, TimeLineID tli, SegNo segno, WalSummary *out, PgbError *err);

/*
 * Remove the summaries whose segment is no longer archived (after expire).
 * Returns how many were removed, or -1 with err.
 */
int			walindex_prune(Repo *repo, PgbError *err);

#endif
