/* Durable local file operations (see fileio.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

int
fio_write_all(int fd, const void *buf, size_t len, const char *path, PgbError *err)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return pgb_error_errno(err, EXIT_IO, errno, "could not write file \"%s\"", path);
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

ssize_t
fio_read_full(int fd, void *buf, size_t len, const char *path, PgbError *err)
{
	size_t		got = 0;

	while (got < len)
	{
		ssize_t		n = read(fd, (char *) buf + got, len - got);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return pgb_error_errno(err, EXIT_IO, errno, "could not read file \"%s\"", path);
		}
		if (n == 0)
			break;
		got += (size_t) n;
	}
	return (ssize_t) got;
}

int
fio_fsync_fd(int fd, const char *path, PgbError *err)
{
	if (fsync(fd) != 0 && errno != EINVAL)
		return pgb_error_errno(err, EXIT_IO, errno, "could not fsync \"%s\"", path);
	return 0;
}

int
fio_fsync_path(const char *path, PgbError *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	int			rc;

	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\" to fsync it", path);
	rc = fio_fsync_fd(fd, path, err);
	close(fd);
	return rc;
}

int
fio_fsync_parent(const char *path, PgbError *err)
{
	char		parent[PGB_PATH_MAX];
	char	   *slash;

	if (strlen(path) >= sizeof(parent))
		return pgb_error(err, EXIT_IO, "path too long: \"%s\"", path);
	strcpy(parent, path);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		strcpy(parent, ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	return fio_fsync_path(parent, err);
}

int
fio_mkdir_p(const char *path, mode_t mode, PgbError *err)
{
	char		buf[PGB_PATH_MAX];
	size_t		len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return pgb_error(err, EXIT_IO, "invalid directory path \"%s\"", path);
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++)
	{
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == 0)
		{
			if (fio_fsync_parent(buf, err) != 0)
				return -1;
		}
		else if (errno != EEXIST)
			return pgb_error_errno(err, EXIT_IO, errno, "could not create directory \"%s\"", buf);
		else
		{
			struct stat st;

			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
				return pgb_error(err, EXIT_IO, "\"%s\" exists and is not a directory", buf);

			/*
			 * The last directory may have been made by a process killed
			 * before it fsynced the parent: make its entry durable now.
			 */
			if (i == len && fio_fsync_parent(buf, err) != 0)
				return -1;
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

int
fio_path_join(char *out, size_t outlen, const char *a, const char *b, PgbError *err)
{
	int			n = snprintf(out, outlen, "%s/%s", a, b);

	if (n < 0 || (size_t) n >= outlen)
		return pgb_error(err, EXIT_IO, "path too long: \"%s/%s\"", a, b);
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
fio_remove_tree(const char *path, PgbError *err)
{
	struct stat st;

	if (lstat(path, &st) != 0)
	{
		if (errno == ENOENT)
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not stat \"%s\"", path);
	}
	if (!S_ISDIR(st.st_mode))
	{
		if (unlink(path) != 0 && errno != ENOENT)
			return pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", path);
		return 0;
	}
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", path);
	return 0;
}

int
fio_empty_dir(const char *path, PgbError *err)
{
	DIR		   *dir = opendir(path);
	struct dirent *de;
	char		child[PGB_PATH_MAX];

	if (dir == NULL)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", path);
	while ((de = readdir(dir)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fio_path_join(child, sizeof(child), path, de->d_name, err) != 0 ||
			fio_remove_tree(child, err) != 0)
		{
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return 0;
}

int
fio_dir_is_empty(const char *path, bool *empty, bool *exists, PgbError *err)
{
	DIR		   *dir = opendir(path);
	struct dirent *de;

	*empty = true;
	*exists = false;
	if (dir == NULL)
	{
		if (errno == ENOENT)
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", path);
	}
	*exists = true;
	while ((de = readdir(dir)) != NULL)
	{
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
		{
			*empty = false;
			break;
		}
	}
	closedir(dir);
	return 0;
}

int
fio_read_small(const char *path, size_t max, char **out, size_t *len, PgbError *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	char	   *buf;
	ssize_t		n;

	if (fd < 0)
		return pgb_error_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno,
							   "could not open file \"%s\"", path);
	buf = malloc(max + 1);
	if (buf == NULL)
	{
		close(fd);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	n = fio_read_full(fd, buf, max + 1, path, err);
	close(fd);
	if (n < 0)
	{
		free(buf);
		return -1;
	}
	if ((size_t) n > max)
	{
		free(buf);
		return pgb_error(err, EXIT_IO, "file \"%s\" is larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = (size_t) n;
	return 0;
}

int
fio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, PgbError *err)
{
	char		tmp[PGB_PATH_MAX];
	int			fd;

	if (snprintf(tmp, sizeof(tmp), "%s.pgbkp-tmp", path) >= (int) sizeof(tmp))
		return pgb_error(err, EXIT_IO, "path too long: \"%s\"", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create file \"%s\"", tmp);
	if (fio_write_all(fd, buf, len, tmp, err) != 0 || fio_fsync_fd(fd, tmp, err) != 0)
	{
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0)
	{
		unlink(tmp);
		return pgb_error_errno(err, EXIT_IO, errno, "could not close file \"%s\"", tmp);
	}
	if (rename(tmp, path) != 0)
	{
		int			save = errno;

		unlink(tmp);
		return pgb_error_errno(err, EXIT_IO, save, "could not rename \"%s\" to \"%s\"", tmp, path);
	}
	return fio_fsync_parent(path, err);
}

int
fio_scratch_file(char *dir, size_t dirlen, const char *what, PgbError *err)
{
	const char *tmp = getenv("TMPDIR");
	char		name[PGB_PATH_MAX];
	int			fd;

	snprintf(dir, dirlen, "%s", tmp && tmp[0] ? tmp : "/tmp");
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (snprintf(name, sizeof(name), "%s/pgbkp-scratch-XXXXXX", dir) >= (int) sizeof(name))
		return pgb_error(err, EXIT_IO, "TMPDIR \"%s\" is too long", dir);
	fd = mkstemp(name);
	if (fd < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not create a temporary file for %s in \"%s\"", what, dir);
		return pgb_hint(err, "set TMPDIR to a writable directory with room for it (some 50 bytes per file of the data directory)");
	}
	unlink(name);
	return fd;
}
