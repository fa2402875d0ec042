/* Copying a data directory into a backup (see copy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/copy.h"
#include "common/fileio.h"
#include "common/workers.h"

/* One chunk of one file: the unit of work. */
typedef struct ChunkTask
{
	int			file;
	int			chunk;
} ChunkTask;

static int
backup_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	BackupCopy *run = shared;
	ManifestFile *mf = &run->m->files[run->tasks[task].file];
	int			c = run->tasks[task].chunk;
	ManifestChunk *ch = &mf->chunks[c];
	StoreResult res;
	char		full[PGB_PATH_MAX];

	if (fio_path_join(full, sizeof(full), run->m->pgdata, mf->path, err) != 0 ||
		store_chunk(&run->store, &run->workers[worker], full, mf->path, c, ch, &res, err) != 0)
		return -1;
	if (pgb_error_is_set(&res.warning) && run->warn)
		run->warn(res.warning.msg);
	if (res.gone)
	{
		mf->vanished = true;
		return 0;
	}
	pthread_mutex_lock(&run->lock);
	progress_add(run->progress_state, res.len);
	run->pages_checked += res.pages.checked;
	if (res.pages.total > 0)
	{
		size_t		n = strlen(run->bad_pages_at);

		run->bad_pages += res.pages.total;
		for (uint32_t i = 0; i < res.pages.nblocks && n + 40 + strlen(mf->path) < sizeof(run->bad_pages_at); i++)
			n += (size_t) snprintf(run->bad_pages_at + n, sizeof(run->bad_pages_at) - n, "%s%s%s%u",
								   i == 0 ? (n ? " " : "") : ",", i == 0 ? mf->path : "", i == 0 ? ":" : "",
								   res.pages.blocks[i]);
	}
	if (ch->kind == CHUNK_REF)
		run->nref++;
	else if (ch->kind == CHUNK_DELTA)
		run->ndelta++;
	else
		run->nstored++;
	pthread_mutex_unlock(&run->lock);
	return 0;
}

/* One task per chunk of the walked files. */
static int
plan_chunks(BackupCopy *run, size_t *ntasks, PgbError *err)
{
	size_t		total = 0,
				t = 0;

	for (int i = 0; i < run->m->nfiles; i++)
		total += (size_t) run->m->files[i].nchunks;
	run->tasks = malloc(sizeof(ChunkTask) * (total ? total : 1));
	if (run->tasks == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	/*
	 * Big files first, so the last tasks left are small ones; pg_control
	 * apart, at the end, read alone after every other file: a backup from
	 * a standby ends where its copy of pg_control says (minRecoveryPoint),
	 * so that copy must be newer than every page copied.
	 */
	run->control_task = -1;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < run->m->nfiles; i++)
			if ((run->m->files[i].nchunks > 1) == (pass == 0) &&
				strcmp(run->m->files[i].path, "global/pg_control") != 0)
				for (int c = 0; c < run->m->files[i].nchunks; c++)
				{
					run->tasks[t].file = i;
					run->tasks[t].chunk = c;
					t++;
				}
	*ntasks = t;
	for (int i = 0; i < run->m->nfiles; i++)
		if (strcmp(run->m->files[i].path, "global/pg_control") == 0)
		{
			run->tasks[t].file = i;
			run->tasks[t].chunk = 0;
			run->control_task = (long) t;
		}
	return 0;
}

int
backup_copy(BackupCopy *run, BundleIds *ids, PgbError *err)
{
	size_t		ntasks = 0;
	int			rc = -1;
	int			nworkers = run->nworkers;

	run->workers = calloc((size_t) nworkers, sizeof(StoreWorker));
	if (run->workers == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < nworkers; i++)
		if (store_worker_init(&run->workers[i], run->store.repo, run->m->label, run->level,
							  run->bundle_bytes, ids, err) != 0)
			return -1;
	if (plan_chunks(run, &ntasks, err) != 0)
		return -1;
	run->progress_state = progress_new("backup", run->walk->total_bytes, run->progress);
	pthread_mutex_init(&run->lock, NULL);
	rc = workers_run(nworkers, ntasks, backup_chunk, run, err);
	if (rc == 0 && run->control_task >= 0)
		rc = backup_chunk(run, 0, (size_t) run->control_task, err);
	pthread_mutex_destroy(&run->lock);
	progress_done(run->progress_state);
	run->progress_state = NULL;
	if (rc == 0)
		store_settle_files(run->m);
	return rc;
}

void
backup_copy_free(BackupCopy *run)
{
	for (int i = 0; run->workers && i < run->nworkers; i++)
		store_worker_free(&run->workers[i]);
	free(run->workers);
	free(run->tasks);
	run->workers = NULL;
	run->tasks = NULL;
}

