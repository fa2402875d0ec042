/*
 * The scheduler's stream service (see scheduler_int.h): with stream: true
 * the scheduler keeps one pgbkp stream running as its child on this member,
 * with the scheduler's own command-line options, and starts it again
 * whenever it ends.  pgbkp stream finds the primary itself; where several
 * members run it, the replication slot admits one at a time and the others
 * wait and retry, so the stream goes on from another member when one host
 * goes away.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "sched/scheduler_int.h"

#define STREAM_BACKOFF_MAX 60
#define STREAM_STEADY_SECONDS 60

static time_t stream_started;

void
scheduler_stream_tick(Scheduler *s, time_t now, time_t *wake)
{
	SchedJob	job;
	PgbError	err = {0};
	char	  **argv;
	pid_t		pid;

	if (!s->cfg->stream && s->stream_pid > 0 && !s->stream_ending)
	{
		log_info("stream: no longer configured; stopping it");
		kill(s->stream_pid, SIGTERM);
		s->stream_ending = true;
	}
	if (!s->cfg->stream || s->stream_pid > 0 || s->stopping)
		return;
	if (now < s->stream_start_at)
	{
		if (s->stream_start_at < *wake)
			*wake = s->stream_start_at;
		return;
	}
	memset(&job, 0, sizeof(job));
	snprintf(job.def.name, sizeof(job.def.name), "stream");
	snprintf(job.def.command, sizeof(job.def.command), "stream");
	snprintf(job.def.run_on, sizeof(job.def.run_on), "any");
	if ((argv = sched_job_argv(s->cfg, &job, s->hooks->self, &err)) == NULL)
	{
		log_error("stream: could not start: %s", err.msg);
		s->stream_start_at = now + STREAM_BACKOFF_MAX;
		return;
	}
	pid = fork();
	if (pid == 0)
	{
		sigset_t	none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		_exit(EXIT_INTERNAL);
	}
	sched_argv_free(argv);
	if (pid < 0)
	{
		log_error("stream: fork failed");
		s->stream_start_at = now + STREAM_BACKOFF_MAX;
		return;
	}
	s->stream_pid = pid;
	stream_started = now;
	log_info("stream: started (pid %d)", (int) pid);
}

bool
scheduler_stream_reaped(Scheduler *s, pid_t pid, int status)
{
	time_t		now = time(NULL);
	int			code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	if (pid != s->stream_pid || pid <= 0)
		return false;
	s->stream_pid = 0;
	if (s->stopping || s->stream_ending)
	{
		s->stream_ending = false;
		log_info("stream: stopped (exit %d)", code);
		return true;
	}
	if (now - stream_started >= STREAM_STEADY_SECONDS || s->stream_backoff == 0)
		s->stream_backoff = 1;
	else if ((s->stream_backoff *= 2) > STREAM_BACKOFF_MAX)
		s->stream_backoff = STREAM_BACKOFF_MAX;
	s->stream_start_at = now + s->stream_backoff;
	log_warn("stream: ended (exit %d); starting it again in %d s", code, s->stream_backoff);
	return true;
}

void
scheduler_stream_stop(Scheduler *s)
{
	if (s->stream_pid > 0)
	{
		log_info("stream: stopping (pid %d)", (int) s->stream_pid);
		kill(s->stream_pid, SIGTERM);
	}
}
