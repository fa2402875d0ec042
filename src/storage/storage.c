/* Storage dispatch to the driver, and helpers common to every driver (see storage.h). */
#include <stdlib.h>
#include <string.h>

#include "io/membuf.h"
#include "storage/storage.h"

int
storage_info(Storage *s, const char *path, StorageInfo *out, PgbError *err)
{
	return s->driver->info(s, path, out, err);
}

StorageRead *
storage_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	return s->driver->open_read(s, path, offset, length, err);
}

ssize_t
storage_read(StorageRead *r, void *buf, size_t len, PgbError *err)
{
	return r->storage->driver->read(r, buf, len, err);
}

void
storage_read_close(StorageRead *r)
{
	if (r != NULL)
		r->storage->driver->read_close(r);
}

StorageWrite *
storage_open_write(Storage *s, const char *path, PgbError *err)
{
	return s->driver->open_write(s, path, err);
}

int
storage_write(StorageWrite *w, const void *buf, size_t len, PgbError *err)
{
	return w->storage->driver->write(w, buf, len, err);
}

int
storage_commit(StorageWrite *w, bool no_overwrite, bool *existed, PgbError *err)
{
	bool		dummy;

	return w->storage->driver->commit(w, no_overwrite, existed ? existed : &dummy, err);
}

void
storage_abort(StorageWrite *w)
{
	if (w != NULL)
		w->storage->driver->abort(w);
}

int
storage_list(Storage *s, const char *dir, StorageList *out, PgbError *err)
{
	return s->driver->list(s, dir, out, err);
}

void
storage_list_free(StorageList *l)
{
	for (int i = 0; i < l->count; i++)
		free(l->items[i].name);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

int
storage_remove(Storage *s, const char *path, PgbError *err)
{
	return s->driver->remove(s, path, err);
}

int
storage_remove_tree(Storage *s, const char *dir, PgbError *err)
{
	return s->driver->remove_tree(s, dir, err);
}

int
storage_clean_temps(Storage *s, const char *dir, bool recursive)
{
	return s->driver->clean_temps ? s->driver->clean_temps(s, dir, recursive) : 0;
}

StorageLock *
storage_lock(Storage *s, const char *path, const char *holder, PgbError *err)
{
	return s->driver->lock(s, path, holder, err);
}

void
storage_unlock(StorageLock *l)
{
	if (l != NULL)
		(*(Storage **) l)->driver->unlock(l);
}

int
storage_lock_probe(Storage *s, const char *path, char *holder, size_t len, PgbError *err)
{
	if (len > 0)
		holder[0] = '\0';
	if (s->driver->lock_probe == NULL)
		return pgb_error(err, EXIT_INTERNAL, "storage %s cannot tell whether a lock is held", s->driver->name);
	return s->driver->lock_probe(s, path, holder, len, err);
}

const char *
storage_description(const Storage *s)
{
	return s->description;
}

void
storage_free(Storage *s)
{
	if (s != NULL)
		s->driver->free(s);
}

int
storage_read_all(Storage *s, const char *path, size_t max, uint8_t **out, size_t *len, PgbError *err)
{
	StorageRead *r = storage_open_read(s, path, 0, 0, err);
	MemBuf		b = {0};
	uint8_t		chunk[65536];

	if (r == NULL)
		return -1;
	for (;;)
	{
		ssize_t		n = storage_read(r, chunk, sizeof(chunk), err);

		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		if (b.len + (size_t) n > max)
		{
			pgb_error(err, EXIT_CORRUPT, "object \"%s\" is larger than %zu bytes", path, max);
			goto fail;
		}
		if (membuf_append(&b, chunk, (size_t) n, err) != 0)
			goto fail;
	}
	storage_read_close(r);
	*out = (uint8_t *) membuf_take(&b, len, err);
	return *out ? 0 : -1;

fail:
	storage_read_close(r);
	membuf_free(&b);
	return -1;
}
