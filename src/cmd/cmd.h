/*
 * The commands.  Each returns 0 or -1 with err set; main prints the error
 * once and exits with err->code.  A command may print its own output to
 * stdout and log progress to stderr.
 */
#ifndef PGBKP_CMD_H
#define PGBKP_CMD_H

#include "config/config.h"

typedef int (*CmdHandler) (const Config *cfg, PgbError *err);

/*
 * How a command treats several repositories: CMD_REPOS_EACH runs it once per
 * repository (Config.repo_current set) and fails if any run failed; with
 * CMD_REPOS_SELF it reads Config.repos itself (archive-get, restore and
 * info choose or show repositories).
 */
typedef enum CmdRepos
{
	CMD_REPOS_EACH,
	CMD_REPOS_SELF
} CmdRepos;

typedef struct CommandEntry
{
	const char *name;
	CmdHandler	handler;
	CmdRepos	repos;
	bool		primary_only;	/* on a replica of the cluster: "skipped", exit 0 */
} CommandEntry;

/* NULL-terminated. */
extern const CommandEntry command_handlers[];

/* Run a command: once, or once per repository (see CmdRepos). */
int			cmd_run(const CommandEntry *c, Config *cfg, PgbError *err);

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

#endif
