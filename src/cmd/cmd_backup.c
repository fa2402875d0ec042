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
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/chain.h"
#include "backup/copy.h"
#include "backup/walk.h"
#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/workers.h"
#include "pg/control.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

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

/*
 * archive_mode is off but pgbkp stream receives the WAL (its slot is in use
 * now): the backup's WAL reaches the repository that way, and waiting for it
 * below proves it did.
 */
static bool
streamed(const Config *cfg, DbConn *conn, const DbServerInfo *si)
{
	bool		active = false;
	PgbError	e = {0};

	if (si->in_recovery || strcmp(si->archive_mode, "off") != 0 || cfg->stream_slot == NULL ||
		db_slot_active(conn, cfg->stream_slot, &active, &e) != 0 || !active)
		return false;
	log_info("archive_mode is off; the backup's WAL comes through pgbkp stream (replication slot \"%s\" is in use)",
			 cfg->stream_slot);
	return true;
}

/* backup_standby prefer|require: the data files may be read from a replica. */
static bool
standby_allowed(const Config *cfg)
{
	return cfg->backup_standby && strcmp(cfg->backup_standby, "off") != 0;
}

/*
 * A backup read from a standby ends at a position the primary may still be
 * writing: switch WAL there (when that segment is still its current one) so
 * it is archived now rather than at archive_timeout.  A primary that cannot
 * be reached only makes the wait longer: a warning.
 */
static void
switch_primary_wal(const Config *cfg, Lsn stop, uint64_t segment_size)
{
	PgbError	e = {0};
	int			primary;
	DbParams	p = {0};
	DbConn	   *c;
	DbTable		t = {0};
	Lsn			current;

	if (cfg->nmembers == 0 || cluster_find_primary(cfg, NULL, &primary, &e) != 0)
	{
		log_warn("the primary could not be found to switch WAL (%s): waiting for it to archive the backup's last segment",
				 e.code ? e.msg : "no cluster members");
		return;
	}
	p.host = cfg->members[primary].pg_host ? cfg->members[primary].pg_host : cfg->members[primary].addr;
	p.port = cfg->members[primary].pg_port;
	p.user = cfg->pg_user;
	p.dbname = cfg->pg_database;
	p.connect_timeout = cfg->member_timeout;
	if ((c = db_connect(&p, &e)) == NULL ||
		db_query_table(c, "SELECT pg_current_wal_lsn()::text", &t, &e) != 0 ||
		lsn_parse(db_table_cell(&t, 0, 0), &current, &e) != 0 ||
		(lsn_to_segno(current, segment_size) == lsn_to_segno(stop, segment_size) &&
		 (db_table_free(&t), db_query_table(c, "SELECT pg_switch_wal()::text", &t, &e)) != 0))
		log_warn("could not switch WAL on the primary %s (%s): waiting for it to archive the backup's last segment",
				 cfg->members[primary].name, e.msg);
	db_table_free(&t);
	db_close(c);
}

/* What does not stop a backup is logged as a warning. */
static void
warn(const char *msg)
{
	log_warn("%s", msg);
}

