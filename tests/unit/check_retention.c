/*
 * Unit tests for src/repo/retention.c: catalogs built in memory (manifest
 * fields filled directly) run through both policies, with backup chains,
 * broken chains, several timelines and an empty catalog.  Every plan is
 * also checked against the policy's invariants (the newest full backup and
 * everything after the oldest kept full stay, no kept backup loses a
 * parent, the WAL cutoff is the lowest kept start segment).  The WAL side of
 * expire, wal_remove_before (src/repo/walarchive.c), runs against a
 * temporary directory repository.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "repo/retention.h"
#include "repo/walarchive.h"
#include "storage/posix.h"
#include "harness.h"

#define SEG ((uint64_t) 16 * 1024 * 1024)
#define DAY RETENTION_DAY_US
/* a fixed "now": 2026-01-01 00:00:00 UTC */
#define NOW ((TimestampUs) 1767225600 * 1000000)

static Manifest backups[32];
static Catalog cat;

static void
reset(void)
{
	memset(backups, 0, sizeof(backups));
	memset(&cat, 0, sizeof(cat));
	cat.backups = backups;
}

/*
 * Append a backup (the catalog is oldest first): type "full", "diff" or
 * "incr", parent label ("" for none), stopped hours_ago before NOW, WAL
 * starting in segment start_seg on timeline tli.
 */
static void
add_tl(const char *label, const char *type, const char *parent, double hours_ago,
	   SegNo start_seg, TimeLineID tli)
{
	Manifest   *m = &backups[cat.count++];

	ck_assert_int_lt(cat.count, (int) (sizeof(backups) / sizeof(backups[0])));
	snprintf(m->label, sizeof(m->label), "%s", label);
	snprintf(m->type, sizeof(m->type), "%s", type);
	snprintf(m->parent, sizeof(m->parent), "%s", parent);
	m->wal_segment_size = SEG;
	m->timeline = tli;
	m->start_lsn = start_seg * SEG + 0x28;
	m->stop_lsn = m->start_lsn + SEG / 2;
	m->stop_time = NOW - (TimestampUs) (hours_ago * 3600.0 * 1e6);
	m->start_time = m->stop_time - 60 * (TimestampUs) 1000000;
}

static void
add(const char *label, const char *type, const char *parent, double hours_ago, SegNo start_seg)
{
	add_tl(label, type, parent, hours_ago, start_seg, 1);
}

/* What every plan must satisfy, whatever the policy. */
static void
check_invariants(const RetentionPlan *plan)
{
	int			newest_full = -1;
	int			oldest_kept_full = -1;
	int			nexpire = 0;
	bool		have = false;
	SegNo		lowest = 0;

	ck_assert_int_eq(plan->count, cat.count);
	for (int i = 0; i < cat.count; i++)
	{
		if (strcmp(backups[i].type, "full") != 0)
			continue;
		newest_full = i;
		if (!plan->expire[i] && oldest_kept_full < 0)
			oldest_kept_full = i;
	}
	if (newest_full >= 0)
		ck_assert_msg(!plan->expire[newest_full], "newest full backup %s removed", backups[newest_full].label);
	for (int i = 0; i < cat.count; i++)
	{
		const Manifest *m = &backups[i];

		if (plan->expire[i])
		{
			nexpire++;
			ck_assert_msg(oldest_kept_full >= 0 && i < oldest_kept_full,
						  "%s removed although not older than the oldest kept full backup", m->label);
			continue;
		}
		if (m->parent[0])
		{
			const Manifest *p = catalog_find(&cat, m->parent);

			ck_assert_msg(p == NULL || !plan->expire[p - backups],
						  "%s kept but its parent %s removed", m->label, m->parent);
		}
		if (!have || manifest_start_segno(m) < lowest)
			lowest = manifest_start_segno(m);
		have = true;
	}
	ck_assert_int_eq(plan->nexpire, nexpire);
	ck_assert_int_eq(plan->nkeep, cat.count - nexpire);
	ck_assert(plan->have_wal_cutoff == have);
	if (have)
		ck_assert_uint_eq(plan->wal_cutoff, lowest);
}

static RetentionPlan
plan_for(RetentionType type, int full)
{
	RetentionPolicy p = {.type = type, .full = full, .now = NOW};
	RetentionPlan plan;
	PgbError	err = {0};

	ck_assert_msg(retention_plan(&cat, &p, &plan, &err) == 0, "%s", err.msg);
	check_invariants(&plan);
	return plan;
}

