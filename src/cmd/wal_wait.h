/*
 * Waiting for WAL to reach the repository: what backup and check do after
 * asking the server to switch to a new WAL file.
 */
#ifndef PGBKP_WAL_WAIT_H
#define PGBKP_WAL_WAIT_H

#include "common/error.h"
#include "repo/repo.h"

/* Wait until every name in names[0..n) is in the archive, or timeout seconds pass (EXIT_TIMEOUT). */
int			cmd_wait_for_wal(Repo *repo, const char *const *names, int n, int timeout, PgbError *err);

#endif
