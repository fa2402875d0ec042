/*
 * The cluster's timelines as the WAL archive records them, and the WAL a
 * recovery that follows one of them reads.
 *
 * A timeline's history file names each ancestor and the LSN where the
 * timeline left it.  A recovery whose target timeline is X reads, for each
 * segment, the file of the newest timeline on X's path that had begun by
 * that segment, and nothing else: a parent's own segments past the point
 * where X left it (a side branch that kept writing, or the "future" that an
 * in-place point-in-time recovery rolled back) never stand in for X's.  So
 * the recoverable range of a backup depends on the timeline followed, and
 * two timelines can both hold a moment with different data: these functions
 * say where paths part and how far each reaches.  Pure functions over the
 * listing (WalList), for unit tests.
 */
#ifndef PGBKP_TIMELINE_H
#define PGBKP_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "pg/lsn.h"

#define TIMELINE_END UINT64_MAX	/* the path has not left this timeline */

typedef struct TimelineStep
{
	TimeLineID	tli;
	Lsn			end;			/* where the path leaves tli; TIMELINE_END for the last step */
} TimelineStep;

typedef struct Timeline
{
	TimeLineID	tli;
	int64_t		created;		/* archive time of its history file (s); 0 without one */
	bool		history_ok;		/* false: a history file exists but could not be read */
	int			nsteps;
	TimelineStep *steps;		/* ancestors oldest first, then tli itself */
} Timeline;

typedef struct WalList WalList;

/*
 * Build timeline tli's path from its history file's text.  NULL text: no
 * history file (the first timeline, or its history was not archived).
 */
int			timeline_init(Timeline *t, TimeLineID tli, int64_t created, const char *text, size_t len,
						  PgbError *err);
void		timeline_free(Timeline *t);

/* Timeline tli of the listing, or NULL. */
const Timeline *timeline_find(const WalList *wal, TimeLineID tli);

/* Whether the WAL position (tli, lsn) lies on t's path. */
bool		timeline_contains(const Timeline *t, TimeLineID tli, Lsn lsn);

/* The timeline whose file holds segment segno on t's path. */
TimeLineID	timeline_tli_of_segment(const Timeline *t, SegNo segno, uint64_t segment_size);

/* Index of segment (tli, segno) in the listing, or -1. */
int			timeline_find_segment(const WalList *wal, TimeLineID tli, SegNo segno);

/*
 * Walk t's path from start_segno while each next segment is archived on the
 * timeline that holds it on this path.  The last segment of that run
 * (index into wal->segments), -1 if start_segno itself is missing.
 */
int			timeline_contiguous_end(const Timeline *t, const WalList *wal, SegNo start_segno,
									uint64_t segment_size);

/*
 * Where the paths of a and b part.  false: one is the other (same steps).
 * Otherwise *at is the LSN where they part, and for each side the timeline it
 * goes on with past that point and whether that is the common timeline
 * continuing (*a_stays / *b_stays) rather than a child created later.
 */
bool		timeline_fork(const Timeline *a, const Timeline *b, Lsn *at,
						  TimeLineID *a_next, bool *a_stays, TimeLineID *b_next, bool *b_stays);

#endif
