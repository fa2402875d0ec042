/* pgbkp init: create the cluster's namespace in the repository (idempotent). */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"
#include "pg/db.h"

int
cmd_init(const Config *cfg, PgbError *err)
{
	DbConn	   *conn;
	DbServerInfo si;
	RepoClusterInfo info = {0};
	Repo	   *repo;
	bool		created;

	if (repo_cluster_name_check(cfg->cluster, err) != 0)
		return -1;
	if (cfg->nrepos == 0)
		return pgb_error(err, EXIT_CONFIG, "no repository given"),
			pgb_hint(err, "use --repo-path DIR, PGBKP_REPO_PATH, or pgbackrest_repo / pg_fs_backup in the configuration file");
	conn = cmd_connect(cfg, err);
	if (conn == NULL)
		return -1;
	if (db_server_info(conn, &si, err) != 0)
	{
		db_close(conn);
		return -1;
	}
	db_close(conn);
	info.format = REPO_FORMAT_VERSION;
	info.system_identifier = si.system_identifier;
	info.pg_version = si.version_num;
	info.wal_segment_size = si.wal_segment_size;
	info.block_size = si.block_size;
	info.created = time_now();
	repo = repo_init(&cfg->repos[cfg->repo_current], cfg->cluster, &info, &created, err);
	if (repo == NULL)
		return -1;
	if (repo->encrypted)
		cmd_warn_passphrase(cfg, cfg->repo_current);
	if (created)
		log_info("initialized cluster \"%s\" (system %" PRIu64 ", PostgreSQL %d) in repository \"%s\" (%s%s)",
				 cfg->cluster, si.system_identifier, si.version_num / 10000, repo->name,
				 storage_description(repo->storage), repo->encrypted ? ", encrypted" : "");
	else
		log_info("cluster \"%s\" is already initialized in repository \"%s\" (%s%s)",
				 cfg->cluster, repo->name, storage_description(repo->storage), repo->encrypted ? ", encrypted" : "");
	if (si.archive_mode[0] == 'o' && si.archive_mode[1] == 'f')
		log_warn("archive_mode is off: backups cannot complete until WAL is archived; set archive_mode = on and "
				 "archive_command = 'pgbkp ... archive-push %%p'");
	repo_free(repo);
	return 0;
}
