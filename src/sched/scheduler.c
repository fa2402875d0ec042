/*
 * The scheduler daemon (see scheduler.h): loading the jobs and keeping
 * their state across a reload, the event loop over a signalfd and the
 * children's output pipes, and stopping.  The runs themselves are
 * scheduler_runs.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "repo/history.h"
#include "sched/scheduler_int.h"

#define CATCHUP_HISTORY 200
#define STOP_WAIT_SECONDS 120

static time_t
jittered(const Scheduler *s, const RunState *r, time_t base)
{
	int			j = r->job.def.jitter >= 0 ? r->job.def.jitter : s->cfg->schedule_jitter;

	return j > 0 ? base + (time_t) (random() % (j + 1)) : base;
}

static int
schedule_next(Scheduler *s, RunState *r, time_t after, PgbError *err)
{
	if (cron_next(&r->job.expr, s->cfg->schedule_timezone, after, &r->base_next, err) != 0)
		return pgb_error_context(err, "job \"%s\"", r->job.def.name);
	r->next = jittered(s, r, r->base_next);
	return 0;
}

/* ---------------------------------------------------------------- set-up */

/* The newest history record of job name (start time), or 0. */
static TimestampUs
last_run_of(const JobRecord *recs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		/* runs that did the work (here or on the member that was primary then), not skipped or aborted ones */
		if (strcmp(recs[i].job, name) == 0 &&
			(strcmp(recs[i].outcome, "ok") == 0 || strcmp(recs[i].outcome, "failed") == 0))
			return recs[i].start;
	return 0;
}

/*
 * Jobs from s->cfg, built aside and installed only when all of them are
 * good.  A job that keeps its name keeps its state (a running child, its
 * counters) and, when its cron text and jitter are unchanged, its pending
 * run; a removed job whose run is still going stays, unscheduled, until the
 * run ends, so the run is still recorded and stopped with the scheduler.
 */
