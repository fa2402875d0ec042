/*
 * pgbkp verify: rebuild every chunk of every backup through its chain and
 * compare it with its recorded SHA-256, decode every archived WAL file
 * (segments, partial segments, backup history and timeline history files)
 * and every job history record, check that each backup's parents exist,
 * that its WAL from start to stop is archived, and that the archive has no
 * gap after the oldest backup.  Every problem is reported, then the exit
 * code says whether there was any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "backup/bundle.h"
#include "backup/chain.h"
#include "backup/chunk.h"
#include "io/membuf.h"
#include "common/workers.h"
#include "common/fileio.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/history.h"
#include "repo/walarchive.h"

typedef struct VerifyTask
{
	const Manifest *m;
	int			file;
	int			chunk;
} VerifyTask;

typedef struct VerifyRun
{
	Repo	   *repo;
	const Catalog *cat;
	VerifyTask *tasks;
	uint8_t   **bufs;
	pthread_mutex_t lock;
	int			problems;
} VerifyRun;

static void
problem(VerifyRun *run, const PgbError *err)
{
	pthread_mutex_lock(&run->lock);
	run->problems++;
	log_error("%s", err->msg);
	pthread_mutex_unlock(&run->lock);
}

/* Rebuild one chunk through its chain and compare it with its SHA-256; never stops the run. */
static int
verify_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	VerifyRun  *run = shared;
	const VerifyTask *t = &run->tasks[task];
	PgbError	e = {0};

	const ManifestChunk *ch = &t->m->files[t->file].chunks[t->chunk];

	if (chain_read_chunk(run->repo, run->cat, t->m, &t->m->files[t->file], t->chunk,
						 run->bufs[worker], sink_discard, NULL, &e) != 0)
		problem(run, &e);
	if (ch->map_bundle != 0)
	{
		/* the block map the next incremental compares against */
		MemBuf		b = {0};

		if (bundle_read_frame(run->repo, t->m->label, ch->map_bundle, ch->map_offset, ch->map_length,
							  membuf_sink, &b, &e) != 0)
			problem(run, &e);
		else if (b.len != (size_t) chunk_nblocks(ch->size, t->m->block_size) * BLOCK_HASH_LEN)
		{
			pgb_error(&e, EXIT_CORRUPT, "file \"%s\" of backup %s: block map of chunk %d has %zu bytes, expected %zu",
					  t->m->files[t->file].path, t->m->label, t->chunk, b.len,
					  (size_t) chunk_nblocks(ch->size, t->m->block_size) * BLOCK_HASH_LEN);
			problem(run, &e);
		}
		membuf_free(&b);
	}
	return 0;
}

/* What can be checked without reading content: chain, paths, bundle headers, WAL, file digests. */
static void
verify_backup_shape(VerifyRun *run, const Manifest *m, SegNo *oldest, bool *have_oldest)
{
	PgbError	err = {0};

	if (chain_check(run->cat, m, &err) != 0)
		problem(run, &err);
	if (manifest_check_paths(m, &err) != 0)
		problem(run, &err);
	for (uint32_t b = 1; b <= m->nbundles; b++)
		if (bundle_check_header(run->repo, m->label, b, &err) != 0)
			problem(run, &err);
	for (int i = 0; i < m->nfiles; i++)
	{
		const ManifestFile *f = &m->files[i];
		uint8_t		digest[SHA256_LEN];
		uint64_t	size = 0;

		for (int c = 0; c < f->nchunks; c++)
			size += f->chunks[c].size;
		manifest_file_digest(f, digest);
		if (size != f->size || memcmp(digest, f->sha256, SHA256_LEN) != 0)
		{
			pgb_error(&err, EXIT_CORRUPT, "file \"%s\" of backup %s: its chunks do not add up to its recorded size and SHA-256",
					  f->path, m->label);
			problem(run, &err);
		}
	}
	for (SegNo s = manifest_start_segno(m); s <= manifest_stop_segno(m); s++)
	{
		char		name[WAL_NAME_LEN + 1];
		int			rc;

		wal_segment_name(name, m->timeline, s, m->wal_segment_size);
		if (!wal_exists(run->repo, name, &err, &rc))
		{
			if (rc == 0)
				pgb_error(&err, EXIT_CORRUPT, "backup %s needs WAL file \"%s\", which is not in the repository", m->label, name);
			problem(run, &err);
		}
	}
	if (!*have_oldest || manifest_start_segno(m) < *oldest)
		*oldest = manifest_start_segno(m);
	*have_oldest = true;
}

