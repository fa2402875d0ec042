/*
 * pgbkp expire on a pgBackRest repository: pgBackRest removes what its
 * retention no longer needs (`pgbackrest expire`, which only it may do in
 * its repository); pgbkp hands it the retention pgbkp was given and reports
 * in expire's own format.
 *
 * pgbkp's retention settings map one to one onto pgBackRest's options of
 * the repository (repoN-): retention_full, retention_full_type (count, or
 * time in days), retention_diff, retention_archive, retention_archive_type
 * and --dry-run.  Each is passed only when it was set for pgbkp (on the
 * command line, in the environment or the configuration, or as the
 * repository's key); otherwise pgBackRest's own configuration decides, as
 * it does after each of its backups.  What pgBackRest removed is read from
 * its log ("remove expired backup", "remove archive"), which a dry run
 * prints too, and what remains from its info afterwards.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/info.h"

#define EXPIRE_LABELS 256

/* What pgBackRest's log said it removed. */
typedef struct ExpireSeen
{
	const PgbrInfo *before;
	const char *verb;			/* "removed" or "would remove" */
	int			nbackups;
	int			nwal;			/* archive ranges removed */
	char		labels[EXPIRE_LABELS][PGBR_LABEL_MAX];
} ExpireSeen;

static const char *
plural(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* The text after "INFO: " and an optional "[DRY-RUN] " and "repoN: ", or NULL. */
static const char *
info_message(const char *line, int len, int *mlen)
{
	const char *p = memmem(line, (size_t) len, "INFO: ", 6);

	if (p == NULL)
		return NULL;
	p += 6;
	if (strncmp(p, "[DRY-RUN] ", 10) == 0)
		p += 10;
	if (strncmp(p, "repo", 4) == 0 && strchr(p, ':') && strchr(p, ':') < line + len)
	{
		const char *c = p + 4;

		while (*c >= '0' && *c <= '9')
			c++;
		if (c > p + 4 && c[0] == ':' && c[1] == ' ')
			p = c + 2;
	}
	*mlen = len - (int) (p - line);
	return p;
}

static void
print_removed(ExpireSeen *seen, const char *label)
{
	const PgbrBackup *b = pgbr_info_find(seen->before, label);
	char		stopped[64];

	if (b == NULL)
		printf("%s backup %s\n", seen->verb, label);
	else
	{
		time_format_utc(b->stop_time, stopped, sizeof(stopped));
		if (b->prior[0])
			printf("%s backup %s (%s on %s, stopped %s)\n", seen->verb, label, b->type, b->prior, stopped);
		else
			printf("%s backup %s (%s, stopped %s)\n", seen->verb, label, b->type, stopped);
	}
	if (seen->nbackups < EXPIRE_LABELS)
		snprintf(seen->labels[seen->nbackups], PGBR_LABEL_MAX, "%s", label);
	seen->nbackups++;
}

/* pgBackRest's stderr at info level: removals become expire's lines, warnings stay warnings. */
static void
on_line(void *arg, const char *line, int len)
{
	ExpireSeen *seen = arg;
	const char *msg;
	int			mlen = 0;
	char		label[PGBR_LABEL_MAX],
				id[32],
				start[32],
				stop[32];

	if (strncmp(line, "WARN:", 5) == 0)
	{
		log_warn("pgBackRest: %.*s", len, line);
		return;
	}
	if ((msg = info_message(line, len, &mlen)) == NULL)
		return;
	if (sscanf(msg, "remove expired backup %63[0-9A-Z_-]", label) == 1)
		print_removed(seen, label);
	else if (sscanf(msg, "%31s remove archive, start = %31[0-9A-F], stop = %31[0-9A-F]", id, start, stop) == 3)
	{
		unsigned	tli = 0;

		sscanf(start, "%8x", &tli);
		printf("%s WAL of timeline %u: %s to %s\n", seen->verb, tli, start, stop);
		seen->nwal++;
	}
	else
		log_debug("pgBackRest: %.*s", mlen, msg);
}

/* Add "--repoN-KEY=VALUE" (kept in buf) for one retention setting that was given. */
static void
retention_arg(PgbrRun *run, const RepoDef *def, const char *key, const char *value, char *buf, size_t len,
			  char *said, size_t slen)
{
	size_t		used = strlen(said);

	snprintf(buf, len, "--repo%d-%s=%s", def->pgbr_repo > 0 ? def->pgbr_repo : 1, key, value);
	pgbr_arg(run, buf);
	snprintf(said + used, slen - used, "%s%s", used ? " " : "", buf + 2);
}

/* How many backups, and full ones, info lists; the oldest archived segment. */
static void
remaining(const PgbrInfo *info, int *nfull, const char **first_wal)
{
	*nfull = 0;
	*first_wal = "";
	for (int i = 0; i < info->nbackups; i++)
		*nfull += strcmp(info->backups[i].type, "full") == 0;
	for (int i = 0; i < info->narchive; i++)
		if (info->archive[i].min[0] && ((*first_wal)[0] == '\0' || strcmp(info->archive[i].min, *first_wal) < 0))
			*first_wal = info->archive[i].min;
}

int
cmd_pgbr_expire(const Config *cfg, PgbError *err)
{
	const RepoDef *def = &cfg->repos[cfg->repo_current];
	PgbrInfo	before = {0},
				after = {0};
	ExpireSeen	seen = {.before = &before, .verb = cfg->dry_run ? "would remove" : "removed"};
	PgbrRun		run = {.command = "expire", .relay_stderr = true, .stderr_level = "info", .on_line = on_line,
	.on_line_arg = &seen};
	char		a_full[48],
				a_type[48],
				a_diff[48],
				a_arch[48],
				a_atype[48],
				n[16],
				said[256] = "",
				where[PGB_PATH_MAX + 128],
				what[128];
	const PgbrInfo *left;
	const char *first_wal;
	int			nfull;
	int			rc = -1;

	pgbr_describe(cfg, cfg->repo_current, where, sizeof(where));
	if (def->retention_full > 0)
		snprintf(n, sizeof(n), "%d", def->retention_full),
			retention_arg(&run, def, "retention-full", n, a_full, sizeof(a_full), said, sizeof(said));
	if (def->retention_full_type)
		retention_arg(&run, def, "retention-full-type", def->retention_full_type, a_type, sizeof(a_type), said,
					  sizeof(said));
	if (def->retention_diff > 0)
		snprintf(n, sizeof(n), "%d", def->retention_diff),
			retention_arg(&run, def, "retention-diff", n, a_diff, sizeof(a_diff), said, sizeof(said));
	if (def->retention_archive > 0)
		snprintf(n, sizeof(n), "%d", def->retention_archive),
			retention_arg(&run, def, "retention-archive", n, a_arch, sizeof(a_arch), said, sizeof(said));
	if (def->retention_archive_type)
		retention_arg(&run, def, "retention-archive-type", def->retention_archive_type, a_atype, sizeof(a_atype),
					  said, sizeof(said));
	if (cfg->dry_run)
		pgbr_arg(&run, "--dry-run");
	if (said[0])
		log_info("retention: pgBackRest's %s, as pgbkp was given", said);
	else
		log_info("retention: pgBackRest's own (its repo%d-retention-* settings)", def->pgbr_repo);
	log_info("expiring in repository \"%s\" with pgBackRest (%s)", def->name, where);
	if (pgbr_info_load(def, cfg->cluster, &before, err) != 0 ||
		pgbr_exec_ok(def, cfg->cluster, true, &run, err) != 0 ||
		(!cfg->dry_run && pgbr_info_load(def, cfg->cluster, &after, err) != 0))
		goto done;
	left = cfg->dry_run ? &before : &after;
	remaining(left, &nfull, &first_wal);
	if (before.nbackups == 0)
		printf("expire: no backups, nothing to remove\n");
	else
	{
		int			nleft = left->nbackups - (cfg->dry_run ? seen.nbackups : 0);

		if (cfg->dry_run)
			for (int i = 0; i < seen.nbackups && i < EXPIRE_LABELS; i++)
			{
				const PgbrBackup *b = pgbr_info_find(&before, seen.labels[i]);

				nfull -= b != NULL && strcmp(b->type, "full") == 0;
			}
		if (seen.nbackups == 0 && seen.nwal == 0)
			snprintf(what, sizeof(what), "nothing to remove");
		else if (seen.nwal == 0)
			snprintf(what, sizeof(what), "%s %d %s", seen.verb, seen.nbackups,
					 plural(seen.nbackups, "backup", "backups"));
		else
			snprintf(what, sizeof(what), "%s %d %s and %d WAL %s", seen.verb, seen.nbackups,
					 plural(seen.nbackups, "backup", "backups"), seen.nwal, plural(seen.nwal, "range", "ranges"));
		if (cfg->dry_run || first_wal[0] == '\0')
			printf("expire: %s; %d %s (%d full) %s\n", what, nleft, plural(nleft, "backup", "backups"), nfull,
				   cfg->dry_run ? "would remain" : "remain");
		else
			printf("expire: %s; %d %s (%d full) and the WAL from %s on remain\n", what, nleft,
				   plural(nleft, "backup", "backups"), nfull, first_wal);
	}
	fflush(stdout);
	rc = 0;
done:
	if (rc != 0)
		pgb_error_context(err, "repository \"%s\"", def->name);
	pgbr_info_free(&before);
	pgbr_info_free(&after);
	pgbr_run_free(&run);
	return rc;
}
