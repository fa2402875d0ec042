/*
 * pgbkp verify: check every backup, the WAL archive and every job history
 * record (backup/verify.h).
 * Every problem is reported, then the exit code says whether there was any.
 */
#include <stdio.h>

#include "backup/verify.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_expire.h"
#include "common/log.h"
#include "common/workers.h"

static void
report(void *arg, const PgbError *problem)
{
	log_error("%s", problem->msg);
}

int
cmd_verify(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	Catalog		cat = {0};
	WalList		wal = {0};
	Verifier	v;
	SegNo		oldest;
	int			rc = -1;

	if (repo == NULL)
		return -1;
	verifier_init(&v, repo, &cat, workers_resolve(cfg->jobs), report, NULL);
	if (catalog_load(repo, &cat, err) != 0 || wal_list(repo, &wal, err) != 0)
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
		log_info("backup %s (%s): %d files checked", cat.backups[b].label, cat.backups[b].type, cat.backups[b].nfiles);
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
	}
	if (v.problems > 0)
		pgb_error(err, EXIT_CORRUPT, "verify found %d problem%s in %d backups and %d WAL files",
				  v.problems, v.problems == 1 ? "" : "s", cat.count + cat.ncorrupt,
				  wal.nsegments + wal.nother + wal.nhistory);
	else
	{
		printf("verify ok: %d backups (%zu chunks) and %d WAL files (%d segments, %d other) checked, no problems\n",
			   cat.count, v.nchunks, wal.nsegments + wal.nother + wal.nhistory, wal.nsegments, wal.nother + wal.nhistory);
		rc = 0;
	}
done:
	verifier_free(&v);
	wal_list_free(&wal);
	catalog_free(&cat);
	repo_free(repo);
	return rc;
}
