/* Streamed WAL into the repositories (see streamsink.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "io/fill.h"
#include "repo/streamsink.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"

int
streamsink_init(StreamSink *s, Repo **repos, int nrepos, int level, int threads, const char *tmp,
				PgbError *err)
{
	memset(s, 0, sizeof(*s));
	s->repos = repos;
	s->nrepos = nrepos;
	s->segsize = repos[0]->info.wal_segment_size;
	s->level = level;
	s->threads = threads;
	if ((s->buf = malloc(s->segsize)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	snprintf(s->tmpdir, sizeof(s->tmpdir), "%s/pgbkp-stream-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(s->tmpdir) == NULL)
	{
		pgb_error_errno(err, EXIT_IO, errno, "could not create a directory like \"%s\"", s->tmpdir);
		s->tmpdir[0] = '\0';
		return -1;
	}
	return 0;
}

void
streamsink_free(StreamSink *s)
{
	if (s->tmpdir[0])
		rmdir(s->tmpdir);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

Lsn
streamsink_next(const StreamSink *s)
{
	return s->seg_start + s->filled;
}

void
streamsink_restart(StreamSink *s, TimeLineID tli, Lsn lsn)
{
	s->tli = tli;
	s->seg_start = lsn / s->segsize * s->segsize;
	s->filled = s->flushed = 0;
}

int
streamsink_store_file(StreamSink *s, const char *name, const void *data, size_t len, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	int			fd;
	int			rc = 0;

	if (fio_path_join(path, sizeof(path), s->tmpdir, name, err) != 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create \"%s\"", path);
	rc = fio_write_all(fd, data, len, path, err);
	if (close(fd) != 0 && rc == 0)
		rc = pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", path);
	for (int i = 0; i < s->nrepos && rc == 0; i++)
	{
		WalPushResult result;

		if (wal_push(s->repos[i], path, s->level, s->threads, &result, err) != 0)
			rc = pgb_error_context(err, "repository \"%s\"", s->repos[i]->name);
		else
			log_debug("%s WAL file \"%s\" in repository \"%s\"",
					  result == WAL_PUSH_STORED ? "archived" : "already had", name, s->repos[i]->name);
	}
	unlink(path);
	return rc;
}

static void
segment_name(const StreamSink *s, char *name)
{
	wal_segment_name(name, s->tli, lsn_to_segno(s->seg_start, s->segsize), s->segsize);
}

int
streamsink_flush(StreamSink *s, PgbError *err)
{
	char		name[WAL_NAME_LEN + 1];

	if (s->filled == s->flushed)
		return 0;
	segment_name(s, name);
	for (int i = 0; i < s->nrepos; i++)
		if (walstream_put(s->repos[i], name, s->buf, s->filled, s->level, err) != 0)
			return pgb_error_context(err, "repository \"%s\"", s->repos[i]->name);
	s->flushed = s->filled;
	s->durable = s->seg_start + s->filled;
	return 0;
}

/* The segment is whole: archive it, drop its in-progress object, go on with the next. */
static int
complete_segment(StreamSink *s, PgbError *err)
{
	char		name[WAL_NAME_LEN + 1];

	segment_name(s, name);
	if (streamsink_store_file(s, name, s->buf, s->segsize, err) != 0)
		return -1;
	for (int i = 0; i < s->nrepos; i++)
		if (s->flushed > 0 && walstream_remove(s->repos[i], name, err) != 0)
			return pgb_error_context(err, "repository \"%s\"", s->repos[i]->name);
	log_info("streamed WAL segment %s", name);
	s->seg_start += s->segsize;
	s->durable = s->seg_start;
	s->filled = s->flushed = 0;
	return 0;
}

int
streamsink_resume(StreamSink *s, TimeLineID tli, Lsn lsn, PgbError *err)
{
	bool		any = false;
	WalSegment	newest = {0};

	for (int i = 0; i < s->nrepos; i++)
	{
		WalList		l;

		if (wal_list(s->repos[i], &l, err) != 0)
			return pgb_error_context(err, "repository \"%s\"", s->repos[i]->name);
		if (l.nsegments > 0 && (!any || l.segments[l.nsegments - 1].segno < newest.segno))
		{
			newest = l.segments[l.nsegments - 1];
			any = true;
		}
		wal_list_free(&l);
	}
	if (any)
		streamsink_restart(s, newest.tli, (newest.segno + 1) * s->segsize);
	else
		streamsink_restart(s, tli, lsn);
	return 0;
}

int
streamsink_follow_history(StreamSink *s, const char *text, size_t len, TimeLineID server_tli, PgbError *err)
{
	int			n;
	TimeLineID *tlis;
	Lsn		   *ends;

	if (wal_history_parse(text, len, &n, &tlis, &ends, err) != 0)
		return -1;
	/*
	 * A timeline that ended before the end of our segment is left for the
	 * next one from that segment's start: the next timeline's copy of the
	 * segment holds the same WAL up to the switch, and it is the copy the
	 * new primary keeps (it renamed the old one .partial).  Then the same
	 * for the timeline that followed, when it ended in that segment too.
	 */
	for (int i = 0; i < n; i++)
		if (tlis[i] == s->tli && ends[i] < s->seg_start + s->segsize)
		{
			TimeLineID	next = i + 1 < n ? tlis[i + 1] : server_tli;

			log_info("timeline %u ended at %X/%X on the server; going on with timeline %u", s->tli,
					 (unsigned) (ends[i] >> 32), (unsigned) ends[i], next);
			streamsink_restart(s, next, ends[i]);
		}
	free(tlis);
	free(ends);
	return 0;
}

int
streamsink_take(StreamSink *s, Lsn start, const void *data, size_t len, int *completed, PgbError *err)
{
	const uint8_t *p = data;
	size_t		left = len;

	*completed = 0;
	if (start != streamsink_next(s))
		return pgb_error(err, EXIT_DATABASE, "the server sent WAL from %X/%X, expected %X/%X",
						 (unsigned) (start >> 32), (unsigned) start,
						 (unsigned) (streamsink_next(s) >> 32), (unsigned) streamsink_next(s));
	while (left > 0)
		if (fill_from(s->buf, &s->filled, s->segsize, &p, &left))
		{
			if (complete_segment(s, err) != 0)
				return -1;
			(*completed)++;
		}
	return 0;
}
