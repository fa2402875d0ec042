/*
 * Little-endian integers in byte buffers: every binary field of the
 * repository format (object trailers, block maps, delta records) is stored
 * this way, whatever the host's byte order; and PostgreSQL's pg_control and
 * WAL headers are read this way (they are in host order, and pgbkp supports
 * little-endian hosts).
 */
#ifndef PGBKP_BYTEORDER_H
#define PGBKP_BYTEORDER_H

#include <stdint.h>

static inline uint16_t
le_get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static inline void
le_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static inline void
le_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static inline uint32_t
le_get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline void
le_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static inline uint64_t
le_get_u64(const uint8_t *p)
{
	uint64_t	v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif
