/*
 * Encryption at rest: a storage driver that wraps another one and stores
 * every object sealed with AES-256-GCM.  Layers above see plaintext objects
 * (and plaintext sizes); the inner driver sees only envelopes.  Compression
 * happens above, so what is encrypted is already compressed.
 *
 * Every object is one envelope (cipher_envelope.h has the format): a
 * 40-byte header with a random salt, then segments of 64 KiB sealed
 * under a key derived from the repository data key, the salt and the
 * object's path (relative to the storage root, exactly as passed to the
 * driver).  A stored size that is not an envelope's is EXIT_CORRUPT from
 * info.
 *
 * Reading a whole object (offset 0, length 0) is one read of the inner
 * object, streamed one segment at a time; the final flag is checked, so a
 * truncated object fails.  A ranged read asks the inner driver for the
 * stored size (info), reads the header, then reads only the segments that
 * cover the range in one ranged read (header and segments are one read
 * when the range starts in the first segment); each segment is verified
 * by its index, with the final flag where it is the object's last.
 * Nothing is delivered from a segment before its tag verifies; any
 * failure is EXIT_CORRUPT "... failed authentication (wrong key or
 * damaged object)" naming the path.
 *
 * A write keeps one plaintext segment in memory and passes each sealed
 * segment to the inner write; commit seals the final segment and commits
 * the inner write (same no_overwrite / existed semantics).
 *
 * Not secret: object names and directory layout, approximate sizes, times.
 * list, remove, remove_tree and locks pass straight through to the inner
 * driver (list reports plaintext sizes; an entry whose stored size is not a
 * valid envelope size, such as a lock file, keeps its stored size).  Locks
 * and anything written through the inner storage directly (the key file)
 * are not encrypted.
 *
 * Handles are independent: several threads may each use their own read and
 * write handles of one cipher storage at the same time.
 */
#ifndef PGBKP_CIPHER_H
#define PGBKP_CIPHER_H

#include <stdint.h>
#include "storage/cipher_envelope.h"
#include "storage/storage.h"

/*
 * A storage that encrypts into inner with the repository data key.  On
 * success it owns inner (freed with the result); on failure (NULL) inner is
 * still the caller's.  Copies the key (wiped when freed).  The description
 * is inner's.
 */
Storage    *storage_cipher_new(Storage *inner, const uint8_t key[CIPHER_KEY_LEN], PgbError *err);

#endif
