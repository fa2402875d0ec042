/*
 * The pgbkp_* families of the metrics endpoint (see metrics.h for the
 * list), the snapshot's copy and release, and metrics_render, which writes
 * the pgbkp_* families and then the pgbackrest_* ones (metrics_pgbr.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/metrics.h"

/* ------------------------------------------------------------ snapshot */

void
metrics_snapshot_clear(MetricsSnapshot *s)
{
	for (int i = 0; i < s->nrepos && i < METRICS_MAX_REPOS; i++)
	{
		free(s->repos[i].backups);
		s->repos[i].backups = NULL;
		s->repos[i].nbackups = 0;
	}
	s->nrepos = 0;
}

int
metrics_snapshot_copy(MetricsSnapshot *dst, const MetricsSnapshot *src)
{
	*dst = *src;
	for (int i = 0; i < dst->nrepos; i++)
		dst->repos[i].backups = NULL;
	for (int i = 0; i < src->nrepos; i++)
	{
		size_t		n = (size_t) src->repos[i].nbackups;

		if (n == 0)
			continue;
		dst->repos[i].backups = malloc(n * sizeof(MetricsRepoBackup));
		if (dst->repos[i].backups == NULL)
		{
			metrics_snapshot_clear(dst);
			return -1;
		}
		memcpy(dst->repos[i].backups, src->repos[i].backups, n * sizeof(MetricsRepoBackup));
	}
	return 0;
}

/* ------------------------------------------------------------ rendering */

/* cluster and node, the labels of every pgbkp_* sample. */
static void
base_labels(const MetricsSnapshot *s, PromLabels *l)
{
	char		cluster[sizeof(s->cluster) + 1];
	char		node[sizeof(s->instance) + 1];

	/* the fields may be full arrays without a terminator */
	memcpy(cluster, s->cluster, sizeof(s->cluster));
	cluster[sizeof(s->cluster)] = '\0';
	memcpy(node, s->instance, sizeof(s->instance));
	node[sizeof(s->instance)] = '\0';
	prom_labels_init(l);
	prom_label(l, "cluster", cluster);
	prom_label(l, "node", node);
}

typedef enum BackupField
{
	BF_END,
	BF_DURATION,
	BF_SIZE,
	BF_STORED
} BackupField;

static void
backup_family(PromText *w, const MetricsSnapshot *s, const char *name, const char *help, BackupField f)
{
	prom_family(w, name, "gauge", help);
	for (int i = 0; i < 3; i++)
	{
		const MetricsBackup *b = &s->backups[i];
		char		type[sizeof(b->type) + 1];
		PromLabels	l;

		if (!b->present || b->type[0] == '\0' || (f == BF_END && b->last_end <= 0))
			continue;
		memcpy(type, b->type, sizeof(b->type));
		type[sizeof(b->type)] = '\0';
		base_labels(s, &l);
		prom_label(&l, "type", type);
		switch (f)
		{
			case BF_END:
				prom_sample(w, name, &l, b->last_end);
				break;
			case BF_DURATION:
				prom_sample(w, name, &l, b->last_duration);
				break;
			case BF_SIZE:
				prom_sample_u64(w, name, &l, b->last_size);
				break;
			case BF_STORED:
				prom_sample_u64(w, name, &l, b->last_stored);
				break;
		}
	}
}

typedef enum JobField
{
	JF_SUCCESS,
	JF_END,
	JF_DURATION,
	JF_RUNNING
} JobField;

static void
job_family(PromText *w, const MetricsSnapshot *s, int njobs, const char *name, const char *help, JobField f)
{
	prom_family(w, name, "gauge", help);
	for (int i = 0; i < njobs; i++)
	{
		const MetricsJob *j = &s->jobs[i];
		char		job[sizeof(j->job) + 1];
		PromLabels	l;

		if ((f == JF_SUCCESS && j->last_ok < 0) || ((f == JF_END || f == JF_DURATION) && j->last_end <= 0))
			continue;
		memcpy(job, j->job, sizeof(j->job));
		job[sizeof(j->job)] = '\0';
		base_labels(s, &l);
		prom_label(&l, "job_name", job);
		switch (f)
		{
			case JF_SUCCESS:
				prom_sample(w, name, &l, j->last_ok ? 1 : 0);
				break;
			case JF_END:
				prom_sample(w, name, &l, j->last_end);
				break;
			case JF_DURATION:
				prom_sample(w, name, &l, j->last_duration);
				break;
			case JF_RUNNING:
				prom_sample(w, name, &l, j->running ? 1 : 0);
				break;
		}
	}
}

