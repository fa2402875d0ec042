/*
 * Reading and writing container objects (io/object.h) in a Storage: the
 * glue between the stream stages and the driver.  Two storage ends of a
 * stream live here too: a stage that writes into an open StorageWrite, and
 * a pump that reads a StorageRead into a chain (the one storage read loop).
 */
#ifndef PGBKP_OBJIO_H
#define PGBKP_OBJIO_H

#include "io/object.h"
#include "storage/storage.h"

/* An end that writes into w (not committed or aborted by the stage). */
Stage	   *objio_write_stage_new(StorageWrite *w, PgbError *err);
/* Point the stage at another open write (one stage for a series of objects). */
void		objio_write_stage_retarget(Stage *s, StorageWrite *w);

/*
 * Read r to its end or until limit bytes (UINT64_MAX: no limit) into head,
 * in pieces of the size of buf; *got is the number of bytes read.  Does not
 * finish head.
 */
int			objio_pump(StorageRead *r, uint64_t limit, uint8_t *buf, size_t bufsize,
					   Stage *head, uint64_t *got, PgbError *err);

/*
 * Encode content read from fd (from offset 0 until EOF) into a new object at
 * path, compressed by threads threads (0 or 1: this one).
 */
int			objio_put_fd(Storage *s, const char *path, ObjectKind kind, int level, int threads,
						 int fd, const char *fd_name, bool no_overwrite, bool *existed,
						 ObjectSummary *sum, PgbError *err);
/* Encode a memory buffer into a new object at path. */
int			objio_put_mem(Storage *s, const char *path, ObjectKind kind, int level,
						  const void *buf, size_t len, bool no_overwrite, bool *existed,
						  ObjectSummary *sum, PgbError *err);
/* Content produced on demand: write everything into sink, return 0 or -1. */
typedef int (*ObjioProducer) (ByteSink sink, void *sink_arg, void *arg, PgbError *err);

/* Encode what produce writes into a new object at path, without holding it all in memory. */
int			objio_put_produced(Storage *s, const char *path, ObjectKind kind, int level, int threads,
							   ObjioProducer produce, void *arg, bool no_overwrite, bool *existed,
							   ObjectSummary *sum, PgbError *err);

/* Decode the object at path, streaming its verified content into out (not finished). */
int			objio_get(Storage *s, const char *path, ObjectKind kind, Stage *out,
					  ObjectSummary *sum, PgbError *err);
/* Decode a small object into memory (NUL-terminated; at most max content bytes, 0: no cap). */
int			objio_get_mem(Storage *s, const char *path, ObjectKind kind, size_t max,
						  char **out, size_t *len, PgbError *err);
/* Read only the trailer (size and SHA-256 as recorded), without decoding. */
int			objio_get_trailer(Storage *s, const char *path, ObjectSummary *sum, PgbError *err);

#endif
