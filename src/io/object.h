/*
 * The repository's object container (repo/FORMAT.md, "Objects").  Every WAL
 * file, manifest and info file is stored as
 *
 *   header  16 bytes: "PGBK", kind (1), format version (1), compression (1),
 *           cipher (1), 8 reserved zero bytes
 *   payload the content, zstd-compressed (one or more frames)
 *   trailer 48 bytes: content size (u64 LE), SHA-256 of the content (32),
 *           "PGBKEND" NUL
 *
 * The encoder and decoder are stream stages (io/stream.h); they know
 * nothing of storage.  The decoder checks the header, the trailer magic,
 * the content size and the SHA-256, so a flipped or missing byte anywhere is
 * reported, never passed on as data.
 */
#ifndef PGBKP_OBJECT_H
#define PGBKP_OBJECT_H

#include <stdint.h>
#include "io/sha256.h"
#include "io/stream.h"

#define OBJECT_HEADER_SIZE 16
#define OBJECT_TRAILER_SIZE 48
#define OBJECT_FORMAT_VERSION 1

typedef enum ObjectKind
{
	OBJECT_KIND_WAL = 'W',
	OBJECT_KIND_MANIFEST = 'M',
	OBJECT_KIND_INFO = 'I',
	OBJECT_KIND_BUNDLE = 'B'	/* bundles have a header but no trailer */
} ObjectKind;

typedef struct ObjectSummary
{
	uint64_t	size;			/* content bytes */
	uint64_t	stored;			/* bytes of the whole object */
	uint8_t		sha256[SHA256_LEN]; /* of the content */
} ObjectSummary;

/* Header bytes for a new object of this kind. */
void		object_header_build(ObjectKind kind, uint8_t out[OBJECT_HEADER_SIZE]);
/* EXIT_CORRUPT unless buf is a header of this kind and a version we read. */
int			object_header_check(const uint8_t *buf, size_t len, ObjectKind kind, PgbError *err);

/* Parse a trailer (the object's last 48 bytes).  EXIT_CORRUPT if malformed. */
int			object_trailer_parse(const uint8_t *buf, size_t len, ObjectSummary *out, PgbError *err);

/*
 * The encoder, a stage: content in; header, compressed content and trailer
 * out to next.  Inside it is the chain sha256 -> zstd -> next.  The summary
 * is final after stage_finish.
 */
Stage	   *object_encoder_new(ObjectKind kind, int level, Stage *next, PgbError *err);
/* Compress with threads worker threads (zstd_compress_stage_set_threads); before the first write. */
void		object_encoder_set_threads(Stage *s, int threads);
void		object_encoder_summary(const Stage *s, ObjectSummary *out);

/*
 * The decoder, a stage: an object in, its content out to next (a discard
 * stage to only verify); inside, zstd^-1 -> sha256 -> next.  stage_finish
 * verifies the trailer: EXIT_CORRUPT on any mismatch.
 */
Stage	   *object_decoder_new(ObjectKind kind, Stage *next, PgbError *err);
void		object_decoder_summary(const Stage *s, ObjectSummary *out);

#endif