static void
verify_wal(VerifyRun *run, const WalList *wal, SegNo oldest, bool have_oldest)
{
	for (int i = 0; i < wal->nsegments; i++)
	{
		char		name[WAL_NAME_LEN + 1];
		PgbError	e = {0};

		wal_segment_name(name, wal->segments[i].tli, wal->segments[i].segno, run->repo->info.wal_segment_size);
		if (wal_verify(run->repo, name, &e) != 0)
			problem(run, &e);
		if (have_oldest && i > 0 && wal->segments[i - 1].segno >= oldest &&
			wal->segments[i].segno > wal->segments[i - 1].segno + 1)
		{
			char		prev[WAL_NAME_LEN + 1];

			wal_segment_name(prev, wal->segments[i - 1].tli, wal->segments[i - 1].segno, run->repo->info.wal_segment_size);
			pgb_error(&e, EXIT_CORRUPT, "WAL archive has a gap between \"%s\" and \"%s\": recovery cannot pass it", prev, name);
			problem(run, &e);
		}
	}
	for (int i = 0; i < wal->nother; i++)
	{
		PgbError	e = {0};

		if (wal_verify(run->repo, wal->other[i], &e) != 0)
			problem(run, &e);
	}
	for (int i = 0; i < wal->nhistory; i++)
	{
		char		name[32];
		PgbError	e = {0};

		snprintf(name, sizeof(name), "%08X.history", wal->history[i]);
		if (wal_verify(run->repo, name, &e) != 0)
			problem(run, &e);
	}
}

/*
 * Read every job history record: one that fails its checksum or does not
 * parse is listed as unreadable (repo/history.h), a problem here.
 */
static int
verify_history(VerifyRun *run, int *nrecords, PgbError *err)
{
	JobRecord  *recs = NULL;
	int			n = 0;

	if (history_list(run->repo, 0, &recs, &n, err) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(recs[i].outcome, HISTORY_OUTCOME_UNREADABLE) == 0)
		{
			PgbError	e = {0};

			pgb_error(&e, EXIT_CORRUPT, "job history: %s", recs[i].message);
			problem(run, &e);
		}
	history_free(recs);
	*nrecords = n;
	return 0;
}

int
cmd_verify(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	Catalog		cat = {0};
	WalList		wal = {0};
	VerifyRun	run = {0};
	int			nworkers = workers_resolve(cfg->jobs);
	SegNo		oldest = 0;
	bool		have_oldest = false;
	size_t		ntasks = 0,
				t = 0;
	int			nhistory = 0;
	int			rc = -1;

	if (repo == NULL)
		return -1;
	run.repo = repo;
	run.cat = &cat;
	pthread_mutex_init(&run.lock, NULL);
	if (catalog_load(repo, &cat, err) != 0 || wal_list(repo, &wal, err) != 0)
		goto done;
	for (int i = 0; i < cat.ncorrupt; i++)
	{
		PgbError	e = {0};

		pgb_error(&e, EXIT_CORRUPT, "backup %s: %s", cat.corrupt[i], cat.corrupt_error[i]);
		problem(&run, &e);
	}
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("backup directory %s has no manifest: an interrupted backup, not counted", cat.incomplete[i]);
	for (int b = 0; b < cat.count; b++)
	{
		verify_backup_shape(&run, &cat.backups[b], &oldest, &have_oldest);
		for (int i = 0; i < cat.backups[b].nfiles; i++)
			ntasks += (size_t) cat.backups[b].files[i].nchunks;
	}
	run.tasks = malloc(sizeof(VerifyTask) * (ntasks + 1));
	run.bufs = calloc((size_t) nworkers, sizeof(uint8_t *));
	if (run.tasks == NULL || run.bufs == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	for (int i = 0; i < nworkers; i++)
		if ((run.bufs[i] = malloc(MANIFEST_CHUNK_SIZE)) == NULL)
		{
			pgb_error(err, EXIT_INTERNAL, "out of memory");
			goto done;
		}
	for (int b = 0; b < cat.count; b++)
		for (int i = 0; i < cat.backups[b].nfiles; i++)
			for (int c = 0; c < cat.backups[b].files[i].nchunks; c++)
				run.tasks[t++] = (VerifyTask) {&cat.backups[b], i, c};
	if (workers_run(nworkers, t, verify_chunk, &run, err) != 0)
		goto done;
	for (int b = 0; b < cat.count; b++)
		log_info("backup %s (%s): %d files checked", cat.backups[b].label, cat.backups[b].type, cat.backups[b].nfiles);
	{
		SegNo		from;
		PgbError	ignored = {0};

		/* retention_archive: the archive is continuous only from its cutoff on */
		if (expire_continuous_from(cfg, &cat, &from, &ignored) && from > oldest)
		{
			log_info("WAL before the archive retention's start is kept only for each older backup's own range");
			oldest = from;
		}
	}
	verify_wal(&run, &wal, oldest, have_oldest);
	if (verify_history(&run, &nhistory, err) != 0)
		goto done;
	log_info("job history: %d records checked", nhistory);
	if (run.problems > 0)
		pgb_error(err, EXIT_CORRUPT, "verify found %d problem%s in %d backups and %d WAL files",
				  run.problems, run.problems == 1 ? "" : "s", cat.count + cat.ncorrupt,
				  wal.nsegments + wal.nother + wal.nhistory);
	else
	{
		printf("verify ok: %d backups (%zu chunks) and %d WAL files (%d segments, %d other) checked, no problems\n",
			   cat.count, t, wal.nsegments + wal.nother + wal.nhistory, wal.nsegments, wal.nother + wal.nhistory);
		rc = 0;
	}
done:
	for (int i = 0; run.bufs && i < nworkers; i++)
		free(run.bufs[i]);
	free(run.bufs);
	free(run.tasks);
	pthread_mutex_destroy(&run.lock);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
	return rc;
}
