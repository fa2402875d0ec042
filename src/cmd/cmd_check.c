/*
 * pgbkp check: prove the configuration works end to end: the repository is
 * there and belongs to this server, archiving is on, and a freshly switched
 * WAL segment reaches the repository within archive-timeout.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"

int
cmd_check(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	DbConn	   *conn;
	DbServerInfo si;
	char		walname[WAL_NAME_LEN + 1];
	const char *names[1] = {walname};
	int			rc = -1;

	if (repo == NULL)
		return -1;
	conn = cmd_connect_checked(cfg, repo, &si, err);
	if (conn == NULL)
		goto done;
	if (cmd_require_archiving_primary(&si, "check", err) != 0)
		goto done;
	if (strstr(si.archive_command, "pgbkp") == NULL)
		log_warn("archive_command \"%s\" does not mention pgbkp", si.archive_command);
	if (db_switch_wal(conn, walname, err) != 0)
		goto done;
	log_info("switched WAL; waiting for \"%s\" to reach the repository", walname);
	if (cmd_wait_for_wal(repo, names, 1, cfg->archive_timeout, err) != 0)
		goto done;
	printf("check ok: WAL file %s archived to repository %s for cluster %s\n",
		   walname, storage_description(repo->storage), repo->cluster);
	rc = 0;
done:
	db_close(conn);
	repo_free(repo);
	return rc;
}
