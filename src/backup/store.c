/* Storing chunks of a backup (see store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/chain.h"
#include "backup/chunk.h"
#include "backup/store.h"
#include "common/byteorder.h"
#include "io/pagecsum.h"
#include "io/fdio.h"
#include "io/sha256.h"

#define STORE_PIECE (1024 * 1024)

int
store_worker_init(StoreWorker *w, Repo *repo, const char *label, int level,
				  uint64_t bundle_bytes, BundleIds *ids, PgbError *err)
{
	memset(w, 0, sizeof(*w));
	if ((w->bw = bundle_writer_new(repo, label, level, bundle_bytes, ids, err)) == NULL)
		return -1;
	if ((w->piece = malloc(STORE_PIECE)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	return 0;
}

void
store_worker_free(StoreWorker *w)
{
	bundle_writer_free(w->bw);
	free(w->chunk);
	free(w->piece);
	memset(w, 0, sizeof(*w));
}

/* Open a file to back up; *fd is -1 when it vanished. */
static int
open_source(const char *path, int *fd, PgbError *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (*fd < 0 && errno == EPERM)
		*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", path);
	return 0;
}

/* Store the block map of a relation chunk as its own frame. */
static int
store_map(BundleWriter *bw, const uint64_t *map, uint32_t n, ManifestChunk *ch, PgbError *err)
{
	uint8_t    *bytes = malloc((size_t) n * BLOCK_HASH_LEN + 1);
	int			rc;

	if (bytes == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	chunk_map_encode(map, n, bytes);
	rc = bundle_put(bw, bytes, (size_t) n * BLOCK_HASH_LEN, &ch->map_bundle, &ch->map_offset, &ch->map_length, err);
	free(bytes);
	return rc;
}

/* Only the blocks whose hash differs from the parent's map, as delta records. */
static int
store_delta(BundleWriter *bw, const uint8_t *buf, uint64_t len, uint32_t block_size,
			const uint64_t *map, uint32_t n, const uint64_t *pmap, uint32_t pn,
			ManifestChunk *ch, PgbError *err)
{
	if (bundle_frame_begin(bw, &ch->bundle, &ch->offset, err) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	off = (uint64_t) i * block_size;
		uint32_t	blen = (uint32_t) (len - off < block_size ? len - off : block_size);
		uint8_t		rec[DELTA_RECORD_HEADER];

		if (i < pn && map[i] == pmap[i])
			continue;
		chunk_delta_record(i, blen, rec);
		if (bundle_frame_write(bw, rec, sizeof(rec), err) != 0 ||
			bundle_frame_write(bw, buf + off, blen, err) != 0)
			return -1;
	}
	return bundle_frame_end(bw, &ch->length, err);
}

/* The relation block number of chunk c's first page: segment files hold 1 GiB each. */
static uint32_t
chunk_first_block(const char *rel, int c)
{
	const char *base = strrchr(rel, '/');
	const char *dot = strchr(base ? base : rel, '.');
	uint32_t	seg = dot ? (uint32_t) strtoul(dot + 1, NULL, 10) : 0;

	return seg * PG_RELSEG_BLOCKS + (uint32_t) c * (MANIFEST_CHUNK_SIZE / PG_PAGE_SIZE);
}

static void
page_failed(PageFailures *pf, uint32_t blkno)
{
	if (pf->nblocks < STORE_BAD_PAGES)
		pf->blocks[pf->nblocks++] = blkno;
	pf->total++;
}

/*
 * A page that failed as it streamed by is read again by itself: it may have
 * been torn by a write while it was read.  It counts as bad only when it
 * fails again and it was not written since the backup started (its LSN is
 * before start_lsn; WAL replay rewrites the newer ones).
 */
static void
recheck_page(const BackupStore *bs, int fd, uint64_t off, uint32_t blkno, PageFailures *pf)
{
	uint8_t		page[PG_PAGE_SIZE];
	Lsn			lsn;

	if (pread(fd, page, sizeof(page), (off_t) off) != (ssize_t) sizeof(page))
		return;					/* truncated since: replay recreates it */
	lsn = ((Lsn) le_get_u32(page) << 32) | le_get_u32(page + 4);
	if (lsn >= bs->start_lsn || pg_page_verify(page, blkno))
		return;
	page_failed(pf, blkno);
}

/* Every page of chunk c (len bytes from the file at fd; buf: its content, or NULL to read it). */
static void
check_chunk_pages(const BackupStore *bs, int fd, const char *rel, int c, const uint8_t *buf, uint64_t len,
				  PageFailures *pf)
{
	uint32_t	blk0 = chunk_first_block(rel, c);
	uint64_t	base = (uint64_t) c * MANIFEST_CHUNK_SIZE;

	for (uint64_t i = 0; (i + 1) * PG_PAGE_SIZE <= len; i++)
	{
		pf->checked++;
		if (buf == NULL || !pg_page_verify(buf + i * PG_PAGE_SIZE, blk0 + (uint32_t) i))
			recheck_page(bs, fd, base + i * PG_PAGE_SIZE, blk0 + (uint32_t) i, pf);
	}
}

/*
 * A chunk no parent has: file -> sha256 -> [page check ->] [block map ->]
 * zstd -> bundle, then the map as its own frame.
 */
static int
stream_chunk(const BackupStore *bs, StoreWorker *w, int fd, const char *full, const char *rel,
			 int c, ManifestChunk *ch, uint64_t *len, PageFailures *pf, PgbError *err)
{
	Stage	   *frame = bundle_frame_stage(w->bw);
	Stage	   *map = NULL,
			   *pages = NULL,
			   *hash = NULL;
	bool		check = bs->check_pages && chunk_is_relation(rel);
	const uint64_t *entries;
	uint32_t	n;
	int			rc = -1;

	if (chunk_is_relation(rel) &&
		(map = blockmap_stage_new(frame, bs->block_size, chunk_nblocks(MANIFEST_CHUNK_SIZE, bs->block_size), err)) == NULL)
		return -1;
	if (check && (pages = pagecheck_stage_new(map ? map : frame, chunk_first_block(rel, c), err)) == NULL)
		goto done;
	if ((hash = sha256_stage_new(pages ? pages : map ? map : frame, err)) == NULL)
		goto done;
	if (bundle_frame_begin(w->bw, &ch->bundle, &ch->offset, err) != 0 ||
		fd_pump(fd, full, (uint64_t) c * MANIFEST_CHUNK_SIZE, MANIFEST_CHUNK_SIZE, w->piece, STORE_PIECE,
				hash, len, err) != 0 ||
		stage_finish_chain(hash, frame, err) != 0 ||
		bundle_frame_end(w->bw, &ch->length, err) != 0)
		goto done;
	ch->kind = CHUNK_STORED;
	ch->size = *len;
	sha256_stage_result(hash, ch->sha256, NULL);
	if (pages != NULL)
	{
		PageCheckResult pr;

		pagecheck_stage_result(pages, &pr);
		if (pr.bad == 0)
			pf->checked += pr.pages;
		else
			check_chunk_pages(bs, fd, rel, c, NULL, *len, pf);	/* read each again, by itself */
	}
	entries = map ? blockmap_stage_map(map, &n) : NULL;
	if (map != NULL && *len > 0 && store_map(w->bw, entries, n, ch, err) != 0)
		goto done;
	rc = 0;
done:
	stage_free_chain(hash ? hash : pages ? pages : map, frame);
	return rc;
}

/* A chunk the parent has: read it whole (file -> sha256 -> buffer). */
static int
read_chunk(StoreWorker *w, int fd, const char *full, int c, ManifestChunk *ch, uint64_t *len, PgbError *err)
{
	Stage	   *fixed,
			   *hash = NULL;
	int			rc = -1;

	if (w->chunk == NULL && (w->chunk = malloc(MANIFEST_CHUNK_SIZE)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if ((fixed = fixed_stage_new(w->chunk, MANIFEST_CHUNK_SIZE, err)) == NULL ||
		(hash = sha256_stage_new(fixed, err)) == NULL)
		goto done;
	if (fd_pump(fd, full, (uint64_t) c * MANIFEST_CHUNK_SIZE, MANIFEST_CHUNK_SIZE, w->piece, STORE_PIECE,
				hash, len, err) != 0 ||
		stage_finish(hash, err) != 0)
		goto done;
	ch->size = *len;
	sha256_stage_result(hash, ch->sha256, NULL);
	rc = 0;
done:
	stage_free_chain(hash ? hash : fixed, NULL);
	return rc;
}

/* The block map of the parent's chunk; a damaged one is a warning and no map. */
static int
parent_map(const BackupStore *bs, const ParentChunk *pc, const char *rel, int c, uint64_t **pmap,
		   uint32_t *pn, StoreResult *res, PgbError *err)
{
	ManifestChunk where = {.map_bundle = pc->map_bundle, .map_offset = pc->map_offset,
	.map_length = pc->map_length};
	MemBuf		b = {0};
	int			rc;

	*pmap = NULL;
	*pn = 0;
	if (pc->map_bundle == 0 || pc->holder < 0 || pc->holder >= bs->cat->count)
		return 0;
	rc = chain_read_map(bs->repo, &bs->cat->backups[pc->holder], &where, &b, err) == 0 &&
		chunk_map_decode((const uint8_t *) (b.buf ? b.buf : ""), b.len, pmap, pn, err) == 0 ? 0 : -1;
	membuf_free(&b);
	if (rc == 0)
		return 0;
	if (err->code != EXIT_CORRUPT)
		return -1;
	/* the parent's map is damaged: this chunk is stored whole, the backup goes on */
	pgb_error(&res->warning, EXIT_CORRUPT, "%s; storing chunk %d of \"%s\" whole", err->msg, c, rel);
	pgb_error_clear(err);
	*pmap = NULL;
	*pn = 0;
	return 0;
}

/* A chunk read into w->chunk: reference, delta or whole. */
static int
store_read(const BackupStore *bs, StoreWorker *w, const char *rel, int c, const ParentChunk *pch,
		   ManifestChunk *ch, StoreResult *res, PgbError *err)
{
	uint64_t	len = ch->size;
	uint32_t	bsz = bs->block_size;
	uint64_t   *map = NULL,
			   *pmap = NULL;
	uint32_t	n = 0,
				pn = 0;
	int			rc = -1;

	if (pch->size == len && memcmp(pch->sha256, ch->sha256, SHA256_LEN) == 0)
	{
		ch->kind = CHUNK_REF;
		return 0;
	}
	if (chunk_is_relation(rel) && len > 0)
	{
		n = chunk_nblocks(len, bsz);
		if ((map = malloc(sizeof(uint64_t) * n)) == NULL || chunk_block_map(w->chunk, len, bsz, map) != 0)
		{
			pgb_error(err, EXIT_INTERNAL, "out of memory");
			goto done;
		}
		if (parent_map(bs, pch, rel, c, &pmap, &pn, res, err) != 0)
			goto done;
	}
	if (pmap != NULL)
	{
		uint32_t	changed = 0;

		for (uint32_t i = 0; i < n; i++)
			changed += i >= pn || map[i] != pmap[i];
		/* mostly rewritten: storing it whole restores faster and costs the same */
		if (changed * 2 <= n)
		{
			ch->kind = CHUNK_DELTA;
			if (store_delta(w->bw, w->chunk, len, bsz, map, n, pmap, pn, ch, err) == 0 &&
				store_map(w->bw, map, n, ch, err) == 0)
				rc = 0;
			goto done;
		}
	}
	ch->kind = CHUNK_STORED;
	if (bundle_put(w->bw, w->chunk, (size_t) len, &ch->bundle, &ch->offset, &ch->length, err) != 0 ||
		(map != NULL && store_map(w->bw, map, n, ch, err) != 0))
		goto done;
	rc = 0;
done:
	free(map);
	free(pmap);
	return rc;
}

int
store_chunk(const BackupStore *bs, StoreWorker *w, const char *full, const char *rel,
			int c, const ParentChunk *pch, ManifestChunk *ch, StoreResult *res, PgbError *err)
{
	int			fd;
	int			rc;

	memset(res, 0, sizeof(*res));
	if (open_source(full, &fd, err) != 0)
		return -1;
	if (fd < 0)
	{
		/* dropped by the server while we copied: WAL replay recreates nothing of it */
		res->gone = true;
		return 0;
	}
	if (pch == NULL)
		rc = stream_chunk(bs, w, fd, full, rel, c, ch, &res->len, &res->pages, err);
	else
	{
		rc = read_chunk(w, fd, full, c, ch, &res->len, err) != 0 ? -1 :
			store_read(bs, w, rel, c, pch, ch, res, err);
		if (rc == 0 && bs->check_pages && chunk_is_relation(rel))
			check_chunk_pages(bs, fd, rel, c, w->chunk, res->len, &res->pages);
	}
	close(fd);
	return rc;
}

int
store_mem_file(BundleWriter *bw, Manifest *m, const char *path, const char *content, PgbError *err)
{
	ManifestFile *mf = manifest_add_file(m, path, 1, err);
	ManifestChunk *ch;
	size_t		len = strlen(content);
	Stage	   *hash;
	int			rc;

	if (mf == NULL)
		return -1;
	ch = &mf->chunks[0];
	mf->mode = 0600;
	mf->mtime = m->stop_time / 1000000;
	mf->size = len;
	ch->kind = CHUNK_STORED;
	ch->size = len;
	m->size += len;
	/* content -> sha256 -> zstd -> bundle */
	if ((hash = sha256_stage_new(bundle_frame_stage(bw), err)) == NULL)
		return -1;
	rc = bundle_frame_begin(bw, &ch->bundle, &ch->offset, err) == 0 &&
		stage_write(hash, content, len, err) == 0 &&
		stage_finish(hash, err) == 0 &&
		bundle_frame_end(bw, &ch->length, err) == 0 ? 0 : -1;
	sha256_stage_result(hash, ch->sha256, NULL);
	stage_free(hash);
	return rc;
}

bool
store_settle_file(ManifestFile *f)
{
	if (f->vanished)
		return false;
	/*
	 * A file that shrank while it was read ends at its first short chunk:
	 * what came after it was read at offsets the file no longer has (WAL
	 * replay rewrites the file anyway).
	 */
	for (int c = 0; c + 1 < f->nchunks; c++)
		if (f->chunks[c].size < MANIFEST_CHUNK_SIZE)
			f->nchunks = c + 1;
	while (f->nchunks > 1 && f->chunks[f->nchunks - 1].size == 0)
		f->nchunks--;
	f->size = 0;
	for (int c = 0; c < f->nchunks; c++)
		f->size += f->chunks[c].size;
	return true;
}
