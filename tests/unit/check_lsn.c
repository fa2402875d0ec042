/*
 * Unit tests for src/pg/lsn.c: LSN text, segment numbers and names for every
 * segment size class, classification of archive file names and timeline
 * history content.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/lsn.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* Parse that must succeed. */
static Lsn
parse_ok(const char *text)
{
	PgbError	err = {0};
	Lsn			lsn = 12345;

	ck_assert_msg(lsn_parse(text, &lsn, &err) == 0, "\"%s\": %s", text, err.msg);
	ck_assert_int_eq(err.code, 0);
	return lsn;
}

/* Parse that must fail with EXIT_USAGE, leave *out alone and quote the input. */
static void
parse_bad(const char *text)
{
	PgbError	err = {0};
	Lsn			lsn = 777;

	ck_assert_msg(lsn_parse(text, &lsn, &err) == -1, "\"%s\" accepted", text);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_uint_eq(lsn, 777);
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid LSN"));
	if (text)
	{
		char		quoted[256];

		snprintf(quoted, sizeof(quoted), "\"%s\"", text);
		ck_assert_msg(strstr(err.msg, quoted) != NULL, "message \"%s\" lacks %s", err.msg, quoted);
	}
}

static const char *
fmt(Lsn lsn)
{
	static char buf[32];

	lsn_format(lsn, buf, sizeof(buf));
	return buf;
}

static const char *
segname(TimeLineID tli, SegNo segno, uint64_t segment_size)
{
	static char buf[WAL_NAME_LEN + 1];

	memset(buf, 'x', sizeof(buf));
	wal_segment_name(buf, tli, segno, segment_size);
	return buf;
}

