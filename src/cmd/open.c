/*
 * What a command opens and checks before its work (see open.h): the
 * repository (with a warning about a well-known passphrase), the connection
 * to the server at --pg-host (checked against the repository's system, and
 * refused on a standby or with archive_mode off), and the warning about
 * backups the catalogue could not read.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/open.h"
#include "common/fileio.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/keyring.h"
#include "repo/statedir.h"

void
cmd_warn_passphrase(const Config *cfg, int index)
{
	static bool warned[CONFIG_MAX_REPOS];
	const RepoDef *def = &cfg->repos[index];

	if (index < cfg->nrepos && def->encrypted && !warned[index] && keyring_passphrase_is_weak(def->cipher_pass))
	{
		warned[index] = true;
		log_warn("the encryption passphrase of repository \"%s\" is a well-known default or too short: "
				 "anyone who knows it can read the backups; set a long random cipher_pass", def->name);
	}
}

int
cmd_spool_base(const Config *cfg, const char *data_dir, char *out, size_t len, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	int			n;

	if (cfg->spool_path)
		n = snprintf(out, len, "%s", cfg->spool_path);
	else
	{
		if (data_dir != NULL)
			snprintf(dir, sizeof(dir), "%s", data_dir);
		else if (getcwd(dir, sizeof(dir)) == NULL)
			return pgb_error_errno(err, EXIT_IO, errno, "could not read the working directory");
		n = snprintf(out, len, "%s/spool", dirname(dir));
	}
	if (n < 0 || (size_t) n >= len)
		return pgb_error(err, EXIT_CONFIG, "the spool directory's path is too long");
	return 0;
}

Repo *
cmd_open_repo_at(const Config *cfg, int index, PgbError *err)
{
	const RepoDef *def = index < cfg->nrepos ? &cfg->repos[index] : NULL;
	Repo	   *repo = repo_open(def, cfg->cluster, err);

	if (repo != NULL && repo->encrypted)
		cmd_warn_passphrase(cfg, index);
	return repo;
}

Repo *
cmd_open_history_at(const Config *cfg, int index, PgbError *err)
{
	if (index >= cfg->nrepos || cfg->repos[index].type != REPO_TYPE_PGBACKREST)
		return cmd_open_repo_at(cfg, index, err);
	for (int j = 0; j < index; j++)
		if (cfg->repos[j].type == REPO_TYPE_PGBACKREST)
			return NULL;		/* the state directory's history is repository j's */
	return statedir_open(cfg->state_path, cfg->cluster, err);
}

Repo *
cmd_open_repo(const Config *cfg, PgbError *err)
{
	return cmd_open_repo_at(cfg, cfg->repo_current, err);
}

DbConn *
cmd_connect(const Config *cfg, PgbError *err)
{
	DbParams	p = {.host = cfg->pg_host, .port = cfg->pg_port, .user = cfg->pg_user, .dbname = cfg->pg_database};

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

void
cmd_warn_corrupt(const Catalog *cat)
{
	for (int i = 0; i < cat->ncorrupt; i++)
		log_warn("backup %s is unusable: %s (run \"pgbkp verify\")", cat->corrupt[i], cat->corrupt_error[i]);
}
