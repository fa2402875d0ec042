/* The recoverable window of a pgBackRest stanza (see window.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "pg/walreader.h"
#include "pgbackrest/exec.h"
#include "pgbackrest/fetch.h"
#include "pgbackrest/window.h"
#include "repo/walindex.h"

#define WINDOW_SEGMENTS_BACK 16	/* how far back a transaction end is looked for */

static const PgbrArchive *
archive_of(const PgbrInfo *info, int db_id)
{
	for (int i = 0; i < info->narchive; i++)
		if (info->archive[i].db_id == db_id && info->archive[i].min[0] && info->archive[i].max[0])
			return &info->archive[i];
	return NULL;
}

bool
pgbr_backup_restorable(const PgbrInfo *info, const PgbrBackup *b)
{
	const PgbrArchive *a = archive_of(info, b->db_id);

	/* WAL names sort by timeline, then position: within min..max is within the archive */
	/* a backup with page errors (b->error) is a faithful copy of damaged pages: still restorable */
	return a && b->wal_start[0] && b->wal_stop[0] &&
		strcmp(b->wal_start, a->min) >= 0 && strcmp(b->wal_stop, a->max) <= 0;
}

/* The last transaction end in archived segment name (fetched into dir); *found false when none. */
static int
segment_last_commit(const RepoDef *def, const char *cluster, const char *dir, const char *name,
					bool *found, TimestampUs *when, Lsn *valid_end, uint64_t *segsize, PgbError *err)
{
	char	   *data = NULL;
	size_t		len = 0;
	TimeLineID	tli;
	SegNo		segno;
	WalSummary	sum;
	int			rc = -1;

	*found = false;
	if (pgbr_fetch(def, cluster, dir, name, PGBR_SEGMENT_MAX, &data, &len, err) != 0)
		goto done;
	if (wal_file_classify(name, len, &tli, &segno) != WAL_KIND_SEGMENT)
	{
		pgb_error(err, EXIT_CORRUPT, "WAL segment %s fetched from pgBackRest has an unexpected size (%zu bytes)",
				  name, len);
		goto done;
	}
	if (walsummary_compute((const uint8_t *) data, len, tli, segno, NULL, &sum, err) != 0)
		goto done;
	*valid_end = sum.valid_end;
	*segsize = len;
	if (sum.ncommits > 0)
	{
		*found = true;
		*when = sum.commits[sum.ncommits - 1].time;
	}
	walsummary_free(&sum);
	rc = 0;
done:
	free(data);
	return rc;
}

/* The segment before name on its timeline ("" at the first). */
static void
previous_segment(const char *name, uint64_t segsize, char *out)
{
	TimeLineID	tli;
	SegNo		segno;

	out[0] = '\0';
	if (wal_file_classify(name, segsize, &tli, &segno) == WAL_KIND_SEGMENT && segno > 0)
		wal_segment_name(out, tli, segno - 1, segsize);
}

int
pgbr_windows(const RepoDef *def, const char *cluster, const PgbrInfo *info, bool end_optional,
			 PgbrWindow *out, int max, int *n, PgbError *err)
{
	char		tdir[PGB_PATH_MAX];
	int			rc = 0;

	*n = 0;
	if (pgbr_tempdir(tdir, sizeof(tdir), err) != 0)
		return -1;
	for (int i = 0; i < info->narchive && *n < max && rc == 0; i++)
	{
		const PgbrArchive *a = &info->archive[i];
		PgbrWindow *w = &out[*n];
		char		name[PGBR_WAL_NAME];
		uint64_t	segsize = 0;

		if (!a->min[0] || !a->max[0])
			continue;
		memset(w, 0, sizeof(*w));
		w->db_id = a->db_id;
		for (int b = 0; b < info->nbackups; b++)
			if (pgbr_backup_restorable(info, &info->backups[b]) && info->backups[b].db_id == a->db_id &&
				(w->first == NULL || info->backups[b].stop_time < w->first->stop_time))
				w->first = &info->backups[b];
		if (w->first == NULL)
			continue;
		/*
		 * pgBackRest's stop time is the server's clock, in whole seconds, read
		 * after pg_backup_stop returned: the backup is consistent only from
		 * the next second on, as restore counts it (cmd/pgbr_restore.c).
		 */
		w->start = w->first->stop_time + 1000000;
		/* the timeline is the newest name's first 8 hex digits, whatever the segment size */
		(void) sscanf(a->max, "%8X", &w->tli);
		/* the newest segment, and the ones before it while no transaction ended in them */
		snprintf(name, sizeof(name), "%s", a->max);
		for (int tries = 0; tries < WINDOW_SEGMENTS_BACK && name[0] && !w->has_commit && rc == 0; tries++)
		{
			Lsn			end = 0;
			bool		found;
			PgbError	e = {0};

			if (segment_last_commit(def, cluster, tdir, name, &found, &w->last_commit, &end, &segsize, &e) != 0)
			{
				if (tries == 0 && end_optional)
					snprintf(w->unread, sizeof(w->unread), "%.*s", (int) sizeof(w->unread) - 1, e.msg);
				else if (tries == 0)
					*err = e, rc = -1;
				break;
			}
			if (tries == 0)
				w->archived_end = end;
			w->has_commit = found;
			if (strcmp(name, a->min) <= 0 || strcmp(name, w->first->wal_stop) <= 0)
				break;
			{
				char		prev[PGBR_WAL_NAME];

				previous_segment(name, segsize, prev);
				memcpy(name, prev, sizeof(name));
			}
		}
		if (rc == 0)
			(*n)++;
	}
	{
		PgbError	ignored;

		(void) fio_remove_tree(tdir, &ignored);
	}
	return rc;
}
