/*
 * pgbkp's Prometheus endpoint, served by "pgbkp schedule" and by
 * "pgbkp metrics".  The command collects a MetricsSnapshot (see
 * metrics_collect.h: the repositories, pg_stat_archiver, the scheduler's
 * jobs) and hands it to the server (metrics_server.h); a scrape renders the
 * latest snapshot in the text exposition format 0.0.4.  This header holds
 * the snapshot and its rendering, a pure function of the snapshot and the
 * time, so it is tested without a socket.
 *
 * Two sets of families are served side by side:
 *
 *  - pgbkp_*: pgbkp's own, below.  Every sample carries the labels cluster
 *    and node (the instance name, e.g. pg-test-1).  They are not called
 *    "instance" and "job" because Prometheus attaches target labels of
 *    those names itself and would rename ours to exported_instance /
 *    exported_job; the scheduler's job name is the label job_name.
 *
 *  - pgbackrest_*: the families of pgbackrest_exporter that Pigsty's
 *    dashboards and alerts use, with the exporter's names, labels and
 *    meaning, computed from pgbkp's repositories (metrics_pgbr.c says what
 *    each means for pgbkp).  They carry only the exporter's labels.
 *
 * pgbkp families (all gauges unless marked counter):
 *
 *   pgbkp_up                                          1 once a snapshot was taken, else 0
 *   pgbkp_snapshot_timestamp_seconds                  when the snapshot was taken
 *   pgbkp_is_primary                                  1 when the node is the primary
 *   pgbkp_backup_last_success_timestamp_seconds{type} end of the last good backup of a type
 *   pgbkp_backup_last_duration_seconds{type}          its duration
 *   pgbkp_backup_last_size_bytes{type}                its size (database bytes)
 *   pgbkp_backup_last_stored_bytes{type}              bytes it stored in the repository
 *   pgbkp_backups                                     backups in the repository
 *   pgbkp_job_last_success{job_name}                  1 ok, 0 failed (absent: never ran)
 *   pgbkp_job_last_run_timestamp_seconds{job_name}    end of the job's last run
 *   pgbkp_job_last_duration_seconds{job_name}         duration of the job's last run
 *   pgbkp_job_running{job_name}                       1 while the job runs
 *   pgbkp_job_runs_total{job_name,outcome}            counter; outcome ok | failed | skipped
 *   pgbkp_archive_last_archived_timestamp_seconds     time of the newest archived WAL
 *   pgbkp_archive_last_archived_age_seconds           now minus that time
 *   pgbkp_archive_failures_total                      counter (pg_stat_archiver.failed_count)
 *   pgbkp_archived_total                              counter (pg_stat_archiver.archived_count)
 *   pgbkp_archive_backlog_segments                    WAL files PostgreSQL has marked ready, not yet archived
 *   pgbkp_archive_backlog_bytes                       their bytes
 *   pgbkp_archive_backlog_oldest_age_seconds          how long the oldest has been ready
 *   pgbkp_archive_backlog_alert_bytes                 archive_backlog_alert in bytes (when set)
 *   pgbkp_archive_backlog_over_alert                  1 when the backlog exceeds it (when set)
 *   pgbkp_repository_size_bytes                       backups' stored bytes (archived WAL not counted)
 *   pgbkp_recoverable_window_start_timestamp_seconds  earliest recoverable moment
 *   pgbkp_recoverable_window_end_timestamp_seconds    latest recoverable moment
 *   pgbkp_repository_status{repo,repo_key}            per repository, the codes of pgbackrest_repo_status
 *   pgbkp_repository_backups{repo,repo_key}           backups in that repository
 *   pgbkp_repository_stored_bytes{repo,repo_key}      their stored bytes
 *   pgbkp_repository_backup_lock{repo,repo_key}       1 while backup or expire holds its lock
 *   pgbkp_repository_wal_stored_lsn{repo,repo_key}    how far its stored WAL reaches, as a
 *                                                     byte position (the LSN as a number; a
 *                                                     stream's segment in progress included)
 *   pgbkp_stream_connected                            1 while a pgbkp stream receives WAL from the primary
 *   pgbkp_stream_slot_active                          1 while the stream's replication slot is in use
 *   pgbkp_stream_synchronous                          1 when the primary counts it as a synchronous standby
 *   pgbkp_stream_flushed_lsn                          the durable position it reported (LSN as a number)
 *   pgbkp_stream_lag_bytes                            the primary's WAL position minus that
 *   pgbkp_stream_lag_seconds                          the primary's flush_lag for it (0 when caught up)
 *
 * The pgbkp_stream_* samples are served only where the snapshot's server
 * is the primary and the stream is in use there (its slot exists, it is
 * connected, or the schedule runs it): a cluster without pgbkp stream gets
 * no sample that could alert.
 *
 * The families without a repository label (pgbkp_backup_*, pgbkp_backups,
 * pgbkp_repository_size_bytes, the window) describe the first configured
 * repository; repo_key joins the per-repository families to the
 * pgbackrest_* ones.  A sample whose value is unknown (a backup type never
 * taken, a time of 0) is left out rather than reported as 0; HELP and TYPE
 * lines are always there.  A snapshot with scrape_time_source 0 counts as
 * not taken: only pgbkp_up 0 is rendered.
 */
#ifndef PGBKP_METRICS_H
#define PGBKP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"
#include "io/membuf.h"
#include "sched/promtext.h"

#define METRICS_MAX_JOBS 32
#define METRICS_MAX_REPOS 8

typedef struct MetricsJob
{
	char		job[64];
	int			last_ok;		/* 1 ok, 0 failed, -1 never ran */
	double		last_end;		/* unix s */
	double		last_duration;
	int			running;
	uint64_t	runs_ok,
				runs_failed,
				runs_skipped;
} MetricsJob;

