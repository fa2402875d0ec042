/*
 * Unit tests for the byte-level codecs under src/io/: the object container
 * (object.c) in every feeding pattern and against every kind of damage, the
 * streaming zstd wrapper (zstdio.c) and SHA-256 with its hex form (sha256.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "io/object.h"
#include "io/sha256.h"
#include "io/zstdio.h"

#define MiB ((size_t) 1 << 20)

/* ------------------------------------------------------------ helpers */

/* A growable memory sink that also counts how often it was called. */
typedef struct Buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	int			calls;
} Buf;

static int
buf_sink(void *arg, const void *data, size_t len, PgbError *err)
{
	Buf		   *b = arg;

	(void) err;
	b->calls++;
	if (b->len + len > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		b->data = realloc(b->data, cap);
		ck_assert_ptr_nonnull(b->data);
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void
buf_free(Buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* A sink that refuses everything with a recognizable error. */
static int
failing_sink(void *arg, const void *data, size_t len, PgbError *err)
{
	(void) arg;
	(void) data;
	(void) len;
	return pgb_error(err, EXIT_IO, "sink refused the bytes");
}

/* The encoder and decoder are stages; these give them a ByteSink at the end. */
static Stage *
encoder_new(ObjectKind kind, int level, ByteSink fn, void *arg)
{
	PgbError	err = {0};
	Stage	   *sink = callback_stage_new(fn, arg, &err);

	return sink ? object_encoder_new(kind, level, sink, &err) : NULL;
}

static Stage *
decoder_new(ObjectKind kind, ByteSink fn, void *arg)
{
	PgbError	err = {0};
	Stage	   *sink = callback_stage_new(fn, arg, &err);

	return sink ? object_decoder_new(kind, sink, &err) : NULL;
}

static int
encoder_finish(Stage *e, ObjectSummary *sum, PgbError *err)
{
	if (stage_finish(e, err) != 0)
		return -1;
	if (sum)
		object_encoder_summary(e, sum);
	return 0;
}

static int
decoder_finish(Stage *d, ObjectSummary *sum, PgbError *err)
{
	if (stage_finish(d, err) != 0)
		return -1;
	if (sum)
		object_decoder_summary(d, sum);
	return 0;
}

static Stage *
zc_new(int level, ByteSink fn, void *arg)
{
	PgbError	err = {0};
	Stage	   *sink = callback_stage_new(fn, arg, &err);

	return sink ? zstd_compress_stage_new(level, sink, &err) : NULL;
}

static Stage *
zd_new(ByteSink fn, void *arg)
{
	PgbError	err = {0};
	Stage	   *sink = callback_stage_new(fn, arg, &err);

	return sink ? zstd_decompress_stage_new(sink, &err) : NULL;
}

/* The codec and the sink stage behind it. */
static void
codec_free(Stage *s)
{
	stage_free_chain(s, NULL);
}

/* Deterministic pseudo-random bytes (xorshift64*). */
static uint8_t *
random_bytes(size_t len, uint64_t seed)
{
	uint8_t    *p = malloc(len ? len : 1);
	uint64_t	x = seed | 1;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++)
	{
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t) ((x * UINT64_C(2685821657736338717)) >> 56);
	}
	return p;
}

/* Compressible bytes: text-like lines with a counter in them. */
static uint8_t *
text_bytes(size_t len)
{
	uint8_t    *p = malloc(len ? len : 1);
	size_t		i = 0;
	unsigned	line = 0;

	ck_assert_ptr_nonnull(p);
	while (i < len)
	{
		char		tmp[64];
		int			n = snprintf(tmp, sizeof(tmp), "line %08u of a compressible payload\n", line++);

		for (int k = 0; k < n && i < len; k++)
			p[i++] = (uint8_t) tmp[k];
	}
	return p;
}

/* Encode content (fed in pieces of `piece` bytes; 0 = all at once). */
static void
encode(ObjectKind kind, const uint8_t *content, size_t len, size_t piece, Buf *out, ObjectSummary *sum)
{
	PgbError	err = {0};
	Stage	   *e = encoder_new(kind, 3, buf_sink, out);

	ck_assert_ptr_nonnull(e);
	if (piece == 0)
		piece = len ? len : 1;
	for (size_t off = 0; off < len; off += piece)
	{
		size_t		n = len - off < piece ? len - off : piece;

		ck_assert_msg(stage_write(e, content + off, n, &err) == 0, "%s", err.msg);
	}
	ck_assert_msg(encoder_finish(e, sum, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(err.code, 0);
	codec_free(e);
}

/*
 * Decode `len` bytes fed in pieces of `piece` (0 = all at once).  Returns 0,
 * or -1 with *err set; *failed_in_write says which call failed.
 */
static int
decode(ObjectKind kind, const uint8_t *obj, size_t len, size_t piece, Buf *out,
	   ObjectSummary *sum, PgbError *err, bool *failed_in_write)
{
	Stage	   *d = decoder_new(kind, buf_sink, out);
	int			rc = 0;

	ck_assert_ptr_nonnull(d);
	if (failed_in_write)
		*failed_in_write = false;
	if (piece == 0)
		piece = len ? len : 1;
	for (size_t off = 0; off < len; off += piece)
	{
		size_t		n = len - off < piece ? len - off : piece;

		if (stage_write(d, obj + off, n, err) != 0)
		{
			if (failed_in_write)
				*failed_in_write = true;
			rc = -1;
			break;
		}
	}
	if (rc == 0)
		rc = decoder_finish(d, sum, err);
	codec_free(d);
	return rc;
}

static void
assert_summary(const ObjectSummary *sum, const uint8_t *content, size_t len, uint64_t stored)
{
	uint8_t		digest[SHA256_LEN];

	sha256_digest(content, len, digest);
	ck_assert_uint_eq(sum->size, len);
	ck_assert_uint_eq(sum->stored, stored);
	ck_assert_mem_eq(sum->sha256, digest, SHA256_LEN);
}

/* Encode, check the layout and the summary, decode all at once. */
static void
round_trip(const uint8_t *content, size_t len)
{
	Buf			obj = {0};
	Buf			back = {0};
	ObjectSummary esum;
	ObjectSummary dsum;
	PgbError	err = {0};
	uint8_t		hdr[OBJECT_HEADER_SIZE];

	memset(&esum, 0xAA, sizeof(esum));
	memset(&dsum, 0x55, sizeof(dsum));
	encode(OBJECT_KIND_WAL, content, len, 0, &obj, &esum);

	/* layout: header, at least one zstd frame, trailer */
	ck_assert_uint_gt(obj.len, OBJECT_HEADER_SIZE + OBJECT_TRAILER_SIZE);
	object_header_build(OBJECT_KIND_WAL, hdr);
	ck_assert_mem_eq(obj.data, hdr, OBJECT_HEADER_SIZE);
	ck_assert_mem_eq(obj.data + OBJECT_HEADER_SIZE, "\x28\xb5\x2f\xfd", 4);	/* zstd magic */
	ck_assert_mem_eq(obj.data + obj.len - 8, "PGBKEND\0", 8);
	assert_summary(&esum, content, len, obj.len);

	ck_assert_msg(decode(OBJECT_KIND_WAL, obj.data, obj.len, 0, &back, &dsum, &err, NULL) == 0,
				  "%s", err.msg);
	ck_assert_uint_eq(back.len, len);
	if (len > 0)
		ck_assert_int_eq(memcmp(back.data, content, len), 0);
	assert_summary(&dsum, content, len, obj.len);
	buf_free(&obj);
	buf_free(&back);
}

/* ------------------------------------------------------------ round trips */

START_TEST(test_round_trip_empty)
{
	round_trip((const uint8_t *) "", 0);
}
END_TEST

START_TEST(test_round_trip_one_byte)
{
	round_trip((const uint8_t *) "x", 1);
	round_trip((const uint8_t *) "\0", 1);
}
END_TEST

START_TEST(test_round_trip_1mib_random)
{
	uint8_t    *content = random_bytes(MiB, 42);

	round_trip(content, MiB);
	free(content);
}
END_TEST

START_TEST(test_round_trip_5mib)
{
	uint8_t    *text = text_bytes(5 * MiB);
	uint8_t    *rnd = random_bytes(5 * MiB, 7);

	round_trip(text, 5 * MiB);
	round_trip(rnd, 5 * MiB);
	free(text);
	free(rnd);
}
END_TEST

/* Compressible input must actually be compressed; random input barely grows. */
START_TEST(test_stored_size_reflects_compression)
{
	uint8_t    *text = text_bytes(MiB);
	uint8_t    *rnd = random_bytes(MiB, 9);
	Buf			a = {0};
	Buf			b = {0};
	ObjectSummary sa;
	ObjectSummary sb;

	encode(OBJECT_KIND_MANIFEST, text, MiB, 0, &a, &sa);
	encode(OBJECT_KIND_MANIFEST, rnd, MiB, 0, &b, &sb);
	ck_assert_uint_lt(sa.stored, MiB / 10);
	ck_assert_uint_eq(sa.stored, a.len);
	ck_assert_uint_gt(sb.stored, MiB);
	ck_assert_uint_lt(sb.stored, MiB + MiB / 100);
	ck_assert_uint_eq(sb.stored, b.len);
	buf_free(&a);
	buf_free(&b);
	free(text);
	free(rnd);
}
END_TEST

/* Encoding in small pieces (and with empty writes) gives the same content. */
START_TEST(test_encoder_small_writes)
{
	static const size_t pieces[] = {1, 7, 48, 1000, 65536};
	uint8_t    *content = text_bytes(200000);

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
	{
		Buf			obj = {0};
		Buf			back = {0};
		ObjectSummary sum;
		PgbError	err = {0};

		encode(OBJECT_KIND_INFO, content, 200000, pieces[i], &obj, &sum);
		assert_summary(&sum, content, 200000, obj.len);
		ck_assert_msg(decode(OBJECT_KIND_INFO, obj.data, obj.len, 0, &back, NULL, &err, NULL) == 0,
					  "piece %zu: %s", pieces[i], err.msg);
		ck_assert_uint_eq(back.len, 200000);
		ck_assert_int_eq(memcmp(back.data, content, 200000), 0);
		buf_free(&obj);
		buf_free(&back);
	}
	free(content);
}
END_TEST

START_TEST(test_encoder_zero_length_writes)
{
	Buf			obj = {0};
	Buf			back = {0};
	ObjectSummary sum;
	PgbError	err = {0};
	Stage	   *e = encoder_new(OBJECT_KIND_WAL, 1, buf_sink, &obj);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stage_write(e, "", 0, &err), 0);
	ck_assert_int_eq(stage_write(e, "abc", 3, &err), 0);
	ck_assert_int_eq(stage_write(e, "", 0, &err), 0);
	ck_assert_int_eq(encoder_finish(e, &sum, &err), 0);
	codec_free(e);
	assert_summary(&sum, (const uint8_t *) "abc", 3, obj.len);
	ck_assert_int_eq(decode(OBJECT_KIND_WAL, obj.data, obj.len, 0, &back, NULL, &err, NULL), 0);
	ck_assert_uint_eq(back.len, 3);
	ck_assert_mem_eq(back.data, "abc", 3);
	buf_free(&obj);
	buf_free(&back);
}
END_TEST

/* ------------------------------------------------------------ chunked decoding */

static const size_t chunk_sizes[] = {1, 7, 47, 48, 49, 0};

/* Decode obj in every chunk size and check content and summary. */
static void
decode_all_chunkings(const uint8_t *content, size_t len, const Buf *obj)
{
	for (size_t i = 0; i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++)
	{
		Buf			back = {0};
		ObjectSummary sum;
		PgbError	err = {0};

		ck_assert_msg(decode(OBJECT_KIND_WAL, obj->data, obj->len, chunk_sizes[i], &back, &sum, &err, NULL) == 0,
					  "content %zu bytes, chunk %zu: %s", len, chunk_sizes[i], err.msg);
		ck_assert_msg(back.len == len, "chunk %zu: got %zu bytes, expected %zu", chunk_sizes[i], back.len, len);
		if (len > 0)
			ck_assert_msg(memcmp(back.data, content, len) == 0, "chunk %zu: content differs", chunk_sizes[i]);
		assert_summary(&sum, content, len, obj->len);
		buf_free(&back);
	}
}

START_TEST(test_decode_chunked_small)
{
	static const size_t sizes[] = {0, 1, 2, 47, 48, 49, 100, 4096};
	uint8_t    *content = random_bytes(4096, 3);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		Buf			obj = {0};
		ObjectSummary sum;

		encode(OBJECT_KIND_WAL, content, sizes[i], 0, &obj, &sum);
		decode_all_chunkings(content, sizes[i], &obj);
		buf_free(&obj);
	}
	free(content);
}
END_TEST

START_TEST(test_decode_chunked_large)
{
	uint8_t    *rnd = random_bytes(MiB, 11);
	uint8_t    *text = text_bytes(3 * MiB);
	Buf			obj = {0};
	ObjectSummary sum;

	encode(OBJECT_KIND_WAL, rnd, MiB, 0, &obj, &sum);
	decode_all_chunkings(rnd, MiB, &obj);
	buf_free(&obj);

	/* decompressed output far larger than any zstd output buffer */
	encode(OBJECT_KIND_WAL, text, 3 * MiB, 0, &obj, &sum);
	decode_all_chunkings(text, 3 * MiB, &obj);
	buf_free(&obj);
	free(rnd);
	free(text);
}
END_TEST

/*
 * Every way of cutting the object into two or three writes near the header
 * and trailer boundaries: the held-back tail must be released correctly
 * whichever write it straddles.
 */
START_TEST(test_decode_boundary_splits)
{
	uint8_t    *content = random_bytes(300, 5);
	Buf			obj = {0};
	ObjectSummary sum;
	size_t		points[256];
	int			npoints = 0;

	encode(OBJECT_KIND_WAL, content, 300, 0, &obj, &sum);
	ck_assert_uint_gt(obj.len, 200);
	/* every cut near the start and near the end, and one in the middle */
	for (size_t p = 0; p <= 70; p++)
		points[npoints++] = p;
	points[npoints++] = obj.len / 2;
	for (size_t p = obj.len - 120; p <= obj.len; p++)
		points[npoints++] = p;

	for (int i = 0; i < npoints; i++)
	{
		for (int j = i; j < npoints; j++)
		{
			size_t		a = points[i];
			size_t		b = points[j];
			Buf			back = {0};
			PgbError	err = {0};
			ObjectSummary dsum;
			Stage	   *d = decoder_new(OBJECT_KIND_WAL, buf_sink, &back);

			ck_assert_ptr_nonnull(d);
			ck_assert_msg(stage_write(d, obj.data, a, &err) == 0 &&
						  stage_write(d, obj.data + a, b - a, &err) == 0 &&
						  stage_write(d, obj.data + b, obj.len - b, &err) == 0 &&
						  decoder_finish(d, &dsum, &err) == 0,
						  "split at %zu/%zu of %zu: %s", a, b, obj.len, err.msg);
			ck_assert_uint_eq(back.len, 300);
			ck_assert_int_eq(memcmp(back.data, content, 300), 0);
			assert_summary(&dsum, content, 300, obj.len);
			codec_free(d);
			buf_free(&back);
		}
	}
	buf_free(&obj);
	free(content);
}
END_TEST

/* ------------------------------------------------------------ damage */

/* Decoding must fail with EXIT_CORRUPT in every chunking. */
static void
expect_corrupt(const uint8_t *obj, size_t len, ObjectKind kind, const char *needle, const char *what)
{
	for (size_t i = 0; i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++)
	{
		Buf			back = {0};
		PgbError	err = {0};

		ck_assert_msg(decode(kind, obj, len, chunk_sizes[i], &back, NULL, &err, NULL) == -1,
					  "%s: accepted with chunk %zu", what, chunk_sizes[i]);
		ck_assert_msg(err.code == EXIT_CORRUPT, "%s (chunk %zu): code %d, message \"%s\"",
					  what, chunk_sizes[i], err.code, err.msg);
		if (needle)
			ck_assert_msg(strstr(err.msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"",
						  what, err.msg, needle);
		buf_free(&back);
	}
}

/* A fresh copy of a 20 000-byte random object for damaging. */
static uint8_t *
damageable(size_t *len, uint8_t **content_out)
{
	uint8_t    *content = random_bytes(20000, 99);
	Buf			obj = {0};
	ObjectSummary sum;

	encode(OBJECT_KIND_WAL, content, 20000, 0, &obj, &sum);
	*len = obj.len;
	if (content_out)
		*content_out = content;
	else
		free(content);
	return obj.data;
}

START_TEST(test_corrupt_header)
{
	static const struct
	{
		size_t		offset;
		const char *needle;
	}			cases[] = {
		{0, "bad header"},		/* magic */
		{3, "bad header"},
		{4, "kind"},			/* kind */
		{5, "version"},			/* format version */
		{6, "compression"},		/* compression */
		{7, "cipher"},			/* cipher */
		{8, "reserved"},		/* reserved bytes must stay zero */
		{15, "reserved"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		size_t		len;
		uint8_t    *obj = damageable(&len, NULL);
		char		what[64];
		Buf			back = {0};
		PgbError	err = {0};
		bool		in_write;

		obj[cases[i].offset] ^= 0x01;
		snprintf(what, sizeof(what), "header byte %zu flipped", cases[i].offset);
		expect_corrupt(obj, len, OBJECT_KIND_WAL, cases[i].needle, what);
		/* reported as soon as the header is complete, before any content */
		ck_assert_int_eq(decode(OBJECT_KIND_WAL, obj, len, 0, &back, NULL, &err, &in_write), -1);
		ck_assert(in_write);
		ck_assert_uint_eq(back.len, 0);
		free(obj);
	}
}
END_TEST

START_TEST(test_corrupt_payload)
{
	static const size_t offsets[] = {
		OBJECT_HEADER_SIZE,		/* zstd magic */
		OBJECT_HEADER_SIZE + 5, /* frame header */
		OBJECT_HEADER_SIZE + 100,
		OBJECT_HEADER_SIZE + 10000,
	};

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
	{
		size_t		len;
		uint8_t    *obj = damageable(&len, NULL);
		char		what[64];

		obj[offsets[i]] ^= 0x40;
		snprintf(what, sizeof(what), "payload byte %zu flipped", offsets[i]);
		expect_corrupt(obj, len, OBJECT_KIND_WAL, NULL, what);
		free(obj);
	}

	/* the last payload byte (zstd's own checksum) sits next to the trailer */
	{
		size_t		len;
		uint8_t    *obj = damageable(&len, NULL);

		obj[len - OBJECT_TRAILER_SIZE - 1] ^= 0xFF;
		expect_corrupt(obj, len, OBJECT_KIND_WAL, NULL, "last payload byte flipped");
		free(obj);
	}
}
END_TEST

START_TEST(test_corrupt_trailer_size)
{
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);

	obj[len - OBJECT_TRAILER_SIZE] ^= 0x01;	/* low byte of the size */
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "size", "trailer size flipped");
	obj[len - OBJECT_TRAILER_SIZE] ^= 0x01;
	obj[len - OBJECT_TRAILER_SIZE + 7] ^= 0x80; /* high byte */
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "size", "trailer size high byte flipped");
	free(obj);
}
END_TEST

