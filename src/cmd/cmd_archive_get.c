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

/*
 * The first repository that has the file, in configured order.  A
 * repository that cannot be reached (or opened) is skipped with a warning.
 * The file counts as not archived when a reachable repository says so and
 * no other delivered it: archive-push succeeds only once a segment is in
 * every repository, so a reachable repository that lacks it means it was
 * never archived.  A damaged copy is an error unless another repository
 * delivers a good one.
 */
static int
get_from_repositories(const Config *cfg, PgbError *err)
{
	bool		missing = false;
	bool		damaged = false;
	PgbError	first = {0};

	for (int i = 0; i < cfg->nrepos || i == 0; i++)
	{
		Repo	   *repo = cmd_open_repo_at(cfg, i, err);
		int			rc = repo ? wal_get(repo, cfg->args[0], cfg->args[1], err) : -1;

		repo_free(repo);
		if (rc == 0)
		{
			log_debug("restored WAL file \"%s\" from repository \"%s\"", cfg->args[0], cfg->repos[i].name);
			return 0;
		}
		if (err->code == EXIT_WAL_MISSING)
		{
			missing = true;
			continue;
		}
		if (cfg->nrepos > 1)
		{
			pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
			log_warn("%s", err->msg);
		}
		if (err->code == EXIT_CORRUPT)
			damaged = true;
		if (!pgb_error_is_set(&first) || (err->code == EXIT_CORRUPT && first.code != EXIT_CORRUPT))
			first = *err;
		if (i + 1 >= cfg->nrepos)
			break;
	}
	if (missing && !damaged)
		return pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the archive", cfg->args[0]);
	*err = first;
	return -1;
}

int
cmd_archive_get(const Config *cfg, PgbError *err)
{
	int			rc = get_from_repositories(cfg, err);

	if (rc != 0 && err->code != EXIT_WAL_MISSING && access("standby.signal", F_OK) != 0 &&
		access("recovery.signal", F_OK) == 0)
		err->code = EXIT_RECOVERY_ABORT;
	return rc;
}
