/*
 * pgbkp archive-get WAL_NAME DEST: restore_command.
 *
 * A file that is not archived exits 1 without a word: PostgreSQL asks for
 * files that do not exist yet.  Any other failure while PostgreSQL is in
 * targeted or archive recovery (no standby.signal in the working directory,
 * which is the data directory) exits 126, which makes PostgreSQL stop
 * recovery instead of taking the failure for the end of WAL and promoting
 * too early.  A standby keeps the ordinary code and simply retries.
 */
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"
#include "repo/walarchive.h"

int
cmd_archive_get(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	int			rc = -1;

	if (repo != NULL)
	{
		rc = wal_get(repo, cfg->args[0], cfg->args[1], err);
		repo_free(repo);
	}
	if (rc == 0)
		log_debug("restored WAL file \"%s\"", cfg->args[0]);
	else if (err->code != EXIT_WAL_MISSING && access("standby.signal", F_OK) != 0 &&
			 access("recovery.signal", F_OK) == 0)
		err->code = EXIT_RECOVERY_ABORT;
	return rc;
}
