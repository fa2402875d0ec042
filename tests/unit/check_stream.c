/*
 * Unit tests for the stream stages (src/io/stream.c, sha256.c, zstdio.c,
 * object.c, fdio.c, pagecsum.c and the block map stage of backup/chunk.c):
 * every stage fed one byte at a time gives what it gives fed at once, and
 * PostgreSQL page checksums against pages of a real PostgreSQL 15 cluster
 * (tests/unit/fixtures/pages_pg_class_15: the first four pages of pg_class,
 * base/1/1259, after initdb -k).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/chunk.h"
#include "io/fdio.h"
#include "io/membuf.h"
#include "io/object.h"
#include "io/pagecsum.h"
#include "io/sha256.h"
#include "io/stream.h"
#include "io/zstdio.h"

#define DATA_LEN (3 * 8192 + 777)

static uint8_t data[DATA_LEN];

static void
fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 1;

	/* half repetitive, half noise: compressible but not trivially */
	for (size_t i = 0; i < len; i++)
	{
		x = x * 1103515245u + 12345u;
		p[i] = (i / 512) % 2 ? (uint8_t) (x >> 16) : (uint8_t) (i % 7);
	}
}

static void
setup(void)
{
	fill(data, sizeof(data), 7);
}

/* A MemBuf at the end of a chain. */
static Stage *
mem_end(MemBuf *b)
{
	PgbError	err = {0};
	Stage	   *s = callback_stage_new(membuf_sink, b, &err);

	ck_assert_msg(s != NULL, "%s", err.msg);
	return s;
}

/* Push data through head in pieces (0: at once), then finish the chain. */
static void
run(Stage *head, const uint8_t *buf, size_t len, size_t piece)
{
	PgbError	err = {0};

	ck_assert_msg(stage_write_pieces(head, buf, len, piece, &err) == 0, "%s", err.msg);
	ck_assert_msg(stage_finish_chain(head, NULL, &err) == 0, "%s", err.msg);
}

static void
load_fixture(const char *name, uint8_t *buf, size_t len)
{
	const char *srcdir = getenv("srcdir");
	char		path[1024];
	FILE	   *f;
	size_t		n;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s", srcdir ? srcdir : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "could not open fixture \"%s\": %s", path, strerror(errno));
	n = fread(buf, 1, len, f);
	fclose(f);
	ck_assert_msg(n == len, "fixture \"%s\": read %zu bytes, expected %zu", path, n, len);
}

/* ------------------------------------------------------------ observers */

START_TEST(test_sha256_stage_pieces)
{
	static const size_t pieces[] = {0, 1, 3, 8192, 100000};
	uint8_t		expect[SHA256_LEN];

	sha256_digest(data, sizeof(data), expect);
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		MemBuf		out = {0};
		PgbError	err = {0};
		Stage	   *end = mem_end(&out);
		Stage	   *h = sha256_stage_new(end, &err);
		uint8_t		digest[SHA256_LEN];
		uint64_t	bytes;

		ck_assert_ptr_nonnull(h);
		run(h, data, sizeof(data), pieces[k]);
		sha256_stage_result(h, digest, &bytes);
		ck_assert_mem_eq(digest, expect, SHA256_LEN);
		ck_assert_uint_eq(bytes, sizeof(data));
		/* an observer passes its input on unchanged */
		ck_assert_uint_eq(out.len, sizeof(data));
		ck_assert_mem_eq(out.buf, data, sizeof(data));
		/* reset: the next content from the start */
		sha256_stage_reset(h);
		run(h, (const uint8_t *) "abc", 3, 1);
		sha256_stage_result(h, digest, &bytes);
		sha256_digest("abc", 3, expect);
		ck_assert_mem_eq(digest, expect, SHA256_LEN);
		ck_assert_uint_eq(bytes, 3);
		sha256_digest(data, sizeof(data), expect);
		stage_free_chain(h, NULL);
		membuf_free(&out);
	}
}
END_TEST

