/*
 * Exit codes: the one table every command maps its errors to.  The same
 * table feeds --help and the man page, so the documented contract and the
 * program cannot drift apart.
 */
#ifndef PGBKP_EXITCODE_H
#define PGBKP_EXITCODE_H

typedef enum ExitCode
{
	EXIT_OK = 0,
	EXIT_WAL_MISSING = 1,		/* archive-get: the requested file is not archived */
	EXIT_USAGE = 2,				/* bad command line */
	EXIT_CONFIG = 3,			/* bad or missing configuration */
	EXIT_NOT_FOUND = 4,			/* repository, cluster or backup does not exist */
	EXIT_REFUSED = 5,			/* refused to overwrite or to touch a running cluster */
	EXIT_CORRUPT = 6,			/* checksum mismatch or malformed repository content */
	EXIT_DATABASE = 7,			/* could not connect to or query PostgreSQL */
	EXIT_LOCKED = 8,			/* another pgbkp holds the repository lock */
	EXIT_TARGET = 9,			/* recovery target outside the recoverable window */
	EXIT_IO = 10,				/* file system or storage failure */
	EXIT_ARCHIVE_MISMATCH = 11, /* WAL differs from the archived copy or is from another system */
	EXIT_TIMEOUT = 12,			/* WAL did not reach the repository in time */
	EXIT_INTERNAL = 13,			/* a bug: an invariant did not hold */
	EXIT_CHECK_FAILED = 14,		/* drill: restored and recovered, but a check failed */
	EXIT_INTERRUPTED = 15,		/* drill: stopped by SIGINT or SIGTERM, after cleaning up */
	EXIT_STALE = 16,			/* check: the newest backup or WAL is older than allowed, or too few backups */
	EXIT_BAD_PAGES = 17,		/* backup: kept, but pages failed their data checksums */
	EXIT_ARCHIVE_PENDING = 18,	/* archive-push (archive_async): not archived yet, reason logged within the minute */
	EXIT_RECOVERY_ABORT = 126	/* archive-get outside standby mode: stop recovery */
} ExitCode;

typedef struct ExitCodeInfo
{
	int			code;
	const char *name;
	const char *description;
} ExitCodeInfo;

/* All codes in ascending order, terminated by an entry with name NULL. */
extern const ExitCodeInfo exit_code_table[];

#endif
