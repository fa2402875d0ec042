/*
 * The commands' handlers, one per row of the command table (bound in
 * dispatch.c).  Each returns 0 or -1 with err set; main prints the error
 * once and exits with err->code.  A command may print its own output to
 * stdout and log progress to stderr.
 */
#ifndef PGBKP_CMD_H
#define PGBKP_CMD_H

#include "config/config.h"

typedef int (*CmdHandler) (const Config *cfg, PgbError *err);

int			cmd_init(const Config *cfg, PgbError *err);
int			cmd_backup(const Config *cfg, PgbError *err);
int			cmd_archive_push(const Config *cfg, PgbError *err);
int			cmd_archive_get(const Config *cfg, PgbError *err);
int			cmd_restore(const Config *cfg, PgbError *err);
int			cmd_info(const Config *cfg, PgbError *err);
int			cmd_verify(const Config *cfg, PgbError *err);
int			cmd_check(const Config *cfg, PgbError *err);
int			cmd_expire(const Config *cfg, PgbError *err);
int			cmd_status(const Config *cfg, PgbError *err);
int			cmd_schedule(const Config *cfg, PgbError *err);
int			cmd_metrics(const Config *cfg, PgbError *err);
int			cmd_cron(const Config *cfg, PgbError *err);
int			cmd_clone(const Config *cfg, PgbError *err);
int			cmd_config(const Config *cfg, PgbError *err);
int			cmd_drill(const Config *cfg, PgbError *err);
int			cmd_wal_index(const Config *cfg, PgbError *err);
int			cmd_pitr(const Config *cfg, PgbError *err);
int			cmd_pitr_member(const Config *cfg, PgbError *err);
int			cmd_spool_clean(const Config *cfg, PgbError *err);
int			cmd_stream(const Config *cfg, PgbError *err);

#endif
