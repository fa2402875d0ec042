/*
 * pgbkp wal-index rebuild: summarize every archived WAL segment again into
 * the WAL index (repo/walindex.h) and report what the archive holds.  A
 * restore makes the summaries it needs by itself; this makes them all at
 * once (after an upgrade, or to check that every segment can be read).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"
#include "repo/walarchive.h"
#include "repo/walindex.h"

int
cmd_wal_index(const Config *cfg, PgbError *err)
{
	Repo	   *repo;
	WalList		wal = {0};
	long long	commits = 0,
				points = 0;
	int			incomplete = 0,
				rc = -1;

	if (strcmp(cfg->args[0], "rebuild") != 0)
		return pgb_error(err, EXIT_USAGE, "unknown wal-index action \"%s\"", cfg->args[0]),
			pgb_hint(err, "pgbkp wal-index rebuild");
	if ((repo = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	if (wal_list(repo, &wal, err) != 0)
		goto done;
	for (int i = 0; i < wal.nsegments; i++)
	{
		WalSummary	s;

		if (walindex_build(repo, wal.segments[i].tli, wal.segments[i].segno, &s, err) != 0)
		{
			char		name[WAL_NAME_LEN + 1];

			wal_segment_name(name, wal.segments[i].tli, wal.segments[i].segno, repo->info.wal_segment_size);
			pgb_error_context(err, "WAL segment %s", name);
			goto done;
		}
		commits += s.ncommits;
		points += s.npoints;
		incomplete += !s.complete;
		walsummary_free(&s);
	}
	printf("wal-index: %d segments summarized in repository %s: %lld commits and aborts, %lld restore points%s\n",
		   wal.nsegments, repo->name, commits, points,
		   incomplete ? " (the newest segment ends in a record the next segment finishes: summarized again when it is archived)" : "");
	rc = 0;
done:
	wal_list_free(&wal);
	repo_free(repo);
	return rc;
}
