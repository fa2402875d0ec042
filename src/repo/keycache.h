/*
 * A per-user cache of unwrapped repository data keys, so that a process
 * such as archive-push (one per WAL segment) does not pay the deliberate
 * scrypt cost of the key file every time.
 *
 * The cache lives in a directory of this user on tmpfs (KEYCACHE_DIR_FMT,
 * /dev/shm/pgbkp-keys-<uid>, mode 0700, never on disk).  An entry is found
 * and unmasked only with the passphrase:
 *
 *   d     = SHA-256(key file text)
 *   name  = hex(HMAC-SHA256(passphrase, "pgbkp keycache name v1" || d))[0..32]
 *   entry = data key XOR HMAC-SHA256(passphrase, "pgbkp keycache mask v1" || d)
 *           || first 16 bytes of HMAC-SHA256(data key, "pgbkp keycache check v1" || d)
 *
 * So a changed key file or passphrase simply misses, and a damaged entry is
 * ignored.  What the cache gives up: someone who can read this user's
 * /dev/shm could test passphrases at HMAC speed instead of scrypt speed;
 * that someone can already read the configuration holding the passphrase.
 * The repository itself never holds the cache, so the key file's
 * protection there is unchanged.  Failures of the cache are never errors.
 */
#ifndef PGBKP_KEYCACHE_H
#define PGBKP_KEYCACHE_H

#include <stdbool.h>
#include <stdint.h>

#define KEYCACHE_DIR_FMT "/dev/shm/pgbkp-keys-%u"

/* The data key for this key file and passphrase, if cached. */
bool		keycache_get(const char *keyfile, const char *passphrase, uint8_t dek[32]);

/* Remember it (best effort). */
void		keycache_put(const char *keyfile, const char *passphrase, const uint8_t dek[32]);

#endif