static void
job_runs(PromText *w, const MetricsSnapshot *s, int njobs)
{
	static const char *const outcomes[3] = {"ok", "failed", "skipped"};

	prom_family(w, "pgbkp_job_runs_total", "counter", "Runs of the job since the scheduler started, by outcome.");
	for (int i = 0; i < njobs; i++)
	{
		const MetricsJob *j = &s->jobs[i];
		const uint64_t counts[3] = {j->runs_ok, j->runs_failed, j->runs_skipped};
		char		job[sizeof(j->job) + 1];

		memcpy(job, j->job, sizeof(j->job));
		job[sizeof(j->job)] = '\0';
		for (int k = 0; k < 3; k++)
		{
			PromLabels	l;

			base_labels(s, &l);
			prom_label(&l, "job_name", job);
			prom_label(&l, "outcome", outcomes[k]);
			prom_sample_u64(w, "pgbkp_job_runs_total", &l, counts[k]);
		}
	}
}

typedef enum RepoField
{
	RF_STATUS,
	RF_BACKUPS,
	RF_STORED,
	RF_LOCK,
	RF_WAL_SEGMENTS,
	RF_WAL_LAST,
	RF_BAD_PAGES,
	RF_WAL_STORED_LSN,
	RF_DRILL_TIME,				/* the drill's fields last: they need drill_known */
	RF_DRILL_SUCCESS,
	RF_DRILL_RTO,
	RF_DRILL_RESTORE,
	RF_DRILL_RECOVERY,
	RF_DRILL_CHECKS
} RepoField;

static void
repo_family(PromText *w, const MetricsSnapshot *s, const char *name, const char *help, RepoField f)
{
	prom_family(w, name, "gauge", help);
	for (int i = 0; i < s->nrepos && i < METRICS_MAX_REPOS; i++)
	{
		const MetricsRepo *r = &s->repos[i];
		char		repo[sizeof(r->name) + 1];
		char		key[16];
		PromLabels	l;

		if (f == RF_WAL_LAST && r->wal_last_time <= 0)
			continue;
		if (f >= RF_DRILL_TIME && !r->drill_known)
			continue;
		if ((f == RF_BACKUPS || f == RF_STORED || f == RF_WAL_SEGMENTS || f == RF_WAL_LAST || f == RF_BAD_PAGES) &&
			r->status != METRICS_REPO_OK &&
			r->status != METRICS_REPO_NO_BACKUPS)
			continue;			/* unknown */
		if (f == RF_LOCK && r->locked < 0)
			continue;
		if (f == RF_WAL_STORED_LSN && r->wal_stored_lsn == 0)
			continue;
		memcpy(repo, r->name, sizeof(r->name));
		repo[sizeof(r->name)] = '\0';
		snprintf(key, sizeof(key), "%d", r->key);
		base_labels(s, &l);
		prom_label(&l, "repo", repo);
		prom_label(&l, "repo_key", key);
		switch (f)
		{
			case RF_STATUS:
				prom_sample(w, name, &l, r->status);
				break;
			case RF_BACKUPS:
				prom_sample(w, name, &l, r->nbackups);
				break;
			case RF_STORED:
				prom_sample_u64(w, name, &l, r->stored_bytes);
				break;
			case RF_LOCK:
				prom_sample(w, name, &l, r->locked);
				break;
			case RF_WAL_SEGMENTS:
				prom_sample(w, name, &l, r->nsegments);
				break;
			case RF_WAL_LAST:
				prom_sample(w, name, &l, r->wal_last_time);
				break;
			case RF_BAD_PAGES:
				prom_sample_u64(w, name, &l, r->newest_bad_pages);
				break;
			case RF_DRILL_TIME:
				prom_sample(w, name, &l, r->drill_time);
				break;
			case RF_DRILL_SUCCESS:
				prom_sample(w, name, &l, r->drill_passed ? 1 : 0);
				break;
			case RF_DRILL_RTO:
				prom_sample(w, name, &l, r->drill_restore_seconds + r->drill_recovery_seconds + r->drill_checks_seconds);
				break;
			case RF_DRILL_RESTORE:
				prom_sample(w, name, &l, r->drill_restore_seconds);
				break;
			case RF_DRILL_RECOVERY:
				prom_sample(w, name, &l, r->drill_recovery_seconds);
				break;
			case RF_DRILL_CHECKS:
				prom_sample(w, name, &l, r->drill_checks_seconds);
				break;
			case RF_WAL_STORED_LSN:
				prom_sample_u64(w, name, &l, r->wal_stored_lsn);
				break;
		}
	}
}

/* A gauge or counter without labels of its own; left out when !known. */
static void
scalar(PromText *w, const MetricsSnapshot *s, const char *name, const char *type, const char *help,
	   bool known, double v)
{
	PromLabels	l;

	prom_family(w, name, type, help);
	if (!known)
		return;
	base_labels(s, &l);
	prom_sample(w, name, &l, v);
}