START_TEST(test_lsn_parse_valid)
{
	ck_assert_uint_eq(parse_ok("0/0"), 0);
	ck_assert_uint_eq(parse_ok("0/1"), 1);
	ck_assert_uint_eq(parse_ok("1/0"), UINT64_C(0x100000000));
	ck_assert_uint_eq(parse_ok("16/B374D848"), UINT64_C(0x16B374D848));
	ck_assert_uint_eq(parse_ok("16/b374d848"), UINT64_C(0x16B374D848));
	ck_assert_uint_eq(parse_ok("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
	ck_assert_uint_eq(parse_ok("00000000/00000000"), 0);
	ck_assert_uint_eq(parse_ok("00000001/00000002"), UINT64_C(0x100000002));
	ck_assert_uint_eq(parse_ok("0/3000158"), UINT64_C(0x3000158));
	ck_assert_uint_eq(parse_ok("aBcD/eF"), (UINT64_C(0xABCD) << 32) | 0xEF);
}
END_TEST

START_TEST(test_lsn_parse_malformed)
{
	parse_bad("");
	parse_bad("1/");
	parse_bad("/1");
	parse_bad("/");
	parse_bad("G/0");
	parse_bad("0/G");
	parse_bad("1/123456789");
	parse_bad("123456789/0");
	parse_bad("000000001/0");
	parse_bad("1/2 ");
	parse_bad(" 1/2");
	parse_bad("1 /2");
	parse_bad("1/ 2");
	parse_bad("1//2");
	parse_bad("1/2/3");
	parse_bad("-1/0");
	parse_bad("+1/0");
	parse_bad("0x1/0");
	parse_bad("1/0x2");
	parse_bad("12");
	parse_bad("1\\2");
	parse_bad("1/2\n");
	parse_bad(NULL);
}
END_TEST

START_TEST(test_lsn_format)
{
	char		small[4];
	char		untouched[2] = {'Q', 'Q'};

	ck_assert_str_eq(fmt(0), "0/0");
	ck_assert_str_eq(fmt(1), "0/1");
	ck_assert_str_eq(fmt(UINT64_C(0x100000000)), "1/0");
	ck_assert_str_eq(fmt(UINT64_C(0x16B374D848)), "16/B374D848");
	ck_assert_str_eq(fmt(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
	ck_assert_str_eq(fmt(UINT64_C(0x0000000A0000000B)), "A/B");

	/* Truncates safely, and a zero length writes nothing. */
	lsn_format(UINT64_C(0x16B374D848), small, sizeof(small));
	ck_assert_str_eq(small, "16/");
	lsn_format(UINT64_C(0x16B374D848), untouched, 0);
	ck_assert_int_eq(untouched[0], 'Q');
}
END_TEST

START_TEST(test_lsn_round_trip)
{
	static const Lsn values[] = {
		0, 1, 0xFF, UINT64_C(0xFFFFFFFF), UINT64_C(0x100000000),
		UINT64_C(0x16B374D848), UINT64_C(0x123456789ABCDEF0),
		UINT64_MAX - 1, UINT64_MAX
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
	{
		char		buf[32];

		lsn_format(values[i], buf, sizeof(buf));
		ck_assert_uint_eq(parse_ok(buf), values[i]);
	}
}
END_TEST

START_TEST(test_segment_size_valid)
{
	ck_assert(wal_segment_size_valid(MiB));
	ck_assert(wal_segment_size_valid(2 * MiB));
	ck_assert(wal_segment_size_valid(16 * MiB));
	ck_assert(wal_segment_size_valid(64 * MiB));
	ck_assert(wal_segment_size_valid(GiB));

	ck_assert(!wal_segment_size_valid(0));
	ck_assert(!wal_segment_size_valid(1));
	ck_assert(!wal_segment_size_valid(MiB / 2));
	ck_assert(!wal_segment_size_valid(MiB - 1));
	ck_assert(!wal_segment_size_valid(3 * MiB));
	ck_assert(!wal_segment_size_valid(16 * MiB + 1));
	ck_assert(!wal_segment_size_valid(2 * GiB));
	ck_assert(!wal_segment_size_valid(UINT64_C(1) << 32));
	ck_assert(!wal_segment_size_valid(UINT64_MAX));
}
END_TEST

START_TEST(test_lsn_to_segno)
{
	ck_assert_uint_eq(lsn_to_segno(0, 16 * MiB), 0);
	ck_assert_uint_eq(lsn_to_segno(UINT64_C(0xFFFFFF), 16 * MiB), 0);
	ck_assert_uint_eq(lsn_to_segno(UINT64_C(0x1000000), 16 * MiB), 1);
	ck_assert_uint_eq(lsn_to_segno(UINT64_C(0x100000000), 16 * MiB), 256);
	ck_assert_uint_eq(lsn_to_segno(UINT64_C(0x16B374D848), 16 * MiB), 0x16B3);
	ck_assert_uint_eq(lsn_to_segno(UINT64_MAX, 16 * MiB), UINT64_C(0xFFFFFFFFFF));
	ck_assert_uint_eq(lsn_to_segno(UINT64_MAX, MiB), UINT64_C(0xFFFFFFFFFFF));
	ck_assert_uint_eq(lsn_to_segno(UINT64_MAX, GiB), UINT64_C(0x3FFFFFFFF));
	ck_assert_uint_eq(lsn_to_segno(GiB - 1, GiB), 0);
	ck_assert_uint_eq(lsn_to_segno(GiB, GiB), 1);
}
END_TEST

START_TEST(test_segment_name_16mib)
{
	ck_assert_str_eq(segname(1, 0, 16 * MiB), "000000010000000000000000");
	ck_assert_str_eq(segname(1, 1, 16 * MiB), "000000010000000000000001");
	/* Last segment of log 0, then the first of log 1. */
	ck_assert_str_eq(segname(1, 0xFF, 16 * MiB), "0000000100000000000000FF");
	ck_assert_str_eq(segname(1, 0x100, 16 * MiB), "000000010000000100000000");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x16B374D848), 16 * MiB), 16 * MiB),
					 "0000000100000016000000B3");
	ck_assert_str_eq(segname(2, lsn_to_segno(UINT64_C(0x5000000), 16 * MiB), 16 * MiB),
					 "000000020000000000000005");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_MAX, 16 * MiB), 16 * MiB),
					 "00000001FFFFFFFF000000FF");
	ck_assert_str_eq(segname(0xFFFFFFFF, 0, 16 * MiB), "FFFFFFFF0000000000000000");
	ck_assert_str_eq(segname(0xABCDEF01, 0x1234, 16 * MiB), "ABCDEF010000001200000034");
	ck_assert_uint_eq(strlen(segname(1, 0, 16 * MiB)), WAL_NAME_LEN);
}
END_TEST

START_TEST(test_segment_name_1mib)
{
	/* 4096 segments per log. */
	ck_assert_str_eq(segname(1, lsn_to_segno(0, MiB), MiB), "000000010000000000000000");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x100000), MiB), MiB),
					 "000000010000000000000001");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0xFFFFFFFF), MiB), MiB),
					 "000000010000000000000FFF");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x100000000), MiB), MiB),
					 "000000010000000100000000");
	ck_assert_str_eq(segname(3, lsn_to_segno(UINT64_C(0x2ABC12345), MiB), MiB),
					 "000000030000000200000ABC");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_MAX, MiB), MiB),
					 "00000001FFFFFFFF00000FFF");
}
END_TEST

