/*
 * pgbkp backup on a pgBackRest repository: pgbkp's primary gate has run
 * (dispatch.c) and chooses the type (auto: full when the newest full backup
 * is older than --full-interval days, else incr); pgBackRest takes the
 * backup; pgbkp reports its start, its progress (every tenth of the way,
 * from the share pgBackRest's detail log gives with each file copied) and
 * its result in its own format, or pgBackRest's error in one line with its
 * code.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/info.h"

bool
pgbr_is_repo(const Config *cfg, int i)
{
	return i >= 0 && i < cfg->nrepos && cfg->repos[i].type == REPO_TYPE_PGBACKREST;
}

void
pgbr_describe(const Config *cfg, int i, char *buf, size_t len)
{
	const RepoDef *def = &cfg->repos[i];

	snprintf(buf, len, "pgBackRest stanza %s, repo %d (%s)", pgbr_stanza(def, cfg->cluster), def->pgbr_repo,
			 def->pgbr_config);
}

/* The newest full backup that pgBackRest found no page errors in, or NULL. */
static const PgbrBackup *
newest_full(const PgbrInfo *info)
{
	const PgbrBackup *f = NULL;

	for (int i = 0; i < info->nbackups; i++)
		if (strcmp(info->backups[i].type, "full") == 0)
			f = &info->backups[i];
	return f;
}

static int
choose_type(const Config *cfg, const RepoDef *def, char *type, size_t len, PgbError *err)
{
	PgbrInfo	info;
	const PgbrBackup *full;
	TimestampUs due = time_now() - (TimestampUs) cfg->full_interval * 86400 * 1000000;

	snprintf(type, len, "%s", cfg->type ? cfg->type : "full");
	if (strcmp(type, "auto") != 0)
		return 0;
	if (pgbr_info_load(def, cfg->cluster, &info, err) != 0)
		return -1;
	full = newest_full(&info);
	snprintf(type, len, "%s", full == NULL || full->stop_time < due ? "full" : "incr");
	log_info("--type auto: %s (%s)", type, full == NULL ? "no full backup yet" :
			 full->stop_time < due ? "the newest full backup is older than --full-interval" :
			 "the newest full backup is recent enough");
	pgbr_info_free(&info);
	return 0;
}

/*
 * pgBackRest's stderr during the backup: warnings, where it starts, and
 * "DETAIL: backup file PATH (SIZE, PCT%) ..." as progress at every tenth.
 */
static void
on_line(void *arg, const char *line, int len)
{
	int		   *shown = arg;
	const char *pct;
	double		p;

	if (strncmp(line, "WARN:", 5) == 0)
		log_warn("pgBackRest: %.*s", len, line);
	else if (strncmp(line, "INFO: backup start archive", 26) == 0)
		log_info("pgBackRest: %.*s", len - 6, line + 6);
	else if (strncmp(line, "DETAIL: backup file ", 20) == 0 &&
			 (pct = memchr(line, '%', (size_t) len)) != NULL)
	{
		while (pct > line && (pct[-1] == '.' || (pct[-1] >= '0' && pct[-1] <= '9')))
			pct--;
		if (sscanf(pct, "%lf%%", &p) == 1 && (int) (p / 10) > *shown && p < 100)
		{
			*shown = (int) (p / 10);
			log_info("backup: %d%% copied", *shown * 10);
		}
	}
}

int
cmd_pgbr_backup(const Config *cfg, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];
	int			shown = 0;
	PgbrRun		run = {.command = "backup", .relay_stderr = true, .stderr_level = "detail", .on_line = on_line,
	.on_line_arg = &shown};
	PgbrInfo	info = {0};
	const PgbrBackup *b;
	char		type[16],
				typearg[32],
				where[PGB_PATH_MAX + 128],
				a[32],
				z[32];
	int			rc = -1;

	pgbr_describe(cfg, cfg->repo_current, where, sizeof(where));
	if (choose_type(cfg, def, type, sizeof(type), err) != 0 || pgbr_info_load(def, cfg->cluster, &info, err) != 0)
		return pgb_error_context(err, "repository \"%s\"", def->name);
	pgbr_info_free(&info);
	snprintf(typearg, sizeof(typearg), "--type=%s", type);
	pgbr_arg(&run, typearg);
	log_info("starting %s backup of cluster \"%s\" with pgBackRest (repository \"%s\": %s)", type, cfg->cluster,
			 def->name, where);
	if (pgbr_exec_ok(def, cfg->cluster, true, &run, err) != 0)
		goto done;
	if (pgbr_info_load(def, cfg->cluster, &info, err) != 0)
		goto done;
	if (info.nbackups == 0)
	{
		pgb_error(err, EXIT_INTERNAL, "pgBackRest backup succeeded, but pgBackRest lists no backup");
		goto done;
	}
	b = &info.backups[info.nbackups - 1];
	lsn_format(b->start_lsn, a, sizeof(a));
	lsn_format(b->stop_lsn, z, sizeof(z));
	log_info("%s backup %s complete: %.1f MB, %.1f MB copied; stored %.1f MB%s%s; WAL %s to %s (LSN %s to %s)",
			 b->type, b->label, b->size / 1048576.0, b->delta / 1048576.0, b->repo_delta / 1048576.0,
			 b->prior[0] ? " on " : "", b->prior, b->wal_start, b->wal_stop, a, z);
	if (b->error)
	{
		pgb_error(err, EXIT_BAD_PAGES, "backup %s is complete and kept, but pgBackRest found pages that failed "
				  "their data checksum", b->label);
		pgb_hint(err, "pgbackrest --stanza=%s info --set=%s names them", pgbr_stanza(def, cfg->cluster), b->label);
		goto done;
	}
	rc = 0;
done:
	pgbr_info_free(&info);
	pgbr_run_free(&run);
	return rc;
}
