/* Container objects in storage (see objio.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "io/membuf.h"
#include "repo/objio.h"

#define IO_CHUNK (256 * 1024)

static int
to_storage(void *arg, const void *buf, size_t len, PgbError *err)
{
	return storage_write((StorageWrite *) arg, buf, len, err);
}

static int
put_finish(StorageWrite *w, ObjectEncoder *enc, const char *path, bool no_overwrite,
		   bool *existed, ObjectSummary *sum, PgbError *err)
{
	if (object_encoder_finish(enc, sum, err) != 0)
	{
		object_encoder_free(enc);
		storage_abort(w);
		return -1;
	}
	object_encoder_free(enc);
	if (storage_commit(w, no_overwrite, existed, err) != 0)
		return pgb_error_context(err, "could not store \"%s\"", path);
	return 0;
}

static int
to_encoder(void *arg, const void *buf, size_t len, PgbError *err)
{
	return object_encoder_write((ObjectEncoder *) arg, buf, len, err);
}

int
objio_put_produced(Storage *s, const char *path, ObjectKind kind, int level,
				   ObjioProducer produce, void *arg, bool no_overwrite, bool *existed,
				   ObjectSummary *sum, PgbError *err)
{
	StorageWrite *w = storage_open_write(s, path, err);
	ObjectEncoder *enc;

	if (w == NULL)
		return -1;
	enc = object_encoder_new(kind, level, to_storage, w);
	if (enc == NULL)
	{
		storage_abort(w);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	if (produce(to_encoder, enc, arg, err) != 0)
	{
		object_encoder_free(enc);
		storage_abort(w);
		return -1;
	}
	return put_finish(w, enc, path, no_overwrite, existed, sum, err);
}

typedef struct FdSource
{
	int			fd;
	const char *name;
} FdSource;

/* Everything from the descriptor to its end. */
static int
produce_fd(ByteSink sink, void *sink_arg, void *arg, PgbError *err)
{
	const FdSource *src = arg;
	uint8_t    *buf = malloc(IO_CHUNK);
	ssize_t		n;

	if (buf == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	do
	{
		n = fio_read_full(src->fd, buf, IO_CHUNK, src->name, err);
		if (n > 0 && sink(sink_arg, buf, (size_t) n, err) != 0)
			n = -1;
	} while (n == IO_CHUNK);
	free(buf);
	return n < 0 ? -1 : 0;
}

int
objio_put_fd(Storage *s, const char *path, ObjectKind kind, int level,
			 int fd, const char *fd_name, bool no_overwrite, bool *existed,
			 ObjectSummary *sum, PgbError *err)
{
	FdSource	src = {fd, fd_name};

	return objio_put_produced(s, path, kind, level, produce_fd, &src, no_overwrite, existed, sum, err);
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

	return objio_put_produced(s, path, kind, level, produce_mem, &src, no_overwrite, existed, sum, err);
}

int
objio_get(Storage *s, const char *path, ObjectKind kind, ByteSink sink, void *arg,
		  ObjectSummary *sum, PgbError *err)
{
	StorageRead *r = storage_open_read(s, path, 0, 0, err);
	ObjectDecoder *dec;
	uint8_t    *buf;
	int			rc = -1;

	if (r == NULL)
		return -1;
	dec = object_decoder_new(kind, sink, arg);
	buf = malloc(IO_CHUNK);
	if (dec == NULL || buf == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		goto done;
	}
	for (;;)
	{
		ssize_t		n = storage_read(r, buf, IO_CHUNK, err);

		if (n < 0)
			goto done;
		if (n == 0)
			break;
		if (object_decoder_write(dec, buf, (size_t) n, err) != 0)
			goto done;
	}
	rc = object_decoder_finish(dec, sum, err);
done:
	if (rc != 0 && err->code == EXIT_CORRUPT)
		pgb_error_context(err, "\"%s/%s\"", storage_description(s), path);
	free(buf);
	object_decoder_free(dec);
	storage_read_close(r);
	return rc;
}

int
objio_get_mem(Storage *s, const char *path, ObjectKind kind, size_t max,
			  char **out, size_t *len, PgbError *err)
{
	MemBuf		m = {.max = max};

	if (objio_get(s, path, kind, membuf_sink, &m, NULL, err) != 0)
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
	uint8_t		buf[OBJECT_TRAILER_SIZE];
	size_t		got = 0;

	if (storage_info(s, path, &info, err) != 0)
		return -1;
	if (!info.exists)
		return pgb_error(err, EXIT_NOT_FOUND, "\"%s/%s\" does not exist", storage_description(s), path);
	if (info.size < OBJECT_HEADER_SIZE + OBJECT_TRAILER_SIZE)
		return pgb_error(err, EXIT_CORRUPT, "\"%s/%s\" is truncated", storage_description(s), path);
	r = storage_open_read(s, path, info.size - OBJECT_TRAILER_SIZE, OBJECT_TRAILER_SIZE, err);
	if (r == NULL)
		return -1;
	while (got < sizeof(buf))
	{
		ssize_t		n = storage_read(r, buf + got, sizeof(buf) - got, err);

		if (n <= 0)
		{
			storage_read_close(r);
			return n < 0 ? -1 : pgb_error(err, EXIT_CORRUPT, "\"%s/%s\" is truncated", storage_description(s), path);
		}
		got += (size_t) n;
	}
	storage_read_close(r);
	if (object_trailer_parse(buf, sizeof(buf), sum, err) != 0)
		return pgb_error_context(err, "\"%s/%s\"", storage_description(s), path);
	sum->stored = info.size;
	return 0;
}