START_TEST(test_segment_name_1gib)
{
	/* 4 segments per log. */
	ck_assert_str_eq(segname(1, lsn_to_segno(0, GiB), GiB), "000000010000000000000000");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x3FFFFFFF), GiB), GiB),
					 "000000010000000000000000");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x40000000), GiB), GiB),
					 "000000010000000000000001");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0xC0000000), GiB), GiB),
					 "000000010000000000000003");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_C(0x140000000), GiB), GiB),
					 "000000010000000100000001");
	ck_assert_str_eq(segname(1, lsn_to_segno(UINT64_MAX, GiB), GiB),
					 "00000001FFFFFFFF00000003");
}
END_TEST

/* Classify name, expecting kind; returns tli/segno through the pointers. */
static void
classify_expect(const char *name, uint64_t segment_size, WalFileKind kind,
				TimeLineID want_tli, SegNo want_segno)
{
	TimeLineID	tli = 0xDEAD;
	SegNo		segno = 0xBEEF;
	WalFileKind got = wal_file_classify(name, segment_size, &tli, &segno);

	ck_assert_msg(got == kind, "\"%s\": kind %d, expected %d", name, (int) got, (int) kind);
	if (kind == WAL_KIND_INVALID)
	{
		ck_assert_uint_eq(tli, 0xDEAD);
		ck_assert_uint_eq(segno, 0xBEEF);
		return;
	}
	ck_assert_uint_eq(tli, want_tli);
	if (kind != WAL_KIND_HISTORY)
		ck_assert_uint_eq(segno, want_segno);
	else
		ck_assert_uint_eq(segno, 0xBEEF);
}

static void
classify_invalid(const char *name, uint64_t segment_size)
{
	classify_expect(name, segment_size, WAL_KIND_INVALID, 0, 0);
}

START_TEST(test_classify_kinds)
{
	classify_expect("000000010000000000000003", 16 * MiB, WAL_KIND_SEGMENT, 1, 3);
	classify_expect("0000000100000016000000B3", 16 * MiB, WAL_KIND_SEGMENT, 1, 0x16B3);
	classify_expect("FFFFFFFFFFFFFFFF000000FF", 16 * MiB, WAL_KIND_SEGMENT,
					0xFFFFFFFF, UINT64_C(0xFFFFFFFFFF));
	classify_expect("000000010000000000000003.partial", 16 * MiB, WAL_KIND_PARTIAL, 1, 3);
	classify_expect("000000020000000100000000.partial", 16 * MiB, WAL_KIND_PARTIAL, 2, 256);
	classify_expect("000000010000000000000003.00000028.backup", 16 * MiB,
					WAL_KIND_BACKUP, 1, 3);
	classify_expect("000000010000000000000003.00FFFFFF.backup", 16 * MiB,
					WAL_KIND_BACKUP, 1, 3);
	classify_expect("00000002.history", 16 * MiB, WAL_KIND_HISTORY, 2, 0);
	classify_expect("00000001.history", 16 * MiB, WAL_KIND_HISTORY, 1, 0);
	classify_expect("0000000A.history", 16 * MiB, WAL_KIND_HISTORY, 10, 0);
	classify_expect("FFFFFFFF.history", 16 * MiB, WAL_KIND_HISTORY, 0xFFFFFFFF, 0);
	/* History names do not depend on the segment size. */
	classify_expect("00000002.history", 0, WAL_KIND_HISTORY, 2, 0);
}
END_TEST

