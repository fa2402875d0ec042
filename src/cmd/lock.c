/*
 * The repository lock that backup and expire hold (see lock.h), with a
 * holder text naming the command, host, process and start time for whoever
 * finds it taken.
 */
#include <stdio.h>
#include <unistd.h>

#include "cmd/lock.h"
#include "common/fileio.h"
#include "common/timefmt.h"

/* "WHAT on host H, pid N, since TIME" for whoever finds the lock taken. */
static void
holder_text(char *out, size_t len, const char *what)
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

	holder_text(holder, sizeof(holder), what);
	if (repo_path(repo, path, REPO_BACKUP_LOCK) != 0)
	{
		pgb_error(err, EXIT_IO, "path too long for the lock of cluster \"%s\"", repo->cluster);
		return NULL;
	}
	return storage_lock(repo->storage, path, holder, err);
}
