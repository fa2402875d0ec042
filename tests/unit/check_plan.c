/*
 * Unit tests for src/repo/timeline.c and the timeline choice of
 * src/restore/plan.c: WAL listings built in memory for the shapes that
 * happen to real clusters (a side branch promoted from a restored copy
 * while the original keeps writing, a failover, an in-place recovery that
 * rolls the cluster back), each restored to times, LSNs and named targets
 * before, at and after the point where the timelines part.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/plan.h"
#include "harness.h"

#define SEG ((uint64_t) 16 * 1024 * 1024)
#define T0 ((int64_t) 1767225600)	/* 2026-01-01 00:00:00 UTC */
#define US(s) ((TimestampUs) (s) * 1000000)

static WalSegment segs[128];
static Timeline tls[8];
static WalList wal;
static Manifest backups[4];
static Catalog cat;

static void
reset(void)
{
	for (int i = 0; i < wal.ntimelines; i++)
		timeline_free(&tls[i]);
	memset(segs, 0, sizeof(segs));
	memset(&wal, 0, sizeof(wal));
	memset(backups, 0, sizeof(backups));
	memset(&cat, 0, sizeof(cat));
	wal.segments = segs;
	wal.timelines = tls;
	cat.backups = backups;
}

/* Segments first..last of timeline tli, archived at T0 + at, at + step, ... */
static void
add_segs(TimeLineID tli, SegNo first, SegNo last, int64_t at, int64_t step)
{
	for (SegNo s = first; s <= last; s++)
	{
		WalSegment *w = &segs[wal.nsegments++];

		w->tli = tli;
		w->segno = s;
		w->mtime = T0 + at + (int64_t) (s - first) * step;
	}
	qsort(segs, (size_t) wal.nsegments, sizeof(WalSegment), wal_segment_cmp);
}

/* Timeline tli (ascending order of calls), its history text (NULL: none), created at T0 + created. */
static void
add_tl(TimeLineID tli, const char *history, int64_t created)
{
	PgbError	err;

	ck_assert_int_eq(timeline_init(&tls[wal.ntimelines], tli, history ? T0 + created : 0,
								   history, history ? strlen(history) : 0, &err), 0);
	wal.ntimelines++;
}

/* A full backup on timeline tli from segment seg (its WAL ends in the same segment), stopped at T0 + at. */
static void
add_backup(const char *label, TimeLineID tli, SegNo seg, int64_t at)
{
	Manifest   *m = &backups[cat.count++];

	snprintf(m->label, sizeof(m->label), "%s", label);
	snprintf(m->type, sizeof(m->type), "full");
	m->wal_segment_size = SEG;
	m->timeline = tli;
	m->start_lsn = seg * SEG + 0x28;
	m->stop_lsn = seg * SEG + 0x1000;
	m->start_time = US(T0 + at - 5);
	m->stop_time = US(T0 + at);
}

static RestoreTarget
at_time(int64_t at)
{
	RestoreTarget t = {0};

	t.kind = TARGET_TIME;
	t.time = US(T0 + at);
	return t;
}

static RestoreTarget
at_lsn(Lsn lsn)
{
	RestoreTarget t = {0};

	t.kind = TARGET_LSN;
	t.lsn = lsn;
	return t;
}

/* The timeline chosen for t (0 with the error's exit code in *code when refused). */
static TimeLineID
choose(const RestoreTarget *t, int *code, char *msg, size_t len)
{
	const Manifest *m = NULL;
	TimeLineID	tli = 99;
	PgbError	err;

	memset(&err, 0, sizeof(err));
	*code = 0;
	if (plan_choose(&cat, &wal, t, NULL, &m, &tli, &err) != 0)
	{
		*code = err.code;
		if (msg)
			snprintf(msg, len, "%s", err.msg);
		return 0;
	}
	ck_assert_ptr_nonnull(m);
	return tli;
}

