/*
 * pgbkp backup: a full, non-exclusive backup of the running primary.
 *
 * Order matters for crash safety: bundles first, then the WAL the backup
 * needs is awaited and verified in the archive, and only then is the
 * manifest written, which is what makes the backup exist.  A crash at any
 * point before leaves a directory without a manifest, which is never listed
 * and which the next backup removes (under the same lock).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/bundle.h"
#include "backup/chain.h"
#include "backup/chunk.h"
#include "backup/walk.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/workers.h"
#include "pg/control.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

/* One chunk of one file: the unit of work. */
typedef struct ChunkTask
{
	int			file;
	int			chunk;
} ChunkTask;

/* What every worker shares; per-worker scratch is indexed by worker id. */
typedef struct BackupRun
{
	const Config *cfg;
	Repo	   *repo;
	const Catalog *cat;
	Manifest   *m;
	const Manifest *parent;		/* NULL for a full backup */
	const WalkResult *walk;		/* walk->files[i] is m->files[i] */
	ChunkTask  *tasks;
	BundleWriter **writers;
	uint8_t   **bufs;			/* MANIFEST_CHUNK_SIZE each */
	pthread_mutex_t lock;		/* progress and the counters below */
	Progress   *progress;
	uint64_t	nstored,
				nref,
				ndelta;
} BackupRun;

/* A label after every existing one: YYYYMMDD-HHMMSS + F|D|I in UTC, waiting out a collision. */
static int
make_label(const Catalog *cat, char kind, char *label, size_t len, PgbError *err)
{
	for (int attempt = 0; attempt < 3; attempt++)
	{
		time_t		now = time(NULL);
		struct tm	tm;
		bool		later = true;

		gmtime_r(&now, &tm);
		strftime(label, len, "%Y%m%d-%H%M%S", &tm);
		snprintf(label + 15, len - 15, "%c", kind);
		for (int i = 0; i < cat->count; i++)
			if (strncmp(cat->backups[i].label, label, 15) >= 0)
				later = false;
		for (int i = 0; i < cat->nincomplete; i++)
			if (strncmp(cat->incomplete[i], label, 15) >= 0)
				later = false;
		for (int i = 0; i < cat->ncorrupt; i++)
			if (strncmp(cat->corrupt[i], label, 15) >= 0)
				later = false;
		if (later)
			return 0;
		sleep(1);
	}
	pgb_error(err, EXIT_INTERNAL, "could not choose a backup label later than the newest existing backup");
	return pgb_hint(err, "check the system clock: it appears to be behind the newest backup's time");
}

/*
 * The type to take and the backup it builds on.  diff: on the newest full;
 * incr: on the newest backup; auto: full when there is none or the newest
 * is older than full-interval days, else incr.  Without a usable parent (or
 * after a major version change) the backup is a full one.
 */
static const char *
choose_type(const Config *cfg, const Catalog *cat, const DbServerInfo *si, const Manifest **parent)
{
	const char *type = cfg->type ? cfg->type : "full";
	const Manifest *newest = NULL,
			   *newest_full = NULL;

	*parent = NULL;
	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *b = &cat->backups[i];

		PgbError	ignored;

		/* a backup of another major version, or whose chain is broken, is no base */
		if (b->pg_version / 10000 != si->version_num / 10000 ||
			b->system_identifier != si->system_identifier ||
			chain_check(cat, b, &ignored) != 0)
			continue;
		newest = b;
		if (strcmp(b->type, "full") == 0)
			newest_full = b;
	}
	if (strcmp(type, "auto") == 0)
	{
		TimestampUs due = time_now() - (TimestampUs) cfg->full_interval * 86400 * 1000000;

		type = newest_full == NULL || newest_full->stop_time < due ? "full" : "incr";
	}
	if (strcmp(type, "full") == 0)
		return "full";
	*parent = strcmp(type, "diff") == 0 ? newest_full : newest;
	if (*parent == NULL)
	{
		log_info("no full backup to build a %s backup on: taking a full backup", type);
		return "full";
	}
	return type;
}

static int
check_pgdata(const Config *cfg, const DbServerInfo *si, char *pgdata, size_t len, PgbError *err)
{
	PgControl	ctl;
	const char *dir = cfg->pg_data ? cfg->pg_data : si->data_directory;

	snprintf(pgdata, len, "%s", dir);
	if (pg_control_read(pgdata, &ctl, err) != 0)
	{
		pgb_hint(err, "run pgbkp on the database host as the database owner, and check --pg-data");
		return -1;
	}
	if (ctl.system_identifier != si->system_identifier)
	{
		pgb_error(err, EXIT_CONFIG, "data directory \"%s\" belongs to database system %" PRIu64 ", not to the server's %" PRIu64,
				  pgdata, ctl.system_identifier, si->system_identifier);
		return pgb_hint(err, "--pg-data must be the data directory of the server pgbkp connects to");
	}
	return 0;
}

