/*
 * The encryption envelope (see cipher_envelope.h for the format): sizes,
 * the header, key derivation, sealing and opening one segment, and the
 * two streaming stages built on them.  Each EnvelopeObject has its own
 * EVP_CIPHER_CTX, keyed once with the object key and re-initialised with
 * a new nonce for every segment.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/fileio.h"
#include "io/fill.h"
#include "storage/cipher_envelope.h"

#define SEG_SIZE ((size_t) CIPHER_SEGMENT_SIZE)
#define HDR_LEN CIPHER_HEADER_LEN
#define TAG_LEN CIPHER_TAG_LEN
#define SEALED_LEN CIPHER_SEALED_LEN
#define SALT_OFFSET 8
#define SALT_LEN 32
#define NONCE_LEN 12
#define FLAG_FINAL 1
#define HKDF_INFO "pgbkp object v1"	/* followed by its NUL, then the path */

struct EnvelopeKey
{
	uint8_t		key[CIPHER_KEY_LEN];
	EVP_KDF    *hkdf;
};

struct EnvelopeObject
{
	EVP_CIPHER_CTX *ctx;
	uint8_t		header[HDR_LEN];	/* the AAD of every segment */
};

struct EnvelopeSeal
{
	EnvelopeObject *obj;
	char	   *path;
	ByteSink	sink;
	void	   *arg;
	uint64_t	seg;			/* index of the segment being filled */
	uint8_t    *pt;				/* its plaintext */
	size_t		pt_len;
	uint8_t    *out;			/* one sealed segment */
};

struct EnvelopeOpen
{
	const EnvelopeKey *key;
	EnvelopeObject *obj;		/* once the header is complete */
	char	   *path;
	ByteSink	sink;
	void	   *arg;
	uint8_t		header[HDR_LEN];
	size_t		header_len;
	uint64_t	seg;			/* index of the next segment to open */
	uint8_t    *ct;				/* one sealed segment, plus one byte of look-ahead */
	size_t		ct_len;
	uint8_t    *pt;				/* plaintext of the segment last opened */
	bool		finished;
};

static int
oom(PgbError *err)
{
	return pgb_error(err, EXIT_INTERNAL, "out of memory");
}

/* ------------------------------------------------------------ sizes */

uint64_t
envelope_segment_count(uint64_t plain)
{
	if (plain == 0)
		return 1;
	return plain / SEG_SIZE + (plain % SEG_SIZE != 0);
}

uint64_t
cipher_stored_size(uint64_t plain)
{
	return HDR_LEN + plain + TAG_LEN * envelope_segment_count(plain);
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

/* ------------------------------------------------------------ header and keys */

int
envelope_auth_failed(const char *path, PgbError *err)
{
	return pgb_error(err, EXIT_CORRUPT,
					 "encrypted object \"%s\" failed authentication (wrong key or damaged object)", path);
}

int
envelope_header_new(uint8_t header[HDR_LEN], PgbError *err)
{
	uint8_t		salt[SALT_LEN];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return pgb_error(err, EXIT_INTERNAL, "could not generate random bytes");
	memcpy(header, "PGBE", 4);
	header[4] = CIPHER_ENVELOPE_VERSION;
	header[5] = CIPHER_ID_AES_256_GCM;
	header[6] = CIPHER_SEGMENT_LOG2;
	header[7] = 0;
	memcpy(header + SALT_OFFSET, salt, SALT_LEN);
	return 0;
}

/* The header is also authenticated (it is the AAD); this only gives clearer messages. */
int
envelope_header_check(const uint8_t header[HDR_LEN], const char *path, PgbError *err)
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

EnvelopeKey *
envelope_key_new(const uint8_t key[CIPHER_KEY_LEN], PgbError *err)
{
	EnvelopeKey *k = calloc(1, sizeof(EnvelopeKey));

	if (k == NULL)
	{
		oom(err);
		return NULL;
	}
	k->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (k->hkdf == NULL)
	{
		free(k);
		pgb_error(err, EXIT_INTERNAL, "OpenSSL has no HKDF");
		return NULL;
	}
	memcpy(k->key, key, CIPHER_KEY_LEN);
	return k;
}

void
envelope_key_free(EnvelopeKey *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k->key, sizeof(k->key));
	EVP_KDF_free(k->hkdf);
	free(k);
}

