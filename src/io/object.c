/*
 * Object container encoder and decoder (see object.h).  The decoder cannot
 * know where the payload ends until the input ends, so it holds back the
 * last OBJECT_TRAILER_SIZE bytes seen and feeds zstd only what lies before.
 */
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
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

struct ObjectEncoder
{
	ObjectKind	kind;
	ByteSink	sink;
	void	   *arg;
	ZstdCompressor *zstd;
	Sha256	   *hash;
	uint64_t	size;
	bool		header_done;
};

ObjectEncoder *
object_encoder_new(ObjectKind kind, int level, ByteSink sink, void *arg)
{
	ObjectEncoder *e = calloc(1, sizeof(ObjectEncoder));

	if (e == NULL)
		return NULL;
	e->sink = sink;
	e->arg = arg;
	e->zstd = zstd_compressor_new(level, sink, arg);
	e->hash = sha256_new();
	if (e->zstd == NULL || e->hash == NULL)
	{
		object_encoder_free(e);
		return NULL;
	}
	e->kind = kind;
	return e;
}

static int
encoder_header(ObjectEncoder *e, PgbError *err)
{
	uint8_t		hdr[OBJECT_HEADER_SIZE];

	if (e->header_done)
		return 0;
	object_header_build(e->kind, hdr);
	e->header_done = true;
	return e->sink(e->arg, hdr, sizeof(hdr), err);
}

int
object_encoder_write(ObjectEncoder *e, const void *buf, size_t len, PgbError *err)
{
	if (encoder_header(e, err) != 0)
		return -1;
	sha256_update(e->hash, buf, len);
	e->size += len;
	return zstd_compressor_write(e->zstd, buf, len, err);
}

int
object_encoder_finish(ObjectEncoder *e, ObjectSummary *out, PgbError *err)
{
	uint8_t		trailer[OBJECT_TRAILER_SIZE];

	if (encoder_header(e, err) != 0 || zstd_compressor_end(e->zstd, err) != 0)
		return -1;
	le_put_u64(trailer, e->size);
	sha256_final(e->hash, trailer + 8);
	memcpy(trailer + 40, trailer_magic, 8);
	if (e->sink(e->arg, trailer, sizeof(trailer), err) != 0)
		return -1;
	if (out)
	{
		out->size = e->size;
		memcpy(out->sha256, trailer + 8, SHA256_LEN);
		out->stored = OBJECT_HEADER_SIZE + zstd_compressor_out_bytes(e->zstd) + OBJECT_TRAILER_SIZE;
	}
	return 0;
}

void
object_encoder_free(ObjectEncoder *e)
{
	if (e == NULL)
		return;
	zstd_compressor_free(e->zstd);
	sha256_free(e->hash);
	free(e);
}

/* ---------------------------------------------------------------- decoder */

struct ObjectDecoder
{
	ObjectKind	kind;
	ByteSink	sink;
	void	   *arg;
	ZstdDecompressor *zstd;
	Sha256	   *hash;
	uint64_t	size;			/* content bytes produced */
	uint64_t	stored;			/* object bytes consumed */
	uint8_t		header[OBJECT_HEADER_SIZE];
	size_t		header_len;
	uint8_t		tail[OBJECT_TRAILER_SIZE];	/* last bytes seen, not yet fed */
	size_t		tail_len;
};

/* Content from zstd: hash and count it, then pass it on. */
static int
decoder_content(void *arg, const void *buf, size_t len, PgbError *err)
{
	ObjectDecoder *d = arg;

	sha256_update(d->hash, buf, len);
	d->size += len;
	return d->sink(d->arg, buf, len, err);
}

ObjectDecoder *
object_decoder_new(ObjectKind kind, ByteSink sink, void *arg)
{
	ObjectDecoder *d = calloc(1, sizeof(ObjectDecoder));

	if (d == NULL)
		return NULL;
	d->kind = kind;
	d->sink = sink;
	d->arg = arg;
	d->zstd = zstd_decompressor_new(decoder_content, d);
	d->hash = sha256_new();
	if (d->zstd == NULL || d->hash == NULL)
	{
		object_decoder_free(d);
		return NULL;
	}
	return d;
}

int
object_decoder_write(ObjectDecoder *d, const void *buf, size_t len, PgbError *err)
{
	const uint8_t *p = buf;

	d->stored += len;
	if (d->header_len < OBJECT_HEADER_SIZE)
	{
		size_t		take = OBJECT_HEADER_SIZE - d->header_len;

		if (take > len)
			take = len;
		memcpy(d->header + d->header_len, p, take);
		d->header_len += take;
		p += take;
		len -= take;
		if (d->header_len == OBJECT_HEADER_SIZE &&
			object_header_check(d->header, OBJECT_HEADER_SIZE, d->kind, err) != 0)
			return -1;
	}
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
			if (zstd_decompressor_write(d->zstd, d->tail, from_tail, err) != 0)
				return -1;
			memmove(d->tail, d->tail + from_tail, d->tail_len - from_tail);
			d->tail_len -= from_tail;
			excess -= from_tail;
		}
		if (excess > 0)
		{
			if (zstd_decompressor_write(d->zstd, p, excess, err) != 0)
				return -1;
			p += excess;
			len -= excess;
		}
	}
	memcpy(d->tail + d->tail_len, p, len);
	d->tail_len += len;
	return 0;
}

int
object_decoder_finish(ObjectDecoder *d, ObjectSummary *out, PgbError *err)
{
	ObjectSummary trailer;
	uint8_t		digest[SHA256_LEN];

	if (d->header_len < OBJECT_HEADER_SIZE)
		return pgb_error(err, EXIT_CORRUPT, "object is truncated (%llu bytes)", (unsigned long long) d->stored);
	if (object_trailer_parse(d->tail, d->tail_len, &trailer, err) != 0)
		return -1;
	if (zstd_decompressor_end(d->zstd, err) != 0)
		return -1;
	sha256_final(d->hash, digest);
	if (trailer.size != d->size)
		return pgb_error(err, EXIT_CORRUPT, "content size %llu does not match the recorded %llu",
						 (unsigned long long) d->size, (unsigned long long) trailer.size);
	if (memcmp(trailer.sha256, digest, SHA256_LEN) != 0)
		return pgb_error(err, EXIT_CORRUPT, "content checksum does not match the recorded SHA-256");
	if (out)
	{
		*out = trailer;
		out->stored = d->stored;
	}
	return 0;
}

void
object_decoder_free(ObjectDecoder *d)
{
	if (d == NULL)
		return;
	zstd_decompressor_free(d->zstd);
	sha256_free(d->hash);
	free(d);
}
