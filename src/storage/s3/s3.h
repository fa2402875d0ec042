/*
 * The S3 storage driver: the repository as objects in one bucket under a key
 * prefix, over HTTP(S) with AWS Signature V4 (see storage.h for the
 * contract, http.h for transport, retries and error classes).
 *
 *  - A write is buffered in memory up to the part size.  An object that fits
 *    is committed by one PUT; a larger one becomes a multipart upload that is
 *    started when the buffer first fills and completed by the commit, so
 *    nothing is visible before the commit and an abort (or any failure)
 *    aborts the upload.
 *  - no_overwrite: a HEAD just before the PUT / the completion; an object
 *    that exists is left alone and reported.  Two writers racing for the
 *    same new name can both pass the HEAD; the later PUT wins (S3 offers no
 *    conditional create that every S3-compatible server honours).
 *  - Reads fetch ranges lazily, at most S3_READ_WINDOW bytes at a time;
 *    windows after the first are pinned to the first one's ETag (If-Match),
 *    so an object replaced while it is being read is detected.
 *  - Locks are local flock()s in a lock directory on this host (default
 *    S3_DEFAULT_LOCK_DIR, created mode 1777 like /tmp, so that root and
 *    postgres share it), named after a hash of endpoint, bucket, prefix and
 *    lock path; lock files are made 0666 so either user can take them.  (Where
 *    fs.protected_regular is on, a lock file another user created in a
 *    directory root owns cannot be opened by root: the lock then fails with
 *    an error rather than being skipped.)  Across hosts, a lock is also a
 *    lease object at the lock's key (see lease.h), so two members of a
 *    cluster never back up or expire at once, even during a failover.
 */
#ifndef PGBKP_S3_H
#define PGBKP_S3_H

#include <stdbool.h>
#include <stddef.h>
#include "storage/storage.h"

#define S3_DEFAULT_PART_SIZE ((size_t) 16 * 1024 * 1024)
#define S3_MIN_PART_SIZE ((size_t) 5 * 1024 * 1024)
#define S3_MAX_PART_SIZE ((size_t) 1024 * 1024 * 1024)
#define S3_READ_WINDOW ((size_t) 8 * 1024 * 1024)
#define S3_DEFAULT_LOCK_DIR "/tmp/pgbkp-locks"

typedef struct S3Options
{
	const char *endpoint;		/* "host", "http://host" or "https://host" */
	int			port;			/* 0 = scheme default */
	const char *region;
	const char *bucket;
	const char *prefix;			/* key prefix, e.g. "/pgbackrest"; NULL or "" = none */
	const char *access_key;
	const char *secret_key;
	bool		host_style;		/* virtual-host URI style; default path style */
	const char *ca_file;		/* NULL = system CAs */
	bool		verify_tls;
	size_t		part_size;		/* 0 = 16 MiB; refused below 5 MiB */
	int			retries;		/* attempts, 0 = 5 */
	int			connect_timeout;	/* seconds, 0 = 10 */
	int			io_timeout;		/* seconds without progress, 0 = 60 */
	const char *lock_dir;		/* NULL = S3_DEFAULT_LOCK_DIR */
	int			list_page_size; /* for tests: max-keys of a listing page; 0 = the server's (1000) */
	int			upload_max_age; /* seconds after which clean_temps aborts an unfinished
								 * multipart upload as a dead writer's; 0 =
								 * S3_UPLOAD_MAX_AGE; -1 = any age (for tests) */
} S3Options;

/* A writer never takes a day over one object: an upload that old was left by one that died. */
#define S3_UPLOAD_MAX_AGE (24 * 3600)

/* Copies everything; does not contact the server.  EXIT_CONFIG for bad options. */
Storage    *storage_s3_new(const S3Options *opt, PgbError *err);

#endif
