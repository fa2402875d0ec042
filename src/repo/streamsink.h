/*
 * Where pgbkp stream puts the WAL it receives: the segment being filled is
 * held in memory; each whole segment is archived into every repository
 * exactly as archive-push archives it (wal_push: same object, same checks,
 * an identical copy already there is fine) and its in-progress object
 * (walstream.h) removed; streamsink_flush replaces the in-progress object
 * with what has arrived so far.  `durable` -- what the server may be told
 * is flushed -- only moves past WAL every repository holds.
 *
 * The replication protocol, sessions and retries are the command's
 * (cmd_stream.c); this is the part that decides what is stored where.
 */
#ifndef PGBKP_STREAMSINK_H
#define PGBKP_STREAMSINK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/fileio.h"
#include "pg/lsn.h"
#include "repo/repo.h"

typedef struct StreamSink
{
	Repo	  **repos;			/* borrowed; all of one system and segment size */
	int			nrepos;
	uint64_t	segsize;
	int			level;			/* zstd level */
	int			threads;		/* compressing one segment (wal_push: 0 one per CPU) */
	uint8_t    *buf;			/* the segment being filled */
	TimeLineID	tli;			/* 0 until a start was chosen */
	Lsn			seg_start;		/* LSN of buf[0] */
	size_t		filled;			/* bytes received into buf */
	size_t		flushed;		/* bytes of buf durable in every repository */
	Lsn			durable;		/* WAL durable in every repository up to here */
	char		tmpdir[PGB_PATH_MAX];	/* whole files pass through here to wal_push */
} StreamSink;

/* Set s up over repos[0..nrepos): the segment buffer and a private directory under tmp. */
int			streamsink_init(StreamSink *s, Repo **repos, int nrepos, int level, int threads, const char *tmp,
							PgbError *err);
void		streamsink_free(StreamSink *s);

/* The LSN the next WAL received must start at. */
Lsn			streamsink_next(const StreamSink *s);

/* Start over at the segment holding lsn on timeline tli (what was not flushed is dropped). */
void		streamsink_restart(StreamSink *s, TimeLineID tli, Lsn lsn);

/*
 * Where streaming starts without a position of its own: after the newest
 * segment that every repository holding WAL has (an empty, new repository
 * takes what comes), else at the segment of lsn on timeline tli.
 */
int			streamsink_resume(StreamSink *s, TimeLineID tli, Lsn lsn, PgbError *err);

/*
 * The server is on timeline server_tli, after ours: when our timeline ended
 * (in its history file, text) before the end of the segment we are in, go
 * on from the switch point's segment on the timeline that followed, and so
 * on while that one ended there too.
 */
int			streamsink_follow_history(StreamSink *s, const char *text, size_t len, TimeLineID server_tli,
									  PgbError *err);

/*
 * WAL from start: it must continue what arrived (EXIT_DATABASE otherwise).
 * Each segment it completes is archived; *completed counts them.
 */
int			streamsink_take(StreamSink *s, Lsn start, const void *data, size_t len, int *completed,
							PgbError *err);

/* Replace the in-progress object everywhere when more arrived since the last flush. */
int			streamsink_flush(StreamSink *s, PgbError *err);

/* Archive a whole file (a segment or a history file) named name into every repository. */
int			streamsink_store_file(StreamSink *s, const char *name, const void *data, size_t len, PgbError *err);

#endif
