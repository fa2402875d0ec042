/*
 * Unit tests for src/repo/walstream.c against a temporary posix repository:
 * the in-progress object of a streamed segment is replaced in place, served
 * zero-padded only as the newest WAL of the newest timeline, invisible to
 * the archive's listing and removed by expiry like a partial segment.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"
#include "harness.h"

#define SEGSIZE (16 * 1024 * 1024)
#define SEGNAME "000000010000000000000005"

static char tmpdir[256];
static char root[320];
static Repo *repo;

static void
setup(void)
{
	harness_tmpdir("walstream", tmpdir, sizeof(tmpdir));
	snprintf(root, sizeof(root), "%s/repo", tmpdir);
	repo = harness_repo_new(root, "c");
}

static void
teardown(void)
{
	repo_free(repo);
	harness_rmtree(tmpdir);
}

/* Archive name (any content: only its existence matters here). */
static void
archive(const char *name)
{
	char		path[PGB_PATH_MAX];
	PgbError	err = {0};

	ck_assert_msg(wal_object_path(repo, name, path, &err) == 0, "%s", err.msg);
	ck_assert_msg(objio_put_mem(repo->storage, path, OBJECT_KIND_WAL, 1, "x", 1, true, NULL, NULL, &err) == 0,
				  "%s", err.msg);
}

static void
put(size_t len, uint8_t fill)
{
	uint8_t    *buf = malloc(len);
	PgbError	err = {0};

	memset(buf, fill, len);
	ck_assert_msg(walstream_put(repo, SEGNAME, buf, len, 1, &err) == 0, "%s", err.msg);
	free(buf);
}

/* walstream_get_last into tmpdir/got: its return code, err.code in *code. */
static int
get_last(int *code)
{
	char		dest[400];
	PgbError	err = {0};
	int			rc;

	snprintf(dest, sizeof(dest), "%s/got", tmpdir);
	rc = walstream_get_last(repo, SEGNAME, dest, &err);
	*code = err.code;
	return rc;
}

START_TEST(test_replaced_and_served_padded)
{
	char		dest[400];
	size_t		len;
	uint8_t    *got;
	int			code;

	put(1000, 0xAA);
	put(3000, 0xBB);			/* replaced in place */
	ck_assert_int_eq(get_last(&code), 0);
	snprintf(dest, sizeof(dest), "%s/got", tmpdir);
	got = (uint8_t *) harness_read_file(dest, &len);
	ck_assert_uint_eq(len, SEGSIZE);
	for (size_t i = 0; i < 3000; i++)
		ck_assert_uint_eq(got[i], 0xBB);
	for (size_t i = 3000; i < len; i += 4096)
		ck_assert_uint_eq(got[i], 0);
	ck_assert_uint_eq(got[len - 1], 0);
	free(got);
}
END_TEST

START_TEST(test_served_only_as_the_newest_wal)
{
	int			code;

	ck_assert_int_eq(get_last(&code), -1);
	ck_assert_int_eq(code, EXIT_WAL_MISSING);
	put(100, 1);
	archive("00000002.history");
	ck_assert_int_eq(get_last(&code), -1);
	ck_assert_int_eq(code, EXIT_WAL_MISSING);
}
END_TEST

START_TEST(test_not_served_when_the_next_segment_is_archived)
{
	int			code;

	put(100, 1);
	archive("000000010000000000000006");
	ck_assert_int_eq(get_last(&code), -1);
	ck_assert_int_eq(code, EXIT_WAL_MISSING);
}
END_TEST

START_TEST(test_listing_ignores_it_and_expiry_removes_it)
{
	WalList		l;
	PgbError	err = {0};
	int			code;

	put(100, 1);
	archive("000000010000000000000004");
	ck_assert_msg(wal_list(repo, &l, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(l.nsegments, 1);
	ck_assert_int_eq(l.nother, 0);
	wal_list_free(&l);
	ck_assert_msg(wal_remove_before(repo, 5, NULL, 0, false, NULL, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(get_last(&code), 0);	/* segment 5 is not below 5 */
	ck_assert_msg(wal_remove_before(repo, 6, NULL, 0, false, NULL, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(get_last(&code), -1);
	ck_assert_int_eq(code, EXIT_WAL_MISSING);
}
END_TEST

START_TEST(test_removed)
{
	PgbError	err = {0};
	int			code;

	put(100, 1);
	ck_assert_msg(walstream_remove(repo, SEGNAME, &err) == 0, "%s", err.msg);
	ck_assert_msg(walstream_remove(repo, SEGNAME, &err) == 0, "%s", err.msg);	/* absent is fine */
	ck_assert_int_eq(get_last(&code), -1);
	ck_assert_int_eq(code, EXIT_WAL_MISSING);
	ck_assert_int_eq(walstream_put(repo, "00000002.history", (const uint8_t *) "x", 1, 1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("walstream");
	TCase	   *tc = tcase_create("walstream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_replaced_and_served_padded);
	tcase_add_test(tc, test_served_only_as_the_newest_wal);
	tcase_add_test(tc, test_not_served_when_the_next_segment_is_archived);
	tcase_add_test(tc, test_listing_ignores_it_and_expiry_removes_it);
	tcase_add_test(tc, test_removed);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
