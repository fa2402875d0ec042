/*
 * archive-get's prefetch spool: WAL segments fetched ahead of PostgreSQL's
 * requests, each whole and verified (wal_get writes it atomically after its
 * checksum matched), in a private directory per cluster and database
 * system: <spool_path>/pgbkp/<cluster>-<system identifier>/archive-get.
 * An archived segment never changes, so an entry is always correct for its
 * name; entries are taken (moved) when PostgreSQL asks for them, the ones
 * before a request are dropped, and the whole spool is emptied when
 * recovery ends (recovery_end_command).
 */
#ifndef PGBKP_WALSPOOL_H
#define PGBKP_WALSPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* The spool directory (made, mode 0700, when make). */
int			walspool_dir(const char *spool_path, const char *cluster, uint64_t sysid, bool make, char *out,
						 size_t len, PgbError *err);

/* The spool directory of another command (archive-push's: repo/pushspool.h). */
int			walspool_dir_of(const char *spool_path, const char *cluster, uint64_t sysid, const char *command,
							bool make, char *out, size_t len, PgbError *err);

/* Move entry name to dest (copy across file systems); *taken false when it is not there. */
int			walspool_take(const char *dir, const char *name, const char *dest, bool *taken, PgbError *err);

/* Whether entry name is there. */
bool		walspool_has(const char *dir, const char *name);

/* Remove the entries whose names sort before name (earlier segments, timelines). */
void		walspool_prune_before(const char *dir, const char *name);

/* Remove every entry and the directory; *removed counts the entries. */
int			walspool_clean(const char *dir, int *removed, PgbError *err);

#endif
