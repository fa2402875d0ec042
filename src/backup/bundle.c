/* Bundle objects (see bundle.h; layout in repo/FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/bundle.h"
#include "common/fileio.h"
#include "io/object.h"
#include "io/zstdio.h"
#include "repo/objio.h"
#include "repo/catalog.h"

#define READ_CHUNK (1024 * 1024)

struct BundleWriter
{
	Repo	   *repo;
	char		label[MANIFEST_LABEL_MAX];
	uint64_t	target;
	BundleIds  *ids;
	StorageWrite *w;			/* open bundle, or NULL */
	uint32_t	id;				/* of the open bundle */
	uint64_t	frame_start;
	Stage	   *zstd;			/* frames: zstd -> size -> out */
	Stage	   *size;			/* bytes written to the open bundle (since reset) */
	Stage	   *out;			/* into w */
	uint64_t	base;			/* size's count when the open bundle began */
};

/* Bytes written to the open bundle. */
static uint64_t
bundle_pos(const BundleWriter *bw)
{
	return size_stage_bytes(bw->size) - bw->base;
}

BundleWriter *
bundle_writer_new(Repo *repo, const char *label, int level, uint64_t target_bytes,
				  BundleIds *ids, PgbError *err)
{
	BundleWriter *bw = calloc(1, sizeof(BundleWriter));

	if (bw == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	bw->repo = repo;
	snprintf(bw->label, sizeof(bw->label), "%s", label);
	bw->target = target_bytes;
	bw->ids = ids;
	if ((bw->out = objio_write_stage_new(NULL, err)) == NULL ||
		(bw->size = size_stage_new(bw->out, err)) == NULL ||
		(bw->zstd = zstd_compress_stage_new(level, bw->size, err)) == NULL)
	{
		bundle_writer_free(bw);
		return NULL;
	}
	return bw;
}

static int
bundle_close(BundleWriter *bw, PgbError *err)
{
	StorageWrite *w = bw->w;

	if (w == NULL)
		return 0;
	bool		existed = false;

	bw->w = NULL;
	if (storage_commit(w, true, &existed, err) != 0)
		return -1;
	if (existed)
		return pgb_error(err, EXIT_INTERNAL, "bundle %u of backup %s already exists", bw->id, bw->label);
	pthread_mutex_lock(&bw->ids->lock);
	bw->ids->stored += bundle_pos(bw);
	pthread_mutex_unlock(&bw->ids->lock);
	return 0;
}

static int
bundle_ensure_open(BundleWriter *bw, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	uint8_t		hdr[OBJECT_HEADER_SIZE];

	if (bw->w != NULL && bundle_pos(bw) >= bw->target && bundle_close(bw, err) != 0)
		return -1;
	if (bw->w != NULL)
		return 0;
	pthread_mutex_lock(&bw->ids->lock);
	bw->id = ++bw->ids->last;
	pthread_mutex_unlock(&bw->ids->lock);
	if (catalog_bundle_path(bw->repo, bw->label, bw->id, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	bw->w = storage_open_write(bw->repo->storage, path, err);
	if (bw->w == NULL)
		return -1;
	objio_write_stage_retarget(bw->out, bw->w);
	bw->base = size_stage_bytes(bw->size);
	object_header_build(OBJECT_KIND_BUNDLE, hdr);
	return stage_write(bw->size, hdr, sizeof(hdr), err);
}

int
bundle_frame_begin(BundleWriter *bw, uint32_t *bundle, uint64_t *offset, PgbError *err)
{
	if (bundle_ensure_open(bw, err) != 0)
		return -1;
	bw->frame_start = bundle_pos(bw);
	*bundle = bw->id;
	*offset = bw->frame_start;
	return 0;
}

Stage *
bundle_frame_stage(BundleWriter *bw)
{
	return bw->zstd;
}

int
bundle_frame_write(BundleWriter *bw, const void *buf, size_t len, PgbError *err)
{
	return stage_write(bw->zstd, buf, len, err);
}

int
bundle_frame_end(BundleWriter *bw, uint64_t *length, PgbError *err)
{
	if (stage_finish(bw->zstd, err) != 0)
		return -1;
	*length = bundle_pos(bw) - bw->frame_start;
	return 0;
}

int
bundle_put(BundleWriter *bw, const void *buf, size_t len,
		   uint32_t *bundle, uint64_t *offset, uint64_t *length, PgbError *err)
{
	if (bundle_frame_begin(bw, bundle, offset, err) != 0 ||
		bundle_frame_write(bw, buf, len, err) != 0)
		return -1;
	return bundle_frame_end(bw, length, err);
}

int
bundle_writer_finish(BundleWriter *bw, PgbError *err)
{
	return bundle_close(bw, err);
}

void
bundle_writer_free(BundleWriter *bw)
{
	if (bw == NULL)
		return;
	storage_abort(bw->w);
	stage_free(bw->zstd);
	stage_free(bw->size);
	stage_free(bw->out);
	free(bw);
}

/* ------------------------------------------------------------- reading */

struct BundleRange
{
	Repo	   *repo;
	char		path[PGB_PATH_MAX];
	StorageRead *r;
	uint64_t	pos;			/* bundle offset of the next unread byte */
	uint64_t	end;			/* of the range */
	uint8_t    *buf;
	size_t		bufsize;
};

static int
range_corrupt(BundleRange *br, PgbError *err)
{
	if (err->code == EXIT_CORRUPT)
		pgb_error_context(err, "\"%s/%s\"", storage_description(br->repo->storage), br->path);
	return -1;
}

BundleRange *
bundle_range_open(Repo *repo, const char *label, uint32_t bundle, uint64_t offset,
				  uint64_t length, PgbError *err)
{
	BundleRange *br = calloc(1, sizeof(BundleRange));

	if (br == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	br->repo = repo;
	br->pos = offset;
	br->end = offset + length;
	br->bufsize = length < READ_CHUNK ? (size_t) length + 1 : READ_CHUNK;
	if (catalog_bundle_path(repo, label, bundle, br->path) != 0)
		pgb_error(err, EXIT_IO, "bundle path too long");
	else if ((br->buf = malloc(br->bufsize)) == NULL)
		pgb_error(err, EXIT_INTERNAL, "out of memory");
	else if (offset < OBJECT_HEADER_SIZE || length == 0 || br->end < offset)
		pgb_error(err, EXIT_CORRUPT, "frame at %llu+%llu lies outside the bundle",
				  (unsigned long long) offset, (unsigned long long) length);
	else if ((br->r = storage_open_read(repo->storage, br->path, offset, length, err)) == NULL &&
			 err->code == EXIT_NOT_FOUND)
		err->code = EXIT_CORRUPT;
	if (br->r == NULL)
	{
		range_corrupt(br, err);
		bundle_range_close(br);
		return NULL;
	}
	return br;
}

/* The next n bytes of the range into to; EXIT_CORRUPT when the bundle ends first. */
static int
range_pump(BundleRange *br, uint64_t n, Stage *to, PgbError *err)
{
	uint64_t	got = 0;
	int			rc = objio_pump(br->r, n, br->buf, br->bufsize, to, &got, err);

	br->pos += got;
	if (rc == 0 && got < n)
		rc = pgb_error(err, EXIT_CORRUPT, "bundle is truncated");
	return rc;
}

/* Read and drop n bytes (what lies between two wanted frames). */
static int
range_skip(BundleRange *br, uint64_t n, PgbError *err)
{
	Stage	   *drop = discard_stage_new(err);
	int			rc = drop ? range_pump(br, n, drop, err) : -1;

	stage_free(drop);
	return rc;
}

int
bundle_range_frame(BundleRange *br, uint64_t offset, uint64_t length, Stage *out, PgbError *err)
{
	Stage	   *z;
	int			rc;

	if (offset < br->pos || length == 0 || offset + length > br->end || offset + length < offset)
		return pgb_error(err, EXIT_INTERNAL, "frame at %llu+%llu is not ahead in the range read",
						 (unsigned long long) offset, (unsigned long long) length);
	if (offset > br->pos && range_skip(br, offset - br->pos, err) != 0)
		return range_corrupt(br, err);
	if ((z = zstd_decompress_stage_new(out, err)) == NULL)
		return -1;
	rc = range_pump(br, length, z, err) == 0 ? stage_finish(z, err) : -1;
	stage_free(z);
	return rc == 0 ? 0 : range_corrupt(br, err);
}

void
bundle_range_close(BundleRange *br)
{
	if (br == NULL)
		return;
	storage_read_close(br->r);
	free(br->buf);
	free(br);
}

int
bundle_read_frame(Repo *repo, const char *label, uint32_t bundle, uint64_t offset,
				  uint64_t length, Stage *out, PgbError *err)
{
	BundleRange *br = bundle_range_open(repo, label, bundle, offset, length, err);
	int			rc = br ? bundle_range_frame(br, offset, length, out, err) : -1;

	bundle_range_close(br);
	return rc;
}

int
bundle_check_header(Repo *repo, const char *label, uint32_t n, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	uint8_t		hdr[OBJECT_HEADER_SIZE],
				piece[OBJECT_HEADER_SIZE];
	StorageRead *r;
	Stage	   *fixed;
	uint64_t	got = 0;
	int			rc;

	if (catalog_bundle_path(repo, label, n, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	if ((fixed = fixed_stage_new(hdr, sizeof(hdr), err)) == NULL)
		return -1;
	r = storage_open_read(repo->storage, path, 0, OBJECT_HEADER_SIZE, err);
	rc = r ? objio_pump(r, sizeof(hdr), piece, sizeof(piece), fixed, &got, err) : -1;
	storage_read_close(r);
	stage_free(fixed);
	if (r == NULL && err->code == EXIT_NOT_FOUND)
		err->code = EXIT_CORRUPT;
	if (r == NULL)
		return -1;
	if (rc != 0 || object_header_check(hdr, (size_t) got, OBJECT_KIND_BUNDLE, err) != 0)
	{
		err->code = EXIT_CORRUPT;
		return pgb_error_context(err, "bundle \"%s/%s\" of backup %s", storage_description(repo->storage), path, label);
	}
	return 0;
}
