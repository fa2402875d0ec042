/*
 * Unit tests for src/backup/chunk.c: which files are relation files (and so
 * get block maps), block counts, block hash maps and their serialization,
 * and applying a delta stream to a chunk buffer however the stream is cut.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/chunk.h"
#include "io/sha256.h"
#include "harness.h"

#define BS 8192u

/* ------------------------------------------------------------ helpers */

/* Deterministic, block-distinct content. */
static void
fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++)
	{
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t) (x >> 16);
	}
}

/* First 8 bytes of the SHA-256, little-endian: computed here byte by byte. */
static uint64_t
hash8(const uint8_t *p, size_t len)
{
	uint8_t		d[SHA256_LEN];
	uint64_t	v = 0;

	sha256_digest(p, len, d);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t) d[i] << (8 * i);
	return v;
}

/* ------------------------------------------------------------ relation files */

START_TEST(test_is_relation)
{
	static const struct
	{
		const char *path;
		bool		rel;
	}			cases[] = {
		{"base/1/1259", true},
		{"base/1/1259_fsm", true},
		{"base/1/1259_vm", true},
		{"base/1/16384.1", true},
		{"base/16384/2619", true},
		{"global/1262", true},
		{"global/1262_fsm", true},
		{"pg_tblspc/16400/PG_15_x/5/123", true},
		{"pg_tblspc/16400/PG_15_202209061/16384/16385.2", true},
		{"global/pg_control", false},	/* the name starts with 'p' */
		{"global/pg_filenode.map", false},
		{"global/pg_internal.init", false},
		{"base/1/PG_VERSION", false},
		{"base/1/pg_filenode.map", false},
		{"base/1/pg_internal.init", false},
		{"pg_tblspc/16400/PG_15_x/5/PG_VERSION", false},
		{"pg_xact/0000", false},	/* digits, but not under a relation directory */
		{"pg_multixact/offsets/0000", false},
		{"pg_wal/000000010000000000000001", false},
		{"pg_subtrans/0000", false},
		{"postgresql.conf", false},
		{"PG_VERSION", false},
		{"backup_label", false},
		{"1259", false},
		{"basement/1/1259", false},	/* prefixes are whole directory names */
		{"globalx/1262", false},
		{"pg_tblspcx/16400/PG_15_x/5/123", false},
		{"Base/1/1259", false},
		{"x/base/1/1259", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(chunk_is_relation(cases[i].path) == cases[i].rel, "%s: expected %s",
					  cases[i].path, cases[i].rel ? "relation" : "not a relation");
}
END_TEST

/* ------------------------------------------------------------ blocks */

START_TEST(test_nblocks)
{
	ck_assert_uint_eq(chunk_nblocks(0, BS), 0);
	ck_assert_uint_eq(chunk_nblocks(1, BS), 1);
	ck_assert_uint_eq(chunk_nblocks(BS - 1, BS), 1);
	ck_assert_uint_eq(chunk_nblocks(BS, BS), 1);
	ck_assert_uint_eq(chunk_nblocks(BS + 1, BS), 2);
	ck_assert_uint_eq(chunk_nblocks(UINT64_C(16) * 1024 * 1024, BS), 2048);
	ck_assert_uint_eq(chunk_nblocks(UINT64_C(16) * 1024 * 1024 - 1, BS), 2048);
	ck_assert_uint_eq(chunk_nblocks(UINT64_C(16) * 1024 * 1024 + 1, BS), 2049);
	ck_assert_uint_eq(chunk_nblocks(UINT64_C(1) << 30, BS), 131072);
	ck_assert_uint_eq(chunk_nblocks(100, 1), 100);
	ck_assert_uint_eq(chunk_nblocks(100, 32768), 1);
	ck_assert_uint_eq(chunk_nblocks(65536, 32768), 2);
	ck_assert_uint_eq(chunk_nblocks(65537, 1024), 65);
}
END_TEST

START_TEST(test_block_map_known_values)
{
	uint8_t    *zeros = calloc(1, BS);
	uint64_t	map[3];

	ck_assert_ptr_nonnull(zeros);
	/* computed independently of pgbkp's SHA-256 */
	chunk_block_map(zeros, BS, BS, map);
	ck_assert_uint_eq(map[0], UINT64_C(0x600d355cc3cb1d9f));
	chunk_block_map((const uint8_t *) "abc", 3, BS, map);
	ck_assert_uint_eq(map[0], UINT64_C(0xeacf018fbf1678ba));
	/* "ab" then "c": the partial last block is hashed as it is, not padded */
	map[2] = 77;
	chunk_block_map((const uint8_t *) "abc", 3, 2, map);
	ck_assert_uint_eq(map[0], hash8((const uint8_t *) "ab", 2));
	ck_assert_uint_eq(map[1], hash8((const uint8_t *) "c", 1));
	ck_assert_uint_eq(map[2], 77);	/* nothing written past nblocks */
	free(zeros);
}
END_TEST

START_TEST(test_block_map)
{
	static const uint64_t lens[] = {0, 1, BS - 1, BS, BS + 1, 5 * BS, 5 * BS + 100, 17 * BS - 1};
	uint8_t    *data = malloc(17 * BS);
	uint64_t   *map = malloc(18 * sizeof(uint64_t));

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(map);
	fill(data, 17 * BS, 1);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
	{
		uint64_t	len = lens[k];
		uint32_t	n = chunk_nblocks(len, BS);

		for (int i = 0; i < 18; i++)
			map[i] = UINT64_C(0xDEADBEEFDEADBEEF);
		chunk_block_map(data, len, BS, map);
		for (uint32_t i = 0; i < n; i++)
		{
			uint64_t	off = (uint64_t) i * BS;
			uint64_t	blen = len - off < BS ? len - off : BS;

			ck_assert_msg(map[i] == hash8(data + off, (size_t) blen),
						  "len %" PRIu64 " block %u: %016" PRIx64, len, i, map[i]);
		}
		ck_assert_uint_eq(map[n], UINT64_C(0xDEADBEEFDEADBEEF));
	}

	/* a changed byte changes that block's entry and no other */
	{
		uint64_t	before[5];
		uint64_t	after[5];

		chunk_block_map(data, 5 * BS, BS, before);
		data[2 * BS + 4000] ^= 1;
		chunk_block_map(data, 5 * BS, BS, after);
		for (int i = 0; i < 5; i++)
			ck_assert_msg((before[i] == after[i]) == (i != 2), "block %d", i);
	}
	/* identical blocks have identical entries */
	memcpy(data + 3 * BS, data, BS);
	chunk_block_map(data, 4 * BS, BS, map);
	ck_assert_uint_eq(map[0], map[3]);
	ck_assert_uint_ne(map[0], map[1]);
	free(data);
	free(map);
}
END_TEST

/* ------------------------------------------------------------ map encoding */

START_TEST(test_map_encode_decode)
{
	uint64_t	map[] = {
		UINT64_C(0x0102030405060708), 0, UINT64_MAX, UINT64_C(0x8000000000000001), 42,
	};
	uint32_t	n = (uint32_t) (sizeof(map) / sizeof(map[0]));
	uint8_t		buf[sizeof(map) + 1];
	uint64_t   *back = NULL;
	uint32_t	nback = 999;
	PgbError	err = {0};

	buf[sizeof(map)] = 0xA5;
	chunk_map_encode(map, n, buf);
	ck_assert_uint_eq(buf[sizeof(map)], 0xA5);	/* 8 bytes per entry, no more */
	/* little-endian */
	{
		static const uint8_t first[8] = {8, 7, 6, 5, 4, 3, 2, 1};
		static const uint8_t fourth[8] = {1, 0, 0, 0, 0, 0, 0, 0x80};

		ck_assert_mem_eq(buf, first, 8);
		ck_assert_mem_eq(buf + 24, fourth, 8);
	}
	ck_assert_msg(chunk_map_decode(buf, n * BLOCK_HASH_LEN, &back, &nback, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(nback, n);
	ck_assert_ptr_nonnull(back);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(back[i], map[i]);
	free(back);

	/* an empty map */
	back = NULL;
	ck_assert_int_eq(chunk_map_decode(buf, 0, &back, &nback, &err), 0);
	ck_assert_uint_eq(nback, 0);
	free(back);

	/* a real map, 2048 entries, through encode and decode */
	{
		uint8_t    *data = malloc(2048 * BS);
		uint64_t   *big = malloc(2048 * sizeof(uint64_t));
		uint8_t    *enc = malloc(2048 * BLOCK_HASH_LEN);

		ck_assert_ptr_nonnull(data);
		ck_assert_ptr_nonnull(big);
		ck_assert_ptr_nonnull(enc);
		fill(data, 2048 * BS, 9);
		chunk_block_map(data, 2048 * BS, BS, big);
		chunk_map_encode(big, 2048, enc);
		ck_assert_int_eq(chunk_map_decode(enc, 2048 * BLOCK_HASH_LEN, &back, &nback, &err), 0);
		ck_assert_uint_eq(nback, 2048);
		ck_assert_mem_eq(back, big, 2048 * sizeof(uint64_t));
		/* the stored entry is the first 8 bytes of the block's SHA-256 as they are */
		{
			uint8_t		d[SHA256_LEN];

			sha256_digest(data + 7 * BS, BS, d);
			ck_assert_mem_eq(enc + 7 * BLOCK_HASH_LEN, d, BLOCK_HASH_LEN);
		}
		free(back);
		free(data);
		free(big);
		free(enc);
	}
}
END_TEST

START_TEST(test_map_decode_bad_length)
{
	static const size_t lens[] = {1, 7, 9, 15, 17, 8 * 2048 - 1, 8 * 2048 + 4};
	uint8_t    *buf = calloc(1, 8 * 2048 + 8);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
	{
		uint64_t   *map = NULL;
		uint32_t	n = 12345;
		PgbError	err = {0};

		ck_assert_msg(chunk_map_decode(buf, lens[i], &map, &n, &err) == -1, "length %zu accepted", lens[i]);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		ck_assert_ptr_null(map);	/* nothing for the caller to free */
		{
			char		num[32];

			snprintf(num, sizeof(num), "%zu", lens[i]);
			ck_assert_msg(strstr(err.msg, num) != NULL, "message \"%s\" lacks the length", err.msg);
		}
	}
	free(buf);
}
END_TEST

/* ------------------------------------------------------------ deltas */

typedef struct Stream
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} Stream;

static void
stream_add(Stream *s, const void *p, size_t len)
{
	if (s->len + len > s->cap)
	{
		s->cap = (s->len + len) * 2 + 64;
		s->data = realloc(s->data, s->cap);
		ck_assert_ptr_nonnull(s->data);
	}
	memcpy(s->data + s->len, p, len);
	s->len += len;
}

static void
stream_record(Stream *s, uint32_t block, const uint8_t *bytes, uint32_t len)
{
	uint8_t		head[DELTA_RECORD_HEADER];

	chunk_delta_record(block, len, head);
	stream_add(s, head, sizeof(head));
	stream_add(s, bytes, len);
}

static void
delta_init(DeltaApply *d, uint8_t *buf, uint64_t cap, uint32_t block_size)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap;
	d->block_size = block_size;
}

/* Feed the stream in pieces of at most `piece` bytes; the first failure's rc. */
static int
feed(DeltaApply *d, const uint8_t *data, size_t len, size_t piece, PgbError *err)
{
	for (size_t off = 0; off < len; off += piece)
	{
		size_t		n = len - off < piece ? len - off : piece;

		if (delta_apply_sink(d, data + off, n, err) != 0)
			return -1;
	}
	return 0;
}

START_TEST(test_delta_record_header)
{
	uint8_t		h[DELTA_RECORD_HEADER];
	static const uint8_t want[DELTA_RECORD_HEADER] = {0x04, 0x03, 0x02, 0x01, 0x00, 0x20, 0x00, 0x00};
	static const uint8_t want_max[DELTA_RECORD_HEADER] = {0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00};

	chunk_delta_record(0x01020304, 8192, h);
	ck_assert_mem_eq(h, want, sizeof(want));
	chunk_delta_record(UINT32_MAX, 1, h);
	ck_assert_mem_eq(h, want_max, sizeof(want_max));
}
END_TEST

/* Records in any order, whole and partial blocks, fed however the stream is cut. */
START_TEST(test_delta_apply_pieces)
{
	static const size_t pieces[] = {1, 3, 8, 9, 8200, SIZE_MAX};
	const uint64_t cap = 4 * BS + 100;	/* four whole blocks and a partial fifth */
	uint8_t    *b0 = malloc(BS);
	uint8_t    *b1 = malloc(BS);
	uint8_t    *b3 = malloc(BS);
	uint8_t    *b4 = malloc(100);
	uint8_t    *buf = malloc(cap);
	Stream		s = {0};

	ck_assert_ptr_nonnull(buf);
	fill(b0, BS, 10);
	fill(b1, BS, 11);
	fill(b3, BS, 13);
	fill(b4, 100, 14);
	stream_record(&s, 3, b3, BS);
	stream_record(&s, 0, b0, 1);	/* one byte of block 0 */
	stream_record(&s, 4, b4, 100);	/* the partial last block, up to cap exactly */
	stream_record(&s, 1, b1, BS);
	ck_assert_uint_eq(s.len, 4 * DELTA_RECORD_HEADER + BS + 1 + 100 + BS);

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		DeltaApply	d;
		PgbError	err = {0};

		memset(buf, 0xEE, cap);
		delta_init(&d, buf, cap, BS);
		ck_assert_msg(feed(&d, s.data, s.len, pieces[k], &err) == 0, "pieces of %zu: %s", pieces[k], err.msg);
		ck_assert_msg(delta_apply_finish(&d, &err) == 0, "pieces of %zu: %s", pieces[k], err.msg);
		ck_assert_uint_eq(d.high, cap);

		ck_assert_uint_eq(buf[0], b0[0]);
		for (size_t i = 1; i < BS; i++)
			ck_assert_msg(buf[i] == 0xEE, "pieces of %zu: byte %zu of block 0 written", pieces[k], i);
		ck_assert_mem_eq(buf + BS, b1, BS);
		for (size_t i = 2 * BS; i < 3 * BS; i++)
			ck_assert_msg(buf[i] == 0xEE, "pieces of %zu: block 2 written at %zu", pieces[k], i);
		ck_assert_mem_eq(buf + 3 * BS, b3, BS);
		ck_assert_mem_eq(buf + 4 * BS, b4, 100);
	}
	free(b0);
	free(b1);
	free(b3);
	free(b4);
	free(buf);
	free(s.data);
}
END_TEST

/* `high` is the end of the highest block written, not of the last one. */
START_TEST(test_delta_apply_high)
{
	uint8_t    *buf = calloc(1, 8 * BS);
	uint8_t		bytes[BS];
	uint8_t		other[7];
	static const size_t pieces[] = {1, 3, 8, 9, 8200, SIZE_MAX};

	ck_assert_ptr_nonnull(buf);
	fill(bytes, sizeof(bytes), 3);
	fill(other, sizeof(other), 4);
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		DeltaApply	d;
		PgbError	err = {0};
		Stream		s = {0};

		/* nothing at all */
		delta_init(&d, buf, 8 * BS, BS);
		ck_assert_int_eq(delta_apply_finish(&d, &err), 0);
		ck_assert_uint_eq(d.high, 0);

		/* one short record in block 0 */
		stream_record(&s, 0, bytes, 10);
		ck_assert_int_eq(feed(&d, s.data, s.len, pieces[k], &err), 0);
		ck_assert_uint_eq(d.high, 10);
		/* block 5, whole */
		s.len = 0;
		stream_record(&s, 5, bytes, BS);
		ck_assert_int_eq(feed(&d, s.data, s.len, pieces[k], &err), 0);
		ck_assert_uint_eq(d.high, 6 * BS);
		/* lower and shorter blocks afterwards leave it */
		s.len = 0;
		stream_record(&s, 2, bytes, BS);
		stream_record(&s, 5, other, 7);
		ck_assert_int_eq(feed(&d, s.data, s.len, pieces[k], &err), 0);
		ck_assert_uint_eq(d.high, 6 * BS);
		/* the last block partially */
		s.len = 0;
		stream_record(&s, 7, bytes, 1);
		ck_assert_int_eq(feed(&d, s.data, s.len, pieces[k], &err), 0);
		ck_assert_uint_eq(d.high, 7 * BS + 1);
		ck_assert_int_eq(delta_apply_finish(&d, &err), 0);
		/* a block written twice holds the later bytes */
		ck_assert_mem_eq(buf + 5 * BS, other, 7);
		ck_assert_mem_eq(buf + 5 * BS + 7, bytes + 7, BS - 7);
		free(s.data);
	}
	free(buf);
}
END_TEST

