/* The retention policy (see retention.h for the rules). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repo/retention.h"

/* Beyond this many days the time window reaches back before any backup. */
#define RETENTION_MAX_DAYS 1000000

int
retention_type_parse(const char *text, RetentionType *out, PgbError *err)
{
	if (text == NULL || strcmp(text, "count") == 0)
		*out = RETENTION_COUNT;
	else if (strcmp(text, "time") == 0)
		*out = RETENTION_TIME;
	else
		return pgb_error(err, EXIT_USAGE, "invalid retention type \"%s\" (expected count or time)", text);
	return 0;
}

int
retention_archive_type_parse(const char *text, RetentionArchiveType *out, PgbError *err)
{
	if (text == NULL || strcmp(text, "full") == 0)
		*out = RETENTION_ARCHIVE_FULL;
	else if (strcmp(text, "diff") == 0)
		*out = RETENTION_ARCHIVE_DIFF;
	else if (strcmp(text, "incr") == 0)
		*out = RETENTION_ARCHIVE_INCR;
	else
		return pgb_error(err, EXIT_USAGE, "invalid archive retention type \"%s\": expected full, diff or incr", text);
	return 0;
}

static bool
is_full(const Manifest *m)
{
	return strcmp(m->type, "full") == 0;
}

static int
index_of(const Catalog *cat, const Manifest *m)
{
	return (int) (m - cat->backups);
}

/*
 * The catalog index of backup i's chain root, or -1 when the chain is
 * broken: a parent missing from the catalog, a diff/incr without a parent,
 * or (in a damaged catalog) a cycle.
 */
static int
chain_root(const Catalog *cat, int i)
{
	const Manifest *m = &cat->backups[i];

	for (int steps = 0; steps <= cat->count; steps++)
	{
		if (is_full(m))
			return index_of(cat, m);
		if (m->parent[0] == '\0' || (m = catalog_find(cat, m->parent)) == NULL)
			return -1;
	}
	return -1;
}

/* Mark every ancestor of backup i kept (as far as the catalog has them). */
static void
keep_ancestors(const Catalog *cat, int i, bool *keep)
{
	const Manifest *m = &cat->backups[i];

	for (int steps = 0; steps < cat->count; steps++)
	{
		if (is_full(m) || m->parent[0] == '\0' || (m = catalog_find(cat, m->parent)) == NULL)
			return;
		keep[index_of(cat, m)] = true;
	}
}

/* Rule 1: mark the full backups the policy keeps. */
static void
choose_fulls(const Catalog *cat, const RetentionPolicy *p, bool *kept_full)
{
	int			n = 0;
	bool		took_older = false;
	TimestampUs window_start = INT64_MIN;

	if (p->type == RETENTION_TIME && p->full <= RETENTION_MAX_DAYS)
		window_start = p->now - (TimestampUs) p->full * RETENTION_DAY_US;
	for (int i = cat->count - 1; i >= 0; i--)
	{
		const Manifest *m = &cat->backups[i];

		if (!is_full(m))
			continue;
		if (p->type == RETENTION_COUNT)
		{
			if (n == p->full)
				break;
		}
		else if (m->stop_time < window_start)
		{
			/* the newest full that stopped before the window covers its start */
			if (took_older)
				continue;
			took_older = true;
		}
		kept_full[i] = true;
		n++;
	}
}

/* Does backup i build on backup d (through its parents)? */
static bool
builds_on(const Catalog *cat, int i, int d)
{
	for (int guard = 0; i >= 0 && guard <= cat->count; guard++)
	{
		const Manifest *m = &cat->backups[i];

		if (i == d)
			return true;
		const Manifest *parent;

		if (m->parent[0] == '\0' || (parent = catalog_find(cat, m->parent)) == NULL)
			return false;
		i = index_of(cat, parent);
	}
	return false;
}

/* Rule 4: the newest n kept diff backups stay; older ones go with the incrs built on them. */
static void
expire_old_diffs(const Catalog *cat, int n, bool *keep)
{
	int			seen = 0;

	for (int d = cat->count - 1; d >= 0; d--)
	{
		if (!keep[d] || strcmp(cat->backups[d].type, "diff") != 0 || ++seen <= n)
			continue;
		for (int i = 0; i < cat->count; i++)
			if (keep[i] && builds_on(cat, i, d))
				keep[i] = false;
	}
}

