/* Verifying a repository (see verify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/bundle.h"
#include "backup/chain.h"
#include "backup/chunk.h"
#include "backup/frameruns.h"
#include "repo/history.h"
#include "backup/verify.h"
#include "common/workers.h"
#include "io/membuf.h"

void
verifier_problem(Verifier *run, const PgbError *err)
{
	pthread_mutex_lock(&run->lock);
	run->problems++;
	if (err->code == EXIT_IO)
		run->unreadable++;
	run->report(run->report_arg, err);
	pthread_mutex_unlock(&run->lock);
}

/* The block map the next incremental compares against. */
static void
verify_map(Verifier *run, const FrameRef *t)
{
	const ManifestChunk *ch = &t->m->files[t->file].chunks[t->chunk];
	PgbError	e = {0};
	MemBuf		b = {0};

	if (ch->map_bundle == 0)
		return;
	if (chain_read_map(run->repo, t->m, ch, &b, &e) != 0)
		verifier_problem(run, &e);
	else if (b.len != (size_t) chunk_nblocks(ch->size, t->m->block_size) * BLOCK_HASH_LEN)
	{
		pgb_error(&e, EXIT_CORRUPT, "file \"%s\" of backup %s: block map of chunk %d has %zu bytes, expected %zu",
				  t->m->files[t->file].path, t->m->label, t->chunk, b.len,
				  (size_t) chunk_nblocks(ch->size, t->m->block_size) * BLOCK_HASH_LEN);
		verifier_problem(run, &e);
	}
	membuf_free(&b);
}

/* Rebuild one chunk through its chain and compare it with its SHA-256. */
static void
verify_chunk(Verifier *run, int worker, const FrameRef *t)
{
	PgbError	e = {0};

	if (chain_read_chunk(run->repo, run->cat, t->m, &t->m->files[t->file], t->chunk,
						 &run->bufs[worker], run->discard[worker], &e) != 0)
		verifier_problem(run, &e);
	verify_map(run, t);
}

/*
 * A task: a run of stored frames read at once, or one chunk.  After a
 * problem inside a run, the rest of it is read chunk by chunk, so that
 * each problem is found and named.  Never stops the verify.
 */
static int
verify_task(void *shared, int worker, size_t task, PgbError *err)
{
	Verifier   *run = shared;
	const FrameRun *t = &run->runs[task];
	const FrameRef *refs = &run->refs[t->first];
	BundleRange *br = NULL;
	PgbError	e = {0};
	int			i = 0;

	if (refs[0].sch != NULL)
		br = framerun_open(run->repo, run->refs, t, &e);
	for (; br != NULL && i < t->count; i++)
	{
		if (frameref_read(br, &refs[i], run->discard[worker], &e) != 0)
		{
			verifier_problem(run, &e);
			verify_map(run, &refs[i++]);
			break;
		}
		verify_map(run, &refs[i]);
	}
	bundle_range_close(br);
	for (; i < t->count; i++)
		verify_chunk(run, worker, &refs[i]);
	return 0;
}

/* What can be checked without reading content: chain, paths, bundle headers, WAL, file digests. */
static void
verify_backup_shape(Verifier *run, const Manifest *m)
{
	PgbError	err = {0};

	if (chain_check(run->cat, m, &err) != 0)
		verifier_problem(run, &err);
	if (manifest_check_paths(m, &err) != 0)
		verifier_problem(run, &err);
	for (uint32_t b = 1; b <= m->nbundles; b++)
		if (bundle_check_header(run->repo, m->label, b, &err) != 0)
			verifier_problem(run, &err);
	for (int i = 0; i < m->nfiles; i++)
	{
		const ManifestFile *f = &m->files[i];
		uint64_t	size = 0;

		for (int c = 0; c < f->nchunks; c++)
			size += f->chunks[c].size;
		if (size != f->size || f->digest_mismatch)
		{
			pgb_error(&err, EXIT_CORRUPT, "file \"%s\" of backup %s: its chunks do not add up to its recorded size and SHA-256",
					  f->path, m->label);
			verifier_problem(run, &err);
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
			verifier_problem(run, &err);
		}
	}
	if (!run->have_oldest || manifest_start_segno(m) < run->oldest)
		run->oldest = manifest_start_segno(m);
	run->have_oldest = true;
}

