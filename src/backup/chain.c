/* Backup chains (see chain.h). */
#include <stdlib.h>
#include <string.h>

#include "backup/bundle.h"
#include "backup/chain.h"
#include "backup/chunk.h"
#include "io/membuf.h"

#define MAX_CHAIN 1000

const Manifest *
chain_parent(const Catalog *cat, const Manifest *m)
{
	return m->parent[0] ? catalog_find(cat, m->parent) : NULL;
}

int
chain_check(const Catalog *cat, const Manifest *m, PgbError *err)
{
	for (int depth = 0; m->parent[0]; depth++)
	{
		const Manifest *p = catalog_find(cat, m->parent);

		if (p == NULL)
			return pgb_error(err, EXIT_CORRUPT, "backup %s depends on backup %s, which is missing or unreadable",
							 m->label, m->parent);
		if (depth > MAX_CHAIN)
			return pgb_error(err, EXIT_CORRUPT, "backup %s has a parent chain longer than %d", m->label, MAX_CHAIN);
		m = p;
	}
	return 0;
}

typedef struct FixedSink
{
	uint8_t    *buf;
	uint64_t	cap;
	uint64_t	len;
} FixedSink;

static int
to_fixed(void *arg, const void *data, size_t len, PgbError *err)
{
	FixedSink  *f = arg;

	if (f->len + len > f->cap)
		return pgb_error(err, EXIT_CORRUPT, "chunk content is larger than recorded");
	memcpy(f->buf + f->len, data, len);
	f->len += len;
	return 0;
}

/* The same file in the parent backup, for a chunk that refers to it. */
static int
parent_entry(const Catalog *cat, const Manifest *m, const char *path, int c,
			 const Manifest **pm, const ManifestFile **pf, PgbError *err)
{
	int			i;

	*pm = chain_parent(cat, m);
	if (*pm == NULL)
		return pgb_error(err, EXIT_CORRUPT, "\"%s\" in backup %s refers to backup %s, which is missing or unreadable",
						 path, m->label, m->parent[0] ? m->parent : "(none)");
	i = manifest_find_file(*pm, path);
	if (i < 0 || c >= (*pm)->files[i].nchunks)
		return pgb_error(err, EXIT_CORRUPT, "\"%s\" in backup %s refers to chunk %d in backup %s, which does not have it",
						 path, m->label, c, (*pm)->label);
	*pf = &(*pm)->files[i];
	return 0;
}

static int
materialize(Repo *repo, const Catalog *cat, const Manifest *m, const ManifestFile *f, int c,
			uint8_t *buf, uint64_t cap, uint64_t *len, int depth, PgbError *err)
{
	const ManifestChunk *ch = &f->chunks[c];
	const Manifest *pm = NULL;
	const ManifestFile *pf = NULL;

	if (depth > MAX_CHAIN)
		return pgb_error(err, EXIT_CORRUPT, "chain of backup %s is too long", m->label);
	if (ch->kind == CHUNK_STORED)
	{
		FixedSink	fs = {buf, cap, 0};

		if (bundle_read_frame(repo, m->label, ch->bundle, ch->offset, ch->length, to_fixed, &fs, err) != 0)
			return -1;
		*len = fs.len;
		return 0;
	}
	if (parent_entry(cat, m, f->path, c, &pm, &pf, err) != 0 ||
		materialize(repo, cat, pm, pf, c, buf, cap, len, depth + 1, err) != 0)
		return -1;
	if (ch->kind == CHUNK_DELTA)
	{
		DeltaApply	d = {.buf = buf, .cap = cap, .block_size = m->block_size};

		if (ch->size > cap)
			return pgb_error(err, EXIT_CORRUPT, "chunk of \"%s\" is larger than a chunk can be", f->path);
		if (ch->size > *len)
			memset(buf + *len, 0, ch->size - *len);
		if (bundle_read_frame(repo, m->label, ch->bundle, ch->offset, ch->length, delta_apply_sink, &d, err) != 0 ||
			delta_apply_finish(&d, err) != 0)
			return -1;
		*len = ch->size;
	}
	return 0;
}

typedef struct HashSink
{
	Sha256	   *hash;
	uint64_t	size;
	ByteSink	sink;
	void	   *arg;
} HashSink;

static int
to_hash(void *arg, const void *data, size_t len, PgbError *err)
{
	HashSink   *h = arg;

	sha256_update(h->hash, data, len);
	h->size += len;
	return h->sink(h->arg, data, len, err);
}

int
chain_read_chunk(Repo *repo, const Catalog *cat, const Manifest *m, const ManifestFile *f,
				 int c, uint8_t *buf, ByteSink sink, void *arg, PgbError *err)
{
	const ManifestChunk *ch = &f->chunks[c];
	HashSink	h = {sha256_new(), 0, sink, arg};
	uint8_t		digest[SHA256_LEN];
	int			rc;

	if (h.hash == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if (ch->kind == CHUNK_STORED)
		rc = bundle_read_frame(repo, m->label, ch->bundle, ch->offset, ch->length, to_hash, &h, err);
	else
	{
		uint64_t	len = 0;

		rc = materialize(repo, cat, m, f, c, buf, MANIFEST_CHUNK_SIZE, &len, 0, err);
		if (rc == 0)
			rc = to_hash(&h, buf, (size_t) len, err);
	}
	sha256_final(h.hash, digest);
	sha256_free(h.hash);
	if (rc != 0)
		return err->code == EXIT_CORRUPT ? pgb_error_context(err, "file \"%s\" of backup %s", f->path, m->label) : -1;
	if (h.size != ch->size)
		return pgb_error(err, EXIT_CORRUPT, "file \"%s\" of backup %s: chunk %d has %llu bytes, the manifest says %llu",
						 f->path, m->label, c, (unsigned long long) h.size, (unsigned long long) ch->size);
	if (memcmp(digest, ch->sha256, SHA256_LEN) != 0)
		return pgb_error(err, EXIT_CORRUPT, "file \"%s\" of backup %s: SHA-256 of chunk %d does not match the manifest",
						 f->path, m->label, c);
	return 0;
}

int
chain_block_map(Repo *repo, const Catalog *cat, const Manifest *m, const char *path,
				int c, uint64_t **map, uint32_t *n, PgbError *err)
{
	*map = NULL;
	*n = 0;
	for (int depth = 0; m != NULL && depth <= MAX_CHAIN; depth++)
	{
		int			i = manifest_find_file(m, path);
		const ManifestChunk *ch;
		MemBuf		b = {0};
		int			rc;

		if (i < 0 || c >= m->files[i].nchunks || m->chunk_size != MANIFEST_CHUNK_SIZE)
			return 0;
		ch = &m->files[i].chunks[c];
		if (ch->kind != CHUNK_REF)
		{
			if (ch->map_bundle == 0)
				return 0;
			if (bundle_read_frame(repo, m->label, ch->map_bundle, ch->map_offset, ch->map_length,
								  membuf_sink, &b, err) != 0)
				return -1;
			rc = chunk_map_decode((const uint8_t *) (b.buf ? b.buf : ""), b.len, map, n, err);
			membuf_free(&b);
			return rc;
		}
		m = chain_parent(cat, m);
	}
	return 0;
}
