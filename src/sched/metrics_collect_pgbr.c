/*
 * The metrics of a pgBackRest repository (see metrics_collect.h): the same
 * MetricsRepo pgbkp's own repositories fill, from `pgbackrest info` (its
 * status, backup lock, backups and archive ranges), the time pgBackRest
 * stored the newest segment (repo-ls) and the recoverable window
 * (pgbackrest/window.h), so that both the pgbkp_* and the pgbackrest_*
 * families describe it.  What pgBackRest does not say is estimated or left
 * out: the archived segment count comes from the first and last segment
 * names of each archive range (16 MiB segments), a backup's page errors
 * count as one bad page, and there are no drill records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgbackrest/archtime.h"
#include "pgbackrest/info.h"
#include "pgbackrest/window.h"
#include "sched/metrics_collect.h"

/* Segments from first to last (names of one timeline: log * 256 + segment, 16 MiB segments). */
static int
range_segments(const char *first, const char *last)
{
	unsigned	tli,
				log1,
				seg1,
				log2,
				seg2;
	long		n;

	if (sscanf(first, "%8x%8x%8x", &tli, &log1, &seg1) != 3 || sscanf(last, "%8x%8x%8x", &tli, &log2, &seg2) != 3)
		return 0;
	n = ((long) log2 * 256 + seg2) - ((long) log1 * 256 + seg1) + 1;

	return n > 0 ? (int) n : 1;
}

static void
backup_row(const PgbrInfo *info, const PgbrBackup *p, MetricsRepoBackup *b)
{
	const PgbrDb *db = pgbr_info_db(info, p->db_id);

	memset(b, 0, sizeof(*b));
	snprintf(b->label, sizeof(b->label), "%s", p->label);
	snprintf(b->type, sizeof(b->type), "%.7s", p->type);
	snprintf(b->prior, sizeof(b->prior), "%s", p->prior);
	snprintf(b->version, sizeof(b->version), "%s", p->version);
	b->pg_version = db ? db->pg_major * 10000 : 0;
	lsn_format(p->start_lsn, b->lsn_start, sizeof(b->lsn_start));
	lsn_format(p->stop_lsn, b->lsn_stop, sizeof(b->lsn_stop));
	snprintf(b->wal_start, sizeof(b->wal_start), "%s", p->wal_start);
	snprintf(b->wal_stop, sizeof(b->wal_stop), "%s", p->wal_stop);
	b->start_time = (double) p->start_time / 1e6;
	b->stop_time = (double) p->stop_time / 1e6;
	b->duration = p->stop_time > p->start_time ? (double) (p->stop_time - p->start_time) / 1e6 : 0;
	b->size = p->size;
	b->delta = p->delta;
	b->repo_size = p->repo_size;
	b->repo_delta = p->repo_delta;
	b->error = p->error || !pgbr_backup_restorable(info, p);
}

/* The pgbkp_* values without a repository label, when this is the first repository. */
static void
first_repository(const RepoDef *def, const char *cluster, const PgbrInfo *info, MetricsSnapshot *s)
{
	PgbrWindow	w[PGBR_DB_MAX];
	int			nw = 0;
	PgbError	err = {0};

	s->backups_count = info->nbackups;
	for (int i = 0; i < info->nbackups; i++)
	{
		const PgbrBackup *b = &info->backups[i];

		metrics_note_backup(s, b->type, b->start_time, b->stop_time, b->size, b->repo_delta);
	}
	/* the window that ends in a transaction, as status shows it; unknown: left out */
	if (pgbr_windows(def, cluster, info, false, w, PGBR_DB_MAX, &nw, &err) == 0)
		for (int k = 0; k < nw; k++)
			if (w[k].has_commit && w[k].first != NULL)
			{
				s->recoverable_start = (double) w[k].start / 1e6;
				s->recoverable_end = (double) w[k].last_commit / 1e6;
			}
}

void
metrics_collect_pgbr(const Config *cfg, int index, MetricsRepo *r, MetricsSnapshot *s)
{
	const RepoDef *def = &cfg->repos[index];
	PgbError	err = {0};
	PgbrInfo	info;
	PgbrArchived a;

	if (pgbr_info_load(def, cfg->cluster, &info, &err) != 0)
	{
		r->status = err.code == EXIT_CORRUPT ? METRICS_REPO_BAD_DATA : METRICS_REPO_OTHER;
		snprintf(r->error, sizeof(r->error), "%s", err.msg);
		return;
	}
	/* pgbackrest_exporter's status codes are pgBackRest's own */
	r->status = info.status_code == 0 || info.status_code == 2 ? (info.nbackups > 0 ? METRICS_REPO_OK :
																   METRICS_REPO_NO_BACKUPS) :
		info.status_code == 1 ? METRICS_REPO_MISSING : info.status_code == 3 ? METRICS_REPO_BAD_DATA :
		METRICS_REPO_OTHER;
	if (r->status == METRICS_REPO_OTHER || r->status == METRICS_REPO_MISSING || r->status == METRICS_REPO_BAD_DATA)
		snprintf(r->error, sizeof(r->error), "pgBackRest: %s", info.status_message);
	r->locked = info.backup_lock ? 1 : 0;
	r->encrypted = info.cipher[0] && strcmp(info.cipher, "none") != 0;
	if (info.ndb > 0)
	{
		r->system_identifier = info.db[info.ndb - 1].system_id;
		r->pg_version = info.db[info.ndb - 1].pg_major * 10000;
	}
	for (int i = 0; i < info.narchive; i++)
		if (info.archive[i].min[0])
			r->nsegments += range_segments(info.archive[i].min, info.archive[i].max);
	if (r->nsegments > 0 && pgbr_newest_archived(def, cfg->cluster, &info, &a, &err) == 0)
		r->wal_last_time = (double) a.time;
	if (info.nbackups > 0 && (r->backups = calloc((size_t) info.nbackups, sizeof(MetricsRepoBackup))) == NULL)
	{
		r->status = METRICS_REPO_OTHER;
		snprintf(r->error, sizeof(r->error), "out of memory");
	}
	else
	{
		r->nbackups = info.nbackups;
		r->newest_bad_pages = info.nbackups > 0 && info.backups[info.nbackups - 1].error ? 1 : 0;
		for (int i = 0; i < info.nbackups; i++)
		{
			backup_row(&info, &info.backups[i], &r->backups[i]);
			r->stored_bytes += info.backups[i].repo_delta;
		}
		if (index == 0)
			first_repository(def, cfg->cluster, &info, s);
	}
	pgbr_info_free(&info);
}
