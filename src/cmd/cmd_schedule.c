/*
 * pgbkp schedule: run the configured jobs on their cron schedules, in the
 * foreground (for systemd), on every member of the cluster.
 *
 *  - Each due run first asks the cluster whether this member is the primary
 *    now; elsewhere the run is recorded as skipped.  So after a failover the
 *    new primary's scheduler simply takes over.
 *  - A run is a child process (the job's pgbkp command, see sched_jobs.h):
 *    a crash of a job never takes the scheduler down.  A job whose previous
 *    run is still going when it is due again is skipped and logged; runs of
 *    different jobs may overlap (the repository lock serialises backups and
 *    expiry).
 *  - At start-up, a job whose latest due time within --schedule-grace
 *    minutes has no run in the job history is run once.
 *  - Random jitter of up to --schedule-jitter seconds (or the job's jitter:)
 *    delays each run; the schedule itself is not shifted.
 *  - SIGTERM or SIGINT: running jobs get SIGTERM (a backup then stops
 *    without a manifest, so it is never listed), are waited for and
 *    recorded as aborted; then the scheduler exits 0.  SIGHUP: the
 *    configuration is read again; on error the old one stays and the error
 *    is logged.
 *  - Every run is recorded in the job history of each repository, and the
 *    metrics endpoint (--metrics-port) serves the state.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/metrics_feed.h"
#include "cmd/sched_jobs.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/history.h"
#include "sched/metrics_server.h"

#define CATCHUP_HISTORY 200
#define PRUNE_EVERY 20
#define STOP_WAIT_SECONDS 120

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
	MetricsServer *metrics;
	MetricsSnapshot snap;
	MetricsFeed feed;
	time_t		next_refresh;
	int			appended;
	bool		stopping;
} Scheduler;

/*
 * Whether this member is the primary now (cmd_member_role): 1 yes, 0 no
 * (note says why), -1 when it cannot be told (note has the error): that is a
 * failed run, not a skipped one.
 */
static int
this_is_primary(const Config *cfg, char *note, size_t len)
{
	PgbError	err = {0};
	int			r = cmd_member_role(cfg, note, len, &err);

	if (r < 0)
		snprintf(note, len, "%.900s", err.msg);
	return r;
}

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

/* ---------------------------------------------------------------- history */

/* Append rec to every repository's job history (failures are warnings). */
static void
record(Scheduler *s, const JobRecord *rec)
{
	bool		prune = ++s->appended % PRUNE_EVERY == 0;

	for (int i = 0; i < s->cfg->nrepos; i++)
	{
		PgbError	err = {0};
		Repo	   *repo = cmd_open_repo_at(s->cfg, i, &err);

		if (repo == NULL || history_append(repo, rec, &err) != 0 ||
			(prune && history_prune(repo, s->cfg->history_keep, &err) < 0))
			log_warn("job %s: could not record the run in repository \"%s\": %s", rec->job,
					 s->cfg->repos[i].name, err.msg);
		repo_free(repo);
	}
}

