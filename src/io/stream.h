/*
 * Streams: the one interface of pgbkp's data path.  A stage takes bytes
 * (write), is told when they end (finish), and passes what it produces to
 * the next stage.  Observers (SHA-256, size, page checksums, block maps)
 * pass their input on unchanged and keep a result; transformers (zstd,
 * object framing) pass on other bytes; ends (a file descriptor, a fixed
 * buffer, storage, discard) have no next.  Backup, restore, verify and the
 * WAL archive assemble the same stages in different directions:
 *
 *   backup   file -> sha256 -> block map -> zstd -> bundle
 *   restore  bundle -> zstd^-1 -> sha256 -> pwrite
 *   archive  file -> object(sha256 + zstd) -> storage
 *
 * finish ends one stage's input and flushes what it holds into its next; it
 * does not finish the next (a bundle outlives the frames written into it):
 * stage_finish_chain finishes a run of stages in order.  A ByteSink is the
 * callback face of the same idea, for producers that write into a function
 * (stage_sink adapts a stage to one, callback_stage_new the other way).
 */
#ifndef PGBKP_STREAM_H
#define PGBKP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"

/* Consume len bytes; return 0, or -1 with err set. */
typedef int (*ByteSink) (void *arg, const void *buf, size_t len, PgbError *err);

typedef struct Stage Stage;

typedef struct StageOps
{
	int			(*write) (Stage *s, const void *buf, size_t len, PgbError *err);
	int			(*finish) (Stage *s, PgbError *err);	/* NULL: nothing held */
	void		(*free) (Stage *s); /* NULL: free(s) */
} StageOps;

struct Stage
{
	const StageOps *ops;
	Stage	   *next;			/* NULL for an end */
};

static inline int
stage_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	return s->ops->write(s, buf, len, err);
}

/* Hand bytes to s->next (nothing happens without one). */
static inline int
stage_pass(Stage *s, const void *buf, size_t len, PgbError *err)
{
	return s->next ? s->next->ops->write(s->next, buf, len, err) : 0;
}

/* End the input of s alone. */
int			stage_finish(Stage *s, PgbError *err);
/* Finish head, head->next, ... up to, not including, stop (NULL: to the end). */
int			stage_finish_chain(Stage *head, const Stage *stop, PgbError *err);
/* Free one stage (accepts NULL); the chain variant frees up to stop. */
void		stage_free(Stage *s);
void		stage_free_chain(Stage *head, const Stage *stop);

/*
 * For stage implementations: allocate a zeroed struct of size bytes that
 * starts with a Stage; NULL with err set when out of memory.
 */
void	   *stage_new(size_t size, const StageOps *ops, Stage *next, PgbError *err);

/* ByteSink adapter: arg is a Stage. */
int			stage_sink(void *arg, const void *buf, size_t len, PgbError *err);

/*
 * Constructors return NULL with err set (out of memory).  Every stage with
 * a next may be given NULL for it, which drops its output.
 */

/* An end that drops everything (verification passes). */
Stage	   *discard_stage_new(PgbError *err);
/* An end that calls fn(arg, ...) for every write (MemBuf via membuf_sink). */
Stage	   *callback_stage_new(ByteSink fn, void *arg, PgbError *err);

/* An observer that counts bytes. */
Stage	   *size_stage_new(Stage *next, PgbError *err);
uint64_t	size_stage_bytes(const Stage *s);

/*
 * An end that fills a caller's buffer of cap bytes; more than cap is
 * EXIT_CORRUPT ("larger than recorded": the buffer holds a recorded size).
 */
Stage	   *fixed_stage_new(uint8_t *buf, uint64_t cap, PgbError *err);
uint64_t	fixed_stage_len(const Stage *s);
void		fixed_stage_reset(Stage *s);

/* An observer that keeps a copy of the first (up to 64) bytes seen. */
#define HEAD_STAGE_MAX 64
Stage	   *head_stage_new(Stage *next, PgbError *err);
const uint8_t *head_stage_bytes(const Stage *s, size_t *len);

/*
 * A source of bytes: read up to len bytes at offset at into buf; the number
 * read (0 at the end), or -1 with err set.
 */
typedef ssize_t (*StageSource) (void *src, void *buf, size_t len, uint64_t at, PgbError *err);

/*
 * The one read loop: read src from offset until its end or limit bytes
 * (UINT64_MAX: no limit) into head, in pieces of at most bufsize bytes read
 * into buf; *got is the number of bytes read.  Does not finish head.
 */
int			stage_pump(StageSource read, void *src, uint64_t offset, uint64_t limit,
					   uint8_t *buf, size_t bufsize, Stage *head, uint64_t *got, PgbError *err);

/* Push a memory buffer through a stage, in pieces of at most piece bytes (0: one write). */
int			stage_write_pieces(Stage *s, const void *buf, size_t len, size_t piece, PgbError *err);

#endif
