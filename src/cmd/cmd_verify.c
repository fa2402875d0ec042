/*
 * pgbkp verify: check every backup, the WAL archive, every job history
 * record, drill report and WAL index summary, and the verify mark
 * (backup/verify.h).
 * Every problem is reported, then the exit code says whether there was any.
 */
#include <stdio.h>
#include <string.h>

#include "backup/verify.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "cmd/pgbr.h"
#include "common/log.h"
#include "common/workers.h"
#include "repo/verifymark.h"

/* --since: a backup's label (backups after it), a time, or last (the mark of the last clean verify). */
static int
resolve_since(const Config *cfg, Repo *repo, const Catalog *cat, TimestampUs *since, PgbError *err)
{
	const char *s = cfg->verify_since;
	const Manifest *m;
	PgbError	perr = {0};

	*since = 0;
	if (s == NULL)
		return 0;
	if (strcmp(s, "last") == 0)
	{
		int			rc = verifymark_read(repo, since, err);

		if (rc == 0)
			log_info("no verify has passed in repository \"%s\" yet: verifying everything", repo->name);
		return rc < 0 ? -1 : 0;
	}
	if ((m = catalog_find(cat, s)) != NULL)
	{
		*since = m->stop_time + 1;
		return 0;
	}
	if (time_parse(s, since, &perr) == 0)
		return 0;
	return pgb_error(err, EXIT_USAGE, "--since \"%s\" is not a backup of this repository, a time or last", s),
		pgb_hint(err, "\"pgbkp info\" lists the backups; a time is YYYY-MM-DD HH:MM:SS[+HH]");
}

static void
report(void *arg, const PgbError *problem)
{
	log_error("%s", problem->msg);
}

int
cmd_verify(const Config *cfg, PgbError *err)
{
	Repo	   *repo;
	Catalog		cat = {0};
	WalList		wal = {0};
	Verifier	v;
	SegNo		oldest;
	TimestampUs started = time_now();
	int			rc = -1;

	if (pgbr_is_repo(cfg, cfg->repo_current))
		return cmd_pgbr_verify(cfg, err);
	if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	verifier_init(&v, repo, &cat, workers_resolve(cfg->jobs), report, NULL);
	if (catalog_load(repo, &cat, err) != 0 || wal_list(repo, &wal, err) != 0 ||
		resolve_since(cfg, repo, &cat, &v.since, err) != 0)
		goto done;
	for (int i = 0; i < cat.ncorrupt; i++)
	{
		PgbError	e = {0};

		pgb_error(&e, EXIT_CORRUPT, "backup %s: %s", cat.corrupt[i], cat.corrupt_error[i]);
		verifier_problem(&v, &e);
	}
	for (int i = 0; i < cat.nincomplete; i++)
		log_info("backup directory %s has no manifest: an interrupted backup, not counted", cat.incomplete[i]);
	if (verify_backups(&v, err) != 0)
		goto done;
	for (int b = 0; b < cat.count; b++)
	{
		const Manifest *m = &cat.backups[b];

		log_info("backup %s (%s): %d files checked", m->label, m->type, m->nfiles);
		/* the repository holds faithfully what was read: damaged pages are a warning, not a repository problem */
		if (m->bad_pages > 0)
			log_warn("backup %s holds %llu page%s that failed the data checksum when they were read: %s", m->label,
					 (unsigned long long) m->bad_pages, m->bad_pages == 1 ? "" : "s",
					 m->bad_pages_at ? m->bad_pages_at : "");
	}
	oldest = v.oldest;
	{
		SegNo		from;
		PgbError	ignored = {0};

		/* retention_archive: the archive is continuous only from its cutoff on */
		if (expire_continuous_from(cfg, &cat, &from, &ignored) && from > oldest)
		{
			log_info("WAL before the archive retention's start is kept only for each older backup's own range");
			oldest = from;
		}
	}
	verify_wal(&v, &wal, oldest, v.have_oldest);
	{
		int			nhistory = 0;

		if (verify_history(&v, &nhistory, err) != 0)
			goto done;
		log_info("job history: %d records checked", nhistory);
		if (verify_records(&v, &nhistory, err) != 0)
			goto done;
		log_info("drill reports, WAL index summaries and the verify mark: %d records checked", nhistory);
	}
	if (v.problems > 0 && v.unreadable == v.problems)
		/* the storage failed (an unreachable S3 server, say): nothing read was damaged */
		pgb_error(err, EXIT_IO, "verify could not read %d object%s in %d backups and %d WAL files; nothing it read was damaged",
				  v.problems, v.problems == 1 ? "" : "s", cat.count + cat.ncorrupt,
				  wal.nsegments + wal.nother + wal.nhistory);
	else if (v.problems > 0)
		pgb_error(err, EXIT_CORRUPT, "verify found %d problem%s in %d backups and %d WAL files",
				  v.problems, v.problems == 1 ? "" : "s", cat.count + cat.ncorrupt,
				  wal.nsegments + wal.nother + wal.nhistory);
	else
	{
		PgbError	merr = {0};

		if (v.since)
		{
			char		when[64];

			time_format_utc(v.since, when, sizeof(when));
			printf("verify ok since %s: %d of %d backups (%zu chunks) and %d of %d WAL segments read, %d other WAL files, "
				   "every backup's chain and WAL range and the archive's continuity checked, no problems\n",
				   when, v.nbackups, cat.count, v.nchunks, v.nwal, wal.nsegments, wal.nother + wal.nhistory);
		}
		else
			printf("verify ok: %d backups (%zu chunks) and %d WAL files (%d segments, %d other) checked, no problems\n",
				   cat.count, v.nchunks, wal.nsegments + wal.nother + wal.nhistory, wal.nsegments, wal.nother + wal.nhistory);
		if (verifymark_write(repo, started, &merr) != 0)
			log_warn("the verify mark could not be written: %s", merr.msg);
		rc = 0;
	}
done:
	verifier_free(&v);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
	return rc;
}