/* Does backup m count for an archive retention of type t? */
static bool
counts_for_archive(const Manifest *m, RetentionArchiveType t)
{
	return t == RETENTION_ARCHIVE_INCR || is_full(m) ||
		(t == RETENTION_ARCHIVE_DIFF && strcmp(m->type, "diff") == 0);
}

/*
 * Rule 6 with an archive count: continuous WAL from the Nth newest kept
 * backup of the type; older kept backups keep their own start..stop.
 * -1 when out of memory.
 */
static int
archive_cutoff(const Catalog *cat, const RetentionPolicy *p, const bool *keep, RetentionPlan *out)
{
	int			seen = 0;
	int			from = -1;

	for (int i = cat->count - 1; i >= 0 && from < 0; i--)
		if (keep[i] && counts_for_archive(&cat->backups[i], p->archive_type) && ++seen == p->archive)
			from = i;
	if (from < 0)
		return 0;				/* fewer such backups than the count: the WAL of all stays */
	out->wal_cutoff = manifest_start_segno(&cat->backups[from]);
	out->have_wal_cutoff = true;
	out->keep_ranges = calloc((size_t) cat->count + 1, sizeof(SegRange));
	if (out->keep_ranges == NULL)
		return -1;
	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *m = &cat->backups[i];

		if (keep[i] && manifest_start_segno(m) < out->wal_cutoff)
		{
			out->keep_ranges[out->nkeep_ranges].first = manifest_start_segno(m);
			out->keep_ranges[out->nkeep_ranges].last = manifest_stop_segno(m);
			out->nkeep_ranges++;
		}
	}
	return 0;
}

int
retention_plan(const Catalog *cat, const RetentionPolicy *policy,
			   RetentionPlan *out, PgbError *err)
{
	bool	   *kept_full;
	bool	   *keep;
	int			oldest_full = -1;

	memset(out, 0, sizeof(*out));
	if (policy->full < 1)
		return pgb_error(err, EXIT_USAGE, "retention must keep at least one full backup, got %d", policy->full);
	out->count = cat->count;
	kept_full = calloc((size_t) cat->count + 1, sizeof(bool));
	keep = calloc((size_t) cat->count + 1, sizeof(bool));
	out->expire = calloc((size_t) cat->count + 1, sizeof(bool));
	if (kept_full == NULL || keep == NULL || out->expire == NULL)
	{
		free(kept_full);
		free(keep);
		retention_plan_free(out);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}

	choose_fulls(cat, policy, kept_full);
	for (int i = 0; i < cat->count && oldest_full < 0; i++)
		if (kept_full[i])
			oldest_full = i;

	for (int i = 0; i < cat->count; i++)
	{
		int			root = chain_root(cat, i);

		/* rules 2 and 3; no full backup at all: keep everything */
		keep[i] = oldest_full < 0 || i >= oldest_full || (root >= 0 && kept_full[root]);
	}
	if (policy->diff > 0)
		expire_old_diffs(cat, policy->diff, keep);
	/* rule 5 (chains are short: walking each kept backup's is cheap) */
	for (int i = cat->count - 1; i >= 0; i--)
		if (keep[i])
			keep_ancestors(cat, i, keep);

	for (int i = 0; i < cat->count; i++)
	{
		const Manifest *m = &cat->backups[i];

		if (!keep[i])
		{
			out->expire[i] = true;
			out->nexpire++;
			continue;
		}
		out->nkeep++;
		if (is_full(m))
			out->nkeep_full++;
		/* rule 6 */
		if (!out->have_wal_cutoff || manifest_start_segno(m) < out->wal_cutoff)
		{
			out->wal_cutoff = manifest_start_segno(m);
			out->have_wal_cutoff = true;
		}
	}
	if (policy->archive > 0 && archive_cutoff(cat, policy, keep, out) != 0)
	{
		free(kept_full);
		free(keep);
		retention_plan_free(out);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	free(kept_full);
	free(keep);
	return 0;
}

void
retention_plan_free(RetentionPlan *plan)
{
	free(plan->expire);
	free(plan->keep_ranges);
	memset(plan, 0, sizeof(*plan));
}
