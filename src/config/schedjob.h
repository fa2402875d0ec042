/*
 * The keys of one entry of the schedule (pgbkp.schedule: a list of {cron,
 * command, type, name, jitter}): one table that the YAML reader checks an
 * entry's keys against and the loader stores their values through.  What the
 * values mean (a cron expression, a command the scheduler runs) is checked
 * by the scheduler; here only their length and jitter's range.
 */
#ifndef PGBKP_SCHEDJOB_H
#define PGBKP_SCHEDJOB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "config/config.h"

/*
 * 0 when key is a key of a schedule entry; else EXIT_CONFIG naming where,
 * the key (NULL: one that is not a scalar) and the keys there are.
 */
int			schedjob_check_key(const char *key, const char *where, PgbError *err);

/* A fresh entry defined at where ("FILE:LINE"); jitter unset (-1). */
int			schedjob_init(ScheduleJob *j, const char *where, PgbError *err);

/*
 * Store one key's text (where names it for messages): EXIT_CONFIG for a value
 * too long for its field, a jitter that is not seconds from 0 to 86400, or a
 * key that is not one of the table's (as schedjob_check_key).
 */
int			schedjob_set(ScheduleJob *j, const char *key, const char *value, const char *where,
						 PgbError *err);

#endif
