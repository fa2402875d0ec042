/*
 * A drill's directories: a private one made with mkdtemp under $TMPDIR
 * (mode 0700: the server's socket, its log and its hba file; short enough
 * for a unix socket path) and the data directory, inside it or an empty or
 * new --target-dir; and removing both again on every outcome.
 */
#ifndef PGBKP_DRILL_SCRATCH_H
#define PGBKP_DRILL_SCRATCH_H

#include <stdbool.h>

#include "common/error.h"
#include "common/fileio.h"

typedef struct DrillDirs
{
	char		run[PGB_PATH_MAX];	/* private: socket, log, hba */
	char		data[PGB_PATH_MAX];
	bool		data_given;		/* --target-dir */
	bool		data_existed;	/* ... and it existed (empty) */
} DrillDirs;

/* target_dir: NULL, or an absolute path that must be new or empty (EXIT_REFUSED). */
int			drill_dirs_make(const char *target_dir, DrillDirs *d, PgbError *err);

/* Remove what the drill made (a given directory that existed is emptied); err names the first failure. */
int			drill_dirs_remove(const DrillDirs *d, PgbError *err);

#endif
