/*
 * zstd stages (see zstdio.h).  Output is staged in one ZSTD_CStreamOutSize
 * (or DStreamOutSize) buffer and handed to the next stage whenever it fills.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <zstd.h>

#include "io/zstdio.h"

/* A job of a multi-threaded compression: 16 MiB of WAL is 16 of them, for two or more threads. */
#define ZSTD_MT_JOB_SIZE (1024 * 1024)

typedef struct ZstdCompress
{
	Stage		base;
	ZSTD_CCtx  *cctx;
	uint64_t	out_bytes;
	size_t		cap;
	uint8_t    *out;
} ZstdCompress;

typedef struct ZstdDecompress
{
	Stage		base;
	ZSTD_DCtx  *dctx;
	size_t		pending;		/* last ZSTD_decompressStream hint: 0 = frame complete */
	bool		started;
	size_t		cap;
	uint8_t    *out;
} ZstdDecompress;

static int
compress_step(ZstdCompress *z, const void *buf, size_t len, ZSTD_EndDirective mode, PgbError *err)
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
			if (stage_pass(&z->base, z->out, out.pos, err) != 0)
				return -1;
			z->out_bytes += out.pos;
		}
		if (mode == ZSTD_e_continue ? in.pos == in.size : rc == 0)
			return 0;
	}
}

static int
compress_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	if (len == 0)
		return 0;
	return compress_step((ZstdCompress *) s, buf, len, ZSTD_e_continue, err);
}

static int
compress_finish(Stage *s, PgbError *err)
{
	return compress_step((ZstdCompress *) s, NULL, 0, ZSTD_e_end, err);
}

static void
compress_free(Stage *s)
{
	ZstdCompress *z = (ZstdCompress *) s;

	ZSTD_freeCCtx(z->cctx);
	free(z->out);
	free(z);
}

static const StageOps compress_ops = {compress_write, compress_finish, compress_free};

Stage *
zstd_compress_stage_new(int level, Stage *next, PgbError *err)
{
	ZstdCompress *z = stage_new(sizeof(ZstdCompress), &compress_ops, next, err);

	if (z == NULL)
		return NULL;
	z->cctx = ZSTD_createCCtx();
	z->cap = ZSTD_CStreamOutSize();
	z->out = malloc(z->cap);
	if (z->cctx == NULL || z->out == NULL)
	{
		compress_free(&z->base);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	return &z->base;
}

void
zstd_compress_stage_set_threads(Stage *s, int threads)
{
	ZSTD_CCtx  *cctx = ((ZstdCompress *) s)->cctx;

	if (threads <= 1 || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, threads)))
		return;
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, ZSTD_MT_JOB_SIZE);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_overlapLog, 1);	/* 1: no overlap */
}

uint64_t
zstd_compress_stage_out(const Stage *s)
{
	return ((const ZstdCompress *) s)->out_bytes;
}

static int
decompress_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	ZstdDecompress *z = (ZstdDecompress *) s;
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
		if (out.pos > 0 && stage_pass(s, z->out, out.pos, err) != 0)
			return -1;
		flush = out.pos == out.size && rc != 0;
	}
	return 0;
}

static int
decompress_finish(Stage *s, PgbError *err)
{
	ZstdDecompress *z = (ZstdDecompress *) s;

	if (!z->started || z->pending != 0)
		return pgb_error(err, EXIT_CORRUPT, "compressed data is truncated");
	return 0;
}

static void
decompress_free(Stage *s)
{
	ZstdDecompress *z = (ZstdDecompress *) s;

	ZSTD_freeDCtx(z->dctx);
	free(z->out);
	free(z);
}

static const StageOps decompress_ops = {decompress_write, decompress_finish, decompress_free};

Stage *
zstd_decompress_stage_new(Stage *next, PgbError *err)
{
	ZstdDecompress *z = stage_new(sizeof(ZstdDecompress), &decompress_ops, next, err);

	if (z == NULL)
		return NULL;
	z->dctx = ZSTD_createDCtx();
	z->cap = ZSTD_DStreamOutSize();
	z->out = malloc(z->cap);
	if (z->dctx == NULL || z->out == NULL)
	{
		decompress_free(&z->base);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	return &z->base;
}

void
zstd_decompress_stage_reset(Stage *s)
{
	ZstdDecompress *z = (ZstdDecompress *) s;

	ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
	z->pending = 0;
	z->started = false;
}
