/*
 * Streaming zstd (see zstdio.h).  Output is staged in one ZSTD_CStreamOutSize
 * buffer and handed to the sink whenever it fills.
 */
#include <stdlib.h>
#include <zstd.h>

#include "io/zstdio.h"

struct ZstdCompressor
{
	ZSTD_CCtx  *cctx;
	ByteSink	sink;
	void	   *arg;
	uint64_t	out_bytes;
	size_t		cap;
	uint8_t    *out;
};

struct ZstdDecompressor
{
	ZSTD_DCtx  *dctx;
	ByteSink	sink;
	void	   *arg;
	size_t		pending;		/* last ZSTD_decompressStream hint: 0 = frame complete */
	bool		started;
	size_t		cap;
	uint8_t    *out;
};

ZstdCompressor *
zstd_compressor_new(int level, ByteSink sink, void *arg)
{
	ZstdCompressor *z = calloc(1, sizeof(ZstdCompressor));

	if (z == NULL)
		return NULL;
	z->cctx = ZSTD_createCCtx();
	z->cap = ZSTD_CStreamOutSize();
	z->out = malloc(z->cap);
	if (z->cctx == NULL || z->out == NULL)
	{
		zstd_compressor_free(z);
		return NULL;
	}
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	z->sink = sink;
	z->arg = arg;
	return z;
}

static int
compress_step(ZstdCompressor *z, const void *buf, size_t len, ZSTD_EndDirective mode, PgbError *err)
{
	ZSTD_inBuffer in = {buf, len, 0};

	for (;;)
	{
		ZSTD_outBuffer out = {z->out, z->cap, 0};
		size_t		rc = ZSTD_compressStream2(z->cctx, &out, &in, mode);

		if (ZSTD_isError(rc))
			return pgb_error(err, EXIT_INTERNAL, "zstd compression failed: %s", ZSTD_getErrorName(rc));
		if (out.pos > 0)
		{
			if (z->sink(z->arg, z->out, out.pos, err) != 0)
				return -1;
			z->out_bytes += out.pos;
		}
		if (mode == ZSTD_e_continue ? in.pos == in.size : rc == 0)
			return 0;
	}
}

int
zstd_compressor_write(ZstdCompressor *z, const void *buf, size_t len, PgbError *err)
{
	if (len == 0)
		return 0;
	return compress_step(z, buf, len, ZSTD_e_continue, err);
}

int
zstd_compressor_end(ZstdCompressor *z, PgbError *err)
{
	return compress_step(z, NULL, 0, ZSTD_e_end, err);
}

uint64_t
zstd_compressor_out_bytes(const ZstdCompressor *z)
{
	return z->out_bytes;
}

void
zstd_compressor_free(ZstdCompressor *z)
{
	if (z == NULL)
		return;
	ZSTD_freeCCtx(z->cctx);
	free(z->out);
	free(z);
}

ZstdDecompressor *
zstd_decompressor_new(ByteSink sink, void *arg)
{
	ZstdDecompressor *z = calloc(1, sizeof(ZstdDecompressor));

	if (z == NULL)
		return NULL;
	z->dctx = ZSTD_createDCtx();
	z->cap = ZSTD_DStreamOutSize();
	z->out = malloc(z->cap);
	if (z->dctx == NULL || z->out == NULL)
	{
		zstd_decompressor_free(z);
		return NULL;
	}
	z->sink = sink;
	z->arg = arg;
	return z;
}

int
zstd_decompressor_write(ZstdDecompressor *z, const void *buf, size_t len, PgbError *err)
{
	ZSTD_inBuffer in = {buf, len, 0};
	bool		flush = false;

	/*
	 * Loop while input remains, or while the last call filled the output
	 * buffer without finishing its frame (zstd may hold more).  After a frame
	 * is done (0) no further call is made without input: that would start a
	 * new frame.
	 */
	while (in.pos < in.size || flush)
	{
		ZSTD_outBuffer out = {z->out, z->cap, 0};
		size_t		rc = ZSTD_decompressStream(z->dctx, &out, &in);

		if (ZSTD_isError(rc))
			return pgb_error(err, EXIT_CORRUPT, "compressed data is corrupt: %s", ZSTD_getErrorName(rc));
		z->pending = rc;
		z->started = true;
		if (out.pos > 0 && z->sink(z->arg, z->out, out.pos, err) != 0)
			return -1;
		flush = out.pos == out.size && rc != 0;
	}
	return 0;
}

int
zstd_decompressor_end(ZstdDecompressor *z, PgbError *err)
{
	if (!z->started || z->pending != 0)
		return pgb_error(err, EXIT_CORRUPT, "compressed data is truncated");
	return 0;
}

void
zstd_decompressor_reset(ZstdDecompressor *z)
{
	ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
	z->pending = 0;
	z->started = false;
}

void
zstd_decompressor_free(ZstdDecompressor *z)
{
	if (z == NULL)
		return;
	ZSTD_freeDCtx(z->dctx);
	free(z->out);
	free(z);
}
