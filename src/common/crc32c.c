/* CRC-32C, table-driven, one byte at a time (see crc32c.h). */
#include <pthread.h>

#include "common/crc32c.h"

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
make_table(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78 & (0U - (c & 1)));
		table[i] = c;
	}
}

uint32_t
crc32c_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&table_once, make_table);
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc;
}
