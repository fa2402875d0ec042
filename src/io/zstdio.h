/*
 * zstd compression and decompression as stream stages, with bounded
 * buffers: input of any size is pushed through in pieces, output leaves in
 * pieces into the next stage, nothing holds a whole file.
 */
#ifndef PGBKP_ZSTDIO_H
#define PGBKP_ZSTDIO_H

#include <stdint.h>
#include "io/stream.h"

/*
 * Compression at level 1..19; the frame carries zstd's own content
 * checksum too.  stage_finish ends the current frame (flushing it into
 * next); the stage can start a new frame after.
 */
Stage	   *zstd_compress_stage_new(int level, Stage *next, PgbError *err);
/*
 * Compress with threads worker threads (0 or 1: in the caller's thread), in
 * independent jobs of 1 MiB without overlap: the output is still one zstd
 * frame any reader decodes, a little larger (0.4 % on WAL) than one thread
 * makes.  Without zstd's thread support it stays in the caller's thread.
 * Call before the first write.
 */
void		zstd_compress_stage_set_threads(Stage *s, int threads);
/* Bytes emitted to next since creation. */
uint64_t	zstd_compress_stage_out(const Stage *s);

/*
 * Decompression: compressed bytes in, content to next; EXIT_CORRUPT on bad
 * data.  stage_finish is EXIT_CORRUPT unless the input ended exactly at the
 * end of a frame.
 */
Stage	   *zstd_decompress_stage_new(Stage *next, PgbError *err);
/* Make ready for a new, independent stream. */
void		zstd_decompress_stage_reset(Stage *s);

#endif
