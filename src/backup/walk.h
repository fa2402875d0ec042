/*
 * The walk of a data directory at backup time: which directories, links and
 * files a backup contains, by PostgreSQL's documented exclusion rules
 * ("Backing Up the Data Directory"), with tablespaces followed through their
 * pg_tblspc links.
 */
#ifndef PGBKP_WALK_H
#define PGBKP_WALK_H

#include "manifest/manifest.h"

typedef struct WalkFile
{
	char	   *rel;			/* path in the backup, and on disk under the data
								 * directory (tablespaces through their pg_tblspc
								 * links); NULL once handed to the manifest */
	uint64_t	size;			/* at walk time */
	uint32_t	mode;
	int64_t		mtime;
} WalkFile;

typedef struct WalkResult
{
	int			nfiles;
	int			cap;
	WalkFile   *files;
	uint64_t	total_bytes;
} WalkResult;

/* Adds directories and tablespace links to m; files to out (sorted by path). */
int			walk_data_dir(const char *pgdata, Manifest *m, WalkResult *out, PgbError *err);
void		walk_result_free(WalkResult *w);

/* Exposed for unit tests: is this entry left out of a backup? */
bool		walk_excluded(const char *rel_dir, const char *name, bool is_dir);

#endif
