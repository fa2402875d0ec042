/*
 * The encrypting storage wrapper (see cipher.h; the envelope itself is
 * cipher_envelope.h).
 *
 * A write handle pushes what it is given through an EnvelopeSeal whose
 * output goes to the inner write.  Reads are cipher_read.c's.
 */
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "storage/cipher_intern.h"

bool
cipher_layout_get(CipherStorage *cs, const char *path, uint64_t *stored, uint8_t *header)
{
	bool		hit = false;

	pthread_mutex_lock(&cs->layout_lock);
	for (int i = 0; i < LAYOUT_CACHE && !hit; i++)
		if (cs->layout[i].path[0] && strcmp(cs->layout[i].path, path) == 0)
		{
			*stored = cs->layout[i].stored;
			memcpy(header, cs->layout[i].header, HDR_LEN);
			hit = true;
		}
	pthread_mutex_unlock(&cs->layout_lock);
	return hit;
}

/* Forget path (NULL: everything), when this process writes or removes it. */
void
cipher_layout_forget(CipherStorage *cs, const char *path)
{
	pthread_mutex_lock(&cs->layout_lock);
	for (int i = 0; i < LAYOUT_CACHE; i++)
		if (path == NULL || strcmp(cs->layout[i].path, path) == 0)
			cs->layout[i].path[0] = '\0';
	pthread_mutex_unlock(&cs->layout_lock);
}

void
cipher_layout_put(CipherStorage *cs, const char *path, uint64_t stored, const uint8_t *header)
{
	if (strlen(path) >= LAYOUT_PATH_MAX)
		return;
	pthread_mutex_lock(&cs->layout_lock);
	strcpy(cs->layout[cs->layout_next].path, path);
	cs->layout[cs->layout_next].stored = stored;
	memcpy(cs->layout[cs->layout_next].header, header, HDR_LEN);
	cs->layout_next = (cs->layout_next + 1) % LAYOUT_CACHE;
	pthread_mutex_unlock(&cs->layout_lock);
}

typedef struct CipherWrite
{
	StorageWrite base;
	StorageWrite *inner;
	EnvelopeSeal *seal;
	char	   *path;
} CipherWrite;

int
cipher_oom(PgbError *err)
{
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

/* ------------------------------------------------------------ writes */

static void
write_free(CipherWrite *w)
{
	envelope_seal_free(w->seal);
	free(w->path);
	free(w);
}

/* The sealer's sink: the envelope goes to the inner write. */
static int
write_inner(void *arg, const void *buf, size_t len, PgbError *err)
{
	return storage_write(arg, buf, len, err);
}

static StorageWrite *
cipher_open_write(Storage *s, const char *path, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	CipherWrite *w = calloc(1, sizeof(CipherWrite));

	if (w == NULL || (w->path = strdup(path)) == NULL)
	{
		cipher_oom(err);
		goto fail;
	}
	w->base.storage = s;
	w->inner = storage_open_write(cs->inner, path, err);
	if (w->inner == NULL)
		goto fail;
	/* the header goes down at once */
	if ((w->seal = envelope_seal_new(cs->key, path, write_inner, w->inner, err)) == NULL)
	{
		storage_abort(w->inner);
		goto fail;
	}
	return &w->base;

fail:
	if (w != NULL)
		write_free(w);
	return NULL;
}

static int
cipher_write(StorageWrite *base, const void *buf, size_t len, PgbError *err)
{
	return envelope_seal_push(((CipherWrite *) base)->seal, buf, len, err);
}

static int
cipher_commit(StorageWrite *base, bool no_overwrite, bool *existed, PgbError *err)
{
	CipherWrite *w = (CipherWrite *) base;
	int			rc;

	*existed = false;
	if (envelope_seal_finish(w->seal, err) != 0)
	{
		storage_abort(w->inner);
		write_free(w);
		return -1;
	}
	cipher_layout_forget((CipherStorage *) base->storage, w->path);
	rc = storage_commit(w->inner, no_overwrite, existed, err);
	write_free(w);
	return rc;
}

static void
cipher_abort(StorageWrite *base)
{
	CipherWrite *w = (CipherWrite *) base;

	storage_abort(w->inner);
	write_free(w);
}

/* ------------------------------------------------------------ the rest */

static int
cipher_info(Storage *s, const char *path, StorageInfo *out, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	uint64_t	plain;

	if (storage_info(cs->inner, path, out, err) != 0)
		return -1;
	if (!out->exists)
		return 0;
	if (!cipher_plain_size(out->size, &plain))
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" is truncated or damaged (%llu bytes stored)",
						 path, (unsigned long long) out->size);
	out->size = plain;
	return 0;
}

