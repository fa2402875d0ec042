/*
 * SHA-256 over OpenSSL's EVP interface: the checksum every stored byte is
 * verified against, as a plain hash and as a stream stage (an observer that
 * hashes and counts what passes through it on to its next).
 */
#ifndef PGBKP_SHA256_H
#define PGBKP_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "io/stream.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

typedef struct Sha256 Sha256;

Sha256	   *sha256_new(void);	/* NULL only when out of memory */
void		sha256_reset(Sha256 *h);
void		sha256_update(Sha256 *h, const void *buf, size_t len);
void		sha256_final(Sha256 *h, uint8_t out[SHA256_LEN]);
void		sha256_free(Sha256 *h);

/* One-shot digest. */
void		sha256_digest(const void *buf, size_t len, uint8_t out[SHA256_LEN]);

/* The stage: the digest and byte count are final after stage_finish. */
Stage	   *sha256_stage_new(Stage *next, PgbError *err);
void		sha256_stage_result(const Stage *s, uint8_t digest[SHA256_LEN], uint64_t *bytes);
/* Start over (a new content) without reallocating. */
void		sha256_stage_reset(Stage *s);

/* out must hold SHA256_HEX_LEN + 1 bytes. */
void		sha256_to_hex(const uint8_t in[SHA256_LEN], char *out);
/* false unless hex is exactly 64 lower-case hex digits. */
bool		sha256_from_hex(const char *hex, uint8_t out[SHA256_LEN]);

#endif
