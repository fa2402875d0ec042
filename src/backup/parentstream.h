/*
 * What an incremental backup needs of the backups it builds on, read as a
 * stream in path order instead of held whole: for each chunk of each file
 * of the parent, its size and SHA-256 (to store an unchanged chunk as a
 * reference) and where its block map is (to store a changed one as a
 * delta), the references already followed back through the chain.
 *
 * parent_stream_open reads the chain's manifests oldest first, each merged
 * with what the one before it resolved, into an unnamed zstd temporary
 * file (the newest one is kept, the others go as soon as they are read);
 * the copy then asks for the files in the order it hands out its tasks.
 * Memory: one file's records per manifest being read, whatever the number
 * of files.
 */
#ifndef PGBKP_PARENTSTREAM_H
#define PGBKP_PARENTSTREAM_H

#include "repo/catalog.h"

typedef struct ParentChunk
{
	uint8_t		sha256[SHA256_LEN];
	uint64_t	size;
	uint64_t	map_offset;
	uint32_t	map_bundle;		/* 0: no block map */
	uint32_t	map_length;
	int32_t		holder;			/* the catalog's index of the backup whose bundle holds the map; -1: none */
	uint32_t	unused;			/* (written to the temporary file: no uninitialised bytes) */
} ParentChunk;

typedef struct ParentFile
{
	const char *path;
	int			nchunks;
	const ParentChunk *chunks;
} ParentFile;

typedef struct ParentStream ParentStream;

/*
 * The chain from parent (in cat, headers enough) back to its full backup.
 * keep: a path whose record stays available after the stream has passed
 * it (pg_control, copied last), or NULL.
 */
ParentStream *parent_stream_open(Repo *repo, const Catalog *cat, const Manifest *parent, const char *keep,
								 PgbError *err);

/*
 * The parent's record of path, or *out NULL: paths are asked in
 * increasing order (the same one again is fine), keep at any time.  *out
 * stays valid until the next call.
 */
int			parent_stream_find(ParentStream *ps, const char *path, const ParentFile **out, PgbError *err);

void		parent_stream_free(ParentStream *ps);

#endif