/* The object key: HKDF-SHA256(data key, object salt, "pgbkp object v1" NUL path). */
static int
derive_object_key(const EnvelopeKey *k, const uint8_t header[HDR_LEN], const char *path,
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
	kctx = EVP_KDF_CTX_new(k->hkdf);
	if (kctx == NULL)
		return oom(err);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) k->key, CIPHER_KEY_LEN);
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

/* ------------------------------------------------------------ one object's segments */

EnvelopeObject *
envelope_object_new(const EnvelopeKey *k, const uint8_t header[HDR_LEN], const char *path,
					bool seal, PgbError *err)
{
	uint8_t		key[CIPHER_KEY_LEN];
	EnvelopeObject *o;

	if (derive_object_key(k, header, path, key, err) != 0)
		return NULL;
	if ((o = calloc(1, sizeof(EnvelopeObject))) == NULL)
	{
		OPENSSL_cleanse(key, sizeof(key));
		oom(err);
		return NULL;
	}
	memcpy(o->header, header, HDR_LEN);
	o->ctx = EVP_CIPHER_CTX_new();
	if (o->ctx == NULL ||
		EVP_CipherInit_ex(o->ctx, EVP_aes_256_gcm(), NULL, key, NULL, seal ? 1 : 0) != 1)
	{
		envelope_object_free(o);
		OPENSSL_cleanse(key, sizeof(key));
		pgb_error(err, EXIT_INTERNAL, "could not set up AES-256-GCM");
		return NULL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return o;
}

void
envelope_object_free(EnvelopeObject *o)
{
	if (o == NULL)
		return;
	EVP_CIPHER_CTX_free(o->ctx);
	free(o);
}

static void
make_nonce(uint8_t nonce[NONCE_LEN], uint64_t index, bool final)
{
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t) (index >> (56 - 8 * i));
	nonce[8] = nonce[9] = nonce[10] = 0;
	nonce[11] = final ? FLAG_FINAL : 0;
}

int
envelope_object_seal(EnvelopeObject *o, uint64_t index, bool final,
					 const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = o->ctx;
	uint8_t		nonce[NONCE_LEN];
	int			outl;

	make_nonce(nonce, index, final);
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
		EVP_EncryptUpdate(ctx, NULL, &outl, o->header, HDR_LEN) != 1)
		return -1;
	if (len > 0 && (EVP_EncryptUpdate(ctx, out, &outl, in, (int) len) != 1 || (size_t) outl != len))
		return -1;
	if (EVP_EncryptFinal_ex(ctx, out + len, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + len) != 1)
		return -1;
	return 0;
}

int
envelope_object_open(EnvelopeObject *o, uint64_t index, bool final,
					 const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = o->ctx;
	uint8_t		nonce[NONCE_LEN];
	uint8_t		tag[TAG_LEN];
	int			outl;

	make_nonce(nonce, index, final);
	memcpy(tag, in + len, TAG_LEN);
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &outl, o->header, HDR_LEN) != 1)
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

/* ------------------------------------------------------------ sealing stream */

EnvelopeSeal *
envelope_seal_new(const EnvelopeKey *k, const char *path, ByteSink sink, void *arg, PgbError *err)
{
	EnvelopeSeal *s = calloc(1, sizeof(EnvelopeSeal));
	uint8_t		header[HDR_LEN];

	if (s == NULL || (s->path = strdup(path)) == NULL ||
		(s->pt = malloc(SEG_SIZE)) == NULL || (s->out = malloc(SEALED_LEN)) == NULL)
	{
		oom(err);
		goto fail;
	}
	s->sink = sink;
	s->arg = arg;
	if (envelope_header_new(header, err) != 0 ||
		(s->obj = envelope_object_new(k, header, path, true, err)) == NULL ||
		sink(arg, header, HDR_LEN, err) != 0)
		goto fail;
	return s;

fail:
	envelope_seal_free(s);
	return NULL;
}

static int
seal_and_pass(EnvelopeSeal *s, bool final, PgbError *err)
{
	if (envelope_object_seal(s->obj, s->seg, final, s->pt, s->pt_len, s->out) != 0)
		return pgb_error(err, EXIT_INTERNAL, "could not encrypt \"%s\"", s->path);
	if (s->sink(s->arg, s->out, s->pt_len + TAG_LEN, err) != 0)
		return -1;
	s->seg++;
	s->pt_len = 0;
	return 0;
}

