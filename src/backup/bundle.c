/* Bundle objects (see bundle.h; layout in repo/FORMAT.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	StorageWrite *w;			/* open bundle, or NULL */
	uint32_t	id;				/* of the open (or last) bundle */
	uint64_t	pos;			/* bytes written to the open bundle */
	uint64_t	stored;			/* bytes of committed bundles */
	ZstdCompressor *zstd;
	Sha256	   *hash;
	uint8_t    *buf;
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
bundle_writer_new(Repo *repo, const char *label, int level, uint64_t target_bytes, PgbError *err)
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
	bw->zstd = zstd_compressor_new(level, to_bundle, bw);
	bw->hash = sha256_new();
	bw->buf = malloc(READ_CHUNK);
	if (bw->zstd == NULL || bw->hash == NULL || bw->buf == NULL)
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
	bw->w = NULL;
	if (storage_commit(w, true, NULL, err) != 0)
		return -1;
	bw->stored += bw->pos;
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
	bw->id++;
	if (catalog_bundle_path(bw->repo, bw->label, bw->id, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	bw->w = storage_open_write(bw->repo->storage, path, err);
	if (bw->w == NULL)
		return -1;
	bw->pos = 0;
	object_header_build(OBJECT_KIND_BUNDLE, hdr);
	return to_bundle(bw, hdr, sizeof(hdr), err);
}

/* Start a frame for mf; the caller then feeds bytes and calls frame_end. */
static int
frame_begin(BundleWriter *bw, ManifestFile *mf, PgbError *err)
{
	if (bundle_ensure_open(bw, err) != 0)
		return -1;
	sha256_reset(bw->hash);
	mf->bundle = bw->id;
	mf->offset = bw->pos;
	mf->size = 0;
	return 0;
}

static int
frame_data(BundleWriter *bw, ManifestFile *mf, const void *buf, size_t len, PgbError *err)
{
	sha256_update(bw->hash, buf, len);
	mf->size += len;
	return zstd_compressor_write(bw->zstd, buf, len, err);
}

static int
frame_end(BundleWriter *bw, ManifestFile *mf, PgbError *err)
{
	if (zstd_compressor_end(bw->zstd, err) != 0)
		return -1;
	sha256_final(bw->hash, mf->sha256);
	mf->length = bw->pos - mf->offset;
	return 0;
}

int
bundle_add_file(BundleWriter *bw, const char *full_path, ManifestFile *mf, bool *vanished,
				void (*on_bytes) (void *arg, uint64_t n), void *arg, PgbError *err)
{
	int			fd = open(full_path, O_RDONLY | O_CLOEXEC | O_NOATIME);

	*vanished = false;
	if (fd < 0 && errno == EPERM)
		fd = open(full_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		if (errno == ENOENT)
		{
			*vanished = true;
			return 0;
		}
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", full_path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (frame_begin(bw, mf, err) != 0)
		goto fail;
	for (;;)
	{
		ssize_t		n = fio_read_full(fd, bw->buf, READ_CHUNK, full_path, err);

		if (n < 0 || (n > 0 && frame_data(bw, mf, bw->buf, (size_t) n, err) != 0))
			goto fail;
		if (on_bytes && n > 0)
			on_bytes(arg, (uint64_t) n);
		if (n < READ_CHUNK)
			break;
	}
	close(fd);
	return frame_end(bw, mf, err);

fail:
	close(fd);
	return -1;
}

int
bundle_add_mem(BundleWriter *bw, const void *buf, size_t len, ManifestFile *mf, PgbError *err)
{
	if (frame_begin(bw, mf, err) != 0 || frame_data(bw, mf, buf, len, err) != 0)
		return -1;
	return frame_end(bw, mf, err);
}

int
bundle_writer_finish(BundleWriter *bw, uint32_t *nbundles, uint64_t *stored, PgbError *err)
{
	if (bundle_close(bw, err) != 0)
		return -1;
	*nbundles = bw->id;
	*stored = bw->stored;
	return 0;
}

void
bundle_writer_free(BundleWriter *bw)
{
	if (bw == NULL)
		return;
	storage_abort(bw->w);
	zstd_compressor_free(bw->zstd);
	sha256_free(bw->hash);
	free(bw->buf);
	free(bw);
}

/* ------------------------------------------------------------- reading */

typedef struct ReadCtx
{
	Sha256	   *hash;
	uint64_t	size;
	ByteSink	sink;
	void	   *arg;
} ReadCtx;

static int
read_content(void *arg, const void *buf, size_t len, PgbError *err)
{
	ReadCtx    *c = arg;

	sha256_update(c->hash, buf, len);
	c->size += len;
	return c->sink(c->arg, buf, len, err);
}

int
bundle_read_file(Repo *repo, const char *label, const ManifestFile *mf,
				 ByteSink sink, void *arg, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	StorageRead *r = NULL;
	ZstdDecompressor *z = NULL;
	ReadCtx		c = {0};
	uint8_t    *buf = NULL;
	uint8_t		digest[SHA256_LEN];
	uint64_t	left = mf->length;
	int			rc = -1;

	if (catalog_bundle_path(repo, label, mf->bundle, path) != 0)
		return pgb_error(err, EXIT_IO, "bundle path too long");
	c.hash = sha256_new();
	c.sink = sink;
	c.arg = arg;
	z = zstd_decompressor_new(read_content, &c);
	buf = malloc(READ_CHUNK);
	if (c.hash == NULL || z == NULL || buf == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	if (mf->offset < OBJECT_HEADER_SIZE || mf->length == 0)
	{
		pgb_error(err, EXIT_CORRUPT, "manifest entry for \"%s\" points outside bundle %u", mf->path, mf->bundle);
		goto done;
	}
	r = storage_open_read(repo->storage, path, mf->offset, mf->length, err);
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
	if (zstd_decompressor_end(z, err) != 0)
		goto done;
	sha256_final(c.hash, digest);
	if (c.size != mf->size)
		pgb_error(err, EXIT_CORRUPT, "size %llu does not match the manifest's %llu",
				  (unsigned long long) c.size, (unsigned long long) mf->size);
	else if (memcmp(digest, mf->sha256, SHA256_LEN) != 0)
		pgb_error(err, EXIT_CORRUPT, "SHA-256 does not match the manifest");
	else
		rc = 0;

done:
	if (rc != 0 && err->code == EXIT_CORRUPT)
		pgb_error_context(err, "file \"%s\" of backup %s (stored in \"%s/%s\")",
						  mf->path, label, storage_description(repo->storage), path);
	storage_read_close(r);
	zstd_decompressor_free(z);
	sha256_free(c.hash);
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
