/*
 * Local-directory storage.  Writes go to a hidden temporary file beside the
 * target (".NAME.tmp.PID"); commit fsyncs it, then renames it into place (or,
 * with no_overwrite, link()s it, which fails with EEXIST instead of
 * replacing), then fsyncs the directory.  Locks are flock()s on files that
 * hold the holder's description, so a crashed holder releases its lock; a
 * released lock's file is emptied.  A probe (storage_lock_probe) reads the
 * file and, when it names a holder, asks for a shared flock: refused means
 * held.  That shared flock lasts an instant, and a lock that meets one is
 * retried (LOCK_TRIES) instead of being reported as taken.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "storage/posix.h"
#include "storage/posix_temps.h"

#define DIR_MODE 0750
#define FILE_MODE 0640

typedef struct PosixStorage
{
	Storage		base;
	char	   *root;
} PosixStorage;

typedef struct PosixRead
{
	StorageRead base;
	int			fd;
	uint64_t	remaining;		/* UINT64_MAX: to the end */
	char		path[PGB_PATH_MAX];
} PosixRead;

typedef struct PosixWrite
{
	StorageWrite base;
	int			fd;
	char		path[PGB_PATH_MAX];
	char		tmp[PGB_PATH_MAX];
} PosixWrite;

typedef struct PosixLock
{
	Storage    *storage;
	int			fd;
} PosixLock;

static int
full_path(Storage *s, const char *rel, char *out, PgbError *err)
{
	return fio_path_join(out, PGB_PATH_MAX, ((PosixStorage *) s)->root, rel, err);
}

static int
posix_info(Storage *s, const char *path, StorageInfo *out, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (full_path(s, path, full, err) != 0)
		return -1;
	if (stat(full, &st) != 0)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not stat \"%s\"", full);
	}
	out->exists = true;
	out->size = (uint64_t) st.st_size;
	out->mtime = st.st_mtime;
	return 0;
}

static StorageRead *
posix_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	PosixRead  *r = calloc(1, sizeof(PosixRead));

	if (r == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	if (full_path(s, path, r->path, err) != 0)
	{
		free(r);
		return NULL;
	}
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
	{
		pgb_error_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno,
						"could not open \"%s\"", r->path);
		free(r);
		return NULL;
	}
	if (offset > 0 && lseek(r->fd, (off_t) offset, SEEK_SET) < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not seek in \"%s\"", r->path);
		close(r->fd);
		free(r);
		return NULL;
	}
	posix_fadvise(r->fd, (off_t) offset, (off_t) length, POSIX_FADV_SEQUENTIAL);
	r->remaining = length ? length : UINT64_MAX;
	r->base.storage = s;
	return &r->base;
}

static ssize_t
posix_read(StorageRead *base, void *buf, size_t len, PgbError *err)
{
	PosixRead  *r = (PosixRead *) base;
	ssize_t		n;

	if (r->remaining < len)
		len = (size_t) r->remaining;
	if (len == 0)
		return 0;
	n = fio_read_full(r->fd, buf, len, r->path, err);
	if (n < 0)
		return -1;
	if (r->remaining != UINT64_MAX)
	{
		if ((size_t) n < len)
			return pgb_error(err, EXIT_CORRUPT, "\"%s\" is shorter than expected", r->path);
		r->remaining -= (uint64_t) n;
	}
	return n;
}

static void
posix_read_close(StorageRead *base)
{
	PosixRead  *r = (PosixRead *) base;

	close(r->fd);
	free(r);
}

static int
ensure_parent(const char *full, PgbError *err)
{
	char		parent[PGB_PATH_MAX];
	char	   *slash;

	strcpy(parent, full);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return 0;
	*slash = '\0';
	return fio_mkdir_p(parent, DIR_MODE, err);
}

static StorageWrite *
posix_open_write(Storage *s, const char *path, PgbError *err)
{
	PosixWrite *w = calloc(1, sizeof(PosixWrite));

	if (w == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	w->fd = -1;
	if (full_path(s, path, w->path, err) != 0 || ensure_parent(w->path, err) != 0)
	{
		free(w);
		return NULL;
	}
	if (posix_temp_name(w->path, w->tmp, sizeof(w->tmp)) != 0)
	{
		pgb_error(err, EXIT_IO, "path too long: \"%s\"", w->path);
		free(w);
		return NULL;
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FILE_MODE);
	if (w->fd < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not create \"%s\"", w->tmp);
		free(w);
		return NULL;
	}
	w->base.storage = s;
	return &w->base;
}

static int
posix_write(StorageWrite *base, const void *buf, size_t len, PgbError *err)
{
	PosixWrite *w = (PosixWrite *) base;

	return fio_write_all(w->fd, buf, len, w->tmp, err);
}

