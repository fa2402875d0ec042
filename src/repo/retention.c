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
	/* rule 4 (chains are short: walking each kept backup's is cheap) */
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
		/* rule 5 */
		if (!out->have_wal_cutoff || manifest_start_segno(m) < out->wal_cutoff)
		{
			out->wal_cutoff = manifest_start_segno(m);
			out->have_wal_cutoff = true;
		}
	}
	free(kept_full);
	free(keep);
	return 0;
}

void
retention_plan_free(RetentionPlan *plan)
{
	free(plan->expire);
	memset(plan, 0, sizeof(*plan));
}
