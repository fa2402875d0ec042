/* SHA-256 on OpenSSL EVP (see sha256.h). */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "io/sha256.h"

struct Sha256
{
	EVP_MD_CTX *ctx;
};

Sha256 *
sha256_new(void)
{
	Sha256	   *h = malloc(sizeof(Sha256));

	if (h == NULL)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
	{
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void
sha256_reset(Sha256 *h)
{
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void
sha256_update(Sha256 *h, const void *buf, size_t len)
{
	if (len > 0)
		EVP_DigestUpdate(h->ctx, buf, len);
}

void
sha256_final(Sha256 *h, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, out, &n);
}

void
sha256_free(Sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
sha256_digest(const void *buf, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

void
sha256_to_hex(const uint8_t in[SHA256_LEN], char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
sha256_from_hex(const char *hex, uint8_t out[SHA256_LEN])
{
	if (strlen(hex) != SHA256_HEX_LEN)
		return false;
	for (int i = 0; i < SHA256_LEN; i++)
	{
		int			hi = hexval(hex[2 * i]);
		int			lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t) (hi << 4 | lo);
	}
	return true;
}

/* ------------------------------------------------------------------ stage */

typedef struct Sha256Stage
{
	Stage		base;
	Sha256	   *h;
	uint64_t	bytes;
	uint8_t		digest[SHA256_LEN];
} Sha256Stage;

static int
hash_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	Sha256Stage *h = (Sha256Stage *) s;

	sha256_update(h->h, buf, len);
	h->bytes += len;
	return stage_pass(s, buf, len, err);
}

static int
hash_finish(Stage *s, PgbError *err)
{
	Sha256Stage *h = (Sha256Stage *) s;

	sha256_final(h->h, h->digest);
	return 0;
}

static void
hash_free(Stage *s)
{
	sha256_free(((Sha256Stage *) s)->h);
	free(s);
}

static const StageOps hash_ops = {hash_write, hash_finish, hash_free};

Stage *
sha256_stage_new(Stage *next, PgbError *err)
{
	Sha256Stage *h = stage_new(sizeof(Sha256Stage), &hash_ops, next, err);

	if (h == NULL)
		return NULL;
	if ((h->h = sha256_new()) == NULL)
	{
		free(h);
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	return &h->base;
}

void
sha256_stage_result(const Stage *s, uint8_t digest[SHA256_LEN], uint64_t *bytes)
{
	const Sha256Stage *h = (const Sha256Stage *) s;

	if (digest)
		memcpy(digest, h->digest, SHA256_LEN);
	if (bytes)
		*bytes = h->bytes;
}

void
sha256_stage_reset(Stage *s)
{
	Sha256Stage *h = (Sha256Stage *) s;

	sha256_reset(h->h);
	h->bytes = 0;
}
