/*
 * The encrypting storage wrapper (see cipher.h for the envelope format).
 *
 * A write handle keeps one plaintext segment; a full segment is sealed and
 * passed down only when more data follows, because the last segment, full
 * or not, is the one sealed with the final flag.  A read handle keeps one
 * sealed segment and its plaintext: a whole-object read looks one byte
 * ahead to know whether the segment it holds is the last; a ranged read
 * knows the layout from the stored size.  Each handle has its own
 * EVP_CIPHER_CTX, keyed once with the object key and re-initialised with a
 * new nonce for every segment.
 */
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/fileio.h"
#include "storage/cipher.h"

#define SEG_SIZE ((size_t) CIPHER_SEGMENT_SIZE)
#define HDR_LEN CIPHER_HEADER_LEN
#define TAG_LEN CIPHER_TAG_LEN
#define SEALED_LEN (SEG_SIZE + TAG_LEN)
#define SALT_OFFSET 8
#define SALT_LEN 32
#define NONCE_LEN 12
#define FLAG_FINAL 1
#define HKDF_INFO "pgbkp object v1"	/* followed by its NUL, then the path */

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
	uint8_t		key[CIPHER_KEY_LEN];
	EVP_KDF    *hkdf;
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
	EVP_CIPHER_CTX *ctx;
	char	   *path;
	uint8_t		header[HDR_LEN];
	bool		ranged;			/* layout known from the stored size */
	uint64_t	stored;			/* ranged: the stored size */
	bool		layout_known;	/* ranged: size and header came from (or went into) the cache */
	uint64_t	seg;			/* index of the next segment to open */
	uint64_t	last;			/* ranged: the last segment to open */
	uint64_t	final_seg;		/* ranged: index of the object's final segment */
	size_t		final_len;		/* ranged: plaintext bytes in it */
	bool		eof;			/* no segment left to open */
	bool		failed;
	uint8_t    *ct;				/* one sealed segment, plus one byte of look-ahead */
	size_t		carry;			/* whole read: look-ahead bytes already in ct */
	uint8_t    *pt;				/* plaintext of the segment last opened */
	size_t		pt_pos;
	size_t		pt_len;
	size_t		skip;			/* bytes to drop from the first segment opened */
	uint64_t	remaining;		/* bytes still to deliver; UINT64_MAX: to the end */
} CipherRead;

typedef struct CipherWrite
{
	StorageWrite base;
	StorageWrite *inner;
	EVP_CIPHER_CTX *ctx;
	char	   *path;
	uint8_t		header[HDR_LEN];
	uint64_t	seg;			/* index of the segment being filled */
	uint8_t    *pt;
	size_t		pt_len;
	uint8_t    *out;			/* one sealed segment */
} CipherWrite;

/* ------------------------------------------------------------ sizes */

static uint64_t
segment_count(uint64_t plain)
{
	if (plain == 0)
		return 1;
	return plain / SEG_SIZE + (plain % SEG_SIZE != 0);
}

uint64_t
cipher_stored_size(uint64_t plain)
{
	return HDR_LEN + plain + TAG_LEN * segment_count(plain);
}

bool
cipher_plain_size(uint64_t stored, uint64_t *plain)
{
	uint64_t	n;
	uint64_t	nseg;
	uint64_t	p;

	if (stored < HDR_LEN + TAG_LEN)
		return false;
	n = stored - HDR_LEN;
	nseg = n / SEALED_LEN + (n % SEALED_LEN != 0);
	if (n < TAG_LEN * nseg)
		return false;
	p = n - TAG_LEN * nseg;
	if (cipher_stored_size(p) != stored)
		return false;
	*plain = p;
	return true;
}

/* ------------------------------------------------------------ crypto */

