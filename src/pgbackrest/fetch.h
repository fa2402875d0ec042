/*
 * Files of a pgBackRest archive read by pgbkp itself: `pgbackrest
 * archive-get` copies one into a private temporary directory, pgbkp reads
 * it whole into memory and removes the copy.  pgBackRest decompresses,
 * decrypts and checks it on the way, so what pgbkp reads is what
 * PostgreSQL would replay.
 */
#ifndef PGBKP_PGBR_FETCH_H
#define PGBKP_PGBR_FETCH_H

#include <stddef.h>

#include "config/config.h"

#define PGBR_SEGMENT_MAX (1u << 30)	/* PostgreSQL's largest WAL segment size */

/* A private directory under $TMPDIR (or /tmp) into out; EXIT_IO. */
int			pgbr_tempdir(char *out, size_t len, PgbError *err);

/*
 * Archive file name (a segment or NNNNNNNN.history) fetched into dir and
 * read (at most max bytes) into *data (malloc'd, NUL-terminated), *len its
 * size.  EXIT_NOT_FOUND when the archive has no such file, else
 * pgBackRest's error as pgbr_exec_ok reports it.
 */
int			pgbr_fetch(const RepoDef *def, const char *cluster, const char *dir, const char *name,
					   size_t max, char **data, size_t *len, PgbError *err);

#endif
