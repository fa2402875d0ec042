/*
 * Job history: one small object per finished job (backup, verify, expire,
 * check), kept in the cluster's namespace so that every node of the cluster,
 * and `info` / `status` run anywhere, see the same history.
 *
 * Format (repository format 1; for repo/FORMAT.md, "Job history"):
 *
 *   <cluster>/history/<YYYYMMDD-HHMMSS.uuuuuu>-<node>-<job>.json
 *   <cluster>/history/<YYYYMMDD-HHMMSS.uuuuuu>-<node>-<job>.<N>.json
 *
 *  - The time in the name is the job's start in UTC, to the microsecond
 *    (its end when the start is unknown, the time of writing when both
 *    are).  Names therefore sort by start time; the newest record is the
 *    last name in byte order.  Records with the same name prefix up to
 *    the microsecond are in no defined order among themselves.
 *  - <node> and <job> are the record's fields with every byte outside
 *    [A-Za-z0-9_.-] replaced by '_' ("unknown" when empty).  The name is
 *    not parsed back: the content is authoritative.  A reader selects
 *    names that begin with the 22-character time and end in ".json", and
 *    ignores all other names.
 *  - When the name is taken (same microsecond, node and job), the writer
 *    adds ".2", ".3", ... (up to ".99") before ".json".
 *  - Each object is a container object (see "Objects") of kind I, written
 *    once with a write that refuses to replace an existing object, never
 *    modified.  Content: one JSON object (UTF-8), every field required,
 *    unknown fields ignored:
 *
 *      format     integer  record format: 1
 *      job        string   job name ("backup-full", "verify"), 1-63 bytes
 *      command    string   backup | verify | expire | check (0-31 bytes)
 *      type       string   backup type (full, diff, incr) or "" (0-15)
 *      node       string   instance name (pg-test-1) or host name (0-127)
 *      start      integer  microseconds since the epoch, 0 if unknown
 *      end        integer  microseconds since the epoch, 0 if unknown
 *      outcome    string   ok | failed | skipped | aborted (0-15 bytes)
 *      exit_code  integer  the job's exit code (exitcode.h)
 *      bytes      integer  bytes stored by the job (backup), else 0; >= 0
 *      label      string   backup label or "" (0-31 bytes)
 *      message    string   one line, error message or note, never a
 *                          secret; readers may cut it to 255 bytes
 *
 *    Example:
 *      pg-test/history/20261125-213858.004211-pg-test-1-backup-full.json:
 *      {"format":1,"job":"backup-full","command":"backup","type":"full",
 *       "node":"pg-test-1","start":1795642738004211,"end":1795642795112233,
 *       "outcome":"ok","exit_code":0,"bytes":52428800,
 *       "label":"20261125-213858F","message":""}
 *
 *  - Pruning removes the oldest names beyond the newest `keep`.
 *
 * A record that cannot be read (its object fails its checksum, or its JSON
 * is malformed or of another format) does not stop a listing: it is listed
 * in its place with outcome "unreadable", exit_code EXIT_CORRUPT, start
 * taken from its name, other fields empty, and the reason (naming the
 * object) in message.  An object that vanishes between listing and reading
 * (a concurrent prune) is left out; any other storage error fails the
 * listing.  It is
 * never removed except by pruning, so the damage stays visible.
 */
#ifndef PGBKP_HISTORY_H
#define PGBKP_HISTORY_H

#include <stdint.h>
#include "common/timefmt.h"
#include "repo/repo.h"

#define HISTORY_FORMAT_VERSION 1
#define HISTORY_OUTCOME_UNREADABLE "unreadable"

typedef struct JobRecord
{
	char		job[64];		/* job name, e.g. "backup-full" or "verify" */
	char		command[32];	/* backup | verify | expire | check */
	char		type[16];		/* backup type or "" */
	char		node[128];		/* instance name (pg-test-1) or host name */
	TimestampUs start;
	TimestampUs end;
	char		outcome[16];	/* ok | failed | skipped | aborted (| unreadable) */
	int			exit_code;
	uint64_t	bytes;			/* bytes stored by the job (backup), 0 otherwise */
	char		label[32];		/* backup label or "" */
	char		message[256];	/* one line: error message or note; never secrets */
} JobRecord;

/*
 * Store r as a new record.  job must be non-empty and outcome one of ok,
 * failed, skipped, aborted (EXIT_INTERNAL otherwise).  Control characters
 * in message are written as spaces, and a UTF-8 sequence cut by the field
 * size is dropped.
 */
int			history_append(Repo *repo, const JobRecord *r, PgbError *err);

/*
 * The records, newest first, at most max (0 = all): *out is a malloc'd
 * array of *n records (NULL when there are none), freed with history_free.
 * Unreadable records are listed as described above; a storage failure is
 * an error.
 */
int			history_list(Repo *repo, int max, JobRecord **out, int *n, PgbError *err);
void		history_free(JobRecord *records);

/* Keep the newest `keep` records (>= 0), remove older ones; returns how many were removed, or -1. */
int			history_prune(Repo *repo, int keep, PgbError *err);

/* The object name for r (no directory), as history_append writes it without a counter. */
int			history_object_name(const JobRecord *r, char *out, size_t len);

/* JSON content of a record, and back (EXIT_CORRUPT when malformed); for tests and tools. */
char	   *history_record_to_json(const JobRecord *r);
int			history_record_from_json(const char *text, JobRecord *r, PgbError *err);

#endif
