/* Restore planning (see plan.h). */
#include <stdio.h>
#include <string.h>

#include "backup/chain.h"
#include "restore/plan.h"

void
plan_backup_window(const Manifest *m, const WalList *wal, BackupWindow *out)
{
	int			last = wal_contiguous_end(wal, m->timeline, manifest_start_segno(m));

	memset(out, 0, sizeof(*out));
	out->start = m->stop_time;
	if (last < 0)
		return;
	out->end_segno = wal->segments[last].segno;
	out->end_tli = wal->segments[last].tli;
	out->wal_complete = out->end_segno >= manifest_stop_segno(m);
	out->end = wal->segments[last].mtime * (TimestampUs) 1000000;
	if (out->end < out->start)
		out->end = out->start;
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

/* Can backup m (with every backup it builds on) reach the target with the archived WAL? */
static bool
reaches(const Catalog *c, const Manifest *m, const WalList *wal, const RestoreTarget *t)
{
	BackupWindow w;
	PgbError	ignored;

	plan_backup_window(m, wal, &w);
	if (!w.wal_complete || chain_check(c, m, &ignored) != 0)
		return false;
	switch (t->kind)
	{
		case TARGET_TIME:
			return m->stop_time <= t->time && t->time <= w.end;
		case TARGET_LSN:
			return m->stop_lsn <= t->lsn && lsn_to_segno(t->lsn, m->wal_segment_size) <= w.end_segno;
		default:
			return true;
	}
}

int
plan_choose(const Catalog *c, const WalList *wal, const RestoreTarget *target,
			const char *set_label, const Manifest **chosen, PgbError *err)
{
	char		what[128] = "";

	*chosen = NULL;
	if (c->count == 0)
	{
		pgb_error(err, EXIT_NOT_FOUND, "the repository has no backups of this cluster");
		return pgb_hint(err, "take one with \"pgbkp backup\"");
	}
	if (target->kind == TARGET_TIME)
	{
		char		t[64];

		time_format_utc(target->time, t, sizeof(t));
		snprintf(what, sizeof(what), "target time %s", t);
	}
	else if (target->kind == TARGET_LSN)
	{
		char		l[32];

		lsn_format(target->lsn, l, sizeof(l));
		snprintf(what, sizeof(what), "target LSN %s", l);
	}

	if (set_label)
	{
		const Manifest *m = catalog_find(c, set_label);
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
		if (!reaches(c, m, wal, target))
		{
			char		msg[256];

			snprintf(msg, sizeof(msg), "backup %s cannot reach the recovery target", m->label);
			return window_error(c, wal, target, err, msg);
		}
		*chosen = m;
		return 0;
	}
	for (int i = c->count - 1; i >= 0; i--)
	{
		if (reaches(c, &c->backups[i], wal, target))
		{
			*chosen = &c->backups[i];
			return 0;
		}
	}
	if (what[0])
	{
		char		msg[256];

		snprintf(msg, sizeof(msg), "no backup can reach the %s", what);
		return window_error(c, wal, target, err, msg);
	}
	return window_error(c, wal, target, err, "no backup can be restored: every backup lacks WAL it needs or builds on a missing backup");
}
