/*
 * Unit tests for src/repo/pushspool.c: the asynchronous archive-push's
 * records (written durably, matched only by exact size and SHA-256),
 * failure notes, pruning of names before a request, the once-a-minute
 * logging stamp and the pusher lock.
 */
#include <check.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "repo/pushspool.h"
#include "harness.h"

#define SEG1 "000000010000000000000001"
#define SEG2 "000000010000000000000002"
#define SEG3 "000000010000000000000003"

static char tmpdir[256];

static void
setup(void)
{
	harness_tmpdir("pushspool", tmpdir, sizeof(tmpdir));
}

static void
teardown(void)
{
	harness_rmtree(tmpdir);
}

static ObjectSummary
summary(uint64_t size, uint8_t fill)
{
	ObjectSummary s = {.size = size};

	memset(s.sha256, fill, sizeof(s.sha256));
	return s;
}

START_TEST(test_dir_layout)
{
	char		dir[512];
	PgbError	err = {0};
	struct stat st;

	ck_assert_int_eq(pushspool_dir(tmpdir, "pg-test", 42, true, dir, sizeof(dir), &err), 0);
	ck_assert_ptr_nonnull(strstr(dir, "/pgbkp/pg-test-42/archive-push"));
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(pushspool_dir(tmpdir, "pg-test", 42, false, dir, 8, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
}
END_TEST

START_TEST(test_record_matches_exactly)
{
	ObjectSummary a = summary(16777216, 0xab);
	ObjectSummary other_hash = summary(16777216, 0xac);
	ObjectSummary other_size = summary(16777215, 0xab);
	PgbError	err = {0};
	PushRecord	r;

	ck_assert(!pushspool_record_read(tmpdir, SEG1, &r));
	ck_assert(!pushspool_record_exists(tmpdir, SEG1));
	ck_assert_int_eq(pushspool_record_write(tmpdir, SEG1, &a, NULL, &err), 0);
	ck_assert(pushspool_record_exists(tmpdir, SEG1));
	ck_assert(pushspool_record_read(tmpdir, SEG1, &r));
	ck_assert(pushspool_record_same_content(&r, &a));
	ck_assert(!pushspool_record_same_content(&r, &other_hash));
	ck_assert(!pushspool_record_same_content(&r, &other_size));
	/* a record is of its own name only */
	ck_assert(!pushspool_record_read(tmpdir, SEG2, &r));
	pushspool_record_remove(tmpdir, SEG1);
	ck_assert(!pushspool_record_exists(tmpdir, SEG1));
}
END_TEST

/* The file's identity stands for its content only when every part of it is equal, and never when unknown. */
START_TEST(test_record_same_file)
{
	ObjectSummary a = summary(8, 0x11);
	PgbError	err = {0};
	PushRecord	r;
	PushFileId	id,
				other;
	char		path[400];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, SEG1);
	harness_write_file(path, "contents", 8);
	ck_assert_int_eq(pushspool_file_id(path, &id, &err), 0);
	ck_assert_int_eq(pushspool_record_write(tmpdir, SEG1, &a, &id, &err), 0);
	ck_assert(pushspool_record_read(tmpdir, SEG1, &r));
	ck_assert(pushspool_record_same_file(&r, &id));
	other = id;
	other.ino++;
	ck_assert(!pushspool_record_same_file(&r, &other));
	other = id;
	other.mtime_ns++;
	ck_assert(!pushspool_record_same_file(&r, &other));
	other = id;
	other.ctime_ns--;
	ck_assert(!pushspool_record_same_file(&r, &other));
	/* rewritten in place: a new change time */
	usleep(10000);
	harness_write_file(path, "CONTENTS", 8);
	ck_assert_int_eq(pushspool_file_id(path, &other, &err), 0);
	ck_assert(!pushspool_record_same_file(&r, &other));
	/* a record without an identity matches no file */
	ck_assert_int_eq(pushspool_record_write(tmpdir, SEG1, &a, NULL, &err), 0);
	ck_assert(pushspool_record_read(tmpdir, SEG1, &r));
	ck_assert(!pushspool_record_same_file(&r, &id));
	ck_assert_int_eq(pushspool_file_id(tmpdir, &id, &err), 0);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_int_eq(pushspool_file_id(path, &id, &err), -1);
	ck_assert_int_eq(err.code, EXIT_NOT_FOUND);
}
END_TEST

/* A damaged record is no record: the file is pushed again. */
START_TEST(test_record_damaged)
{
	char		path[400];
	PushRecord	r;

	snprintf(path, sizeof(path), "%s/%s.ok", tmpdir, SEG1);
	harness_write_file(path, SEG1 " 16777216 abc\n", strlen(SEG1 " 16777216 abc\n"));
	ck_assert(!pushspool_record_read(tmpdir, SEG1, &r));
	ck_assert(!pushspool_record_exists(tmpdir, SEG1));
	/* another name's record under this name */
	harness_write_file(path, SEG2 " 1 ", 3 + strlen(SEG2));
	ck_assert(!pushspool_record_exists(tmpdir, SEG1));
}
END_TEST

START_TEST(test_failure_note_round_trip)
{
	PgbError	why = {0},
				got = {0},
				err = {0};

	ck_assert(!pushspool_failure_read(tmpdir, SEG1, &got));
	pgb_error(&why, EXIT_IO, "repository \"s3\": connection refused");
	pgb_hint(&why, "is the S3 server up?");
	ck_assert_int_eq(pushspool_failure_write(tmpdir, SEG1, &why, &err), 0);
	ck_assert(pushspool_failure_read(tmpdir, SEG1, &got));
	ck_assert_int_eq(got.code, EXIT_IO);
	ck_assert_str_eq(got.msg, why.msg);
	ck_assert_str_eq(got.hint, why.hint);
	/* without a hint */
	pgb_error(&why, EXIT_ARCHIVE_MISMATCH, "different content");
	ck_assert_int_eq(pushspool_failure_write(tmpdir, SEG1, &why, &err), 0);
	ck_assert(pushspool_failure_read(tmpdir, SEG1, &got));
	ck_assert_int_eq(got.code, EXIT_ARCHIVE_MISMATCH);
	ck_assert_str_eq(got.msg, "different content");
	ck_assert_str_eq(got.hint, "");
	pushspool_failure_remove(tmpdir, SEG1);
	ck_assert(!pushspool_failure_read(tmpdir, SEG1, &got));
}
END_TEST

START_TEST(test_prune_before)
{
	ObjectSummary a = summary(1, 1);
	PgbError	err = {0},
				why = {0};
	const char *names[] = {"00000001.history", SEG1, SEG2, SEG2 ".00000028.backup", SEG3, "00000002.history"};

	pgb_error(&why, EXIT_IO, "x");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		ck_assert_int_eq(pushspool_record_write(tmpdir, names[i], &a, NULL, &err), 0);
		ck_assert_int_eq(pushspool_failure_write(tmpdir, names[i], &why, &err), 0);
	}
	pushspool_prune_before(tmpdir, SEG2 ".00000028.backup");
	/* everything before the request goes, a name that is a prefix of it too */
	ck_assert(!pushspool_record_exists(tmpdir, "00000001.history"));
	ck_assert(!pushspool_record_exists(tmpdir, SEG1));
	ck_assert(!pushspool_record_exists(tmpdir, SEG2));
	ck_assert(!pushspool_failure_read(tmpdir, SEG1, &why));
	/* the request and what follows stay */
	ck_assert(pushspool_record_exists(tmpdir, SEG2 ".00000028.backup"));
	ck_assert(pushspool_record_exists(tmpdir, SEG3));
	ck_assert(pushspool_record_exists(tmpdir, "00000002.history"));
	ck_assert(pushspool_failure_read(tmpdir, SEG3, &why));
}
END_TEST

