/*
 * How fresh a repository is, for monitors: how many backups it holds, when
 * the newest one stopped, and when the newest WAL segment was archived.
 * Read from the repository alone (no server needed).
 */
#ifndef PGBKP_FRESHNESS_H
#define PGBKP_FRESHNESS_H

#include "repo/catalog.h"
#include "repo/walarchive.h"

typedef struct Freshness
{
	int			nbackups;
	char		newest_label[MANIFEST_LABEL_MAX];	/* "" without backups */
	TimestampUs newest_stop;
	int			nsegments;
	char		newest_wal[WAL_NAME_LEN + 1];	/* "" without WAL */
	int64_t		newest_wal_time;	/* seconds since the epoch */
} Freshness;

int			freshness_read(Repo *repo, Freshness *out, PgbError *err);

#endif
