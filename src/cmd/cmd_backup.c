/*
 * pgbkp backup: a full, non-exclusive backup of the running primary.
 *
 * Order matters for crash safety: bundles first, then the WAL the backup
 * needs is awaited and verified in the archive, and only then is the
 * manifest written, which is what makes the backup exist.  A crash at any
 * point before leaves a directory without a manifest, which is never listed
 * and which the next backup removes (under the same lock).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/bundle.h"
#include "backup/walk.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/progress.h"
#include "pg/control.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

#define LOCK_NAME "lock/backup.lock"

static void
count_bytes(void *arg, uint64_t n)
{
	progress_add((Progress *) arg, n);
}

/* A label after every existing one: YYYYMMDD-HHMMSSF in UTC, waiting out a collision. */
static int
make_label(const Catalog *cat, char *label, size_t len, PgbError *err)
{
	for (int attempt = 0; attempt < 3; attempt++)
	{
		time_t		now = time(NULL);
		struct tm	tm;
		bool		later = true;

		gmtime_r(&now, &tm);
		strftime(label, len, "%Y%m%d-%H%M%SF", &tm);
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

static int
copy_files(const WalkResult *walk, BundleWriter *bw, Manifest *m, Progress *progress, PgbError *err)
{
	for (int i = 0; i < walk->nfiles; i++)
	{
		const WalkFile *wf = &walk->files[i];
		ManifestFile *mf = manifest_add_file(m, wf->rel, err);
		bool		vanished;

		if (mf == NULL)
			return -1;
		mf->mode = wf->mode;
		mf->mtime = wf->mtime;
		if (bundle_add_file(bw, wf->full, mf, &vanished, count_bytes, progress, err) != 0)
			return -1;
		if (vanished)
		{
			/* dropped by the server while we copied: WAL replay recreates nothing of it */
			log_debug("\"%s\" disappeared during the backup", wf->full);
			free(mf->path);
			m->nfiles--;
			continue;
		}
		m->size += mf->size;
	}
	return 0;
}

static int
add_mem_file(BundleWriter *bw, Manifest *m, const char *path, const char *content, PgbError *err)
{
	ManifestFile *mf = manifest_add_file(m, path, err);

	if (mf == NULL)
		return -1;
	mf->mode = 0600;
	mf->mtime = m->stop_time / 1000000;
	if (bundle_add_mem(bw, content, strlen(content), mf, err) != 0)
		return -1;
	m->size += mf->size;
	return 0;
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

static int
run_backup(const Config *cfg, Repo *repo, DbConn *conn, const DbServerInfo *si,
		   const char *pgdata, const char *label, PgbError *err)
{
	Manifest	m;
	WalkResult	walk = {0};
	BundleWriter *bw = NULL;
	Progress   *progress = NULL;
	char	   *labelfile = NULL;
	char	   *spcmapfile = NULL;
	int			rc = -1;
	char		lsn1[32],
				lsn2[32],
				size[32];

	manifest_init(&m);
	snprintf(m.label, sizeof(m.label), "%s", label);
	snprintf(m.type, sizeof(m.type), "%s", cfg->type ? cfg->type : "full");
	m.cluster = strdup(repo->cluster);
	m.pgdata = strdup(pgdata);
	m.pgbkp_version = strdup(PACKAGE_VERSION);
	m.system_identifier = si->system_identifier;
	m.pg_version = si->version_num;
	m.wal_segment_size = si->wal_segment_size;
	m.block_size = si->block_size;
	m.compress_level = cfg->compress_level;
	if (m.cluster == NULL || m.pgdata == NULL || m.pgbkp_version == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}

	log_info("starting backup %s of \"%s\"%s", label, pgdata, cfg->start_fast ? " (immediate checkpoint)" : "");
	if (db_backup_start(conn, si->version_num, label, cfg->start_fast,
						&m.start_lsn, &m.timeline, &m.start_time, err) != 0)
		goto done;
	if (walk_data_dir(pgdata, &m, &walk, err) != 0)
		goto done;
	bw = bundle_writer_new(repo, label, cfg->compress_level, (uint64_t) cfg->bundle_size << 20, err);
	if (bw == NULL)
		goto done;
	progress = progress_new("backup", walk.total_bytes, cfg->progress);
	if (copy_files(&walk, bw, &m, progress, err) != 0)
		goto done;
	progress_done(progress);
	progress = NULL;
	if (db_backup_stop(conn, si->version_num, &m.stop_lsn, &labelfile, &spcmapfile, &m.stop_time, err) != 0)
		goto done;
	if (add_mem_file(bw, &m, "backup_label", labelfile, err) != 0 ||
		(spcmapfile[0] && add_mem_file(bw, &m, "tablespace_map", spcmapfile, err) != 0))
		goto done;
	if (bundle_writer_finish(bw, &m.nbundles, &m.repo_size, err) != 0)
		goto done;
	if (await_backup_wal(cfg, repo, &m, err) != 0)
		goto done;
	if (catalog_commit_manifest(repo, &m, err) != 0)
		goto done;

	lsn_format(m.start_lsn, lsn1, sizeof(lsn1));
	lsn_format(m.stop_lsn, lsn2, sizeof(lsn2));
	snprintf(size, sizeof(size), "%.1f MB", m.size / 1048576.0);
	log_info("backup %s complete: %d files, %s, stored %.1f MB in %u bundles, WAL %s to %s",
			 label, m.nfiles, size, m.repo_size / 1048576.0, m.nbundles, lsn1, lsn2);
	rc = 0;
done:
	progress_done(progress);
	bundle_writer_free(bw);
	walk_result_free(&walk);
	manifest_free(&m);
	free(labelfile);
	free(spcmapfile);
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
	char		holder[512];
	char		lockpath[PGB_PATH_MAX];
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
	cmd_holder_text(holder, sizeof(holder), "backup");
	repo_path(repo, lockpath, LOCK_NAME);
	lock = storage_lock(repo->storage, lockpath, holder, err);
	if (lock == NULL)
		goto done;
	if (catalog_load(repo, &cat, err) != 0)
		goto done;
	cmd_warn_corrupt(&cat);
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("removing the leftovers of interrupted backup %s", cat.incomplete[i]);
	if (catalog_remove_incomplete(repo, &cat, err) != 0 ||
		make_label(&cat, label, sizeof(label), err) != 0)
		goto done;
	rc = run_backup(cfg, repo, conn, &si, pgdata, label, err);
done:
	catalog_free(&cat);
	storage_unlock(lock);
	db_close(conn);
	repo_free(repo);
	return rc;
}
