/*
 * Running another program and capturing what it says: the drill runs
 * PostgreSQL's own tools (pg_checksums, pg_amcheck) and reports their
 * findings.  stdout and stderr go to one buffer, truncated at its size (the
 * first bytes are kept: the tools name the first failures first).  The
 * child's pid is published in *running while it runs, so a signal handler
 * can stop it; the child is in its own process group.
 */
#ifndef PGBKP_SUBPROC_H
#define PGBKP_SUBPROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/*
 * Start argv[0] (an absolute path) in its own process group, stdin from
 * /dev/null, stdout and stderr to outfd, and return its pid (-1 with err).
 */
pid_t		subproc_spawn(const char *const *argv, int outfd, PgbError *err);

/*
 * Run argv[0] (an absolute path) with argv, stdin from /dev/null.  Returns
 * its exit status (0..255; 128 + N when killed by signal N), or -1 with err
 * when it could not be started.  out gets NUL-terminated output.
 */
int			subproc_run(const char *const *argv, char *out, size_t outlen,
						volatile pid_t *running, PgbError *err);

#endif
