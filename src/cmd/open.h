/*
 * What a command opens and checks before its work: the repository it works
 * on, the connection to the server at --pg-host (and that it is the system
 * the repository holds, a primary that archives), and the backups the
 * catalogue could not read.  Warnings are logged here; errors go to err.
 */
#ifndef PGBKP_CMD_OPEN_H
#define PGBKP_CMD_OPEN_H

#include "config/config.h"
#include "pg/db.h"
#include "repo/repo.h"

/* Open the repository the command works on (Config.repo_current), or the one at index. */
Repo	   *cmd_open_repo(const Config *cfg, PgbError *err);
Repo	   *cmd_open_repo_at(const Config *cfg, int index, PgbError *err);

/*
 * Where repository index keeps its job history: the repository itself, or
 * for a pgBackRest repository pgbkp's state directory (state_path), which
 * every pgBackRest repository of the configuration shares: NULL with no
 * error set for any but the first of them.
 */
Repo	   *cmd_open_history_at(const Config *cfg, int index, PgbError *err);

/*
 * The spool's base directory: spool_path, else spool/ beside the data
 * directory data_dir (NULL: the working directory, which is the data
 * directory of archive_command and restore_command).
 */
int			cmd_spool_base(const Config *cfg, const char *data_dir, char *out, size_t len, PgbError *err);

/* Warn (once per run) when repository index is encrypted with a known or short passphrase. */
void		cmd_warn_passphrase(const Config *cfg, int index);

/* Connect to the server at --pg-host/--pg-port as --pg-user. */
DbConn	   *cmd_connect(const Config *cfg, PgbError *err);

/*
 * Connect and check the server is the system the repository holds
 * (EXIT_ARCHIVE_MISMATCH otherwise).
 */
DbConn	   *cmd_connect_checked(const Config *cfg, const Repo *repo, DbServerInfo *info, PgbError *err);

/*
 * Refuse a standby (EXIT_REFUSED) or a server with archive_mode off
 * (EXIT_CONFIG): what must hold before backup and check.
 */
int			cmd_require_archiving_primary(const DbServerInfo *si, const char *what, PgbError *err);

/* Warn about each backup whose manifest cannot be read (see catalog_load). */
struct Catalog;
void		cmd_warn_corrupt(const struct Catalog *cat);

#endif
