/*
 * Streamed WAL that is not a whole segment yet: the segment pgbkp stream is
 * filling, kept as one object per segment, wal/TTTTTTTTLLLLLLLL/<name>.stream,
 * replaced as more arrives and removed once the whole segment is archived.
 * Its content is the segment's first bytes as received (not padded).  The
 * name is distinct from a promoted server's .partial so the two are never
 * confused, and older readers, which list and serve only the names in
 * walarchive.h, never see it.
 */
#ifndef PGBKP_WALSTREAM_H
#define PGBKP_WALSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "repo/repo.h"
#include "repo/walarchive.h"

/* Whether name is the in-progress object of a segment (SEGMENT.stream), and which. */
bool		walstream_object_name(const char *name, uint64_t segsize, TimeLineID *tli, SegNo *segno);

/* Replace the in-progress object of segment segname with buf[0..len). */
int			walstream_put(Repo *repo, const char *segname, const uint8_t *buf, size_t len, int level,
						  PgbError *err);

/* Remove it (absent is fine). */
int			walstream_remove(Repo *repo, const char *segname, PgbError *err);

/*
 * Write segment segname's in-progress object to dest_path, zero-padded to
 * the segment size, when it is the newest WAL of the newest timeline: the
 * segment itself and the next one are not archived and no later timeline
 * has a history file.  EXIT_WAL_MISSING otherwise.
 */
int			walstream_get_last(Repo *repo, const char *segname, const char *dest_path, PgbError *err);

/* The same, into *out (malloc'd, the segment size). */
int			walstream_read_last(Repo *repo, const char *segname, char **out, PgbError *err);

/*
 * How far the repository holds WAL: the end of its newest archived segment,
 * or of its newest in-progress object when that is further (its timeline in
 * *tli; 0 and 0 when it holds none).  The in-progress object's size comes
 * from its trailer: this reads 48 bytes, decompresses nothing and checks
 * nothing more (status and metrics call it; archive-get verifies).
 */
int			walstream_stored_end(Repo *repo, const WalList *wal, TimeLineID *tli, Lsn *end, PgbError *err);

#endif
