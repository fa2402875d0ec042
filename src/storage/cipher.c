/*
 * The encrypting storage wrapper (see cipher.h; the envelope itself is
 * cipher_envelope.h).
 *
 * A write handle pushes what it is given through an EnvelopeSeal whose
 * output goes to the inner write.  A whole-object read pulls the inner
 * object through an EnvelopeOpen, no more than the opener needs for its
 * next segment at a time, so it holds one segment's plaintext; a ranged
 * read knows the layout from the stored size and opens just the segments
 * that cover the range, each by its index.
 */
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "storage/cipher.h"

#define SEG_SIZE ((size_t) CIPHER_SEGMENT_SIZE)
#define HDR_LEN CIPHER_HEADER_LEN
#define TAG_LEN CIPHER_TAG_LEN
#define SEALED_LEN CIPHER_SEALED_LEN


/*
 * Objects are written once and never changed, so the stored size and the
 * header of an object read by range are remembered: reading the frames of
 * a bundle one by one then costs one ranged read each, not three requests
 * (info, header, range) on object storage.  A stale entry (an object
 * removed and written again under the same name within one process) fails
 * authentication; it cannot produce wrong data.
 */
#define LAYOUT_CACHE 64
#define LAYOUT_PATH_MAX 512

typedef struct LayoutEntry
{
	char		path[LAYOUT_PATH_MAX];
	uint64_t	stored;
	uint8_t		header[HDR_LEN];
} LayoutEntry;

typedef struct CipherStorage
{
	Storage		base;
	Storage    *inner;
	EnvelopeKey *key;
	pthread_mutex_t layout_lock;
	LayoutEntry layout[LAYOUT_CACHE];
	int			layout_next;
} CipherStorage;

static bool
layout_get(CipherStorage *cs, const char *path, uint64_t *stored, uint8_t *header)
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
static void
layout_forget(CipherStorage *cs, const char *path)
{
	pthread_mutex_lock(&cs->layout_lock);
	for (int i = 0; i < LAYOUT_CACHE; i++)
		if (path == NULL || strcmp(cs->layout[i].path, path) == 0)
			cs->layout[i].path[0] = '\0';
	pthread_mutex_unlock(&cs->layout_lock);
}

static void
layout_put(CipherStorage *cs, const char *path, uint64_t stored, const uint8_t *header)
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

typedef struct CipherRead
{
	StorageRead base;
	StorageRead *inner;
	char	   *path;
	EnvelopeOpen *open;			/* whole read: the stream opener */
	EnvelopeObject *obj;		/* ranged read: opens segments by index */
	uint8_t		header[HDR_LEN];
	bool		ranged;			/* layout known from the stored size */
	uint64_t	stored;			/* ranged: the stored size */
	bool		layout_known;	/* ranged: size and header came from (or went into) the cache */
	uint64_t	seg;			/* ranged: index of the next segment to open */
	uint64_t	last;			/* ranged: the last segment to open */
	uint64_t	final_seg;		/* ranged: index of the object's final segment */
	size_t		final_len;		/* ranged: plaintext bytes in it */
	bool		eof;			/* no segment left to open */
	bool		failed;
	uint8_t    *ct;				/* ranged: one sealed segment; whole: what the opener wants next */
	uint8_t    *pt;				/* ranged: plaintext of the segment last opened */
	const uint8_t *plain;		/* the plaintext being delivered (pt, or the opener's) */
	size_t		pt_pos;
	size_t		pt_len;
	size_t		skip;			/* bytes to drop from the first segment opened */
	uint64_t	remaining;		/* bytes still to deliver; UINT64_MAX: to the end */
} CipherRead;

typedef struct CipherWrite
{
	StorageWrite base;
	StorageWrite *inner;
	EnvelopeSeal *seal;
	char	   *path;
} CipherWrite;

static int
oom(PgbError *err)
{
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

/* ------------------------------------------------------------ reads */

/* Read up to len bytes, stopping early only at the end; *got says how many. */
static int
inner_read_full(StorageRead *inner, uint8_t *buf, size_t len, size_t *got, PgbError *err)
{
	*got = 0;
	while (*got < len)
	{
		ssize_t		n = storage_read(inner, buf + *got, len - *got, err);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t) n;
	}
	return 0;
}