START_TEST(test_log_due_once_per_interval)
{
	ck_assert(pushspool_log_due(tmpdir, time(NULL), 60));
	ck_assert(!pushspool_log_due(tmpdir, time(NULL), 60));
	ck_assert(!pushspool_log_due(tmpdir, time(NULL) + 59, 60));
	ck_assert(pushspool_log_due(tmpdir, time(NULL) + 61, 60));
	/* a stamp from the future (clock set back) does not silence the log */
	ck_assert(pushspool_log_due(tmpdir, time(NULL) - 3600, 60));
}
END_TEST

START_TEST(test_lock_one_pusher_per_data_directory)
{
	PgbError	err = {0};
	int			fd,
				status;
	pid_t		child;
	char		pattern[512];
	char	   *text;
	size_t		len;
	glob_t		g;
	int			mine = 0;

	ck_assert(!pushspool_pusher_running(tmpdir, "/pg/data"));
	ck_assert_int_eq(pushspool_lock(tmpdir, "/pg/data", &fd, &err), 0);
	ck_assert_int_ge(fd, 0);
	/* POSIX locks are per process: ask from another one */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
	{
		int			other;
		PgbError	e = {0};
		bool		ok = pushspool_pusher_running(tmpdir, "/pg/data") &&
			!pushspool_pusher_running(tmpdir, "/pg/other") &&
			pushspool_lock(tmpdir, "/pg/data", &other, &e) == 0 && other == -1 &&
			pushspool_lock(tmpdir, "/pg/other", &other, &e) == 0 && other >= 0;

		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the holder's process id is in the lock file */
	snprintf(pattern, sizeof(pattern), "%s/pusher-*.lock", tmpdir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 2);	/* /pg/data's and the child's /pg/other's */
	for (size_t i = 0; i < g.gl_pathc; i++)
	{
		text = harness_read_file(g.gl_pathv[i], &len);
		mine += strtol(text, NULL, 10) == (long) getpid();
		free(text);
	}
	ck_assert_int_eq(mine, 1);
	globfree(&g);
	close(fd);
}
END_TEST

static Suite *
pushspool_suite(void)
{
	Suite	   *s = suite_create("pushspool");
	TCase	   *tc = tcase_create("spool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dir_layout);
	tcase_add_test(tc, test_record_matches_exactly);
	tcase_add_test(tc, test_record_same_file);
	tcase_add_test(tc, test_record_damaged);
	tcase_add_test(tc, test_failure_note_round_trip);
	tcase_add_test(tc, test_prune_before);
	tcase_add_test(tc, test_log_due_once_per_interval);
	tcase_add_test(tc, test_lock_one_pusher_per_data_directory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run(pushspool_suite());
}
