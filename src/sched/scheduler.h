/*
 * The scheduler daemon behind "pgbkp schedule": it runs the configured jobs
 * (jobs.h) on their cron schedules, in the foreground, on every member of
 * the cluster.
 *
 *  - Each due run first asks the cluster whether this member is the primary
 *    now; elsewhere the run is recorded as skipped.  So after a failover the
 *    new primary's scheduler simply takes over.
 *  - A run is a child process (the job's pgbkp command, see jobs.h): a
 *    crash of a job never takes the scheduler down.  A job whose previous
 *    run is still going when it is due again is skipped and logged; runs of
 *    different jobs may overlap (the repository lock serialises backups and
 *    expiry).
 *  - At start-up, a job whose latest due time within --schedule-grace
 *    minutes has no run in the job history is run once.
 *  - Random jitter of up to --schedule-jitter seconds (or the job's jitter:)
 *    delays each run; the schedule itself is not shifted.
 *  - SIGTERM or SIGINT: running jobs get SIGTERM (a backup then stops
 *    without a manifest, so it is never listed), are waited for and
 *    recorded as aborted; then the scheduler returns 0.  SIGHUP: the
 *    configuration is read again; on error the old one stays and the error
 *    is logged.
 *  - Every run is recorded in the job history of each repository (of a
 *    pgBackRest repository: in pgbkp's state directory), and the
 *    metrics endpoint (--metrics-port) serves the state.
 *
 * A daemon's report is its log: what happens to jobs is logged here, and
 * only what stops the scheduler is returned as an error.  What it needs
 * from the layers above (whether this member is the primary, opening a
 * repository, the metrics besides its jobs) comes in as SchedulerHooks.
 */
#ifndef PGBKP_SCHEDULER_H
#define PGBKP_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "config/config.h"
#include "repo/repo.h"
#include "sched/metrics.h"

typedef struct SchedulerHooks
{
	/* the path of this pgbkp: the jobs' children run it */
	const char *self;
	/*
	 * Whether this member is the primary now: 1 yes, 0 no (note says why),
	 * -1 with err when it cannot be told.
	 */
	int			(*member_role) (const Config *cfg, char *note, size_t len, PgbError *err);
	/*
	 * The job history of repository index (configured order) of cfg,
	 * opened; NULL without an error set when it is an earlier one's.
	 */
	Repo	   *(*open_history) (const Config *cfg, int index, PgbError *err);
	/*
	 * The backup a run that started at start made in the first repository:
	 * its label and stored bytes; false when there is none.
	 */
	bool		(*backup_of_run) (const Config *cfg, TimestampUs start, char *label, size_t len,
								  uint64_t *bytes);
	/*
	 * Refill s's repositories, role and archiver counters (not its jobs)
	 * and set its time.  probe_role: ask again whether this member is the
	 * primary, else keep s->is_primary.
	 */
	void		(*refresh_metrics) (void *arg, const Config *cfg, bool probe_role, MetricsSnapshot *s);
	void	   *refresh_arg;
} SchedulerHooks;

/*
 * Run the scheduler until SIGTERM or SIGINT (0), or until it cannot go on
 * (-1 with err: a schedule that cannot be computed, the metrics port, the
 * signals).  cfg stays the caller's; a configuration reloaded on SIGHUP is
 * the scheduler's own.
 */
int			scheduler_run(const Config *cfg, const SchedulerHooks *hooks, PgbError *err);

#endif
