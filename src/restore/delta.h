/*
 * restore --delta: after the backup's files are written over a directory
 * that held an older copy, remove what the backup does not have, in the
 * data directory and in each tablespace.  A link where the backup has a
 * directory (pg_wal made by initdb --waldir) stays.
 */
#ifndef PGBKP_RESTORE_DELTA_H
#define PGBKP_RESTORE_DELTA_H

#include "manifest/manifest.h"

/* ts_dest[i]: where m->links[i] was restored. */
int			restore_delta_clean(const Manifest *m, const char *target, const char *const *ts_dest,
								PgbError *err);

/*
 * What a delta restore expects to find: the backup's files that are there
 * as regular files of the backup's size (their unchanged chunks are kept;
 * each chunk is still compared) — the others are written whole.
 */
void		restore_delta_estimate(const Manifest *m, const char *target, uint64_t *files, uint64_t *bytes);

#endif