void
verify_wal(Verifier *run, const WalList *wal, SegNo oldest, bool have_oldest)
{
	for (int i = 0; i < wal->nsegments; i++)
	{
		char		name[WAL_NAME_LEN + 1];
		PgbError	e = {0};

		wal_segment_name(name, wal->segments[i].tli, wal->segments[i].segno, run->repo->info.wal_segment_size);
		/* archive times have whole seconds: a segment of the mark's second is read again */
		if (!run->since || wal->segments[i].mtime >= run->since / 1000000)
		{
			run->nwal++;
			if (wal_verify(run->repo, name, &e) != 0)
				verifier_problem(run, &e);
		}
		if (have_oldest && i > 0 && wal->segments[i - 1].segno >= oldest &&
			wal->segments[i].segno > wal->segments[i - 1].segno + 1)
		{
			char		prev[WAL_NAME_LEN + 1];

			wal_segment_name(prev, wal->segments[i - 1].tli, wal->segments[i - 1].segno, run->repo->info.wal_segment_size);
			pgb_error(&e, EXIT_CORRUPT, "WAL archive has a gap between \"%s\" and \"%s\": recovery cannot pass it", prev, name);
			verifier_problem(run, &e);
		}
	}
	for (int i = 0; i < wal->nother; i++)
	{
		PgbError	e = {0};

		if (wal_verify(run->repo, wal->other[i], &e) != 0)
			verifier_problem(run, &e);
	}
	for (int i = 0; i < wal->nhistory; i++)
	{
		char		name[32];
		PgbError	e = {0};

		snprintf(name, sizeof(name), "%08X.history", wal->history[i]);
		if (wal_verify(run->repo, name, &e) != 0)
			verifier_problem(run, &e);
	}
}

void
verifier_init(Verifier *v, Repo *repo, const Catalog *cat, int nworkers, VerifyReport report, void *arg)
{
	memset(v, 0, sizeof(*v));
	v->repo = repo;
	v->cat = cat;
	v->nworkers = nworkers;
	v->report = report;
	v->report_arg = arg;
	pthread_mutex_init(&v->lock, NULL);
}

int
verify_backups(Verifier *v, PgbError *err)
{
	const Catalog *cat = v->cat;
	size_t		ntasks = 0,
				t = 0;

	for (int b = 0; b < cat->count; b++)
	{
		verify_backup_shape(v, &cat->backups[b]);
		for (int i = 0; i < cat->backups[b].nfiles; i++)
			ntasks += (size_t) cat->backups[b].files[i].nchunks;
	}
	v->refs = malloc(sizeof(FrameRef) * (ntasks + 1));
	v->runs = malloc(sizeof(FrameRun) * (ntasks + 1));
	v->bufs = calloc((size_t) v->nworkers, sizeof(uint8_t *));
	v->discard = calloc((size_t) v->nworkers, sizeof(Stage *));
	if (v->refs == NULL || v->runs == NULL || v->bufs == NULL || v->discard == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < v->nworkers; i++)
		if ((v->discard[i] = discard_stage_new(err)) == NULL)
			return -1;
	for (int b = 0; b < cat->count; b++)
	{
		if (v->since && cat->backups[b].stop_time < v->since)
			continue;			/* verified before: only its shape is checked again */
		v->nbackups++;
		for (int i = 0; i < cat->backups[b].nfiles; i++)
			for (int c = 0; c < cat->backups[b].files[i].nchunks; c++)
			{
				PgbError	e = {0};

				v->refs[t] = (FrameRef) {&cat->backups[b], i, c, t, NULL, NULL};
				/* what cannot be followed is found again, and reported, chunk by chunk */
				(void) frameref_resolve(cat, &v->refs[t], &e);
				t++;
			}
	}
	v->nchunks = t;
	return workers_run(v->nworkers, frameruns_plan(v->refs, t, v->runs), verify_task, v, err);
}

void
verifier_free(Verifier *v)
{
	for (int i = 0; v->bufs && i < v->nworkers; i++)
		free(v->bufs[i]);
	for (int i = 0; v->discard && i < v->nworkers; i++)
		stage_free(v->discard[i]);
	free(v->bufs);
	free(v->discard);
	free(v->refs);
	free(v->runs);
	pthread_mutex_destroy(&v->lock);
}

int
verify_history(Verifier *v, int *nrecords, PgbError *err)
{
	JobRecord  *recs = NULL;
	int			n = 0;

	if (history_list(v->repo, 0, &recs, &n, err) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(recs[i].outcome, HISTORY_OUTCOME_UNREADABLE) == 0)
		{
			PgbError	e = {0};

			pgb_error(&e, EXIT_CORRUPT, "job history: %s", recs[i].message);
			verifier_problem(v, &e);
		}
	history_free(recs);
	*nrecords = n;
	return 0;
}
