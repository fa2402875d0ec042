/* Waiting for WAL to reach the repository (see wal_wait.h). */
#include <time.h>
#include <unistd.h>

#include "cmd/wal_wait.h"
#include "repo/walarchive.h"

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
