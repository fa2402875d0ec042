/* Restore planning (see plan.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/chain.h"
#include "restore/plan.h"

#define MAX_CANDIDATES 64

/* One timeline a backup can be recovered along, and how far its WAL reaches. */
typedef struct Reach
{
	const Timeline *tl;
	int			end;			/* index of the last contiguous segment; -1: none */
	SegNo		end_segno;
	TimestampUs end_time;
} Reach;

/*
 * Whether pgbkp stream's in-progress object continues r's WAL: the segment
 * right after its contiguous end, on t's path, and the newest WAL of the
 * newest timeline (no later timeline has a history file), which is when
 * archive-get serves it (repo/walstream.h).  Recovery then reaches as far as
 * it was last replaced.
 */
static bool
streamed_after(const WalList *wal, const Timeline *t, const Reach *r, uint64_t segsize)
{
	if (!wal->has_stream || r->end < 0 || wal->stream_segno != r->end_segno + 1 ||
		wal->stream_tli != timeline_tli_of_segment(t, wal->stream_segno, segsize))
		return false;
	for (int i = 0; i < wal->nhistory; i++)
		if (wal->history[i] > wal->stream_tli)
			return false;
	return true;
}

/*
 * The timelines whose path passes through m's timeline at or after its stop
 * LSN, with their reach from m's first segment.  At most max; returns the
 * count.
 */
static int
candidates(const Manifest *m, const WalList *wal, Reach *out, int max)
{
	int			n = 0;

	for (int i = 0; i < wal->ntimelines && n < max; i++)
	{
		const Timeline *t = &wal->timelines[i];
		Reach	   *r = &out[n];

		if (!timeline_contains(t, m->timeline, m->stop_lsn))
			continue;
		r->tl = t;
		r->end = timeline_contiguous_end(t, wal, manifest_start_segno(m), m->wal_segment_size);
		r->end_segno = r->end >= 0 ? wal->segments[r->end].segno : 0;
		r->end_time = r->end >= 0 ? wal->segments[r->end].mtime * (TimestampUs) 1000000 : 0;
		if (r->end_time < m->stop_time)
			r->end_time = m->stop_time;
		/* its time is in whole seconds: what it holds was written before the next one */
		if (streamed_after(wal, t, r, m->wal_segment_size) &&
			(wal->stream_mtime + 1) * (TimestampUs) 1000000 > r->end_time)
			r->end_time = (wal->stream_mtime + 1) * (TimestampUs) 1000000;
		n++;
	}
	return n;
}

static bool
wal_complete(const Manifest *m, const Reach *r)
{
	return r->end >= 0 && r->end_segno >= manifest_stop_segno(m);
}

void
plan_backup_window(const Manifest *m, const WalList *wal, BackupWindow *out)
{
	Reach		r[MAX_CANDIDATES];
	int			n = candidates(m, wal, r, MAX_CANDIDATES);

	memset(out, 0, sizeof(*out));
	out->start = m->stop_time;
	for (int i = 0; i < n; i++)
	{
		if (!wal_complete(m, &r[i]))
			continue;
		if (!out->wal_complete || r[i].end_time > out->end ||
			(r[i].end_time == out->end && r[i].end_segno > out->end_segno))
		{
			out->end = r[i].end_time;
			out->end_segno = r[i].end_segno;
			out->end_tli = wal->segments[r[i].end].tli;
		}
		out->wal_complete = true;
	}
}

bool
plan_cluster_window(const Catalog *c, const WalList *wal, TimestampUs *start, TimestampUs *end)
{
	bool		found = false;

	for (int i = 0; i < c->count; i++)
	{
		BackupWindow w;

		PgbError	ignored;

		plan_backup_window(&c->backups[i], wal, &w);
		if (!w.wal_complete || chain_check(c, &c->backups[i], &ignored) != 0)
			continue;
		if (!found || w.start < *start)
			*start = w.start;
		if (!found || w.end > *end)
			*end = w.end;
		found = true;
	}
	return found;
}

/*
 * EXIT_TARGET with msg, followed by the recoverable window; the hint depends
 * on which side of the window a time target falls.
 */
static int
window_error(const Catalog *c, const WalList *wal, const RestoreTarget *t, PgbError *err, const char *msg)
{
	TimestampUs start,
				end;
	char		s[64],
				e[64];

	if (!plan_cluster_window(c, wal, &start, &end))
	{
		pgb_error(err, EXIT_TARGET, "%s", msg);
		return pgb_hint(err, "no backup has its WAL complete in the repository; take a new backup");
	}
	time_format_utc(start, s, sizeof(s));
	time_format_utc(end, e, sizeof(e));
	pgb_error(err, EXIT_TARGET, "%s; the recoverable window is %s to %s", msg, s, e);
	if (t->kind == TARGET_TIME && t->time < start)
		return pgb_hint(err, "the oldest usable backup ended at %s; no earlier moment can be restored", s);
	return pgb_hint(err, "WAL not yet archived is not in the window: run \"SELECT pg_switch_wal()\" on the primary, or wait for archive_timeout");
}