static void
record_run(Scheduler *s, RunState *r, const char *outcome, int code, TimestampUs start,
		   const char *message)
{
	JobRecord	rec = {0};
	char		node[128];

	snprintf(rec.job, sizeof(rec.job), "%s", r->job.def.name);
	snprintf(rec.command, sizeof(rec.command), "%s", r->job.def.command);
	snprintf(rec.type, sizeof(rec.type), "%s", r->job.def.type);
	snprintf(rec.node, sizeof(rec.node), "%s", metrics_feed_node(s->cfg, node, sizeof(node)));
	rec.start = start;
	rec.end = time_now();
	snprintf(rec.outcome, sizeof(rec.outcome), "%s", outcome);
	rec.exit_code = code;
	snprintf(rec.message, sizeof(rec.message), "%s", message ? message : "");
	if (strcmp(r->job.def.command, "backup") == 0 && strcmp(outcome, "ok") == 0)
	{
		/* the backup this run made: the newest one, started after the run */
		PgbError	err = {0};
		Repo	   *repo = cmd_open_repo_at(s->cfg, 0, &err);
		Catalog		cat = {0};

		if (repo && catalog_load(repo, &cat, &err) == 0 && cat.count > 0 &&
			cat.backups[cat.count - 1].start_time >= start - 2000000)
		{
			const Manifest *m = &cat.backups[cat.count - 1];

			rec.bytes = m->repo_size;
			snprintf(rec.label, sizeof(rec.label), "%.31s", m->label);
		}
		catalog_free(&cat);
		repo_free(repo);
	}
	record(s, &rec);
	if (strcmp(outcome, "skipped") == 0)
	{
		r->m.runs_skipped++;
		return;
	}
	if (strcmp(outcome, "ok") == 0)
		r->m.runs_ok++;
	else
		r->m.runs_failed++;
	r->m.last_ok = strcmp(outcome, "ok") == 0;
	r->m.last_end = (double) rec.end / 1e6;
	r->m.last_duration = (double) (rec.end - start) / 1e6;
}

/* ---------------------------------------------------------------- metrics */

/*
 * The snapshot the metrics endpoint serves.  probe: ask again whether this
 * member is the primary (the periodic refresh does; a job start has just
 * asked).
 */
static void
refresh_metrics(Scheduler *s, bool probe)
{
	MetricsSnapshot *m = &s->snap;

	metrics_feed_refresh(s->cfg, &s->feed, probe, m);
	for (int i = 0; i < s->nruns && i < METRICS_MAX_JOBS; i++)
	{
		m->jobs[i] = s->runs[i].m;
		snprintf(m->jobs[i].job, sizeof(m->jobs[i].job), "%s", s->runs[i].job.def.name);
		m->jobs[i].running = s->runs[i].pid > 0;
	}
	m->njobs = s->nruns < METRICS_MAX_JOBS ? s->nruns : METRICS_MAX_JOBS;
	if (s->metrics && metrics_update(s->metrics, m) != 0)
		log_warn("metrics: out of memory: the endpoint serves the previous values");
	s->next_refresh = time(NULL) + s->cfg->metrics_interval;
}

/* ---------------------------------------------------------------- runs */

