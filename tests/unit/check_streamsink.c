/*
 * Unit tests for src/repo/streamsink.c against temporary posix repositories:
 * WAL taken across a segment boundary (the in-progress object while it
 * fills, the archived segment and no in-progress object once it is whole,
 * the durable position after each), a gap refused, where streaming resumes
 * over two repositories, and timelines followed through their history, also
 * two switches inside one segment.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "repo/objio.h"
#include "repo/streamsink.h"
#include "repo/walarchive.h"
#include "repo/walstream.h"
#include "harness.h"

#define SEGSIZE (16 * 1024 * 1024)
#define MIB (1024 * 1024)
#define LONG_HEADER 0x0002			/* LONG_HEADER in xlp_info */
#define LONG_HEADER_LEN 40		/* through xlp_xlog_blcksz */

static char tmpdir[256];
static Repo *repos[2];
static StreamSink sink;

static void
setup(void)
{
	char		root[320];

	harness_tmpdir("streamsink", tmpdir, sizeof(tmpdir));
	for (int i = 0; i < 2; i++)
	{
		snprintf(root, sizeof(root), "%s/repo%d", tmpdir, i);
		repos[i] = harness_repo_new(root, "c");
	}
	memset(&sink, 0, sizeof(sink));
}

static void
teardown(void)
{
	streamsink_free(&sink);
	for (int i = 0; i < 2; i++)
		repo_free(repos[i]);
	harness_rmtree(tmpdir);
}

static void
init(int nrepos, int threads)
{
	PgbError	err = {0};

	ck_assert_msg(streamsink_init(&sink, repos, nrepos, 1, threads, tmpdir, &err) == 0, "%s", err.msg);
}

/* A segment's bytes: a long page header of the harness's system, then a pattern of seed. */
static uint8_t *
segment(unsigned seed)
{
	uint8_t    *seg = malloc(SEGSIZE);

	for (size_t i = 0; i < SEGSIZE; i++)
		seg[i] = (uint8_t) ((i * 31 + seed) >> 3);
	memset(seg, 0, LONG_HEADER_LEN);
	le_put_u16(seg, 0xD110);
	le_put_u16(seg + 2, LONG_HEADER);
	le_put_u64(seg + 24, repos[0]->info.system_identifier);
	le_put_u32(seg + 32, SEGSIZE);
	le_put_u32(seg + 36, 8192);
	return seg;
}

