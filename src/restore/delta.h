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

#endif