static int
cipher_list(Storage *s, const char *dir, StorageList *out, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;

	if (storage_list(cs->inner, dir, out, err) != 0)
		return -1;
	for (int i = 0; i < out->count; i++)
	{
		uint64_t	plain;

		/* not an envelope (a lock file, the key file): keep the stored size */
		if (!out->items[i].is_dir && cipher_plain_size(out->items[i].size, &plain))
			out->items[i].size = plain;
	}
	return 0;
}

static int
cipher_remove(Storage *s, const char *path, PgbError *err)
{
	cipher_layout_forget((CipherStorage *) s, path);
	return storage_remove(((CipherStorage *) s)->inner, path, err);
}

static int
cipher_remove_tree(Storage *s, const char *dir, PgbError *err)
{
	cipher_layout_forget((CipherStorage *) s, NULL);
	return storage_remove_tree(((CipherStorage *) s)->inner, dir, err);
}

/* The inner lock is returned as is: it names the inner storage, so unlock goes straight there. */
static StorageLock *
cipher_lock(Storage *s, const char *path, const char *holder, PgbError *err)
{
	return storage_lock(((CipherStorage *) s)->inner, path, holder, err);
}

static void
cipher_unlock(StorageLock *l)
{
	storage_unlock(l);
}

static int
cipher_lock_probe(Storage *s, const char *path, char *holder, size_t len, PgbError *err)
{
	return storage_lock_probe(((CipherStorage *) s)->inner, path, holder, len, err);
}

static int
cipher_clean_temps(Storage *s, const char *dir, bool recursive)
{
	return storage_clean_temps(((CipherStorage *) s)->inner, dir, recursive);
}

static void
cipher_free(Storage *s)
{
	CipherStorage *cs = (CipherStorage *) s;

	storage_free(cs->inner);
	envelope_key_free(cs->key);
	pthread_mutex_destroy(&cs->layout_lock);
	free(cs->base.description);
	free(cs);
}

static const StorageDriver cipher_driver = {
	.name = "cipher",
	.info = cipher_info,
	.open_read = cipher_open_read,
	.read = cipher_read,
	.read_close = cipher_read_close,
	.open_write = cipher_open_write,
	.write = cipher_write,
	.commit = cipher_commit,
	.abort = cipher_abort,
	.list = cipher_list,
	.remove = cipher_remove,
	.remove_tree = cipher_remove_tree,
	.lock = cipher_lock,
	.unlock = cipher_unlock,
	.lock_probe = cipher_lock_probe,
	.clean_temps = cipher_clean_temps,
	.free = cipher_free,
};

Storage *
storage_cipher_new(Storage *inner, const uint8_t key[CIPHER_KEY_LEN], PgbError *err)
{
	CipherStorage *cs = calloc(1, sizeof(CipherStorage));

	if (cs == NULL || (cs->base.description = strdup(storage_description(inner))) == NULL)
	{
		free(cs);
		cipher_oom(err);
		return NULL;
	}
	cs->key = envelope_key_new(key, err);
	if (cs->key == NULL)
	{
		free(cs->base.description);
		free(cs);
		return NULL;
	}
	cs->base.driver = &cipher_driver;
	cs->inner = inner;
	pthread_mutex_init(&cs->layout_lock, NULL);
	return &cs->base;
}