static int
run_backup(const Config *cfg, Repo *repo, const Catalog *cat, DbConn *conn, const DbServerInfo *si,
		   const char *pgdata, const char *type, const Manifest *parent, const char *label, PgbError *err)
{
	Manifest	m;
	WalkResult	walk = {0};
	BackupCopy	run = {0};
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
	m.source_role = strdup(si->in_recovery ? "standby" : "primary");
	if (cfg->self >= 0)
		m.source_member = strdup(cfg->members[cfg->self].name);
	if (m.cluster == NULL || m.pgdata == NULL || m.pgbkp_version == NULL || m.source_role == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	run.store = (BackupStore) {repo, cat, si->block_size, si->data_checksums, 0};
	run.m = &m;
	run.walk = &walk;
	run.nworkers = nworkers;
	run.level = cfg->compress_level;
	run.bundle_bytes = (uint64_t) cfg->repos[cfg->repo_current].bundle_size << 20;
	run.progress = cfg->progress;
	run.warn = warn;

	log_info("starting %s backup %s of \"%s\"%s%s%s%s, %d worker%s", type, label, pgdata,
			 si->in_recovery ? " (a standby)" : "", parent ? " on " : "", parent ? parent->label : "",
			 cfg->start_fast ? " (immediate checkpoint)" : "", nworkers, nworkers == 1 ? "" : "s");
	/*
	 * Before the backup starts: the scratch file of the records written
	 * aside, and the parent chain, read alongside the copy in path order
	 * rather than held.
	 */
	if (backup_copy_begin(&run, err) != 0 ||
		(parent && (run.parents = parent_stream_open(repo, cat, parent, "global/pg_control", err)) == NULL))
		goto done;
	if (db_backup_start(conn, si->version_num, label, cfg->start_fast,
						&m.start_lsn, &m.timeline, &m.start_time, err) != 0)
		goto done;
	run.store.start_lsn = m.start_lsn;	/* pages written from here on are not checked */
	if (walk_data_dir(pgdata, &m, &walk, err) != 0 ||
		backup_copy(&run, &ids, err) != 0)
		goto done;
	parent_stream_free(run.parents);
	run.parents = NULL;
	if (db_backup_stop(conn, si->version_num, &m.stop_lsn, &labelfile, &spcmapfile, &m.stop_time, err) != 0)
		goto done;
	if (si->in_recovery)
		switch_primary_wal(cfg, m.stop_lsn, si->wal_segment_size);
	if (store_mem_file(run.workers[0].bw, &m, "backup_label", labelfile, err) != 0 ||
		(spcmapfile[0] && store_mem_file(run.workers[0].bw, &m, "tablespace_map", spcmapfile, err) != 0))
		goto done;
	for (int i = 0; i < nworkers; i++)
		if (bundle_writer_finish(run.workers[i].bw, err) != 0)
			goto done;
	backup_copy_free(&run);		/* its compression contexts are not needed for the manifest */
	m.nbundles = ids.last;
	m.repo_size = ids.stored;
	m.pages_checked = run.pages_checked;
	m.bad_pages = run.bad_pages;
	if (run.bad_pages > 0 && (m.bad_pages_at = strdup(run.bad_pages_at)) == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	manifest_sort_files(&m);	/* pg_control, backup_label, tablespace_map */
	if (await_backup_wal(cfg, repo, &m, err) != 0)
		goto done;
	if (catalog_commit_manifest(repo, &m, filespill_write, run.spill, err) != 0)
		goto done;

	lsn_format(m.start_lsn, lsn1, sizeof(lsn1));
	lsn_format(m.stop_lsn, lsn2, sizeof(lsn2));
	log_info("%s backup %s complete: %d files, %.1f MB; stored %.1f MB in %u bundles "
			 "(%llu chunks stored, %llu as changed blocks, %llu unchanged); WAL %s to %s",
			 type, label, backup_copy_nfiles(&run), m.size / 1048576.0, m.repo_size / 1048576.0, m.nbundles,
			 (unsigned long long) run.nstored, (unsigned long long) run.ndelta,
			 (unsigned long long) run.nref, lsn1, lsn2);
	if (si->data_checksums)
		log_info("data checksums: %llu pages verified, %llu failed", (unsigned long long) run.pages_checked,
				 (unsigned long long) run.bad_pages);
	if (run.bad_pages > 0)
	{
		pgb_error(err, EXIT_BAD_PAGES, "backup %s is complete and kept, but %llu page%s failed %s data checksum: %s",
				  label, (unsigned long long) run.bad_pages, run.bad_pages == 1 ? "" : "s",
				  run.bad_pages == 1 ? "its" : "their", run.bad_pages_at);
		pgb_hint(err, "the database has damaged pages (PATH:BLOCK); pg_amcheck or \"pgbkp drill\" name the relations; an older backup may hold good copies");
		goto done;
	}
	rc = 0;
done:
	backup_copy_free(&run);
	filespill_free(run.spill);
	parent_stream_free(run.parents);
	manifest_free(&m);
	free(labelfile);
	free(spcmapfile);
	pthread_mutex_destroy(&ids.lock);
	return rc;
}

int
cmd_backup(const Config *cfg, PgbError *err)
{
	Repo	   *repo;
	DbConn	   *conn = NULL;
	DbServerInfo si;
	StorageLock *lock = NULL;
	Catalog		cat = {0};
	char		pgdata[PGB_PATH_MAX];
	char		label[MANIFEST_LABEL_MAX];
	const char *type;
	const Manifest *parent = NULL;
	int			ntemps;
	int			rc = -1;

	if (pgbr_is_repo(cfg, cfg->repo_current))
		return cmd_pgbr_backup(cfg, err);
	if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	conn = cmd_connect_checked(cfg, repo, &si, err);
	if (conn == NULL)
		goto done;
	if (!(si.in_recovery && standby_allowed(cfg)) && !streamed(cfg, conn, &si) &&
		cmd_require_archiving_primary(&si, "backup", err) != 0)
		goto done;
	if (check_pgdata(cfg, &si, pgdata, sizeof(pgdata), err) != 0)
		goto done;
	lock = cmd_lock_backups(repo, "backup", err);
	if (lock == NULL)
		goto done;
	if (catalog_load_headers(repo, &cat, err) != 0)
		goto done;
	cmd_warn_corrupt(&cat);
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("removing the leftovers of interrupted backup %s", cat.incomplete[i]);
	if ((ntemps = storage_clean_temps(repo->storage, "", true)) > 0)
		log_info("removed %d %s that writers which no longer run left in the repository",
				 ntemps, ntemps == 1 ? "leftover (a temporary file or an unfinished S3 upload)" :
				 "leftovers (temporary files or unfinished S3 uploads)");
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
