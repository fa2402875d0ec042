/*
 * Where the server programs for a data directory are: its PG_VERSION file
 * names the major version, and Debian's layout (bindir.h) gives the path.
 * A restored copy is started with the programs of the version it holds,
 * whatever kind of repository it came from.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/fileio.h"
#include "pg/bindir.h"

int
pg_bindir_of_data(const char *data, char *out, size_t len, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text;
	char	   *end;
	long		major;

	if (fio_path_join(path, sizeof(path), data, "PG_VERSION", err) != 0 ||
		fio_read_small(path, 64, &text, NULL, err) != 0)
		return -1;
	errno = 0;
	major = strtol(text, &end, 10);
	if (errno != 0 || end == text || major < 9 || major > 99)
	{
		free(text);
		return pgb_error(err, EXIT_CORRUPT, "\"%s\" does not name a PostgreSQL major version", path);
	}
	free(text);
	pg_bindir((int) major, out, len);
	return 0;
}
