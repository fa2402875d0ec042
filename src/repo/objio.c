/* Container objects in storage (see objio.h). */
#include <stdlib.h>
#include <string.h>

#include "io/fdio.h"
#include "io/membuf.h"
#include "repo/objio.h"

#define IO_CHUNK (256 * 1024)

typedef struct StorageStage
{
	Stage		base;
	StorageWrite *w;
} StorageStage;

static int
storage_stage_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	return storage_write(((StorageStage *) s)->w, buf, len, err);
}

static const StageOps storage_stage_ops = {storage_stage_write, NULL, NULL};

Stage *
objio_write_stage_new(StorageWrite *w, PgbError *err)
{
	StorageStage *s = stage_new(sizeof(StorageStage), &storage_stage_ops, NULL, err);

	if (s != NULL)
		s->w = w;
	return s ? &s->base : NULL;
}

void
objio_write_stage_retarget(Stage *s, StorageWrite *w)
{
	((StorageStage *) s)->w = w;
}

/* A StageSource over an open read (sequential: the offset is where it stands). */
static ssize_t
storage_source(void *r, void *buf, size_t len, uint64_t at, PgbError *err)
{
	return storage_read((StorageRead *) r, buf, len, err);
}

int
objio_pump(StorageRead *r, uint64_t limit, uint8_t *buf, size_t bufsize,
		   Stage *head, uint64_t *got, PgbError *err)
{
	return stage_pump(storage_source, r, 0, limit, buf, bufsize, head, got, err);
}

int
objio_put_produced(Storage *s, const char *path, ObjectKind kind, int level, int threads,
				   ObjioProducer produce, void *arg, bool no_overwrite, bool *existed,
				   ObjectSummary *sum, PgbError *err)
{
	StorageWrite *w = storage_open_write(s, path, err);
	Stage	   *out = NULL,
			   *enc = NULL;
	int			rc = -1;

	if (w == NULL)
		return -1;
	if ((out = objio_write_stage_new(w, err)) == NULL ||
		(enc = object_encoder_new(kind, level, out, err)) == NULL)
		goto done;
	object_encoder_set_threads(enc, threads);
	if (produce(stage_sink, enc, arg, err) != 0 ||
		stage_finish(enc, err) != 0)
		goto done;
	if (sum)
		object_encoder_summary(enc, sum);
	rc = 0;
done:
	stage_free_chain(enc ? enc : out, NULL);
	if (rc != 0)
	{
		storage_abort(w);
		return -1;
	}
	if (storage_commit(w, no_overwrite, existed, err) != 0)
		return pgb_error_context(err, "could not store \"%s\"", path);
	return 0;
}

typedef struct FdSource
{
	int			fd;
	const char *name;
} FdSource;

/* Everything from the descriptor's start to its end. */
static int
produce_fd(ByteSink sink, void *sink_arg, void *arg, PgbError *err)
{
	const FdSource *src = arg;
	Stage	   *to = callback_stage_new(sink, sink_arg, err);
	uint8_t    *buf = malloc(IO_CHUNK);
	uint64_t	got;
	int			rc = -1;

	if (to != NULL && buf == NULL)
		pgb_error(err, EXIT_INTERNAL, "out of memory");
	else if (to != NULL)
		rc = fd_pump(src->fd, src->name, 0, UINT64_MAX, buf, IO_CHUNK, to, &got, err);
	stage_free(to);
	free(buf);
	return rc;
}

int
objio_put_fd(Storage *s, const char *path, ObjectKind kind, int level, int threads,
			 int fd, const char *fd_name, bool no_overwrite, bool *existed,
			 ObjectSummary *sum, PgbError *err)
{
	FdSource	src = {fd, fd_name};

	return objio_put_produced(s, path, kind, level, threads, produce_fd, &src, no_overwrite, existed, sum, err);
}

typedef struct MemSource
{
	const void *buf;
	size_t		len;
} MemSource;

