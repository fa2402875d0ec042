/*
 * Object container encoder and decoder stages (see object.h).  The decoder cannot
 * know where the payload ends until the input ends, so it holds back the
 * last OBJECT_TRAILER_SIZE bytes seen and feeds zstd only what lies before.
 */
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "io/fill.h"
#include "io/object.h"
#include "io/zstdio.h"

static const uint8_t header_magic[4] = {'P', 'G', 'B', 'K'};
static const uint8_t trailer_magic[8] = {'P', 'G', 'B', 'K', 'E', 'N', 'D', 0};

#define COMPRESSION_ZSTD 1
#define CIPHER_NONE 0

void
object_header_build(ObjectKind kind, uint8_t out[OBJECT_HEADER_SIZE])
{
	memset(out, 0, OBJECT_HEADER_SIZE);
	memcpy(out, header_magic, 4);
	out[4] = (uint8_t) kind;
	out[5] = OBJECT_FORMAT_VERSION;
	out[6] = COMPRESSION_ZSTD;
	out[7] = CIPHER_NONE;
}

int
object_header_check(const uint8_t *buf, size_t len, ObjectKind kind, PgbError *err)
{
	if (len < OBJECT_HEADER_SIZE || memcmp(buf, header_magic, 4) != 0)
		return pgb_error(err, EXIT_CORRUPT, "not a pgbkp object (bad header)");
	if (buf[4] != (uint8_t) kind)
		return pgb_error(err, EXIT_CORRUPT, "object kind '%c' where '%c' was expected",
						 buf[4] >= 32 && buf[4] < 127 ? buf[4] : '?', (char) kind);
	if (buf[5] != OBJECT_FORMAT_VERSION)
		return pgb_error(err, EXIT_CORRUPT, "object format version %u is not supported (this pgbkp reads version %d)",
						 buf[5], OBJECT_FORMAT_VERSION);
	for (int i = 8; i < OBJECT_HEADER_SIZE; i++)
		if (buf[i] != 0)
			return pgb_error(err, EXIT_CORRUPT, "not a pgbkp object (reserved header bytes are not zero)");
	if (buf[6] != COMPRESSION_ZSTD || buf[7] != CIPHER_NONE)
		return pgb_error(err, EXIT_CORRUPT, "object uses compression %u / cipher %u, which this pgbkp does not support",
						 buf[6], buf[7]);
	return 0;
}

int
object_trailer_parse(const uint8_t *buf, size_t len, ObjectSummary *out, PgbError *err)
{
	if (len != OBJECT_TRAILER_SIZE || memcmp(buf + 40, trailer_magic, 8) != 0)
		return pgb_error(err, EXIT_CORRUPT, "object is truncated or damaged (bad trailer)");
	out->size = le_get_u64(buf);
	memcpy(out->sha256, buf + 8, SHA256_LEN);
	return 0;
}

/* ---------------------------------------------------------------- encoder */

typedef struct ObjectEncoder
{
	Stage		base;
	ObjectKind	kind;
	Stage	   *hash;			/* -> zstd -> base.next */
	Stage	   *zstd;
	bool		header_done;
	ObjectSummary sum;
} ObjectEncoder;

static int
encoder_header(ObjectEncoder *e, PgbError *err)
{
	uint8_t		hdr[OBJECT_HEADER_SIZE];

	if (e->header_done)
		return 0;
	object_header_build(e->kind, hdr);
	e->header_done = true;
	return stage_pass(&e->base, hdr, sizeof(hdr), err);
}

static int
encoder_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	ObjectEncoder *e = (ObjectEncoder *) s;

	if (encoder_header(e, err) != 0)
		return -1;
	return stage_write(e->hash, buf, len, err);
}

static int
encoder_finish(Stage *s, PgbError *err)
{
	ObjectEncoder *e = (ObjectEncoder *) s;
	uint8_t		trailer[OBJECT_TRAILER_SIZE];

	if (encoder_header(e, err) != 0 || stage_finish_chain(e->hash, e->base.next, err) != 0)
		return -1;
	sha256_stage_result(e->hash, e->sum.sha256, &e->sum.size);
	le_put_u64(trailer, e->sum.size);
	memcpy(trailer + 8, e->sum.sha256, SHA256_LEN);
	memcpy(trailer + 40, trailer_magic, 8);
	if (stage_pass(s, trailer, sizeof(trailer), err) != 0)
		return -1;
	e->sum.stored = OBJECT_HEADER_SIZE + zstd_compress_stage_out(e->zstd) + OBJECT_TRAILER_SIZE;
	return 0;
}

static void
encoder_free(Stage *s)
{
	ObjectEncoder *e = (ObjectEncoder *) s;

	stage_free(e->hash);
	stage_free(e->zstd);
	free(e);
}

static const StageOps encoder_ops = {encoder_write, encoder_finish, encoder_free};

