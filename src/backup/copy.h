/*
 * Copying a data directory into a backup: the walked files (already in the
 * manifest), one task per 16 MiB chunk (big files first, so the last tasks left
 * are small ones), and the workers storing the chunks (backup/store.h),
 * each into its own bundle.
 */
#ifndef PGBKP_COPY_H
#define PGBKP_COPY_H

#include <pthread.h>
#include "backup/store.h"
#include "backup/walk.h"
#include "common/progress.h"

typedef struct BackupCopy
{
	/* set by the caller */
	BackupStore store;			/* repository, catalogue, parent, block size */
	Manifest   *m;				/* files are added to it */
	const WalkResult *walk;		/* its files are m's */
	int			nworkers;
	int			level;			/* zstd */
	uint64_t	bundle_bytes;	/* a bundle is closed past this size */
	bool		progress;		/* report progress */
	void		(*warn) (const char *msg);	/* problems that do not stop the backup */

	/* results: the workers stay open (for the label files) until backup_copy_free */
	struct StoreWorker *workers;
	uint64_t	nstored,
				nref,
				ndelta;
	uint64_t	pages_checked;	/* with store.check_pages */
	uint64_t	bad_pages;
	char		bad_pages_at[1024];	/* "PATH:BLOCK,BLOCK PATH:BLOCK ...", the first ones */

	/* private */
	struct ChunkTask *tasks;
	long		control_task;	/* global/pg_control's task, run last and alone; -1 none */
	pthread_mutex_t lock;		/* progress and the counters */
	Progress   *progress_state;
} BackupCopy;

/*
 * Store every chunk of the walked files in bc->m; then settle the
 * files (store_settle_files: vanished ones dropped, sizes and digests).
 */
int			backup_copy(BackupCopy *bc, BundleIds *ids, PgbError *err);
/* Free the workers (compression contexts, buffers) and tasks; again is harmless. */
void		backup_copy_free(BackupCopy *bc);

#endif
