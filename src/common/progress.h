/*
 * Progress of a long copy.  On a terminal: one line redrawn in place (bytes,
 * rate, estimated time left).  Otherwise: a plain log line at every tenth of
 * the way, so cron mail and journals stay readable.
 */
#ifndef PGBKP_PROGRESS_H
#define PGBKP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Progress Progress;

Progress   *progress_new(const char *what, uint64_t total_bytes, bool enabled);
void		progress_add(Progress *p, uint64_t bytes);
/* Clear the line and free; accepts NULL. */
void		progress_done(Progress *p);

#endif
