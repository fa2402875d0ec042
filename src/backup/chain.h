/*
 * Backup chains: a diff or incr backup names its parent, and its chunks may
 * be references to, or deltas on, the parent's.  This module turns a chunk of
 * any backup back into its content, checked against the SHA-256 its
 * manifest records, and reads a chunk's block map (backup/parentstream.h
 * finds which one a new backup compares against).
 */
#ifndef PGBKP_CHAIN_H
#define PGBKP_CHAIN_H

#include "io/membuf.h"
#include "repo/catalog.h"

/* The parent of m in the catalog, or NULL (full backup, or parent missing). */
const Manifest *chain_parent(const Catalog *cat, const Manifest *m);

/* EXIT_CORRUPT unless every ancestor of m is in the catalog; names the first missing. */
int			chain_check(const Catalog *cat, const Manifest *m, PgbError *err);

/*
 * Emit the content of chunk c of file f (an entry of backup m) into out, in
 * order (frame -> zstd^-1 -> sha256 -> out).  A stored chunk, or a
 * reference to one, streams straight from its frame; a delta is rebuilt in
 * *buf first (MANIFEST_CHUNK_SIZE bytes, allocated when first needed; the
 * caller frees it, and may pass it again for the next chunk).  The size and
 * SHA-256 are checked against the manifest: EXIT_CORRUPT when a frame is
 * damaged, an ancestor is missing, or the content does not match.  Data
 * already given to out before a mismatch is found must be discarded
 * by the caller.
 */
int			chain_read_chunk(Repo *repo, const Catalog *cat, const Manifest *m, const ManifestFile *f,
							 int c, uint8_t **buf, Stage *out, PgbError *err);

/*
 * Follow chunk c of f (an entry of backup m) through references to the
 * backup *sm and entry *sf that hold its content: a stored chunk (one frame
 * to stream) or a delta (to rebuild with chain_read_chunk).
 */
int			chain_origin(const Catalog *cat, const Manifest *m, const ManifestFile *f, int c,
						 const Manifest **sm, const ManifestFile **sf, PgbError *err);

/*
 * Chunk c of f (an entry of backup m), written by emit into the stage it is
 * given, on its way to out (emit -> sha256 -> out), then checked against
 * the manifest's size and SHA-256.  EXIT_CORRUPT, naming the file and
 * backup, when emit finds damage or the content differs.  out is not
 * finished.
 */
typedef int (*ChainEmit) (void *arg, Stage *to, PgbError *err);

int			chain_emit_checked(const Manifest *m, const ManifestFile *f, int c, ChainEmit emit, void *arg,
							   Stage *out, PgbError *err);

/* The block map frame recorded for chunk ch of backup m, raw, appended to out. */
int			chain_read_map(Repo *repo, const Manifest *m, const ManifestChunk *ch, MemBuf *out, PgbError *err);

#endif
