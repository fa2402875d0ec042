/*
 * Filling a fixed buffer from data that arrives in pieces of any size: the
 * header of an object or of a delta record, a sealed segment, a WAL segment
 * being streamed.  One helper so each caller keeps only what it does once
 * the buffer is full.
 */
#ifndef PGBKP_FILL_H
#define PGBKP_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Move up to cap - *have bytes from *p (*len bytes there) to buf + *have,
 * advancing *have, *p and *len; true when buf then holds cap bytes.
 */
static inline bool
fill_from(uint8_t *buf, size_t *have, size_t cap, const uint8_t **p, size_t *len)
{
	size_t		take = cap - *have < *len ? cap - *have : *len;

	memcpy(buf + *have, *p, take);
	*have += take;
	*p += take;
	*len -= take;
	return *have == cap;
}

#endif