static void
take(Lsn start, const uint8_t *data, size_t len, int want_completed)
{
	PgbError	err = {0};
	int			completed = -1;

	ck_assert_msg(streamsink_take(&sink, start, data, len, &completed, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(completed, want_completed);
}

/* Put an archived segment of any content into repository r. */
static void
archive(int r, const char *name)
{
	char		path[PGB_PATH_MAX];
	PgbError	err = {0};

	ck_assert_msg(wal_object_path(repos[r], name, path, &err) == 0, "%s", err.msg);
	ck_assert_msg(objio_put_mem(repos[r]->storage, path, OBJECT_KIND_WAL, 1, "x", 1, true, NULL, NULL, &err) == 0,
				  "%s", err.msg);
}

START_TEST(test_take_flush_complete)
{
	uint8_t    *seg = segment(7);
	uint8_t    *next = segment(9);
	Lsn			start = (Lsn) 5 * SEGSIZE;
	PgbError	err = {0};
	char	   *got = NULL;
	size_t		len;
	char		dest[400];

	init(2, 2);
	ck_assert_int_eq(streamsink_resume(&sink, 1, start + 100, &err), 0);
	ck_assert_uint_eq(sink.tli, 1);
	ck_assert_uint_eq(sink.seg_start, start);

	/* 10 MiB: nothing durable until flushed, then the in-progress object in both */
	take(start, seg, 10 * MIB, 0);
	ck_assert_uint_eq(sink.durable, 0);
	ck_assert_int_eq(streamsink_flush(&sink, &err), 0);
	ck_assert_uint_eq(sink.durable, start + 10 * MIB);
	for (int r = 0; r < 2; r++)
	{
		ck_assert_msg(walstream_read_last(repos[r], "000000010000000000000005", &got, &err) == 0, "%s", err.msg);
		ck_assert_mem_eq(got, seg, 10 * MIB);
		free(got);
		got = NULL;
	}

	/* WAL that does not continue what arrived */
	{
		int			completed;

		ck_assert_int_eq(streamsink_take(&sink, start + 10 * MIB + 8192, seg, 8192, &completed, &err), -1);
		ck_assert_int_eq(err.code, EXIT_DATABASE);
		pgb_error_clear(&err);
	}

	/* the rest of the segment and 1 MiB of the next, in one message */
	{
		uint8_t    *msg = malloc(7 * MIB);

		memcpy(msg, seg + 10 * MIB, 6 * MIB);
		memcpy(msg + 6 * MIB, next, MIB);
		take(start + 10 * MIB, msg, 7 * MIB, 1);
		free(msg);
	}
	ck_assert_uint_eq(sink.seg_start, start + SEGSIZE);
	ck_assert_uint_eq(sink.filled, MIB);
	ck_assert_uint_eq(sink.durable, start + SEGSIZE);
	ck_assert_uint_eq(streamsink_next(&sink), start + SEGSIZE + MIB);
	for (int r = 0; r < 2; r++)
	{
		/* archived whole, in-progress object gone */
		snprintf(dest, sizeof(dest), "%s/got%d", tmpdir, r);
		ck_assert_msg(wal_get(repos[r], "000000010000000000000005", dest, &err) == 0, "%s", err.msg);
		got = harness_read_file(dest, &len);
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(len, SEGSIZE);
		ck_assert_mem_eq(got, seg, SEGSIZE);
		free(got);
		got = NULL;
		ck_assert_int_ne(walstream_read_last(repos[r], "000000010000000000000005", &got, &err), 0);
		pgb_error_clear(&err);
		free(got);
		got = NULL;
	}

	/* nothing new arrived: a flush changes nothing; 1 MiB more does */
	ck_assert_int_eq(streamsink_flush(&sink, &err), 0);
	ck_assert_uint_eq(sink.durable, start + SEGSIZE + MIB);
	ck_assert_int_eq(streamsink_flush(&sink, &err), 0);
	ck_assert_uint_eq(sink.durable, start + SEGSIZE + MIB);
	free(seg);
	free(next);
}
END_TEST

/* Resuming after the newest segment every repository holding WAL has. */
START_TEST(test_resume)
{
	PgbError	err = {0};

	init(2, 1);
	/* nothing archived: the given position's segment, on the given timeline */
	ck_assert_int_eq(streamsink_resume(&sink, 3, (Lsn) 9 * SEGSIZE + 5, &err), 0);
	ck_assert_uint_eq(sink.tli, 3);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 9 * SEGSIZE);

	/* one repository with WAL: after its newest */
	archive(0, "000000010000000000000005");
	archive(0, "000000020000000000000007");
	ck_assert_int_eq(streamsink_resume(&sink, 3, (Lsn) 9 * SEGSIZE, &err), 0);
	ck_assert_uint_eq(sink.tli, 2);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 8 * SEGSIZE);

	/* the other one behind: after the older of the two newest */
	archive(1, "000000010000000000000005");
	ck_assert_int_eq(streamsink_resume(&sink, 3, (Lsn) 9 * SEGSIZE, &err), 0);
	ck_assert_uint_eq(sink.tli, 1);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 6 * SEGSIZE);
	ck_assert_uint_eq(sink.filled, 0);
}
END_TEST

/* Our timeline ended before where we are: go on from the switch point on the next one. */
START_TEST(test_follow_history)
{
	static const char history[] = "1\t0/5800100\tno recovery target specified\n"
		"2\t0/9000000\tno recovery target specified\n";
	uint8_t    *seg = segment(3);
	PgbError	err = {0};

	init(1, 1);
	streamsink_restart(&sink, 1, (Lsn) 6 * SEGSIZE);
	take((Lsn) 6 * SEGSIZE, seg, MIB, 0);
	ck_assert_int_eq(streamsink_follow_history(&sink, history, strlen(history), 3, &err), 0);
	ck_assert_uint_eq(sink.tli, 2);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 5 * SEGSIZE);
	ck_assert_uint_eq(sink.filled, 0);

	/* timeline 2 ends after where we are (0/5000000): nothing changes */
	ck_assert_int_eq(streamsink_follow_history(&sink, history, strlen(history), 3, &err), 0);
	ck_assert_uint_eq(sink.tli, 2);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 5 * SEGSIZE);

	/*
	 * Two switches inside the segment we start at (a switchover, then a
	 * failover): straight to the newest timeline, whose copy of the segment
	 * the new primary has, from the segment's start.
	 */
	{
		static const char twice[] = "1\t0/601CD38\tno recovery target specified\n"
			"2\t0/6050000\tno recovery target specified\n";

		streamsink_restart(&sink, 1, (Lsn) 6 * SEGSIZE);
		ck_assert_int_eq(streamsink_follow_history(&sink, twice, strlen(twice), 3, &err), 0);
		ck_assert_uint_eq(sink.tli, 3);
		ck_assert_uint_eq(sink.seg_start, (Lsn) 6 * SEGSIZE);
	}

	/* the last timeline of the history is followed by the server's */
	streamsink_restart(&sink, 2, (Lsn) 10 * SEGSIZE);
	ck_assert_int_eq(streamsink_follow_history(&sink, history, strlen(history), 3, &err), 0);
	ck_assert_uint_eq(sink.tli, 3);
	ck_assert_uint_eq(sink.seg_start, (Lsn) 9 * SEGSIZE);
	free(seg);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("streamsink");
	TCase	   *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_take_flush_complete);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_follow_history);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
