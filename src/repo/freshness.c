/* A repository's freshness (see freshness.h). */
#include <string.h>

#include "repo/freshness.h"

int
freshness_read(Repo *repo, Freshness *out, PgbError *err)
{
	Catalog		cat;
	WalList		wal;

	memset(out, 0, sizeof(*out));
	if (catalog_load_headers(repo, &cat, err) != 0)
		return -1;
	if (wal_list(repo, &wal, err) != 0)
	{
		catalog_free(&cat);
		return -1;
	}
	out->nbackups = cat.count;
	for (int i = 0; i < cat.count; i++)
		if (cat.backups[i].stop_time >= out->newest_stop)
		{
			out->newest_stop = cat.backups[i].stop_time;
			memcpy(out->newest_label, cat.backups[i].label, sizeof(out->newest_label));
		}
	out->nsegments = wal.nsegments;
	for (int i = 0; i < wal.nsegments; i++)
		if (wal.segments[i].mtime >= out->newest_wal_time)
		{
			out->newest_wal_time = wal.segments[i].mtime;
			wal_segment_name(out->newest_wal, wal.segments[i].tli, wal.segments[i].segno, repo->info.wal_segment_size);
		}
	wal_list_free(&wal);
	catalog_free(&cat);
	return 0;
}
