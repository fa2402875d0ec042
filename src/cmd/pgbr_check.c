/*
 * pgbkp check on a pgBackRest repository.  The end-to-end check is
 * `pgbackrest check`: it connects to the server with its own pg1-*
 * settings, checks the configuration and archive_command, switches WAL and
 * waits --archive-timeout seconds (pgbkp's, passed on) for the segment to
 * reach the repository; pgbkp reports the segment in check's line, or
 * pgBackRest's error with its code (an archive that never arrives is exit
 * 12).  The monitoring check (--max-backup-age, --max-archive-age,
 * --min-backups) reads pgBackRest's info instead of pgbkp's catalogue, and
 * the time the newest segment was stored from pgBackRest's repository
 * listing (pgbackrest/archtime.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/archtime.h"
#include "pgbackrest/exec.h"

int
pgbr_freshness(const Config *cfg, bool archive_time, Freshness *f, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];
	PgbrInfo	info;
	PgbrArchived a = {0};
	char		id[32];
	int			rc = 0;

	memset(f, 0, sizeof(*f));
	if (pgbr_info_load(def, cfg->cluster, &info, err) != 0)
		return pgb_error_context(err, "repository \"%s\"", def->name);
	f->nbackups = info.nbackups;
	if (info.nbackups > 0)
	{
		const PgbrBackup *b = &info.backups[info.nbackups - 1];

		snprintf(f->newest_label, sizeof(f->newest_label), "%s", b->label);
		f->newest_stop = b->stop_time;
	}
	if (archive_time)
		rc = pgbr_newest_archived(def, cfg->cluster, &info, &a, err);
	else
		pgbr_newest_segment(&info, a.wal, id, sizeof(id));
	snprintf(f->newest_wal, sizeof(f->newest_wal), "%s", a.wal);
	f->nsegments = a.wal[0] ? 1 : 0;	/* at least */
	f->newest_wal_time = a.time;
	pgbr_info_free(&info);
	return rc;
}

/* pgBackRest's log during check: the archived segment's name into arg. */
static void
on_line(void *arg, const char *line, int len)
{
	const char *p = memmem(line, (size_t) len, "WAL segment ", 12);
	char		wal[PGBR_WAL_NAME];

	if (strncmp(line, "WARN:", 5) == 0)
		log_warn("pgBackRest: %.*s", len, line);
	else if (p && memmem(line, (size_t) len, "successfully archived", 21) &&
			 sscanf(p, "WAL segment %24[0-9A-F]", wal) == 1)
		snprintf(arg, PGBR_WAL_NAME, "%s", wal);
	else
		log_debug("pgBackRest: %.*s", len, line);
}

int
cmd_pgbr_check(const Config *cfg, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];
	char		wal[PGBR_WAL_NAME] = "",
				timeout[32],
				where[PGB_PATH_MAX + 128];
	PgbrRun		run = {.command = "check", .relay_stderr = true, .stderr_level = "info", .on_line = on_line,
	.on_line_arg = wal};
	int			rc = -1;

	pgbr_describe(cfg, cfg->repo_current, where, sizeof(where));
	snprintf(timeout, sizeof(timeout), "--archive-timeout=%d", cfg->archive_timeout > 0 ? cfg->archive_timeout : 60);
	pgbr_arg(&run, timeout);
	log_info("checking cluster \"%s\" with pgBackRest (repository \"%s\": %s)", cfg->cluster, def->name, where);
	/* pgBackRest's check takes no --repo: it checks every repository of the stanza */
	if (pgbr_exec_ok(def, cfg->cluster, false, &run, err) != 0)
	{
		if (err->code == EXIT_TIMEOUT)
			pgb_hint(err, "see why archive_command fails in the server's log (pg_stat_archiver.last_failed_wal)");
		pgb_error_context(err, "repository \"%s\"", def->name);
		goto done;
	}
	if (wal[0])
		printf("check ok: WAL file %s archived to repository %s (%s) for cluster %s\n", wal, def->name, where,
			   cfg->cluster);
	else
		printf("check ok: pgBackRest's check passed for repository %s (%s), cluster %s\n", def->name, where,
			   cfg->cluster);
	fflush(stdout);
	rc = 0;
done:
	pgbr_run_free(&run);
	return rc;
}
