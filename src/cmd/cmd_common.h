/* What several commands share: opening the repository, connecting, waiting for WAL. */
#ifndef PGBKP_CMD_COMMON_H
#define PGBKP_CMD_COMMON_H

#include "config/config.h"
#include "pg/db.h"
#include "repo/repo.h"

/* Open the repository the command works on (Config.repo_current), or the one at index. */
Repo	   *cmd_open_repo(const Config *cfg, PgbError *err);
Repo	   *cmd_open_repo_at(const Config *cfg, int index, PgbError *err);

/* Warn (once per run) when repository index is encrypted with a known or short passphrase. */
void		cmd_warn_passphrase(const Config *cfg, int index);
DbConn	   *cmd_connect(const Config *cfg, PgbError *err);

/*
 * For commands that run on every node but work only on the primary: when
 * the configuration lists the cluster's members and this machine's member
 * is known, ask the cluster which member is the primary now; on any other
 * member print "skipped: ... is a replica; the primary is ..." and set
 * *skip.  When this member is not known (or with --if-primary and no
 * members), the server at --pg-host decides: in recovery means skip.
 * Without members and without --if-primary nothing is asked.
 */
int			cmd_primary_gate(const Config *cfg, bool *skip, PgbError *err);

/*
 * Whether this machine's member is the primary now: 1 yes, 0 no, with a
 * line for messages in note ("pg-test-2 is a replica; the primary is
 * pg-test-1 (ADDR)"); -1 with err when it cannot be told.  The cluster is
 * asked when this member is known, else the server at --pg-host.
 */
int			cmd_member_role(const Config *cfg, char *note, size_t len, PgbError *err);

/* 1 when the server at --pg-host is in recovery, 0 when not, -1 with err when it cannot be asked. */
int			cmd_local_in_recovery(const Config *cfg, PgbError *err);

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

/* Wait until every name in names[0..n) is in the archive, or timeout seconds pass (EXIT_TIMEOUT). */
int			cmd_wait_for_wal(Repo *repo, const char *const *names, int n, int timeout, PgbError *err);

/* Warn about each backup whose manifest cannot be read (see catalog_load). */
struct Catalog;
void		cmd_warn_corrupt(const struct Catalog *cat);

/* The running pgbkp's absolute path (for restore_command). */
int			cmd_self_path(char *out, size_t len, PgbError *err);

/*
 * A command line for PostgreSQL to run this pgbkp (restore_command,
 * archive_command): the running executable, --config, --cluster cluster,
 * --repo-path when that is where the repositories came from, --repo repo
 * (NULL: none), then tail; every word shell-quoted as needed.
 */
int			cmd_self_command(const Config *cfg, const char *cluster, const char *repo, const char *tail,
							 char *out, size_t len, PgbError *err);

/* "host pid N" text for locks. */
void		cmd_holder_text(char *out, size_t len, const char *what);

/*
 * Take the repository lock that backup and expire hold while they add or
 * remove backups (what names the command in the holder text).  NULL with
 * EXIT_LOCKED, naming the holder, when another process has it.
 */
StorageLock *cmd_lock_backups(Repo *repo, const char *what, PgbError *err);

/* One job history record, as status and info show it. */
struct JobRecord;
struct json_object;
struct json_object *cmd_job_json(const struct JobRecord *r);
void		cmd_job_text(const struct JobRecord *r);

#endif
