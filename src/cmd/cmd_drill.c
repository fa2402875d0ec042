/*
 * pgbkp drill: prove that a backup restores, recovers, starts and holds
 * sound data, in one command whose report a CI system reads.
 *
 * Orchestration only: plan the restore (a dry run: the backup, its size,
 * the target checked, nothing written) and check the free space; restore
 * into a scratch directory; start a throwaway server there (drill/pgserver)
 * and wait until recovery reached the target and it was promoted; run the
 * checks (drill/checks); stop it and remove everything it wrote; print the
 * report (text or JSON) and write JUnit XML.  Both restore runs are child
 * processes, so a SIGINT or SIGTERM can stop whatever is running at once;
 * the drill then cleans up and exits with EXIT_INTERRUPTED.
 *
 * From a pgBackRest repository the restore is pgBackRest's (cmd/pgbr.h:
 * pgbkp plans it and checks the window first); the report is not recorded
 * there, as pgbkp never writes pgBackRest's repository.
 *
 * Exit status: 0 when every step passed; EXIT_CHECK_FAILED when the copy
 * restored and recovered but a check failed; the restore's or the server's
 * own code when it could not be restored or did not recover.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "cmd/restore_child.h"
#include "common/fileio.h"
#include "common/log.h"
#include "drill/checks.h"
#include "drill/pgserver.h"
#include "drill/report.h"
#include "drill/scratch.h"
#include "drill/usercheck.h"
#include "pg/bindir.h"
#include "repo/drillrec.h"
#include "sched/jobs.h"

#define FREE_SPACE_MARGIN (256ULL * 1024 * 1024)	/* WAL replayed, the server's own files */

static volatile sig_atomic_t drill_stop;
static volatile pid_t restore_pid;
static volatile pid_t tool_pid;
static PgServer *volatile live_server;

