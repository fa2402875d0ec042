/*
 * pgbkp verify: decode every stored byte and compare it with its recorded
 * SHA-256 (backup files, manifests, WAL), check that each backup's WAL from
 * start to stop is archived, and that the archive has no gap after the
 * oldest backup.  Every problem is reported, then the exit code says
 * whether there was any.
 */
#include <stdio.h>
#include <string.h>

#include "backup/bundle.h"
#include "common/fileio.h"
#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/log.h"
#include "repo/catalog.h"
#include "repo/walarchive.h"

typedef struct VerifyState
{
	int			problems;
	int			files;
	int			segments;
} VerifyState;

static void
problem(VerifyState *st, const PgbError *err)
{
	st->problems++;
	log_error("%s", err->msg);
}

static void
verify_backup(Repo *repo, const char *label, VerifyState *st, SegNo *oldest_start, bool *have_oldest)
{
	Manifest	m;
	PgbError	err = {0};
	char		start[WAL_NAME_LEN + 1],
				stop[WAL_NAME_LEN + 1];

	if (catalog_read_manifest(repo, label, &m, &err) != 0)
	{
		problem(st, &err);
		return;
	}
	if (manifest_check_paths(&m, &err) != 0)
		problem(st, &err);
	for (uint32_t b = 1; b <= m.nbundles; b++)
		if (bundle_check_header(repo, m.label, b, &err) != 0)
			problem(st, &err);
	for (int i = 0; i < m.nfiles; i++)
	{
		if (bundle_read_file(repo, m.label, &m.files[i], sink_discard, NULL, &err) != 0)
			problem(st, &err);
		st->files++;
	}
	manifest_wal_range(&m, start, stop);
	for (SegNo s = manifest_start_segno(&m); s <= manifest_stop_segno(&m); s++)
	{
		char		name[WAL_NAME_LEN + 1];
		int			rc;

		wal_segment_name(name, m.timeline, s, m.wal_segment_size);
		if (!wal_exists(repo, name, &err, &rc))
		{
			if (rc == 0)
				pgb_error(&err, EXIT_CORRUPT, "backup %s needs WAL file \"%s\", which is not in the repository", m.label, name);
			problem(st, &err);
		}
	}
	if (!*have_oldest || manifest_start_segno(&m) < *oldest_start)
		*oldest_start = manifest_start_segno(&m);
	*have_oldest = true;
	log_info("backup %s: %d files checked, WAL %s .. %s", m.label, m.nfiles, start, stop);
	manifest_free(&m);
}

int
cmd_verify(const Config *cfg, PgbError *err)
{
	Repo	   *repo = cmd_open_repo(cfg, err);
	VerifyState st = {0};
	StorageList dirs = {0};
	WalList		wal = {0};
	char		path[PGB_PATH_MAX];
	SegNo		oldest = 0;
	bool		have_oldest = false;
	int			nbackups = 0;

	if (repo == NULL)
		return -1;
	repo_path(repo, path, "backup");
	if (storage_list(repo->storage, path, &dirs, err) != 0 || wal_list(repo, &wal, err) != 0)
	{
		storage_list_free(&dirs);
		repo_free(repo);
		return -1;
	}
	for (int i = 0; i < dirs.count; i++)
	{
		char		mpath[PGB_PATH_MAX];
		StorageInfo info;
		PgbError	e = {0};

		if (!dirs.items[i].is_dir)
			continue;
		repo_path(repo, mpath, "backup/%s/backup.manifest", dirs.items[i].name);
		if (storage_info(repo->storage, mpath, &info, &e) != 0)
		{
			problem(&st, &e);
			continue;
		}
		if (!info.exists)
		{
			log_info("backup directory %s has no manifest: an interrupted backup, not counted", dirs.items[i].name);
			continue;
		}
		verify_backup(repo, dirs.items[i].name, &st, &oldest, &have_oldest);
		nbackups++;
	}
	for (int i = 0; i < wal.nsegments; i++)
	{
		char		name[WAL_NAME_LEN + 1];
		PgbError	e = {0};

		wal_segment_name(name, wal.segments[i].tli, wal.segments[i].segno, repo->info.wal_segment_size);
		if (wal_verify(repo, name, &e) != 0)
			problem(&st, &e);
		st.segments++;
		if (have_oldest && i > 0 && wal.segments[i - 1].segno >= oldest &&
			wal.segments[i].segno > wal.segments[i - 1].segno + 1)
		{
			char		prev[WAL_NAME_LEN + 1];

			wal_segment_name(prev, wal.segments[i - 1].tli, wal.segments[i - 1].segno, repo->info.wal_segment_size);
			pgb_error(&e, EXIT_CORRUPT, "WAL archive has a gap between \"%s\" and \"%s\": recovery cannot pass it", prev, name);
			problem(&st, &e);
		}
	}
	for (int i = 0; i < wal.nhistory; i++)
	{
		char		name[32];
		PgbError	e = {0};

		snprintf(name, sizeof(name), "%08X.history", wal.history[i]);
		if (wal_verify(repo, name, &e) != 0)
			problem(&st, &e);
	}
	storage_list_free(&dirs);
	wal_list_free(&wal);
	repo_free(repo);
	if (st.problems > 0)
		return pgb_error(err, EXIT_CORRUPT, "verify found %d problem%s in %d backups and %d WAL segments",
						 st.problems, st.problems == 1 ? "" : "s", nbackups, st.segments);
	printf("verify ok: %d backups (%d files) and %d WAL segments checked, no problems\n",
		   nbackups, st.files, st.segments);
	return 0;
}
