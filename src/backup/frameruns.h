/*
 * Runs of frames: the chunks a restore or a verify reads, grouped so that
 * stored chunks whose frames lie next to each other in one bundle are read
 * with one ranged read (one GET on S3, one open on posix) instead of one
 * per file.  A pgbench database of 983 files, most of them small, is about
 * a thousand frames in a few bundles: a few dozen reads.
 */
#ifndef PGBKP_FRAMERUNS_H
#define PGBKP_FRAMERUNS_H

#include <stddef.h>

#include "backup/bundle.h"
#include "repo/catalog.h"

#define FRAMERUN_BYTES (8 * 1024 * 1024)	/* one S3 read window: one GET per run */
#define FRAMERUN_GAP (256 * 1024)	/* bytes between two frames (block maps) read and dropped */

/* Chunk `chunk` of file `file` of backup m, and where its content is stored when that is one frame. */
typedef struct FrameRef
{
	const Manifest *m;
	int			file;
	int			chunk;
	size_t		order;			/* the caller's: kept among refs that are not stored frames */
	const Manifest *sm;			/* the backup whose bundle holds the frame */
	const ManifestChunk *sch;	/* the stored chunk; NULL: rebuilt another way (a delta) */
} FrameRef;

/* refs[first .. first + count): one stored frame run, or one ref with sch NULL. */
typedef struct FrameRun
{
	size_t		first;
	int			count;
} FrameRun;

/*
 * Fill ref->sm and ref->sch of chunk ref->chunk of ref->m's entry ref->file
 * (following references through the chain) when it is a stored chunk.
 */
int			frameref_resolve(const Catalog *cat, FrameRef *ref, PgbError *err);

/*
 * Sort refs (stored frames by backup, bundle and offset; the others after
 * them, by order) and group them into runs; runs must have room for n.
 * Returns the number of runs.
 */
size_t		frameruns_plan(FrameRef *refs, size_t n, FrameRun *runs);

/* Open the range that run's frames lie in. */
BundleRange *framerun_open(Repo *repo, const FrameRef *refs, const FrameRun *run, PgbError *err);

/*
 * The content of ref (a stored frame, next in br) into out, checked
 * against its manifest's size and SHA-256 (out is not finished).
 * EXIT_CORRUPT names the file and backup.
 */
int			frameref_read(BundleRange *br, const FrameRef *ref, Stage *out, PgbError *err);

#endif