static int
oom(PgbError *err)
{
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

static int
auth_failed(const char *path, PgbError *err)
{
	return pgb_error(err, EXIT_CORRUPT,
					 "encrypted object \"%s\" failed authentication (wrong key or damaged object)", path);
}

static void
make_header(uint8_t header[HDR_LEN], const uint8_t salt[SALT_LEN])
{
	memcpy(header, "PGBE", 4);
	header[4] = CIPHER_ENVELOPE_VERSION;
	header[5] = CIPHER_ID_AES_256_GCM;
	header[6] = CIPHER_SEGMENT_LOG2;
	header[7] = 0;
	memcpy(header + SALT_OFFSET, salt, SALT_LEN);
}

/* The header is also authenticated (it is the AAD); this only gives clearer messages. */
static int
check_header(const uint8_t header[HDR_LEN], const char *path, PgbError *err)
{
	if (memcmp(header, "PGBE", 4) != 0)
		return pgb_error(err, EXIT_CORRUPT,
						 "object \"%s\" is not encrypted or its header is damaged", path);
	if (header[4] != CIPHER_ENVELOPE_VERSION)
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" has envelope version %u; this pgbkp reads version %d",
						 path, header[4], CIPHER_ENVELOPE_VERSION);
	if (header[5] != CIPHER_ID_AES_256_GCM)
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" uses unknown cipher id %u", path, header[5]);
	if (header[6] != CIPHER_SEGMENT_LOG2 || header[7] != 0)
		return pgb_error(err, EXIT_CORRUPT,
						 "encrypted object \"%s\" has an unsupported segment size or a damaged header", path);
	return 0;
}

/* The object key: HKDF-SHA256(data key, object salt, "pgbkp object v1" NUL path). */
static int
derive_object_key(CipherStorage *cs, const uint8_t header[HDR_LEN], const char *path,
				  uint8_t out[CIPHER_KEY_LEN], PgbError *err)
{
	size_t		path_len = strlen(path);
	uint8_t		info[sizeof(HKDF_INFO) + PGB_PATH_MAX];
	EVP_KDF_CTX *kctx;
	OSSL_PARAM	params[5];
	int			ok;

	if (path_len > PGB_PATH_MAX)
		return pgb_error(err, EXIT_IO, "path too long: \"%.64s...\"", path);
	memcpy(info, HKDF_INFO, sizeof(HKDF_INFO));
	memcpy(info + sizeof(HKDF_INFO), path, path_len);
	kctx = EVP_KDF_CTX_new(cs->hkdf);
	if (kctx == NULL)
		return oom(err);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, cs->key, CIPHER_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
												  (void *) (header + SALT_OFFSET), SALT_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
												  sizeof(HKDF_INFO) + path_len);
	params[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, CIPHER_KEY_LEN, params);
	EVP_KDF_CTX_free(kctx);
	if (ok != 1)
		return pgb_error(err, EXIT_INTERNAL, "could not derive the key of encrypted object \"%s\"", path);
	return 0;
}

/* A GCM context keyed with the object key of (header, path), for sealing or opening. */
static EVP_CIPHER_CTX *
object_ctx_new(CipherStorage *cs, const uint8_t header[HDR_LEN], const char *path,
			   bool encrypt, PgbError *err)
{
	uint8_t		key[CIPHER_KEY_LEN];
	EVP_CIPHER_CTX *ctx;

	if (derive_object_key(cs, header, path, key, err) != 0)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
		EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, encrypt ? 1 : 0) != 1)
	{
		EVP_CIPHER_CTX_free(ctx);
		OPENSSL_cleanse(key, sizeof(key));
		pgb_error(err, EXIT_INTERNAL, "could not set up AES-256-GCM");
		return NULL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return ctx;
}

static void
make_nonce(uint8_t nonce[NONCE_LEN], uint64_t index, bool final)
{
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t) (index >> (56 - 8 * i));
	nonce[8] = nonce[9] = nonce[10] = 0;
	nonce[11] = final ? FLAG_FINAL : 0;
}