/*
 * Whether a time past a parting point on r's path falls before the child
 * timeline began: the path then holds the parting point's data, not the
 * target's.  The parting point was certainly written by the time the
 * parent's segment holding it was archived; where that segment is not
 * archived (the parent died in it), nothing proves the target lies past it.
 */
static bool
before_branch_began(const Manifest *m, const WalList *wal, const Reach *r, TimestampUs time)
{
	for (int i = 1; i < r->tl->nsteps; i++)
	{
		const TimelineStep *parent = &r->tl->steps[i - 1];
		const Timeline *child = timeline_find(wal, r->tl->steps[i].tli);
		int			s = timeline_find_segment(wal, parent->tli, lsn_to_segno(parent->end, m->wal_segment_size));

		if (s >= 0 && child != NULL && child->created > 0 &&
			time > wal->segments[s].mtime * (TimestampUs) 1000000 &&
			time < child->created * (TimestampUs) 1000000)
			return true;
	}
	return false;
}

/* Does recovery of m along r reach the target? */
static bool
holds(const Manifest *m, const WalList *wal, const Reach *r, const RestoreTarget *t)
{
	if (!wal_complete(m, r))
		return false;
	switch (t->kind)
	{
		case TARGET_TIME:
			return m->stop_time <= t->time && t->time <= r->end_time &&
				!before_branch_began(m, wal, r, t->time);
		case TARGET_LSN:
			return m->stop_lsn <= t->lsn && lsn_to_segno(t->lsn, m->wal_segment_size) <= r->end_segno;
		default:
			return true;
	}
}

typedef enum Preference
{
	PREFER_A,
	PREFER_B,
	PREFER_NEITHER				/* different data at the target: the operator must choose */
} Preference;

/* When the timeline a side goes on with past the parting point began. */
static TimestampUs
branch_start(const WalList *wal, TimeLineID next, bool stays)
{
	const Timeline *t = timeline_find(wal, next);

	if (stays || t == NULL || t->created == 0)
		return INT64_MIN;
	return t->created * (TimestampUs) 1000000;
}

/* Which of two timelines that both reach the target means it (see plan.h). */
static Preference
prefer(const Manifest *m, const WalList *wal, const Reach *a, const Reach *b, const RestoreTarget *t, Lsn *fork_at)
{
	Lsn			at;
	TimeLineID	a_next,
				b_next;
	bool		a_stays,
				b_stays,
				a_past,
				b_past;
	TimestampUs a_start,
				b_start;

	if (!timeline_fork(a->tl, b->tl, &at, &a_next, &a_stays, &b_next, &b_stays))
		return PREFER_A;
	*fork_at = at;
	a_past = a->end_segno >= lsn_to_segno(at, m->wal_segment_size);
	b_past = b->end_segno >= lsn_to_segno(at, m->wal_segment_size);
	/*
	 * The end of the archive, and neither side's archived WAL reaches the
	 * parting point: both hold the same data, and only the newer timeline
	 * can go on past it (with WAL pgbkp stream has not completed yet, which
	 * archive-get serves last), as PostgreSQL's "latest" would.
	 */
	if (!a_past && !b_past && t->kind == TARGET_LATEST)
		return a->tl->tli > b->tl->tli ? PREFER_A : PREFER_B;
	if (!b_past)
		return PREFER_A;		/* b's WAL ends before the paths part: a holds all of it and more */
	if (!a_past)
		return PREFER_B;
	switch (t->kind)
	{
		case TARGET_TIME:
			a_start = branch_start(wal, a_next, a_stays);
			b_start = branch_start(wal, b_next, b_stays);
			if (t->time < a_start && t->time < b_start)
				return PREFER_A;	/* neither had begun: both hold the parting point's data */
			if (t->time < a_start)
				return PREFER_B;	/* a's side began after the target: it does not hold it */
			if (t->time < b_start)
				return PREFER_A;
			return PREFER_NEITHER;
		case TARGET_LSN:
			return t->lsn < at ? PREFER_A : PREFER_NEITHER;
		case TARGET_IMMEDIATE:
			return PREFER_A;	/* consistency comes before any parting point */
		case TARGET_LATEST:
			/* the end of the archive: the timeline written last */
			if (a->end_time != b->end_time)
				return a->end_time > b->end_time ? PREFER_A : PREFER_B;
			return a->tl->tli > b->tl->tli ? PREFER_A : PREFER_B;
		default:
			/* a restore point or a transaction: where it lies cannot be known here */
			return PREFER_NEITHER;
	}
}

