/*
 * The scheduler's jobs as configured (pgbkp.schedule), checked and ready to
 * run: shared by the scheduler (scheduler.h) and "pgbkp cron".  A job runs
 * one pgbkp command (backup, verify, expire or check) as a child process
 * with the scheduler's own command-line options, --if-primary and
 * --no-progress.  Also the name of this member as the job history and the
 * metrics report it.
 */
#ifndef PGBKP_SCHED_JOBS_H
#define PGBKP_SCHED_JOBS_H

#include "config/config.h"
#include "sched/cron.h"

typedef struct SchedJob
{
	ScheduleJob def;			/* name filled in */
	CronExpr	expr;
} SchedJob;

/* Check cfg's schedule (EXIT_CONFIG naming the entry); *n jobs into out[CONFIG_MAX_JOBS]. */
int			sched_jobs_load(const Config *cfg, SchedJob *out, int *n, PgbError *err);

/*
 * The argument vector of a job's child: self (the path of this pgbkp), the
 * options of cfg's command line that the job's command accepts,
 * --if-primary, --no-progress, the command and --type.  A NULL-terminated
 * array of malloc'd strings.
 */
char	  **sched_job_argv(const Config *cfg, const SchedJob *job, const char *self, PgbError *err);
void		sched_argv_free(char **argv);

/* This member's name (the inventory's), else the host name; returns buf. */
const char *sched_node_name(const Config *cfg, char *buf, size_t len);

#endif
