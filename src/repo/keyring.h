/*
 * The repository key file: a random data key (DEK) that encrypts every
 * object of an encrypted repository (storage/cipher.h), kept wrapped under
 * a key derived from the passphrase.  Changing the passphrase only rewraps
 * the DEK; the data stays as it is.
 *
 * The file is plain JSON (format 1), stored unencrypted beside the data:
 *
 *   format       1
 *   cipher       "aes-256-gcm"   (of the wrapping and of the objects)
 *   kdf          "scrypt"
 *   kdf_n        scrypt N (a power of two; 32768 by default)
 *   kdf_r        scrypt r (8)
 *   kdf_p        scrypt p (1)
 *   salt         64 hex digits: 32 random bytes, the scrypt salt
 *   nonce        24 hex digits: 12 random bytes, the wrapping nonce
 *   wrapped_key  96 hex digits: AES-256-GCM of the 32-byte DEK under
 *                KEK = scrypt(passphrase, salt, N, r, p, 32 bytes), with
 *                AAD "pgbkp keyring v1" (16 bytes, no NUL), then the
 *                16-byte tag
 *   created      seconds since the epoch
 *
 * Hex is lower-case.  A reader refuses unknown format, cipher or kdf, and
 * scrypt parameters outside sane bounds (N from 2^10 to 2^20 and at most
 * 256 MiB of scrypt memory, r 1..32, p 1..16), so a hostile file cannot
 * make it exhaust memory.
 */
#ifndef PGBKP_KEYRING_H
#define PGBKP_KEYRING_H

#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"

#define KEYRING_KEY_LEN 32
#define KEYRING_FORMAT 1
#define KEYRING_DEFAULT_N ((uint64_t) 1 << 15)

/*
 * A new key file for passphrase: *json_out (malloc'd JSON text) and the new
 * data key in dek_out.  Derives once (default N: about 0.1 s and 32 MiB).
 */
int			keyring_create(const char *passphrase, char **json_out, uint8_t dek_out[KEYRING_KEY_LEN],
						   PgbError *err);

/* keyring_create with scrypt N given (a power of two within bounds); for tests. */
int			keyring_create_n(const char *passphrase, uint64_t n, char **json_out,
							 uint8_t dek_out[KEYRING_KEY_LEN], PgbError *err);

/*
 * The data key of a key file.  EXIT_CORRUPT naming the field for a malformed
 * or unknown file; EXIT_CONFIG when the passphrase does not unwrap the key
 * (a wrong passphrase, or a damaged salt, nonce or wrapped key).
 */
int			keyring_open(const char *json, const char *passphrase, uint8_t dek_out[KEYRING_KEY_LEN],
						 PgbError *err);

/* True for well-known sample passphrases (any case) and for ones shorter than 12 characters. */
bool		keyring_passphrase_is_weak(const char *passphrase);

/* "none", or "aes-256-<anything>" in any case (each turns AES-256-GCM on). */
bool		keyring_cipher_type_valid(const char *cipher_type);

#endif