static int
load_jobs(Scheduler *s, bool startup, PgbError *err)
{
	SchedJob	jobs[CONFIG_MAX_JOBS];
	RunState	fresh[CONFIG_MAX_JOBS];
	int			n;
	int			nfresh;
	time_t		now = time(NULL);
	JobRecord  *recs = NULL;
	int			nrecs = 0;

	if (sched_jobs_load(s->cfg, jobs, &n, err) != 0)
		return -1;
	if (startup && s->cfg->schedule_grace > 0)
	{
		PgbError	herr = {0};
		Repo	   *repo = s->hooks->open_history(s->cfg, 0, &herr);

		if (repo == NULL || history_list(repo, CATCHUP_HISTORY, &recs, &nrecs, &herr) != 0)
			log_warn("cannot read the job history (%s): missed runs are not made up", herr.msg);
		repo_free(repo);
	}
	for (int i = 0; i < n; i++)
	{
		RunState   *r = &fresh[i];
		const RunState *old = NULL;

		memset(r, 0, sizeof(*r));
		r->job = jobs[i];
		r->out_fd = -1;
		r->m.last_ok = -1;
		for (int k = 0; k < s->nruns; k++)
			if (strcmp(s->runs[k].job.def.name, jobs[i].def.name) == 0)
				old = &s->runs[k];
		if (old)
		{
			r->pid = old->pid;
			r->out_fd = old->out_fd;
			r->start = old->start;
			memcpy(r->out, old->out, sizeof(r->out));
			r->outlen = old->outlen;
			r->m = old->m;
		}
		if (old && !old->removed && strcmp(old->job.expr.text, r->job.expr.text) == 0 &&
			old->job.def.jitter == r->job.def.jitter)
		{
			r->base_next = old->base_next;
			r->next = old->next;
		}
		else if (schedule_next(s, r, now, err) != 0)
		{
			history_free(recs);
			return -1;
		}
		if (startup && s->cfg->schedule_grace > 0)
		{
			time_t		due = 0;
			time_t		t = now - s->cfg->schedule_grace * 60 - 1;
			PgbError	e = {0};

			/* the latest due time inside the grace period, if it passed without a run */
			while (cron_next(&r->job.expr, s->cfg->schedule_timezone, t, &t, &e) == 0 && t <= now)
				due = t;
			if (due > 0 && last_run_of(recs, nrecs, r->job.def.name) < (TimestampUs) due * 1000000)
			{
				char		when[64];

				time_format_utc((TimestampUs) due * 1000000, when, sizeof(when));
				log_info("job %s: its run due at %s was missed; running it now", r->job.def.name, when);
				r->next = now;
			}
		}
	}
	nfresh = n;
	for (int k = 0; k < s->nruns; k++)
	{
		bool		kept = false;

		for (int i = 0; i < n; i++)
			kept |= strcmp(s->runs[k].job.def.name, jobs[i].def.name) == 0;
		if (kept || s->runs[k].pid <= 0)
			continue;
		if (nfresh == CONFIG_MAX_JOBS)
		{
			history_free(recs);
			return pgb_error(err, EXIT_CONFIG, "too many jobs while removed ones still run");
		}
		log_warn("job %s was removed from the schedule; its run (pid %d) goes on", s->runs[k].job.def.name,
				 (int) s->runs[k].pid);
		fresh[nfresh] = s->runs[k];
		fresh[nfresh].removed = true;
		fresh[nfresh].next = fresh[nfresh].base_next = (time_t) INT64_MAX / 2;
		nfresh++;
	}
	memcpy(s->runs, fresh, sizeof(RunState) * (size_t) nfresh);
	s->nruns = nfresh;
	for (int i = 0; i < n; i++)
	{
		char		when[64];

		time_format_utc((TimestampUs) s->runs[i].next * 1000000, when, sizeof(when));
		log_info("job %s: \"%s\" %s%s%s, next run at %s", s->runs[i].job.def.name, s->runs[i].job.expr.text,
				 s->runs[i].job.def.command, s->runs[i].job.def.type[0] ? " --type " : "",
				 s->runs[i].job.def.type, when);
	}
	history_free(recs);
	return 0;
}

static void
reload(Scheduler *s)
{
	Config		fresh;
	PgbError	err = {0};
	Config		previous;
	bool		owned = s->owns;

	log_info("SIGHUP: reading the configuration again");
	if (config_load(&fresh, s->cfg->argc, s->cfg->argv, &err) != 0)
	{
		log_error("the configuration was not reloaded: %s%s%s", err.msg, err.hint[0] ? " (" : "",
				  err.hint[0] ? err.hint : "");
		if (err.hint[0])
			log_error("hint: %s", err.hint);
		return;
	}
	previous = s->owned;
	s->owned = fresh;
	s->owns = true;
	{
		Config	   *old_cfg = s->cfg;

		s->cfg = &s->owned;
		if (load_jobs(s, false, &err) != 0)
		{
			log_error("the configuration was not reloaded: %s", err.msg);
			config_free(&s->owned);
			s->owned = previous;
			s->owns = owned;
			s->cfg = old_cfg;
			return;
		}
	}
	if (owned)
		config_free(&previous);
	log_info("configuration reloaded: %d jobs", s->nruns);
	scheduler_refresh_metrics(s, true);
}

static void
stop_all(Scheduler *s)
{
	time_t		deadline = time(NULL) + STOP_WAIT_SECONDS;

	s->stopping = true;
	scheduler_stream_stop(s);
	for (int i = 0; i < s->nruns; i++)
		if (s->runs[i].pid > 0)
		{
			log_info("job %s: stopping its run (pid %d)", s->runs[i].job.def.name, (int) s->runs[i].pid);
			kill(s->runs[i].pid, SIGTERM);
		}
	for (;;)
	{
		bool		any = false;

		scheduler_reap(s);
		any = s->stream_pid > 0;
		for (int i = 0; i < s->nruns; i++)
			any |= s->runs[i].pid > 0;
		if (!any)
			break;
		if (time(NULL) >= deadline)
		{
			for (int i = 0; i < s->nruns; i++)
				if (s->runs[i].pid > 0)
					kill(s->runs[i].pid, SIGKILL);
			if (s->stream_pid > 0)
				kill(s->stream_pid, SIGKILL);
		}
		usleep(100 * 1000);
	}
}

