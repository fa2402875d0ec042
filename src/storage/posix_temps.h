/*
 * Temporary files of the local-directory driver: ".NAME.tmp.PID", written
 * beside an object until its commit names it.  A writer killed (or whose
 * unlink after the committing link() failed) leaves one behind; these
 * functions find and remove those whose writer is gone.
 */
#ifndef PGBKP_STORAGE_POSIX_TEMPS_H
#define PGBKP_STORAGE_POSIX_TEMPS_H

#include <stdbool.h>
#include <stddef.h>

/* The temporary name for the object at path (absolute); -1 if too long. */
int			posix_temp_name(const char *path, char *out, size_t len);

/*
 * Remove, in dir (and below it when recursive), every temporary file whose
 * writer's process no longer exists on this host.  Best effort: returns the
 * number removed; entries it cannot read or remove are skipped.
 */
int			posix_temps_sweep(const char *dir, bool recursive);

#endif
