/*
 * The asynchronous archive-push's pusher: one process per data directory
 * (it holds its lock in the spool, repo/pushspool.h), started on demand by archive-push and detached
 * from PostgreSQL (double fork, its own session, no inherited descriptors).
 * It reads pg_wal/archive_status/NAME.ready in PostgreSQL's order, pushes up to
 * archive_push_jobs files at once into every repository with the ordinary
 * push (same objects, same checks), and writes a file's record into the
 * spool only once every repository has it.  A failure is noted in the spool
 * for the archive-push waiting for that file, and retried after a pause.
 *
 * It exits when nothing was stored for archive_async_idle seconds, or when
 * the server is gone (no postmaster.pid).  It logs nothing: what it has to
 * say reaches PostgreSQL's log through archive-push.
 */
#ifndef PGBKP_ARCHIVE_PUSHER_H
#define PGBKP_ARCHIVE_PUSHER_H

#include "config/config.h"

typedef struct PusherPlace
{
	char		data_dir[4096]; /* the server's data directory (absolute) */
	char		wal_dir[4096];	/* its pg_wal (absolute) */
	char		spool[4096];	/* the archive-push spool directory (absolute, made) */
} PusherPlace;

/* Start a pusher in the background (it exits at once if one runs); returns when it is started. */
int			archive_pusher_start(const Config *cfg, const PusherPlace *place, PgbError *err);

#endif