START_TEST(test_classify_segment_sizes)
{
	/* 1 MiB: seg part up to 0xFFF. */
	classify_expect("000000010000000000000FFF", MiB, WAL_KIND_SEGMENT, 1, 0xFFF);
	classify_expect("000000010000000100000000", MiB, WAL_KIND_SEGMENT, 1, 0x1000);
	classify_invalid("000000010000000000001000", MiB);
	classify_expect("000000010000000000000003.000FFFFF.backup", MiB, WAL_KIND_BACKUP, 1, 3);
	classify_invalid("000000010000000000000003.00100000.backup", MiB);

	/* 1 GiB: seg part 0..3. */
	classify_expect("000000010000000000000003", GiB, WAL_KIND_SEGMENT, 1, 3);
	classify_expect("000000010000000100000001", GiB, WAL_KIND_SEGMENT, 1, 5);
	classify_invalid("000000010000000000000004", GiB);
	classify_expect("000000010000000000000000.3FFFFFFF.backup", GiB, WAL_KIND_BACKUP, 1, 0);
	classify_invalid("000000010000000000000000.40000000.backup", GiB);

	/* 16 MiB: seg part 0..0xFF. */
	classify_invalid("000000010000000000000100", 16 * MiB);
	classify_invalid("000000010000000000000100.partial", 16 * MiB);
	classify_invalid("000000010000000000000000.01000000.backup", 16 * MiB);

	/* Invalid segment sizes refuse everything but history files. */
	classify_invalid("000000010000000000000001", 0);
	classify_invalid("000000010000000000000001", 3 * MiB);
	classify_invalid("000000010000000000000001", 2 * GiB);
}
END_TEST

START_TEST(test_classify_invalid)
{
	classify_invalid("", 16 * MiB);
	classify_invalid(NULL, 16 * MiB);
	classify_invalid("00000001000000000000000", 16 * MiB);	/* 23 */
	classify_invalid("0000000100000000000000011", 16 * MiB);	/* 25 */
	classify_invalid("0000000100000000000000ab", 16 * MiB);
	classify_invalid("0000000100000000000000Ab", 16 * MiB);
	classify_invalid("000000000000000000000001", 16 * MiB);	/* tli 0 */
	classify_invalid("00000001000000000000000G", 16 * MiB);
	classify_invalid("00000001 000000000000001", 16 * MiB);
	classify_invalid("pg_wal/000000010000000000000001", 16 * MiB);
	classify_invalid("../000000010000000000000001", 16 * MiB);
	classify_invalid("000000010000000000000001/", 16 * MiB);
	classify_invalid("000000010000000000000001.gz", 16 * MiB);
	classify_invalid("000000010000000000000001.", 16 * MiB);
	classify_invalid("000000010000000000000001.partial.tmp", 16 * MiB);
	classify_invalid("000000010000000000000001.PARTIAL", 16 * MiB);
	classify_invalid("000000010000000000000001partial", 16 * MiB);
	classify_invalid("000000010000000000000001.00000028", 16 * MiB);
	classify_invalid("000000010000000000000001.00000028.backup.tmp", 16 * MiB);
	classify_invalid("000000010000000000000001.0000002.backup", 16 * MiB);
	classify_invalid("000000010000000000000001.000000280.backup", 16 * MiB);
	classify_invalid("000000010000000000000001.0000002a.backup", 16 * MiB);
	classify_invalid("000000010000000000000001.00000028.Backup", 16 * MiB);
	classify_invalid("000000010000000000000001_00000028.backup", 16 * MiB);
	classify_invalid("00000000.history", 16 * MiB);
	classify_invalid("0000000a.history", 16 * MiB);
	classify_invalid("0000002.history", 16 * MiB);
	classify_invalid("000000002.history", 16 * MiB);
	classify_invalid("00000002.History", 16 * MiB);
	classify_invalid("00000002.history.tmp", 16 * MiB);
	classify_invalid("00000002history", 16 * MiB);
	classify_invalid("x0000002.history", 16 * MiB);
	classify_invalid(".history", 16 * MiB);
	classify_invalid("archive_status", 16 * MiB);
	classify_invalid("000000010000000000000001.ready", 16 * MiB);
}
END_TEST

START_TEST(test_classify_null_outputs)
{
	ck_assert_int_eq(wal_file_classify("000000010000000000000003", 16 * MiB, NULL, NULL),
					 WAL_KIND_SEGMENT);
	ck_assert_int_eq(wal_file_classify("00000002.history", 16 * MiB, NULL, NULL),
					 WAL_KIND_HISTORY);
}
END_TEST

