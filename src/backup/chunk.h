/*
 * Chunks and blocks: the units of incremental backup (repo/FORMAT.md,
 * "Chunks").  A relation file's chunk carries a block hash map (the first 8
 * bytes of the SHA-256 of every block); the next backup hashes the chunk's
 * blocks again and stores only those whose hash differs, as a delta of
 * records [u32 LE block][u32 LE length][bytes].  Change is detected by
 * content, never by timestamps or page LSNs.
 */
#ifndef PGBKP_CHUNK_H
#define PGBKP_CHUNK_H

#include <stdbool.h>
#include <stdint.h>
#include "io/stream.h"

#define BLOCK_HASH_LEN 8
#define DELTA_RECORD_HEADER 8

/* Files whose chunks get block maps: relation files under base/, global/, pg_tblspc/. */
bool		chunk_is_relation(const char *path);

/* Number of blocks (the last may be partial) in len bytes. */
uint32_t	chunk_nblocks(uint64_t len, uint32_t block_size);

/* map[i] = first 8 bytes of SHA-256 of block i, little-endian u64; -1 when out of memory. */
int			chunk_block_map(const uint8_t *data, uint64_t len, uint32_t block_size, uint64_t *map);

/*
 * The same map as a stage (an observer): entries for at most max_blocks
 * blocks, final after stage_finish; reset for the next chunk.
 */
Stage	   *blockmap_stage_new(Stage *next, uint32_t block_size, uint32_t max_blocks, PgbError *err);
const uint64_t *blockmap_stage_map(const Stage *s, uint32_t *n);
void		blockmap_stage_reset(Stage *s);

/* Serialize / parse a map: 8 bytes LE per block. */
void		chunk_map_encode(const uint64_t *map, uint32_t n, uint8_t *out);
int			chunk_map_decode(const uint8_t *buf, size_t len, uint64_t **map, uint32_t *n, PgbError *err);

/* The header of one delta record. */
void		chunk_delta_record(uint32_t block, uint32_t len, uint8_t out[DELTA_RECORD_HEADER]);

/*
 * Applies a delta stream to a chunk buffer as it is decompressed (a ByteSink
 * over DeltaApply).  Blocks land at block * block_size; a record outside the
 * buffer is EXIT_CORRUPT.
 */
typedef struct DeltaApply
{
	uint8_t    *buf;
	uint64_t	cap;			/* bytes available in buf */
	uint32_t	block_size;
	uint8_t		head[DELTA_RECORD_HEADER];
	size_t		head_len;
	uint64_t	at;				/* where the current record's bytes go */
	uint32_t	left;			/* bytes of the current record still due */
	uint64_t	high;			/* end of the highest block written */
} DeltaApply;

int			delta_apply_sink(void *arg, const void *data, size_t len, PgbError *err);
/* EXIT_CORRUPT if the stream ended inside a record. */
int			delta_apply_finish(const DeltaApply *d, PgbError *err);

#endif