/* ---------------------------------------------------------------- loop */

int
scheduler_run(const Config *cfg, const SchedulerHooks *hooks, PgbError *err)
{
	Scheduler	s = {0};
	sigset_t	mask;
	int			sfd;
	int			rc = 0;

	s.cfg = (Config *) cfg;
	s.hooks = hooks;
	srandom((unsigned) (time(NULL) ^ getpid()));
	/* blocked before any thread starts (the metrics server's, libcurl's), so only signalfd sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (load_jobs(&s, true, err) != 0)
		return -1;
	if (cfg->metrics_port > 0 &&
		(s.metrics = metrics_start(cfg->metrics_address, cfg->metrics_port, err)) == NULL)
		return -1;
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
	{
		metrics_stop(s.metrics);
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not set up signal handling");
	}
	scheduler_refresh_metrics(&s, true);
	log_info("scheduler started: %d jobs, time zone %s%s", s.nruns, s.cfg->schedule_timezone,
			 s.metrics ? "" : ", no metrics endpoint");
	if (s.metrics)
		log_info("metrics on port %d", metrics_port(s.metrics));

	while (!s.stopping)
	{
		struct pollfd fds[1 + CONFIG_MAX_JOBS];
		int			nfds = 0;
		time_t		now = time(NULL);
		time_t		wake = s.next_refresh;
		struct signalfd_siginfo si;

		for (int i = 0; i < s.nruns; i++)
			if (s.runs[i].next <= now && !s.stopping)
			{
				RunState   *r = &s.runs[i];

				scheduler_start_run(&s, r);
				/* a made-up run leaves the coming one in place; several missed ones run once */
				if (r->base_next > now)
					r->next = jittered(&s, r, r->base_next);
				else if (schedule_next(&s, r, now, err) != 0)
				{
					rc = -1;
					s.stopping = true;
				}
			}
		if (now >= s.next_refresh)
			scheduler_refresh_metrics(&s, true);
		for (int i = 0; i < s.nruns; i++)
			if (s.runs[i].next < wake)
				wake = s.runs[i].next;
		scheduler_stream_tick(&s, now, &wake);
		fds[nfds++] = (struct pollfd) {.fd = sfd, .events = POLLIN};
		for (int i = 0; i < s.nruns; i++)
			if (s.runs[i].out_fd >= 0)
				fds[nfds++] = (struct pollfd) {.fd = s.runs[i].out_fd, .events = POLLIN};
		now = time(NULL);
		if (poll(fds, (nfds_t) nfds, wake > now ? (int) (wake - now) * 1000 : 0) < 0 && errno != EINTR)
		{
			rc = pgb_error_errno(err, EXIT_INTERNAL, errno, "the scheduler could not wait for events");
			break;
		}
		for (int i = 0; i < s.nruns; i++)
			if (s.runs[i].out_fd >= 0)
				scheduler_drain_output(&s.runs[i]);
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
		{
			if (si.ssi_signo == SIGCHLD)
				scheduler_reap(&s);
			else if (si.ssi_signo == SIGHUP)
				reload(&s);
			else
			{
				log_info("signal %d: stopping", (int) si.ssi_signo);
				s.stopping = true;
			}
		}
	}
	stop_all(&s);
	metrics_stop(s.metrics);
	metrics_snapshot_clear(&s.snap);
	close(sfd);
	if (s.owns)
		config_free(&s.owned);
	log_info("scheduler stopped");
	return rc;
}