static void
scalar_u64(PromText *w, const MetricsSnapshot *s, const char *name, const char *type, const char *help,
		   bool known, uint64_t v)
{
	PromLabels	l;

	prom_family(w, name, type, help);
	if (!known)
		return;
	base_labels(s, &l);
	prom_sample_u64(w, name, &l, v);
}

/* pgbkp stream as the primary sees it; samples only where it is in use (metrics.h). */
static void
stream_families(PromText *w, const MetricsSnapshot *s)
{
	bool		k = s->stream_known;

	scalar(w, s, "pgbkp_stream_connected", "gauge", "1 while a pgbkp stream receives WAL from the primary.",
		   k, s->stream_connected ? 1 : 0);
	scalar(w, s, "pgbkp_stream_slot_active", "gauge", "1 while the stream's replication slot is in use.",
		   k, s->stream_slot_active ? 1 : 0);
	scalar(w, s, "pgbkp_stream_synchronous", "gauge",
		   "1 when the primary counts pgbkp stream as a synchronous standby (sync or quorum).",
		   k, s->stream_synchronous ? 1 : 0);
	scalar_u64(w, s, "pgbkp_stream_flushed_lsn", "gauge",
			   "The durable WAL position pgbkp stream reported, as a byte position (an LSN as a number).",
			   k && s->stream_flushed_lsn != 0, s->stream_flushed_lsn);
	scalar(w, s, "pgbkp_stream_lag_bytes", "gauge", "Bytes of WAL the primary has written beyond the stream's durable position.",
		   k && s->stream_lag_bytes >= 0, (double) s->stream_lag_bytes);
	scalar(w, s, "pgbkp_stream_lag_seconds", "gauge",
		   "The primary's flush lag for pgbkp stream, in seconds (0 when it has caught up).",
		   k && s->stream_lag_seconds >= 0, s->stream_lag_seconds);
}

