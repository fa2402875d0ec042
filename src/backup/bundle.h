/*
 * Bundles: the objects that hold a backup's stored content.  Many chunks go
 * into one bundle, each as its own zstd frame (chunk data, a delta, or a
 * block map), so a backup of thousands of small files is a few large
 * objects, and any frame can be read back with one ranged read (bundle,
 * offset, length from the manifest).  A bundle is an object header followed
 * by frames; integrity is carried by the SHA-256s in the manifest.
 *
 * A BundleWriter belongs to one thread; several writers of one backup share
 * a BundleIds so that bundle numbers never collide.
 */
#ifndef PGBKP_BUNDLE_H
#define PGBKP_BUNDLE_H

#include <pthread.h>
#include "io/stream.h"
#include "manifest/manifest.h"
#include "repo/repo.h"

typedef struct BundleIds
{
	pthread_mutex_t lock;
	uint32_t	last;
	uint64_t	stored;			/* bytes of committed bundles */
} BundleIds;

typedef struct BundleWriter BundleWriter;

BundleWriter *bundle_writer_new(Repo *repo, const char *label, int level, uint64_t target_bytes,
								BundleIds *ids, PgbError *err);

/*
 * A frame written in pieces: begin, write any number of times, end.  begin
 * also gives the frame's stage (zstd -> the bundle), for a chain that ends
 * in it (writing into it is bundle_frame_write).
 */
int			bundle_frame_begin(BundleWriter *bw, uint32_t *bundle, uint64_t *offset, PgbError *err);
Stage	   *bundle_frame_stage(BundleWriter *bw);
int			bundle_frame_write(BundleWriter *bw, const void *buf, size_t len, PgbError *err);
int			bundle_frame_end(BundleWriter *bw, uint64_t *length, PgbError *err);
/* A whole frame from memory. */
int			bundle_put(BundleWriter *bw, const void *buf, size_t len,
					   uint32_t *bundle, uint64_t *offset, uint64_t *length, PgbError *err);

/* Commit the open bundle (if any). */
int			bundle_writer_finish(BundleWriter *bw, PgbError *err);
/* Abort anything uncommitted; accepts NULL. */
void		bundle_writer_free(BundleWriter *bw);

/*
 * Decompress one frame of backup label into out (bundle -> zstd^-1 -> out;
 * out is not finished).  EXIT_CORRUPT names the bundle.
 */
int			bundle_read_frame(Repo *repo, const char *label, uint32_t bundle, uint64_t offset,
							  uint64_t length, Stage *out, PgbError *err);

/*
 * Several frames of one bundle with one read (one ranged GET on S3): open
 * the bytes [offset, offset + length) of bundle number `bundle` of backup
 * label, then decompress the frames wanted, in order of their offsets,
 * into their stages (bytes between them, such as block maps, are read and
 * dropped).  EXIT_CORRUPT names the bundle.
 */
typedef struct BundleRange BundleRange;

BundleRange *bundle_range_open(Repo *repo, const char *label, uint32_t bundle, uint64_t offset,
							   uint64_t length, PgbError *err);
/* The frame at offset (not behind the last one read), length bytes, into out (not finished). */
int			bundle_range_frame(BundleRange *br, uint64_t offset, uint64_t length, Stage *out, PgbError *err);
/* Accepts NULL. */
void		bundle_range_close(BundleRange *br);

/* Check that bundle number n of the backup starts with a valid bundle header. */
int			bundle_check_header(Repo *repo, const char *label, uint32_t n, PgbError *err);

#endif