static int
produce_mem(ByteSink sink, void *sink_arg, void *arg, PgbError *err)
{
	const MemSource *src = arg;

	return sink(sink_arg, src->buf, src->len, err);
}

int
objio_put_mem(Storage *s, const char *path, ObjectKind kind, int level,
			  const void *buf, size_t len, bool no_overwrite, bool *existed,
			  ObjectSummary *sum, PgbError *err)
{
	MemSource	src = {buf, len};

	return objio_put_produced(s, path, kind, level, 1, produce_mem, &src, no_overwrite, existed, sum, err);
}

int
objio_get(Storage *s, const char *path, ObjectKind kind, Stage *out,
		  ObjectSummary *sum, PgbError *err)
{
	StorageRead *r = storage_open_read(s, path, 0, 0, err);
	Stage	   *dec;
	uint8_t    *buf;
	uint64_t	got;
	int			rc = -1;

	if (r == NULL)
		return -1;
	dec = object_decoder_new(kind, out, err);
	buf = malloc(IO_CHUNK);
	if (dec == NULL || buf == NULL)
	{
		if (dec != NULL)
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	if (objio_pump(r, UINT64_MAX, buf, IO_CHUNK, dec, &got, err) != 0 ||
		stage_finish(dec, err) != 0)
		goto done;
	if (sum)
		object_decoder_summary(dec, sum);
	rc = 0;
done:
	if (rc != 0 && err->code == EXIT_CORRUPT)
		pgb_error_context(err, "\"%s/%s\"", storage_description(s), path);
	free(buf);
	stage_free(dec);
	storage_read_close(r);
	return rc;
}

int
objio_get_mem(Storage *s, const char *path, ObjectKind kind, size_t max,
			  char **out, size_t *len, PgbError *err)
{
	MemBuf		m = {.max = max};
	Stage	   *sink = callback_stage_new(membuf_sink, &m, err);
	int			rc;

	if (sink == NULL)
		return -1;
	rc = objio_get(s, path, kind, sink, NULL, err);
	stage_free(sink);
	if (rc != 0)
	{
		membuf_free(&m);
		return -1;
	}
	*out = membuf_take(&m, len, err);
	return *out ? 0 : -1;
}

int
objio_get_trailer(Storage *s, const char *path, ObjectSummary *sum, PgbError *err)
{
	StorageInfo info;
	StorageRead *r;
	uint8_t		buf[OBJECT_TRAILER_SIZE],
				piece[OBJECT_TRAILER_SIZE];
	Stage	   *fixed;
	uint64_t	got = 0;
	int			rc;

	if (storage_info(s, path, &info, err) != 0)
		return -1;
	if (!info.exists)
		return pgb_error(err, EXIT_NOT_FOUND, "\"%s/%s\" does not exist", storage_description(s), path);
	if (info.size < OBJECT_HEADER_SIZE + OBJECT_TRAILER_SIZE)
		return pgb_error(err, EXIT_CORRUPT, "\"%s/%s\" is truncated", storage_description(s), path);
	if ((fixed = fixed_stage_new(buf, sizeof(buf), err)) == NULL)
		return -1;
	r = storage_open_read(s, path, info.size - OBJECT_TRAILER_SIZE, OBJECT_TRAILER_SIZE, err);
	rc = r ? objio_pump(r, sizeof(buf), piece, sizeof(piece), fixed, &got, err) : -1;
	storage_read_close(r);
	stage_free(fixed);
	if (rc != 0)
		return -1;
	if (got < sizeof(buf))
		return pgb_error(err, EXIT_CORRUPT, "\"%s/%s\" is truncated", storage_description(s), path);
	if (object_trailer_parse(buf, sizeof(buf), sum, err) != 0)
		return pgb_error_context(err, "\"%s/%s\"", storage_description(s), path);
	sum->stored = info.size;
	return 0;
}
