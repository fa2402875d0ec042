/*
 * Copying a data directory into a backup: the walked files (already in the
 * manifest), one task per 16 MiB chunk in path order, and the workers
 * storing the chunks (backup/store.h), each into its own bundle; for an
 * incremental, the parent's record of each chunk comes from the parent
 * stream (backup/parentstream.h) as its task is handed out.  As the files are stored, their records are
 * written aside in path order (backup/filespill.h) and freed, so that
 * memory holds the walked list and the files being stored, not every
 * chunk record.
 */
#ifndef PGBKP_COPY_H
#define PGBKP_COPY_H

#include <pthread.h>
#include "backup/filespill.h"
#include "backup/store.h"
#include "backup/walk.h"
#include "common/progress.h"

typedef struct BackupCopy
{
	/* set by the caller */
	BackupStore store;			/* repository, catalogue, block size */
	ParentStream *parents;		/* an incremental's parent chain, or NULL */
	Manifest   *m;				/* files are added to it */
	const WalkResult *walk;		/* its files are m's */
	int			nworkers;
	int			level;			/* zstd */
	uint64_t	bundle_bytes;	/* a bundle is closed past this size */
	bool		progress;		/* report progress */
	void		(*warn) (const char *msg);	/* problems that do not stop the backup */

	/* results: the workers stay open (for the label files) until backup_copy_free */
	struct StoreWorker *workers;
	/*
	 * The files' records, written aside (the caller frees it with
	 * filespill_free after the manifest is written); m keeps pg_control's.
	 */
	FileSpill  *spill;
	uint64_t	nstored,
				nref,
				ndelta;
	uint64_t	pages_checked;	/* with store.check_pages */
	uint64_t	bad_pages;
	char		bad_pages_at[1024];	/* "PATH:BLOCK,BLOCK PATH:BLOCK ...", the first ones */

	/* private */
	struct ChunkTask *tasks;
	long		control_task;	/* global/pg_control's task, run last and alone; -1 none */
	int			control_file;	/* its index in m->files; -1 none */
	int32_t    *left;			/* chunks still to store, per file */
	int			next_file;		/* the first file not yet written aside */
	struct
	{
		ParentChunk chunk;
		bool		has;
	}		   *slots;			/* per worker: the parent's chunk for its task */
	pthread_mutex_t lock;		/* progress and the counters */
	Progress   *progress_state;
} BackupCopy;

/* Make the scratch file the records are written to (before the backup starts: a TMPDIR that fails, fails early). */
int			backup_copy_begin(BackupCopy *bc, PgbError *err);

/*
 * Store every chunk of the walked files in bc->m, writing each file's
 * records aside once it is stored (vanished ones left out, sizes settled,
 * m->size grown); then m's files are pg_control's alone.
 */
int			backup_copy(BackupCopy *bc, BundleIds *ids, PgbError *err);
/* The backup's files: written aside, and in m. */
int			backup_copy_nfiles(const BackupCopy *bc);
/* Free the workers (compression contexts, buffers) and tasks; again is harmless. */
void		backup_copy_free(BackupCopy *bc);

#endif
