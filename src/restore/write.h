/*
 * Writing a backup's files into a data directory: the directory layout and
 * tablespace links, every file created at its final size, its chunks
 * rebuilt through the backup's chain and written in place by the workers
 * (bundle -> zstd^-1 -> sha256 -> pwrite), global/pg_control last, then
 * modes and times, tablespace_map and one sync per file system.  With
 * delta, a chunk the directory already holds (same SHA-256) is not written.
 */
#ifndef PGBKP_RESTORE_WRITE_H
#define PGBKP_RESTORE_WRITE_H

#include "repo/catalog.h"

typedef struct RestoreWrite
{
	Repo	   *repo;
	const Catalog *cat;
	const Manifest *m;
	const char *target;			/* the data directory */
	const char *const *ts_dest; /* where each of m->links[i] goes */
	bool		delta;
	int			nworkers;
	bool		progress;		/* report progress */
	uint64_t   *kept_bytes;		/* --delta: bytes of chunks found unchanged (may be NULL) */
} RestoreWrite;

/*
 * global/pg_control is written as global/pg_control.pgbkp-pending: a data
 * directory without pg_control cannot be started, so a restore stopped at
 * any point before restore_release_control (after the recovery settings,
 * the history files and the sync) is never started by mistake.
 */
#define RESTORE_CONTROL "global/pg_control"
#define RESTORE_CONTROL_PENDING "global/pg_control.pgbkp-pending"

/* Directories and tablespace links (replacing what is in their way). */
int			restore_create_layout(const RestoreWrite *rw, PgbError *err);
/* Every file, pg_control last, then their modes and times. */
int			restore_write_files(const RestoreWrite *rw, PgbError *err);
/* tablespace_map naming where the tablespaces were restored (none: nothing). */
int			restore_write_tablespace_map(const RestoreWrite *rw, PgbError *err);
/* Give pg_control its name (durably): the restored directory can be started from now on. */
int			restore_release_control(const RestoreWrite *rw, PgbError *err);
/* syncfs the data directory's and each tablespace's file system. */
int			restore_sync(const RestoreWrite *rw, PgbError *err);

#endif
