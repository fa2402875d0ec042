/*
 * Command lines that run this pgbkp again: restore_command and
 * archive_command for PostgreSQL, and the scheduler's jobs.
 */
#ifndef PGBKP_SELFCMD_H
#define PGBKP_SELFCMD_H

#include <stddef.h>

#include "config/config.h"

/* The running pgbkp's absolute path. */
int			cmd_self_path(char *out, size_t len, PgbError *err);

/*
 * A command line for PostgreSQL to run this pgbkp (restore_command,
 * archive_command): the running executable, --config, --cluster cluster,
 * --repo-path when that is where the repositories came from, --repo repo
 * (NULL: none), then tail; every word shell-quoted as needed.
 */
int			cmd_self_command(const Config *cfg, const char *cluster, const char *repo, const char *tail,
							 char *out, size_t len, PgbError *err);

#endif