START_TEST(test_corrupt_trailer_sha)
{
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);

	obj[len - OBJECT_TRAILER_SIZE + 8] ^= 0x01;	/* first SHA byte */
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "checksum", "trailer sha first byte flipped");
	obj[len - OBJECT_TRAILER_SIZE + 8] ^= 0x01;
	obj[len - OBJECT_TRAILER_SIZE + 39] ^= 0x10;	/* last SHA byte */
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "checksum", "trailer sha last byte flipped");
	free(obj);
}
END_TEST

START_TEST(test_corrupt_trailer_magic)
{
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);

	obj[len - 8] ^= 0x01;
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "trailer", "trailer magic flipped");
	obj[len - 8] ^= 0x01;
	obj[len - 1] = 'X';
	expect_corrupt(obj, len, OBJECT_KIND_WAL, "trailer", "trailer final NUL replaced");
	free(obj);
}
END_TEST

START_TEST(test_truncated)
{
	static const size_t cuts[] = {1, 8, 47, 48, 49, 60, 1000};
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
	{
		char		what[64];

		snprintf(what, sizeof(what), "truncated by %zu bytes", cuts[i]);
		expect_corrupt(obj, len - cuts[i], OBJECT_KIND_WAL, NULL, what);
	}
	/* inside the header, or nothing at all */
	expect_corrupt(obj, OBJECT_HEADER_SIZE - 1, OBJECT_KIND_WAL, "truncated", "15 bytes");
	expect_corrupt(obj, 0, OBJECT_KIND_WAL, "truncated", "empty input");
	/* header and a trailer's worth of bytes, nothing to decompress */
	expect_corrupt(obj, OBJECT_HEADER_SIZE + OBJECT_TRAILER_SIZE, OBJECT_KIND_WAL, NULL, "64 bytes");
	free(obj);
}
END_TEST