/* The labels the plan removes, space-separated, oldest first. */
static const char *
expired(const RetentionPlan *plan)
{
	static char buf[1024];
	size_t		len = 0;

	buf[0] = '\0';
	for (int i = 0; i < cat.count; i++)
		if (plan->expire[i])
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "", backups[i].label);
	return buf;
}

#define ASSERT_EXPIRED(type, n, want) \
	do { \
		RetentionPlan plan_ = plan_for(type, n); \
		ck_assert_str_eq(expired(&plan_), want); \
		retention_plan_free(&plan_); \
	} while (0)

/* full A -> incr B -> incr C, full D -> diff E -> incr F */
static void
two_chains(void)
{
	reset();
	add("A-F", "full", "", 100, 10);
	add("B-I", "incr", "A-F", 90, 12);
	add("C-I", "incr", "B-I", 80, 14);
	add("D-F", "full", "", 70, 20);
	add("E-D", "diff", "D-F", 60, 22);
	add("F-I", "incr", "E-D", 50, 24);
}

/* ------------------------------------------------------------ count */

START_TEST(test_count_one)
{
	RetentionPlan plan;

	two_chains();
	plan = plan_for(RETENTION_COUNT, 1);
	ck_assert_str_eq(expired(&plan), "A-F B-I C-I");
	ck_assert_int_eq(plan.nkeep, 3);
	ck_assert_int_eq(plan.nkeep_full, 1);
	ck_assert(plan.have_wal_cutoff);
	ck_assert_uint_eq(plan.wal_cutoff, 20);		/* D-F's start segment */
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_count_two_and_three)
{
	RetentionPlan plan;

	two_chains();
	plan = plan_for(RETENTION_COUNT, 2);
	ck_assert_str_eq(expired(&plan), "");
	ck_assert_int_eq(plan.nkeep_full, 2);
	ck_assert_uint_eq(plan.wal_cutoff, 10);
	retention_plan_free(&plan);
	/* more than there are: everything stays */
	ASSERT_EXPIRED(RETENTION_COUNT, 3, "");

	/* a third chain: count 2 drops the first chain whole, count 3 nothing */
	add("G-F", "full", "", 40, 30);
	add("H-I", "incr", "G-F", 30, 31);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "A-F B-I C-I D-F E-D F-I");
	ASSERT_EXPIRED(RETENTION_COUNT, 2, "A-F B-I C-I");
	ASSERT_EXPIRED(RETENTION_COUNT, 3, "");
}
END_TEST

START_TEST(test_count_keeps_newer_dependents_of_removed_full)
{
	/*
	 * A diff of the old full taken after the new full (its label sorts
	 * later): newer than the oldest kept full, so it stays, and with it the
	 * full it needs.
	 */
	reset();
	add("A-F", "full", "", 100, 10);
	add("B-F", "full", "", 90, 20);
	add("C-D", "diff", "A-F", 80, 30);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "");

	/* the same diff before the new full goes with its root */
	reset();
	add("A-F", "full", "", 100, 10);
	add("B-D", "diff", "A-F", 90, 15);
	add("C-F", "full", "", 80, 20);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "A-F B-D");
}
END_TEST