START_TEST(test_name_classify_round_trip)
{
	static const uint64_t sizes[] = {MiB, 16 * MiB, 64 * MiB, GiB};
	static const SegNo segnos[] = {
		0, 1, 2, 3, 4, 5, 0xFF, 0x100, 0x101, 0xFFF, 0x1000, 0x16B3,
		UINT64_C(0x123456789), UINT64_C(0xFFFFFFFFF)
	};

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
	{
		uint64_t	max_segno = (UINT64_C(0xFFFFFFFF) + 1) * (UINT64_C(0x100000000) / sizes[s]) - 1;

		for (size_t i = 0; i < sizeof(segnos) / sizeof(segnos[0]); i++)
		{
			SegNo		in = segnos[i] > max_segno ? max_segno : segnos[i];
			char		name[WAL_NAME_LEN + 1];
			char		partial[64];
			TimeLineID	tli = 0;
			SegNo		out = 0;

			wal_segment_name(name, 7, in, sizes[s]);
			ck_assert_int_eq(wal_file_classify(name, sizes[s], &tli, &out), WAL_KIND_SEGMENT);
			ck_assert_uint_eq(tli, 7);
			ck_assert_uint_eq(out, in);

			snprintf(partial, sizeof(partial), "%s.partial", name);
			out = 0;
			ck_assert_int_eq(wal_file_classify(partial, sizes[s], &tli, &out), WAL_KIND_PARTIAL);
			ck_assert_uint_eq(out, in);
		}
	}
}
END_TEST

/* Parse history text of explicit length; returns the count, asserting success. */
static int
history_ok(const char *text, size_t len, TimeLineID **tlis, Lsn **lsns)
{
	PgbError	err = {0};
	int			count = -1;

	ck_assert_msg(wal_history_parse(text, len, &count, tlis, lsns, &err) == 0,
				  "history rejected: %s", err.msg);
	ck_assert_int_eq(err.code, 0);
	return count;
}

static void
history_bad(const char *text, const char *msg_part)
{
	PgbError	err = {0};
	int			count = 99;
	TimeLineID *tlis = (TimeLineID *) 1;
	Lsn		   *lsns = (Lsn *) 1;

	ck_assert_msg(wal_history_parse(text, strlen(text), &count, &tlis, &lsns, &err) == -1,
				  "history accepted: \"%s\"", text);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(count, 0);
	ck_assert_ptr_null(tlis);
	ck_assert_ptr_null(lsns);
	if (msg_part)
		ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"",
					  err.msg, msg_part);
}

START_TEST(test_history_postgres_format)
{
	const char *text =
		"1\t0/3000158\tno recovery target specified\n"
		"\n"
		"2\t0/5000000\tat restore point \"before_drop\"\n"
		"5\t16/B374D848\tbefore 2026-11-25 21:38:58.123456+00\n";
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;
	int			n = history_ok(text, strlen(text), &tlis, &lsns);

	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(tlis[0], 1);
	ck_assert_uint_eq(lsns[0], UINT64_C(0x3000158));
	ck_assert_uint_eq(tlis[1], 2);
	ck_assert_uint_eq(lsns[1], UINT64_C(0x5000000));
	ck_assert_uint_eq(tlis[2], 5);
	ck_assert_uint_eq(lsns[2], UINT64_C(0x16B374D848));
	free(tlis);
	free(lsns);
}
END_TEST

START_TEST(test_history_lenient_layout)
{
	/* Comments, blank lines, leading blanks, spaces, CRLF, no final newline, no reason. */
	const char *text =
		"# timeline history\n"
		"   \t \n"
		"  # indented comment\n"
		"  1 0/3000158\r\n"
		"2\t\t0/5000000  reason\twith\ttabs\r\n"
		"3\t0/6000000\n"
		"10\tFFFFFFFF/FFFFFFFF";
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;
	int			n = history_ok(text, strlen(text), &tlis, &lsns);

	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(tlis[0], 1);
	ck_assert_uint_eq(lsns[0], UINT64_C(0x3000158));
	ck_assert_uint_eq(tlis[1], 2);
	ck_assert_uint_eq(tlis[2], 3);
	ck_assert_uint_eq(lsns[2], UINT64_C(0x6000000));
	ck_assert_uint_eq(tlis[3], 10);
	ck_assert_uint_eq(lsns[3], UINT64_MAX);
	free(tlis);
	free(lsns);
}
END_TEST

START_TEST(test_history_empty)
{
	TimeLineID *tlis = (TimeLineID *) 1;
	Lsn		   *lsns = (Lsn *) 1;

	ck_assert_int_eq(history_ok("", 0, &tlis, &lsns), 0);
	ck_assert_ptr_null(tlis);
	ck_assert_ptr_null(lsns);
	ck_assert_int_eq(history_ok("# only a comment\n\n", 18, &tlis, &lsns), 0);
	ck_assert_ptr_null(tlis);
}
END_TEST

