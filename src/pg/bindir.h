/* Where PostgreSQL's server programs of a major version are (Debian's layout). */
#ifndef PGBKP_BINDIR_H
#define PGBKP_BINDIR_H

#include <stdio.h>

#include "common/error.h"

#define PG_BINDIR_FORMAT "/usr/lib/postgresql/%d/bin"

static inline void
pg_bindir(int major, char *out, size_t len)
{
	snprintf(out, len, PG_BINDIR_FORMAT, major);
}

/* The programs for the major version data's PG_VERSION names (bindir.c). */
int			pg_bindir_of_data(const char *data, char *out, size_t len, PgbError *err);

#endif
