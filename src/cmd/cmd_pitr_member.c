/*
 * pgbkp pitr-member ACTION: one step of pitr on this member's host, run by
 * pitr (src/cmd/cmd_pitr.c) here or over ssh_command, as the database's
 * operating system user.  The member is --instance; its data directory is
 * its pg_data.  Results are printed as "@key=value" lines for pitr to read.
 *
 *   probe     what pitr must know before changing anything: the data
 *             directory, whether a server runs there, the free space, the
 *             newest directory an earlier pitr kept aside
 *   plan      the restore's plan (a dry run, nothing written) as JSON
 *   stop      stop the server (fast shutdown), if one runs
 *   aside     rename the data directory to DATA.pitr-STAMP, after checking
 *             that its file system can also hold the restored copy
 *   remove    remove the data directory (pitr --no-keep)
 *   recover   restore in place to the target, start the server on a private
 *             socket with its own archiving, wait until recovery reached the
 *             target and promoted it, remove the recovery settings, stop it
 *   start     start the server with its own configuration (Patroni adopts it)
 *   standby   rebuild this member as a replica (restore --standby --delta)
 *   empty     empty the data directory (Patroni then clones the leader)
 *   undo      put the newest DATA.pitr-* back as the data directory, the
 *             current one kept as DATA.undone-STAMP
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/restore_child.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/subproc.h"
#include "drill/pgserver.h"
#include "pg/bindir.h"
#include "pg/db.h"
#include "restore/dirs.h"

#define FREE_SPACE_MARGIN (256ULL * 1024 * 1024)	/* WAL replayed, the server's own files */

static volatile sig_atomic_t member_stop;
static volatile pid_t restore_pid;
static PgServer *volatile live_server;

static void
on_signal(int sig)
{
	member_stop = sig;
	if (restore_pid > 0)
		kill(restore_pid, SIGTERM);
	if (live_server)
		pgserver_signal_stop(live_server);
}

/* pg_ctl with args after "-D data"; its output is logged. */
static int
pg_ctl(const char *data, const char *const *args, PgbError *err)
{
	char		bindir[PGB_PATH_MAX],
				prog[PGB_PATH_MAX + 16],
				out[4096];
	const char *argv[16];
	int			n = 0,
				rc;

	if (pg_bindir_of_data(data, bindir, sizeof(bindir), err) != 0)
		return -1;
	snprintf(prog, sizeof(prog), "%s/pg_ctl", bindir);
	argv[n++] = prog;
	argv[n++] = "-D";
	argv[n++] = data;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((rc = subproc_run(argv, out, sizeof(out), NULL, err)) < 0)
		return -1;
	if (out[0])
		log_info("pg_ctl %s: %s", args[0], out);
	if (rc != 0)
		return pgb_error(err, EXIT_DATABASE, "pg_ctl %s in \"%s\" failed (exit %d): %.300s", args[0], data, rc, out);
	return 0;
}