START_TEST(test_size_head_fixed_discard)
{
	PgbError	err = {0};
	uint8_t		buf[DATA_LEN];
	Stage	   *fixed = fixed_stage_new(buf, sizeof(buf), &err);
	Stage	   *head = head_stage_new(fixed, &err);
	Stage	   *size = size_stage_new(head, &err);
	Stage	   *discard = discard_stage_new(&err);
	const uint8_t *h;
	size_t		hlen;

	ck_assert_ptr_nonnull(size);
	ck_assert_ptr_nonnull(discard);
	run(size, data, sizeof(data), 1);
	ck_assert_uint_eq(size_stage_bytes(size), sizeof(data));
	h = head_stage_bytes(head, &hlen);
	ck_assert_uint_eq(hlen, HEAD_STAGE_MAX);
	ck_assert_mem_eq(h, data, HEAD_STAGE_MAX);
	ck_assert_uint_eq(fixed_stage_len(fixed), sizeof(data));
	ck_assert_mem_eq(buf, data, sizeof(data));
	/* one byte more than the buffer holds is corruption, and nothing is written past it */
	ck_assert_int_eq(stage_write(fixed, "x", 1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	fixed_stage_reset(fixed);
	ck_assert_int_eq(stage_write(fixed, "x", 1, &err), 0);
	ck_assert_uint_eq(fixed_stage_len(fixed), 1);
	/* a short head keeps what there was */
	stage_free_chain(size, NULL);
	head = head_stage_new(NULL, &err);
	run(head, data, 10, 1);
	head_stage_bytes(head, &hlen);
	ck_assert_uint_eq(hlen, 10);
	stage_free(head);
	run(discard, data, sizeof(data), 1);
	stage_free(discard);
	stage_free(NULL);
}
END_TEST

START_TEST(test_blockmap_stage_pieces)
{
	static const uint32_t sizes[] = {8192, 1000, 1};
	uint64_t   *expect = malloc(sizeof(uint64_t) * DATA_LEN);

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	{
		uint32_t	n = chunk_nblocks(DATA_LEN, sizes[k]);
		PgbError	err = {0};

		ck_assert_int_eq(chunk_block_map(data, DATA_LEN, sizes[k], expect), 0);
		for (size_t piece = 0; piece <= 1; piece++)
		{
			Stage	   *b = blockmap_stage_new(NULL, sizes[k], n, &err);
			const uint64_t *map;
			uint32_t	got;

			ck_assert_ptr_nonnull(b);
			run(b, data, DATA_LEN, piece);
			map = blockmap_stage_map(b, &got);
			ck_assert_uint_eq(got, n);
			ck_assert_mem_eq(map, expect, sizeof(uint64_t) * n);
			/* reset, then the same again */
			blockmap_stage_reset(b);
			run(b, data, DATA_LEN, 4096);
			map = blockmap_stage_map(b, &got);
			ck_assert_uint_eq(got, n);
			ck_assert_mem_eq(map, expect, sizeof(uint64_t) * n);
			stage_free(b);
		}
	}
	/* more blocks than allowed is an error, not an overflow */
	{
		PgbError	err = {0};
		Stage	   *b = blockmap_stage_new(NULL, 8192, 2, &err);

		ck_assert_int_eq(stage_write(b, data, DATA_LEN, &err), -1);
		stage_free(b);
	}
	free(expect);
}
END_TEST

/* ------------------------------------------------------------ transformers */

/* Compress data fed in pieces of cpiece, decompress fed in pieces of dpiece. */
static void
zstd_round_trip(size_t cpiece, size_t dpiece, MemBuf *comp)
{
	MemBuf		back = {0};
	PgbError	err = {0};
	Stage	   *c = zstd_compress_stage_new(3, mem_end(comp), &err);
	Stage	   *d = zstd_decompress_stage_new(mem_end(&back), &err);

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(d);
	run(c, data, sizeof(data), cpiece);
	ck_assert_uint_eq(zstd_compress_stage_out(c), comp->len);
	run(d, (const uint8_t *) comp->buf, comp->len, dpiece);
	ck_assert_uint_eq(back.len, sizeof(data));
	ck_assert_mem_eq(back.buf, data, sizeof(data));
	stage_free_chain(c, NULL);
	stage_free_chain(d, NULL);
	membuf_free(&back);
}

START_TEST(test_zstd_stages_pieces)
{
	MemBuf		once = {0},
				bytewise = {0};

	zstd_round_trip(0, 0, &once);
	zstd_round_trip(1, 1, &bytewise);
	/* the frame does not depend on how the input was cut */
	ck_assert_uint_eq(once.len, bytewise.len);
	ck_assert_mem_eq(once.buf, bytewise.buf, once.len);
	/* a cut frame is noticed at finish */
	{
		PgbError	err = {0};
		Stage	   *d = zstd_decompress_stage_new(NULL, &err);

		ck_assert_int_eq(stage_write_pieces(d, once.buf, once.len - 1, 1, &err), 0);
		ck_assert_int_eq(stage_finish(d, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		zstd_decompress_stage_reset(d);
		run(d, (const uint8_t *) once.buf, once.len, 0);
		stage_free(d);
	}
	membuf_free(&once);
	membuf_free(&bytewise);
}
END_TEST

/* Compress len bytes of src at level 3 with threads threads into out (one write). */
static void
zstd_threads(const uint8_t *src, size_t len, int threads, MemBuf *out)
{
	PgbError	err = {0};
	Stage	   *c = zstd_compress_stage_new(3, mem_end(out), &err);

	ck_assert_ptr_nonnull(c);
	zstd_compress_stage_set_threads(c, threads);
	run(c, src, len, 0);
	stage_free_chain(c, NULL);
}

/*
 * Several threads: 5 MiB of text that compresses like WAL is cut into 1 MiB
 * jobs compressed apart (the frame differs from the one-thread frame), yet
 * it is one frame that decodes, fed bytewise, to the input.
 */
START_TEST(test_zstd_threads)
{
	size_t		len = 5 * 1024 * 1024 + 17;
	uint8_t    *src = malloc(len);
	MemBuf		one = {0},
				two = {0},
				back = {0};
	PgbError	err = {0};
	Stage	   *d;
	uint32_t	x = 1;

	for (size_t i = 0; i < len; i++)
	{
		x = x * 1103515245 + 12345;
		src[i] = "0123456789abcdef"[(x >> 16) & 15];
	}
	zstd_threads(src, len, 1, &one);
	zstd_threads(src, len, 2, &two);
	ck_assert(one.len != two.len || memcmp(one.buf, two.buf, one.len) != 0);
	d = zstd_decompress_stage_new(mem_end(&back), &err);
	ck_assert_int_eq(stage_write_pieces(d, two.buf, two.len, 1, &err), 0);
	ck_assert_int_eq(stage_finish(d, &err), 0);
	ck_assert_uint_eq(back.len, len);
	ck_assert_mem_eq(back.buf, src, len);
	stage_free_chain(d, NULL);
	membuf_free(&one);
	membuf_free(&two);
	membuf_free(&back);
	free(src);
}
END_TEST

START_TEST(test_object_stages_pieces)
{
	MemBuf		obj[2] = {{0}};
	ObjectSummary sum[2];

	for (int k = 0; k < 2; k++)
	{
		MemBuf		back = {0};
		PgbError	err = {0};
		Stage	   *e = object_encoder_new(OBJECT_KIND_WAL, 3, mem_end(&obj[k]), &err);
		Stage	   *d = object_decoder_new(OBJECT_KIND_WAL, mem_end(&back), &err);
		ObjectSummary dsum;

		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(d);
		run(e, data, sizeof(data), k);
		object_encoder_summary(e, &sum[k]);
		ck_assert_uint_eq(sum[k].size, sizeof(data));
		ck_assert_uint_eq(sum[k].stored, obj[k].len);
		run(d, (const uint8_t *) obj[k].buf, obj[k].len, k);
		object_decoder_summary(d, &dsum);
		ck_assert_uint_eq(back.len, sizeof(data));
		ck_assert_mem_eq(back.buf, data, sizeof(data));
		ck_assert_mem_eq(dsum.sha256, sum[k].sha256, SHA256_LEN);
		ck_assert_uint_eq(dsum.stored, obj[k].len);
		stage_free_chain(e, NULL);
		stage_free_chain(d, NULL);
		membuf_free(&back);
	}
	ck_assert_uint_eq(obj[0].len, obj[1].len);
	ck_assert_mem_eq(obj[0].buf, obj[1].buf, obj[0].len);
	membuf_free(&obj[0]);
	membuf_free(&obj[1]);
}
END_TEST

/* ------------------------------------------------------------ ends */

START_TEST(test_fd_stage_and_pump)
{
	char		path[] = "/tmp/check_stream_XXXXXX";
	int			fd = mkstemp(path);
	PgbError	err = {0};
	Stage	   *w;
	uint8_t		buf[DATA_LEN];
	uint8_t		piece[1];
	uint64_t	got;
	Stage	   *fixed;

	ck_assert_int_ge(fd, 0);
	/* two writers at different offsets, one byte at a time */
	w = fd_stage_new(fd, path, 100, &err);
	run(w, data + 100, sizeof(data) - 100, 1);
	stage_free(w);
	w = fd_stage_new(fd, path, 0, &err);
	run(w, data, 100, 0);
	stage_free(w);
	fixed = fixed_stage_new(buf, sizeof(buf), &err);
	ck_assert_int_eq(fd_pump(fd, path, 0, UINT64_MAX, piece, sizeof(piece), fixed, &got, &err), 0);
	ck_assert_uint_eq(got, sizeof(data));
	ck_assert_mem_eq(buf, data, sizeof(data));
	/* a range, in larger pieces */
	fixed_stage_reset(fixed);
	{
		uint8_t		big[5000];

		ck_assert_int_eq(fd_pump(fd, path, 8192, 8192, big, sizeof(big), fixed, &got, &err), 0);
		ck_assert_uint_eq(got, 8192);
		ck_assert_mem_eq(buf, data + 8192, 8192);
	}
	stage_free(fixed);
	close(fd);
	/* a closed descriptor is an I/O error */
	fixed = discard_stage_new(&err);
	ck_assert_int_eq(fd_pump(fd, path, 0, 10, piece, 1, fixed, &got, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	stage_free(fixed);
	unlink(path);
}
END_TEST

/* ------------------------------------------------------------ page checksums */

START_TEST(test_page_checksum_known_answers)
{
	/* what PostgreSQL 15 stored in the pages' headers */
	static const uint16_t expect[4] = {0x3c20, 0x4125, 0xdec7, 0xee96};
	static uint8_t pages[4 * PG_PAGE_SIZE];
	static uint8_t zero[PG_PAGE_SIZE];

	load_fixture("pages_pg_class_15", pages, sizeof(pages));
	for (uint32_t b = 0; b < 4; b++)
	{
		uint8_t    *p = pages + (size_t) b * PG_PAGE_SIZE;

		ck_assert_uint_eq(pg_page_stored_checksum(p), expect[b]);
		ck_assert_uint_eq(pg_page_checksum(p, b), expect[b]);
		ck_assert(pg_page_verify(p, b));
		/* the block number is part of it: a page in the wrong place fails */
		ck_assert(!pg_page_verify(p, b + 1));
		ck_assert(!pg_page_verify(p, b + PG_RELSEG_BLOCKS));
		/* the stored checksum itself is not */
		ck_assert_uint_eq(pg_page_stored_checksum(p), expect[b]);
	}
	/* a new page is valid when all zeros, and only then */
	ck_assert(pg_page_verify(zero, 0));
	zero[4000] = 1;
	ck_assert(!pg_page_verify(zero, 0));
	/* any flipped bit fails */
	for (size_t at = 0; at < PG_PAGE_SIZE; at += 997)
	{
		pages[PG_PAGE_SIZE + at] ^= 0x10;
		ck_assert_msg(!pg_page_verify(pages + PG_PAGE_SIZE, 1), "byte %zu", at);
		pages[PG_PAGE_SIZE + at] ^= 0x10;
	}
}
END_TEST

START_TEST(test_pagecheck_stage)
{
	static uint8_t pages[4 * PG_PAGE_SIZE + 100];
	static const size_t pieces[] = {0, 1, 8191, 8193};

	load_fixture("pages_pg_class_15", pages, 4 * PG_PAGE_SIZE);
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
	{
		PgbError	err = {0};
		Stage	   *s = pagecheck_stage_new(NULL, 0, &err);
		PageCheckResult r;

		run(s, pages, 4 * PG_PAGE_SIZE, pieces[k]);
		pagecheck_stage_result(s, &r);
		ck_assert_uint_eq(r.pages, 4);
		ck_assert_uint_eq(r.bad, 0);
		ck_assert(!r.partial);
		stage_free(s);

		/* page 2 damaged, and a partial page at the end */
		pages[2 * PG_PAGE_SIZE + 5000] ^= 1;
		s = pagecheck_stage_new(NULL, 0, &err);
		run(s, pages, sizeof(pages), pieces[k]);
		pagecheck_stage_result(s, &r);
		ck_assert_uint_eq(r.pages, 4);
		ck_assert_uint_eq(r.bad, 1);
		ck_assert_uint_eq(r.first_bad, 2);
		ck_assert(r.partial);
		stage_free(s);
		pages[2 * PG_PAGE_SIZE + 5000] ^= 1;

		/* the same pages as blocks 1.. of their relation: all wrong */
		s = pagecheck_stage_new(NULL, 1, &err);
		run(s, pages, 4 * PG_PAGE_SIZE, pieces[k]);
		pagecheck_stage_result(s, &r);
		ck_assert_uint_eq(r.bad, 4);
		ck_assert_uint_eq(r.first_bad, 1);
		stage_free(s);
	}
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	   *s = suite_create("stream");
	TCase	   *tc = tcase_create("stages");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_sha256_stage_pieces);
	tcase_add_test(tc, test_size_head_fixed_discard);
	tcase_add_test(tc, test_blockmap_stage_pieces);
	tcase_add_test(tc, test_zstd_stages_pieces);
	tcase_add_test(tc, test_zstd_threads);
	tcase_add_test(tc, test_object_stages_pieces);
	tcase_add_test(tc, test_fd_stage_and_pump);
	tcase_add_test(tc, test_page_checksum_known_answers);
	tcase_add_test(tc, test_pagecheck_stage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(stream_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