START_TEST(test_count_missing_parent)
{
	RetentionPlan plan;

	/* X-F and Y-F are not in the catalog (removed by hand, or unreadable) */
	reset();
	add("A-F", "full", "", 100, 10);
	add("B-I", "incr", "X-F", 95, 11);
	add("C-F", "full", "", 90, 20);
	add("D-I", "incr", "Y-F", 85, 21);
	add("E-F", "full", "", 80, 30);
	add("F-I", "incr", "", 75, 31);	/* an incr without any parent */
	plan = plan_for(RETENTION_COUNT, 2);
	/* B-I is older than the oldest kept full (C-F): removed; D-I, F-I newer: kept */
	ck_assert_str_eq(expired(&plan), "A-F B-I");
	ck_assert_int_eq(plan.nkeep, 4);
	ck_assert_uint_eq(plan.wal_cutoff, 20);
	retention_plan_free(&plan);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "A-F B-I C-F D-I");

	/*
	 * D-I is newer than the kept full, so it stays, and so does the part of
	 * its broken chain that exists (B-I), although B-I is older
	 */
	reset();
	add("A-F", "full", "", 100, 10);
	add("B-I", "incr", "Z-I", 95, 11);
	add("C-F", "full", "", 90, 20);
	add("D-I", "incr", "B-I", 85, 21);
	plan = plan_for(RETENTION_COUNT, 1);
	ck_assert_str_eq(expired(&plan), "A-F");
	ck_assert_uint_eq(plan.wal_cutoff, 11);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_count_without_full_backups)
{
	RetentionPlan plan;

	/* only broken chains: there is no oldest kept full, nothing is removed */
	reset();
	add("A-I", "incr", "X-F", 100, 10);
	add("B-D", "diff", "Y-F", 90, 20);
	plan = plan_for(RETENTION_COUNT, 1);
	ck_assert_int_eq(plan.nexpire, 0);
	ck_assert_int_eq(plan.nkeep_full, 0);
	ck_assert_uint_eq(plan.wal_cutoff, 10);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_parent_cycle)
{
	/* a damaged catalog with a parent cycle: treated as a broken chain */
	reset();
	add("A-I", "incr", "B-I", 100, 10);
	add("B-I", "incr", "A-I", 90, 11);
	add("C-F", "full", "", 80, 20);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "A-I B-I");

	reset();
	add("A-F", "full", "", 100, 10);
	add("B-I", "incr", "C-I", 90, 11);
	add("C-I", "incr", "B-I", 80, 12);
	ASSERT_EXPIRED(RETENTION_COUNT, 1, "");
}
END_TEST

/* ------------------------------------------------------------ time */

START_TEST(test_time_window)
{
	/* full backups 30, 20, 10, 3 and 1 days old */
	reset();
	add("A-F", "full", "", 30 * 24, 10);
	add("B-F", "full", "", 20 * 24, 20);
	add("C-F", "full", "", 10 * 24, 30);
	add("D-F", "full", "", 3 * 24, 40);
	add("E-F", "full", "", 1 * 24, 50);
	/* 7 days: D and E lie inside; C (10 days) covers the window's start */
	ASSERT_EXPIRED(RETENTION_TIME, 7, "A-F B-F");
	ASSERT_EXPIRED(RETENTION_TIME, 15, "A-F");
	ASSERT_EXPIRED(RETENTION_TIME, 25, "");
	ASSERT_EXPIRED(RETENTION_TIME, 100, "");
	/* 2 days: only E inside, D covers the start */
	ASSERT_EXPIRED(RETENTION_TIME, 2, "A-F B-F C-F");
	ASSERT_EXPIRED(RETENTION_TIME, 9999, "");
}
END_TEST

START_TEST(test_time_boundary)
{
	RetentionPlan plan;

	/*
	 * B stopped exactly at the window's start: inside the window; A, the
	 * newest full before the window, stays as well
	 */
	reset();
	add("A-F", "full", "", 10 * 24, 10);
	add("B-F", "full", "", 7 * 24, 20);
	add("C-F", "full", "", 1, 30);
	plan = plan_for(RETENTION_TIME, 7);
	ck_assert_str_eq(expired(&plan), "");
	retention_plan_free(&plan);

	/* one microsecond later B is outside the window and covers it; A goes */
	backups[1].stop_time -= 1;
	ASSERT_EXPIRED(RETENTION_TIME, 7, "A-F");
}
END_TEST

START_TEST(test_time_all_older_than_window)
{
	RetentionPlan plan;

	/* nothing in the window: the newest full backup and its chain stay */
	reset();
	add("A-F", "full", "", 60 * 24, 10);
	add("B-I", "incr", "A-F", 55 * 24, 11);
	add("C-F", "full", "", 40 * 24, 20);
	add("D-I", "incr", "C-F", 35 * 24, 21);
	add("E-I", "incr", "D-I", 30 * 24, 22);
	plan = plan_for(RETENTION_TIME, 7);
	ck_assert_str_eq(expired(&plan), "A-F B-I");
	ck_assert_int_eq(plan.nkeep_full, 1);
	ck_assert_uint_eq(plan.wal_cutoff, 20);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_time_dependents_follow_root)
{
	/*
	 * full 20 days, incr 15, incr 9, full 8, diff 2, incr 0.5.  For 7 days
	 * the 8-day full covers the window's start; its dependents stay, the
	 * 20-day chain goes although its incrs are younger than 10 days.
	 */
	reset();
	add("A-F", "full", "", 20 * 24, 10);
	add("B-I", "incr", "A-F", 15 * 24, 11);
	add("C-I", "incr", "B-I", 9 * 24, 12);
	add("D-F", "full", "", 8 * 24, 20);
	add("E-D", "diff", "D-F", 2 * 24, 21);
	add("F-I", "incr", "E-D", 12, 22);
	ASSERT_EXPIRED(RETENTION_TIME, 7, "A-F B-I C-I");
	/* for 10 days the 20-day full covers the start: all stay */
	ASSERT_EXPIRED(RETENTION_TIME, 10, "");
}
END_TEST

