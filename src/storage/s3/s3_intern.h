/*
 * What the files of the S3 driver share, and nothing outside the driver
 * sees: the S3Storage behind a Storage, the mapping of storage paths to
 * keys, and the driver functions each file implements for the vtable in
 * s3.c.  s3_read.c holds reads, s3_write.c single PUTs and multipart
 * uploads, s3_list.c listing and removal, s3_lock.c locks.
 */
#ifndef PGBKP_S3_INTERN_H
#define PGBKP_S3_INTERN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "io/membuf.h"
#include "storage/s3/http.h"
#include "storage/storage.h"

/* Keys a multi-object DELETE takes at most, and the largest listing page. */
#define S3_DELETE_BATCH 1000
/* Locks one storage holds at once */
#define S3_MAX_LEASES 4

typedef struct S3Storage
{
	Storage		base;
	S3Http	   *http;
	char	   *bucket;
	char	   *prefix;			/* "" or "a/b": no leading, trailing or double '/' */
	size_t		part_size;
	int			list_page_size; /* 0: the server's default */
	int			upload_max_age; /* seconds; -1: any age */
	char	   *lock_dir;
	Storage    *locks;			/* posix storage on lock_dir */
	/* leases taken through this storage: confirmed before any change others see (s3_guard) */
	pthread_mutex_t leases_lock;
	struct S3Lease *leases[S3_MAX_LEASES];
	int			nleases;
} S3Storage;

/* Append path to b with leading, trailing and repeated slashes removed. */
int			s3_append_normalized(MemBuf *b, const char *path, PgbError *err);

/* The key of path (malloc'd): prefix/path, or prefix alone for "". */
char	   *s3_key_of(const S3Storage *s, const char *path, PgbError *err);

/*
 * Before a change others can see (an object committed or removed): confirm
 * every lease held through s (s3_lease_confirm), so that a holder that lost
 * a race for a lock has changed nothing.  0, or -1 with err (EXIT_LOCKED).
 */
int			s3_guard(S3Storage *s, PgbError *err);

/* The listing prefix of directory dir (malloc'd): "key/", or "" for the bucket's root. */
char	   *s3_dir_prefix(const S3Storage *s, const char *dir, PgbError *err);

/* Sets err to "out of memory" and returns NULL. */
void	   *s3_oom(PgbError *err);

/* s3_read.c */
StorageRead *s3_open_read(Storage *base, const char *path, uint64_t offset, uint64_t length, PgbError *err);
ssize_t		s3_read(StorageRead *base, void *buf, size_t len, PgbError *err);
void		s3_read_close(StorageRead *base);

/* s3_write.c */
StorageWrite *s3_open_write(Storage *base, const char *path, PgbError *err);
int			s3_write(StorageWrite *base, const void *data, size_t len, PgbError *err);
int			s3_commit(StorageWrite *base, bool no_overwrite, bool *existed, PgbError *err);
void		s3_abort(StorageWrite *base);

/* DELETE ?uploadId=ID of key: abort a multipart upload; best effort. */
void		s3_abort_upload(S3Storage *s, const char *key, const char *upload_id);

/* s3_list.c */
int			s3_list(Storage *base, const char *dir, StorageList *out, PgbError *err);
int			s3_remove(Storage *base, const char *path, PgbError *err);
int			s3_remove_tree(Storage *base, const char *dir, PgbError *err);
/* s3_uploads.c: abort the unfinished multipart uploads of dead writers under dir */
int			s3_clean_temps(Storage *base, const char *dir, bool recursive);

/* s3_lock.c */
StorageLock *s3_lock(Storage *base, const char *path, const char *holder, PgbError *err);
void		s3_unlock(StorageLock *base);
int			s3_lock_probe(Storage *base, const char *path, char *holder, size_t len, PgbError *err);

#endif