typedef struct MetricsBackup
{
	char		type[8];		/* full diff incr */
	double		last_end;
	double		last_duration;
	uint64_t	last_size,
				last_stored;
	int			present;
} MetricsBackup;

/* A repository's state, with pgbackrest_exporter's codes (pgbackrest_repo_status). */
typedef enum MetricsRepoStatus
{
	METRICS_REPO_OK = 0,
	METRICS_REPO_MISSING = 1,	/* the cluster's namespace does not exist (not initialised) */
	METRICS_REPO_NO_BACKUPS = 2,
	METRICS_REPO_BAD_DATA = 3,	/* cluster.info unreadable or damaged */
	METRICS_REPO_MIXED = 4,		/* stanza only: the repositories differ */
	METRICS_REPO_DB_MISMATCH = 5,	/* stanza only: they hold different database systems */
	METRICS_REPO_OTHER = 99		/* could not be read (I/O, access, passphrase, ...) */
} MetricsRepoStatus;

/* One backup in one repository. */
typedef struct MetricsRepoBackup
{
	char		label[64];
	char		type[8];		/* full diff incr */
	char		prior[64];		/* the backup it builds on; "" for full */
	char		version[40];	/* the pgbkp that took it */
	bool		block_incr;		/* diff/incr with block maps */
	bool		error;			/* cannot be restored from this repository as it stands */
	int			pg_version;		/* server_version_num */
	char		lsn_start[24],
				lsn_stop[24];
	char		wal_start[25],
				wal_stop[25];
	double		start_time,
				stop_time;		/* unix s */
	double		duration;		/* s (from the microseconds, not these doubles) */
	uint64_t	size;			/* database bytes */
	uint64_t	delta;			/* database bytes in chunks it stored (not references) */
	uint64_t	repo_size;		/* stored bytes of it and every backup it builds on */
	uint64_t	repo_delta;		/* stored bytes of its own bundles */
} MetricsRepoBackup;

typedef struct MetricsRepo
{
	char		name[32];
	int			key;			/* place in configured order, from 1 */
	bool		encrypted;
	int			status;			/* MetricsRepoStatus */
	char		error[PGB_ERRMSG_MAX];	/* why, for MISSING, BAD_DATA and OTHER */
	int			locked;			/* backup lock: 1 held, 0 free, -1 unknown */
	uint64_t	system_identifier;	/* 0 unknown */
	int			pg_version;		/* server_version_num, 0 unknown */
	int			nsegments;		/* archived WAL segments */
	double		wal_last_time;	/* unix s when the newest segment was archived, 0 none */
	uint64_t	stored_bytes;	/* sum of the backups' stored bytes */
	uint64_t	newest_bad_pages;	/* pages of the newest backup that failed their data checksum */
	bool		drill_known;	/* a drill record was found */
	bool		drill_passed;
	double		drill_time;		/* unix s when the newest drill started */
	double		drill_restore_seconds,
				drill_recovery_seconds,
				drill_checks_seconds;
	uint64_t	wal_stored_lsn;	/* how far its stored WAL reaches (in-progress stream object included); 0 unknown */
	int			nbackups;
	MetricsRepoBackup *backups; /* oldest first; malloc'd */
} MetricsRepo;

typedef struct MetricsSnapshot
{
	char		cluster[64];
	char		instance[128];	/* exported as the label node */
	bool		is_primary;
	MetricsBackup backups[3];
	MetricsJob	jobs[METRICS_MAX_JOBS];
	int			njobs;
	double		last_archived_time; /* unix s of the newest archived WAL (0 unknown) */
	uint64_t	archive_failures;	/* pg_stat_archiver.failed_count */
	uint64_t	archived_count;
	bool		backlog_known;	/* pg_data's archive_status was read */
	int			backlog_files;	/* ready, not yet archived */
	uint64_t	backlog_bytes;
	double		backlog_oldest; /* unix s the oldest became ready (0 none) */
	uint64_t	backlog_alert;	/* archive_backlog_alert in bytes; 0 off */
	uint64_t	repo_size_bytes;	/* sum over backups' stored bytes (WAL not counted) */
	double		recoverable_start,
				recoverable_end;
	int			backups_count;
	bool		stream_known;	/* the primary answered about pgbkp stream (and it is in use) */
	bool		stream_connected;	/* a pgbkp stream receives WAL now */
	bool		stream_slot_active;
	bool		stream_synchronous; /* its sync_state is sync or quorum */
	uint64_t	stream_flushed_lsn; /* durable position it reported; 0 unknown */
	int64_t		stream_lag_bytes;	/* -1 unknown */
	double		stream_lag_seconds; /* -1 unknown */
	double		scrape_time_source; /* when the snapshot was taken (unix s) */
	int			nrepos;
	MetricsRepo repos[METRICS_MAX_REPOS];	/* in configured order */
} MetricsSnapshot;

/* Free the backups of s's repositories and set nrepos to 0 (s itself stays). */
void		metrics_snapshot_clear(MetricsSnapshot *s);
/* A deep copy of src into dst (whose old content is not freed); -1 when out of memory. */
int			metrics_snapshot_copy(MetricsSnapshot *dst, const MetricsSnapshot *src);

/*
 * Render s in the Prometheus text exposition format 0.0.4, appending to
 * out: the pgbkp_* families, then the pgbackrest_* ones; "age" gauges are
 * computed against now (unix s).  Returns 0, or -1 when out cannot grow
 * (out of memory or past out->max).
 */
int			metrics_render(const MetricsSnapshot *s, double now, MemBuf *out);

/* The pgbackrest_* families alone (metrics_pgbr.c). */
void		metrics_render_pgbackrest(const MetricsSnapshot *s, double now, PromText *w);

#endif
