/*
 * When pgBackRest stored the newest WAL segment of a stanza: its info names
 * the archive's newest segment but not its time, so the segment's file is
 * listed with `pgbackrest repo-ls --output=json` (which gives each file's
 * modification time, for every repository type pgBackRest supports) under
 * archive/<stanza>/<archive id>/<timeline and log>/.  check's
 * --max-archive-age and the metrics' archive times read it.
 */
#ifndef PGBKP_PGBR_ARCHTIME_H
#define PGBKP_PGBR_ARCHTIME_H

#include <stdint.h>

#include "pgbackrest/info.h"

typedef struct PgbrArchived
{
	char		wal[PGBR_WAL_NAME]; /* the newest segment; "" when the archive is empty */
	int64_t		time;			/* when it was stored, seconds since the epoch; 0 unknown */
} PgbrArchived;

/* The newest segment of the newest database system's archive in info (no command runs). */
void		pgbr_newest_segment(const PgbrInfo *info, char *wal, char *archive_id, size_t idlen);

/* The newest segment and its time (time 0 with an empty archive). */
int			pgbr_newest_archived(const RepoDef *def, const char *cluster, const PgbrInfo *info,
								 PgbrArchived *out, PgbError *err);

/* repo-ls's JSON: the newest time of a file whose name starts with wal (EXIT_NOT_FOUND: none). */
int			pgbr_ls_time(const char *json, const char *wal, int64_t *time, PgbError *err);

#endif
