/* Bundle objects (see bundle.h; layout in repo/FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/bundle.h"
#include "common/fileio.h"
#include "io/object.h"
#include "io/zstdio.h"
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
	uint64_t	pos;			/* bytes written to the open bundle */
	uint64_t	frame_start;
	ZstdCompressor *zstd;
};

static int
to_bundle(void *arg, const void *buf, size_t len, PgbError *err)
{
	BundleWriter *bw = arg;

	if (storage_write(bw->w, buf, len, err) != 0)
		return -1;
	bw->pos += len;
	return 0;
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
	bw->zstd = zstd_compressor_new(level, to_bundle, bw);
	if (bw->zstd == NULL)
	{
		bundle_writer_free(bw);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
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
	bw->ids->stored += bw->pos;
	pthread_mutex_unlock(&bw->ids->lock);
	return 0;
}

static int
bundle_ensure_open(BundleWriter *bw, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	uint8_t		hdr[OBJECT_HEADER_SIZE];

	if (bw->w != NULL && bw->pos >= bw->target && bundle_close(bw, err) != 0)
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
	bw->pos = 0;
	object_header_build(OBJECT_KIND_BUNDLE, hdr);
	return to_bundle(bw, hdr, sizeof(hdr), err);
}

int
bundle_frame_begin(BundleWriter *bw, uint32_t *bundle, uint64_t *offset, PgbError *err)
{
	if (bundle_ensure_open(bw, err) != 0)
		return -1;
	bw->frame_start = bw->pos;
	*bundle = bw->id;
	*offset = bw->pos;
	return 0;
}

int
bundle_frame_write(BundleWriter *bw, const void *buf, size_t len, PgbError *err)
{
	return zstd_compressor_write(bw->zstd, buf, len, err);
}

int
bundle_frame_end(BundleWriter *bw, uint64_t *length, PgbError *err)
{
	if (zstd_compressor_end(bw->zstd, err) != 0)
		return -1;
	*length = bw->pos - bw->frame_start;
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
	zstd_compressor_free(bw->zstd);
	free(bw);
}

/* ------------------------------------------------------------- reading */

int
bundle_read_frame(Repo *repo, const char *label, uint32_t bundle, uint64_t offset,
				  uint64_t length, ByteSink sink, void *arg, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	StorageRead *r = NULL;
	ZstdDecompressor *z = NULL;
	uint8_t    *buf = NULL;
	uint64_t	left = length;
	int			rc = -1;

	if (catalog_bundle_path(repo, label, bundle, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	z = zstd_decompressor_new(sink, arg);
	buf = malloc(READ_CHUNK);
	if (z == NULL || buf == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	if (offset < OBJECT_HEADER_SIZE || length == 0)
	{
		pgb_error(err, EXIT_CORRUPT, "frame at %llu+%llu lies outside the bundle",
				  (unsigned long long) offset, (unsigned long long) length);
		goto done;
	}
	r = storage_open_read(repo->storage, path, offset, length, err);
	if (r == NULL)
	{
		if (err->code == EXIT_NOT_FOUND)
			err->code = EXIT_CORRUPT;
		goto done;
	}
	while (left > 0)
	{
		ssize_t		n = storage_read(r, buf, left < READ_CHUNK ? (size_t) left : READ_CHUNK, err);

		if (n < 0)
			goto done;
		if (n == 0)
		{
			pgb_error(err, EXIT_CORRUPT, "bundle is truncated");
			goto done;
		}
		if (zstd_decompressor_write(z, buf, (size_t) n, err) != 0)
			goto done;
		left -= (uint64_t) n;
	}
	rc = zstd_decompressor_end(z, err);
done:
	if (rc != 0 && err->code == EXIT_CORRUPT)
		pgb_error_context(err, "\"%s/%s\"", storage_description(repo->storage), path);
	storage_read_close(r);
	zstd_decompressor_free(z);
	free(buf);
	return rc;
}

int
bundle_check_header(Repo *repo, const char *label, uint32_t n, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	uint8_t		hdr[OBJECT_HEADER_SIZE];
	StorageRead *r;
	ssize_t		got;

	if (catalog_bundle_path(repo, label, n, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	r = storage_open_read(repo->storage, path, 0, OBJECT_HEADER_SIZE, err);
	if (r == NULL)
	{
		if (err->code == EXIT_NOT_FOUND)
			err->code = EXIT_CORRUPT;
		return -1;
	}
	got = storage_read(r, hdr, sizeof(hdr), err);
	storage_read_close(r);
	if (got < 0 || object_header_check(hdr, (size_t) got, OBJECT_KIND_BUNDLE, err) != 0)
	{
		err->code = EXIT_CORRUPT;
		return pgb_error_context(err, "bundle \"%s/%s\" of backup %s", storage_description(repo->storage), path, label);
	}
	return 0;
}