/* Seal len plaintext bytes into out: ciphertext, then the tag. */
static int
seal_segment(EVP_CIPHER_CTX *ctx, const uint8_t header[HDR_LEN], uint64_t index, bool final,
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t		nonce[NONCE_LEN];
	int			outl;

	make_nonce(nonce, index, final);
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
		EVP_EncryptUpdate(ctx, NULL, &outl, header, HDR_LEN) != 1)
		return -1;
	if (len > 0 && (EVP_EncryptUpdate(ctx, out, &outl, in, (int) len) != 1 || (size_t) outl != len))
		return -1;
	if (EVP_EncryptFinal_ex(ctx, out + len, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + len) != 1)
		return -1;
	return 0;
}

/* Open a sealed segment (len ciphertext bytes, then the tag) into out; -1 unless it verifies. */
static int
open_segment(EVP_CIPHER_CTX *ctx, const uint8_t header[HDR_LEN], uint64_t index, bool final,
			 const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t		nonce[NONCE_LEN];
	uint8_t		tag[TAG_LEN];
	int			outl;

	make_nonce(nonce, index, final);
	memcpy(tag, in + len, TAG_LEN);
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &outl, header, HDR_LEN) != 1)
		return -1;
	if (len > 0 && (EVP_DecryptUpdate(ctx, out, &outl, in, (int) len) != 1 || (size_t) outl != len))
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
		EVP_DecryptFinal_ex(ctx, out + len, &outl) <= 0)
	{
		OPENSSL_cleanse(out, len);
		return -1;
	}
	return 0;
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
	return check_header(header, path, err);
}

static void
cipher_read_close(StorageRead *base)
{
	CipherRead *r = (CipherRead *) base;

	storage_read_close(r->inner);
	EVP_CIPHER_CTX_free(r->ctx);
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
	r->final_seg = segment_count(plain) - 1;
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

static StorageRead *
cipher_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	CipherRead *r = calloc(1, sizeof(CipherRead));

	if (r == NULL || (r->path = strdup(path)) == NULL ||
		(r->ct = malloc(SEALED_LEN + 1)) == NULL || (r->pt = malloc(SEG_SIZE)) == NULL)
	{
		oom(err);
		goto fail;
	}
	r->base.storage = s;
	if (offset == 0 && length == 0)
	{
		r->remaining = UINT64_MAX;
		r->inner = storage_open_read(cs->inner, path, 0, 0, err);
		if (r->inner == NULL || read_header(r->inner, r->header, path, err) != 0)
			goto fail;
	}
	else if (open_ranged(cs, r, offset, length, err) != 0)
		goto fail;
	if (!r->eof && (r->ctx = object_ctx_new(cs, r->header, path, false, err)) == NULL)
		goto fail;
	return &r->base;

fail:
	if (r != NULL)
		cipher_read_close(&r->base);
	return NULL;
}

/* Read, verify and decrypt the next segment into r->pt. */
static int
next_segment(CipherRead *r, PgbError *err)
{
	size_t		got;
	size_t		clen;
	bool		final;

	if (r->ranged)
	{
		size_t		want;

		final = r->seg == r->final_seg;
		want = final ? r->final_len + TAG_LEN : SEALED_LEN;
		if (inner_read_full(r->inner, r->ct, want, &got, err) != 0)
			return -1;
		if (got < want)
			return auth_failed(r->path, err);
		clen = want - TAG_LEN;
		r->eof = r->seg == r->last;
	}
	else
	{
		/* one byte beyond a full segment tells whether it is the last */
		if (inner_read_full(r->inner, r->ct + r->carry, SEALED_LEN + 1 - r->carry, &got, err) != 0)
			return -1;
		got += r->carry;
		r->carry = 0;
		if (got == SEALED_LEN + 1)
		{
			final = false;
			clen = SEG_SIZE;
		}
		else
		{
			if (got < TAG_LEN)
				return auth_failed(r->path, err);
			final = true;
			clen = got - TAG_LEN;
			r->eof = true;
		}
	}
	if (open_segment(r->ctx, r->header, r->seg, final, r->ct, clen, r->pt) != 0)
		return auth_failed(r->path, err);
	/* a segment opened with this header as AAD: header and size are authentic, remember them */
	if (r->ranged && !r->layout_known)
	{
		layout_put((CipherStorage *) r->base.storage, r->path, r->stored, r->header);
		r->layout_known = true;
	}
	if (!r->ranged && !final)
	{
		r->ct[0] = r->ct[SEALED_LEN];
		r->carry = 1;
	}
	if (r->skip > clen)
		return auth_failed(r->path, err);
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
		if (next_segment(r, err) != 0)
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
	memcpy(buf, r->pt + r->pt_pos, n);
	r->pt_pos += n;
	return (ssize_t) n;
}