static void
start_run(Scheduler *s, RunState *r)
{
	char		note[1024];
	PgbError	err = {0};
	char	  **argv;
	int			pipefd[2];
	pid_t		pid;

	if (r->pid > 0)
	{
		log_warn("job %s: skipped, the previous run (pid %d) is still going", r->job.def.name, (int) r->pid);
		record_run(s, r, "skipped", 0, time_now(), "the previous run was still going");
		return;
	}
	switch (this_is_primary(s->cfg, note, sizeof(note)))
	{
		case 1:
			s->feed.is_primary = true;
			break;
		case 0:
			s->feed.is_primary = false;
			log_info("job %s: skipped: %s", r->job.def.name, note);
			record_run(s, r, "skipped", 0, time_now(), note);
			return;
		default:
			log_error("job %s: failed: cannot tell whether this member is the primary: %s", r->job.def.name, note);
			record_run(s, r, "failed", EXIT_DATABASE, time_now(), note);
			return;
	}
	if ((argv = sched_job_argv(s->cfg, &r->job, &err)) == NULL || pipe2(pipefd, O_CLOEXEC) != 0)
	{
		log_error("job %s: could not start: %s", r->job.def.name, err.msg[0] ? err.msg : strerror(errno));
		record_run(s, r, "failed", EXIT_INTERNAL, time_now(), "could not start the job");
		sched_argv_free(argv);
		return;
	}
	r->start = time_now();
	pid = fork();
	if (pid == 0)
	{
		sigset_t	none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(pipefd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(EXIT_INTERNAL);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);
	sched_argv_free(argv);
	if (pid < 0)
	{
		close(pipefd[0]);
		log_error("job %s: fork failed: %s", r->job.def.name, strerror(errno));
		record_run(s, r, "failed", EXIT_INTERNAL, r->start, "fork failed");
		return;
	}
	r->pid = pid;
	r->out_fd = pipefd[0];
	r->outlen = 0;
	r->out[0] = '\0';
	log_info("job %s: started (pid %d)", r->job.def.name, (int) pid);
	refresh_metrics(s, false);
}

static void
drain_output(RunState *r)
{
	char		buf[4096];
	ssize_t		n;

	while (r->out_fd >= 0 && (n = read(r->out_fd, buf, sizeof(buf))) > 0)
	{
		size_t		room = sizeof(r->out) - 1 - r->outlen;
		size_t		take = (size_t) n < room ? (size_t) n : room;

		memcpy(r->out + r->outlen, buf, take);
		r->outlen += take;
		r->out[r->outlen] = '\0';
	}
}

static void
finish_run(Scheduler *s, RunState *r, int status)
{
	int			code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	const char *outcome;
	char		message[256] = "";

	drain_output(r);
	if (r->out_fd >= 0)
		close(r->out_fd);
	r->out_fd = -1;
	r->pid = 0;
	if (code == 0 && strncmp(r->out, "skipped:", 8) == 0)
		outcome = "skipped";
	else if (code == 0)
		outcome = "ok";
	else
		outcome = s->stopping ? "aborted" : "failed";
	if (strcmp(outcome, "skipped") == 0)
		snprintf(message, sizeof(message), "%.*s", (int) strcspn(r->out + 9, "\n"), r->out + 9);
	else if (code != 0)
		snprintf(message, sizeof(message), s->stopping ? "stopped with the scheduler (exit %d)" :
				 "exit status %d (see the scheduler's log)", code);
	log_info("job %s: %s (exit %d, %.1f s)", r->job.def.name, outcome, code,
			 (double) (time_now() - r->start) / 1e6);
	record_run(s, r, outcome, code, r->start, message);
	refresh_metrics(s, false);
}

static void
reap(Scheduler *s)
{
	int			status;
	pid_t		pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < s->nruns; i++)
			if (s->runs[i].pid == pid)
			{
				finish_run(s, &s->runs[i], status);
				if (s->runs[i].removed)
				{
					memmove(&s->runs[i], &s->runs[i + 1], sizeof(RunState) * (size_t) (s->nruns - i - 1));
					s->nruns--;
				}
				break;
			}
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
		Repo	   *repo = cmd_open_repo_at(s->cfg, 0, &herr);

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
	refresh_metrics(s, true);
}

static void
stop_all(Scheduler *s)
{
	time_t		deadline = time(NULL) + STOP_WAIT_SECONDS;

	s->stopping = true;
	for (int i = 0; i < s->nruns; i++)
		if (s->runs[i].pid > 0)
		{
			log_info("job %s: stopping its run (pid %d)", s->runs[i].job.def.name, (int) s->runs[i].pid);
			kill(s->runs[i].pid, SIGTERM);
		}
	for (;;)
	{
		bool		any = false;

		reap(s);
		for (int i = 0; i < s->nruns; i++)
			any |= s->runs[i].pid > 0;
		if (!any)
			break;
		if (time(NULL) >= deadline)
		{
			for (int i = 0; i < s->nruns; i++)
				if (s->runs[i].pid > 0)
					kill(s->runs[i].pid, SIGKILL);
		}
		usleep(100 * 1000);
	}
}

/* ---------------------------------------------------------------- loop */

int
cmd_schedule(const Config *cfg, PgbError *err)
{
	Scheduler	s = {0};
	sigset_t	mask;
	int			sfd;
	int			rc = 0;

	s.cfg = (Config *) cfg;
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
	refresh_metrics(&s, true);
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

				start_run(&s, r);
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
			refresh_metrics(&s, true);
		for (int i = 0; i < s.nruns; i++)
			if (s.runs[i].next < wake)
				wake = s.runs[i].next;
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
				drain_output(&s.runs[i]);
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
		{
			if (si.ssi_signo == SIGCHLD)
				reap(&s);
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
