/*
 * Locks of the S3 driver (see s3.h): a lock is this host's flock() on a
 * file in the lock directory, through the posix driver, and, across hosts,
 * a lease object at the lock's key (lease.c).  The lock file is named
 * after a hash of endpoint, bucket and key.  A probe asks the lease, and
 * for a lease of this host also the lock file, which tells a live holder
 * from a dead one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/sha256.h"
#include "storage/s3/lease.h"
#include "storage/s3/s3_intern.h"

#define LOCK_DIR_MODE 01777

/*
 * The lock directory is shared by every user that runs pgbkp (root and
 * postgres both do), so it is made world-writable and sticky, like /tmp;
 * it must not be a symlink and must belong to root or to us.  Lock files are
 * created mode 0666 so that another user can open and flock() them too.
 */
static int
check_lock_dir(const char *dir, PgbError *err)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
	{
		if (chmod(dir, LOCK_DIR_MODE) != 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode of lock directory \"%s\"", dir);
	}
	else if (errno != EEXIST)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create lock directory \"%s\"", dir);
	if (lstat(dir, &st) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not stat lock directory \"%s\"", dir);
	/* ours or root's; or, like /tmp, sticky (whoever made it first: root or postgres) */
	if (!S_ISDIR(st.st_mode) ||
		((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) ||
		(st.st_uid != 0 && st.st_uid != geteuid() && (st.st_mode & S_ISVTX) == 0))
	{
		pgb_error(err, EXIT_CONFIG, "unsafe lock directory \"%s\": it must be a directory owned by root or by this user, and sticky if others can write to it", dir);
		return pgb_hint(err, "remove it or choose another lock directory");
	}
	return 0;
}

/* A lock on S3: the local flock (this host) and the lease object (every host). */
typedef struct S3Lock
{
	Storage    *storage;		/* first, as every StorageLock */
	StorageLock *local;
	S3Lease    *lease;
} S3Lock;

static StorageLock *
s3_local_lock(S3Storage *s, const char *path, const char *holder, PgbError *err);

StorageLock *
s3_lock(Storage *base, const char *path, const char *holder, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	S3Lock	   *l = calloc(1, sizeof(S3Lock));
	char	   *key;

	if (l == NULL)
		return s3_oom(err);
	l->storage = base;
	if ((l->local = s3_local_lock(s, path, holder, err)) == NULL ||
		(key = s3_key_of(s, path, err)) == NULL)
	{
		storage_unlock(l->local);
		free(l);
		return NULL;
	}
	l->lease = s3_lease_acquire(s->http, key, holder, err);
	free(key);
	if (l->lease == NULL)
	{
		storage_unlock(l->local);
		free(l);
		return NULL;
	}
	pthread_mutex_lock(&s->leases_lock);
	if (s->nleases < S3_MAX_LEASES)
	{
		s->leases[s->nleases++] = l->lease;
		pthread_mutex_unlock(&s->leases_lock);
		return (StorageLock *) l;
	}
	pthread_mutex_unlock(&s->leases_lock);
	/* no room to defer it: confirm it now */
	if (s3_lease_confirm(l->lease, err) != 0)
	{
		s3_unlock((StorageLock *) l);
		return NULL;
	}
	return (StorageLock *) l;
}

int
s3_guard(S3Storage *s, PgbError *err)
{
	int			rc = 0;

	pthread_mutex_lock(&s->leases_lock);
	for (int i = 0; rc == 0 && i < s->nleases; i++)
		rc = s3_lease_confirm(s->leases[i], err);
	pthread_mutex_unlock(&s->leases_lock);
	return rc;
}

/*
 * The name (in the lock directory) of this host's lock file for the lock
 * at path: one per endpoint, bucket and key.  -1 with err.
 */
static int
local_lock_name(S3Storage *s, const char *path, char *name, size_t len, PgbError *err)
{
	char	   *key = s3_key_of(s, path, err);
	char	   *id = NULL;
	uint8_t		digest[SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];

	if (key == NULL)
		return -1;
	if (asprintf(&id, "%s\n%s\n%s", s3_http_endpoint(s->http), s->bucket, key) < 0)
	{
		free(key);
		s3_oom(err);
		return -1;
	}
	sha256_digest(id, strlen(id), digest);
	free(id);
	free(key);
	sha256_to_hex(digest, hex);
	snprintf(name, len, "s3-%.32s.lock", hex);
	return 0;
}

static StorageLock *
s3_local_lock(S3Storage *s, const char *path, const char *holder, PgbError *err)
{
	char		name[64];
	char		full[4096];
	struct stat st;
	int			fd;

	if (local_lock_name(s, path, name, sizeof(name), err) != 0)
		return NULL;
	snprintf(full, sizeof(full), "%s/%s", s->lock_dir, name);
	if (check_lock_dir(s->lock_dir, err) != 0)
		return NULL;
	fd = open(full, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd >= 0)
	{
		(void) fchmod(fd, 0666);	/* past the umask */
		close(fd);
	}
	else if (errno != EEXIST)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not create lock file \"%s\"", full);
		return NULL;
	}
	if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode))
	{
		pgb_error(err, EXIT_CONFIG, "lock file \"%s\" is not a regular file", full);
		return NULL;
	}
	return storage_lock(s->locks, name, holder, err);
}

/*
 * The lease tells for every host; a fresh lease of this host whose lock
 * file is free belongs to a process that died (see lease.h).
 */
int
s3_lock_probe(Storage *base, const char *path, char *holder, size_t len, PgbError *err)
{
	S3Storage  *s = (S3Storage *) base;
	char	   *key = s3_key_of(s, path, err);
	char		host[256];
	char		self[256] = "";
	char		name[64];
	char		local[512];
	int			held;

	if (key == NULL)
		return -1;
	held = s3_lease_probe(s->http, key, holder, len, host, sizeof(host), err);
	free(key);
	if (held != 1)
		return held;
	if (gethostname(self, sizeof(self) - 1) != 0 || strcmp(self, host) != 0)
		return 1;
	if (local_lock_name(s, path, name, sizeof(name), err) != 0)
		return -1;
	held = storage_lock_probe(s->locks, name, local, sizeof(local), err);
	if (held == 0 && len > 0)
		holder[0] = '\0';
	return held;
}

void
s3_unlock(StorageLock *base)
{
	S3Lock	   *l = (S3Lock *) base;
	S3Storage  *s = (S3Storage *) l->storage;

	pthread_mutex_lock(&s->leases_lock);
	for (int i = 0; i < s->nleases; i++)
		if (s->leases[i] == l->lease)
		{
			s->leases[i] = s->leases[--s->nleases];
			break;
		}
	pthread_mutex_unlock(&s->leases_lock);
	s3_lease_release(l->lease);
	storage_unlock(l->local);
	free(l);
}