/* ------------------------------------------------------------ writes */

static void
write_free(CipherWrite *w)
{
	EVP_CIPHER_CTX_free(w->ctx);
	if (w->pt != NULL)
		OPENSSL_cleanse(w->pt, SEG_SIZE);
	free(w->pt);
	free(w->out);
	free(w->path);
	free(w);
}

static StorageWrite *
cipher_open_write(Storage *s, const char *path, PgbError *err)
{
	CipherStorage *cs = (CipherStorage *) s;
	CipherWrite *w = calloc(1, sizeof(CipherWrite));
	uint8_t		salt[SALT_LEN];

	if (w == NULL || (w->path = strdup(path)) == NULL ||
		(w->pt = malloc(SEG_SIZE)) == NULL || (w->out = malloc(SEALED_LEN)) == NULL)
	{
		oom(err);
		goto fail;
	}
	w->base.storage = s;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
	{
		pgb_error(err, EXIT_INTERNAL, "could not generate random bytes");
		goto fail;
	}
	make_header(w->header, salt);
	w->ctx = object_ctx_new(cs, w->header, path, true, err);
	if (w->ctx == NULL)
		goto fail;
	w->inner = storage_open_write(cs->inner, path, err);
	if (w->inner == NULL)
		goto fail;
	if (storage_write(w->inner, w->header, HDR_LEN, err) != 0)
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
seal_and_write(CipherWrite *w, bool final, PgbError *err)
{
	if (seal_segment(w->ctx, w->header, w->seg, final, w->pt, w->pt_len, w->out) != 0)
		return pgb_error(err, EXIT_INTERNAL, "could not encrypt \"%s\"", w->path);
	if (storage_write(w->inner, w->out, w->pt_len + TAG_LEN, err) != 0)
		return -1;
	w->seg++;
	w->pt_len = 0;
	return 0;
}

static int
cipher_write(StorageWrite *base, const void *buf, size_t len, PgbError *err)
{
	CipherWrite *w = (CipherWrite *) base;
	const uint8_t *p = buf;

	while (len > 0)
	{
		size_t		take;

		/* a full segment is sealed only once more data shows it is not the last */
		if (w->pt_len == SEG_SIZE && seal_and_write(w, false, err) != 0)
			return -1;
		take = SEG_SIZE - w->pt_len;
		if (take > len)
			take = len;
		memcpy(w->pt + w->pt_len, p, take);
		w->pt_len += take;
		p += take;
		len -= take;
	}
	return 0;
}

static int
cipher_commit(StorageWrite *base, bool no_overwrite, bool *existed, PgbError *err)
{
	CipherWrite *w = (CipherWrite *) base;
	int			rc;

	*existed = false;
	if (seal_and_write(w, true, err) != 0)
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

static void
cipher_free(Storage *s)
{
	CipherStorage *cs = (CipherStorage *) s;

	storage_free(cs->inner);
	OPENSSL_cleanse(cs->key, sizeof(cs->key));
	EVP_KDF_free(cs->hkdf);
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
	cs->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (cs->hkdf == NULL)
	{
		free(cs->base.description);
		free(cs);
		pgb_error(err, EXIT_INTERNAL, "OpenSSL has no HKDF");
		return NULL;
	}
	cs->base.driver = &cipher_driver;
	cs->inner = inner;
	memcpy(cs->key, key, CIPHER_KEY_LEN);
	pthread_mutex_init(&cs->layout_lock, NULL);
	return &cs->base;
}
