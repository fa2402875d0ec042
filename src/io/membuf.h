/*
 * A growable in-memory byte buffer with a size cap, usable as a ByteSink:
 * where small objects (manifests, info files, configuration text) are
 * assembled or decoded.  The content is always NUL-terminated.
 */
#ifndef PGBKP_MEMBUF_H
#define PGBKP_MEMBUF_H

#include <stddef.h>
#include "io/stream.h"

typedef struct MemBuf
{
	char	   *buf;			/* NULL until something is added */
	size_t		len;
	size_t		cap;
	size_t		max;			/* 0: no cap */
} MemBuf;

/* Append; EXIT_CORRUPT past max, EXIT_INTERNAL when out of memory. */
int			membuf_append(MemBuf *b, const void *data, size_t len, PgbError *err);
/* ByteSink adapter: arg is a MemBuf. */
int			membuf_sink(void *arg, const void *data, size_t len, PgbError *err);
/* Hand over the buffer (never NULL on success; "" when empty) and reset b. */
char	   *membuf_take(MemBuf *b, size_t *len, PgbError *err);
void		membuf_free(MemBuf *b);

#endif
