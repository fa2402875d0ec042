/* The repository lock that backup and expire hold while they add or remove backups. */
#ifndef PGBKP_CMD_LOCK_H
#define PGBKP_CMD_LOCK_H

#include "common/error.h"
#include "repo/repo.h"

/*
 * Take the lock (what names the command in the holder text).  NULL with
 * EXIT_LOCKED, naming the holder, when another process has it.
 */
StorageLock *cmd_lock_backups(Repo *repo, const char *what, PgbError *err);

#endif
