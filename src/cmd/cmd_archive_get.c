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
 * The first repository that has the file, in configured order; one that
 * cannot be reached (or opened) is skipped with a warning.  The file counts
 * as not archived (exit 1, which ends recovery at that point) only when every
 * repository answered that it does not have it: repositories keep WAL for
 * different lengths of time, so one that lacks the file does not prove that
 * another one, unreachable now, lacks it too.  Otherwise the failure is an
 * error (126 during targeted or archive recovery: PostgreSQL stops instead
 * of promoting early).  restore pins a targeted recovery to the repository
 * it chose (--repo), so a repository that is down does not stop it.
 */
static int
get_from_repositories(const Config *cfg, PgbError *err)
{
	int			missing = 0;
	int			n = cfg->nrepos > 0 ? cfg->nrepos : 1;
	PgbError	first = {0};

	for (int i = 0; i < n; i++)
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
			missing++;
			continue;
		}
		if (n > 1)
		{
			pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
			log_warn("%s", err->msg);
		}
		if (!pgb_error_is_set(&first))
			first = *err;
	}
	if (missing == n)
		return pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the archive", cfg->args[0]);
	*err = first;
	if (missing > 0)
		pgb_hint(err, "%d of %d repositories do not have it; the others could not be asked", missing, n);
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
