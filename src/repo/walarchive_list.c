/*
 * Listing the WAL archive (see walarchive.h): every segment, partial and
 * .backup file by kind, the newest in-progress streamed object, and the
 * timelines their history files describe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Keep the name of a partial segment or backup history file. */
static int
add_other(WalList *l, int *cap, const char *name, PgbError *err)
{
	if (l->nother == *cap)
	{
		char	  **bigger;

		*cap = *cap ? *cap * 2 : 16;
		bigger = realloc(l->other, sizeof(char *) * (size_t) *cap);
		if (bigger == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		l->other = bigger;
	}
	if ((l->other[l->nother] = strdup(name)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	l->nother++;
	return 0;
}

int
wal_segment_cmp(const void *a, const void *b)
{
	const WalSegment *x = a,
			   *y = b;

	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	return x->tli < y->tli ? -1 : x->tli > y->tli;
}

/* Add timeline tli (no-op when present) with its history file's text. */
static int
add_timeline(WalList *l, TimeLineID tli, int64_t created, const char *text, size_t len, PgbError *err)
{
	Timeline   *bigger;
	int			at = 0;

	while (at < l->ntimelines && l->timelines[at].tli < tli)
		at++;
	if (at < l->ntimelines && l->timelines[at].tli == tli)
		return 0;
	bigger = realloc(l->timelines, sizeof(Timeline) * (size_t) (l->ntimelines + 1));
	if (bigger == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	l->timelines = bigger;
	memmove(&l->timelines[at + 1], &l->timelines[at], sizeof(Timeline) * (size_t) (l->ntimelines - at));
	if (timeline_init(&l->timelines[at], tli, created, text, len, err) != 0)
	{
		PgbError	ignored;

		/* unreadable history: the timeline is known, its ancestors are not */
		(void) timeline_init(&l->timelines[at], tli, created, NULL, 0, &ignored);
		l->timelines[at].history_ok = false;
		pgb_error_clear(err);
		if (l->timelines[at].steps == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	l->ntimelines++;
	return 0;
}

/* The timelines of the listing: each history file read, then every segment's. */
static int
load_timelines(Repo *repo, WalList *l, const int64_t *hist_mtime, PgbError *err)
{
	for (int i = 0; i < l->nhistory; i++)
	{
		char		name[32];
		char		path[PGB_PATH_MAX];
		char	   *text = NULL;
		size_t		len = 0;
		PgbError	rerr;
		int			rc;

		snprintf(name, sizeof(name), "%08X.history", l->history[i]);
		if (wal_object_path(repo, name, path, err) != 0)
			return -1;
		if (objio_get_mem(repo->storage, path, OBJECT_KIND_WAL, 1 << 20, &text, &len, &rerr) != 0)
		{
			free(text);
			text = NULL;
			len = 0;
			rc = add_timeline(l, l->history[i], hist_mtime[i], NULL, 0, err);
			if (rc == 0)
				((Timeline *) timeline_find(l, l->history[i]))->history_ok = false;
		}
		else
			rc = add_timeline(l, l->history[i], hist_mtime[i], text, len, err);
		free(text);
		if (rc != 0)
			return -1;
	}
	for (int i = 0; i < l->nsegments; i++)
		if (add_timeline(l, l->segments[i].tli, 0, NULL, 0, err) != 0)
			return -1;
	return 0;
}

int
wal_list(Repo *repo, WalList *out, PgbError *err)
{
	char		dir[PGB_PATH_MAX];
	StorageList top;
	int			cap = 0;
	int			hcap = 0;
	int			ocap = 0;
	int64_t    *hist_mtime = NULL;

	memset(out, 0, sizeof(*out));
	repo_path(repo, dir, "wal");
	if (storage_list(repo->storage, dir, &top, err) != 0)
		return -1;
	for (int i = 0; i < top.count; i++)
	{
		StorageEntry *e = &top.items[i];
		TimeLineID	tli;
		SegNo		segno;
		StorageList sub;
		char		subdir[PGB_PATH_MAX];

		if (!e->is_dir)
		{
			if (wal_file_classify(e->name, repo->info.wal_segment_size, &tli, &segno) == WAL_KIND_HISTORY)
			{
				if (out->nhistory == hcap)
				{
					TimeLineID *h;
					int64_t    *t;

					hcap = hcap ? hcap * 2 : 8;
					if ((h = realloc(out->history, sizeof(TimeLineID) * (size_t) hcap)) != NULL)
						out->history = h;
					if ((t = realloc(hist_mtime, sizeof(int64_t) * (size_t) hcap)) != NULL)
						hist_mtime = t;
					if (h == NULL || t == NULL)
						goto oom;
				}
				hist_mtime[out->nhistory] = e->mtime;
				out->history[out->nhistory++] = tli;
			}
			continue;
		}
		if (strlen(e->name) != 16 || repo_path(repo, subdir, "wal/%s", e->name) != 0)
			continue;
		if (storage_list(repo->storage, subdir, &sub, err) != 0)
			goto fail;
		for (int j = 0; j < sub.count; j++)
		{
			WalFileKind kind = wal_file_classify(sub.items[j].name, repo->info.wal_segment_size, &tli, &segno);

			if (kind == WAL_KIND_PARTIAL || kind == WAL_KIND_BACKUP)
			{
				if (add_other(out, &ocap, sub.items[j].name, err) != 0)
				{
					storage_list_free(&sub);
					goto fail;
				}
				continue;
			}
			if (kind == WAL_KIND_INVALID &&
				walstream_object_name(sub.items[j].name, repo->info.wal_segment_size, &tli, &segno))
			{
				/* the newest in-progress object only: archive-get serves no other */
				if (!out->has_stream || segno > out->stream_segno ||
					(segno == out->stream_segno && tli > out->stream_tli))
				{
					out->has_stream = true;
					out->stream_tli = tli;
					out->stream_segno = segno;
					out->stream_mtime = sub.items[j].mtime;
				}
				continue;
			}
			if (kind != WAL_KIND_SEGMENT)
				continue;
			if (out->nsegments == cap)
			{
				WalSegment *bigger;

				cap = cap ? cap * 2 : 256;
				bigger = realloc(out->segments, sizeof(WalSegment) * (size_t) cap);
				if (bigger == NULL)
				{
					storage_list_free(&sub);
					goto oom;
				}
				out->segments = bigger;
			}
			out->segments[out->nsegments].tli = tli;
			out->segments[out->nsegments].segno = segno;
			out->segments[out->nsegments].mtime = sub.items[j].mtime;
			out->nsegments++;
		}
		storage_list_free(&sub);
	}
	storage_list_free(&top);
	if (out->nsegments > 1)
		qsort(out->segments, (size_t) out->nsegments, sizeof(WalSegment), wal_segment_cmp);
	if (out->nother > 1)
		qsort(out->other, (size_t) out->nother, sizeof(char *), name_cmp);
	if (load_timelines(repo, out, hist_mtime, err) != 0)
	{
		free(hist_mtime);
		wal_list_free(out);
		return -1;
	}
	free(hist_mtime);
	return 0;

oom:
	pgb_error(err, EXIT_INTERNAL, "out of memory");
fail:
	free(hist_mtime);
	storage_list_free(&top);
	wal_list_free(out);
	return -1;
}

void
wal_list_free(WalList *l)
{
	free(l->segments);
	for (int i = 0; i < l->nother; i++)
		free(l->other[i]);
	free(l->other);
	free(l->history);
	for (int i = 0; i < l->ntimelines; i++)
		timeline_free(&l->timelines[i]);
	free(l->timelines);
	memset(l, 0, sizeof(*l));
}
