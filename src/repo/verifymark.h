/*
 * The verify mark: when the last verify that found no problem started,
 * kept in the repository (verify.mark, an object of kind I, see
 * repo/FORMAT.md), so that `verify --since last` checks only what was
 * written after it.
 */
#ifndef PGBKP_VERIFYMARK_H
#define PGBKP_VERIFYMARK_H

#include "repo/repo.h"

/* 1 with *started set, 0 when there is no mark, -1 with err. */
int			verifymark_read(Repo *repo, TimestampUs *started, PgbError *err);
int			verifymark_write(Repo *repo, TimestampUs started, PgbError *err);

#endif
