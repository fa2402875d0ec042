/* Reading the records of one WAL segment (see walreader.h). */
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/crc32c.h"
#include "pg/control.h"
#include "pg/walreader.h"

#define WAL_PAGE 8192
#define SHORT_PHD 24
#define LONG_PHD 40
#define XLP_FIRST_IS_CONTRECORD 0x0001
#define XLP_LONG_HEADER 0x0002
#define REC_HDR 24				/* SizeOfXLogRecord */
#define REC_CRC_OFFSET 20		/* offsetof(XLogRecord, xl_crc) */
#define MAX_RECORD (1024u * 1024 * 1024)
#define MAXALIGN(x) (((x) + 7) & ~(uint64_t) 7)

/* block reference ids (xlogrecord.h) */
#define BLOCK_ID_DATA_SHORT 255
#define BLOCK_ID_DATA_LONG 254
#define BLOCK_ID_ORIGIN 253
#define BLOCK_ID_TOPLEVEL_XID 252
#define MAX_BLOCK_ID 32
#define BKPBLOCK_HAS_IMAGE 0x10
#define BKPBLOCK_SAME_REL 0x80
#define BKPIMAGE_HAS_HOLE 0x01
#define BKPIMAGE_COMPRESSED_14 0x02	/* 13 and 14: BKPIMAGE_IS_COMPRESSED */
#define BKPIMAGE_COMPRESSED_15 0x1C	/* 15 on: PGLZ 0x04, LZ4 0x08, ZSTD 0x10 (0x02 is APPLY) */

#define PG_EPOCH_OFFSET_US (INT64_C(946684800) * 1000000)

int64_t
wal_pgtime_to_unix_us(int64_t pg_us)
{
	return pg_us + PG_EPOCH_OFFSET_US;
}

/* A page header at off: its size, or 0 when it is not a valid header of this page. */
static size_t
page_header(const uint8_t *p, size_t off, Lsn seg_start, uint16_t magic, uint16_t *info, uint32_t *rem_len,
			TimeLineID *tli)
{
	if (le_get_u16(p) != magic || le_get_u64(p + 8) != seg_start + off)
		return 0;
	*info = le_get_u16(p + 2);
	*tli = le_get_u32(p + 4);
	*rem_len = le_get_u32(p + 16);
	return (*info & XLP_LONG_HEADER) ? LONG_PHD : SHORT_PHD;
}

/* Find the main data of a complete record (rec: tot bytes). */
static int
locate_main_data(const uint8_t *rec, uint32_t tot, int major, const uint8_t **main, uint32_t *main_len)
{
	uint8_t		compressed = major >= 15 ? BKPIMAGE_COMPRESSED_15 : BKPIMAGE_COMPRESSED_14;
	size_t		pos = REC_HDR;
	uint64_t	payload = 0;	/* block data and images after the headers */
	uint32_t	mlen = 0;

	*main = NULL;
	*main_len = 0;
	/* headers go on while more bytes remain than the data they announced */
	while (pos + payload < tot)
	{
		uint8_t		id = rec[pos];

		if (id == BLOCK_ID_DATA_SHORT)
		{
			if (pos + 2 > tot)
				return -1;
			mlen = rec[pos + 1];
			pos += 2;
			break;
		}
		if (id == BLOCK_ID_DATA_LONG)
		{
			if (pos + 5 > tot)
				return -1;
			mlen = le_get_u32(rec + pos + 1);
			pos += 5;
			break;
		}
		if (id == BLOCK_ID_ORIGIN)
			pos += 3;
		else if (id == BLOCK_ID_TOPLEVEL_XID)
			pos += 5;
		else if (id <= MAX_BLOCK_ID)
		{
			uint8_t		fork_flags;

			if (pos + 4 > tot)
				return -1;
			fork_flags = rec[pos + 1];
			payload += le_get_u16(rec + pos + 2);
			pos += 4;
			if (fork_flags & BKPBLOCK_HAS_IMAGE)
			{
				uint8_t		bimg_info;

				if (pos + 5 > tot)
					return -1;
				payload += le_get_u16(rec + pos);
				bimg_info = rec[pos + 4];
				pos += 5;
				if ((bimg_info & BKPIMAGE_HAS_HOLE) && (bimg_info & compressed))
					pos += 2;
			}
			if (!(fork_flags & BKPBLOCK_SAME_REL))
				pos += 12;
			pos += 4;
		}
		else
			return -1;
	}
	if (pos + payload + mlen != tot)
		return mlen == 0 && pos + payload == tot ? 0 : -1;
	*main = rec + pos + payload;
	*main_len = mlen;
	return 0;
}

typedef struct Assembly
{
	uint8_t    *buf;
	size_t		cap;
	size_t		have;
	uint32_t	tot;			/* 0 until the length is known */
	Lsn			lsn;
} Assembly;

static int
assembly_add(Assembly *a, const uint8_t *p, size_t n)
{
	if (a->have + n > a->cap)
	{
		size_t		cap = a->cap ? a->cap : 8192;
		uint8_t    *b;

		while (cap < a->have + n)
			cap *= 2;
		if ((b = realloc(a->buf, cap)) == NULL)
			return -1;
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->have, p, n);
	a->have += n;
	if (a->tot == 0 && a->have >= 4)
		a->tot = le_get_u32(a->buf);
	return 0;
}

static bool
record_crc_ok(const uint8_t *rec, uint32_t tot)
{
	uint32_t	crc = crc32c_update(crc32c_init(), rec + REC_HDR, tot - REC_HDR);

	crc = crc32c_final(crc32c_update(crc, rec, REC_CRC_OFFSET));
	return crc == le_get_u32(rec + REC_CRC_OFFSET);
}

