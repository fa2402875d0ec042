/* A drill's directories (see scratch.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/scratch.h"

#define SOCKET_PATH_MAX 107		/* sun_path, less the NUL */

int
drill_dirs_make(const char *target_dir, DrillDirs *d, PgbError *err)
{
	const char *tmp = getenv("TMPDIR");
	bool		empty,
				exists;

	snprintf(d->run, sizeof(d->run), "%s/pgbkp-drill-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (strlen(d->run) + strlen("/.s.PGSQL.65535") > SOCKET_PATH_MAX)
		return pgb_error(err, EXIT_CONFIG, "TMPDIR \"%s\" is too long for a socket directory", tmp),
			pgb_hint(err, "set TMPDIR to a shorter directory, e.g. /tmp");
	if (target_dir)
	{
		if (target_dir[0] != '/')
			return pgb_error(err, EXIT_USAGE, "target directory \"%s\" is not an absolute path", target_dir);
		if (fio_dir_is_empty(target_dir, &empty, &exists, err) != 0)
			return -1;
		if (exists && !empty)
			return pgb_error(err, EXIT_REFUSED, "\"%s\" is not an empty directory", target_dir),
				pgb_hint(err, "a drill restores into a new or empty directory");
		d->data_given = true;
		d->data_existed = exists;
	}
	if (mkdtemp(d->run) == NULL)
	{
		d->run[0] = '\0';
		return pgb_error_errno(err, EXIT_IO, errno, "could not create a directory under \"%s\"",
							   tmp && tmp[0] ? tmp : "/tmp");
	}
	if (target_dir)
		snprintf(d->data, sizeof(d->data), "%s", target_dir);
	else if (fio_path_join(d->data, sizeof(d->data), d->run, "data", err) != 0)
		return -1;
	return 0;
}

int
drill_dirs_remove(const DrillDirs *d, PgbError *err)
{
	PgbError	e = {0};
	int			rc = 0;

	if (d->data_given && d->data_existed)
		rc = fio_empty_dir(d->data, &e);
	else if (d->data_given)
		rc = fio_remove_tree(d->data, &e);
	if (rc != 0)
	{
		*err = e;
		pgb_error_context(err, "could not remove the drill's copy");
	}
	pgb_error_clear(&e);
	if (d->run[0] && fio_remove_tree(d->run, &e) != 0 && rc == 0)
	{
		*err = e;
		pgb_error_context(err, "could not remove the drill's directory");
		rc = -1;
	}
	return rc;
}
