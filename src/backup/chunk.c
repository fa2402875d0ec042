/* Block maps and deltas (see chunk.h). */
#include <stdlib.h>
#include <string.h>

#include "backup/chunk.h"
#include "common/byteorder.h"
#include "io/fill.h"
#include "io/sha256.h"

bool
chunk_is_relation(const char *path)
{
	const char *name = strrchr(path, '/');

	if (strncmp(path, "base/", 5) != 0 && strncmp(path, "global/", 7) != 0 &&
		strncmp(path, "pg_tblspc/", 10) != 0)
		return false;
	name = name ? name + 1 : path;
	return name[0] >= '0' && name[0] <= '9';
}

uint32_t
chunk_nblocks(uint64_t len, uint32_t block_size)
{
	return (uint32_t) ((len + block_size - 1) / block_size);
}

/* ---------------------------------------------------- block map stage */

typedef struct BlockMapStage
{
	Stage		base;
	Sha256	   *h;
	uint32_t	block_size;
	uint32_t	in_block;		/* bytes of the current block hashed so far */
	uint32_t	n;				/* entries done */
	uint32_t	max;
	uint64_t   *map;
	bool		own_map;
} BlockMapStage;

static void
block_done(BlockMapStage *b)
{
	uint8_t		digest[SHA256_LEN];

	sha256_final(b->h, digest);
	sha256_reset(b->h);
	if (b->n < b->max)
		b->map[b->n] = le_get_u64(digest);
	b->n++;
	b->in_block = 0;
}

static int
blockmap_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	BlockMapStage *b = (BlockMapStage *) s;
	const uint8_t *p = buf;
	size_t		left = len;

	while (left > 0)
	{
		size_t		take = b->block_size - b->in_block < left ? b->block_size - b->in_block : left;

		sha256_update(b->h, p, take);
		b->in_block += (uint32_t) take;
		p += take;
		left -= take;
		if (b->in_block == b->block_size)
			block_done(b);
	}
	if (b->n > b->max)
		return pgb_error(err, EXIT_INTERNAL, "block map of more than %u blocks", b->max);
	return stage_pass(s, buf, len, err);
}

static int
blockmap_finish(Stage *s, PgbError *err)
{
	BlockMapStage *b = (BlockMapStage *) s;

	/* the partial last block is hashed as it is, not padded */
	if (b->in_block > 0)
		block_done(b);
	if (b->n > b->max)
		return pgb_error(err, EXIT_INTERNAL, "block map of more than %u blocks", b->max);
	return 0;
}

static void
blockmap_free(Stage *s)
{
	BlockMapStage *b = (BlockMapStage *) s;

	sha256_free(b->h);
	if (b->own_map)
		free(b->map);
	free(b);
}

static const StageOps blockmap_ops = {blockmap_write, blockmap_finish, blockmap_free};

/* map: max entries of the caller's, or NULL to allocate them. */
static Stage *
blockmap_new(Stage *next, uint32_t block_size, uint32_t max, uint64_t *map, PgbError *err)
{
	BlockMapStage *b = stage_new(sizeof(BlockMapStage), &blockmap_ops, next, err);

	if (b == NULL)
		return NULL;
	b->block_size = block_size;
	b->max = max;
	b->map = map ? map : malloc(sizeof(uint64_t) * (max ? max : 1));
	b->own_map = map == NULL;
	b->h = sha256_new();
	if (b->map == NULL || b->h == NULL)
	{
		blockmap_free(&b->base);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	return &b->base;
}

Stage *
blockmap_stage_new(Stage *next, uint32_t block_size, uint32_t max_blocks, PgbError *err)
{
	return blockmap_new(next, block_size, max_blocks, NULL, err);
}

const uint64_t *
blockmap_stage_map(const Stage *s, uint32_t *n)
{
	*n = ((const BlockMapStage *) s)->n;
	return ((const BlockMapStage *) s)->map;
}

void
blockmap_stage_reset(Stage *s)
{
	BlockMapStage *b = (BlockMapStage *) s;

	sha256_reset(b->h);
	b->n = 0;
	b->in_block = 0;
}

int
chunk_block_map(const uint8_t *data, uint64_t len, uint32_t block_size, uint64_t *map)
{
	PgbError	err;
	uint32_t	n = chunk_nblocks(len, block_size);
	Stage	   *b = blockmap_new(NULL, block_size, n, map, &err);
	int			rc;

	if (b == NULL)
		return -1;
	rc = stage_write_pieces(b, data, (size_t) len, 0, &err) == 0 && stage_finish(b, &err) == 0 ? 0 : -1;
	stage_free(b);
	return rc;
}

void
chunk_map_encode(const uint64_t *map, uint32_t n, uint8_t *out)
{
	for (uint32_t i = 0; i < n; i++)
		le_put_u64(out + (size_t) i * 8, map[i]);
}

int
chunk_map_decode(const uint8_t *buf, size_t len, uint64_t **map, uint32_t *n, PgbError *err)
{
	if (len % BLOCK_HASH_LEN != 0)
		return pgb_error(err, EXIT_CORRUPT, "block map of %zu bytes is not a whole number of entries", len);
	*n = (uint32_t) (len / BLOCK_HASH_LEN);
	*map = malloc(len ? len : 1);
	if (*map == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (uint32_t i = 0; i < *n; i++)
		(*map)[i] = le_get_u64(buf + (size_t) i * 8);
	return 0;
}

void
chunk_delta_record(uint32_t block, uint32_t len, uint8_t out[DELTA_RECORD_HEADER])
{
	le_put_u32(out, block);
	le_put_u32(out + 4, len);
}

int
delta_apply_sink(void *arg, const void *data, size_t len, PgbError *err)
{
	DeltaApply *d = arg;
	const uint8_t *p = data;

	while (len > 0)
	{
		if (d->left == 0)
		{
			uint32_t	block,
						blen;

			if (!fill_from(d->head, &d->head_len, DELTA_RECORD_HEADER, &p, &len))
				return 0;
			d->head_len = 0;
			block = le_get_u32(d->head);
			blen = le_get_u32(d->head + 4);
			d->at = (uint64_t) block * d->block_size;
			if (blen == 0 || blen > d->block_size || d->at + blen > d->cap)
				return pgb_error(err, EXIT_CORRUPT, "delta record for block %u (%u bytes) lies outside the chunk", block, blen);
			d->left = blen;
			if (d->at + blen > d->high)
				d->high = d->at + blen;
			continue;
		}
		{
			size_t		take = len < d->left ? len : d->left;

			memcpy(d->buf + d->at, p, take);
			d->at += take;
			d->left -= (uint32_t) take;
			p += take;
			len -= take;
		}
	}
	return 0;
}

int
delta_apply_finish(const DeltaApply *d, PgbError *err)
{
	if (d->left != 0 || d->head_len != 0)
		return pgb_error(err, EXIT_CORRUPT, "delta ends inside a record");
	return 0;
}