/* ------------------------------------------------------------ WAL and edges */

START_TEST(test_wal_cutoff_timelines)
{
	RetentionPlan plan;

	/*
	 * After a point-in-time restore the newer backup C sits on timeline 2
	 * at a lower segment than B: the cutoff is the lowest kept start
	 * segment, not the oldest kept backup's.
	 */
	reset();
	add_tl("A-F", "full", "", 100, 100, 1);
	add_tl("B-F", "full", "", 90, 200, 1);
	add_tl("C-F", "full", "", 80, 150, 2);
	plan = plan_for(RETENTION_COUNT, 2);
	ck_assert_str_eq(expired(&plan), "A-F");
	ck_assert_uint_eq(plan.wal_cutoff, 150);
	retention_plan_free(&plan);
	plan = plan_for(RETENTION_COUNT, 1);
	ck_assert_uint_eq(plan.wal_cutoff, 150);
	retention_plan_free(&plan);

	/* a start LSN exactly on a segment boundary belongs to that segment */
	reset();
	add("A-F", "full", "", 10, 7);
	backups[0].start_lsn = 7 * SEG;
	plan = plan_for(RETENTION_COUNT, 1);
	ck_assert_uint_eq(plan.wal_cutoff, 7);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_empty_catalog)
{
	RetentionPlan plan;

	reset();
	plan = plan_for(RETENTION_COUNT, 2);
	ck_assert_int_eq(plan.nexpire, 0);
	ck_assert_int_eq(plan.nkeep, 0);
	ck_assert(!plan.have_wal_cutoff);
	retention_plan_free(&plan);
	plan = plan_for(RETENTION_TIME, 7);
	ck_assert(!plan.have_wal_cutoff);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_policy_errors)
{
	RetentionPolicy p = {.type = RETENTION_COUNT, .full = 0, .now = NOW};
	RetentionPlan plan;
	RetentionType t;
	PgbError	err = {0};

	two_chains();
	ck_assert_int_eq(retention_plan(&cat, &p, &plan, &err), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_ptr_null(plan.expire);

	ck_assert_int_eq(retention_type_parse("count", &t, &err), 0);
	ck_assert_int_eq(t, RETENTION_COUNT);
	ck_assert_int_eq(retention_type_parse("time", &t, &err), 0);
	ck_assert_int_eq(t, RETENTION_TIME);
	ck_assert_int_eq(retention_type_parse(NULL, &t, &err), 0);
	ck_assert_int_eq(t, RETENTION_COUNT);
	ck_assert_int_eq(retention_type_parse("diff", &t, &err), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
}
END_TEST

/* ------------------------------------------------------------ wal_remove_before */

static char tmpdir[256];
static Repo repo;

static void
wal_setup(void)
{
	PgbError	err = {0};

	harness_tmpdir("retention", tmpdir, sizeof(tmpdir));
	memset(&repo, 0, sizeof(repo));
	repo.storage = storage_posix_new(tmpdir, &err);
	ck_assert_msg(repo.storage != NULL, "%s", err.msg);
	snprintf(repo.cluster, sizeof(repo.cluster), "c");
	repo.info.wal_segment_size = SEG;
}

static void
wal_teardown(void)
{
	storage_free(repo.storage);
	harness_rmtree(tmpdir);
}

/* Create c/<rel> (and its directories) with a little content. */
static void
touch(const char *rel)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/c/%s", tmpdir, rel);
	for (char *s = strchr(path + strlen(tmpdir) + 1, '/'); s; s = strchr(s + 1, '/'))
	{
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs("x", f);
	fclose(f);
}

static bool
exists(const char *rel)
{
	char		path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/c/%s", tmpdir, rel);
	return stat(path, &st) == 0;
}

typedef struct Seen
{
	char		names[1024];
	int			n;
} Seen;

static void
record(void *arg, const char *name, WalFileKind kind, TimeLineID tli, SegNo segno)
{
	Seen	   *s = arg;
	size_t		len = strlen(s->names);

	(void) kind;
	(void) tli;
	(void) segno;
	snprintf(s->names + len, sizeof(s->names) - len, "%s%s", len ? " " : "", name);
	s->n++;
}

#define D1 "wal/0000000100000000/"
#define D2 "wal/0000000200000000/"

static void
archive_fixture(void)
{
	touch(D1 "000000010000000000000001");
	touch(D1 "000000010000000000000002");
	touch(D1 "000000010000000000000002.00000028.backup");
	touch(D1 "000000010000000000000003");
	touch(D1 "000000010000000000000003.00000060.backup");
	touch(D1 "000000010000000000000004");
	touch(D2 "000000020000000000000002.partial");
	touch(D2 "000000020000000000000003");
	touch("wal/00000002.history");
}

/* ------------------------------------------------------------ diff and archive counts */

static RetentionPlan
plan_with(int full, int diff, int archive, RetentionArchiveType type)
{
	RetentionPolicy p = {RETENTION_COUNT, full, NOW, diff, archive, type};
	RetentionPlan plan;
	PgbError	err = {0};

	ck_assert_msg(retention_plan(&cat, &p, &plan, &err) == 0, "%s", err.msg);
	return plan;
}

START_TEST(test_diff_retention)
{
	RetentionPlan plan;

	reset();
	add("A-F", "full", "", 100, 10);
	add("B-D", "diff", "A-F", 90, 12);
	add("C-I", "incr", "B-D", 80, 14);
	add("D-D", "diff", "A-F", 70, 16);
	add("E-I", "incr", "D-D", 60, 18);
	add("F-D", "diff", "A-F", 50, 20);
	/* the newest two diff backups stay; the older one goes with its incr */
	plan = plan_with(1, 2, 0, RETENTION_ARCHIVE_FULL);
	ck_assert_str_eq(expired(&plan), "B-D C-I");
	ck_assert_uint_eq(plan.wal_cutoff, 10);	/* A-F is kept: its WAL on */
	retention_plan_free(&plan);
	plan = plan_with(1, 1, 0, RETENTION_ARCHIVE_FULL);
	ck_assert_str_eq(expired(&plan), "B-D C-I D-D E-I");
	retention_plan_free(&plan);
	/* no diff count: every diff stays */
	plan = plan_with(1, 0, 0, RETENTION_ARCHIVE_FULL);
	ck_assert_str_eq(expired(&plan), "");
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_archive_retention)
{
	RetentionPlan plan;

	reset();
	add("A-F", "full", "", 100, 10);
	add("B-I", "incr", "A-F", 90, 12);
	add("C-F", "full", "", 80, 20);
	add("D-D", "diff", "C-F", 70, 22);
	add("E-F", "full", "", 60, 30);
	add("F-I", "incr", "E-F", 50, 32);
	/* three full backups kept; continuous WAL from the newest one only */
	plan = plan_with(3, 0, 1, RETENTION_ARCHIVE_FULL);
	ck_assert_str_eq(expired(&plan), "");
	ck_assert_uint_eq(plan.wal_cutoff, 30);
	ck_assert_int_eq(plan.nkeep_ranges, 4);	/* A, B, C, D keep their own WAL */
	ck_assert_uint_eq(plan.keep_ranges[0].first, 10);
	ck_assert_uint_eq(plan.keep_ranges[0].last, 10);
	ck_assert_uint_eq(plan.keep_ranges[3].first, 22);
	retention_plan_free(&plan);
	/* counting diff backups too: from D-D on */
	plan = plan_with(3, 0, 2, RETENTION_ARCHIVE_DIFF);
	ck_assert_uint_eq(plan.wal_cutoff, 22);
	ck_assert_int_eq(plan.nkeep_ranges, 3);
	retention_plan_free(&plan);
	/* every backup counts: the two newest are F-I and E-F */
	plan = plan_with(3, 0, 2, RETENTION_ARCHIVE_INCR);
	ck_assert_uint_eq(plan.wal_cutoff, 30);
	retention_plan_free(&plan);
	/* fewer such backups than the count: all WAL of the kept backups stays */
	plan = plan_with(3, 0, 5, RETENTION_ARCHIVE_FULL);
	ck_assert_uint_eq(plan.wal_cutoff, 10);
	ck_assert_int_eq(plan.nkeep_ranges, 0);
	retention_plan_free(&plan);
}
END_TEST

START_TEST(test_wal_remove_keeps_ranges)
{
	PgbError	err = {0};
	Seen		seen = {0};
	SegRange	keep[] = {{2, 2}};

	archive_fixture();
	ck_assert_msg(wal_remove_before(&repo, 4, keep, 1, false, record, &seen, &err) == 0, "%s", err.msg);
	ck_assert(!exists(D1 "000000010000000000000001"));
	ck_assert(exists(D1 "000000010000000000000002"));
	ck_assert(exists(D1 "000000010000000000000002.00000028.backup"));
	ck_assert(!exists(D1 "000000010000000000000003"));
	ck_assert(exists(D1 "000000010000000000000004"));
	ck_assert(exists(D2 "000000020000000000000002.partial"));
	ck_assert(!exists(D2 "000000020000000000000003"));
}
END_TEST

START_TEST(test_wal_remove_before)
{
	PgbError	err = {0};
	Seen		dry = {0},
				real = {0};
	const char *want = "000000010000000000000001 000000010000000000000002 "
		"000000010000000000000002.00000028.backup 000000020000000000000002.partial";

	archive_fixture();
	/* dry run: reports, removes nothing */
	ck_assert_msg(wal_remove_before(&repo, 3, NULL, 0, true, record, &dry, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(dry.names, want);
	ck_assert(exists(D1 "000000010000000000000001"));
	ck_assert(exists(D2 "000000020000000000000002.partial"));

	ck_assert_msg(wal_remove_before(&repo, 3, NULL, 0, false, record, &real, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(real.names, want);
	ck_assert(!exists(D1 "000000010000000000000001"));
	ck_assert(!exists(D1 "000000010000000000000002"));
	ck_assert(!exists(D1 "000000010000000000000002.00000028.backup"));
	ck_assert(!exists(D2 "000000020000000000000002.partial"));
	/* segment 3 and later, on every timeline, and history files stay */
	ck_assert(exists(D1 "000000010000000000000003"));
	ck_assert(exists(D1 "000000010000000000000003.00000060.backup"));
	ck_assert(exists(D1 "000000010000000000000004"));
	ck_assert(exists(D2 "000000020000000000000003"));
	ck_assert(exists("wal/00000002.history"));
	ck_assert(exists(D1));

	/* again: nothing left to remove */
	memset(&real, 0, sizeof(real));
	ck_assert_msg(wal_remove_before(&repo, 3, NULL, 0, false, record, &real, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(real.n, 0);
}
END_TEST

START_TEST(test_wal_remove_whole_directories)
{
	PgbError	err = {0};
	Seen		seen = {0};

	archive_fixture();
	touch(D2 "not-a-wal-file");
	touch("wal/0000000100000001/000000010000000100000005");
	/* 256 segments of 16 MiB per directory: 0x105 is in 0000000100000001 */
	ck_assert_msg(wal_remove_before(&repo, 0x105, NULL, 0, false, record, &seen, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(seen.n, 8);
	/* emptied and wholly below the cutoff: gone */
	ck_assert(!exists(D1));
	/* below the cutoff, but holding something that is not WAL: stays, with it */
	ck_assert(exists(D2 "not-a-wal-file"));
	ck_assert(!exists(D2 "000000020000000000000003"));
	/* reaches past the cutoff */
	ck_assert(exists("wal/0000000100000001/000000010000000100000005"));
	ck_assert(exists("wal/00000002.history"));
}
END_TEST

static Suite *
retention_suite(void)
{
	Suite	   *s = suite_create("retention");
	TCase	   *tc;

	tc = tcase_create("count");
	tcase_add_test(tc, test_count_one);
	tcase_add_test(tc, test_count_two_and_three);
	tcase_add_test(tc, test_count_keeps_newer_dependents_of_removed_full);
	tcase_add_test(tc, test_count_missing_parent);
	tcase_add_test(tc, test_count_without_full_backups);
	tcase_add_test(tc, test_parent_cycle);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, test_time_window);
	tcase_add_test(tc, test_time_boundary);
	tcase_add_test(tc, test_time_all_older_than_window);
	tcase_add_test(tc, test_time_dependents_follow_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_wal_cutoff_timelines);
	tcase_add_test(tc, test_empty_catalog);
	tcase_add_test(tc, test_policy_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("wal_remove_before");
	tcase_add_checked_fixture(tc, wal_setup, wal_teardown);
	tcase_add_test(tc, test_wal_remove_before);
	tcase_add_test(tc, test_diff_retention);
	tcase_add_test(tc, test_archive_retention);
	tcase_add_test(tc, test_wal_remove_keeps_ranges);
	tcase_add_test(tc, test_wal_remove_whole_directories);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(retention_suite());
}