/* A header followed directly by a valid trailer: no zstd frame at all. */
START_TEST(test_no_payload)
{
	uint8_t		obj[OBJECT_HEADER_SIZE + OBJECT_TRAILER_SIZE];

	object_header_build(OBJECT_KIND_WAL, obj);
	memset(obj + OBJECT_HEADER_SIZE, 0, 8);
	sha256_digest("", 0, obj + OBJECT_HEADER_SIZE + 8);
	memcpy(obj + OBJECT_HEADER_SIZE + 40, "PGBKEND", 8);
	expect_corrupt(obj, sizeof(obj), OBJECT_KIND_WAL, NULL, "no payload");
}
END_TEST

START_TEST(test_trailing_garbage)
{
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);
	uint8_t    *longer = malloc(len + 5);

	memcpy(longer, obj, len);
	memcpy(longer + len, "extra", 5);
	expect_corrupt(longer, len + 5, OBJECT_KIND_WAL, NULL, "5 bytes appended");
	free(longer);
	free(obj);
}
END_TEST

/* Two objects back to back are not one object. */
START_TEST(test_concatenated_objects)
{
	Buf			a = {0};
	ObjectSummary sum;

	encode(OBJECT_KIND_WAL, (const uint8_t *) "first", 5, 0, &a, &sum);
	encode(OBJECT_KIND_WAL, (const uint8_t *) "second", 6, 0, &a, &sum);
	expect_corrupt(a.data, a.len, OBJECT_KIND_WAL, NULL, "two objects");
	buf_free(&a);
}
END_TEST

