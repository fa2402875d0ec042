/*
 * Fuzz target: the WAL record reader (pg/walreader.c) behind the WAL index.
 * The input is the start of a segment (and, past the segment size, of the
 * next one); the rest of both is zeros, as in a segment PostgreSQL has not
 * filled.  The segment size is the one the long page header states when it
 * is a usable one (a multiple of 8 KiB, at most 16 MiB), and the segment
 * number the one its first page address names, so that the fuzzer gets
 * past the header to the records.  Every record found is decoded as the
 * WAL index does (commit/abort times, restore points).
 */
#include "fuzz.h"

#include "common/byteorder.h"
#include "pg/walreader.h"

#define MAX_SEG ((size_t) 16 * 1024 * 1024)

static uint8_t *area;			/* two segments of MAX_SEG, zero but for the input */
static size_t dirty;			/* bytes of area the previous input wrote */

static int
on_record(void *arg, const WalRecord *rec, PgbError *err)
{
	int64_t		us;
	char		name[64];

	if (rec->end < rec->lsn)
		fuzz_fail("a WAL record ends before it starts", NULL);
	(void) wal_xact_time(rec, &us);
	(void) wal_restore_point(rec, &us, name, sizeof(name));
	if (rec->main_len > 0)
		(void) (volatile uint8_t) rec->main_data[rec->main_len - 1];
	return 0;
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	PgbError	err = {0};
	WalReadResult res;
	size_t		seg_size = 8192;
	SegNo		segno = 0;

	if (area == NULL && (area = calloc(2, MAX_SEG)) == NULL)
		abort();
	if (size > 2 * MAX_SEG)
		size = 2 * MAX_SEG;
	memset(area, 0, dirty);
	memcpy(area, data, size);
	dirty = size;
	if (size >= 40)
	{
		uint32_t	stated = le_get_u32(data + 32);

		if (stated >= 8192 && stated <= MAX_SEG && stated % 8192 == 0)
			seg_size = stated;
		segno = le_get_u64(data + 8) / seg_size;
	}
	(void) wal_read_segment(area, seg_size, segno, size > seg_size ? area + seg_size : NULL,
							on_record, NULL, &res, &err);
	return 0;
}
