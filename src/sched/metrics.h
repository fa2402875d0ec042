/*
 * The scheduler's Prometheus endpoint.  The scheduler collects a
 * MetricsSnapshot (from the catalogue, the job history and
 * pg_stat_archiver) whenever something changes and hands it to the server;
 * a scrape renders the latest snapshot in the text exposition format 0.0.4.
 * Rendering is a pure function of the snapshot and the time, so it is
 * tested without a socket.
 *
 * Every sample carries the labels cluster and node (the instance name,
 * e.g. pg-test-1).  They are not called "instance" and "job" because
 * Prometheus attaches target labels of those names itself and would rename
 * ours to exported_instance / exported_job; the scheduler's job name is
 * the label job_name.  Families (all gauges unless marked counter):
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
 *   pgbkp_repository_size_bytes                       backups' stored bytes (archived WAL not counted)
 *   pgbkp_recoverable_window_start_timestamp_seconds  earliest recoverable moment
 *   pgbkp_recoverable_window_end_timestamp_seconds    latest recoverable moment
 *
 * A sample whose value is unknown (a backup type never taken, a time of 0)
 * is left out rather than reported as 0; HELP and TYPE lines are always
 * there.  A snapshot with scrape_time_source 0 counts as not taken: only
 * pgbkp_up 0 is rendered.
 */
#ifndef PGBKP_METRICS_H
#define PGBKP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"
#include "io/membuf.h"

#define METRICS_MAX_JOBS 32
#define METRICS_DEFAULT_PORT 9854

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
	uint64_t	repo_size_bytes;	/* sum over backups' stored bytes (WAL not counted) */
	double		recoverable_start,
				recoverable_end;
	int			backups_count;
	double		scrape_time_source; /* when the snapshot was taken (unix s) */
} MetricsSnapshot;

/*
 * Render s in the Prometheus text exposition format 0.0.4, appending to
 * out; "age" gauges are computed against now (unix s).  Returns 0, or -1
 * when out cannot grow (out of memory or past out->max).
 */
int			metrics_render(const MetricsSnapshot *s, double now, MemBuf *out);

typedef struct MetricsServer MetricsServer;

/*
 * Listen on addr:port (addr NULL = all addresses, IPv6 and IPv4; port 0 =
 * any free port, see metrics_port) and serve GET /metrics, and / with a
 * link to it, from a thread of its own; other paths get 404, other methods
 * 405.  Until the first metrics_update, /metrics reports pgbkp_up 0.
 * EXIT_CONFIG when the port is in use, not allowed, or addr is not an
 * address of this host.
 */
MetricsServer *metrics_start(const char *addr, int port, PgbError *err);
/* The port the server listens on. */
int			metrics_port(const MetricsServer *m);
/* Replace the snapshot served (copied; safe from any thread). */
void		metrics_update(MetricsServer *m, const MetricsSnapshot *s);
/* Stop serving and free m.  Accepts NULL. */
void		metrics_stop(MetricsServer *m);

#endif
