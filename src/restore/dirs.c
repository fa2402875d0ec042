/* Restore target directories (see dirs.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "restore/dirs.h"

bool
restore_dir_server_running(const char *dir)
{
	char		path[PGB_PATH_MAX];
	char	   *text;
	PgbError	ignored;
	long		pid;

	if (fio_path_join(path, sizeof(path), dir, "postmaster.pid", &ignored) != 0 ||
		fio_read_small(path, 4096, &text, NULL, &ignored) != 0)
		return false;
	pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 && (kill((pid_t) pid, 0) == 0 || errno == EPERM);
}

int
restore_dir_check(const char *dir, bool delta, bool force, bool *created, bool *was_empty, PgbError *err)
{
	bool		empty,
				exists;

	if (restore_dir_server_running(dir))
	{
		pgb_error(err, EXIT_REFUSED, "a PostgreSQL server is running in \"%s\"", dir);
		return pgb_hint(err, "stop it first, or restore elsewhere with --target-dir");
	}
	if (fio_dir_is_empty(dir, &empty, &exists, err) != 0)
		return -1;
	if (created)
		*created = !exists;
	if (was_empty)
		*was_empty = empty;
	if (!empty && !delta && !force)
	{
		pgb_error(err, EXIT_REFUSED, "directory \"%s\" is not empty", dir);
		return pgb_hint(err, "use --delta to reuse matching files, --force to replace everything, or another --target-dir");
	}
	return 0;
}

int
restore_tablespaces_check(const Manifest *m, const char *target, const char *const *ts_dest,
						  bool delta, bool force, bool *ts_ours, PgbError *err)
{
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *dest = ts_dest[i];
		const char *oid = m->links[i].path + strlen("pg_tblspc/");
		bool		in_place = m->pgdata && strcmp(target, m->pgdata) == 0;
		bool		created,
					empty;

		if (dest[0] != '/')
			return pgb_error(err, EXIT_USAGE, "tablespace location \"%s\" is not an absolute path", dest);

		/*
		 * A tablespace left at its original location while the data
		 * directory goes elsewhere is most likely the live source cluster's:
		 * it is written only when empty, whatever --force or --delta say.
		 */
		if (dest == m->links[i].target && !in_place)
		{
			bool		exists;

			if (fio_dir_is_empty(dest, &empty, &exists, err) != 0)
				return -1;
			if (!empty)
			{
				pgb_error(err, EXIT_REFUSED, "tablespace %s would be restored to its original location \"%s\", "
						  "which is not empty and may belong to the source cluster", oid, dest);
				return pgb_hint(err, "map it elsewhere with --tablespace-map %s=DIR", oid);
			}
		}
		if (restore_dir_check(dest, delta, force, &created, &empty, err) != 0)
			return -1;
		/* ours to empty under --force, and to clean up if the restore fails */
		ts_ours[i] = created || empty || (force && !delta);
	}
	return 0;
}

int
restore_tablespaces_empty(const Manifest *m, const char *const *ts_dest, PgbError *err)
{
	for (int i = 0; i < m->nlinks; i++)
	{
		bool		empty,
					exists;

		if (fio_dir_is_empty(ts_dest[i], &empty, &exists, err) != 0 ||
			(!empty && fio_empty_dir(ts_dest[i], err) != 0))
			return -1;
	}
	return 0;
}
