/* Files of a pgBackRest archive fetched and read by pgbkp (see fetch.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fileio.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/fetch.h"

int
pgbr_tempdir(char *out, size_t len, PgbError *err)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(out, len, "%s/pgbkp-pgbr-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(out) == NULL)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create a temporary directory like \"%s\"", out);
	return 0;
}

int
pgbr_fetch(const RepoDef *def, const char *cluster, const char *dir, const char *name,
		   size_t max, char **data, size_t *len, PgbError *err)
{
	PgbrRun		run = {.command = "archive-get"};
	char		path[PGB_PATH_MAX];
	int			rc = -1;

	*data = NULL;
	*len = 0;
	if (fio_path_join(path, sizeof(path), dir, name, err) != 0)
		return -1;
	run.params[0] = name;
	run.params[1] = path;
	if (pgbr_exec(def, cluster, true, &run, err) != 0)
		goto done;
	/* archive-get exits 1, without an error code, when the archive has no such file */
	if (run.status == 1 && run.code == 0)
		pgb_error(err, EXIT_NOT_FOUND, "%s is not in pgBackRest's archive", name);
	else if (run.status != 0)
		pgbr_run_error(def, &run, err);
	else if (fio_read_small(path, max, data, len, err) == 0)
		rc = 0;
done:
	unlink(path);
	pgbr_run_free(&run);
	return rc;
}