START_TEST(test_history_respects_length)
{
	/* Only the first line lies within len; what follows is not looked at. */
	const char *text = "1\t0/3000158\tok\nGARBAGE";
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;

	ck_assert_int_eq(history_ok(text, strlen("1\t0/3000158\tok\n"), &tlis, &lsns), 1);
	ck_assert_uint_eq(tlis[0], 1);
	free(tlis);
	free(lsns);

	/* Cut in the middle of the LSN: the shorter LSN is what was given. */
	ck_assert_int_eq(history_ok(text, strlen("1\t0/30"), &tlis, &lsns), 1);
	ck_assert_uint_eq(lsns[0], UINT64_C(0x30));
	free(tlis);
	free(lsns);
}
END_TEST

START_TEST(test_history_many_entries)
{
	char		text[8192];
	size_t		off = 0;
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;
	int			n;

	for (int i = 1; i <= 200; i++)
		off += (size_t) snprintf(text + off, sizeof(text) - off, "%d\t%X/%X\tr\n", i * 2, i, i * 16);
	n = history_ok(text, off, &tlis, &lsns);
	ck_assert_int_eq(n, 200);
	for (int i = 0; i < 200; i++)
	{
		ck_assert_uint_eq(tlis[i], (TimeLineID) (i + 1) * 2);
		ck_assert_uint_eq(lsns[i], ((Lsn) (i + 1) << 32) | (Lsn) ((i + 1) * 16));
	}
	free(tlis);
	free(lsns);
}
END_TEST

START_TEST(test_history_malformed)
{
	history_bad("x\t0/1\n", "line 1");
	history_bad("1\t0/1\nx\t0/2\n", "line 2");
	history_bad("1\n", "line 1");
	history_bad("1\t\n", "line 1");
	history_bad("1\t0/\n", "line 1");
	history_bad("1\t/1\n", "line 1");
	history_bad("1\tG/0\n", "line 1");
	history_bad("1\t0/123456789\n", "line 1");
	history_bad("1\t0/1junk\n", "line 1");
	history_bad("1x\t0/1\n", "line 1");
	history_bad("-1\t0/1\n", "line 1");
	history_bad("0\t0/1\n", "line 1");
	history_bad("4294967296\t0/1\n", "line 1");
	history_bad("\n# c\n2\t0/1\n1\t0/2\n", "line 4");
	history_bad("1\t0/1\n1\t0/2\n", "must increase");
	history_bad("3\t0/1\n2\t0/2\n", "must increase");
}
END_TEST

START_TEST(test_history_nul_byte)
{
	const char	text[] = "1\t0/1\n\0" "2\t0/2\n";
	PgbError	err = {0};
	int			count = 0;
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;

	ck_assert_int_eq(wal_history_parse(text, sizeof(text) - 1, &count, &tlis, &lsns, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_ptr_null(tlis);
	ck_assert_ptr_null(lsns);
}
END_TEST

START_TEST(test_history_max_tli)
{
	const char *text = "4294967295\t0/1\n";
	TimeLineID *tlis = NULL;
	Lsn		   *lsns = NULL;

	ck_assert_int_eq(history_ok(text, strlen(text), &tlis, &lsns), 1);
	ck_assert_uint_eq(tlis[0], UINT32_MAX);
	free(tlis);
	free(lsns);
}
END_TEST

static Suite *
lsn_suite(void)
{
	Suite	   *s = suite_create("lsn");
	TCase	   *tc;

	tc = tcase_create("lsn");
	tcase_add_test(tc, test_lsn_parse_valid);
	tcase_add_test(tc, test_lsn_parse_malformed);
	tcase_add_test(tc, test_lsn_format);
	tcase_add_test(tc, test_lsn_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("segment");
	tcase_add_test(tc, test_segment_size_valid);
	tcase_add_test(tc, test_lsn_to_segno);
	tcase_add_test(tc, test_segment_name_16mib);
	tcase_add_test(tc, test_segment_name_1mib);
	tcase_add_test(tc, test_segment_name_1gib);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_classify_kinds);
	tcase_add_test(tc, test_classify_segment_sizes);
	tcase_add_test(tc, test_classify_invalid);
	tcase_add_test(tc, test_classify_null_outputs);
	tcase_add_test(tc, test_name_classify_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("history");
	tcase_add_test(tc, test_history_postgres_format);
	tcase_add_test(tc, test_history_lenient_layout);
	tcase_add_test(tc, test_history_empty);
	tcase_add_test(tc, test_history_respects_length);
	tcase_add_test(tc, test_history_many_entries);
	tcase_add_test(tc, test_history_malformed);
	tcase_add_test(tc, test_history_nul_byte);
	tcase_add_test(tc, test_history_max_tli);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(lsn_suite());
}
