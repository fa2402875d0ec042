/*
 * A backup's file records, written aside as the files are stored: with a
 * million files, their chunk records alone would hold some 90 MB until the
 * manifest is written.  Each file's f and c records (manifest_out_file) go,
 * in path order, through zstd into an unnamed temporary file (O_TMPFILE in
 * $TMPDIR, else /tmp; nothing is left behind by a crash), and the manifest
 * is later assembled from them (filespill_write, a ManifestFilesFn).
 *
 * A few files are only known, or only stored, after the others: backup_label
 * and tablespace_map come from pg_backup_stop, and global/pg_control is
 * read last.  Their records stay in the manifest's own file list; the
 * records written aside are cut into segments (one zstd frame each) at
 * those paths, and filespill_write puts the kept records between them.
 */
#ifndef PGBKP_FILESPILL_H
#define PGBKP_FILESPILL_H

#include "manifest/manifest.h"

typedef struct FileSpill FileSpill;

/* keep: the paths (sorted, static) whose records stay in the manifest. */
FileSpill  *filespill_new(const char *const *keep, int nkeep, PgbError *err);
/* Write f's records; files come in path order, none of them in keep (EXIT_INTERNAL). */
int			filespill_add(FileSpill *s, const ManifestFile *f, PgbError *err);
/* No more files. */
int			filespill_end(FileSpill *s, PgbError *err);
/* Files written so far. */
int			filespill_count(const FileSpill *s);

/*
 * The manifest's file records (a ManifestFilesFn; arg is the ended spill):
 * those written aside, with m's own files (each a path in keep) in their
 * places.  Can be called again (a retried upload).
 */
int			filespill_write(void *arg, const Manifest *m, ManifestOut *o, int *nfiles, PgbError *err);

/* Closes and frees (the temporary file goes with its descriptor); NULL is harmless. */
void		filespill_free(FileSpill *s);

#endif
