/*
 * PostgreSQL's list of WAL files waiting for archive_command: the
 * pg_wal/archive_status/NAME.ready markers.  A file is ready from the
 * moment PostgreSQL completes it until archive_command succeeds for it
 * (then the marker becomes NAME.done).  The asynchronous archive-push reads
 * the list to push ahead, and the metrics and check read it as the archive
 * backlog: how many files, how many bytes and how old the oldest is.
 *
 * Only the file system is read; nothing here talks to the server.
 */
#ifndef PGBKP_ARCHSTATUS_H
#define PGBKP_ARCHSTATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define ARCHSTATUS_NAME_MAX 64

typedef struct ArchReady
{
	char		name[ARCHSTATUS_NAME_MAX];	/* WAL file name, without ".ready" */
	uint64_t	size;			/* bytes of pg_wal/NAME (0 when it is gone) */
	int64_t		ready_since;	/* unix s: the marker's modification time */
} ArchReady;

typedef struct ArchBacklog
{
	int			count;			/* files waiting */
	uint64_t	bytes;			/* their bytes */
	int64_t		oldest;			/* unix s of the oldest marker; 0 when none */
} ArchBacklog;

/*
 * The ready files of pg_wal directory wal_dir, in the order PostgreSQL
 * archives them: history files first, then by name (oldest first).  At
 * most max; *n is how many; a missing archive_status directory is an
 * empty list.
 */
int			archstatus_list(const char *wal_dir, ArchReady *out, int max, int *n, PgbError *err);

/* Count, bytes and oldest marker time of every ready file of wal_dir. */
int			archstatus_backlog(const char *wal_dir, ArchBacklog *out, PgbError *err);

/*
 * archstatus_backlog of data directory pg_data's pg_wal; EXIT_NOT_FOUND
 * when it has none (not a data directory of this host).
 */
int			archstatus_data_backlog(const char *pg_data, ArchBacklog *out, PgbError *err);

/* Whether pg_wal directory wal_dir marks name ready. */
bool		archstatus_is_ready(const char *wal_dir, const char *name);

#endif
