/*
 * The tablespaces of one pgBackRest backup set.  `pgbackrest info
 * --set=LABEL --output=json` lists them under the set's "tablespace" key
 * (each with its oid, name and destination; null when there is none), so
 * restore can check --tablespace-map against the backup before anything is
 * written, as it does for its own backups.
 */
#ifndef PGBKP_PGBR_TABLESPACE_H
#define PGBKP_PGBR_TABLESPACE_H

#include <stdbool.h>

#include "common/error.h"
#include "config/repodef.h"

#define PGBR_TABLESPACES_MAX 256

typedef struct PgbrTablespace
{
	unsigned int oid;
	char		name[128];
} PgbrTablespace;

/* The set's tablespaces from info's JSON for stanza (*n of them, at most max); EXIT_CORRUPT, EXIT_NOT_FOUND. */
int			pgbr_tablespaces_parse(const char *json, const char *stanza, const char *label,
								   PgbrTablespace *out, int max, int *n, PgbError *err);

/* The same, asked of pgBackRest. */
int			pgbr_tablespaces_load(const RepoDef *def, const char *cluster, const char *label,
								  PgbrTablespace *out, int max, int *n, PgbError *err);

/* Whether key (an OID or a name, as --tablespace-map takes it) names one of them. */
bool		pgbr_tablespace_known(const PgbrTablespace *ts, int n, const char *key);

#endif
