/*
 * The walk of a data directory at backup time: which directories, links and
 * files a backup contains, by PostgreSQL's documented exclusion rules
 * ("Backing Up the Data Directory"), with tablespaces followed through their
 * pg_tblspc links.
 */
#ifndef PGBKP_WALK_H
#define PGBKP_WALK_H

#include "manifest/manifest.h"

typedef struct WalkResult
{
	int			nfiles;
	uint64_t	total_bytes;	/* of the files, at walk time */
} WalkResult;

/*
 * Add the directories, tablespace links and files to m: each file (sorted
 * by path; tablespace files under pg_tblspc/<oid>/, which is also where
 * they are opened, through the link) with its size, mode and time at walk
 * time and the number of MANIFEST_CHUNK_SIZE chunks it starts (their
 * records are not allocated: chunks is NULL).
 */
int			walk_data_dir(const char *pgdata, Manifest *m, WalkResult *out, PgbError *err);

/* Exposed for unit tests: is this entry left out of a backup? */
bool		walk_excluded(const char *rel_dir, const char *name, bool is_dir);

#endif
