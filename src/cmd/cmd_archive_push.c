/* pgbkp archive-push WAL_PATH: archive_command. */
#include <stddef.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"
#include "repo/walarchive.h"

int
cmd_archive_push(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	WalPushResult result;
	int			rc;

	if (repo == NULL)
		return -1;
	rc = wal_push(repo, cfg->args[0], cfg->compress_level, &result, err);
	if (rc == 0 && result == WAL_PUSH_ALREADY_PRESENT)
		log_info("WAL file \"%s\" was already archived with identical content", cfg->args[0]);
	else if (rc == 0)
		log_debug("archived WAL file \"%s\"", cfg->args[0]);
	repo_free(repo);
	return rc;
}
