/*
 * pgbkp check: prove the configuration works end to end: the repository is
 * there and belongs to this server, archiving is on, and a freshly switched
 * WAL segment reaches the repository within archive-timeout.
 *
 * With --max-backup-age, --max-archive-age or --min-backups it is a monitor
 * check instead: it reads only the repository (no server, no WAL switch, so
 * a monitor may run it every minute) and says in one line whether the
 * newest backup and WAL are fresh enough: exit 0, or EXIT_STALE.
 *
 * With archive_backlog_alert (MiB) either kind first reads pg_data's
 * pg_wal/archive_status and fails with EXIT_STALE when more WAL waits to
 * be archived than that.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "common/duration.h"
#include "common/log.h"
#include "pg/archstatus.h"
#include "repo/freshness.h"

static bool
monitoring(const Config *cfg)
{
	return cfg->max_backup_age || cfg->max_archive_age || cfg->min_backups > 0;
}

/*
 * archive_backlog_alert: fail (EXIT_STALE) when more WAL than allowed waits
 * in pg_data to be archived.  Read from the file system, before anything
 * else, in both kinds of check.
 */
static int
check_backlog(const Config *cfg, PgbError *err)
{
	ArchBacklog b;
	uint64_t	limit = (uint64_t) cfg->archive_backlog_alert * 1024 * 1024;
	char		age[32];

	if (cfg->archive_backlog_alert <= 0)
		return 0;
	if (cfg->pg_data == NULL)
		return pgb_error(err, EXIT_CONFIG, "archive_backlog_alert needs pg_data, the data directory on this host"),
			pgb_hint(err, "set pg_data (--pg-data) or run check on the database host");
	if (archstatus_data_backlog(cfg->pg_data, &b, err) != 0)
		return -1;
	duration_format(b.oldest > 0 ? time_now() / 1000000 - b.oldest : 0, age, sizeof(age));
	if (b.bytes > limit)
		return pgb_error(err, EXIT_STALE,
						 "archive backlog: %d WAL files (%.1f MiB) wait to be archived, the oldest for %s; "
						 "more than archive_backlog_alert %d MiB", b.count, (double) b.bytes / (1024 * 1024), age,
						 cfg->archive_backlog_alert),
			pgb_hint(err, "see why archive_command fails in the server's log (pg_stat_archiver.last_failed_wal)");
	log_info("archive backlog: %d WAL files (%.1f MiB), at most %d MiB allowed", b.count,
			 (double) b.bytes / (1024 * 1024), cfg->archive_backlog_alert);
	return 0;
}

static int
check_freshness(const Config *cfg, PgbError *err)
{
	int64_t		max_backup = 0,
				max_archive = 0,
				now = time_now() / 1000000;
	Freshness	f;
	Repo	   *repo = NULL;
	const char *name = cfg->repos[cfg->repo_current].name;
	char		stale[600] = "",
				fresh[600] = "",
				age[32],
				limit[32];
	size_t		ns = 0,
				nf = 0;

	if ((cfg->max_backup_age && duration_parse(cfg->max_backup_age, "--max-backup-age", &max_backup, err) != 0) ||
		(cfg->max_archive_age && duration_parse(cfg->max_archive_age, "--max-archive-age", &max_archive, err) != 0))
		return -1;
	if (pgbr_is_repo(cfg, cfg->repo_current))
	{
		if (pgbr_freshness(cfg, max_archive > 0, &f, err) != 0)
			return -1;
	}
	else if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	else if (freshness_read(repo, &f, err) != 0)
	{
		repo_free(repo);
		return -1;
	}
#define SAY(buf, n, ...) (n += (size_t) snprintf(buf + (n < sizeof(buf) ? n : sizeof(buf)), \
						  n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
	if (max_backup)
	{
		duration_format(max_backup, limit, sizeof(limit));
		if (f.nbackups == 0)
			SAY(stale, ns, "%sno backup (limit %s)", ns ? "; " : "", limit);
		else
		{
			int64_t		a = now - f.newest_stop / 1000000;

			duration_format(a, age, sizeof(age));
			if (a > max_backup)
				SAY(stale, ns, "%snewest backup %s is %s old, more than %s", ns ? "; " : "", f.newest_label, age, limit);
			else
				SAY(fresh, nf, "%snewest backup %s %s old (limit %s)", nf ? ", " : "", f.newest_label, age, limit);
		}
	}
	if (max_archive)
	{
		duration_format(max_archive, limit, sizeof(limit));
		if (f.nsegments == 0)
			SAY(stale, ns, "%sno archived WAL (limit %s)", ns ? "; " : "", limit);
		else
		{
			int64_t		a = now - f.newest_wal_time;

			duration_format(a, age, sizeof(age));
			if (a > max_archive)
				SAY(stale, ns, "%snewest WAL %s was archived %s ago, more than %s", ns ? "; " : "", f.newest_wal, age, limit);
			else
				SAY(fresh, nf, "%snewest WAL %s archived %s ago (limit %s)", nf ? ", " : "", f.newest_wal, age, limit);
		}
	}
	if (cfg->min_backups > 0)
	{
		if (f.nbackups < cfg->min_backups)
			SAY(stale, ns, "%s%d backup%s, fewer than %d", ns ? "; " : "", f.nbackups, f.nbackups == 1 ? "" : "s",
				cfg->min_backups);
		else
			SAY(fresh, nf, "%s%d backup%s (at least %d)", nf ? ", " : "", f.nbackups, f.nbackups == 1 ? "" : "s",
				cfg->min_backups);
	}
#undef SAY
	if (ns > 0)
	{
		pgb_error(err, EXIT_STALE, "stale: %s in repository %s for cluster %s", stale, name, cfg->cluster);
		repo_free(repo);
		return -1;
	}
	printf("check ok: %s in repository %s for cluster %s\n", fresh, name, cfg->cluster);
	repo_free(repo);
	return 0;
}

int
cmd_check(const Config *cfg, PgbError *err)
{
	Repo	   *repo;
	DbConn	   *conn;
	DbServerInfo si;
	char		walname[WAL_NAME_LEN + 1];
	const char *names[1] = {walname};
	int			rc = -1;

	if (check_backlog(cfg, err) != 0)
		return -1;
	if (monitoring(cfg))
		return check_freshness(cfg, err);
	if (pgbr_is_repo(cfg, cfg->repo_current))
		return cmd_pgbr_check(cfg, err);
	if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	conn = cmd_connect_checked(cfg, repo, &si, err);
	if (conn == NULL)
		goto done;
	if (cmd_require_archiving_primary(&si, "check", err) != 0)
		goto done;
	if (strstr(si.archive_command, "pgbkp") == NULL)
		log_warn("archive_command \"%s\" does not mention pgbkp", si.archive_command);
	if (db_switch_wal(conn, walname, err) != 0)
		goto done;
	log_info("switched WAL; waiting for \"%s\" to reach the repository", walname);
	if (cmd_wait_for_wal(repo, names, 1, cfg->archive_timeout, err) != 0)
		goto done;
	printf("check ok: WAL file %s archived to repository %s for cluster %s\n",
		   walname, storage_description(repo->storage), repo->cluster);
	rc = 0;
done:
	db_close(conn);
	repo_free(repo);
	return rc;
}