static void
posix_abort(StorageWrite *base)
{
	PosixWrite *w = (PosixWrite *) base;

	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	free(w);
}

/* Remove dead writers' temporary files beside the object at path. */
static void
sweep_parent(const char *path)
{
	char		dir[PGB_PATH_MAX];
	char	   *slash;

	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	posix_temps_sweep(dir, false);
}

static int
posix_commit(StorageWrite *base, bool no_overwrite, bool *existed, PgbError *err)
{
	PosixWrite *w = (PosixWrite *) base;
	int			rc;

	*existed = false;
	if (fio_fsync_fd(w->fd, w->tmp, err) != 0)
	{
		posix_abort(base);
		return -1;
	}
	rc = close(w->fd);
	w->fd = -1;
	if (rc != 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", w->tmp);
		posix_abort(base);
		return -1;
	}
	if (no_overwrite)
	{
		if (link(w->tmp, w->path) != 0)
		{
			if (errno == EEXIST)
			{
				*existed = true;
				sweep_parent(w->path);
				posix_abort(base);
				return 0;
			}
			pgb_error_errno(err, EXIT_IO, errno, "could not link \"%s\" to \"%s\"", w->tmp, w->path);
			posix_abort(base);
			return -1;
		}
		unlink(w->tmp);
	}
	else if (rename(w->tmp, w->path) != 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", w->tmp, w->path);
		posix_abort(base);
		return -1;
	}
	rc = fio_fsync_parent(w->path, err);
	if (rc == 0)
		sweep_parent(w->path);
	free(w);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const StorageEntry *) a)->name, ((const StorageEntry *) b)->name);
}

static int
posix_list(Storage *s, const char *path, StorageList *out, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	char		child[PGB_PATH_MAX];
	DIR		   *dir;
	struct dirent *de;
	int			cap = 0;

	out->count = 0;
	out->items = NULL;
	if (full_path(s, path, full, err) != 0)
		return -1;
	dir = opendir(full);
	if (dir == NULL)
	{
		if (errno == ENOENT)
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not open directory \"%s\"", full);
	}
	while ((de = readdir(dir)) != NULL)
	{
		struct stat st;
		StorageEntry *e;

		if (de->d_name[0] == '.')
			continue;
		if (fio_path_join(child, sizeof(child), full, de->d_name, err) != 0)
			goto fail;
		if (lstat(child, &st) != 0)
		{
			if (errno == ENOENT)
				continue;
			pgb_error_errno(err, EXIT_IO, errno, "could not stat \"%s\"", child);
			goto fail;
		}
		if (out->count == cap)
		{
			StorageEntry *bigger;

			cap = cap ? cap * 2 : 64;
			bigger = realloc(out->items, sizeof(StorageEntry) * (size_t) cap);
			if (bigger == NULL)
			{
				pgb_error(err, EXIT_INTERNAL, "out of memory");
				goto fail;
			}
			out->items = bigger;
		}
		e = &out->items[out->count];
		e->name = strdup(de->d_name);
		if (e->name == NULL)
		{
			pgb_error(err, EXIT_INTERNAL, "out of memory");
			goto fail;
		}
		e->is_dir = S_ISDIR(st.st_mode);
		e->size = (uint64_t) st.st_size;
		e->mtime = st.st_mtime;
		out->count++;
	}
	closedir(dir);
	if (out->count > 1)
		qsort(out->items, (size_t) out->count, sizeof(StorageEntry), entry_cmp);
	return 0;

fail:
	closedir(dir);
	storage_list_free(out);
	return -1;
}

static int
posix_remove(Storage *s, const char *path, PgbError *err)
{
	char		full[PGB_PATH_MAX];

	if (full_path(s, path, full, err) != 0)
		return -1;
	if (unlink(full) != 0)
	{
		if (errno == ENOENT)
			return 0;
		return pgb_error_errno(err, EXIT_IO, errno, "could not remove \"%s\"", full);
	}
	/* durable, like a commit: expire relies on a removed manifest staying removed */
	return fio_fsync_parent(full, err);
}

static int
posix_remove_tree(Storage *s, const char *path, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	PgbError	ignored;

	if (full_path(s, path, full, err) != 0 || fio_remove_tree(full, err) != 0)
		return -1;
	/* removal need not be durable: a resurrected leftover is cleaned again */
	(void) fio_fsync_parent(full, &ignored);
	return 0;
}

/* Attempts, LOCK_RETRY_MS apart, before a lock counts as taken: a probe's shared flock goes away by then. */
#define LOCK_TRIES 5
#define LOCK_RETRY_MS 20

