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

#define CONTROL_FILE "global/pg_control"

/* Records the manifest keeps in memory (sorted): the rest are written aside. */
static const char *const kept_files[] = {"backup_label", CONTROL_FILE, "tablespace_map"};

/*
 * Write aside, in path order, every file whose chunks are all stored, up to
 * the first one still being read; their chunk records are freed.  Called
 * with run->lock held.  pg_control, stored last, stays where it is.
 */
static int
write_finished(BackupCopy *run, PgbError *err)
{
	Manifest   *m = run->m;

	for (; run->next_file < m->nfiles; run->next_file++)
	{
		ManifestFile *f = &m->files[run->next_file];

		if (run->next_file == run->control_file)
			continue;
		if (run->left[run->next_file] > 0)
			break;
		if (store_settle_file(f))
		{
			m->size += f->size;
			if (filespill_add(run->spill, f, err) != 0)
				return -1;
		}
		free(f->chunks);
		f->chunks = NULL;
	}
	return 0;
}

static int
backup_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	BackupCopy *run = shared;
	ManifestFile *mf = &run->m->files[run->tasks[task].file];
	int			c = run->tasks[task].chunk;
	ManifestChunk *ch;
	StoreResult res;
	char		full[PGB_PATH_MAX];
	int			rc;

	/* a file of one chunk is one task: its record is made here (larger ones: plan_chunks) */
	if (mf->chunks == NULL && (mf->chunks = calloc((size_t) mf->nchunks, sizeof(ManifestChunk))) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	ch = &mf->chunks[c];
	if (fio_path_join(full, sizeof(full), run->m->pgdata, mf->path, err) != 0 ||
		store_chunk(&run->store, &run->workers[worker], full, mf->path, c,
					run->slots[worker].has ? &run->slots[worker].chunk : NULL, ch, &res, err) != 0)
		return -1;
	if (pgb_error_is_set(&res.warning) && run->warn)
		run->warn(res.warning.msg);
	pthread_mutex_lock(&run->lock);
	run->left[run->tasks[task].file]--;
	if (res.gone)
	{
		mf->vanished = true;
		rc = write_finished(run, err);
		pthread_mutex_unlock(&run->lock);
		return rc;
	}
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
	rc = write_finished(run, err);
	pthread_mutex_unlock(&run->lock);
	return rc;
}

/*
 * As a task is taken (in task order, under the pool's lock): the parent's
 * same chunk, from the parent stream, into the worker's slot.
 */
static int
prepare_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	BackupCopy *run = shared;
	const ManifestFile *mf = &run->m->files[run->tasks[task].file];
	int			c = run->tasks[task].chunk;
	const ParentFile *pf;

	run->slots[worker].has = false;
	if (run->parents == NULL)
		return 0;
	if (parent_stream_find(run->parents, mf->path, &pf, err) != 0)
		return -1;
	if (pf != NULL && c < pf->nchunks)
	{
		run->slots[worker].chunk = pf->chunks[c];
		run->slots[worker].has = true;
	}
	return 0;
}