static void
on_signal(int sig)
{
	drill_stop = sig;
	if (restore_pid > 0)
		kill(restore_pid, SIGTERM);
	if (tool_pid > 0)
		kill(-tool_pid, SIGTERM);
	if (live_server)
		pgserver_signal_stop(live_server);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run cmd_restore with rc in a child; see restore_child.h. */
static int
run_restore(const Config *rc, char **plan, PgbError *err)
{
	return restore_child_run(rc, plan, &restore_pid, &drill_stop, err);
}

/* What the drill recovers to, in words. */
static void
describe_target(const Config *cfg, char *out, size_t len)
{
	if (cfg->target_time)
		snprintf(out, len, "time %s", cfg->target_time);
	else if (cfg->target_lsn)
		snprintf(out, len, "LSN %s", cfg->target_lsn);
	else if (cfg->target_xid)
		snprintf(out, len, "transaction %s", cfg->target_xid);
	else if (cfg->target_name)
		snprintf(out, len, "restore point %s", cfg->target_name);
	else if (cfg->target_immediate)
		snprintf(out, len, "consistency of the backup");
	else
		snprintf(out, len, "end of the archived WAL");
}

static bool
has_target(const Config *cfg)
{
	return cfg->target_time || cfg->target_lsn || cfg->target_xid || cfg->target_name || cfg->target_immediate;
}

/* The plan's backup, files and bytes; refuse when the directory's file system cannot hold it. */
static int
check_plan(const char *plan, const char *dir, char *backup, size_t blen, long long *files, long long *bytes,
		   PgbError *err)
{
	struct statvfs fs;
	unsigned long long avail;

	if (restore_child_plan_summary(plan, backup, blen, files, bytes, err) != 0)
		return -1;
	if (statvfs(dir, &fs) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not read the free space of \"%s\"", dir);
	avail = (unsigned long long) fs.f_bavail * fs.f_frsize;
	if (avail < (unsigned long long) *bytes + FREE_SPACE_MARGIN)
		return pgb_error(err, EXIT_IO, "not enough free space for the drill in \"%s\": %.1f MB free, about %.1f MB needed",
						 dir, avail / 1048576.0, ((unsigned long long) *bytes + FREE_SPACE_MARGIN) / 1048576.0),
			pgb_hint(err, "choose another place with --target-dir or TMPDIR");
	return 0;
}

/* Mark the steps that did not run. */
static void
skip_rest(DrillReport *r, const UserCheckList *checks, const char *why)
{
	const char *names[] = {"recovery", "checksums", "amcheck", "read tables", NULL};

	for (int i = 0; names[i]; i++)
	{
		bool		have = false;

		for (int j = 0; j < r->nsteps; j++)
			have |= strcmp(r->steps[j].name, names[i]) == 0;
		if (!have)
			drill_step_set(drill_step_add(r, names[i]), STEP_SKIPPED, "%s", why);
	}
	for (int i = 0; i < checks->count; i++)
	{
		char		name[112];

		snprintf(name, sizeof(name), "check: %s", checks->items[i].name);
		drill_step_set(drill_step_add(r, name), STEP_SKIPPED, "%s", why);
	}
}

/* The recovery step's message from the server's log. */
static void
recovery_message(const Config *cfg, const PgServer *srv, DrillStep *step)
{
	const char *where[] = {"recovery stopping", "last completed transaction", "redo done at",
	"selected new timeline", NULL};
	const char *stopped[] = {"recovery stopping", NULL};
	char		lines[900],
				stop[400];

	pgserver_log_grep(srv, where, lines, sizeof(lines));
	pgserver_log_grep(srv, stopped, stop, sizeof(stop));
	if (has_target(cfg) && stop[0] == '\0')
		drill_step_set(step, STEP_FAILED, "promoted, but the log does not say recovery stopped at the target: %s",
					   lines);
	else
		drill_step_set(step, STEP_PASSED, "promoted and accepting connections; %s", lines);
}

static void
run_checks(const Config *cfg, DrillEnv *env, DrillReport *r, const UserCheckList *checks, PgbError *err)
{
	DrillStep  *s;
	bool		sums = false;
	double		t0;

	s = drill_step_add(r, "checksums");
	t0 = now_seconds();
	if (drill_data_checksums(env, &sums, err) != 0)
		drill_step_set(s, STEP_FAILED, "could not ask the copy: %s", err->msg);
	else if (!sums)
		drill_step_set(s, STEP_SKIPPED, "data checksums are off in this cluster");
	else if (drill_check_checksums(env, s, err) != 0)
	{
		s->seconds = now_seconds() - t0;
		drill_step_set(s, STEP_FAILED, "the copy did not start again after the checksum pass: %s", err->msg);
		skip_rest(r, checks, "the copy is not running");
		return;
	}
	pgb_error_clear(err);
	s->seconds = now_seconds() - t0;

	s = drill_step_add(r, "amcheck");
	t0 = now_seconds();
	drill_check_amcheck(env, s);
	s->seconds = now_seconds() - t0;

	s = drill_step_add(r, "read tables");
	t0 = now_seconds();
	drill_check_tables(env, s);
	s->seconds = now_seconds() - t0;

	for (int i = 0; i < checks->count && !drill_stop; i++)
	{
		char		name[112];

		snprintf(name, sizeof(name), "check: %s", checks->items[i].name);
		s = drill_step_add(r, name);
		t0 = now_seconds();
		drill_check_user(env, &checks->items[i], s);
		s->seconds = now_seconds() - t0;
	}
	(void) cfg;
}

/* Leave the report in the repository for info and the metrics (a failure is a warning). */
static void
record_drill(const Config *cfg, const DrillReport *r)
{
	PgbError	e = {0};
	char		node[128];
	char	   *json;
	Repo	   *repo;

	if (pgbr_is_repo(cfg, cfg->repo_current))
	{
		log_info("the drill's report is not recorded: repository \"%s\" is pgBackRest's, which only pgBackRest writes",
				 cfg->repos[cfg->repo_current].name);
		return;
	}
	json = drill_report_json(r);
	repo = json ? cmd_open_repo(cfg, &e) : NULL;

	if (repo && drillrec_write(repo, json, r->started, sched_node_name(cfg, node, sizeof(node)), &e) == 0)
		log_info("drill report recorded in repository \"%s\"", repo->name);
	else
		log_warn("the drill's report could not be recorded in the repository: %s", e.msg[0] ? e.msg : "out of memory");
	repo_free(repo);
	free(json);
}

static int
write_outputs(const Config *cfg, const DrillReport *r, PgbError *err)
{
	if (cfg->output && strcmp(cfg->output, "json") == 0)
	{
		char	   *j = drill_report_json(r);

		if (j == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		printf("%s\n", j);
		free(j);
	}
	else
		drill_report_text(r, stdout);
	fflush(stdout);
	if (cfg->junit)
	{
		char	   *x = drill_report_junit(r);
		int			rc;

		if (x == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		rc = fio_write_atomic(cfg->junit, x, strlen(x), 0644, err);
		free(x);
		if (rc != 0)
			return pgb_error_context(err, "--junit");
	}
	return 0;
}

/* Exit status from what happened (see the header). */
static int
conclude(const DrillReport *r, PgbError *failure, PgbError *err)
{
	if (drill_stop)
		return pgb_error(err, EXIT_INTERRUPTED, "the drill was interrupted by signal %d; everything it started was removed",
						 (int) drill_stop);
	if (failure->code)
	{
		*err = *failure;
		return -1;
	}
	if (drill_report_failed(r))
	{
		char		names[512] = "";
		size_t		n = 0;
		int			nfail = 0;

		for (int i = 0; i < r->nsteps; i++)
			if (r->steps[i].result == STEP_FAILED)
			{
				nfail++;
				if (n < sizeof(names))
					n += (size_t) snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", r->steps[i].name);
			}
		return pgb_error(err, EXIT_CHECK_FAILED, "drill failed: %d of %d steps failed (%s)", nfail, r->nsteps, names),
			pgb_hint(err, "the report above says what each step found");
	}
	return 0;
}

static int
drill_run(const Config *cfg, DrillDirs *dirs, const UserCheckList *checks, DrillReport *r, PgbError *failure)
{
	Config		rc = *cfg;
	char	   *plan = NULL;
	char		backup[128];
	long long	files = 0,
				bytes = 0;
	PgServer	srv = {0};
	DrillEnv	env = {0};
	DrillStep  *s;
	double		t0;
	char		target[120];

	describe_target(cfg, target, sizeof(target));

	/* the restore: planned (nothing written), then into the scratch directory */
	rc.target_dir = dirs->data;
	rc.target_action = "promote";
	rc.archive_mode = "off";
	rc.delta = rc.force = rc.standby = false;
	rc.restore_nextra = 0;
	rc.output = "json";
	rc.dry_run = true;
	s = drill_step_add(r, "restore");
	t0 = now_seconds();
	if (run_restore(&rc, &plan, failure) != 0 ||
		check_plan(plan, dirs->data_existed ? dirs->data : dirs->run, backup, sizeof(backup), &files, &bytes,
				   failure) != 0)
	{
		free(plan);
		s->seconds = now_seconds() - t0;
		drill_step_set(s, STEP_FAILED, "%s", failure->msg);
		snprintf(r->target, sizeof(r->target), "%s", target);
		return -1;
	}
	free(plan);
	snprintf(r->target, sizeof(r->target), "backup %.100s, %s", backup, target);
	rc.dry_run = false;
	rc.output = NULL;
	/* the copy starts with the programs of the version it holds */
	if (run_restore(&rc, NULL, failure) != 0 || pg_bindir_of_data(dirs->data, srv.bindir, sizeof(srv.bindir), failure) != 0)
	{
		s->seconds = r->restore_seconds = now_seconds() - t0;
		drill_step_set(s, STEP_FAILED, "%s", failure->msg);
		return -1;
	}
	s->seconds = r->restore_seconds = now_seconds() - t0;
	if (files > 0)
		drill_step_set(s, STEP_PASSED, "backup %s: %lld files, %.1f MB", backup, files, bytes / 1048576.0);
	else						/* pgBackRest does not count a backup's files */
		drill_step_set(s, STEP_PASSED, "backup %s: %.1f MB", backup, bytes / 1048576.0);

	/* the copy, up and promoted */
	snprintf(srv.datadir, sizeof(srv.datadir), "%s", dirs->data);
	snprintf(srv.rundir, sizeof(srv.rundir), "%s", dirs->run);
	srv.port = cfg->clone_port ? cfg->clone_port : 5432;
	srv.tcp = cfg->clone_port != 0;
	srv.user = cfg->pg_user;
	s = drill_step_add(r, "recovery");
	t0 = now_seconds();
	live_server = &srv;
	if (pgserver_start(&srv, failure) != 0 || pgserver_wait_up(&srv, cfg->drill_timeout, &drill_stop, failure) != 0)
	{
		s->seconds = r->recovery_seconds = now_seconds() - t0;
		drill_step_set(s, STEP_FAILED, "%s", failure->msg);
		pgserver_stop(&srv, &(PgbError) {0});
		live_server = NULL;
		return -1;
	}
	s->seconds = r->recovery_seconds = now_seconds() - t0;
	recovery_message(cfg, &srv, s);

	/* the checks */
	env.server = &srv;
	env.dbname = cfg->pg_database;
	env.thorough = cfg->thorough;
	env.timeout = cfg->drill_timeout;
	env.tool_pid = &tool_pid;
	env.stop = &drill_stop;
	t0 = now_seconds();
	run_checks(cfg, &env, r, checks, &(PgbError) {0});
	r->checks_seconds = now_seconds() - t0;
	if (pgserver_stop(&srv, failure) != 0)
		log_warn("%s", failure->msg);
	pgb_error_clear(failure);
	live_server = NULL;
	return 0;
}

int
cmd_drill(const Config *cfg, PgbError *err)
{
	UserCheckList checks = {0};
	DrillDirs	dirs = {0};
	DrillReport *r;
	PgbError	failure = {0};
	struct sigaction sa = {0},
				old_int,
				old_term;
	int			rc;

	if (geteuid() == 0)
		return pgb_error(err, EXIT_REFUSED, "a drill does not run as root: PostgreSQL refuses to"),
			pgb_hint(err, "run it as the database's operating system user, e.g. sudo -u postgres pgbkp drill ...");
	if (cfg->dry_run)
		return pgb_error(err, EXIT_USAGE, "drill has no --dry-run; restore --dry-run shows the plan");
	for (int i = 0; i < cfg->ndrill_checks; i++)
	{
		const DrillCheckDef *d = &cfg->drill_checks[i];

		if (usercheck_add(&checks, d->name, d->database, d->expect, d->sql, d->where ? d->where : "drill_checks",
						  err) != 0)
		{
			usercheck_list_free(&checks);
			return -1;
		}
	}
	for (int i = 0; i < cfg->check_sql.count; i++)
		if (usercheck_parse_file(cfg->check_sql.values[i], &checks, err) != 0)
		{
			usercheck_list_free(&checks);
			return -1;
		}
	if ((r = calloc(1, sizeof(*r))) == NULL)
	{
		usercheck_list_free(&checks);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	snprintf(r->cluster, sizeof(r->cluster), "%s", cfg->cluster ? cfg->cluster : "");
	r->started = time_now();
	if (drill_dirs_make(cfg->target_dir, &dirs, err) != 0)
	{
		free(r);
		usercheck_list_free(&checks);
		return -1;
	}

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (drill_run(cfg, &dirs, &checks, r, &failure) != 0)
		skip_rest(r, &checks, failure.code == EXIT_INTERRUPTED ? "interrupted" : "the copy could not be restored and recovered");
	if (cfg->keep && !drill_stop)
		snprintf(r->datadir, sizeof(r->datadir), "%s", dirs.data);
	else
	{
		PgbError	e = {0};

		if (drill_dirs_remove(&dirs, &e) != 0)
			log_warn("%s", e.msg);
	}
	if (cfg->keep && !drill_stop)
		log_info("kept the copy in %s and the server's log in %s/postgresql.log", dirs.data, dirs.run);

	if (!drill_stop)
		record_drill(cfg, r);
	rc = write_outputs(cfg, r, err);
	if (rc == 0)
		rc = conclude(r, &failure, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	drill_report_free(r);
	free(r);
	usercheck_list_free(&checks);
	return rc;
}
