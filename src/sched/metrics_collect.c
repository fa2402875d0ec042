/*
 * Reading the repositories and the server for the metrics endpoint (see
 * metrics_collect.h).  One pass over a repository loads its catalogue and
 * WAL listing once and derives every per-backup value from the manifests:
 * no bundle is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/chain.h"
#include "repo/drillrec.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"
#include "restore/plan.h"
#include "sched/metrics_collect.h"

static const char *const backup_types[3] = {"full", "diff", "incr"};

static int
status_of_error(int code)
{
	if (code == EXIT_NOT_FOUND)
		return METRICS_REPO_MISSING;
	if (code == EXIT_CORRUPT)
		return METRICS_REPO_BAD_DATA;
	return METRICS_REPO_OTHER;
}

/* Stored bytes of m and of every backup it builds on (a missing one counts 0). */
static uint64_t
set_stored_bytes(const Catalog *cat, const Manifest *m)
{
	uint64_t	total = 0;

	/* at most one step per backup: a damaged catalogue cannot loop */
	for (int depth = 0; m != NULL && depth <= cat->count; depth++)
	{
		total += m->repo_size;
		m = chain_parent(cat, m);
	}
	return total;
}

static void
backup_row(const Catalog *cat, const WalList *wal, const Manifest *m, MetricsRepoBackup *b)
{
	BackupWindow w;
	PgbError	err = {0};
	bool		maps = false;

	memset(b, 0, sizeof(*b));
	snprintf(b->label, sizeof(b->label), "%s", m->label);
	snprintf(b->type, sizeof(b->type), "%.7s", m->type);
	snprintf(b->prior, sizeof(b->prior), "%s", m->parent);
	snprintf(b->version, sizeof(b->version), "%s", m->pgbkp_version ? m->pgbkp_version : "");
	b->pg_version = m->pg_version;
	lsn_format(m->start_lsn, b->lsn_start, sizeof(b->lsn_start));
	lsn_format(m->stop_lsn, b->lsn_stop, sizeof(b->lsn_stop));
	manifest_wal_range(m, b->wal_start, b->wal_stop);
	b->start_time = (double) m->start_time / 1e6;
	b->stop_time = (double) m->stop_time / 1e6;
	b->duration = m->stop_time > m->start_time ? (double) (m->stop_time - m->start_time) / 1e6 : 0;
	b->size = m->size;
	b->repo_delta = m->repo_size;
	b->repo_size = set_stored_bytes(cat, m);
	for (int i = 0; i < m->nfiles; i++)
		for (int c = 0; c < m->files[i].nchunks; c++)
		{
			const ManifestChunk *ch = &m->files[i].chunks[c];

			if (ch->kind != CHUNK_REF)
				b->delta += ch->size;
			if (ch->map_bundle != 0)
				maps = true;
		}
	b->block_incr = maps && strcmp(m->type, "full") != 0;
	plan_backup_window(m, wal, &w);
	b->error = !w.wal_complete || chain_check(cat, m, &err) != 0;
}

void
metrics_note_backup(MetricsSnapshot *s, const char *type, TimestampUs start, TimestampUs stop, uint64_t size,
					uint64_t stored)
{
	s->repo_size_bytes += stored;
	for (int t = 0; t < 3; t++)
		if (strcmp(type, backup_types[t]) == 0)
		{
			s->backups[t].present = 1;
			s->backups[t].last_end = (double) stop / 1e6;
			s->backups[t].last_duration = (double) (stop - start) / 1e6;
			s->backups[t].last_size = size;
			s->backups[t].last_stored = stored;
		}
}

/* The pgbkp_* values without a repository label, from the first repository. */
static void
first_repository(const Catalog *cat, const WalList *wal, MetricsSnapshot *s)
{
	TimestampUs a,
				b;

	s->backups_count = cat->count;
	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *m = &cat->backups[i];

		metrics_note_backup(s, m->type, m->start_time, m->stop_time, m->size, m->repo_size);
	}
	if (plan_cluster_window(cat, wal, &a, &b))
	{
		s->recoverable_start = (double) a / 1e6;
		s->recoverable_end = (double) b / 1e6;
	}
}

