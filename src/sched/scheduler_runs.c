/*
 * The scheduler's runs (see scheduler.h and scheduler_int.h): a due run
 * asks whether this member is the primary, then forks the job's pgbkp
 * command with its stdout on a pipe; when the child ends, its exit status
 * and the first line it wrote say how the run went (ok, skipped, failed,
 * or aborted when the scheduler stops), which goes into every
 * repository's job history and the job's metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "repo/history.h"
#include "sched/scheduler_int.h"

#define PRUNE_EVERY 20

/*
 * Whether this member is the primary now (the member_role hook): 1 yes, 0
 * no (note says why), -1 when it cannot be told (note has the error): that
 * is a failed run, not a skipped one.
 */
static int
this_is_primary(const Scheduler *s, char *note, size_t len)
{
	PgbError	err = {0};
	int			r = s->hooks->member_role(s->cfg, note, len, &err);

	if (r < 0)
		snprintf(note, len, "%.900s", err.msg);
	return r;
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
		Repo	   *repo = s->hooks->open_history(s->cfg, i, &err);

		if (repo == NULL && err.code == 0)
			continue;			/* recorded with an earlier repository's */
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
	snprintf(rec.node, sizeof(rec.node), "%s", sched_node_name(s->cfg, node, sizeof(node)));
	rec.start = start;
	rec.end = time_now();
	snprintf(rec.outcome, sizeof(rec.outcome), "%s", outcome);
	rec.exit_code = code;
	snprintf(rec.message, sizeof(rec.message), "%s", message ? message : "");
	if (strcmp(r->job.def.command, "backup") == 0 && strcmp(outcome, "ok") == 0)
		s->hooks->backup_of_run(s->cfg, start, rec.label, sizeof(rec.label), &rec.bytes);
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
void
scheduler_refresh_metrics(Scheduler *s, bool probe)
{
	MetricsSnapshot *m = &s->snap;

	s->hooks->refresh_metrics(s->hooks->refresh_arg, s->cfg, probe, m);
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

void
scheduler_start_run(Scheduler *s, RunState *r)
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
	switch (this_is_primary(s, note, sizeof(note)))
	{
		case 1:
			s->snap.is_primary = true;
			break;
		case 0:
			s->snap.is_primary = false;
			log_info("job %s: skipped: %s", r->job.def.name, note);
			record_run(s, r, "skipped", 0, time_now(), note);
			return;
		default:
			log_error("job %s: failed: cannot tell whether this member is the primary: %s", r->job.def.name, note);
			record_run(s, r, "failed", EXIT_DATABASE, time_now(), note);
			return;
	}
	if ((argv = sched_job_argv(s->cfg, &r->job, s->hooks->self, &err)) == NULL || pipe2(pipefd, O_CLOEXEC) != 0)
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
	scheduler_refresh_metrics(s, false);
}

void
scheduler_drain_output(RunState *r)
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

	scheduler_drain_output(r);
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
	scheduler_refresh_metrics(s, false);
}

void
scheduler_reap(Scheduler *s)
{
	int			status;
	pid_t		pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
	{
		if (scheduler_stream_reaped(s, pid, status))
			continue;
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
}