/* The header at the start of inner (a read from offset 0). */
static int
read_header(StorageRead *inner, uint8_t header[HDR_LEN], const char *path, PgbError *err)
{
	size_t		got;

	if (inner_read_full(inner, header, HDR_LEN, &got, err) != 0)
		return -1;
	if (got < HDR_LEN)
		return pgb_error(err, EXIT_CORRUPT, "encrypted object \"%s\" is truncated", path);
	return envelope_header_check(header, path, err);
}

static void
cipher_read_close(StorageRead *base)
{
	CipherRead *r = (CipherRead *) base;

	storage_read_close(r->inner);
	envelope_open_free(r->open);
	envelope_object_free(r->obj);
	if (r->pt != NULL)
		OPENSSL_cleanse(r->pt, SEG_SIZE);
	free(r->pt);
	free(r->ct);
	free(r->path);
	free(r);
}

/*
 * Set r up for a ranged read: stored size from info, header, then one read
 * of the segments covering [offset, offset+length) (length 0: to the end).
 */
static int
open_ranged(CipherStorage *cs, CipherRead *r, uint64_t offset, uint64_t length, PgbError *err)
{
	StorageInfo info = {0};
	uint64_t	plain;
	uint64_t	end;
	uint64_t	first;
	uint64_t	in_start;
	uint64_t	in_end;
	bool		known = layout_get(cs, r->path, &info.size, r->header);

	if (!known && storage_info(cs->inner, r->path, &info, err) != 0)
		return -1;
	if (!known && !info.exists)
		return pgb_error(err, EXIT_NOT_FOUND, "could not open \"%s/%s\": no such object",
						 storage_description(cs->inner), r->path);
	if (!cipher_plain_size(info.size, &plain))
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" is truncated or damaged (%llu bytes stored)",
						 r->path, (unsigned long long) info.size);
	if (offset > plain || length > plain - offset)
		return pgb_error(err, EXIT_CORRUPT, "\"%s\" is shorter than expected", r->path);
	end = length > 0 ? offset + length : plain;
	r->ranged = true;
	r->remaining = end - offset;
	if (end == offset)
	{
		r->eof = true;
		return 0;
	}
	first = offset / SEG_SIZE;
	r->seg = first;
	r->skip = (size_t) (offset - first * SEG_SIZE);
	r->last = (end - 1) / SEG_SIZE;
	r->final_seg = envelope_segment_count(plain) - 1;
	r->final_len = (size_t) (plain - r->final_seg * SEG_SIZE);
	in_start = first == 0 ? 0 : HDR_LEN + first * SEALED_LEN;
	in_end = HDR_LEN + r->last * SEALED_LEN +
		(r->last == r->final_seg ? r->final_len + TAG_LEN : SEALED_LEN);
	if (first > 0 && !known)
	{
		StorageRead *h = storage_open_read(cs->inner, r->path, 0, HDR_LEN, err);
		int			rc;

		if (h == NULL)
			return -1;
		rc = read_header(h, r->header, r->path, err);
		storage_read_close(h);
		if (rc != 0)
			return -1;
	}
	r->inner = storage_open_read(cs->inner, r->path, in_start, in_end - in_start, err);
	if (r->inner == NULL)
		return -1;
	if (first == 0 && read_header(r->inner, r->header, r->path, err) != 0)
		return -1;
	r->stored = info.size;
	r->layout_known = known;
	return 0;
}

/* The opener's sink: a segment's plaintext, valid until the opener's next push. */
static int
take_segment(void *arg, const void *buf, size_t len, PgbError *err)
{
	CipherRead *r = arg;

	r->plain = buf;
	r->pt_pos = 0;
	r->pt_len = len;
	return 0;
}

