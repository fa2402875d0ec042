/*
 * Unit tests of the WAL record reader on synthetic segments: a restore point
 * record found with its name and time; damage (a flipped byte, a page from
 * another place, garbage lengths) ends the valid WAL instead of being
 * decoded; a record split across pages; a record running past the segment
 * is its tail.  (The integration test compares real segments with
 * pg_waldump.)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "common/byteorder.h"
#include "common/crc32c.h"
#include "pg/walreader.h"
#include "repo/walindex.h"

#define SEG (1024 * 1024)
#define PAGE 8192
#define SEGNO 5

static void
page_header(uint8_t *seg, size_t page, uint16_t info, uint32_t rem_len)
{
	uint8_t    *p = seg + page;

	le_put_u16(p, 0xD110);
	le_put_u16(p + 2, info | (page == 0 ? 0x0002 : 0));
	le_put_u32(p + 4, 1);
	le_put_u64(p + 8, (uint64_t) SEGNO * SEG + page);
	le_put_u32(p + 16, rem_len);
	if (page == 0)
	{
		le_put_u64(p + 24, 7700000000000000001ULL);
		le_put_u32(p + 32, SEG);
		le_put_u32(p + 36, PAGE);
	}
}

/* A restore point record of tot bytes (>= 98; padded main data) into rec. */
static uint32_t
restore_point_record(uint8_t *rec, const char *name, int64_t pgtime, uint32_t mainlen)
{
	uint32_t	tot = 24 + (mainlen < 256 ? 2 : 5) + mainlen;
	uint32_t	crc;
	size_t		pos = 24;

	memset(rec, 0, tot);
	le_put_u32(rec, tot);
	rec[16] = 0x70;
	rec[17] = 0;
	if (mainlen < 256)
	{
		rec[pos++] = 255;
		rec[pos++] = (uint8_t) mainlen;
	}
	else
	{
		rec[pos++] = 254;
		le_put_u32(rec + pos, mainlen);
		pos += 4;
	}
	le_put_u64(rec + pos, (uint64_t) pgtime);
	strcpy((char *) rec + pos + 8, name);
	crc = crc32c_update(crc32c_init(), rec + 24, tot - 24);
	le_put_u32(rec + 20, crc32c_final(crc32c_update(crc, rec, 20)));
	return tot;
}

static uint8_t *
new_segment(void)
{
	uint8_t    *seg = calloc(1, SEG);

	page_header(seg, 0, 0, 0);
	return seg;
}

typedef struct Seen
{
	int			n;
	char		name[64];
	int64_t		time;
} Seen;

static int
on_record(void *arg, const WalRecord *r, PgbError *err)
{
	Seen	   *s = arg;

	(void) err;
	s->n++;
	wal_restore_point(r, &s->time, s->name, sizeof(s->name));
	return 0;
}

START_TEST(test_restore_point_found_and_damage_detected)
{
	uint8_t    *seg = new_segment();
	uint8_t		rec[200];
	uint32_t	tot = restore_point_record(rec, "rp-one", 1000000, 72);
	WalReadResult res;
	PgbError	err = {0};
	Seen		s = {0};

	memcpy(seg + 40, rec, tot);
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.name, "rp-one");
	ck_assert(s.time == INT64_C(946684800) * 1000000 + 1000000);
	ck_assert(res.valid_end == (uint64_t) SEGNO * SEG + 40 + tot);
	ck_assert(res.tail_lsn == 0 && !res.switched);
	ck_assert_int_eq(res.page_tli, 1);

	/* a flipped byte in the name: the CRC no longer matches, nothing is decoded */
	seg[40 + 24 + 2 + 8 + 1] ^= 0x01;
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(s.n, 0);
	ck_assert_int_eq(res.records, 0);

	/* a garbage length */
	memcpy(seg + 40, rec, tot);
	le_put_u32(seg + 40, 3);
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(res.records, 0);

	/* not a segment of this number: refused */
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO + 1, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(res.records, 0);
	le_put_u16(seg, 0x1234);
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	free(seg);
}
END_TEST