/* Another block size: records land at block * block_size. */
START_TEST(test_delta_apply_small_blocks)
{
	uint8_t		buf[64];
	DeltaApply	d;
	PgbError	err = {0};
	Stream		s = {0};
	uint8_t		want[64];

	memset(buf, '.', sizeof(buf));
	memset(want, '.', sizeof(want));
	stream_record(&s, 3, (const uint8_t *) "ABCDEFGHIJKLMNOP", 16);
	stream_record(&s, 0, (const uint8_t *) "xy", 2);
	stream_record(&s, 1, (const uint8_t *) "z", 1);
	memcpy(want + 48, "ABCDEFGHIJKLMNOP", 16);
	memcpy(want, "xy", 2);
	want[16] = 'z';
	delta_init(&d, buf, sizeof(buf), 16);
	ck_assert_int_eq(feed(&d, s.data, s.len, 5, &err), 0);
	ck_assert_int_eq(delta_apply_finish(&d, &err), 0);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(d.high, 64);
	free(s.data);
}
END_TEST

/* One bad record header (after a good record); the buffer beyond cap is never touched. */
static void
delta_bad(uint32_t block, uint32_t len, uint64_t cap, size_t piece)
{
	uint8_t    *buf = malloc(cap + BS + 16);
	uint8_t    *payload = malloc(BS + 16);
	uint8_t		head[DELTA_RECORD_HEADER];
	DeltaApply	d;
	PgbError	err = {0};
	Stream		s = {0};
	int			rc;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xEE, cap + BS + 16);
	fill(payload, BS + 16, 5);
	stream_record(&s, 0, payload, 4);
	chunk_delta_record(block, len, head);
	stream_add(&s, head, sizeof(head));
	stream_add(&s, payload, len < BS + 16 ? len : BS + 16);
	delta_init(&d, buf, cap, BS);
	rc = feed(&d, s.data, s.len, piece, &err);
	ck_assert_msg(rc == -1, "block %u len %u cap %" PRIu64 " accepted", block, len, cap);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_mem_eq(buf, payload, 4);
	for (size_t i = cap; i < cap + BS + 16; i++)
		ck_assert_msg(buf[i] == 0xEE, "byte %zu past cap written", i);
	free(buf);
	free(payload);
	free(s.data);
}