static StorageRead *
cipher_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	CipherRead *r = calloc(1, sizeof(CipherRead));

	if (r == NULL || (r->path = strdup(path)) == NULL || (r->ct = malloc(SEALED_LEN + 1)) == NULL)
	{
		oom(err);
		goto fail;
	}
	r->base.storage = s;
	if (offset == 0 && length == 0)
	{
		size_t		got;

		/* the header now, so that a wrong or damaged object fails at open */
		r->remaining = UINT64_MAX;
		r->inner = storage_open_read(cs->inner, path, 0, 0, err);
		if (r->inner == NULL ||
			(r->open = envelope_open_new(cs->key, path, take_segment, r, err)) == NULL ||
			inner_read_full(r->inner, r->ct, HDR_LEN, &got, err) != 0 ||
			envelope_open_push(r->open, r->ct, got, err) != 0 ||
			(got < HDR_LEN && envelope_open_finish(r->open, err) != 0))
			goto fail;
	}
	else if (open_ranged(cs, r, offset, length, err) != 0)
		goto fail;
	else if (!r->eof &&
			 ((r->pt = malloc(SEG_SIZE)) == NULL ||
			  (r->obj = envelope_object_new(cs->key, r->header, path, false, err)) == NULL))
	{
		if (r->pt == NULL)
			oom(err);
		goto fail;
	}
	return &r->base;

fail:
	if (r != NULL)
		cipher_read_close(&r->base);
	return NULL;
}

/*
 * Whole read: the next segment, through the opener.  What the opener wants
 * is read in one go; it is all there (then the opener passes a full
 * segment on) unless the object ends (then finish opens the final one).
 */
static int
next_whole_segment(CipherRead *r, PgbError *err)
{
	size_t		want = envelope_open_want(r->open);
	size_t		got;

	if (inner_read_full(r->inner, r->ct, want, &got, err) != 0 ||
		envelope_open_push(r->open, r->ct, got, err) != 0)
		return -1;
	if (got < want)
	{
		r->eof = true;
		return envelope_open_finish(r->open, err);
	}
	return 0;
}

/* Ranged read: read, verify and decrypt the next segment into r->pt. */
static int
next_ranged_segment(CipherRead *r, PgbError *err)
{
	bool		final = r->seg == r->final_seg;
	size_t		want = final ? r->final_len + TAG_LEN : SEALED_LEN;
	size_t		got;
	size_t		clen = want - TAG_LEN;

	if (inner_read_full(r->inner, r->ct, want, &got, err) != 0)
		return -1;
	if (got < want)
		return envelope_auth_failed(r->path, err);
	r->eof = r->seg == r->last;
	if (envelope_object_open(r->obj, r->seg, final, r->ct, clen, r->pt) != 0)
		return envelope_auth_failed(r->path, err);
	/* a segment opened with this header as AAD: header and size are authentic, remember them */
	if (!r->layout_known)
	{
		layout_put((CipherStorage *) r->base.storage, r->path, r->stored, r->header);
		r->layout_known = true;
	}
	if (r->skip > clen)
		return envelope_auth_failed(r->path, err);
	r->plain = r->pt;
	r->pt_pos = r->skip;
	r->pt_len = clen;
	r->skip = 0;
	r->seg++;
	return 0;
}

static ssize_t
cipher_read(StorageRead *base, void *buf, size_t len, PgbError *err)
{
	CipherRead *r = (CipherRead *) base;
	size_t		n;

	if (r->failed)
		return pgb_error(err, EXIT_INTERNAL, "read of \"%s\" continued after an error", r->path);
	if (r->remaining == 0 || len == 0)
		return 0;
	while (r->pt_pos == r->pt_len)
	{
		if (r->eof)
		{
			if (r->remaining != UINT64_MAX)
				return pgb_error(err, EXIT_CORRUPT, "\"%s\" is shorter than expected", r->path);
			return 0;
		}
		if ((r->ranged ? next_ranged_segment(r, err) : next_whole_segment(r, err)) != 0)
		{
			r->failed = true;
			return -1;
		}
	}
	n = r->pt_len - r->pt_pos;
	if (n > len)
		n = len;
	if (r->remaining != UINT64_MAX)
	{
		if (n > r->remaining)
			n = (size_t) r->remaining;
		r->remaining -= n;
	}
	memcpy(buf, r->plain + r->pt_pos, n);
	r->pt_pos += n;
	return (ssize_t) n;
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
		oom(err);
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
	layout_forget((CipherStorage *) base->storage, w->path);
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
	layout_forget((CipherStorage *) s, path);
	return storage_remove(((CipherStorage *) s)->inner, path, err);
}

static int
cipher_remove_tree(Storage *s, const char *dir, PgbError *err)
{
	layout_forget((CipherStorage *) s, NULL);
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
		oom(err);
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
