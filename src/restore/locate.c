/* Choosing the backup for a target with the WAL index (see locate.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/chain.h"
#include "common/log.h"
#include "repo/walindex.h"
#include "repo/walstream.h"
#include "restore/locate.h"

#define MAX_FOUND 8
#define MAX_LISTED 8

typedef struct Found
{
	Lsn			lsn;
	TimeLineID	tli;
	TimestampUs time;
} Found;

/* The oldest segment any backup needs: nothing before it can be recovered through. */
static SegNo
first_useful_segno(const Catalog *c)
{
	SegNo		first = UINT64_MAX;

	for (int i = 0; i < c->count; i++)
		if (manifest_start_segno(&c->backups[i]) < first)
			first = manifest_start_segno(&c->backups[i]);
	return first;
}

static bool
xid_matches(const RestoreTarget *t, uint32_t xid)
{
	return (uint32_t) strtoull(t->text, NULL, 10) == xid;
}

/*
 * Every place of a restore point or transaction in the archive (at most
 * MAX_FOUND), and for a name the restore points there are, for the message.
 */
static int
find_target(Repo *repo, const Catalog *c, const WalList *wal, const RestoreTarget *t, Found *found, int *nfound,
			char *listed, size_t llen, PgbError *err)
{
	SegNo		first = first_useful_segno(c);
	int			nlisted = 0;
	size_t		ll = 0;

	*nfound = 0;
	listed[0] = '\0';
	for (int i = wal->nsegments - 1; i >= 0; i--)
	{
		const WalSegment *s = &wal->segments[i];
		WalSummary	sum;

		if (s->segno < first)
			continue;
		if (walindex_get(repo, s->tli, s->segno, &sum, err) != 0)
			return -1;
		for (int k = sum.npoints - 1; t->kind == TARGET_NAME && k >= 0; k--)
		{
			const WalPoint *p = &sum.points[k];

			if (strcmp(p->name, t->text) == 0 && *nfound < MAX_FOUND)
				found[(*nfound)++] = (Found) {p->lsn, s->tli, p->time};
			else if (nlisted < MAX_LISTED && ll < llen)
			{
				char		when[64];

				time_format_utc(p->time, when, sizeof(when));
				ll += (size_t) snprintf(listed + ll, llen - ll, "%s\"%s\" (%s)", nlisted ? ", " : "", p->name, when);
				nlisted++;
			}
		}
		for (int k = sum.ncommits - 1; t->kind == TARGET_XID && k >= 0; k--)
			if (xid_matches(t, sum.commits[k].xid) && *nfound < MAX_FOUND)
				found[(*nfound)++] = (Found) {sum.commits[k].lsn, s->tli, sum.commits[k].time};
		walsummary_free(&sum);
	}
	return 0;
}

static int
choose_located(Repo *repo, const Catalog *c, const WalList *wal, const RestoreTarget *target, const char *set_label,
			   const Manifest **chosen, TimeLineID *timeline, PgbError *err)
{
	Found		found[MAX_FOUND];
	int			n;
	char		listed[700],
				what[128],
				lsn[32];
	RestoreTarget at = *target;

	if (target->kind == TARGET_NAME)
		snprintf(what, sizeof(what), "restore point \"%s\"", target->text);
	else
		snprintf(what, sizeof(what), "transaction %s", target->text);
	if (find_target(repo, c, wal, target, found, &n, listed, sizeof(listed), err) != 0)
		return -1;
	if (n == 0)
	{
		pgb_error(err, EXIT_TARGET, "%s is not in the archived WAL that a backup can reach", what);
		if (target->kind == TARGET_NAME)
			return pgb_hint(err, listed[0] ? "the restore points there, newest first: %s" :
							"there are no restore points in the archived WAL", listed);
		return pgb_hint(err, "no commit or abort of it was archived after the oldest backup; \"pgbkp info\" shows the recoverable window");
	}
	if (n > 1 && target->kind == TARGET_NAME)
	{
		char		places[400] = "";
		size_t		pl = 0;

		for (int i = 0; i < n && pl < sizeof(places); i++)
		{
			lsn_format(found[i].lsn, lsn, sizeof(lsn));
			pl += (size_t) snprintf(places + pl, sizeof(places) - pl, "%s%s on timeline %u", i ? ", " : "", lsn,
									found[i].tli);
		}
		pgb_error(err, EXIT_TARGET, "%s was created %d times (at %s): recovery stops at the first one after the backup",
				  what, n, places);
		return pgb_hint(err, "name the one you want with --lsn");
	}
	/* the newest place (transaction IDs wrap around; restore point names are unique here) */
	lsn_format(found[0].lsn, lsn, sizeof(lsn));
	log_info("%s is at LSN %s on timeline %u (from the WAL index)", what, lsn, found[0].tli);
	at.kind = TARGET_LSN;
	at.lsn = found[0].lsn;
	if (at.timeline_request == TIMELINE_AUTO)
	{
		at.timeline_request = TIMELINE_NUMBER;
		at.timeline = found[0].tli;
	}
	if (plan_choose(c, wal, &at, set_label, chosen, timeline, err) != 0)
		return pgb_error_context(err, "%s (LSN %s on timeline %u)", what, lsn, found[0].tli);
	return 0;
}

/*
 * The newest commit in pgbkp stream's in-progress object of segment segno,
 * the one after the archived WAL, when archive-get would serve it (the
 * newest WAL of the newest timeline: walstream_read_last).
 */
