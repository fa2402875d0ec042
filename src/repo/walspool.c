/* archive-get's prefetch spool (see walspool.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "repo/walspool.h"

int
walspool_dir(const char *spool_path, const char *cluster, uint64_t sysid, bool make, char *out, size_t len,
			 PgbError *err)
{
	return walspool_dir_of(spool_path, cluster, sysid, "archive-get", make, out, len, err);
}

int
walspool_dir_of(const char *spool_path, const char *cluster, uint64_t sysid, const char *command, bool make,
				char *out, size_t len, PgbError *err)
{
	int			n = snprintf(out, len, "%s/pgbkp/%s-%" PRIu64 "/%s", spool_path, cluster, sysid, command);

	if (n < 0 || (size_t) n >= len)
		return pgb_error(err, EXIT_CONFIG, "spool_path \"%s\" is too long", spool_path);
	return make ? fio_mkdir_p(out, 0700, err) : 0;
}

bool
walspool_has(const char *dir, const char *name)
{
	char		path[PGB_PATH_MAX];

	return snprintf(path, sizeof(path), "%s/%s", dir, name) < (int) sizeof(path) && access(path, F_OK) == 0;
}

/* Copy src to dest durably (a temporary name, fsync, rename). */
static int
copy_file(const char *src, const char *dest, PgbError *err)
{
	char	   *data = NULL;
	size_t		len = 0;
	int			rc;

	if (fio_read_small(src, 1024UL * 1024 * 1024, &data, &len, err) != 0)
		return -1;
	rc = fio_write_atomic(dest, data, len, 0600, err);
	free(data);
	return rc;
}

int
walspool_take(const char *dir, const char *name, const char *dest, bool *taken, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	*taken = false;
	if (fio_path_join(path, sizeof(path), dir, name, err) != 0)
		return -1;
	if (rename(path, dest) == 0)
	{
		*taken = true;
		return fio_fsync_parent(dest, err);
	}
	if (errno == ENOENT)
		return 0;
	if (errno != EXDEV)
		return pgb_error_errno(err, EXIT_IO, errno, "could not move \"%s\" to \"%s\"", path, dest);
	if (copy_file(path, dest, err) != 0)
		return -1;
	unlink(path);
	*taken = true;
	return 0;
}

void
walspool_prune_before(const char *dir, const char *name)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && strcmp(e->d_name, name) < 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

int
walspool_clean(const char *dir, int *removed, PgbError *err)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	*removed = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", dir);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
	closedir(d);
	if (rmdir(dir) != 0 && errno != ENOENT)
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", dir);
	return 0;
}