/* The newest sibling DATA.pitr-STAMP of data, or "" (stamps sort by time). */
static void
newest_aside(const char *data, char *out, size_t len)
{
	char		copy[PGB_PATH_MAX],
				copy2[PGB_PATH_MAX],
				prefix[PGB_PATH_MAX + 8],
				best[256] = "";
	const char *dir,
			   *base;
	DIR		   *d;
	struct dirent *e;

	out[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", data);
	snprintf(copy2, sizeof(copy2), "%s", data);
	dir = dirname(copy);
	base = basename(copy2);
	snprintf(prefix, sizeof(prefix), "%s.pitr-", base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strlen(e->d_name) < sizeof(best) &&
			strcmp(e->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	if (best[0])
		snprintf(out, len, "%s/%s", dir, best);
}

static unsigned long long
free_bytes(const char *path)
{
	struct statvfs fs;

	return statvfs(path, &fs) == 0 ? (unsigned long long) fs.f_bavail * fs.f_frsize : 0;
}

/* The parent directory of data (for free space and renames). */
static void
parent_of(const char *data, char *out, size_t len)
{
	char		copy[PGB_PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", data);
	snprintf(out, len, "%s", dirname(copy));
}

/* The restore pitr runs, into data, as rc. */
static void
restore_config(const Config *cfg, const char *target_dir, Config *rc)
{
	*rc = *cfg;
	rc->target_dir = (char *) target_dir;
	rc->target_action = "promote";
	rc->archive_mode = "preserve";
	rc->force = false;
	rc->standby = false;
	rc->dry_run = false;
	rc->output = NULL;
	rc->restore_nextra = 0;
}

static int
step_plan(const Config *cfg, const char *data, char **plan, PgbError *err)
{
	Config		rc;
	char		where[PGB_PATH_MAX + 16];

	/* planned for a directory that does not exist: the real one still runs */
	snprintf(where, sizeof(where), "%s.pitr-plan", data);
	restore_config(cfg, where, &rc);
	rc.delta = false;
	rc.dry_run = true;
	rc.output = "json";
	return restore_child_run(&rc, plan, &restore_pid, &member_stop, err);
}

static int
step_probe(const Config *cfg, const char *data, PgbError *err)
{
	char		aside[PGB_PATH_MAX],
				parent[PGB_PATH_MAX],
				host[256] = "";
	struct stat st;
	bool		exists = stat(data, &st) == 0;

	newest_aside(data, aside, sizeof(aside));
	parent_of(data, parent, sizeof(parent));
	gethostname(host, sizeof(host) - 1);
	printf("@host=%s\n@data=%s\n@exists=%d\n@running=%d\n@free=%llu\n@aside=%s\n@owner=%d\n", host, data,
		   exists, exists && restore_dir_server_running(data), free_bytes(exists ? data : parent), aside,
		   exists && st.st_uid == geteuid());
	return 0;
}

static int
require_stopped(const char *data, PgbError *err)
{
	if (restore_dir_server_running(data))
		return pgb_error(err, EXIT_REFUSED, "a PostgreSQL server still runs in \"%s\"", data);
	return 0;
}

static int
step_stop(const Config *cfg, const char *data, PgbError *err)
{
	char		timeout[16];
	const char *args[] = {"stop", "-m", "fast", "-w", "-t", timeout, NULL};

	snprintf(timeout, sizeof(timeout), "%d", cfg->pitr_timeout);
	if (restore_dir_server_running(data) && pg_ctl(data, args, err) != 0)
		return -1;
	if (require_stopped(data, err) != 0)
		return -1;
	printf("@stopped=%s\n", data);
	return 0;
}

static int
step_aside(const Config *cfg, const char *data, PgbError *err)
{
	char	   *plan = NULL;
	char		backup[128],
				to[PGB_PATH_MAX + 64];
	long long	files,
				bytes;
	unsigned long long avail = free_bytes(data);

	if (cfg->stamp == NULL || strchr(cfg->stamp, '/'))
		return pgb_error(err, EXIT_USAGE, "pitr-member aside needs --stamp");
	if (require_stopped(data, err) != 0 || step_plan(cfg, data, &plan, err) != 0 ||
		restore_child_plan_summary(plan, backup, sizeof(backup), &files, &bytes, err) != 0)
	{
		free(plan);
		return -1;
	}
	free(plan);
	if (avail < (unsigned long long) bytes + FREE_SPACE_MARGIN)
		return pgb_error(err, EXIT_IO,
						 "not enough free space to keep the old data directory aside: %.1f MB free beside \"%s\", about %.1f MB needed for the restored copy",
						 avail / 1048576.0, data, ((unsigned long long) bytes + FREE_SPACE_MARGIN) / 1048576.0),
			pgb_hint(err, "free space, or give up the old directory with --no-keep (or restore over it with --delta)");
	snprintf(to, sizeof(to), "%s.pitr-%s", data, cfg->stamp);
	if (access(to, F_OK) == 0)
		return pgb_error(err, EXIT_REFUSED, "\"%s\" already exists", to);
	if (rename(data, to) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", data, to);
	if (fio_fsync_parent(to, err) != 0)
		return -1;
	printf("@aside=%s\n", to);
	return 0;
}

/* Run SQL on the private server, one statement. */
static int
server_sql(PgServer *srv, const char *sql, DbTable *t, PgbError *err)
{
	DbParams	p;
	DbConn	   *c;
	DbTable		ignored = {0};
	int			rc;

	pgserver_params(srv, "postgres", &p);
	if ((c = db_connect(&p, err)) == NULL)
		return -1;
	rc = db_query_table(c, sql, t ? t : &ignored, err);
	if (t == NULL)
		db_table_free(&ignored);
	db_close(c);
	return rc;
}

static int
step_recover(const Config *cfg, const char *data, PgbError *err)
{
	Config		rc;
	PgServer	srv = {0};
	DbTable		t = {0};
	char		stopped[1024];
	static const char *const needles[] = {"recovery stopping", "selected new timeline", NULL};
	/* what restore wrote into postgresql.auto.conf: a primary must not keep it */
	static const char *const settings[] = {"restore_command", "recovery_target", "recovery_target_time",
		"recovery_target_lsn", "recovery_target_xid", "recovery_target_name", "recovery_target_inclusive",
	"recovery_target_timeline", "recovery_target_action", "recovery_end_command", NULL};

	restore_config(cfg, data, &rc);
	rc.window_end_checked = true;
	if (restore_child_run(&rc, NULL, &restore_pid, &member_stop, err) != 0)
		return -1;
	printf("@restored=%s\n", data);
	fflush(stdout);

	if (pg_bindir_of_data(data, srv.bindir, sizeof(srv.bindir), err) != 0 ||
		(snprintf(srv.rundir, sizeof(srv.rundir), "%s/pgbkp-pitr-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"),
		 mkdtemp(srv.rundir) == NULL))
		return pgb_error_errno(err, EXIT_IO, errno, "could not make a private directory for the server");
	snprintf(srv.datadir, sizeof(srv.datadir), "%s", data);
	srv.port = 5432;
	srv.user = cfg->pg_user;
	srv.archive = true;
	srv.name = "pgbkp-pitr";
	live_server = &srv;
	log_info("recovering \"%s\" to the target on a private socket", data);
	if (pgserver_start(&srv, err) != 0 || pgserver_wait_up(&srv, cfg->pitr_timeout, &member_stop, err) != 0)
	{
		pgserver_stop(&srv, &(PgbError) {0});
		live_server = NULL;
		return -1;
	}
	pgserver_log_grep(&srv, needles, stopped, sizeof(stopped));
	for (int i = 0; settings[i]; i++)
	{
		char		sql[128];

		snprintf(sql, sizeof(sql), "ALTER SYSTEM RESET %s", settings[i]);
		if (server_sql(&srv, sql, NULL, err) != 0)
		{
			pgserver_stop(&srv, &(PgbError) {0});
			live_server = NULL;
			return -1;
		}
	}
	if (server_sql(&srv, "CHECKPOINT", NULL, err) != 0 ||
		server_sql(&srv, "SELECT timeline_id, pg_current_wal_lsn(), pg_last_xact_replay_timestamp()"
				   " FROM pg_control_checkpoint()", &t, err) != 0)
	{
		pgserver_stop(&srv, &(PgbError) {0});
		live_server = NULL;
		return -1;
	}
	printf("@timeline=%s\n@lsn=%s\n@recovery=%s\n", db_table_cell(&t, 0, 0) ? db_table_cell(&t, 0, 0) : "",
		   db_table_cell(&t, 0, 1) ? db_table_cell(&t, 0, 1) : "", stopped);
	db_table_free(&t);
	if (pgserver_stop(&srv, err) != 0)
		return -1;
	live_server = NULL;
	fio_remove_tree(srv.rundir, &(PgbError) {0});
	return 0;
}

/* The last lines of the newest file of the server's log_directory (postgres -C), for an error. */
static void
server_log_tail(const char *data, char *out, size_t len)
{
	char		bindir[PGB_PATH_MAX],
				prog[PGB_PATH_MAX + 16],
				dir[PGB_PATH_MAX],
				path[PGB_PATH_MAX * 2 + 2],
				best[256] = "";
	const char *argv[] = {prog, "-D", data, "-C", "log_directory", NULL};
	PgbError	e = {0};
	time_t		newest = 0;
	DIR		   *d;
	struct dirent *ent;
	char	   *text = NULL;
	size_t		n = 0;

	out[0] = '\0';
	if (pg_bindir_of_data(data, bindir, sizeof(bindir), &e) != 0)
		return;
	snprintf(prog, sizeof(prog), "%s/postgres", bindir);
	if (subproc_run(argv, dir, sizeof(dir), NULL, &e) != 0)
		return;
	dir[strcspn(dir, "\n")] = '\0';
	if (dir[0] != '/')
	{
		char		rel[PGB_PATH_MAX];

		snprintf(rel, sizeof(rel), "%s", dir);
		if (fio_path_join(dir, sizeof(dir), data, rel, &e) != 0)
			return;
	}
	if ((d = opendir(dir)) == NULL)
		return;
	while ((ent = readdir(d)) != NULL)
	{
		struct stat st;

		if (ent->d_name[0] != '.' && fstatat(dirfd(d), ent->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) &&
			st.st_mtime >= newest && strlen(ent->d_name) < sizeof(best))
		{
			newest = st.st_mtime;
			snprintf(best, sizeof(best), "%s", ent->d_name);
		}
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", dir, best);
	if (best[0] && fio_read_small(path, 64 * 1024 * 1024, &text, &n, &e) == 0)
	{
		size_t		from = n > len - 1 ? n - (len - 1) : 0;

		snprintf(out, len, "%s", text + from);
		for (char *c = out; *c; c++)
			if (*c == '\n')
				*c = ' ';
	}
	free(text);
}

static int
step_start(const Config *cfg, const char *data, PgbError *err)
{
	char		timeout[16],
				logfile[PGB_PATH_MAX];
	const char *args[] = {"start", "-w", "-t", timeout, "-l", logfile, NULL};
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int			fd;
	int			rc = -1;

	snprintf(timeout, sizeof(timeout), "%d", cfg->pitr_timeout);
	snprintf(logfile, sizeof(logfile), "%s/pgbkp-pitr-start-XXXXXX", tmp);
	for (int attempt = 0; attempt < 2 && rc != 0; attempt++)
	{
		if ((fd = mkstemp(logfile)) < 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not make a log file in %s", tmp);
		close(fd);
		if ((rc = pg_ctl(data, args, err)) == 0 || restore_dir_server_running(data))
		{
			if (rc != 0)
				log_warn("pg_ctl start reported a failure, but a server runs in \"%s\" (%s)", data, err->msg);
			unlink(logfile);
			pgb_error_clear(err);
			printf("@started=%s\n", data);
			return 0;
		}
		{
			char		tail[700],
						early[300] = "";
			char	   *text = NULL;
			PgbError	e = {0};

			server_log_tail(data, tail, sizeof(tail));
			if (fio_read_small(logfile, 64 * 1024, &text, NULL, &e) == 0)
				snprintf(early, sizeof(early), "%s", text);
			free(text);
			unlink(logfile);
			for (char *c = early; *c; c++)
				if (*c == '\n')
					*c = ' ';
			log_warn("PostgreSQL did not start in \"%s\"%s: %s %s", data, attempt ? "" : " (trying once more)", early,
					 tail);
		}
		snprintf(logfile, sizeof(logfile), "%s/pgbkp-pitr-start-XXXXXX", tmp);
		if (attempt == 0)
			sleep(2);
	}
	return -1;
}

/*
 * Take a replica's data directory away from Patroni: stop its server and
 * rename the directory to DATA.pitr-SUFFIX at once.  A paused Patroni still
 * starts a stopped replica it wants to rewind, so a directory it can see is
 * never worked on; one it started in the moment between the stop and the
 * rename is stopped again in its new place.
 */
static int
take_away(const Config *cfg, const char *data, const char *suffix, char *to, size_t len, PgbError *err)
{
	if (snprintf(to, len, "%s.pitr-%s", data, suffix) >= (int) len)
		return pgb_error(err, EXIT_CONFIG, "the data directory's path is too long");
	if (access(to, F_OK) == 0 && fio_remove_tree(to, err) != 0)
		return -1;
	if (step_stop(cfg, data, err) != 0)
		return -1;
	if (rename(data, to) != 0 && errno != ENOENT)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", data, to);
	if (restore_dir_server_running(to) && step_stop(cfg, to, err) != 0)
		return -1;
	return 0;
}

/* Put a directory taken away back in place. */
static int
put_back(const char *from, const char *data, PgbError *err)
{
	if (rename(from, data) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" back to \"%s\"", from, data);
	return fio_fsync_parent(data, err);
}

static int
step_standby(const Config *cfg, const char *data, PgbError *err)
{
	Config		rc;
	char		work[PGB_PATH_MAX + 32];

	/* restored where Patroni does not look, then put in place whole */
	if (take_away(cfg, data, "rebuild", work, sizeof(work), err) != 0)
		return -1;
	restore_config(cfg, work, &rc);
	rc.standby = true;
	rc.delta = true;
	rc.target_action = cfg->target_action;
	rc.archive_mode = cfg->archive_mode;
	rc.target_time = rc.target_lsn = rc.target_xid = rc.target_name = NULL;
	rc.target_immediate = rc.target_exclusive = false;
	rc.target_timeline = NULL;
	if (restore_child_run(&rc, NULL, &restore_pid, &member_stop, err) != 0 || put_back(work, data, err) != 0)
		return -1;
	printf("@standby=%s\n", data);
	return 0;
}

/* An empty data directory, for Patroni to clone the leader into. */
static int
step_empty(const Config *cfg, const char *data, PgbError *err)
{
	char		work[PGB_PATH_MAX + 32];

	if (take_away(cfg, data, "discard", work, sizeof(work), err) != 0 ||
		(access(work, F_OK) == 0 && fio_remove_tree(work, err) != 0) ||
		fio_mkdir_p(data, 0700, err) != 0)
		return -1;
	printf("@empty=%s\n", data);
	return 0;
}

static int
step_undo(const Config *cfg, const char *data, PgbError *err)
{
	char		aside[PGB_PATH_MAX],
				undone[PGB_PATH_MAX + 64];
	char		stamp[32];
	time_t		now = time(NULL);

	newest_aside(data, aside, sizeof(aside));
	if (aside[0] == '\0')
		return pgb_error(err, EXIT_NOT_FOUND, "no data directory kept aside by pitr beside \"%s\"", data);
	if (require_stopped(data, err) != 0)
		return -1;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	snprintf(undone, sizeof(undone), "%s.undone-%s", data, stamp);
	if (access(data, F_OK) == 0 && rename(data, undone) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", data, undone);
	if (rename(aside, data) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" back to \"%s\"", aside, data);
	if (fio_fsync_parent(data, err) != 0)
		return -1;
	printf("@undone=%s\n@restored_from=%s\n", undone, aside);
	return 0;
}

int
cmd_pitr_member(const Config *cfg, PgbError *err)
{
	const char *action = cfg->args[0];
	const char *data = cfg->pg_data;
	struct sigaction sa = {0};
	char	   *plan = NULL;
	int			rc;

	if (data == NULL || data[0] != '/')
		return pgb_error(err, EXIT_CONFIG, "pitr-member: the member's data directory is not known"),
			pgb_hint(err, "set pg_data for the member in the inventory");
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (strcmp(action, "probe") == 0)
		rc = step_probe(cfg, data, err);
	else if (strcmp(action, "plan") == 0)
	{
		if ((rc = step_plan(cfg, data, &plan, err)) == 0)
		{
			/* one line: JSON without newlines */
			for (char *p = plan; p && *p; p++)
				if (*p == '\n')
					*p = ' ';
			printf("@plan=%s\n", plan ? plan : "");
		}
		free(plan);
	}
	else if (strcmp(action, "stop") == 0)
		rc = step_stop(cfg, data, err);
	else if (strcmp(action, "aside") == 0)
		rc = step_aside(cfg, data, err);
	else if (strcmp(action, "remove") == 0)
		rc = require_stopped(data, err) != 0 ? -1 : fio_remove_tree(data, err);
	else if (strcmp(action, "recover") == 0)
		rc = step_recover(cfg, data, err);
	else if (strcmp(action, "start") == 0)
		rc = step_start(cfg, data, err);
	else if (strcmp(action, "standby") == 0)
		rc = step_standby(cfg, data, err);
	else if (strcmp(action, "empty") == 0)
		rc = step_empty(cfg, data, err);
	else if (strcmp(action, "undo") == 0)
		rc = step_undo(cfg, data, err);
	else
		return pgb_error(err, EXIT_USAGE, "unknown pitr-member action \"%s\"", action),
			pgb_hint(err, "probe, plan, stop, aside, remove, recover, start, standby, empty or undo");
	fflush(stdout);
	return rc;
}
