/* In-progress streamed segments (see walstream.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"

/* Whether name is the in-progress object of a segment (SEGMENT.stream), and which. */
bool
walstream_object_name(const char *name, uint64_t segsize, TimeLineID *tli, SegNo *segno)
{
	char		seg[WAL_NAME_LEN + 1];

	if (strlen(name) != WAL_NAME_LEN + 7 || strcmp(name + WAL_NAME_LEN, ".stream") != 0)
		return false;
	snprintf(seg, sizeof(seg), "%.*s", WAL_NAME_LEN, name);
	return wal_file_classify(seg, segsize, tli, segno) == WAL_KIND_SEGMENT;
}

static int
stream_path(const Repo *repo, const char *segname, char *out, PgbError *err)
{
	TimeLineID	tli;
	SegNo		segno;

	if (wal_file_classify(segname, repo->info.wal_segment_size, &tli, &segno) != WAL_KIND_SEGMENT)
		return pgb_error(err, EXIT_USAGE, "\"%s\" is not a WAL segment name", segname);
	if (repo_path(repo, out, "wal/%.16s/%s.stream", segname, segname) != 0)
		return pgb_error(err, EXIT_IO, "path too long for WAL file \"%s\"", segname);
	return 0;
}

int
walstream_put(Repo *repo, const char *segname, const uint8_t *buf, size_t len, int level, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	if (stream_path(repo, segname, path, err) != 0)
		return -1;
	return objio_put_mem(repo->storage, path, OBJECT_KIND_WAL, level, buf, len, false, NULL, NULL, err);
}

int
walstream_remove(Repo *repo, const char *segname, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	if (stream_path(repo, segname, path, err) != 0)
		return -1;
	return storage_remove(repo->storage, path, err);
}

/* Whether the archive holds name (-1 with err when it cannot be told). */
static int
archived(Repo *repo, const char *name, PgbError *err)
{
	int			rc;
	bool		there = wal_exists(repo, name, err, &rc);

	return rc != 0 ? -1 : there;
}

int
walstream_read_last(Repo *repo, const char *segname, char **out, PgbError *err)
{
	uint64_t	segsize = repo->info.wal_segment_size;
	char		path[PGB_PATH_MAX];
	char		next[WAL_NAME_LEN + 1];
	char		history[32];
	TimeLineID	tli;
	SegNo		segno;
	char	   *content = NULL;
	size_t		len = 0;
	int			rc;
	StorageInfo info;

	*out = NULL;
	if (stream_path(repo, segname, path, err) != 0)
		return -1;
	(void) wal_file_classify(segname, segsize, &tli, &segno);
	wal_segment_name(next, tli, segno + 1, segsize);
	snprintf(history, sizeof(history), "%08X.history", tli + 1);
	if (storage_info(repo->storage, path, &info, err) != 0)
		return -1;
	if (!info.exists)
		return pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the repository", segname);
	/* only the newest WAL of the newest timeline: anything later proves it is not */
	if ((rc = archived(repo, next, err)) != 0 || (rc = archived(repo, history, err)) != 0)
		return rc < 0 ? -1 : pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the repository", segname);
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_WAL, segsize, &content, &len, err) != 0)
		return -1;
	/* zero-padded to a whole segment, as PostgreSQL expects of a restored file */
	if ((*out = calloc(1, segsize)) == NULL)
		rc = pgb_error(err, EXIT_INTERNAL, "out of memory");
	else
		memcpy(*out, content, len);
	free(content);
	return rc;
}

int
walstream_get_last(Repo *repo, const char *segname, const char *dest_path, PgbError *err)
{
	char	   *padded;
	int			rc;

	if (walstream_read_last(repo, segname, &padded, err) != 0)
		return -1;
	rc = fio_write_atomic(dest_path, padded, repo->info.wal_segment_size, 0600, err);
	free(padded);
	return rc;
}

int
walstream_stored_end(Repo *repo, const WalList *wal, TimeLineID *tli, Lsn *end, PgbError *err)
{
	uint64_t	segsize = repo->info.wal_segment_size;
	const WalSegment *last = wal->nsegments > 0 ? &wal->segments[wal->nsegments - 1] : NULL;

	*tli = 0;
	*end = 0;
	if (last)
	{
		*tli = last->tli;
		*end = (last->segno + 1) * segsize;
	}
	if (wal->has_stream && (last == NULL || wal->stream_segno > last->segno ||
							(wal->stream_segno == last->segno && wal->stream_tli > last->tli)))
	{
		char		name[WAL_NAME_LEN + 1];
		char		path[PGB_PATH_MAX];
		ObjectSummary sum;

		/* the trailer says how much the object holds: no need to decompress it */
		wal_segment_name(name, wal->stream_tli, wal->stream_segno, segsize);
		if (stream_path(repo, name, path, err) != 0 ||
			objio_get_trailer(repo->storage, path, &sum, err) != 0)
			return -1;
		if (sum.size > segsize)
			return pgb_error(err, EXIT_CORRUPT, "in-progress WAL object \"%s\" holds %llu bytes, more than a segment",
							 path, (unsigned long long) sum.size);
		*tli = wal->stream_tli;
		*end = wal->stream_segno * segsize + sum.size;
	}
	return 0;
}
