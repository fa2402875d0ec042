/*
 * pgbkp's state directory (state_path, default /var/lib/pgbkp): what pgbkp
 * keeps on the local file system about a repository it must not write --
 * the job history of a pgBackRest repository.  It is laid out as a
 * cluster's namespace of a local repository, <state_path>/<cluster>/, so
 * that repo/history.c reads and writes <state_path>/<cluster>/history/
 * unchanged; it has no cluster.info and holds no backups or WAL.
 */
#ifndef PGBKP_STATEDIR_H
#define PGBKP_STATEDIR_H

#include "repo/repo.h"

/* The cluster's namespace in the state directory at path (created as it is written). */
Repo	   *statedir_open(const char *path, const char *cluster, PgbError *err);

#endif
