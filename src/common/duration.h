/*
 * Durations as operators write them for monitoring thresholds: a number of
 * seconds, or numbers with units d, h, m, s in that order ("26h", "1d12h",
 * "90m", "45s", "3600").  And back to short text ("1d 2h", "27m 5s").
 */
#ifndef PGBKP_DURATION_H
#define PGBKP_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Seconds, > 0; EXIT_USAGE naming what when malformed. */
int			duration_parse(const char *text, const char *what, int64_t *seconds, PgbError *err);

/* The two largest units, e.g. "1d 2h", "3h 0m", "59s". */
void		duration_format(int64_t seconds, char *out, size_t len);

#endif