static void
target_text(const RestoreTarget *t, char *buf, size_t len)
{
	char		v[64];

	switch (t->kind)
	{
		case TARGET_TIME:
			time_format_utc(t->time, v, sizeof(v));
			snprintf(buf, len, "target time %s", v);
			break;
		case TARGET_LSN:
			lsn_format(t->lsn, v, sizeof(v));
			snprintf(buf, len, "target LSN %s", v);
			break;
		case TARGET_XID:
			snprintf(buf, len, "transaction %s", t->text);
			break;
		case TARGET_NAME:
			snprintf(buf, len, "restore point \"%s\"", t->text);
			break;
		default:
			snprintf(buf, len, "end of the archive");
			break;
	}
}

static int
ambiguous_error(const WalList *wal, const RestoreTarget *t, const Reach *a, const Reach *b, Lsn at, PgbError *err)
{
	char		what[160],
				lsn[32],
				when[128] = "";
	const Timeline *later = a->tl->tli > b->tl->tli ? a->tl : b->tl;

	target_text(t, what, sizeof(what));
	lsn_format(at, lsn, sizeof(lsn));
	if (timeline_find(wal, later->tli) && later->created > 0)
	{
		char		c[64];

		time_format_utc(later->created * (TimestampUs) 1000000, c, sizeof(c));
		snprintf(when, sizeof(when), "; timeline %u began about %s", later->tli, c);
	}
	pgb_error(err, EXIT_TARGET, "the %s may lie on timeline %u or on timeline %u, which part at LSN %s and hold different data after it%s",
			  what, a->tl->tli, b->tl->tli, lsn, when);
	return pgb_hint(err, "say which with --target-timeline %u or --target-timeline %u", a->tl->tli, b->tl->tli);
}

/*
 * The timeline m is recovered along to reach t: 0 with *chosen set, 1 when
 * no timeline of m reaches the target, -1 on an ambiguous target (err set).
 */
static int
choose_timeline(const Manifest *m, const WalList *wal, const RestoreTarget *t, const Reach **chosen,
				Reach *r, PgbError *err)
{
	int			n = candidates(m, wal, r, MAX_CANDIDATES);
	int			h[MAX_CANDIDATES];
	int			nh = 0;
	int			best;
	Lsn			at = 0;

	*chosen = NULL;
	for (int i = 0; i < n; i++)
	{
		TimeLineID	tli = r[i].tl->tli;

		if (t->timeline_request == TIMELINE_CURRENT && tli != m->timeline)
			continue;
		if (t->timeline_request == TIMELINE_NUMBER && tli != t->timeline)
			continue;
		if (holds(m, wal, &r[i], t))
			h[nh++] = i;
	}
	if (nh == 0)
		return 1;
	if (t->timeline_request == TIMELINE_LATEST)
	{
		/* PostgreSQL's "latest": the newest timeline; it must hold the target */
		int			newest = 0;

		for (int i = 1; i < n; i++)
			if (r[i].tl->tli > r[newest].tl->tli)
				newest = i;
		for (int i = 0; i < nh; i++)
			if (h[i] == newest)
			{
				*chosen = &r[newest];
				return 0;
			}
		return 1;
	}
	for (int i = 0; i < nh; i++)
		for (int j = i + 1; j < nh; j++)
			if (prefer(m, wal, &r[h[i]], &r[h[j]], t, &at) == PREFER_NEITHER)
				return ambiguous_error(wal, t, &r[h[i]], &r[h[j]], at, err);
	best = h[0];
	for (int i = 1; i < nh; i++)
		if (prefer(m, wal, &r[best], &r[h[i]], t, &at) == PREFER_B)
			best = h[i];
	*chosen = &r[best];
	return 0;
}

