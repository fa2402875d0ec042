/*
 * Streaming zstd compression and decompression into a ByteSink, with bounded
 * buffers: input of any size is pushed through in pieces, output leaves in
 * pieces, nothing holds a whole file.
 */
#ifndef PGBKP_ZSTDIO_H
#define PGBKP_ZSTDIO_H

#include <stdint.h>
#include "io/sink.h"

typedef struct ZstdCompressor ZstdCompressor;
typedef struct ZstdDecompressor ZstdDecompressor;

/* level 1..19; the frame carries zstd's own content checksum too. */
ZstdCompressor *zstd_compressor_new(int level, ByteSink sink, void *arg);
int			zstd_compressor_write(ZstdCompressor *z, const void *buf, size_t len, PgbError *err);
/* Flush and end the current frame; the compressor can start a new frame after. */
int			zstd_compressor_end(ZstdCompressor *z, PgbError *err);
/* Bytes emitted to the sink since creation. */
uint64_t	zstd_compressor_out_bytes(const ZstdCompressor *z);
void		zstd_compressor_free(ZstdCompressor *z);

ZstdDecompressor *zstd_decompressor_new(ByteSink sink, void *arg);
/* Feed compressed bytes; decompressed bytes go to the sink.  EXIT_CORRUPT on bad data. */
int			zstd_decompressor_write(ZstdDecompressor *z, const void *buf, size_t len, PgbError *err);
/* EXIT_CORRUPT unless the input ended exactly at the end of a frame. */
int			zstd_decompressor_end(ZstdDecompressor *z, PgbError *err);
/* Make ready for a new, independent stream. */
void		zstd_decompressor_reset(ZstdDecompressor *z);
void		zstd_decompressor_free(ZstdDecompressor *z);

#endif
