/*
 * The encryption envelope: how one object's bytes are sealed with
 * AES-256-GCM, and opened again.  Pure: no storage, only bytes in and
 * bytes out, so that the storage wrapper (cipher.h) and, later, a stage
 * of a stream chain can both use it.
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
 *   does not map back to T is not an envelope.
 *
 * Three levels, each used by the one above:
 *  - sizes and the header (cipher_stored_size, envelope_header_new, ...);
 *  - EnvelopeObject, the AES-256-GCM context of one object, keyed once
 *    with its object key, that seals or opens one segment given its index
 *    (a ranged read opens just the segments it needs);
 *  - EnvelopeSeal and EnvelopeOpen, streaming stages: push bytes of any
 *    length, then finish; each passes its output (the envelope, or the
 *    verified plaintext, one segment at a time) to a ByteSink.
 * Nothing is passed on from a segment before its tag verifies; a failure
 * is EXIT_CORRUPT "... failed authentication (wrong key or damaged
 * object)" naming the path.  Plaintext buffers are wiped when freed.
 */
#ifndef PGBKP_CIPHER_ENVELOPE_H
#define PGBKP_CIPHER_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "io/sink.h"

#define CIPHER_KEY_LEN 32
#define CIPHER_HEADER_LEN 40
#define CIPHER_TAG_LEN 16
#define CIPHER_SEGMENT_LOG2 16
#define CIPHER_SEGMENT_SIZE ((uint64_t) 1 << CIPHER_SEGMENT_LOG2)
#define CIPHER_ENVELOPE_VERSION 1
#define CIPHER_ID_AES_256_GCM 1
/* a sealed segment: up to CIPHER_SEGMENT_SIZE bytes of ciphertext, then the tag */
#define CIPHER_SEALED_LEN ((size_t) CIPHER_SEGMENT_SIZE + CIPHER_TAG_LEN)

/* Size conversions of the envelope; the second returns false for a stored size no envelope has. */
uint64_t	cipher_stored_size(uint64_t plain);
bool		cipher_plain_size(uint64_t stored, uint64_t *plain);
/* Segments of an object of plain bytes: at least 1. */
uint64_t	envelope_segment_count(uint64_t plain);

/* EXIT_CORRUPT: path failed authentication; returns -1. */
int			envelope_auth_failed(const char *path, PgbError *err);

/* A new header with a fresh random salt. */
int			envelope_header_new(uint8_t header[CIPHER_HEADER_LEN], PgbError *err);
/* EXIT_CORRUPT, with a message that says what is wrong, unless header is one this pgbkp reads. */
int			envelope_header_check(const uint8_t header[CIPHER_HEADER_LEN], const char *path, PgbError *err);

/*
 * The repository data key, and the HKDF that derives object keys from it.
 * Copies key (wiped when freed).  Shared by any number of threads: it is
 * only read.
 */
typedef struct EnvelopeKey EnvelopeKey;

EnvelopeKey *envelope_key_new(const uint8_t key[CIPHER_KEY_LEN], PgbError *err);
void		envelope_key_free(EnvelopeKey *k);	/* accepts NULL */

/* One object's AES-256-GCM context, for sealing (seal true) or opening; one thread at a time. */
typedef struct EnvelopeObject EnvelopeObject;

EnvelopeObject *envelope_object_new(const EnvelopeKey *k, const uint8_t header[CIPHER_HEADER_LEN],
									const char *path, bool seal, PgbError *err);
void		envelope_object_free(EnvelopeObject *o);	/* accepts NULL */
/* Seal len (at most CIPHER_SEGMENT_SIZE) plaintext bytes into out: ciphertext, then the tag. */
int			envelope_object_seal(EnvelopeObject *o, uint64_t index, bool final,
								 const uint8_t *in, size_t len, uint8_t *out);
/* Open a sealed segment (len ciphertext bytes, then the tag) into out; -1 unless it verifies. */
int			envelope_object_open(EnvelopeObject *o, uint64_t index, bool final,
								 const uint8_t *in, size_t len, uint8_t *out);

/*
 * Sealing as a stream: new passes the header to sink at once; push keeps
 * one plaintext segment and passes each sealed one on when more data shows
 * it is not the last; finish seals the final segment.  path is the
 * object's path as bound into its key.
 */
typedef struct EnvelopeSeal EnvelopeSeal;

EnvelopeSeal *envelope_seal_new(const EnvelopeKey *k, const char *path, ByteSink sink, void *arg,
								PgbError *err);
int			envelope_seal_push(EnvelopeSeal *s, const void *buf, size_t len, PgbError *err);
int			envelope_seal_finish(EnvelopeSeal *s, PgbError *err);
void		envelope_seal_free(EnvelopeSeal *s);	/* accepts NULL */

/*
 * Opening as a stream: push the envelope's bytes in any pieces; the header
 * is checked as soon as it is complete, and each segment's plaintext goes
 * to sink once it verifies (a full segment only when one more byte shows
 * it is not the last).  finish opens the final segment: an envelope cut
 * short fails there.  The bytes handed to sink are the opener's own and
 * stay valid until its next push or finish.  envelope_open_want says how
 * many more bytes the opener needs before it can pass anything on: a
 * reader that pushes no more than that gets at most one segment per push.
 */
typedef struct EnvelopeOpen EnvelopeOpen;

EnvelopeOpen *envelope_open_new(const EnvelopeKey *k, const char *path, ByteSink sink, void *arg,
								PgbError *err);
size_t		envelope_open_want(const EnvelopeOpen *o);
int			envelope_open_push(EnvelopeOpen *o, const void *buf, size_t len, PgbError *err);
int			envelope_open_finish(EnvelopeOpen *o, PgbError *err);
void		envelope_open_free(EnvelopeOpen *o);	/* accepts NULL */

#endif