/* flock(fd, LOCK_EX | LOCK_NB), tried LOCK_TRIES times while refused. */
static int
flock_exclusive(int fd)
{
	for (int i = 1;; i++)
	{
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || i == LOCK_TRIES)
			return -1;
		usleep(LOCK_RETRY_MS * 1000);
	}
}

static StorageLock *
posix_lock(Storage *s, const char *path, const char *holder, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	PosixLock  *l;
	int			fd;

	if (full_path(s, path, full, err) != 0 || ensure_parent(full, err) != 0)
		return NULL;
	fd = open(full, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
	if (fd < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not open lock file \"%s\"", full);
		return NULL;
	}
	if (flock_exclusive(fd) != 0)
	{
		char		who[512] = "";
		ssize_t		n;

		if (errno != EWOULDBLOCK)
		{
			pgb_error_errno(err, EXIT_IO, errno, "could not lock \"%s\"", full);
			close(fd);
			return NULL;
		}
		n = pread(fd, who, sizeof(who) - 1, 0);
		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		close(fd);
		pgb_error(err, EXIT_LOCKED, "another pgbkp process holds the lock \"%s\" (%s)",
				  full, who[0] ? who : "holder unknown");
		pgb_hint(err, "wait for it to finish; the lock is released automatically when that process exits");
		return NULL;
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, holder, strlen(holder), 0) < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not write lock file \"%s\"", full);
		close(fd);
		return NULL;
	}
	l = malloc(sizeof(PosixLock));
	if (l == NULL)
	{
		close(fd);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	l->storage = s;
	l->fd = fd;
	return (StorageLock *) l;
}

static void
posix_unlock(StorageLock *base)
{
	PosixLock  *l = (PosixLock *) base;

	if (ftruncate(l->fd, 0) != 0)
	{
		/* the content is only informative; the flock is what counts */
	}
	close(l->fd);
	free(l);
}

static int
posix_lock_probe(Storage *s, const char *path, char *holder, size_t len, PgbError *err)
{
	char		full[PGB_PATH_MAX];
	char		who[512];
	ssize_t		n;
	int			fd;
	int			held;

	if (full_path(s, path, full, err) != 0)
		return -1;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return 0;			/* never taken */
		return pgb_error_errno(err, EXIT_IO, errno, "could not open lock file \"%s\"", full);
	}
	n = pread(fd, who, sizeof(who) - 1, 0);
	if (n < 0)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not read lock file \"%s\"", full);
		close(fd);
		return -1;
	}
	who[n] = '\0';
	who[strcspn(who, "\n")] = '\0';
	if (n == 0)
	{
		/* released (unlock empties it), or taken so recently that the holder has not written yet */
		close(fd);
		return 0;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
	{
		/* a holder that died without emptying the file */
		(void) flock(fd, LOCK_UN);
		held = 0;
	}
	else if (errno == EWOULDBLOCK)
	{
		snprintf(holder, len, "%s", who);
		held = 1;
	}
	else
		held = pgb_error_errno(err, EXIT_IO, errno, "could not ask for the lock \"%s\"", full);
	close(fd);
	return held;
}

static int
posix_clean_temps(Storage *s, const char *dir, bool recursive)
{
	char		full[PGB_PATH_MAX];
	PgbError	ignored;

	if (full_path(s, dir, full, &ignored) != 0)
		return 0;
	return posix_temps_sweep(full, recursive);
}

static void
posix_free(Storage *s)
{
	PosixStorage *p = (PosixStorage *) s;

	free(p->root);
	free(p->base.description);
	free(p);
}

static const StorageDriver posix_driver = {
	.name = "posix",
	.info = posix_info,
	.open_read = posix_open_read,
	.read = posix_read,
	.read_close = posix_read_close,
	.open_write = posix_open_write,
	.write = posix_write,
	.commit = posix_commit,
	.abort = posix_abort,
	.list = posix_list,
	.remove = posix_remove,
	.remove_tree = posix_remove_tree,
	.lock = posix_lock,
	.unlock = posix_unlock,
	.lock_probe = posix_lock_probe,
	.clean_temps = posix_clean_temps,
	.free = posix_free,
};

Storage *
storage_posix_new(const char *root, PgbError *err)
{
	PosixStorage *p;
	size_t		len = strlen(root);

	if (root[0] != '/')
	{
		pgb_error(err, EXIT_CONFIG, "repository path \"%s\" is not absolute", root);
		return NULL;
	}
	while (len > 1 && root[len - 1] == '/')
		len--;
	p = calloc(1, sizeof(PosixStorage));
	if (p == NULL || (p->root = strndup(root, len)) == NULL ||
		(p->base.description = strndup(root, len)) == NULL)
	{
		if (p)
			free(p->root);
		free(p);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	p->base.driver = &posix_driver;
	return &p->base;
}