static TimeLineID
choose_ok(RestoreTarget t)
{
	int			code;
	char		msg[PGB_ERRMSG_MAX] = "";
	TimeLineID	tli = choose(&t, &code, msg, sizeof(msg));

	ck_assert_msg(code == 0, "refused (%d): %s", code, msg);
	return tli;
}

/*
 * A copy restored to a point in segment 5 and promoted with its archive
 * kept (timeline 2, created at +200) archived segments 5..6 of timeline 2 by
 * +230; the original kept writing timeline 1 up to segment 12 (+400).
 */
static void
side_branch(void)
{
	reset();
	add_segs(1, 1, 12, 10, 30);		/* segment 5 at +130, 12 at +340 */
	add_segs(2, 5, 6, 220, 10);
	add_tl(1, NULL, 0);
	add_tl(2, "1\t0/5000100\tat restore point \"rp6\"\n", 200);
	add_backup("B1", 1, 1, 20);
}

START_TEST(test_history_path)
{
	Timeline	t;
	PgbError	err;

	const char *h3 = "1\t0/5000100\tx\n2\t0/9000000\ty\n";

	ck_assert_int_eq(timeline_init(&t, 3, 0, h3, strlen(h3), &err), 0);
	ck_assert_int_eq(t.nsteps, 3);
	ck_assert(timeline_contains(&t, 1, 0x5000100));
	ck_assert(!timeline_contains(&t, 1, 0x5000101));
	ck_assert(timeline_contains(&t, 2, 0x8000000));
	ck_assert(timeline_contains(&t, 3, 0x20000000));
	ck_assert(!timeline_contains(&t, 4, 0));
	ck_assert_uint_eq(timeline_tli_of_segment(&t, 4, SEG), 1);
	ck_assert_uint_eq(timeline_tli_of_segment(&t, 5, SEG), 2);	/* the switch segment is copied */
	ck_assert_uint_eq(timeline_tli_of_segment(&t, 8, SEG), 2);
	ck_assert_uint_eq(timeline_tli_of_segment(&t, 9, SEG), 3);
	timeline_free(&t);
	/* ancestors must ascend and stay below the timeline itself */
	ck_assert_int_eq(timeline_init(&t, 2, 0, "3\t0/5000100\tx\n", 14, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	/* the message names the entry's timeline, read before the entries are freed (ASan found it read after) */
	ck_assert_str_eq(err.msg, "timeline history of timeline 2: entry 1 (timeline 3) is out of order");
	pgb_error_clear(&err);
	ck_assert_int_eq(timeline_init(&t, 4, 0, "2\t0/5\tx\n1\t0/9\ty\n", 16, &err), -1);
}
END_TEST

START_TEST(test_path_never_reads_a_parents_later_segment)
{
	side_branch();
	/* timeline 2 lacks segment 7; timeline 1's segment 7 is not its */
	ck_assert_int_eq(segs[timeline_contiguous_end(&tls[1], &wal, 1, SEG)].segno, 6);
	ck_assert_uint_eq(segs[timeline_contiguous_end(&tls[1], &wal, 1, SEG)].tli, 2);
	ck_assert_int_eq(segs[timeline_contiguous_end(&tls[0], &wal, 1, SEG)].segno, 12);
}
END_TEST

START_TEST(test_side_branch_original_timeline_after_fork)
{
	int			code;
	char		msg[PGB_ERRMSG_MAX];
	RestoreTarget t;

	side_branch();
	/* after the copy stopped archiving: only timeline 1 reaches it (the reported defect) */
	ck_assert_uint_eq(choose_ok(at_time(300)), 1);
	/* after the parting point, before the copy was promoted: timeline 2 holds the fork's data only */
	ck_assert_uint_eq(choose_ok(at_time(150)), 1);
	/* before the parting point: the same data on both */
	ck_assert_uint_eq(choose_ok(at_time(60)), 1);
	/* while both were written: refused, naming both */
	t = at_time(225);
	ck_assert_uint_eq(choose(&t, &code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(code, EXIT_TARGET);
	ck_assert_msg(strstr(msg, "timeline 1 or on timeline 2") != NULL, "%s", msg);
	/* ... unless a timeline is named */
	t.timeline_request = TIMELINE_NUMBER;
	t.timeline = 2;
	ck_assert_uint_eq(choose_ok(t), 2);
	t.timeline = 1;
	ck_assert_uint_eq(choose_ok(t), 1);
	t.timeline_request = TIMELINE_CURRENT;
	ck_assert_uint_eq(choose_ok(t), 1);
	/* timeline 2 does not reach +300 */
	t = at_time(300);
	t.timeline_request = TIMELINE_NUMBER;
	t.timeline = 2;
	ck_assert_uint_eq(choose(&t, &code, NULL, 0), 0);
	ck_assert_int_eq(code, EXIT_TARGET);
}
END_TEST

START_TEST(test_side_branch_lsn_name_latest)
{
	int			code;
	char		msg[PGB_ERRMSG_MAX];
	RestoreTarget t;

	side_branch();
	/* an LSN before the parting point is the same on both */
	ck_assert_uint_eq(choose_ok(at_lsn(3 * SEG + 10)), 1);
	/* past it, both hold that LSN with different data */
	t = at_lsn(6 * SEG);
	ck_assert_uint_eq(choose(&t, &code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(code, EXIT_TARGET);
	/* past timeline 2's WAL: timeline 1 only */
	ck_assert_uint_eq(choose_ok(at_lsn(10 * SEG)), 1);
	/* a restore point cannot be placed without looking into the WAL */
	memset(&t, 0, sizeof(t));
	t.kind = TARGET_NAME;
	t.text = "rp7";
	ck_assert_uint_eq(choose(&t, &code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(code, EXIT_TARGET);
	ck_assert_msg(strstr(msg, "--target-timeline") == NULL && strstr(msg, "restore point \"rp7\"") != NULL, "%s", msg);
	t.timeline_request = TIMELINE_NUMBER;
	t.timeline = 1;
	ck_assert_uint_eq(choose_ok(t), 1);
	/* the end of the archive: the timeline written last */
	memset(&t, 0, sizeof(t));
	t.kind = TARGET_LATEST;
	ck_assert_uint_eq(choose_ok(t), 1);
	/* PostgreSQL's latest: the newest timeline */
	t.timeline_request = TIMELINE_LATEST;
	ck_assert_uint_eq(choose_ok(t), 2);
}
END_TEST

START_TEST(test_failover)
{
	/*
	 * The primary died in segment 5 (its last full segment is 4, at +100);
	 * the promoted replica (timeline 2, created at +150) archived 5..9.
	 */
	RestoreTarget t = {0};
	BackupWindow w;

	reset();
	add_segs(1, 1, 4, 10, 30);
	add_segs(2, 5, 9, 160, 20);
	add_tl(1, NULL, 0);
	add_tl(2, "1\t0/5800000\tno recovery target specified\n", 150);
	add_backup("B1", 1, 1, 20);
	/* between timeline 1's last archived segment and the promotion: only timeline 2's path has it */
	ck_assert_uint_eq(choose_ok(at_time(120)), 2);
	ck_assert_uint_eq(choose_ok(at_time(200)), 2);
	/* before: timeline 2's path holds everything timeline 1's does */
	ck_assert_uint_eq(choose_ok(at_time(50)), 2);
	ck_assert_uint_eq(choose_ok(at_lsn(5 * SEG + 100)), 2);
	t.kind = TARGET_NAME;
	t.text = "rp";
	ck_assert_uint_eq(choose_ok(t), 2);
	t.kind = TARGET_LATEST;
	ck_assert_uint_eq(choose_ok(t), 2);
	plan_backup_window(&backups[0], &wal, &w);
	ck_assert(w.wal_complete);
	ck_assert_int_eq(w.end, US(T0 + 240));
	ck_assert_uint_eq(w.end_tli, 2);
}
END_TEST

START_TEST(test_streamed_tail_extends_the_window)
{
	/*
	 * Segments 1..4 archived (4 at +100); pgbkp stream's in-progress object
	 * of segment 5 last replaced at +160: a time in between is reachable.
	 */
	BackupWindow w;
	int			code;

	reset();
	add_segs(1, 1, 4, 10, 30);
	add_tl(1, NULL, 0);
	add_backup("B1", 1, 1, 20);
	ck_assert_uint_eq(choose(&(RestoreTarget) {.kind = TARGET_TIME,.time = US(T0 + 150)}, &code, NULL, 0), 0);
	ck_assert_int_eq(code, EXIT_TARGET);
	wal.has_stream = true;
	wal.stream_tli = 1;
	wal.stream_segno = 5;
	wal.stream_mtime = T0 + 160;
	ck_assert_uint_eq(choose_ok(at_time(150)), 1);
	plan_backup_window(&backups[0], &wal, &w);
	ck_assert_int_eq(w.end, US(T0 + 161));	/* before the next whole second */
	/* not right after the archived WAL: it does not count */
	wal.stream_segno = 6;
	ck_assert_uint_eq(choose(&(RestoreTarget) {.kind = TARGET_TIME,.time = US(T0 + 150)}, &code, NULL, 0), 0);
	/* nor when a later timeline has begun (archive-get would not serve it) */
	wal.stream_segno = 5;
	add_tl(2, "1\t0/5800000\tno recovery target specified\n", 150);
	wal.history = (TimeLineID[]) {2};
	wal.nhistory = 1;
	plan_backup_window(&backups[0], &wal, &w);
	ck_assert_int_eq(w.end, US(T0 + 100));
	wal.history = NULL;
	wal.nhistory = 0;
}
END_TEST

START_TEST(test_latest_follows_a_new_timeline_with_no_segment_yet)
{
	/*
	 * A switchover in segment 5: timeline 2 has its history file but no
	 * archived segment yet (pgbkp stream holds its first one in progress),
	 * and timeline 1's segment 5 is not archived either.  Both paths hold
	 * the same WAL; the end of the archive follows the newer timeline.
	 */
	RestoreTarget t = {0};

	reset();
	add_segs(1, 1, 4, 10, 30);
	add_tl(1, NULL, 0);
	add_tl(2, "1\t0/50000A0\tno recovery target specified\n", 150);
	add_backup("B1", 1, 1, 20);
	t.kind = TARGET_LATEST;
	ck_assert_uint_eq(choose_ok(t), 2);
	/* a time target keeps its own rules */
	ck_assert_uint_eq(choose_ok(at_time(60)), 1);
}
END_TEST

START_TEST(test_in_place_recovery_keeps_the_rolled_back_future)
{
	/*
	 * The cluster wrote timeline 1 up to segment 10 (+280) and was rolled
	 * back to a point in segment 4; it continues on timeline 2 (created at
	 * +400) with segments 4..8, and took a backup on timeline 2 at +450.
	 */
	reset();
	add_segs(1, 1, 10, 10, 30);
	add_segs(2, 4, 8, 410, 20);
	add_tl(1, NULL, 0);
	add_tl(2, "1\t0/4100000\tbefore 2026-01-01 00:01:30+00\n", 400);
	add_backup("B1", 1, 1, 20);
	add_backup("B2", 2, 5, 450);
	/* the rolled-back future: timeline 1 */
	ck_assert_uint_eq(choose_ok(at_time(200)), 1);
	/* the present: timeline 2, from the newer backup */
	ck_assert_uint_eq(choose_ok(at_time(470)), 2);
	/* before the point recovered to: either holds it; timeline 1 is chosen */
	ck_assert_uint_eq(choose_ok(at_time(60)), 1);
	/* between the old timeline's last WAL and the new one's start: nothing */
	{
		int			code;
		RestoreTarget t = at_time(350);

		ck_assert_uint_eq(choose(&t, &code, NULL, 0), 0);
		ck_assert_int_eq(code, EXIT_TARGET);
	}
}
END_TEST

START_TEST(test_parse_timeline)
{
	RestoreTarget t;
	PgbError	err;

	ck_assert_int_eq(target_parse_timeline(NULL, &t, &err), 0);
	ck_assert_int_eq(t.timeline_request, TIMELINE_AUTO);
	ck_assert_int_eq(target_parse_timeline("latest", &t, &err), 0);
	ck_assert_int_eq(t.timeline_request, TIMELINE_LATEST);
	ck_assert_int_eq(target_parse_timeline("current", &t, &err), 0);
	ck_assert_int_eq(t.timeline_request, TIMELINE_CURRENT);
	ck_assert_int_eq(target_parse_timeline("12", &t, &err), 0);
	ck_assert_int_eq(t.timeline_request, TIMELINE_NUMBER);
	ck_assert_uint_eq(t.timeline, 12);
	ck_assert_int_eq(target_parse_timeline("0", &t, &err), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(target_parse_timeline("-1", &t, &err), -1);
	ck_assert_int_eq(target_parse_timeline("4294967296", &t, &err), -1);
	ck_assert_int_eq(target_parse_timeline("2x", &t, &err), -1);
	ck_assert_int_eq(target_parse_timeline("", &t, &err), -1);
}
END_TEST

/* --set names a backup whose manifest the catalog could not read: corruption, not "does not exist". */
START_TEST(test_set_with_unreadable_manifest)
{
	char	   *labels[] = {"20260101-000000F"};
	char	   *why[] = {"object \"backup.manifest\" is damaged (SHA-256 mismatch)"};
	RestoreTarget t = {0};
	const Manifest *m = NULL;
	TimeLineID	tli = 0;
	PgbError	err = {0};

	reset();
	add_segs(1, 1, 4, 10, 30);
	add_tl(1, NULL, 0);
	cat.ncorrupt = 1;
	cat.corrupt = labels;
	cat.corrupt_error = why;

	/* the only backup is unreadable */
	ck_assert_int_eq(plan_choose(&cat, &wal, &t, labels[0], &m, &tli, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_str_eq(err.msg, "backup set \"20260101-000000F\" cannot be restored: its manifest is unreadable: "
					 "object \"backup.manifest\" is damaged (SHA-256 mismatch)");
	ck_assert_ptr_null(m);

	/* beside a good one */
	add_backup("20260101-000100F", 1, 1, 20);
	ck_assert_int_eq(plan_choose(&cat, &wal, &t, labels[0], &m, &tli, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(plan_choose(&cat, &wal, &t, "20260101-000100F", &m, &tli, &err), 0);
	ck_assert_str_eq(m->label, "20260101-000100F");

	/* a label that is nowhere still does not exist */
	ck_assert_int_eq(plan_choose(&cat, &wal, &t, "20260101-000200F", &m, &tli, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
	ck_assert_str_eq(err.msg, "backup set \"20260101-000200F\" does not exist");
	memset(&cat, 0, sizeof(cat));
}
END_TEST

/* text is refused with EXIT_USAGE and a message containing needle. */
static void
xid_refused(const char *text, const char *needle)
{
	RestoreTarget t = {0};
	PgbError	err = {0};

	ck_assert_msg(target_parse_xid(text, &t, &err) == -1, "--xid \"%s\" accepted", text);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "--xid \"%s\": %s", text, err.msg);
	ck_assert(err.hint[0] != '\0');
}

START_TEST(test_parse_xid)
{
	RestoreTarget t = {0};
	PgbError	err = {0};

	ck_assert_int_eq(target_parse_xid("3", &t, &err), 0);
	ck_assert_int_eq(t.kind, TARGET_XID);
	ck_assert_str_eq(t.text, "3");
	ck_assert_int_eq(target_parse_xid("4294967295", &t, &err), 0);
	/* an xid8 with its epoch: PostgreSQL compares the low 32 bits (3) */
	ck_assert_int_eq(target_parse_xid("4294967299", &t, &err), 0);
	ck_assert_int_eq(target_parse_xid("18446744073709551615", &t, &err), 0);

	/* PostgreSQL refuses more than 64 bits (strtou64: ERANGE) */
	xid_refused("18446744073709551616", "out of range (at most 18446744073709551615)");
	xid_refused("99999999999999999999", "out of range");
	/* no transaction has these, so recovery would never stop */
	xid_refused("0", "transaction IDs 0, 1 and 2 are reserved");
	xid_refused("1", "reserved");
	xid_refused("2", "reserved");
	xid_refused("4294967296", "low 32 bits, the transaction ID PostgreSQL compares, are 0");
	xid_refused("4294967298", "are 2");
	/* PostgreSQL reads a leading 0 as octal: 010 would be transaction 8 */
	xid_refused("010", "no leading zeros");
	xid_refused("", "expected a transaction ID");
	xid_refused("12a", "expected a transaction ID");
	xid_refused("-5", "expected a transaction ID");
	xid_refused(" 5", "expected a transaction ID");
	xid_refused("0x10", "expected a transaction ID");
}
END_TEST

/* text is refused with EXIT_USAGE and a message containing needle. */
static void
name_refused(const char *text, const char *needle)
{
	RestoreTarget t = {0};
	PgbError	err = {0};

	ck_assert_msg(target_parse_name(text, &t, &err) == -1, "--name accepted");
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "%s", err.msg);
	ck_assert(err.hint[0] != '\0');
}

START_TEST(test_parse_name)
{
	RestoreTarget t = {0};
	PgbError	err = {0};
	char		name[TARGET_NAME_MAX + 2];

	ck_assert_int_eq(target_parse_name("before-upgrade", &t, &err), 0);
	ck_assert_int_eq(t.kind, TARGET_NAME);
	ck_assert_str_eq(t.text, "before-upgrade");
	ck_assert_int_eq(target_parse_name("it's a \"name\" with \\ and spaces", &t, &err), 0);
	ck_assert_int_eq(target_parse_name("n\xc3\xa4me", &t, &err), 0);	/* UTF-8 */

	/* 63 bytes is PostgreSQL's limit (MAXFNAMELEN - 1), in bytes */
	memset(name, 'x', TARGET_NAME_MAX);
	name[TARGET_NAME_MAX] = '\0';
	ck_assert_int_eq(target_parse_name(name, &t, &err), 0);
	name[TARGET_NAME_MAX] = 'x';
	name[TARGET_NAME_MAX + 1] = '\0';
	name_refused(name, "too long (64 bytes, at most 63)");
	memset(name, 'x', TARGET_NAME_MAX - 1);
	memcpy(name + TARGET_NAME_MAX - 1, "\xc3\xa4", 3);	/* 63 characters, 64 bytes */
	name_refused(name, "too long (64 bytes");

	name_refused("", "cannot be empty");
	name_refused("line\nbreak", "control character (byte 0x0A at offset 4)");
	name_refused("\rx", "byte 0x0D at offset 0");
	name_refused("tab\there", "byte 0x09");
	name_refused("del\x7f", "byte 0x7F");
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("plan");
	TCase	   *tc = tcase_create("timelines");

	tcase_add_test(tc, test_history_path);
	tcase_add_test(tc, test_path_never_reads_a_parents_later_segment);
	tcase_add_test(tc, test_side_branch_original_timeline_after_fork);
	tcase_add_test(tc, test_side_branch_lsn_name_latest);
	tcase_add_test(tc, test_failover);
	tcase_add_test(tc, test_streamed_tail_extends_the_window);
	tcase_add_test(tc, test_latest_follows_a_new_timeline_with_no_segment_yet);
	tcase_add_test(tc, test_in_place_recovery_keeps_the_rolled_back_future);
	tcase_add_test(tc, test_parse_timeline);
	tcase_add_test(tc, test_set_with_unreadable_manifest);
	tcase_add_test(tc, test_parse_xid);
	tcase_add_test(tc, test_parse_name);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
