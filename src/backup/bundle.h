/*
 * Bundles: the objects that hold a backup's file contents.  Many files go
 * into one bundle, each as its own zstd frame, so a backup of thousands of
 * small files is a few large objects, and any one file can be read back with
 * one ranged read (bundle, offset, length from the manifest).  A bundle is
 * an object header followed by frames; its integrity is carried per file by
 * the SHA-256 in the manifest.
 */
#ifndef PGBKP_BUNDLE_H
#define PGBKP_BUNDLE_H

#include "manifest/manifest.h"
#include "repo/repo.h"

typedef struct BundleWriter BundleWriter;

/* Bundles of the backup label, each closed once it reaches target_bytes. */
BundleWriter *bundle_writer_new(Repo *repo, const char *label, int level, uint64_t target_bytes, PgbError *err);

/*
 * Append the file at full_path: fills mf's size, sha256, bundle, offset,
 * length.  A file that disappeared before it could be opened sets *vanished
 * (not an error: the server dropped it).  on_bytes, if set, is told of
 * progress.
 */
int			bundle_add_file(BundleWriter *bw, const char *full_path, ManifestFile *mf, bool *vanished,
							void (*on_bytes) (void *arg, uint64_t n), void *arg, PgbError *err);
/* Append content from memory (backup_label, tablespace_map). */
int			bundle_add_mem(BundleWriter *bw, const void *buf, size_t len, ManifestFile *mf, PgbError *err);
/* Commit the open bundle; report how many bundles and stored bytes. */
int			bundle_writer_finish(BundleWriter *bw, uint32_t *nbundles, uint64_t *stored, PgbError *err);
/* Abort anything uncommitted; accepts NULL. */
void		bundle_writer_free(BundleWriter *bw);

/*
 * Read one file of a backup back: decompress its frame, check its size and
 * SHA-256 against the manifest (EXIT_CORRUPT naming the file), and hand the
 * content to sink (may be sink_discard for verify).
 */
int			bundle_read_file(Repo *repo, const char *label, const ManifestFile *mf,
							 ByteSink sink, void *arg, PgbError *err);

/* Check that bundle number n of the backup starts with a valid bundle header. */
int			bundle_check_header(Repo *repo, const char *label, uint32_t n, PgbError *err);

#endif
