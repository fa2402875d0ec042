/*
 * A byte sink: where a stage of a pipeline pushes its output.  Every
 * transformer (compressor, decompressor, object codec) writes into one, so
 * stages compose without buffering whole files.
 */
#ifndef PGBKP_SINK_H
#define PGBKP_SINK_H

#include <stddef.h>
#include "common/error.h"

/* Consume len bytes; return 0, or -1 with err set. */
typedef int (*ByteSink) (void *arg, const void *buf, size_t len, PgbError *err);

/* A sink that discards everything (verification passes). */
int			sink_discard(void *arg, const void *buf, size_t len, PgbError *err);

#endif
