/*
 * Storing a backup's content: one chunk of one file into a worker's bundle,
 * as a whole frame, as the blocks that changed since the parent backup, or
 * as a reference to the parent's identical chunk (repo/FORMAT.md,
 * "Chunks").  A chunk no parent has streams from the file through
 * sha256 -> block map -> zstd -> bundle without being held in memory; one
 * the parent has is read into the worker's chunk buffer first, because
 * whether it is stored at all is known only at its end.
 */
#ifndef PGBKP_STORE_H
#define PGBKP_STORE_H

#include "backup/bundle.h"
#include "backup/parentstream.h"
#include "repo/catalog.h"

/* What every worker shares. */
typedef struct BackupStore
{
	Repo	   *repo;
	const Catalog *cat;			/* whose backups hold the parent's block maps (headers enough) */
	uint32_t	block_size;
	bool		check_pages;	/* data checksums are on: verify each relation page */
	Lsn			start_lsn;		/* pages written since (LSN at or past it) are not checked */
} BackupStore;

#define STORE_BAD_PAGES 8

typedef struct PageFailures
{
	uint32_t	checked;		/* pages verified */
	uint32_t	total;			/* pages that failed, re-read once */
	uint32_t	nblocks;
	uint32_t	blocks[STORE_BAD_PAGES];	/* the first ones, block numbers in the relation */
} PageFailures;

/* One worker's bundle and scratch buffers. */
typedef struct StoreWorker
{
	BundleWriter *bw;
	uint8_t    *chunk;			/* MANIFEST_CHUNK_SIZE, allocated when first needed */
	uint8_t    *piece;			/* read buffer */
} StoreWorker;

typedef struct StoreResult
{
	uint64_t	len;			/* bytes read */
	bool		gone;			/* the file vanished before it was opened */
	/* set when the parent's block map was damaged (the chunk was stored whole) */
	PgbError	warning;
	PageFailures pages;			/* with check_pages, for relation files */
} StoreResult;

int			store_worker_init(StoreWorker *w, Repo *repo, const char *label, int level,
							  uint64_t bundle_bytes, BundleIds *ids, PgbError *err);
void		store_worker_free(StoreWorker *w);

/*
 * Store chunk c of the file at full (path rel in the backup) into ch
 * (kind, size, SHA-256 and frame positions); pch: the parent's same chunk
 * (backup/parentstream.h), or NULL.
 */
int			store_chunk(const BackupStore *bs, StoreWorker *w, const char *full, const char *rel,
						int c, const ParentChunk *pch, ManifestChunk *ch, StoreResult *res, PgbError *err);

/* Add a file whose content is in memory (backup_label, tablespace_map) as one stored chunk. */
int			store_mem_file(BundleWriter *bw, Manifest *m, const char *path, const char *content, PgbError *err);

/*
 * After a file's chunks are stored: false if it vanished (it is left out);
 * else empty trailing chunks are dropped, a file that shrank ends at its
 * first short chunk, and its size is its chunks'.
 */
bool		store_settle_file(ManifestFile *f);

#endif
