/*
 * A restore run in a child process, for commands built on restore (drill,
 * pitr): the child can be stopped at once by a signal, and its plan (the
 * dry run's JSON) read back.  The restore itself is cmd_restore, unchanged.
 */
#ifndef PGBKP_RESTORE_CHILD_H
#define PGBKP_RESTORE_CHILD_H

#include <signal.h>
#include <sys/types.h>

#include "config/config.h"

/*
 * Run cmd_restore with rc in a child.  With plan, its stdout (the dry run's
 * JSON, rc->output "json") is returned in *plan (malloc'd); otherwise its
 * stdout goes to stderr.  *running holds the child's pid while it runs (a
 * signal handler may kill it); when *stop is set afterwards the result is
 * EXIT_INTERRUPTED.  The child's own error is returned as it was.
 */
int			restore_child_run(const Config *rc, char **plan, volatile pid_t *running,
							  volatile sig_atomic_t *stop, PgbError *err);

/* The plan's backup label, files and bytes (EXIT_INTERNAL when unreadable). */
int			restore_child_plan_summary(const char *plan, char *backup, size_t blen, long long *files,
									   long long *bytes, PgbError *err);

/* All of fd, read to its end, as a malloc'd string (NULL when out of memory). */
char	   *restore_child_read_fd(int fd);

#endif
