/*
 * The WAL archive of one cluster: push a file PostgreSQL hands to
 * archive_command, get one back for restore_command, list what is there and
 * find the contiguous range a backup can recover through.
 *
 * Segment, partial and .backup files live under wal/<TTTTTTTTLLLLLLLL>/,
 * history files under wal/.  Names are never overwritten: a push of an
 * existing name succeeds only when the content is identical.
 *
 * walarchive.c pushes, gets and verifies one file; walarchive_list.c lists
 * the archive; walarchive_remove.c removes what expire lets go.
 */
#ifndef PGBKP_WALARCHIVE_H
#define PGBKP_WALARCHIVE_H

#include "io/object.h"
#include "pg/lsn.h"
#include "repo/repo.h"
#include "repo/timeline.h"

/* The most threads wal_compress_threads = 0 gives one WAL file: 16 MiB is 16 jobs of 1 MiB. */
#define WAL_THREADS_MAX 4

typedef enum WalPushResult
{
	WAL_PUSH_STORED,
	WAL_PUSH_ALREADY_PRESENT	/* identical content was already archived */
} WalPushResult;

/*
 * Archive the file at src_path.  Segments and partial segments must carry
 * this cluster's system identifier and segment size (EXIT_ARCHIVE_MISMATCH
 * otherwise); different content under an existing name is
 * EXIT_ARCHIVE_MISMATCH.  Returns 0 only when the object is durable.
 * Compressed at level by threads threads (wal_compress_threads: 0 is one
 * per CPU, at most WAL_THREADS_MAX; 1 is this thread alone; see
 * zstd_compress_stage_set_threads).
 */
int			wal_push(Repo *repo, const char *src_path, int level, int threads, WalPushResult *result,
					 PgbError *err);

/* wal_push, also giving the size and SHA-256 of the file's content (stored or found identical). */
int			wal_push_summary(Repo *repo, const char *src_path, int level, int threads, WalPushResult *result,
							 ObjectSummary *sum, PgbError *err);

/* Size and SHA-256 of a local file's content, as wal_push_summary gives them. */
int			wal_file_summary(const char *path, ObjectSummary *sum, PgbError *err);

/* Restore name into dest_path (via a temporary file).  EXIT_WAL_MISSING when absent. */
int			wal_get(Repo *repo, const char *name, const char *dest_path, PgbError *err);

/* Repository path of an archived WAL file name; -1 (EXIT_USAGE) for an invalid name. */
int			wal_object_path(const Repo *repo, const char *name, char *out, PgbError *err);

bool		wal_exists(Repo *repo, const char *name, PgbError *err, int *rc);

/* Decode the object fully and check size, checksum and (segments) system identifier. */
int			wal_verify(Repo *repo, const char *name, PgbError *err);

typedef struct WalSegment
{
	TimeLineID	tli;
	SegNo		segno;
	int64_t		mtime;			/* when it was archived */
} WalSegment;

typedef struct WalList
{
	int			nsegments;
	WalSegment *segments;		/* full segments only, ordered by segno, then tli */
	int			nother;
	char	  **other;			/* the partial segments and backup history files
								 * (.partial, .backup) by name, ascending */
	int			nhistory;
	TimeLineID *history;		/* timelines with a history file, ascending */
	int			ntimelines;
	Timeline   *timelines;		/* every timeline with a segment or a history file, ascending */
	bool		has_stream;		/* pgbkp stream's newest in-progress object (repo/walstream.h) */
	TimeLineID	stream_tli;
	SegNo		stream_segno;
	int64_t		stream_mtime;	/* when it was last replaced (s) */
} WalList;

/*
 * List the archive (every file wal_object_path would place, by kind) and
 * read its history files into timelines.  A history
 * file that cannot be read leaves its timeline without ancestors
 * (history_ok false); verify reports the object.
 */
int			wal_list(Repo *repo, WalList *out, PgbError *err);

/* qsort order of WalList.segments: by segment number, then timeline. */
int			wal_segment_cmp(const void *a, const void *b);
void		wal_list_free(WalList *l);

/* Reported by wal_remove_before for each file it removed (or would remove). */
typedef void (*WalRemovedFn) (void *arg, const char *name, WalFileKind kind, TimeLineID tli, SegNo segno);

/*
 * Remove every archived segment, partial (and streamed in-progress) and .backup file whose segment
 * number is below before, on every timeline; history files always stay.
 * Each file is reported to fn (may be NULL) after its removal, in name
 * order, so on error fn has seen exactly what is gone.  A file whose segment
 * number lies in one of the nkeep ranges of keep stays (an older backup's own
 * WAL, under an archive retention).  A timeline
 * directory whose whole segment range lies below before goes too once
 * nothing else is in it.  With dry_run nothing is removed and fn sees what
 * would be.
 */
int			wal_remove_before(Repo *repo, SegNo before, const SegRange *keep, int nkeep, bool dry_run,
							  WalRemovedFn fn, void *arg, PgbError *err);


#endif
