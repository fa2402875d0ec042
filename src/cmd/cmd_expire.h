/*
 * Retention for the commands: "pgbkp expire" (cmd_expire, in cmd.h) and
 * backup's expire after a successful backup share expire_run.
 */
#ifndef PGBKP_CMD_EXPIRE_H
#define PGBKP_CMD_EXPIRE_H

#include "config/config.h"
#include "repo/catalog.h"
#include "repo/repo.h"

/*
 * Apply the retention policy of cfg (retention-full, retention-full-type,
 * dry-run) to repo: remove expired backups, then the WAL no kept backup
 * needs, printing each removal and a summary line to stdout.  The caller
 * must hold the backup lock (cmd_lock_backups); backup calls this after its
 * manifest is committed.
 */
int			expire_run(Repo *repo, const Config *cfg, PgbError *err);

/*
 * Where the archive is meant to be continuous from, by the current
 * repository's retention (pgBackRest's retention_archive moves it past the
 * oldest backup); false when the policy does not move it.
 */
bool		expire_continuous_from(const Config *cfg, const Catalog *cat, SegNo *from, PgbError *err);

#endif