Stage *
object_encoder_new(ObjectKind kind, int level, Stage *next, PgbError *err)
{
	ObjectEncoder *e = stage_new(sizeof(ObjectEncoder), &encoder_ops, next, err);

	if (e == NULL)
		return NULL;
	e->kind = kind;
	if ((e->zstd = zstd_compress_stage_new(level, next, err)) == NULL ||
		(e->hash = sha256_stage_new(e->zstd, err)) == NULL)
	{
		encoder_free(&e->base);
		return NULL;
	}
	return &e->base;
}

void
object_encoder_set_threads(Stage *s, int threads)
{
	zstd_compress_stage_set_threads(((ObjectEncoder *) s)->zstd, threads);
}

void
object_encoder_summary(const Stage *s, ObjectSummary *out)
{
	*out = ((const ObjectEncoder *) s)->sum;
}

/* ---------------------------------------------------------------- decoder */

typedef struct ObjectDecoder
{
	Stage		base;
	ObjectKind	kind;
	Stage	   *zstd;			/* -> hash -> base.next */
	Stage	   *hash;
	uint64_t	stored;			/* object bytes consumed */
	uint8_t		header[OBJECT_HEADER_SIZE];
	size_t		header_len;
	uint8_t		tail[OBJECT_TRAILER_SIZE];	/* last bytes seen, not yet fed */
	size_t		tail_len;
	ObjectSummary sum;
} ObjectDecoder;

static int
decoder_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	ObjectDecoder *d = (ObjectDecoder *) s;
	const uint8_t *p = buf;

	d->stored += len;
	if (d->header_len < OBJECT_HEADER_SIZE &&
		fill_from(d->header, &d->header_len, OBJECT_HEADER_SIZE, &p, &len) &&
		object_header_check(d->header, OBJECT_HEADER_SIZE, d->kind, err) != 0)
		return -1;
	if (len == 0)
		return 0;

	/*
	 * Feed everything except the last OBJECT_TRAILER_SIZE bytes of (tail +
	 * input).  First release what of the held tail no longer belongs to it.
	 */
	if (d->tail_len + len > OBJECT_TRAILER_SIZE)
	{
		size_t		excess = d->tail_len + len - OBJECT_TRAILER_SIZE;
		size_t		from_tail = excess < d->tail_len ? excess : d->tail_len;

		if (from_tail > 0)
		{
			if (stage_write(d->zstd, d->tail, from_tail, err) != 0)
				return -1;
			memmove(d->tail, d->tail + from_tail, d->tail_len - from_tail);
			d->tail_len -= from_tail;
			excess -= from_tail;
		}
		if (excess > 0)
		{
			if (stage_write(d->zstd, p, excess, err) != 0)
				return -1;
			p += excess;
			len -= excess;
		}
	}
	memcpy(d->tail + d->tail_len, p, len);
	d->tail_len += len;
	return 0;
}

static int
decoder_finish(Stage *s, PgbError *err)
{
	ObjectDecoder *d = (ObjectDecoder *) s;
	ObjectSummary trailer;
	uint8_t		digest[SHA256_LEN];
	uint64_t	size;

	if (d->header_len < OBJECT_HEADER_SIZE)
		return pgb_error(err, EXIT_CORRUPT, "object is truncated (%llu bytes)", (unsigned long long) d->stored);
	if (object_trailer_parse(d->tail, d->tail_len, &trailer, err) != 0)
		return -1;
	if (stage_finish_chain(d->zstd, d->base.next, err) != 0)
		return -1;
	sha256_stage_result(d->hash, digest, &size);
	if (trailer.size != size)
		return pgb_error(err, EXIT_CORRUPT, "content size %llu does not match the recorded %llu",
						 (unsigned long long) size, (unsigned long long) trailer.size);
	if (memcmp(trailer.sha256, digest, SHA256_LEN) != 0)
		return pgb_error(err, EXIT_CORRUPT, "content checksum does not match the recorded SHA-256");
	d->sum = trailer;
	d->sum.stored = d->stored;
	return 0;
}

static void
decoder_free(Stage *s)
{
	ObjectDecoder *d = (ObjectDecoder *) s;

	stage_free(d->zstd);
	stage_free(d->hash);
	free(d);
}

static const StageOps decoder_ops = {decoder_write, decoder_finish, decoder_free};

Stage *
object_decoder_new(ObjectKind kind, Stage *next, PgbError *err)
{
	ObjectDecoder *d = stage_new(sizeof(ObjectDecoder), &decoder_ops, next, err);

	if (d == NULL)
		return NULL;
	d->kind = kind;
	if ((d->hash = sha256_stage_new(next, err)) == NULL ||
		(d->zstd = zstd_decompress_stage_new(d->hash, err)) == NULL)
	{
		decoder_free(&d->base);
		return NULL;
	}
	return &d->base;
}

void
object_decoder_summary(const Stage *s, ObjectSummary *out)
{
	*out = ((const ObjectDecoder *) s)->sum;
}
