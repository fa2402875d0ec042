/*
 * The backups of a cluster.  A backup exists exactly when its manifest
 * object exists: backup/<label>/backup.manifest is the last object a backup
 * writes.  A backup directory without one is the leftover of an interrupted
 * backup; it is never listed, and the next backup removes it.
 */
#ifndef PGBKP_CATALOG_H
#define PGBKP_CATALOG_H

#include "manifest/manifest.h"
#include "repo/repo.h"

typedef struct Catalog
{
	int			count;
	Manifest   *backups;		/* oldest first (labels sort by time) */
	int			nincomplete;
	char	  **incomplete;		/* labels without a manifest */
	int			ncorrupt;
	char	  **corrupt;		/* labels whose manifest cannot be read */
	char	  **corrupt_error;	/* ... and why */
} Catalog;

/*
 * List the backups.  A manifest that fails its checksum or does not parse
 * does not stop the listing: it is recorded in corrupt[], never listed as a
 * backup, never removed; commands report it and verify fails on it.
 */
int			catalog_load(Repo *repo, Catalog *out, PgbError *err);
/*
 * The same keeping only each manifest's header fields (headers_only; no
 * directories, links or files), so that memory does not grow with the
 * number of backups times the number of files.
 */
int			catalog_load_headers(Repo *repo, Catalog *out, PgbError *err);
void		catalog_free(Catalog *c);
/* The backup with this label, or NULL. */
const Manifest *catalog_find(const Catalog *c, const char *label);
/* Why the manifest of the backup with this label cannot be read, or NULL if it is not corrupt. */
const char *catalog_corrupt_reason(const Catalog *c, const char *label);

int			catalog_read_manifest(Repo *repo, const char *label, Manifest *m, PgbError *err);
/*
 * Read backup label's manifest, handing each file to fn in path order
 * without holding them (manifest_parser_each_file); the object's checksum
 * is checked at its end, so fn may have seen files of a damaged manifest
 * before the error is returned.
 */
int			catalog_each_file(Repo *repo, const char *label, ManifestFileFn fn, void *arg, PgbError *err);
/*
 * The commit point of a backup: m's manifest, with its file records from
 * files(files_arg, ...) when files is not NULL (manifest_write_with).
 */
int			catalog_commit_manifest(Repo *repo, const Manifest *m, ManifestFilesFn files, void *files_arg,
									PgbError *err);
/*
 * Remove a backup: its manifest first, so that it stops existing in one
 * step, then the rest of its directory.  Interrupted in between, it leaves
 * a directory without a manifest: an incomplete backup, which the next
 * backup removes.
 */
int			catalog_remove_backup(Repo *repo, const char *label, PgbError *err);
/* Remove the leftovers of interrupted backups. */
int			catalog_remove_incomplete(Repo *repo, const Catalog *c, PgbError *err);

/* Repository paths of a backup's directory and of one of its bundles. */
int			catalog_backup_dir(const Repo *repo, const char *label, char *out);
int			catalog_bundle_path(const Repo *repo, const char *label, uint32_t bundle, char *out);

#endif