int
plan_choose(const Catalog *c, const WalList *wal, const RestoreTarget *target,
			const char *set_label, const Manifest **chosen, TimeLineID *timeline, PgbError *err)
{
	char		what[160];
	char		msg[320];
	Reach		r[MAX_CANDIDATES];
	const Reach *tl;
	int			rc;

	*chosen = NULL;
	*timeline = 0;
	if (set_label && catalog_corrupt_reason(c, set_label) != NULL)
	{
		pgb_error(err, EXIT_CORRUPT, "backup set \"%s\" cannot be restored: its manifest is unreadable: %s",
				  set_label, catalog_corrupt_reason(c, set_label));
		return pgb_hint(err, "\"pgbkp verify\" checks the whole repository; \"pgbkp info\" lists the backups that can be restored");
	}
	if (c->count == 0)
	{
		pgb_error(err, EXIT_NOT_FOUND, "the repository has no backups of this cluster");
		return pgb_hint(err, "take one with \"pgbkp backup\"");
	}
	target_text(target, what, sizeof(what));

	if (set_label)
	{
		/* "latest", as pgBackRest spells it: the newest backup */
		const Manifest *m = strcmp(set_label, "latest") == 0 ? &c->backups[c->count - 1] : catalog_find(c, set_label);
		BackupWindow w;

		if (m == NULL)
		{
			pgb_error(err, EXIT_NOT_FOUND, "backup set \"%s\" does not exist", set_label);
			return pgb_hint(err, "\"pgbkp info\" lists the backups");
		}
		plan_backup_window(m, wal, &w);
		if (!w.wal_complete)
			return pgb_error(err, EXIT_CORRUPT, "backup %s cannot be restored: WAL from its start to its stop is missing from the repository",
							 m->label);
		if (chain_check(c, m, err) != 0)
			return -1;
		rc = choose_timeline(m, wal, target, &tl, r, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
		{
			snprintf(msg, sizeof(msg), "backup %s cannot reach the %s", m->label, what);
			if (target->timeline_request != TIMELINE_AUTO)
				snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " on the requested timeline");
			return window_error(c, wal, target, err, msg);
		}
		*chosen = m;
		*timeline = tl->tl->tli;
		return 0;
	}
	for (int i = c->count - 1; i >= 0; i--)
	{
		PgbError	ignored;

		if (chain_check(c, &c->backups[i], &ignored) != 0)
			continue;
		rc = choose_timeline(&c->backups[i], wal, target, &tl, r, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
		{
			*chosen = &c->backups[i];
			*timeline = tl->tl->tli;
			return 0;
		}
	}
	if (target->kind != TARGET_LATEST && target->kind != TARGET_IMMEDIATE)
	{
		snprintf(msg, sizeof(msg), "no backup can reach the %s%s", what,
				 target->timeline_request != TIMELINE_AUTO ? " on the requested timeline" : "");
		return window_error(c, wal, target, err, msg);
	}
	if (target->timeline_request != TIMELINE_AUTO)
		return window_error(c, wal, target, err, "no backup can be restored along the requested timeline");
	return window_error(c, wal, target, err, "no backup can be restored: every backup lacks WAL it needs or builds on a missing backup");
}

void
plan_why_not(const Catalog *c, const WalList *wal, const RestoreTarget *target, const Manifest *m,
			 char *buf, size_t len)
{
	Reach		r[MAX_CANDIDATES];
	const Reach *tl;
	BackupWindow w;
	PgbError	e = {0};

	if (chain_check(c, m, &e) != 0)
	{
		snprintf(buf, len, "%s", e.msg);
		return;
	}
	plan_backup_window(m, wal, &w);
	if (!w.wal_complete)
		snprintf(buf, len, "WAL from its start to its stop is missing from the repository");
	else if (target->kind == TARGET_TIME && m->stop_time > target->time)
		snprintf(buf, len, "it ended after the target time");
	else if (target->kind == TARGET_LSN && m->stop_lsn > target->lsn)
		snprintf(buf, len, "it ended after the target LSN");
	else if (choose_timeline(m, wal, target, &tl, r, &e) != 0)
		snprintf(buf, len, "%s", e.code ? e.msg : "its archived WAL does not reach the target on a timeline that holds it");
	else
		snprintf(buf, len, "not chosen");
}

/* The WAL the restored server will replay: segment numbers and the timeline path. */
void
plan_wal_range(const Manifest *m, TimeLineID timeline, const RestoreTarget *t, const WalList *wal,
			   SegNo *first, SegNo *last, bool *approx)
{
	const Timeline *tl = timeline_find(wal, timeline);
	int			end = tl ? timeline_contiguous_end(tl, wal, manifest_start_segno(m), m->wal_segment_size) : -1;

	*first = manifest_start_segno(m);
	*last = end >= 0 ? wal->segments[end].segno : manifest_stop_segno(m);
	*approx = false;
	if (t->kind == TARGET_IMMEDIATE)
		*last = manifest_stop_segno(m);
	else if (t->kind == TARGET_LSN)
		*last = lsn_to_segno(t->lsn, m->wal_segment_size);
	else if (t->kind == TARGET_TIME && tl)
	{
		/* up to the first segment archived at or after the target time */
		for (SegNo sn = *first; sn <= *last; sn++)
		{
			int			i = timeline_find_segment(wal, timeline_tli_of_segment(tl, sn, m->wal_segment_size), sn);

			if (i >= 0 && wal->segments[i].mtime * (TimestampUs) 1000000 >= t->time)
			{
				*last = sn;
				break;
			}
		}
		*approx = true;
	}
	else if (t->kind == TARGET_NAME || t->kind == TARGET_XID)
		*approx = true;
	if (*last < *first)
		*last = *first;
}
