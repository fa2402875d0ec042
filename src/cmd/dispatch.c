/*
 * The command handlers, bound to the command table by CommandId (the one
 * list of command names is config/options.c's), and the loop that runs a
 * command once per repository (see dispatch.h).
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/dispatch.h"
#include "cmd/primary_gate.h"
#include "common/log.h"
#include "config/options.h"

static const CmdHandler command_handlers[CMD_COUNT] = {
	[CMD_INIT] = cmd_init,
	[CMD_BACKUP] = cmd_backup,
	[CMD_ARCHIVE_PUSH] = cmd_archive_push,
	[CMD_ARCHIVE_GET] = cmd_archive_get,
	[CMD_RESTORE] = cmd_restore,
	[CMD_INFO] = cmd_info,
	[CMD_VERIFY] = cmd_verify,
	[CMD_CHECK] = cmd_check,
	[CMD_EXPIRE] = cmd_expire,
	[CMD_STATUS] = cmd_status,
	[CMD_SCHEDULE] = cmd_schedule,
	[CMD_METRICS] = cmd_metrics,
	[CMD_CRON] = cmd_cron,
	[CMD_CLONE] = cmd_clone,
	[CMD_CONFIG] = cmd_config,
	[CMD_DRILL] = cmd_drill,
	[CMD_WAL_INDEX] = cmd_wal_index,
	[CMD_PITR] = cmd_pitr,
	[CMD_PITR_MEMBER] = cmd_pitr_member,
	[CMD_SPOOL_CLEAN] = cmd_spool_clean,
	[CMD_STREAM] = cmd_stream,
};

int
cmd_run(Config *cfg, PgbError *err)
{
	const CommandDef *c;
	CmdHandler	handler;
	int			failed = 0;
	int			code = 0;
	char		names[256] = "";
	size_t		len = 0;
	bool		skip;

	if (cfg->command_id < 0 || cfg->command_id >= CMD_COUNT || command_handlers[cfg->command_id] == NULL)
		return pgb_error(err, EXIT_INTERNAL, "command \"%s\" has no handler", cfg->command ? cfg->command : "");
	c = &command_table[cfg->command_id];
	handler = command_handlers[cfg->command_id];
	if (((c->flags & CMDF_PRIMARY) || cfg->if_primary) && (cmd_primary_gate(cfg, &skip, err) != 0 || skip))
		return skip ? 0 : -1;
	if (cfg->if_replica && (cmd_replica_gate(cfg, &skip, err) != 0 || skip))
		return skip ? 0 : -1;
	/* the asynchronous archive-push covers every repository in one run */
	if (!(c->flags & CMDF_EACH_REPO) || cfg->nrepos <= 1 ||
		(cfg->command_id == CMD_ARCHIVE_PUSH && cfg->archive_async))
	{
		cfg->repo_current = 0;
		return handler(cfg, err);
	}
	for (int i = 0; i < cfg->nrepos; i++)
	{
		cfg->repo_current = i;
		pgb_error_clear(err);
		if (handler(cfg, err) == 0)
			continue;
		pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
		log_pgb_error(err);
		if (failed++ == 0)
			code = err->code;
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", cfg->repos[i].name);
	}
	pgb_error_clear(err);
	if (failed == 0)
		return 0;
	pgb_error(err, code, "%s failed in %d of %d repositories (%s)", c->name, failed, cfg->nrepos, names);
	return -1;
}
