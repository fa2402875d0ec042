/* The ready markers of pg_wal/archive_status (see archstatus.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "pg/archstatus.h"

#define READY_SUFFIX ".ready"

/* The WAL file name of a marker's entry name, or false when it is no ready marker. */
static bool
ready_name(const char *entry, char *name)
{
	size_t		len = strlen(entry),
				slen = strlen(READY_SUFFIX);

	if (entry[0] == '.' || len <= slen || len - slen >= ARCHSTATUS_NAME_MAX ||
		strcmp(entry + len - slen, READY_SUFFIX) != 0)
		return false;
	memcpy(name, entry, len - slen);
	name[len - slen] = '\0';
	return true;
}

static bool
is_history(const char *name)
{
	size_t		len = strlen(name);

	return len > 8 && strcmp(name + len - 8, ".history") == 0;
}

/* PostgreSQL's archiving order: history files, then by name. */
static int
ready_cmp(const void *a, const void *b)
{
	const ArchReady *x = a,
			   *y = b;
	bool		hx = is_history(x->name),
				hy = is_history(y->name);

	if (hx != hy)
		return hx ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Every marker of wal_dir, in archiving order, with the pg_wal file's size
 * and the marker's time (caller frees *out).
 */
static int
scan(const char *wal_dir, ArchReady **out, int *n, PgbError *err)
{
	char		dir[PGB_PATH_MAX],
				path[PGB_PATH_MAX];
	DIR		   *d;
	struct dirent *e;
	int			cap = 0;
	struct stat st;

	*out = NULL;
	*n = 0;
	if (fio_path_join(dir, sizeof(dir), wal_dir, "archive_status", err) != 0)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", dir);
	while ((e = readdir(d)) != NULL)
	{
		ArchReady	r = {0};

		if (!ready_name(e->d_name, r.name))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0)
			continue;			/* archived meanwhile */
		r.ready_since = (int64_t) st.st_mtime;
		if (snprintf(path, sizeof(path), "%s/%s", wal_dir, r.name) < (int) sizeof(path) && stat(path, &st) == 0)
			r.size = (uint64_t) st.st_size;
		if (*n == cap)
		{
			ArchReady  *grown = realloc(*out, sizeof(ArchReady) * (size_t) (cap = cap ? cap * 2 : 64));

			if (grown == NULL)
			{
				closedir(d);
				free(*out);
				*out = NULL;
				return pgb_error(err, EXIT_INTERNAL, "out of memory");
			}
			*out = grown;
		}
		(*out)[(*n)++] = r;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, (size_t) *n, sizeof(ArchReady), ready_cmp);
	return 0;
}

int
archstatus_list(const char *wal_dir, ArchReady *out, int max, int *n, PgbError *err)
{
	ArchReady  *all;
	int			count;

	if (scan(wal_dir, &all, &count, err) != 0)
		return -1;
	*n = count < max ? count : max;
	if (*n > 0)
		memcpy(out, all, sizeof(ArchReady) * (size_t) *n);
	free(all);
	return 0;
}

int
archstatus_backlog(const char *wal_dir, ArchBacklog *out, PgbError *err)
{
	ArchReady  *all;
	int			count;

	memset(out, 0, sizeof(*out));
	if (scan(wal_dir, &all, &count, err) != 0)
		return -1;
	out->count = count;
	for (int i = 0; i < count; i++)
	{
		out->bytes += all[i].size;
		if (out->oldest == 0 || all[i].ready_since < out->oldest)
			out->oldest = all[i].ready_since;
	}
	free(all);
	return 0;
}

int
archstatus_data_backlog(const char *pg_data, ArchBacklog *out, PgbError *err)
{
	char		wal_dir[PGB_PATH_MAX];
	struct stat st;

	if (fio_path_join(wal_dir, sizeof(wal_dir), pg_data, "pg_wal", err) != 0)
		return -1;
	if (stat(wal_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return pgb_error(err, EXIT_NOT_FOUND, "\"%s\" is not the data directory of a server on this host (no pg_wal)",
						 pg_data);
	return archstatus_backlog(wal_dir, out, err);
}

bool
archstatus_is_ready(const char *wal_dir, const char *name)
{
	char		path[PGB_PATH_MAX];

	return snprintf(path, sizeof(path), "%s/archive_status/%s%s", wal_dir, name, READY_SUFFIX) < (int) sizeof(path) &&
		access(path, F_OK) == 0;
}