START_TEST(test_delta_apply_out_of_range)
{
	static const size_t pieces[] = {1, 9, SIZE_MAX};

	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		size_t		p = pieces[k];

		/* beyond cap */
		delta_bad(4, 1, 4 * BS, p);
		delta_bad(4, 101, 4 * BS + 100, p);
		delta_bad(3, BS, 3 * BS + BS - 1, p);
		delta_bad(1000, 1, 4 * BS, p);
		delta_bad(UINT32_MAX, 1, 4 * BS, p);
		delta_bad(UINT32_MAX, BS, 4 * BS, p);
		delta_bad(UINT32_C(1) << 19, BS, 4 * BS, p);	/* block * 8192 == 2^32: no 32-bit wrap to 0 */
		/* length 0 or more than a block */
		delta_bad(0, 0, 4 * BS, p);
		delta_bad(2, 0, 4 * BS, p);
		delta_bad(0, BS + 1, 4 * BS, p);
		delta_bad(1, BS + 16, 4 * BS, p);
		delta_bad(0, UINT32_MAX, 4 * BS, p);
	}
}
END_TEST

/* The stream ends inside a record: finish says so. */
START_TEST(test_delta_apply_truncated)
{
	uint8_t    *buf = malloc(4 * BS);
	uint8_t		bytes[BS];
	Stream		s = {0};

	ck_assert_ptr_nonnull(buf);
	fill(bytes, sizeof(bytes), 8);
	stream_record(&s, 1, bytes, BS);
	stream_record(&s, 2, bytes, 100);
	for (size_t cut = 0; cut <= s.len; cut++)
	{
		DeltaApply	d;
		PgbError	err = {0};
		bool		boundary = cut == 0 || cut == DELTA_RECORD_HEADER + BS || cut == s.len;

		/* cut at every position of the short record and at a few of the long one */
		if (cut > 40 && cut < DELTA_RECORD_HEADER + BS - 40)
			continue;
		delta_init(&d, buf, 4 * BS, BS);
		ck_assert_int_eq(feed(&d, s.data, cut, 7, &err), 0);
		if (boundary)
			ck_assert_msg(delta_apply_finish(&d, &err) == 0, "cut at %zu: %s", cut, err.msg);
		else
		{
			ck_assert_msg(delta_apply_finish(&d, &err) == -1, "cut at %zu accepted", cut);
			ck_assert_int_eq(err.code, EXIT_CORRUPT);
		}
	}
	free(buf);
	free(s.data);
}
END_TEST

static Suite *
chunk_suite(void)
{
	Suite	   *s = suite_create("chunk");
	TCase	   *tc;

	tc = tcase_create("blocks");
	tcase_add_test(tc, test_is_relation);
	tcase_add_test(tc, test_nblocks);
	tcase_add_test(tc, test_block_map_known_values);
	tcase_add_test(tc, test_block_map);
	tcase_add_test(tc, test_map_encode_decode);
	tcase_add_test(tc, test_map_decode_bad_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("delta");
	tcase_add_test(tc, test_delta_record_header);
	tcase_add_test(tc, test_delta_apply_pieces);
	tcase_add_test(tc, test_delta_apply_high);
	tcase_add_test(tc, test_delta_apply_small_blocks);
	tcase_add_test(tc, test_delta_apply_out_of_range);
	tcase_add_test(tc, test_delta_apply_truncated);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return harness_run(chunk_suite());
}