static int
streamed_last_commit(Repo *repo, const Timeline *tl, SegNo segno, const Manifest *m, bool *any,
					 TimestampUs *newest, PgbError *err)
{
	uint64_t	size = repo->info.wal_segment_size;
	TimeLineID	tli = timeline_tli_of_segment(tl, segno, size);
	char		name[WAL_NAME_LEN + 1];
	char	   *seg;
	WalSummary	sum;
	int			rc;

	wal_segment_name(name, tli, segno, size);
	if (walstream_read_last(repo, name, &seg, err) != 0)
	{
		if (err->code != EXIT_WAL_MISSING)
			return -1;
		memset(err, 0, sizeof(*err));
		return 0;
	}
	rc = walsummary_compute((const uint8_t *) seg, size, tli, segno, NULL, &sum, err);
	free(seg);
	if (rc != 0)
		return -1;
	for (int k = 0; k < sum.ncommits; k++)
		if (sum.commits[k].lsn >= m->stop_lsn && timeline_contains(tl, tli, sum.commits[k].lsn))
		{
			*any = true;
			if (sum.commits[k].time > *newest)
				*newest = sum.commits[k].time;
		}
	walsummary_free(&sum);
	return 0;
}

int
plan_last_commit(Repo *repo, const WalList *wal, const Manifest *m, TimeLineID timeline, bool *any,
				 TimestampUs *newest, PgbError *err)
{
	const Timeline *tl = timeline_find(wal, timeline);
	uint64_t	size = repo->info.wal_segment_size;
	SegNo		start = manifest_start_segno(m);
	int			endi;

	*any = false;
	*newest = 0;
	if (tl == NULL || (endi = timeline_contiguous_end(tl, wal, start, size)) < 0)
		return 0;
	if (streamed_last_commit(repo, tl, wal->segments[endi].segno + 1, m, any, newest, err) != 0)
		return -1;
	for (SegNo seg = wal->segments[endi].segno; !*any && seg >= start; seg--)
	{
		TimeLineID	tli = timeline_tli_of_segment(tl, seg, size);
		WalSummary	sum;

		if (walindex_get(repo, tli, seg, &sum, err) != 0)
			return -1;
		for (int k = 0; k < sum.ncommits; k++)
			if (sum.commits[k].lsn >= m->stop_lsn && timeline_contains(tl, tli, sum.commits[k].lsn))
			{
				*any = true;
				if (sum.commits[k].time > *newest)
					*newest = sum.commits[k].time;
			}
		walsummary_free(&sum);
		if (seg == 0)
			break;
	}
	return 0;
}

/*
 * With a time target: the newest commit or abort on the chosen timeline's
 * path, from the end of the archive back to the backup; refuse when it is
 * not after the target.
 */
static int
check_time_reachable(Repo *repo, const WalList *wal, const RestoreTarget *t, bool exclusive, const Manifest *m,
					 TimeLineID timeline, PgbError *err)
{
	TimestampUs newest;
	bool		any;
	char		when[64],
				target[64];

	if (plan_last_commit(repo, wal, m, timeline, &any, &newest, err) != 0)
		return -1;
	if (any && (newest > t->time || (exclusive && newest == t->time)))
		return 0;
	time_format_utc(t->time, target, sizeof(target));
	if (!any)
	{
		pgb_error(err, EXIT_TARGET, "no transaction ended after backup %s in the archived WAL, so recovery to %s cannot stop there",
				  m->label, target);
		return pgb_hint(err, "PostgreSQL stops at the first commit after the target time; restore without --time to recover everything archived");
	}
	time_format_utc(newest, when, sizeof(when));
	pgb_error(err, EXIT_TARGET, "the last transaction in the archived WAL ended at %s, not after the target time %s", when, target);
	return pgb_hint(err, "PostgreSQL stops at the first commit after the target time and would otherwise replay to the end and fail; restore without --time to recover everything archived, or wait until later WAL is archived");
}

int
plan_choose_indexed(Repo *repo, const Catalog *c, const WalList *wal, const RestoreTarget *target, bool exclusive,
					const char *set_label, const Manifest **chosen, TimeLineID *timeline, PgbError *err)
{
	if ((target->kind == TARGET_NAME || target->kind == TARGET_XID) && c->count > 0)
		return choose_located(repo, c, wal, target, set_label, chosen, timeline, err);
	if (plan_choose(c, wal, target, set_label, chosen, timeline, err) != 0)
		return -1;
	if (target->kind == TARGET_TIME)
		return check_time_reachable(repo, wal, target, exclusive, *chosen, *timeline, err);
	return 0;
}

int
plan_timeline_windows(Repo *repo, const Catalog *c, const WalList *wal, TimelineWindow *out, int max, int *n,
					  PgbError *err)
{
	*n = 0;
	for (int i = 0; i < wal->ntimelines && *n < max; i++)
	{
		const Timeline *tl = &wal->timelines[i];
		const Manifest *first = NULL;
		TimelineWindow *w = &out[*n];
		int			endi;

		/* the earliest backup restorable along this timeline */
		for (int b = 0; b < c->count && first == NULL; b++)
		{
			const Manifest *m = &c->backups[b];
			PgbError	ignored = {0};

			if (!timeline_contains(tl, m->timeline, m->stop_lsn) || chain_check(c, m, &ignored) != 0)
				continue;
			endi = timeline_contiguous_end(tl, wal, manifest_start_segno(m), repo->info.wal_segment_size);
			if (endi >= 0 && wal->segments[endi].segno >= manifest_stop_segno(m))
				first = m;
		}
		if (first == NULL)
			continue;
		memset(w, 0, sizeof(*w));
		w->tli = tl->tli;
		w->start = first->stop_time;
		endi = timeline_contiguous_end(tl, wal, manifest_start_segno(first), repo->info.wal_segment_size);
		w->end_archived = wal->segments[endi].mtime * (TimestampUs) 1000000;
		if (plan_last_commit(repo, wal, first, tl->tli, &w->has_commit, &w->last_commit, err) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}