START_TEST(test_wrong_kind)
{
	static const ObjectKind kinds[] = {OBJECT_KIND_MANIFEST, OBJECT_KIND_INFO, OBJECT_KIND_BUNDLE};
	size_t		len;
	uint8_t    *obj = damageable(&len, NULL);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
	{
		Buf			back = {0};
		PgbError	err = {0};
		char		needle[64];

		expect_corrupt(obj, len, kinds[i], "kind", "wrong kind");
		ck_assert_int_eq(decode(kinds[i], obj, len, 0, &back, NULL, &err, NULL), -1);
		snprintf(needle, sizeof(needle), "'W' where '%c'", (char) kinds[i]);
		ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle);
		buf_free(&back);
	}
	free(obj);
}
END_TEST

/* ------------------------------------------------------------ sinks and parts */

START_TEST(test_decoder_sink_error_propagates)
{
	uint8_t    *content;
	size_t		len;
	uint8_t    *obj = damageable(&len, &content);
	Stage	   *d = decoder_new(OBJECT_KIND_WAL, failing_sink, NULL);
	PgbError	err = {0};

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(stage_write(d, obj, len, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	ck_assert_str_eq(err.msg, "sink refused the bytes");
	codec_free(d);
	free(obj);
	free(content);
}
END_TEST

START_TEST(test_encoder_sink_error_propagates)
{
	Stage	   *e = encoder_new(OBJECT_KIND_WAL, 3, failing_sink, NULL);
	PgbError	err = {0};
	ObjectSummary sum;

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(stage_write(e, "x", 1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	codec_free(e);

	e = encoder_new(OBJECT_KIND_WAL, 3, failing_sink, NULL);
	pgb_error_clear(&err);
	ck_assert_int_eq(encoder_finish(e, &sum, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	codec_free(e);
	codec_free(NULL);
	codec_free(NULL);
}
END_TEST

START_TEST(test_header_build_and_check)
{
	uint8_t		hdr[OBJECT_HEADER_SIZE];
	static const uint8_t expected[OBJECT_HEADER_SIZE] = {
		'P', 'G', 'B', 'K', 'M', OBJECT_FORMAT_VERSION, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	PgbError	err = {0};

	memset(hdr, 0xEE, sizeof(hdr));
	object_header_build(OBJECT_KIND_MANIFEST, hdr);
	ck_assert_mem_eq(hdr, expected, OBJECT_HEADER_SIZE);
	ck_assert_int_eq(object_header_check(hdr, sizeof(hdr), OBJECT_KIND_MANIFEST, &err), 0);
	ck_assert_int_eq(err.code, 0);
	ck_assert_int_eq(object_header_check(hdr, sizeof(hdr) - 1, OBJECT_KIND_MANIFEST, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	ck_assert_int_eq(object_header_check(hdr, sizeof(hdr), OBJECT_KIND_BUNDLE, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	hdr[5] = 2;
	ck_assert_int_eq(object_header_check(hdr, sizeof(hdr), OBJECT_KIND_MANIFEST, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "version 2"));
}
END_TEST

START_TEST(test_trailer_parse)
{
	uint8_t		tr[OBJECT_TRAILER_SIZE];
	ObjectSummary sum;
	PgbError	err = {0};

	/* size 0x0102030405060708 little-endian */
	for (int i = 0; i < 8; i++)
		tr[i] = (uint8_t) (8 - i);
	for (int i = 0; i < SHA256_LEN; i++)
		tr[8 + i] = (uint8_t) i;
	memcpy(tr + 40, "PGBKEND", 8);
	ck_assert_int_eq(object_trailer_parse(tr, sizeof(tr), &sum, &err), 0);
	ck_assert_uint_eq(sum.size, UINT64_C(0x0102030405060708));
	ck_assert_mem_eq(sum.sha256, tr + 8, SHA256_LEN);

	ck_assert_int_eq(object_trailer_parse(tr, sizeof(tr) - 1, &sum, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
	tr[47] = '!';
	pgb_error_clear(&err);
	ck_assert_int_eq(object_trailer_parse(tr, sizeof(tr), &sum, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);
}
END_TEST

/* ------------------------------------------------------------ zstdio */

static void
zcompress(const uint8_t *data, size_t len, size_t piece, Buf *out, int level)
{
	PgbError	err = {0};
	Stage	   *z = zc_new(level, buf_sink, out);
	size_t		before = out->len;

	ck_assert_ptr_nonnull(z);
	for (size_t off = 0; off < len; off += piece)
	{
		size_t		n = len - off < piece ? len - off : piece;

		ck_assert_msg(stage_write(z, data + off, n, &err) == 0, "%s", err.msg);
	}
	ck_assert_msg(stage_finish(z, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(zstd_compress_stage_out(z), out->len - before);
	codec_free(z);
}

/* Feed in pieces; returns the result of end (or -1 from a write). */
static int
zdecompress(Stage	   *z, const uint8_t *data, size_t len, size_t piece, PgbError *err)
{
	for (size_t off = 0; off < len; off += piece)
	{
		size_t		n = len - off < piece ? len - off : piece;

		if (stage_write(z, data + off, n, err) != 0)
			return -1;
	}
	return stage_finish(z, err);
}

START_TEST(test_zstd_tiny_feeds)
{
	uint8_t    *content = text_bytes(300000);
	Buf			comp = {0};
	static const size_t feeds[] = {1, 2, 3, 13};

	zcompress(content, 300000, 1, &comp, 3);
	ck_assert_uint_lt(comp.len, 300000);
	for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++)
	{
		Buf			back = {0};
		PgbError	err = {0};
		Stage	   *z = zd_new(buf_sink, &back);

		ck_assert_msg(zdecompress(z, comp.data, comp.len, feeds[i], &err) == 0, "feed %zu: %s", feeds[i], err.msg);
		ck_assert_uint_eq(back.len, 300000);
		ck_assert_int_eq(memcmp(back.data, content, 300000), 0);
		codec_free(z);
		buf_free(&back);
	}
	buf_free(&comp);
	free(content);
}
END_TEST

/* Output of one frame much larger than the decompressor's output buffer. */
START_TEST(test_zstd_large_output)
{
	size_t		len = 4 * MiB;
	uint8_t    *zeros = calloc(1, len);
	Buf			comp = {0};
	Buf			back = {0};
	PgbError	err = {0};
	Stage	   *z = zd_new(buf_sink, &back);

	zcompress(zeros, len, len, &comp, 19);
	ck_assert_uint_lt(comp.len, 4096);
	ck_assert_int_eq(zdecompress(z, comp.data, comp.len, comp.len, &err), 0);
	ck_assert_uint_eq(back.len, len);
	ck_assert_int_eq(memcmp(back.data, zeros, len), 0);
	ck_assert_int_gt(back.calls, 1);
	codec_free(z);
	buf_free(&comp);
	buf_free(&back);
	free(zeros);
}
END_TEST

START_TEST(test_zstd_multiple_frames)
{
	Buf			comp = {0};
	Buf			back = {0};
	PgbError	err = {0};
	Stage	   *c = zc_new(5, buf_sink, &comp);
	Stage	   *z = zd_new(buf_sink, &back);
	uint8_t    *rnd = random_bytes(200000, 17);
	size_t		first_end;

	/* one compressor, three frames (one of them empty) */
	ck_assert_int_eq(stage_write(c, "alpha ", 6, &err), 0);
	ck_assert_int_eq(stage_finish(c, &err), 0);
	first_end = comp.len;
	ck_assert_int_eq(stage_finish(c, &err), 0);
	ck_assert_uint_gt(comp.len, first_end);
	ck_assert_int_eq(stage_write(c, rnd, 200000, &err), 0);
	ck_assert_int_eq(stage_finish(c, &err), 0);
	ck_assert_uint_eq(zstd_compress_stage_out(c), comp.len);
	codec_free(c);

	ck_assert_msg(zdecompress(z, comp.data, comp.len, 5, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(back.len, 6 + 200000);
	ck_assert_mem_eq(back.data, "alpha ", 6);
	ck_assert_int_eq(memcmp(back.data + 6, rnd, 200000), 0);

	/* a stream cut exactly after a complete frame ends cleanly */
	zstd_decompress_stage_reset(z);
	back.len = 0;
	ck_assert_int_eq(zdecompress(z, comp.data, first_end, 1, &err), 0);
	ck_assert_uint_eq(back.len, 6);

	/* ... but one byte into the next frame does not */
	zstd_decompress_stage_reset(z);
	back.len = 0;
	ck_assert_int_eq(zdecompress(z, comp.data, first_end + 1, 1, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	codec_free(z);
	buf_free(&comp);
	buf_free(&back);
	free(rnd);
}
END_TEST

/*
 * A frame from another encoder: no content checksum, and a short block
 * (from a flush) before a full one, so a single call's output buffer fills
 * while zstd still holds decoded bytes and no input is left to drive it.
 * Every byte must still reach the sink before write returns.
 */
START_TEST(test_zstd_uneven_blocks_no_checksum)
{
	size_t		first = 100 * 1024;
	size_t		second = 128 * 1024;
	uint8_t    *content = random_bytes(first + second, 41);
	size_t		cap = ZSTD_compressBound(first + second) + 1024;
	uint8_t    *comp = malloc(cap);
	ZSTD_CCtx  *cctx = ZSTD_createCCtx();
	ZSTD_outBuffer out = {comp, cap, 0};
	ZSTD_inBuffer in1 = {content, first, 0};
	ZSTD_inBuffer in2 = {content + first, second, 0};
	Buf			back = {0};
	PgbError	err = {0};
	Stage	   *z = zd_new(buf_sink, &back);

	ck_assert_ptr_nonnull(cctx);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
	ck_assert(!ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in1, ZSTD_e_flush)));
	ck_assert_uint_eq(in1.pos, first);
	ck_assert_uint_eq(ZSTD_compressStream2(cctx, &out, &in2, ZSTD_e_end), 0);
	ZSTD_freeCCtx(cctx);

	ck_assert_msg(stage_write(z, comp, out.pos, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(back.len, first + second);
	ck_assert_int_eq(memcmp(back.data, content, first + second), 0);
	ck_assert_msg(stage_finish(z, &err) == 0, "%s", err.msg);
	codec_free(z);
	buf_free(&back);
	free(comp);
	free(content);
}
END_TEST

START_TEST(test_zstd_truncated_frame)
{
	uint8_t    *content = random_bytes(50000, 23);
	Buf			comp = {0};
	static const size_t cuts[] = {1, 4, 100, 49000};

	zcompress(content, 50000, 50000, &comp, 3);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
	{
		Buf			back = {0};
		PgbError	err = {0};
		Stage	   *z = zd_new(buf_sink, &back);

		ck_assert_int_eq(stage_write(z, comp.data, comp.len - cuts[i], &err), 0);
		ck_assert_int_eq(stage_finish(z, &err), -1);
		ck_assert_int_eq(err.code, EXIT_CORRUPT);
		ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
		codec_free(z);
		buf_free(&back);
	}
	buf_free(&comp);
	free(content);
}
END_TEST

START_TEST(test_zstd_empty_and_garbage)
{
	Buf			back = {0};
	PgbError	err = {0};
	Stage	   *z = zd_new(buf_sink, &back);
	Buf			comp = {0};

	/* nothing at all is not a stream */
	ck_assert_int_eq(stage_finish(z, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	/* not zstd */
	pgb_error_clear(&err);
	ck_assert_int_eq(stage_write(z, "this is not zstd", 16, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	/* reset makes it usable again; an empty frame is a complete stream */
	zstd_decompress_stage_reset(z);
	zcompress((const uint8_t *) "", 0, 1, &comp, 1);
	ck_assert_uint_gt(comp.len, 0);
	pgb_error_clear(&err);
	ck_assert_int_eq(zdecompress(z, comp.data, comp.len, 1, &err), 0);
	ck_assert_uint_eq(back.len, 0);

	/* content checksum: flip the last byte of a frame */
	buf_free(&comp);
	zcompress((const uint8_t *) "some content", 12, 12, &comp, 1);
	comp.data[comp.len - 1] ^= 0x01;
	zstd_decompress_stage_reset(z);
	pgb_error_clear(&err);
	ck_assert_int_eq(zdecompress(z, comp.data, comp.len, comp.len, &err), -1);
	ck_assert_int_eq(err.code, EXIT_CORRUPT);

	codec_free(z);
	codec_free(NULL);
	codec_free(NULL);
	buf_free(&comp);
	buf_free(&back);
}
END_TEST

START_TEST(test_zstd_sink_error)
{
	PgbError	err = {0};
	Stage	   *z = zd_new(failing_sink, NULL);
	Buf			comp = {0};

	zcompress((const uint8_t *) "payload", 7, 7, &comp, 1);
	ck_assert_int_eq(stage_write(z, comp.data, comp.len, &err), -1);
	ck_assert_int_eq(err.code, EXIT_IO);
	codec_free(z);
	buf_free(&comp);
}
END_TEST

/* ------------------------------------------------------------ sha256 */

static const char *
hex_of(const void *data, size_t len)
{
	static char hex[SHA256_HEX_LEN + 1];
	uint8_t		d[SHA256_LEN];

	sha256_digest(data, len, d);
	sha256_to_hex(d, hex);
	return hex;
}

START_TEST(test_sha256_vectors)
{
	ck_assert_str_eq(hex_of("abc", 3),
					 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_str_eq(hex_of("", 0),
					 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
					 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_incremental)
{
	uint8_t    *data = random_bytes(100000, 31);
	uint8_t		once[SHA256_LEN];
	uint8_t		inc[SHA256_LEN];
	Sha256	   *h = sha256_new();

	ck_assert_ptr_nonnull(h);
	sha256_digest(data, 100000, once);
	for (size_t off = 0; off < 100000; off += 999)
		sha256_update(h, data + off, 100000 - off < 999 ? 100000 - off : 999);
	sha256_update(h, data, 0);
	sha256_final(h, inc);
	ck_assert_mem_eq(once, inc, SHA256_LEN);

	/* reset starts over: "abc" in three pieces */
	sha256_reset(h);
	sha256_update(h, "a", 1);
	sha256_update(h, "b", 1);
	sha256_update(h, "c", 1);
	sha256_final(h, inc);
	sha256_digest("abc", 3, once);
	ck_assert_mem_eq(once, inc, SHA256_LEN);
	sha256_free(h);
	sha256_free(NULL);
	free(data);
}
END_TEST

START_TEST(test_sha256_hex_round_trip)
{
	uint8_t		in[SHA256_LEN];
	uint8_t		out[SHA256_LEN];
	char		hex[SHA256_HEX_LEN + 1];

	for (int i = 0; i < SHA256_LEN; i++)
		in[i] = (uint8_t) (i * 37 + 0x0F);
	in[0] = 0x00;
	in[1] = 0xFF;
	memset(hex, 'x', sizeof(hex));
	sha256_to_hex(in, hex);
	ck_assert_uint_eq(strlen(hex), SHA256_HEX_LEN);
	ck_assert_int_eq(strncmp(hex, "00ff", 4), 0);
	ck_assert_int_eq(strspn(hex, "0123456789abcdef"), SHA256_HEX_LEN);
	memset(out, 0, sizeof(out));
	ck_assert(sha256_from_hex(hex, out));
	ck_assert_mem_eq(in, out, SHA256_LEN);
}
END_TEST

START_TEST(test_sha256_from_hex_rejects)
{
	const char *good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char		bad[80];
	uint8_t		out[SHA256_LEN];

	ck_assert(sha256_from_hex(good, out));
	ck_assert_uint_eq(out[0], 0xba);
	ck_assert_uint_eq(out[31], 0xad);

	ck_assert(!sha256_from_hex("", out));
	snprintf(bad, sizeof(bad), "%.63s", good);
	ck_assert(!sha256_from_hex(bad, out));
	snprintf(bad, sizeof(bad), "%s0", good);
	ck_assert(!sha256_from_hex(bad, out));
	snprintf(bad, sizeof(bad), "%s", good);
	bad[0] = 'B';				/* upper case */
	ck_assert(!sha256_from_hex(bad, out));
	bad[0] = 'g';
	ck_assert(!sha256_from_hex(bad, out));
	snprintf(bad, sizeof(bad), "%s", good);
	bad[63] = ' ';
	ck_assert(!sha256_from_hex(bad, out));
}
END_TEST

static Suite *
object_suite(void)
{
	Suite	   *s = suite_create("object");
	TCase	   *tc;

	tc = tcase_create("round_trip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip_empty);
	tcase_add_test(tc, test_round_trip_one_byte);
	tcase_add_test(tc, test_round_trip_1mib_random);
	tcase_add_test(tc, test_round_trip_5mib);
	tcase_add_test(tc, test_stored_size_reflects_compression);
	tcase_add_test(tc, test_encoder_small_writes);
	tcase_add_test(tc, test_encoder_zero_length_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_decode_chunked_small);
	tcase_add_test(tc, test_decode_chunked_large);
	tcase_add_test(tc, test_decode_boundary_splits);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_corrupt_header);
	tcase_add_test(tc, test_corrupt_payload);
	tcase_add_test(tc, test_corrupt_trailer_size);
	tcase_add_test(tc, test_corrupt_trailer_sha);
	tcase_add_test(tc, test_corrupt_trailer_magic);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_no_payload);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_concatenated_objects);
	tcase_add_test(tc, test_wrong_kind);
	suite_add_tcase(s, tc);

	tc = tcase_create("parts");
	tcase_add_test(tc, test_decoder_sink_error_propagates);
	tcase_add_test(tc, test_encoder_sink_error_propagates);
	tcase_add_test(tc, test_header_build_and_check);
	tcase_add_test(tc, test_trailer_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("zstdio");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_zstd_tiny_feeds);
	tcase_add_test(tc, test_zstd_large_output);
	tcase_add_test(tc, test_zstd_multiple_frames);
	tcase_add_test(tc, test_zstd_uneven_blocks_no_checksum);
	tcase_add_test(tc, test_zstd_truncated_frame);
	tcase_add_test(tc, test_zstd_empty_and_garbage);
	tcase_add_test(tc, test_zstd_sink_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("sha256");
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_incremental);
	tcase_add_test(tc, test_sha256_hex_round_trip);
	tcase_add_test(tc, test_sha256_from_hex_rejects);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(object_suite());
	int			failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