static void
collect_one(const Config *cfg, int index, MetricsRepo *r, MetricsSnapshot *s)
{
	const RepoDef *def = &cfg->repos[index];
	PgbError	err = {0};
	Repo	   *repo;
	Catalog		cat = {0};
	WalList		wal = {0};
	char		holder[256];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", def->name);
	r->key = def->position > 0 ? def->position : index + 1;
	r->encrypted = def->encrypted;
	r->locked = -1;
	if (def->type == REPO_TYPE_PGBACKREST)
	{
		metrics_collect_pgbr(cfg, index, r, s);
		return;
	}
	if ((repo = repo_open(def, cfg->cluster, &err)) == NULL)
	{
		r->status = status_of_error(err.code);
		snprintf(r->error, sizeof(r->error), "%s", err.msg);
		return;
	}
	r->encrypted = repo->encrypted;
	r->system_identifier = repo->info.system_identifier;
	r->pg_version = repo->info.pg_version;
	switch (repo_backup_lock_probe(repo, holder, sizeof(holder), &err))
	{
		case 1:
			r->locked = 1;
			break;
		case 0:
			r->locked = 0;
			break;
		default:
			pgb_error_clear(&err);	/* unknown: the lock series is left out */
			break;
	}
	if (catalog_load(repo, &cat, &err) != 0 || wal_list(repo, &wal, &err) != 0)
	{
		r->status = METRICS_REPO_OTHER;
		snprintf(r->error, sizeof(r->error), "%s", err.msg);
	}
	else
	{
		DrillRecord dr;
		PgbError	derr = {0};

		if (drillrec_latest(repo, &dr, &derr) == 1)
		{
			r->drill_known = true;
			r->drill_passed = dr.passed;
			r->drill_time = (double) dr.started / 1e6;
			r->drill_restore_seconds = dr.restore_seconds;
			r->drill_recovery_seconds = dr.recovery_seconds;
			r->drill_checks_seconds = dr.checks_seconds;
		}
		r->nsegments = wal.nsegments;
		{
			TimeLineID	tli;
			Lsn			end;
			PgbError	serr = {0};

			if (walstream_stored_end(repo, &wal, &tli, &end, &serr) == 0)
				r->wal_stored_lsn = end;
		}
		for (int i = 0; i < wal.nsegments; i++)
			if ((double) wal.segments[i].mtime > r->wal_last_time)
				r->wal_last_time = (double) wal.segments[i].mtime;
		if (cat.count > 0 && (r->backups = calloc((size_t) cat.count, sizeof(MetricsRepoBackup))) == NULL)
		{
			r->status = METRICS_REPO_OTHER;
			snprintf(r->error, sizeof(r->error), "out of memory");
		}
		else
		{
			r->nbackups = cat.count;
			r->newest_bad_pages = cat.count > 0 ? cat.backups[cat.count - 1].bad_pages : 0;
			for (int i = 0; i < cat.count; i++)
			{
				backup_row(&cat, &wal, &cat.backups[i], &r->backups[i]);
				r->stored_bytes += cat.backups[i].repo_size;
			}
			r->status = cat.count > 0 ? METRICS_REPO_OK : METRICS_REPO_NO_BACKUPS;
			if (index == 0)
				first_repository(&cat, &wal, s);
		}
	}
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
}

void
metrics_collect_repositories(const Config *cfg, MetricsSnapshot *s)
{
	metrics_snapshot_clear(s);
	memset(s->backups, 0, sizeof(s->backups));
	for (int t = 0; t < 3; t++)
		snprintf(s->backups[t].type, sizeof(s->backups[t].type), "%s", backup_types[t]);
	s->backups_count = 0;
	s->repo_size_bytes = 0;
	s->recoverable_start = s->recoverable_end = 0;
	for (int i = 0; i < cfg->nrepos && i < METRICS_MAX_REPOS; i++)
	{
		collect_one(cfg, i, &s->repos[i], s);
		s->nrepos = i + 1;
	}
}

void
metrics_collect_stream(const Config *cfg, DbConn *conn, MetricsSnapshot *s)
{
	DbStreamStatus st;
	PgbError	err = {0};

	s->stream_known = false;
	if (conn == NULL || db_stream_status(conn, cfg->stream_slot, &st, &err) != 0)
		return;
	if (st.in_recovery)
		return;					/* a standby: the stream is the primary's to report */
	if (!st.slot_exists && !st.connected && !cfg->stream)
		return;					/* pgbkp stream is not in use here */
	s->stream_known = true;
	s->stream_connected = st.connected;
	s->stream_slot_active = st.slot_active;
	s->stream_synchronous = strcmp(st.sync_state, "sync") == 0 || strcmp(st.sync_state, "quorum") == 0;
	s->stream_flushed_lsn = st.has_flushed ? st.flushed : 0;
	s->stream_lag_bytes = st.lag_bytes;
	s->stream_lag_seconds = st.lag_seconds;
}

int
metrics_collect_archiver(DbConn *conn, MetricsSnapshot *s, PgbError *err)
{
	DbMemberStatus st;

	if (db_member_status(conn, &st, err) != 0)
		return -1;
	s->last_archived_time = (double) st.last_archived_time / 1e6;
	s->archive_failures = (uint64_t) st.failed_count;
	s->archived_count = (uint64_t) st.archived_count;
	return 0;
}