/* Read up to one chunk at offset; *len bytes were read, *gone if the file vanished. */
static int
read_chunk(const char *path, uint64_t offset, uint8_t *buf, uint64_t *len, bool *gone, PgbError *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	uint64_t	got = 0;

	*gone = false;
	*len = 0;
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		if (errno == ENOENT)
		{
			*gone = true;
			return 0;
		}
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", path);
	}
	while (got < MANIFEST_CHUNK_SIZE)
	{
		ssize_t		n = pread(fd, buf + got, (size_t) (MANIFEST_CHUNK_SIZE - got), (off_t) (offset + got));

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			close(fd);
			return pgb_error_errno(err, EXIT_IO, errno, "could not read \"%s\"", path);
		}
		if (n == 0)
			break;
		got += (uint64_t) n;
	}
	close(fd);
	*len = got;
	return 0;
}

/* Store the block map of a relation chunk as its own frame. */
static int
store_map(BundleWriter *bw, const uint64_t *map, uint32_t n, ManifestChunk *ch, PgbError *err)
{
	uint8_t    *bytes = malloc((size_t) n * BLOCK_HASH_LEN + 1);
	int			rc;

	if (bytes == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	chunk_map_encode(map, n, bytes);
	rc = bundle_put(bw, bytes, (size_t) n * BLOCK_HASH_LEN, &ch->map_bundle, &ch->map_offset, &ch->map_length, err);
	free(bytes);
	return rc;
}

/* Only the blocks whose hash differs from the parent's map, as delta records. */
static int
store_delta(BundleWriter *bw, const uint8_t *buf, uint64_t len, uint32_t block_size,
			const uint64_t *map, uint32_t n, const uint64_t *pmap, uint32_t pn,
			ManifestChunk *ch, PgbError *err)
{
	if (bundle_frame_begin(bw, &ch->bundle, &ch->offset, err) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	off = (uint64_t) i * block_size;
		uint32_t	blen = (uint32_t) (len - off < block_size ? len - off : block_size);
		uint8_t		rec[DELTA_RECORD_HEADER];

		if (i < pn && map[i] == pmap[i])
			continue;
		chunk_delta_record(i, blen, rec);
		if (bundle_frame_write(bw, rec, sizeof(rec), err) != 0 ||
			bundle_frame_write(bw, buf + off, blen, err) != 0)
			return -1;
	}
	return bundle_frame_end(bw, &ch->length, err);
}

static int
backup_chunk(void *shared, int worker, size_t task, PgbError *err)
{
	BackupRun  *run = shared;
	ManifestFile *mf = &run->m->files[run->tasks[task].file];
	const WalkFile *wf = &run->walk->files[run->tasks[task].file];
	int			c = run->tasks[task].chunk;
	ManifestChunk *ch = &mf->chunks[c];
	BundleWriter *bw = run->writers[worker];
	uint8_t    *buf = run->bufs[worker];
	uint32_t	bs = run->m->block_size;
	const ManifestChunk *pch = NULL;
	uint64_t	len;
	uint64_t   *map = NULL,
			   *pmap = NULL;
	uint32_t	n = 0,
				pn = 0;
	bool		gone;
	int			rc = -1;

	if (read_chunk(wf->full, (uint64_t) c * MANIFEST_CHUNK_SIZE, buf, &len, &gone, err) != 0)
		return -1;
	if (gone)
	{
		/* dropped by the server while we copied: WAL replay recreates nothing of it */
		mf->vanished = true;
		return 0;
	}
	ch->size = len;
	sha256_digest(buf, (size_t) len, ch->sha256);
	if (run->parent && run->parent->chunk_size == MANIFEST_CHUNK_SIZE)
	{
		int			pi = manifest_find_file(run->parent, mf->path);

		if (pi >= 0 && c < run->parent->files[pi].nchunks)
			pch = &run->parent->files[pi].chunks[c];
	}
	if (pch && pch->size == len && memcmp(pch->sha256, ch->sha256, SHA256_LEN) == 0)
	{
		ch->kind = CHUNK_REF;
		rc = 0;
		goto done;
	}
	if (chunk_is_relation(mf->path) && len > 0)
	{
		n = chunk_nblocks(len, bs);
		map = malloc(sizeof(uint64_t) * n);
		if (map == NULL)
		{
			pgb_error(err, EXIT_INTERNAL, "out of memory");
			goto done;
		}
		chunk_block_map(buf, len, bs, map);
		if (pch && chain_block_map(run->repo, run->cat, run->parent, mf->path, c, &pmap, &pn, err) != 0)
		{
			if (err->code != EXIT_CORRUPT)
				goto done;
			/* the parent's map is damaged: this chunk is stored whole, the backup goes on */
			log_warn("%s; storing chunk %d of \"%s\" whole", err->msg, c, mf->path);
			pgb_error_clear(err);
			pmap = NULL;
		}
	}
	if (pmap != NULL)
	{
		uint32_t	changed = 0;

		for (uint32_t i = 0; i < n; i++)
			changed += i >= pn || map[i] != pmap[i];
		/* mostly rewritten: storing it whole restores faster and costs the same */
		if (changed * 2 <= n)
		{
			ch->kind = CHUNK_DELTA;
			if (store_delta(bw, buf, len, bs, map, n, pmap, pn, ch, err) != 0 ||
				store_map(bw, map, n, ch, err) != 0)
				goto done;
			rc = 0;
			goto done;
		}
	}
	ch->kind = CHUNK_STORED;
	if (bundle_put(bw, buf, (size_t) len, &ch->bundle, &ch->offset, &ch->length, err) != 0 ||
		(map != NULL && store_map(bw, map, n, ch, err) != 0))
		goto done;
	rc = 0;
done:
	free(map);
	free(pmap);
	if (rc == 0)
	{
		pthread_mutex_lock(&run->lock);
		progress_add(run->progress, len);
		if (ch->kind == CHUNK_REF)
			run->nref++;
		else if (ch->kind == CHUNK_DELTA)
			run->ndelta++;
		else
			run->nstored++;
		pthread_mutex_unlock(&run->lock);
	}
	return rc;
}

/* Manifest entries for the walked files, and one task per chunk. */
static int
plan_chunks(BackupRun *run, size_t *ntasks, PgbError *err)
{
	const WalkResult *walk = run->walk;
	size_t		total = 0,
				t = 0;

	for (int i = 0; i < walk->nfiles; i++)
	{
		uint64_t	n = walk->files[i].size / MANIFEST_CHUNK_SIZE + 1;
		ManifestFile *mf = manifest_add_file(run->m, walk->files[i].rel, (int) n, err);

		if (mf == NULL)
			return -1;
		mf->mode = walk->files[i].mode;
		mf->mtime = walk->files[i].mtime;
		total += n;
	}
	run->tasks = malloc(sizeof(ChunkTask) * (total ? total : 1));
	if (run->tasks == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	/* big files first, so the last tasks left are small ones */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < run->m->nfiles; i++)
			if ((run->m->files[i].nchunks > 1) == (pass == 0))
				for (int c = 0; c < run->m->files[i].nchunks; c++)
				{
					run->tasks[t].file = i;
					run->tasks[t].chunk = c;
					t++;
				}
	*ntasks = t;
	return 0;
}

/* Drop vanished files and empty trailing chunks; sizes and file digests from the chunks. */
static void
settle_files(Manifest *m)
{
	int			w = 0;

	for (int i = 0; i < m->nfiles; i++)
	{
		ManifestFile *f = &m->files[i];

		if (f->vanished)
		{
			free(f->path);
			free(f->chunks);
			continue;
		}
		/*
		 * A file that shrank while it was read ends at its first short chunk:
		 * what came after it was read at offsets the file no longer has (WAL
		 * replay rewrites the file anyway).
		 */
		for (int c = 0; c + 1 < f->nchunks; c++)
			if (f->chunks[c].size < MANIFEST_CHUNK_SIZE)
				f->nchunks = c + 1;
		while (f->nchunks > 1 && f->chunks[f->nchunks - 1].size == 0)
			f->nchunks--;
		f->size = 0;
		for (int c = 0; c < f->nchunks; c++)
			f->size += f->chunks[c].size;
		manifest_file_digest(f, f->sha256);
		m->size += f->size;
		m->files[w++] = *f;
	}
	m->nfiles = w;
}

static int
add_mem_file(BundleWriter *bw, Manifest *m, const char *path, const char *content, PgbError *err)
{
	ManifestFile *mf = manifest_add_file(m, path, 1, err);
	size_t		len = strlen(content);

	if (mf == NULL)
		return -1;
	mf->mode = 0600;
	mf->mtime = m->stop_time / 1000000;
	mf->size = len;
	mf->chunks[0].kind = CHUNK_STORED;
	mf->chunks[0].size = len;
	sha256_digest(content, len, mf->chunks[0].sha256);
	memcpy(mf->sha256, mf->chunks[0].sha256, SHA256_LEN);
	m->size += len;
	return bundle_put(bw, content, len, &mf->chunks[0].bundle, &mf->chunks[0].offset, &mf->chunks[0].length, err);
}

/* Wait for the WAL start..stop in the archive, then decode and check each segment. */
static int
await_backup_wal(const Config *cfg, Repo *repo, const Manifest *m, PgbError *err)
{
	SegNo		first = manifest_start_segno(m);
	SegNo		last = manifest_stop_segno(m);
	int			n = (int) (last - first + 1);
	char	  (*names)[WAL_NAME_LEN + 1] = calloc((size_t) n, WAL_NAME_LEN + 1);
	const char **ptrs = calloc((size_t) n, sizeof(char *));
	int			rc = -1;

	if (names == NULL || ptrs == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	for (int i = 0; i < n; i++)
	{
		wal_segment_name(names[i], m->timeline, first + (SegNo) i, m->wal_segment_size);
		ptrs[i] = names[i];
	}
	log_info("waiting for WAL %s to %s to be archived", names[0], names[n - 1]);
	if (cmd_wait_for_wal(repo, ptrs, n, cfg->archive_timeout, err) != 0)
		goto done;
	for (int i = 0; i < n; i++)
		if (wal_verify(repo, names[i], err) != 0)
			goto done;
	rc = 0;
done:
	free(names);
	free(ptrs);
	return rc;
}

/* Copy every chunk with the workers; the writers stay open for the label files. */
static int
copy_chunks(BackupRun *run, int nworkers, BundleIds *ids, PgbError *err)
{
	size_t		ntasks = 0;
	int			rc = -1;

	run->writers = calloc((size_t) nworkers, sizeof(BundleWriter *));
	run->bufs = calloc((size_t) nworkers, sizeof(uint8_t *));
	if (run->writers == NULL || run->bufs == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < nworkers; i++)
	{
		run->writers[i] = bundle_writer_new(run->repo, run->m->label, run->cfg->compress_level,
											(uint64_t) run->cfg->repos[run->cfg->repo_current].bundle_size << 20, ids, err);
		run->bufs[i] = malloc(MANIFEST_CHUNK_SIZE);
		if (run->writers[i] == NULL || run->bufs[i] == NULL)
			return run->writers[i] ? pgb_error(err, EXIT_INTERNAL, "out of memory") : -1;
	}
	if (plan_chunks(run, &ntasks, err) != 0)
		return -1;
	run->progress = progress_new("backup", run->walk->total_bytes, run->cfg->progress);
	pthread_mutex_init(&run->lock, NULL);
	rc = workers_run(nworkers, ntasks, backup_chunk, run, err);
	pthread_mutex_destroy(&run->lock);
	progress_done(run->progress);
	run->progress = NULL;
	return rc;
}

static void
free_run(BackupRun *run, int nworkers)
{
	for (int i = 0; i < nworkers; i++)
	{
		if (run->writers)
			bundle_writer_free(run->writers[i]);
		if (run->bufs)
			free(run->bufs[i]);
	}
	free(run->writers);
	free(run->bufs);
	free(run->tasks);
}

static int
run_backup(const Config *cfg, Repo *repo, const Catalog *cat, DbConn *conn, const DbServerInfo *si,
		   const char *pgdata, const char *type, const Manifest *parent, const char *label, PgbError *err)
{
	Manifest	m;
	WalkResult	walk = {0};
	BackupRun	run = {0};
	BundleIds	ids = {.last = 0};
	int			nworkers = workers_resolve(cfg->jobs);
	char	   *labelfile = NULL;
	char	   *spcmapfile = NULL;
	int			rc = -1;
	char		lsn1[32],
				lsn2[32];

	pthread_mutex_init(&ids.lock, NULL);
	manifest_init(&m);
	snprintf(m.label, sizeof(m.label), "%s", label);
	snprintf(m.type, sizeof(m.type), "%s", type);
	if (parent)
		snprintf(m.parent, sizeof(m.parent), "%s", parent->label);
	m.cluster = strdup(repo->cluster);
	m.pgdata = strdup(pgdata);
	m.pgbkp_version = strdup(PACKAGE_VERSION);
	m.system_identifier = si->system_identifier;
	m.pg_version = si->version_num;
	m.wal_segment_size = si->wal_segment_size;
	m.block_size = si->block_size;
	m.compress_level = cfg->compress_level;
	m.chunk_size = MANIFEST_CHUNK_SIZE;
	if (m.cluster == NULL || m.pgdata == NULL || m.pgbkp_version == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	run.cfg = cfg;
	run.repo = repo;
	run.cat = cat;
	run.m = &m;
	run.parent = parent;
	run.walk = &walk;

	log_info("starting %s backup %s of \"%s\"%s%s%s, %d worker%s", type, label, pgdata,
			 parent ? " on " : "", parent ? parent->label : "",
			 cfg->start_fast ? " (immediate checkpoint)" : "", nworkers, nworkers == 1 ? "" : "s");
	if (db_backup_start(conn, si->version_num, label, cfg->start_fast,
						&m.start_lsn, &m.timeline, &m.start_time, err) != 0)
		goto done;
	if (walk_data_dir(pgdata, &m, &walk, err) != 0 ||
		copy_chunks(&run, nworkers, &ids, err) != 0)
		goto done;
	settle_files(&m);
	if (db_backup_stop(conn, si->version_num, &m.stop_lsn, &labelfile, &spcmapfile, &m.stop_time, err) != 0)
		goto done;
	if (add_mem_file(run.writers[0], &m, "backup_label", labelfile, err) != 0 ||
		(spcmapfile[0] && add_mem_file(run.writers[0], &m, "tablespace_map", spcmapfile, err) != 0))
		goto done;
	for (int i = 0; i < nworkers; i++)
		if (bundle_writer_finish(run.writers[i], err) != 0)
			goto done;
	m.nbundles = ids.last;
	m.repo_size = ids.stored;
	manifest_sort_files(&m);
	if (await_backup_wal(cfg, repo, &m, err) != 0)
		goto done;
	if (catalog_commit_manifest(repo, &m, err) != 0)
		goto done;

	lsn_format(m.start_lsn, lsn1, sizeof(lsn1));
	lsn_format(m.stop_lsn, lsn2, sizeof(lsn2));
	log_info("%s backup %s complete: %d files, %.1f MB; stored %.1f MB in %u bundles "
			 "(%llu chunks stored, %llu as changed blocks, %llu unchanged); WAL %s to %s",
			 type, label, m.nfiles, m.size / 1048576.0, m.repo_size / 1048576.0, m.nbundles,
			 (unsigned long long) run.nstored, (unsigned long long) run.ndelta,
			 (unsigned long long) run.nref, lsn1, lsn2);
	rc = 0;
done:
	free_run(&run, nworkers);
	walk_result_free(&walk);
	manifest_free(&m);
	free(labelfile);
	free(spcmapfile);
	pthread_mutex_destroy(&ids.lock);
	return rc;
}

int
cmd_backup(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	DbConn	   *conn = NULL;
	DbServerInfo si;
	StorageLock *lock = NULL;
	Catalog		cat = {0};
	char		pgdata[PGB_PATH_MAX];
	char		label[MANIFEST_LABEL_MAX];
	const char *type;
	const Manifest *parent = NULL;
	int			rc = -1;

	if (repo == NULL)
		return -1;
	conn = cmd_connect_checked(cfg, repo, &si, err);
	if (conn == NULL)
		goto done;
	if (cmd_require_archiving_primary(&si, "backup", err) != 0)
		goto done;
	if (check_pgdata(cfg, &si, pgdata, sizeof(pgdata), err) != 0)
		goto done;
	lock = cmd_lock_backups(repo, "backup", err);
	if (lock == NULL)
		goto done;
	if (catalog_load(repo, &cat, err) != 0)
		goto done;
	cmd_warn_corrupt(&cat);
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("removing the leftovers of interrupted backup %s", cat.incomplete[i]);
	type = choose_type(cfg, &cat, &si, &parent);
	if (parent && chain_check(&cat, parent, err) != 0)
		goto done;
	if (catalog_remove_incomplete(repo, &cat, err) != 0 ||
		make_label(&cat, (char) toupper((unsigned char) type[0]), label, sizeof(label), err) != 0)
		goto done;
	rc = run_backup(cfg, repo, &cat, conn, &si, pgdata, type, parent, label, err);
	/* the backup is committed; retention failing does not undo it, but is reported */
	if (rc == 0 && cfg->expire_after_backup && expire_run(repo, cfg, err) != 0)
		rc = pgb_error_context(err, "backup %s is complete, but expire failed", label);
done:
	catalog_free(&cat);
	storage_unlock(lock);
	db_close(conn);
	repo_free(repo);
	return rc;
}
