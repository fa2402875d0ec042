/*
 * Unit tests for src/pg/archstatus.c: the ready markers of
 * pg_wal/archive_status in PostgreSQL's archiving order (history files
 * first, then by name), and the backlog they make (count, bytes of the
 * pg_wal files, the oldest marker's time).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "pg/archstatus.h"
#include "harness.h"

static char tmpdir[256];
static char wal[300];

static void
setup(void)
{
	char		status[400];

	harness_tmpdir("archstatus", tmpdir, sizeof(tmpdir));
	snprintf(wal, sizeof(wal), "%s/pg_wal", tmpdir);
	snprintf(status, sizeof(status), "%s/archive_status", wal);
	ck_assert_int_eq(mkdir(wal, 0700), 0);
	ck_assert_int_eq(mkdir(status, 0700), 0);
}

static void
teardown(void)
{
	harness_rmtree(tmpdir);
}

/* A pg_wal file of size bytes, and its marker (suffix ".ready" or ".done") dated mtime. */
static void
add(const char *name, size_t size, const char *suffix, time_t mtime)
{
	char		path[512];
	static char buf[4096];
	struct timeval tv[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};

	snprintf(path, sizeof(path), "%s/%s", wal, name);
	harness_write_file(path, buf, size);
	snprintf(path, sizeof(path), "%s/archive_status/%s%s", wal, name, suffix);
	harness_write_file(path, "", 0);
	ck_assert_int_eq(utimes(path, tv), 0);
}

START_TEST(test_list_order)
{
	ArchReady	r[8];
	int			n;
	PgbError	err = {0};

	add("000000020000000000000005", 100, ".ready", 1000);
	add("000000010000000000000004", 200, ".ready", 900);
	add("00000002.history", 10, ".ready", 950);
	add("000000010000000000000003", 300, ".done", 800);
	add("000000010000000000000004.00000028.backup", 20, ".ready", 920);
	ck_assert_int_eq(archstatus_list(wal, r, 8, &n, &err), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(r[0].name, "00000002.history");
	ck_assert_str_eq(r[1].name, "000000010000000000000004");
	ck_assert_str_eq(r[2].name, "000000010000000000000004.00000028.backup");
	ck_assert_str_eq(r[3].name, "000000020000000000000005");
	ck_assert_uint_eq(r[1].size, 200);
	ck_assert_int_eq(r[1].ready_since, 900);
	/* at most max, the first in order */
	ck_assert_int_eq(archstatus_list(wal, r, 2, &n, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(r[1].name, "000000010000000000000004");
	ck_assert(archstatus_is_ready(wal, "000000010000000000000004"));
	ck_assert(!archstatus_is_ready(wal, "000000010000000000000003"));
}
END_TEST

START_TEST(test_backlog)
{
	ArchBacklog b;
	PgbError	err = {0};

	ck_assert_int_eq(archstatus_data_backlog(tmpdir, &b, &err), 0);
	ck_assert_int_eq(b.count, 0);
	ck_assert_uint_eq(b.bytes, 0);
	ck_assert_int_eq(b.oldest, 0);
	add("000000010000000000000004", 200, ".ready", 900);
	add("000000010000000000000005", 300, ".ready", 700);
	add("000000010000000000000003", 4000, ".done", 100);
	ck_assert_int_eq(archstatus_data_backlog(tmpdir, &b, &err), 0);
	ck_assert_int_eq(b.count, 2);
	ck_assert_uint_eq(b.bytes, 500);
	ck_assert_int_eq(b.oldest, 700);
	/* not a data directory */
	ck_assert_int_eq(archstatus_data_backlog(wal, &b, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
}
END_TEST

START_TEST(test_missing_status_directory_is_empty)
{
	ArchReady	r[2];
	int			n = -1;
	PgbError	err = {0};
	char		other[400];

	snprintf(other, sizeof(other), "%s/elsewhere", tmpdir);
	ck_assert_int_eq(mkdir(other, 0700), 0);
	ck_assert_int_eq(archstatus_list(other, r, 2, &n, &err), 0);
	ck_assert_int_eq(n, 0);
}
END_TEST

static Suite *
archstatus_suite(void)
{
	Suite	   *s = suite_create("archstatus");
	TCase	   *tc = tcase_create("ready");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_order);
	tcase_add_test(tc, test_backlog);
	tcase_add_test(tc, test_missing_status_directory_is_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run(archstatus_suite());
}
