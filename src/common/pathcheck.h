/*
 * Path hygiene for anything read from a repository before it is used to
 * write on the host: a manifest must never be able to name a file outside
 * the target directory.
 */
#ifndef PGBKP_PATHCHECK_H
#define PGBKP_PATHCHECK_H

#include "common/error.h"

/*
 * A clean relative path: non-empty, at most 1023 bytes, no leading '/', no
 * empty, "." or ".." component, no control characters.  EXIT_CORRUPT.
 */
int			path_check_relative(const char *path, PgbError *err);

/* A clean absolute path: leading '/', then as above.  EXIT_CORRUPT. */
int			path_check_absolute(const char *path, PgbError *err);

#endif
