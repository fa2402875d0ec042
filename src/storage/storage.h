/*
 * The repository storage interface.  Paths are relative to the storage root
 * and use '/'.  The contract is shaped for object stores from the start:
 *
 *  - a write is invisible until committed, and a commit is atomic and
 *    durable (posix: temp file, fsync, rename or link, fsync directory;
 *    object store: one PUT);
 *  - a commit can refuse to replace an existing object (no_overwrite), which
 *    is how WAL is never overwritten;
 *  - reads can ask for a byte range, so bundles are read in place;
 *  - listing exists but no hot path depends on it.
 *
 * Drivers implement StorageDriver; nothing above this layer knows which
 * driver it talks to.
 */
#ifndef PGBKP_STORAGE_H
#define PGBKP_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"

typedef struct Storage Storage;
typedef struct StorageRead StorageRead;
typedef struct StorageWrite StorageWrite;
typedef struct StorageLock StorageLock;

typedef struct StorageInfo
{
	bool		exists;
	uint64_t	size;
	int64_t		mtime;			/* seconds since the epoch */
} StorageInfo;

typedef struct StorageEntry
{
	char	   *name;
	bool		is_dir;
	uint64_t	size;
	int64_t		mtime;
} StorageEntry;

typedef struct StorageList
{
	int			count;
	StorageEntry *items;		/* sorted by name */
} StorageList;

/* What a driver provides.  Every function returns -1/NULL with err set on failure. */
typedef struct StorageDriver
{
	const char *name;
	int			(*info) (Storage *s, const char *path, StorageInfo *out, PgbError *err);
	StorageRead *(*open_read) (Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err);
	ssize_t		(*read) (StorageRead *r, void *buf, size_t len, PgbError *err);
	void		(*read_close) (StorageRead *r);
	StorageWrite *(*open_write) (Storage *s, const char *path, PgbError *err);
	int			(*write) (StorageWrite *w, const void *buf, size_t len, PgbError *err);
	int			(*commit) (StorageWrite *w, bool no_overwrite, bool *existed, PgbError *err);
	void		(*abort) (StorageWrite *w);
	int			(*list) (Storage *s, const char *dir, StorageList *out, PgbError *err);
	int			(*remove) (Storage *s, const char *path, PgbError *err);
	int			(*remove_tree) (Storage *s, const char *dir, PgbError *err);
	StorageLock *(*lock) (Storage *s, const char *path, const char *holder, PgbError *err);
	void		(*unlock) (StorageLock *l);
	int			(*lock_probe) (Storage *s, const char *path, char *holder, size_t len, PgbError *err);
	/* optional: remove dead writers' leftovers under dir; returns how many */
	int			(*clean_temps) (Storage *s, const char *dir, bool recursive);
	void		(*free) (Storage *s);
} StorageDriver;

/* Every Storage starts with this. */
struct Storage
{
	const StorageDriver *driver;
	char	   *description;	/* for messages: "/pg/backup" or "s3://bucket/prefix" */
};

/* Every StorageRead / StorageWrite starts with its Storage. */
struct StorageRead
{
	Storage    *storage;
};

struct StorageWrite
{
	Storage    *storage;
};

int			storage_info(Storage *s, const char *path, StorageInfo *out, PgbError *err);
/* Read [offset, offset+length); length 0 means to the end.  EXIT_NOT_FOUND if missing. */
StorageRead *storage_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err);
/* Returns bytes read, 0 at the end, -1 on error. */
ssize_t		storage_read(StorageRead *r, void *buf, size_t len, PgbError *err);
void		storage_read_close(StorageRead *r);

StorageWrite *storage_open_write(Storage *s, const char *path, PgbError *err);
int			storage_write(StorageWrite *w, const void *buf, size_t len, PgbError *err);
/*
 * Make the object visible under its name, atomically and durably, and free w.
 * With no_overwrite, an existing object is left alone and *existed set (the
 * new data is discarded).  On error the write is aborted.
 */
int			storage_commit(StorageWrite *w, bool no_overwrite, bool *existed, PgbError *err);
/* Discard an uncommitted write and free it.  Accepts NULL. */
void		storage_abort(StorageWrite *w);

/* Entries directly under dir; a missing dir is an empty list.  Hidden (.) names are skipped. */
int			storage_list(Storage *s, const char *dir, StorageList *out, PgbError *err);
void		storage_list_free(StorageList *l);
/* Missing paths are not an error.  A removal is durable when it returns. */
int			storage_remove(Storage *s, const char *path, PgbError *err);
int			storage_remove_tree(Storage *s, const char *dir, PgbError *err);

/* Exclusive lock named path; EXIT_LOCKED naming the holder's text if taken. */
StorageLock *storage_lock(Storage *s, const char *path, const char *holder, PgbError *err);
void		storage_unlock(StorageLock *l);

/*
 * Whether some process holds the lock named path, without taking it: 1
 * with the first line of the holder's text in holder (len bytes, "" when
 * unknown), 0 when it is free, -1 with err.  Meant for monitoring: the
 * answer may be out of date as soon as it is given.  A driver may need to
 * hold a shared lock for an instant to tell; storage_lock retries for a
 * moment before it reports EXIT_LOCKED, so a probe never makes a lock fail.
 */
int			storage_lock_probe(Storage *s, const char *path, char *holder, size_t len, PgbError *err);

/*
 * Remove what writers that died (or could not clean up) left under dir ("":
 * the whole storage): the local driver's temporary files of processes that
 * no longer exist, S3's unfinished multipart uploads older than a day.
 * Best effort; returns how many were removed (0 for drivers that leave
 * nothing behind).
 */
int			storage_clean_temps(Storage *s, const char *dir, bool recursive);

const char *storage_description(const Storage *s);
void		storage_free(Storage *s);

/* A whole object into memory (NUL-terminated): at most max bytes, else EXIT_CORRUPT. */
int			storage_read_all(Storage *s, const char *path, size_t max, uint8_t **out, size_t *len, PgbError *err);

#endif
