/*
 * Encryption at rest: a storage driver that wraps another one and stores
 * every object sealed with AES-256-GCM.  Layers above see plaintext objects
 * (and plaintext sizes); the inner driver sees only envelopes.  Compression
 * happens above, so what is encrypted is already compressed.
 *
 * Envelope of one object (version 1), all integers big-endian:
 *
 *   header, 40 bytes:
 *     0   4  magic "PGBE"
 *     4   1  envelope version, 1
 *     5   1  cipher id, 1 = AES-256-GCM
 *     6   1  log2 of the segment size S, 16 (S = 65536)
 *     7   1  reserved, 0
 *     8  32  object salt (random, RAND_bytes, new for every write)
 *   then nseg sealed segments, each the AES-256-GCM ciphertext of up to S
 *   plaintext bytes followed by its 16-byte tag.
 *
 *   object key  = HKDF-SHA256(ikm = the repository data key (32 bytes),
 *                             salt = the object salt,
 *                             info = "pgbkp object v1" NUL path)
 *                 32 bytes; path is the object's path relative to the
 *                 storage root exactly as passed to the driver (no leading
 *                 '/'), without a terminating NUL.  Binding the path means
 *                 an object's content moved under another name fails.
 *   segment i   = AES-256-GCM under the object key,
 *                 nonce (12 bytes) = i as 8 bytes big-endian, then flags as
 *                 4 bytes big-endian: 1 for the final segment, else 0;
 *                 AAD = the 40-byte header.
 *
 *   The plaintext is cut into segments of exactly S bytes except the last,
 *   which holds 0..S bytes and is the only one sealed with the final flag.
 *   An empty object is one empty final segment; a plaintext that is a
 *   multiple of S ends with a full final segment (never an extra empty
 *   one).  So truncation at a segment boundary, extension, reordering and
 *   header changes all fail authentication.
 *
 *   Sizes (P plaintext, T stored):
 *     nseg = max(1, ceil(P / S));  T = 40 + P + 16 * nseg
 *     n = T - 40;  nseg = ceil(n / (S + 16));  P = n - 16 * nseg
 *   A stored size for which the inverse gives nseg < 1, P < 0, or a P that
 *   does not map back to T is not an envelope (EXIT_CORRUPT from info).
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
#include "storage/storage.h"

#define CIPHER_KEY_LEN 32
#define CIPHER_HEADER_LEN 40
#define CIPHER_TAG_LEN 16
#define CIPHER_SEGMENT_LOG2 16
#define CIPHER_SEGMENT_SIZE ((uint64_t) 1 << CIPHER_SEGMENT_LOG2)
#define CIPHER_ENVELOPE_VERSION 1
#define CIPHER_ID_AES_256_GCM 1

/*
 * A storage that encrypts into inner with the repository data key.  On
 * success it owns inner (freed with the result); on failure (NULL) inner is
 * still the caller's.  Copies the key (wiped when freed).  The description
 * is inner's.
 */
Storage    *storage_cipher_new(Storage *inner, const uint8_t key[CIPHER_KEY_LEN], PgbError *err);

/* Size conversions of the envelope; the second returns false for a stored size no envelope has. */
uint64_t	cipher_stored_size(uint64_t plain);
bool		cipher_plain_size(uint64_t stored, uint64_t *plain);

#endif