int
envelope_seal_push(EnvelopeSeal *s, const void *buf, size_t len, PgbError *err)
{
	const uint8_t *p = buf;

	while (len > 0)
	{
		/* a full segment is sealed only once more data shows it is not the last */
		if (s->pt_len == SEG_SIZE && seal_and_pass(s, false, err) != 0)
			return -1;
		fill_from(s->pt, &s->pt_len, SEG_SIZE, &p, &len);
	}
	return 0;
}

int
envelope_seal_finish(EnvelopeSeal *s, PgbError *err)
{
	return seal_and_pass(s, true, err);
}

void
envelope_seal_free(EnvelopeSeal *s)
{
	if (s == NULL)
		return;
	envelope_object_free(s->obj);
	if (s->pt != NULL)
		OPENSSL_cleanse(s->pt, SEG_SIZE);
	free(s->pt);
	free(s->out);
	free(s->path);
	free(s);
}

/* ------------------------------------------------------------ opening stream */

EnvelopeOpen *
envelope_open_new(const EnvelopeKey *k, const char *path, ByteSink sink, void *arg, PgbError *err)
{
	EnvelopeOpen *o = calloc(1, sizeof(EnvelopeOpen));

	if (o == NULL || (o->path = strdup(path)) == NULL ||
		(o->ct = malloc(SEALED_LEN + 1)) == NULL || (o->pt = malloc(SEG_SIZE)) == NULL)
	{
		oom(err);
		envelope_open_free(o);
		return NULL;
	}
	o->key = k;
	o->sink = sink;
	o->arg = arg;
	return o;
}

size_t
envelope_open_want(const EnvelopeOpen *o)
{
	if (o->header_len < HDR_LEN)
		return HDR_LEN - o->header_len;
	return SEALED_LEN + 1 - o->ct_len;
}

/* Open the segment of clen ciphertext bytes at the start of o->ct and pass its plaintext on. */
static int
open_and_pass(EnvelopeOpen *o, size_t clen, bool final, PgbError *err)
{
	if (envelope_object_open(o->obj, o->seg, final, o->ct, clen, o->pt) != 0)
		return envelope_auth_failed(o->path, err);
	o->seg++;
	return clen > 0 ? o->sink(o->arg, o->pt, clen, err) : 0;
}

int
envelope_open_push(EnvelopeOpen *o, const void *buf, size_t len, PgbError *err)
{
	const uint8_t *p = buf;

	while (len > 0)
	{
		size_t		take = envelope_open_want(o);

		if (take > len)
			take = len;
		if (o->header_len < HDR_LEN)
		{
			memcpy(o->header + o->header_len, p, take);
			o->header_len += take;
			if (o->header_len == HDR_LEN &&
				(envelope_header_check(o->header, o->path, err) != 0 ||
				 (o->obj = envelope_object_new(o->key, o->header, o->path, false, err)) == NULL))
				return -1;
		}
		else
		{
			memcpy(o->ct + o->ct_len, p, take);
			o->ct_len += take;
			/* one byte beyond a full segment shows it is not the last */
			if (o->ct_len == SEALED_LEN + 1)
			{
				if (open_and_pass(o, SEG_SIZE, false, err) != 0)
					return -1;
				o->ct[0] = o->ct[SEALED_LEN];
				o->ct_len = 1;
			}
		}
		p += take;
		len -= take;
	}
	return 0;
}

int
envelope_open_finish(EnvelopeOpen *o, PgbError *err)
{
	if (o->header_len < HDR_LEN)
		return pgb_error(err, EXIT_CORRUPT, "encrypted object \"%s\" is truncated", o->path);
	if (o->finished)
		return 0;
	if (o->ct_len < TAG_LEN)
		return envelope_auth_failed(o->path, err);
	if (open_and_pass(o, o->ct_len - TAG_LEN, true, err) != 0)
		return -1;
	o->finished = true;
	o->ct_len = 0;
	return 0;
}

void
envelope_open_free(EnvelopeOpen *o)
{
	if (o == NULL)
		return;
	envelope_object_free(o->obj);
	if (o->pt != NULL)
		OPENSSL_cleanse(o->pt, SEG_SIZE);
	free(o->pt);
	free(o->ct);
	free(o->path);
	free(o);
}
