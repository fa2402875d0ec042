/*
 * The asynchronous archive-push's spool: what the pusher process has made
 * durable, in <spool_path>/pgbkp/<cluster>-<system identifier>/archive-push.
 *
 *   NAME.ok      a record: WAL file NAME, with this size and SHA-256, is
 *                durable in every configured repository; also the identity
 *                of the local file that was pushed (device, inode,
 *                modification and change times), so that archive-push for
 *                the very same file need not read it again.  Written (temporary
 *                name, fsync, rename, fsync of the directory) only after the
 *                last repository confirmed it, so a record never describes
 *                something that is not stored; a missing record only means
 *                the file is pushed again (an identical re-push succeeds).
 *   NAME.failed  why the pusher's last attempt at NAME failed (exit code,
 *                message, hint), for the archive-push waiting for NAME.
 *   pusher-CRC.lock  held (a POSIX record lock) by the pusher of the data
 *                directory whose path has CRC-32C CRC, which writes its
 *                process id into it: at most one pusher per data directory.
 *   logged       its modification time is when a failure was last logged,
 *                so PostgreSQL's log says why at most once a minute.
 *
 * Records and failure notes of names before the one PostgreSQL asks for are
 * removed: PostgreSQL archives in order and never asks for them again.
 */
#ifndef PGBKP_PUSHSPOOL_H
#define PGBKP_PUSHSPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "io/object.h"

/* The spool directory (made, mode 0700, when make). */
int			pushspool_dir(const char *spool_path, const char *cluster, uint64_t sysid, bool make, char *out,
						  size_t len, PgbError *err);

/* The identity of a local file: the same values mean the same, unchanged file. */
typedef struct PushFileId
{
	uint64_t	dev;
	uint64_t	ino;
	int64_t		mtime_ns;
	int64_t		ctime_ns;
} PushFileId;

typedef struct PushRecord
{
	ObjectSummary sum;			/* size and SHA-256 of what is stored */
	PushFileId	id;				/* the file pushed; all 0 when not known */
} PushRecord;

/* The identity of the file at path. */
int			pushspool_file_id(const char *path, PushFileId *id, PgbError *err);

/* Record that name, with sum (pushed from the file id, or NULL), is durable in every repository (durably). */
int			pushspool_record_write(const char *dir, const char *name, const ObjectSummary *sum, const PushFileId *id,
								   PgbError *err);

/* Read name's record; false when there is none (or it cannot be read). */
bool		pushspool_record_read(const char *dir, const char *name, PushRecord *out);

/* Whether the record was made from the file with this identity (never for an unknown identity). */
bool		pushspool_record_same_file(const PushRecord *r, const PushFileId *id);

/* Whether the record holds exactly this size and SHA-256. */
bool		pushspool_record_same_content(const PushRecord *r, const ObjectSummary *sum);

/* Whether name has a readable record. */
bool		pushspool_record_exists(const char *dir, const char *name);
void		pushspool_record_remove(const char *dir, const char *name);

/* Note why pushing name failed (replacing an older note). */
int			pushspool_failure_write(const char *dir, const char *name, const PgbError *why, PgbError *err);

/* The note of name into *why; false when there is none. */
bool		pushspool_failure_read(const char *dir, const char *name, PgbError *why);
void		pushspool_failure_remove(const char *dir, const char *name);

/* Remove the records and notes of names that sort before name. */
void		pushspool_prune_before(const char *dir, const char *name);

/*
 * Whether a failure should be logged now: true (and the time kept) when
 * none was logged in the last interval seconds.
 */
bool		pushspool_log_due(const char *dir, int64_t now, int interval);

/*
 * Take the pusher lock of data_dir without waiting: *fd is the descriptor
 * holding it, or -1 when another process holds it.
 */
int			pushspool_lock(const char *dir, const char *data_dir, int *fd, PgbError *err);

/* Whether a pusher holds data_dir's lock now. */
bool		pushspool_pusher_running(const char *dir, const char *data_dir);

#endif
