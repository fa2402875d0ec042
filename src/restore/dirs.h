/*
 * The directories a restore writes into, checked before anything is
 * written: a running server's directory is refused, and so is a non-empty
 * one unless --delta (reuse) or --force (replace) allows it; a tablespace
 * left at its original location while the data directory goes elsewhere is
 * written only when empty (it most likely is the live source cluster's).
 */
#ifndef PGBKP_RESTORE_DIRS_H
#define PGBKP_RESTORE_DIRS_H

#include "manifest/manifest.h"

/* Check dir; *created: it did not exist; *was_empty: it was empty (either may be NULL). */
/* Whether a PostgreSQL server runs in dir (its postmaster.pid names a live process). */
bool		restore_dir_server_running(const char *dir);

int			restore_dir_check(const char *dir, bool delta, bool force, bool *created, bool *was_empty,
							  PgbError *err);

/*
 * Check each tablespace destination (ts_dest[i] for m->links[i]; the very
 * pointer m->links[i].target when it was not mapped elsewhere).  ts_ours[i]
 * tells whether the destination is the restore's to empty under --force and
 * to clean up after a failure.
 */
int			restore_tablespaces_check(const Manifest *m, const char *target, const char *const *ts_dest,
									  bool delta, bool force, bool *ts_ours, PgbError *err);

/* --force: empty every tablespace destination, as the data directory is. */
int			restore_tablespaces_empty(const Manifest *m, const char *const *ts_dest, PgbError *err);

#endif
