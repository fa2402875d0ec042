/*
 * CRC-32C (Castagnoli), as PostgreSQL uses for pg_control and WAL records:
 * reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
 * Incremental: crc32c_update(crc32c_init(), ...) ... crc32c_final(crc).
 */
#ifndef PGBKP_CRC32C_H
#define PGBKP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
crc32c_init(void)
{
	return 0xFFFFFFFF;
}

uint32_t	crc32c_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t
crc32c_final(uint32_t crc)
{
	return crc ^ 0xFFFFFFFF;
}

/* The CRC of one buffer. */
static inline uint32_t
crc32c(const void *data, size_t len)
{
	return crc32c_final(crc32c_update(crc32c_init(), data, len));
}

#endif
