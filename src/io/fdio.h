/*
 * File descriptors at both ends of a stream: a stage that writes what
 * reaches it at a running file offset (pwrite, so workers can fill
 * different parts of one file), and a pump that reads a byte range of a
 * file into a chain through a caller's buffer.
 */
#ifndef PGBKP_FDIO_H
#define PGBKP_FDIO_H

#include <stdint.h>
#include "io/stream.h"

/* An end: bytes land at offset, offset + 1, ... of fd (path names it in errors). */
Stage	   *fd_stage_new(int fd, const char *path, uint64_t offset, PgbError *err);

/*
 * Read fd from offset until its end or limit bytes (UINT64_MAX: no limit),
 * pushing each piece (at most bufsize bytes, read into buf) into head.
 * *got is the number of bytes read.  Does not finish head.
 */
int			fd_pump(int fd, const char *path, uint64_t offset, uint64_t limit,
					uint8_t *buf, size_t bufsize, Stage *head, uint64_t *got, PgbError *err);

#endif
