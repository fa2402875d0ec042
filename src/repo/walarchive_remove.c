/*
 * Removing archived WAL below a segment number (see walarchive.h), for
 * expire: file by file in name order, then the emptied directories.
 */
#include <stdio.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"

/* Whether every segment directory "wal/<dir>" can hold lies below before. */
static bool
dir_below(const Repo *repo, const char *dir, SegNo before)
{
	char		first[WAL_NAME_LEN + 1];
	TimeLineID	tli;
	SegNo		segno;
	SegNo		per_dir = (UINT64_C(1) << 32) / repo->info.wal_segment_size;

	if (strlen(dir) != 16)
		return false;
	snprintf(first, sizeof(first), "%s00000000", dir);
	if (wal_file_classify(first, repo->info.wal_segment_size, &tli, &segno) != WAL_KIND_SEGMENT)
		return false;
	return segno + per_dir <= before;
}

static bool
in_ranges(SegNo segno, const SegRange *keep, int nkeep)
{
	for (int i = 0; i < nkeep; i++)
		if (segno >= keep[i].first && segno <= keep[i].last)
			return true;
	return false;
}

static int
remove_before_in(Repo *repo, const char *dir, SegNo before, const SegRange *keep, int nkeep, bool dry_run,
				 WalRemovedFn fn, void *arg, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	StorageList files;
	int			kept = 0;
	int			rc = 0;

	if (repo_path(repo, path, "wal/%s", dir) != 0)
		return pgb_error(err, EXIT_IO, "path too long for WAL directory \"%s\"", dir);
	if (storage_list(repo->storage, path, &files, err) != 0)
		return -1;
	for (int i = 0; i < files.count && rc == 0; i++)
	{
		const char *name = files.items[i].name;
		TimeLineID	tli;
		SegNo		segno;
		WalFileKind kind = wal_file_classify(name, repo->info.wal_segment_size, &tli, &segno);

		/* pgbkp stream's in-progress object of a segment goes like a partial segment */
		if (kind == WAL_KIND_INVALID && walstream_object_name(name, repo->info.wal_segment_size, &tli, &segno))
			kind = WAL_KIND_PARTIAL;
		/* only WAL files below the cutoff, and only where wal_object_path puts them */
		if (files.items[i].is_dir || kind == WAL_KIND_INVALID || kind == WAL_KIND_HISTORY ||
			segno >= before || in_ranges(segno, keep, nkeep) || strncmp(name, dir, 16) != 0)
		{
			kept++;
			continue;
		}
		if (!dry_run)
		{
			if (repo_path(repo, path, "wal/%s/%s", dir, name) != 0)
				rc = pgb_error(err, EXIT_IO, "path too long for WAL file \"%s\"", name);
			else
				rc = storage_remove(repo->storage, path, err);
		}
		if (rc == 0 && fn)
			fn(arg, name, kind, tli, segno);
	}
	storage_list_free(&files);
	if (rc == 0 && !dry_run && kept == 0 && dir_below(repo, dir, before) &&
		repo_path(repo, path, "wal/%s", dir) == 0)
		rc = storage_remove_tree(repo->storage, path, err);
	return rc;
}

int
wal_remove_before(Repo *repo, SegNo before, const SegRange *keep, int nkeep, bool dry_run,
				  WalRemovedFn fn, void *arg, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	StorageList top;
	int			rc = 0;

	repo_path(repo, dir, "wal");
	if (storage_list(repo->storage, dir, &top, err) != 0)
		return -1;
	for (int i = 0; i < top.count && rc == 0; i++)
		if (top.items[i].is_dir && strlen(top.items[i].name) == 16)
			rc = remove_before_in(repo, top.items[i].name, before, keep, nkeep, dry_run, fn, arg, err);
	storage_list_free(&top);
	return rc;
}
