/* Helpers shared by commands (see cmd_common.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

#define BACKUP_LOCK_NAME "lock/backup.lock"

const CommandEntry command_handlers[] = {
	{"init", cmd_init},
	{"backup", cmd_backup},
	{"archive-push", cmd_archive_push},
	{"archive-get", cmd_archive_get},
	{"restore", cmd_restore},
	{"info", cmd_info},
	{"verify", cmd_verify},
	{"check", cmd_check},
	{"expire", cmd_expire},
	{NULL, NULL}
};

Repo *
cmd_open_repo(const Config *cfg, PgbError *err)
{
	return repo_open(cfg->repo_path, cfg->cluster, err);
}

DbConn *
cmd_connect(const Config *cfg, PgbError *err)
{
	DbParams	p = {cfg->pg_host, cfg->pg_port, cfg->pg_user, cfg->pg_database};

	return db_connect(&p, err);
}

DbConn *
cmd_connect_checked(const Config *cfg, const Repo *repo, DbServerInfo *info, PgbError *err)
{
	DbConn	   *conn = cmd_connect(cfg, err);

	if (conn == NULL)
		return NULL;
	if (db_server_info(conn, info, err) != 0)
	{
		db_close(conn);
		return NULL;
	}
	if (info->system_identifier != repo->info.system_identifier)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "the server is database system %" PRIu64 ", but cluster \"%s\" in the repository is system %" PRIu64,
				  info->system_identifier, repo->cluster, repo->info.system_identifier);
		pgb_hint(err, "check --pg-host/--pg-port and --cluster");
		db_close(conn);
		return NULL;
	}
	return conn;
}

int
cmd_require_archiving_primary(const DbServerInfo *si, const char *what, PgbError *err)
{
	if (si->in_recovery)
	{
		pgb_error(err, EXIT_REFUSED, "the server is a standby; %s runs against the primary", what);
		return pgb_hint(err, "point --pg-host and --pg-port at the primary");
	}
	if (strcmp(si->archive_mode, "off") == 0)
	{
		pgb_error(err, EXIT_CONFIG, "archive_mode is off, so WAL never reaches the repository");
		return pgb_hint(err, "set archive_mode = on and archive_command = 'pgbkp ... archive-push %%p', then restart PostgreSQL");
	}
	return 0;
}

int
cmd_wait_for_wal(Repo *repo, const char *const *names, int n, int timeout, PgbError *err)
{
	struct timespec start,
				now;
	int			next = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;)
	{
		int			rc;

		while (next < n && wal_exists(repo, names[next], err, &rc))
			next++;
		if (next < n && rc != 0)
			return -1;
		if (next == n)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout)
		{
			pgb_error(err, EXIT_TIMEOUT, "WAL file \"%s\" did not reach the repository within %d seconds",
					  names[next], timeout);
			return pgb_hint(err, "check that archive_command runs \"pgbkp archive-push %%p\" with the same --cluster and "
							"--repo-path, and look at pg_stat_archiver and the server log for failures");
		}
		usleep(100 * 1000);
	}
}

void
cmd_warn_corrupt(const Catalog *cat)
{
	for (int i = 0; i < cat->ncorrupt; i++)
		log_warn("backup %s is unusable: %s (run \"pgbkp verify\")", cat->corrupt[i], cat->corrupt_error[i]);
}

int
cmd_self_path(char *out, size_t len, PgbError *err)
{
	ssize_t		n = readlink("/proc/self/exe", out, len - 1);

	if (n < 0)
		return pgb_error(err, EXIT_IO, "could not determine the path of the pgbkp executable");
	out[n] = '\0';
	return 0;
}

void
cmd_holder_text(char *out, size_t len, const char *what)
{
	char		host[256] = "unknown host";
	char		when[64];

	gethostname(host, sizeof(host) - 1);
	time_format_utc(time_now(), when, sizeof(when));
	snprintf(out, len, "%s on host %s, pid %d, since %s\n", what, host, (int) getpid(), when);
}

StorageLock *
cmd_lock_backups(Repo *repo, const char *what, PgbError *err)
{
	char		holder[512];
	char		path[PGB_PATH_MAX];

	cmd_holder_text(holder, sizeof(holder), what);
	if (repo_path(repo, path, BACKUP_LOCK_NAME) != 0)
	{
		pgb_error(err, EXIT_IO, "path too long for the lock of cluster \"%s\"", repo->cluster);
		return NULL;
	}
	return storage_lock(repo->storage, path, holder, err);
}
