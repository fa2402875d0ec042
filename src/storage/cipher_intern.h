/*
 * What the two files of the encrypting storage wrapper share, and nothing
 * outside it sees: the CipherStorage behind a Storage, its cache of object
 * layouts, and the read functions cipher_read.c implements for the driver
 * table in cipher.c (which holds writes and everything else).
 */
#ifndef PGBKP_CIPHER_INTERN_H
#define PGBKP_CIPHER_INTERN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/cipher.h"

#define SEG_SIZE ((size_t) CIPHER_SEGMENT_SIZE)
#define HDR_LEN CIPHER_HEADER_LEN
#define TAG_LEN CIPHER_TAG_LEN
#define SEALED_LEN CIPHER_SEALED_LEN

/*
 * Objects are written once and never changed, so the stored size and the
 * header of an object read by range are remembered: reading the frames of
 * a bundle one by one then costs one ranged read each, not three requests
 * (info, header, range) on object storage.  A stale entry (an object
 * removed and written again under the same name within one process) fails
 * authentication; it cannot produce wrong data.
 */
#define LAYOUT_CACHE 64
#define LAYOUT_PATH_MAX 512

typedef struct LayoutEntry
{
	char		path[LAYOUT_PATH_MAX];
	uint64_t	stored;
	uint8_t		header[HDR_LEN];
} LayoutEntry;

typedef struct CipherStorage
{
	Storage		base;
	Storage    *inner;
	EnvelopeKey *key;
	pthread_mutex_t layout_lock;
	LayoutEntry layout[LAYOUT_CACHE];
	int			layout_next;
} CipherStorage;

bool		cipher_layout_get(CipherStorage *cs, const char *path, uint64_t *stored, uint8_t *header);
void		cipher_layout_put(CipherStorage *cs, const char *path, uint64_t stored, const uint8_t *header);

/* Forget path (NULL: everything), when this process writes or removes it. */
void		cipher_layout_forget(CipherStorage *cs, const char *path);

int			cipher_oom(PgbError *err);

StorageRead *cipher_open_read(Storage *s, const char *path, uint64_t offset, uint64_t length, PgbError *err);
ssize_t		cipher_read(StorageRead *base, void *buf, size_t len, PgbError *err);
void		cipher_read_close(StorageRead *base);

#endif