/* One task per chunk of the walked files. */
static int
plan_chunks(BackupCopy *run, size_t *ntasks, PgbError *err)
{
	size_t		total = 0,
				t = 0;

	run->left = malloc(sizeof(int32_t) * (size_t) (run->m->nfiles ? run->m->nfiles : 1));
	if (run->left == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < run->m->nfiles; i++)
	{
		ManifestFile *f = &run->m->files[i];

		total += (size_t) f->nchunks;
		run->left[i] = f->nchunks;
		/* several tasks, maybe on several workers at once: the records are made now */
		if (f->nchunks > 1 && (f->chunks = calloc((size_t) f->nchunks, sizeof(ManifestChunk))) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	run->tasks = malloc(sizeof(ChunkTask) * (total ? total : 1));
	if (run->tasks == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	/*
	 * In path order, a chunk at a time (no task is larger than a chunk, so
	 * the last ones left are short), which is the order the parent stream
	 * and the records written aside follow; pg_control apart, at the end,
	 * read alone after every other file: a backup from a standby ends where
	 * its copy of pg_control says (minRecoveryPoint), so that copy must be
	 * newer than every page copied.
	 */
	run->control_task = -1;
	for (int i = 0; i < run->m->nfiles; i++)
		if (strcmp(run->m->files[i].path, CONTROL_FILE) != 0)
			for (int c = 0; c < run->m->files[i].nchunks; c++)
			{
				run->tasks[t].file = i;
				run->tasks[t].chunk = c;
				t++;
			}
	*ntasks = t;
	run->control_file = -1;
	for (int i = 0; i < run->m->nfiles; i++)
		if (strcmp(run->m->files[i].path, CONTROL_FILE) == 0)
		{
			run->tasks[t].file = i;
			run->tasks[t].chunk = 0;
			run->control_task = (long) t;
			run->control_file = i;
		}
	return 0;
}

/*
 * Every other file is written aside: the walk's file list gives way to
 * pg_control's record alone.
 */
static int
keep_control_only(BackupCopy *run, PgbError *err)
{
	Manifest   *m = run->m;
	ManifestFile control = {0};
	ManifestFile *f;

	if (run->next_file != m->nfiles)
		return pgb_error(err, EXIT_INTERNAL, "file \"%s\" was never written aside", m->files[run->next_file].path);
	if (run->control_file >= 0)
	{
		control = m->files[run->control_file];
		m->files[run->control_file].chunks = NULL;
	}
	manifest_drop_files(m);
	if (run->control_file < 0 || !store_settle_file(&control))
	{
		free(control.chunks);
		return 0;
	}
	if ((f = manifest_add_file(m, CONTROL_FILE, 0, err)) == NULL)
	{
		free(control.chunks);
		return -1;
	}
	control.path = f->path;
	*f = control;
	m->size += f->size;
	return 0;
}

int
backup_copy_begin(BackupCopy *run, PgbError *err)
{
	run->spill = filespill_new(kept_files, (int) (sizeof(kept_files) / sizeof(kept_files[0])), err);
	return run->spill ? 0 : -1;
}

int
backup_copy(BackupCopy *run, BundleIds *ids, PgbError *err)
{
	size_t		ntasks = 0;
	int			rc = -1;
	int			nworkers = run->nworkers;

	run->workers = calloc((size_t) nworkers, sizeof(StoreWorker));
	run->slots = calloc((size_t) nworkers, sizeof(*run->slots));
	if (run->workers == NULL || run->slots == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < nworkers; i++)
		if (store_worker_init(&run->workers[i], run->store.repo, run->m->label, run->level,
							  run->bundle_bytes, ids, err) != 0)
			return -1;
	if ((run->spill == NULL && backup_copy_begin(run, err) != 0) || plan_chunks(run, &ntasks, err) != 0)
		return -1;
	run->progress_state = progress_new("backup", run->walk->total_bytes, run->progress);
	pthread_mutex_init(&run->lock, NULL);
	rc = workers_run_prepared(nworkers, ntasks, prepare_chunk, backup_chunk, run, err);
	if (rc == 0 && run->control_task >= 0)
		rc = prepare_chunk(run, 0, (size_t) run->control_task, err) == 0 &&
			backup_chunk(run, 0, (size_t) run->control_task, err) == 0 ? 0 : -1;
	pthread_mutex_destroy(&run->lock);
	progress_done(run->progress_state);
	run->progress_state = NULL;
	if (rc == 0)
		rc = filespill_end(run->spill, err) == 0 && keep_control_only(run, err) == 0 ? 0 : -1;
	free(run->left);
	run->left = NULL;
	return rc;
}

int
backup_copy_nfiles(const BackupCopy *run)
{
	return filespill_count(run->spill) + run->m->nfiles;
}

void
backup_copy_free(BackupCopy *run)
{
	for (int i = 0; run->workers && i < run->nworkers; i++)
		store_worker_free(&run->workers[i]);
	free(run->workers);
	free(run->slots);
	free(run->tasks);
	free(run->left);
	run->slots = NULL;
	run->workers = NULL;
	run->tasks = NULL;
	run->left = NULL;
}