int
metrics_render(const MetricsSnapshot *s, double now, MemBuf *out)
{
	PromText	w = {.out = out};
	int			njobs = s->njobs < 0 ? 0 : s->njobs > METRICS_MAX_JOBS ? METRICS_MAX_JOBS : s->njobs;
	bool		taken = s->scrape_time_source > 0;

	scalar(&w, s, "pgbkp_up", "gauge", "1 once pgbkp has taken a snapshot of the repositories and the server, else 0.",
		   true, taken ? 1 : 0);
	if (!taken)
		return w.failed ? -1 : 0;	/* nothing known yet */
	scalar(&w, s, "pgbkp_snapshot_timestamp_seconds", "gauge", "When the values reported here were collected.",
		   true, s->scrape_time_source);
	scalar(&w, s, "pgbkp_is_primary", "gauge", "1 when this node is the cluster's primary.", true, s->is_primary ? 1 : 0);

	backup_family(&w, s, "pgbkp_backup_last_success_timestamp_seconds",
				  "End of the last successful backup of each type.", BF_END);
	backup_family(&w, s, "pgbkp_backup_last_duration_seconds",
				  "Duration of the last successful backup of each type.", BF_DURATION);
	backup_family(&w, s, "pgbkp_backup_last_size_bytes",
				  "Database size covered by the last successful backup of each type.", BF_SIZE);
	backup_family(&w, s, "pgbkp_backup_last_stored_bytes",
				  "Bytes the last successful backup of each type stored in the repository.", BF_STORED);
	scalar(&w, s, "pgbkp_backups", "gauge", "Number of backups in the repository.", true, s->backups_count);

	job_family(&w, s, njobs, "pgbkp_job_last_success",
			   "1 when the last run of the job succeeded, 0 when it failed.", JF_SUCCESS);
	job_family(&w, s, njobs, "pgbkp_job_last_run_timestamp_seconds", "End of the last run of the job.", JF_END);
	job_family(&w, s, njobs, "pgbkp_job_last_duration_seconds", "Duration of the last run of the job.", JF_DURATION);
	job_family(&w, s, njobs, "pgbkp_job_running", "1 while the job runs.", JF_RUNNING);
	job_runs(&w, s, njobs);

	scalar(&w, s, "pgbkp_archive_last_archived_timestamp_seconds", "gauge",
		   "When the newest WAL file in the repository was archived.",
		   s->last_archived_time > 0, s->last_archived_time);
	scalar(&w, s, "pgbkp_archive_last_archived_age_seconds", "gauge",
		   "Seconds since the newest WAL file in the repository was archived.",
		   s->last_archived_time > 0, now > s->last_archived_time ? now - s->last_archived_time : 0);
	scalar_u64(&w, s, "pgbkp_archive_failures_total", "counter",
			   "Failed attempts to archive WAL (pg_stat_archiver.failed_count).", true, s->archive_failures);
	scalar_u64(&w, s, "pgbkp_archived_total", "counter",
			   "WAL files archived (pg_stat_archiver.archived_count).", true, s->archived_count);
	scalar(&w, s, "pgbkp_archive_backlog_segments", "gauge",
		   "WAL files PostgreSQL has marked ready for archiving and not archived yet.",
		   s->backlog_known, s->backlog_files);
	scalar(&w, s, "pgbkp_archive_backlog_bytes", "gauge",
		   "Bytes of the WAL files waiting to be archived.", s->backlog_known, (double) s->backlog_bytes);
	scalar(&w, s, "pgbkp_archive_backlog_oldest_age_seconds", "gauge",
		   "Seconds since the oldest WAL file waiting to be archived became ready (0: none waits).",
		   s->backlog_known,
		   s->backlog_oldest > 0 && now > s->backlog_oldest ? now - s->backlog_oldest : 0);
	scalar(&w, s, "pgbkp_archive_backlog_alert_bytes", "gauge",
		   "archive_backlog_alert: the backlog above which check fails.", s->backlog_alert > 0,
		   (double) s->backlog_alert);
	scalar(&w, s, "pgbkp_archive_backlog_over_alert", "gauge",
		   "1 when the WAL waiting to be archived exceeds archive_backlog_alert.",
		   s->backlog_known && s->backlog_alert > 0, s->backlog_bytes > s->backlog_alert ? 1 : 0);

	scalar_u64(&w, s, "pgbkp_repository_size_bytes", "gauge",
			   "Bytes the cluster's backups occupy in the repository (archived WAL not counted).", true,
			   s->repo_size_bytes);
	scalar(&w, s, "pgbkp_recoverable_window_start_timestamp_seconds", "gauge",
		   "Earliest moment the cluster can be restored to.", s->recoverable_start > 0, s->recoverable_start);
	scalar(&w, s, "pgbkp_recoverable_window_end_timestamp_seconds", "gauge",
		   "Latest moment the cluster can be restored to.", s->recoverable_end > 0, s->recoverable_end);

	repo_family(&w, s, "pgbkp_repository_status",
				"State of each repository: 0 ok, 1 cluster not initialised, 2 no backups, 3 cluster.info unreadable, 99 not readable.",
				RF_STATUS);
	repo_family(&w, s, "pgbkp_repository_backups", "Number of backups in each repository.", RF_BACKUPS);
	repo_family(&w, s, "pgbkp_repository_stored_bytes",
				"Bytes the backups occupy in each repository (archived WAL not counted).", RF_STORED);
	repo_family(&w, s, "pgbkp_repository_backup_lock",
				"1 while backup or expire holds the repository's backup lock, else 0.", RF_LOCK);
	repo_family(&w, s, "pgbkp_repository_wal_segments", "WAL segments archived in each repository.", RF_WAL_SEGMENTS);
	repo_family(&w, s, "pgbkp_repository_wal_last_archived_timestamp_seconds",
				"When the newest WAL segment reached each repository (as the repository records it).", RF_WAL_LAST);
	repo_family(&w, s, "pgbkp_repository_newest_backup_bad_pages",
				"Pages of the newest backup in each repository that failed their data checksum when read.", RF_BAD_PAGES);
	repo_family(&w, s, "pgbkp_repository_wal_stored_lsn",
				"How far the WAL stored in each repository reaches, as a byte position (an LSN as a number), "
				"a segment pgbkp stream is filling included.", RF_WAL_STORED_LSN);
	stream_families(&w, s);
	repo_family(&w, s, "pgbkp_drill_last_timestamp_seconds",
				"When the newest restore drill of each repository started (pgbkp drill).", RF_DRILL_TIME);
	repo_family(&w, s, "pgbkp_drill_last_success",
				"1 when every step of the newest restore drill passed, else 0.", RF_DRILL_SUCCESS);
	repo_family(&w, s, "pgbkp_drill_last_rto_seconds",
				"Restore, recovery and checks of the newest restore drill, in seconds.", RF_DRILL_RTO);
	repo_family(&w, s, "pgbkp_drill_last_restore_seconds",
				"Seconds the newest restore drill took to restore the files.", RF_DRILL_RESTORE);
	repo_family(&w, s, "pgbkp_drill_last_recovery_seconds",
				"Seconds the newest restore drill's server took to recover and be promoted.", RF_DRILL_RECOVERY);
	repo_family(&w, s, "pgbkp_drill_last_checks_seconds",
				"Seconds the newest restore drill's checks took.", RF_DRILL_CHECKS);

	metrics_render_pgbackrest(s, now, &w);
	return w.failed ? -1 : 0;
}