START_TEST(test_record_across_pages_and_segment_end)
{
	uint8_t    *seg = new_segment();
	uint8_t    *rec = malloc(20000);
	uint32_t	tot = restore_point_record(rec, "long", 5, 12000);
	size_t		first = PAGE - 40;	/* bytes of the record on page 0 */
	WalReadResult res;
	PgbError	err = {0};
	Seen		s = {0};

	/* page 0 holds the start, page 1 continues it (XLP_FIRST_IS_CONTRECORD, rem_len) */
	memcpy(seg + 40, rec, first);
	page_header(seg, PAGE, 0x0001, tot - (uint32_t) first);
	memcpy(seg + PAGE + 24, rec + first, tot - first);
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.name, "long");

	/* a wrong rem_len on the continuation page ends the valid WAL */
	page_header(seg, PAGE, 0x0001, 17);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
	ck_assert_int_eq(s.n, 0);

	/* a record longer than what is left of the segment: its tail */
	{
		uint8_t    *big = malloc(SEG + 100000);
		uint32_t	btot = restore_point_record(big, "big", 5, SEG + 50000);
		size_t		done = first;

		memset(seg, 0, SEG);
		page_header(seg, 0, 0, 0);
		memcpy(seg + 40, big, first);
		for (size_t p = PAGE; p < SEG; p += PAGE)
		{
			page_header(seg, p, 0x0001, btot - (uint32_t) done);
			memcpy(seg + p + 24, big + done, PAGE - 24);
			done += PAGE - 24;
		}
		memset(&s, 0, sizeof(s));
		ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, NULL, on_record, &s, &res, &err), 0);
		ck_assert_int_eq(s.n, 0);
		ck_assert(res.tail_lsn == (uint64_t) SEGNO * SEG + 40);

		/* with the next segment it is read whole, and nothing after it */
		{
			uint8_t    *next = calloc(1, SEG);
			size_t		left = btot - done;

			le_put_u16(next, 0xD110);
			le_put_u16(next + 2, 0x0003);
			le_put_u32(next + 4, 1);
			le_put_u64(next + 8, (uint64_t) (SEGNO + 1) * SEG);
			le_put_u32(next + 16, (uint32_t) left);
			le_put_u64(next + 24, 7700000000000000001ULL);
			le_put_u32(next + 32, SEG);
			le_put_u32(next + 36, PAGE);
			/* the rest over the next segment's pages, each continuing it */
			{
				size_t		put = PAGE - 40 < left ? PAGE - 40 : left;

				memcpy(next + 40, big + done, put);
				for (size_t p = PAGE; put < left; p += PAGE)
				{
					size_t		n = left - put < PAGE - 24 ? left - put : PAGE - 24;

					le_put_u16(next + p, 0xD110);
					le_put_u16(next + p + 2, 0x0001);
					le_put_u32(next + p + 4, 1);
					le_put_u64(next + p + 8, (uint64_t) (SEGNO + 1) * SEG + p);
					le_put_u32(next + p + 16, (uint32_t) (left - put));
					memcpy(next + p + 24, big + done + put, n);
					put += n;
				}
			}
			memset(&s, 0, sizeof(s));
			ck_assert_int_eq(wal_read_segment(seg, SEG, SEGNO, next, on_record, &s, &res, &err), 0);
			ck_assert_int_eq(s.n, 1);
			ck_assert_str_eq(s.name, "big");
			ck_assert(res.tail_lsn == 0);
			ck_assert(res.valid_end > (uint64_t) (SEGNO + 1) * SEG + left);
			free(next);
		}
		free(big);
	}
	free(rec);
	free(seg);
}
END_TEST

START_TEST(test_summary_round_trip)
{
	uint8_t    *seg = new_segment();
	uint8_t		rec[200];
	uint32_t	tot = restore_point_record(rec, "rp \"quoted\"\tname", 42, 72);
	WalSummary	s,
				back;
	PgbError	err = {0};
	char	   *text;

	memcpy(seg + 40, rec, tot);
	ck_assert_int_eq(walsummary_compute(seg, SEG, 1, SEGNO, NULL, &s, &err), 0);
	ck_assert_int_eq(s.npoints, 1);
	ck_assert(s.complete);
	text = walsummary_encode(&s);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(walsummary_decode(text, &back, &err), 0);
	ck_assert_int_eq(back.npoints, 1);
	ck_assert_str_eq(back.points[0].name, "rp \"quoted\"\tname");
	ck_assert(back.points[0].lsn == s.points[0].lsn && back.points[0].time == s.points[0].time);
	ck_assert(back.valid_end == s.valid_end && back.segno == SEGNO && back.tli == 1);
	walsummary_free(&back);
	/* anything unexpected is refused, never half-read */
	ck_assert_int_eq(walsummary_decode("{\"format\":2}", &back, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(walsummary_decode("not json", &back, &err), -1);
	text[strlen(text) / 2] = '\0';
	ck_assert_int_eq(walsummary_decode(text, &back, &err), -1);
	free(text);
	walsummary_free(&s);
	free(seg);
}
END_TEST

int
main(void)
{
	Suite	   *s = suite_create("walreader");
	TCase	   *tc = tcase_create("walreader");

	tcase_add_test(tc, test_restore_point_found_and_damage_detected);
	tcase_add_test(tc, test_record_across_pages_and_segment_end);
	tcase_add_test(tc, test_summary_round_trip);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
