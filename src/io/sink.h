/*
 * Kept for the headers that still include it (manifest.h): ByteSink now
 * lives with the stage interface in io/stream.h.
 */
#ifndef PGBKP_SINK_H
#define PGBKP_SINK_H

#include "io/stream.h"

#endif
