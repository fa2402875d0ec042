/*
 * The scheduler's state, shared by its two files: scheduler.c (loading
 * the jobs, reloading, the event loop, stopping) and scheduler_runs.c
 * (starting a run, collecting its output and exit status, recording it in
 * the job history and the metrics).  Not for use outside src/sched/.
 */
#ifndef PGBKP_SCHEDULER_INT_H
#define PGBKP_SCHEDULER_INT_H

#include <sys/types.h>
#include <time.h>
#include "sched/jobs.h"
#include "sched/metrics_server.h"
#include "sched/scheduler.h"

typedef struct RunState
{
	SchedJob	job;
	time_t		base_next;		/* next due time by the schedule */
	time_t		next;			/* base_next plus jitter */
	pid_t		pid;			/* running child, or 0 */
	int			out_fd;			/* its stdout, or -1 */
	char		out[1024];
	size_t		outlen;
	TimestampUs start;
	MetricsJob	m;
	bool		removed;		/* no longer in the schedule; kept until its run ends */
} RunState;

typedef struct Scheduler
{
	Config	   *cfg;			/* current configuration */
	Config		owned;			/* after a reload */
	bool		owns;
	RunState	runs[CONFIG_MAX_JOBS];
	int			nruns;
	const SchedulerHooks *hooks;
	MetricsServer *metrics;
	MetricsSnapshot snap;
	time_t		next_refresh;
	int			appended;
	bool		stopping;
	pid_t		stream_pid;		/* the stream service's child, or 0 */
	time_t		stream_start_at;	/* when it may start (again) */
	int			stream_backoff; /* seconds before the next restart */
	bool		stream_ending;	/* asked to end: no longer configured */
} Scheduler;

/*
 * The snapshot the metrics endpoint serves.  probe: ask again whether this
 * member is the primary (the periodic refresh does; a job start has just
 * asked).
 */
void		scheduler_refresh_metrics(Scheduler *s, bool probe);
/* Start a run of r's job now: skipped while its last run goes on, or where this member is not the primary. */
void		scheduler_start_run(Scheduler *s, RunState *r);
/* Keep what r's child has written so far (the first bytes: they say why a run was skipped). */
void		scheduler_drain_output(RunState *r);
/* Record every child that has ended; a removed job goes with the end of its run. */
void		scheduler_reap(Scheduler *s);

/*
 * The stream service (stream: true): start pgbkp stream as a child when
 * it is due, lowering *wake to when it next may be; restarted after it
 * ends, after 1, 2, 4 ... up to 60 seconds (reset once it ran a minute).
 */
void		scheduler_stream_tick(Scheduler *s, time_t now, time_t *wake);
/* Whether pid was the stream service's child (then recorded as ended). */
bool		scheduler_stream_reaped(Scheduler *s, pid_t pid, int status);
/* SIGTERM to the stream service's child, if any. */
void		scheduler_stream_stop(Scheduler *s);

#endif