int
wal_read_segment(const uint8_t *seg, size_t seg_size, SegNo segno, const uint8_t *next, WalRecordFn fn, void *arg,
				 WalReadResult *out, PgbError *err)
{
	WalLongHeader lh;
	Lsn			seg_start = (Lsn) segno * seg_size;
	Assembly	a = {0};
	uint16_t	magic;
	int			rc = 0;
	size_t		off = 0;		/* bytes of the segment consumed */
	uint32_t	skip = 0;		/* continuation of a record from the previous segment */
	bool		in_record = false;

	memset(out, 0, sizeof(*out));
	if (seg_size < WAL_PAGE || seg_size % WAL_PAGE != 0)
		return pgb_error(err, EXIT_INTERNAL, "WAL segment size %zu is not a multiple of 8 KiB", seg_size);
	if (wal_long_header_parse(seg, seg_size, &lh, err) != 0)
		return -1;
	if (lh.segment_size != seg_size || lh.block_size != WAL_PAGE || wal_magic_to_major(lh.magic) == 0)
		return pgb_error(err, EXIT_CORRUPT, "WAL segment header does not match (segment size %u, page size %u, magic %04X)",
						 lh.segment_size, lh.block_size, lh.magic);
	magic = lh.magic;

	/* pages of this segment, then of the next one only to finish a record crossing into it */
	for (size_t page = 0; page < (next ? 2 * seg_size : seg_size); page += WAL_PAGE)
	{
		const uint8_t *pg = page < seg_size ? seg + page : next + (page - seg_size);
		uint16_t	info;
		uint32_t	rem_len;
		TimeLineID	tli;
		size_t		hdr;

		if (page >= seg_size && !in_record)
			goto done;
		hdr = page_header(pg, page, seg_start, magic, &info, &rem_len, &tli);

		if (hdr == 0)
			goto done;			/* not a page of this segment: the end of valid WAL */
		if (page == 0)
		{
			out->page_tli = tli;
			if (info & XLP_FIRST_IS_CONTRECORD)
				skip = rem_len;
		}
		else if (in_record || skip > 0)
		{
			/* the page must continue what we are in */
			uint32_t	want = in_record ? (a.have < 4 ? 0 : a.tot - (uint32_t) a.have) : skip;

			if (!(info & XLP_FIRST_IS_CONTRECORD) || (want != 0 && rem_len != want))
				goto done;
		}
		off = page + hdr;
		while (off < page + WAL_PAGE)
		{
			size_t		room = page + WAL_PAGE - off;
			size_t		want,
						n;

			if (skip > 0)
			{
				n = skip < room ? skip : room;
				skip -= (uint32_t) n;
				off += n;
				if (skip == 0)
					off = MAXALIGN(off);
				continue;
			}
			if (!in_record)
			{
				a.have = 0;
				a.tot = 0;
				a.lsn = seg_start + off;
				in_record = true;
			}
			want = a.have < 4 ? 4 - a.have : a.tot - a.have;
			n = want < room ? want : room;
			if (assembly_add(&a, pg + (off - page), n) != 0)
			{
				free(a.buf);
				return pgb_error(err, EXIT_INTERNAL, "out of memory reading WAL");
			}
			off += n;
			if (a.have < 4)
				continue;
			if (a.tot < REC_HDR || a.tot > MAX_RECORD)
				goto done;		/* zeros or garbage: the end of valid WAL */
			if (a.have == a.tot)
			{
				WalRecord	r = {0};

				in_record = false;
				if (!record_crc_ok(a.buf, a.tot))
					goto done;
				r.lsn = a.lsn;
				r.end = seg_start + off;
				r.xid = le_get_u32(a.buf + 4);
				r.info = a.buf[16];
				r.rmid = a.buf[17];
				if (locate_main_data(a.buf, a.tot, wal_magic_to_major(magic), &r.main_data, &r.main_len) != 0)
					goto done;
				out->records++;
				out->valid_end = r.end;
				if (fn && (rc = fn(arg, &r, err)) != 0)
					goto done;
				if (page >= seg_size)
					goto done;	/* the record crossing into the next segment was the last */
				off = MAXALIGN(off);
				if (r.rmid == WAL_RM_XLOG && (r.info & 0xF0) == WAL_XLOG_SWITCH)
				{
					out->switched = true;
					goto done;
				}
			}
		}
	}
	/* every page read: a record still open continues in the next segment */
	if (in_record && a.have > 0)
		out->tail_lsn = a.lsn;
done:
	free(a.buf);
	return rc;
}

int
wal_xact_time(const WalRecord *rec, int64_t *unix_us)
{
	if (rec->rmid != WAL_RM_XACT || rec->main_len < 8)
		return -1;
	*unix_us = wal_pgtime_to_unix_us((int64_t) le_get_u64(rec->main_data));
	return 0;
}

int
wal_restore_point(const WalRecord *rec, int64_t *unix_us, char *name, size_t len)
{
	if (rec->rmid != WAL_RM_XLOG || (rec->info & 0xF0) != WAL_XLOG_RESTORE_POINT || rec->main_len < 8 + 64 ||
		len < 64)
		return -1;
	*unix_us = wal_pgtime_to_unix_us((int64_t) le_get_u64(rec->main_data));
	memcpy(name, rec->main_data + 8, 64);
	name[63] = '\0';
	return 0;
}
