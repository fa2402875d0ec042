/* The documented table of exit codes (see exitcode.h). */
#include "common/exitcode.h"

const ExitCodeInfo exit_code_table[] = {
	{EXIT_OK, "ok", "success"},
	{EXIT_WAL_MISSING, "wal-missing", "archive-get: the requested WAL file is not in the repository"},
	{EXIT_USAGE, "usage", "invalid command line: unknown option, missing or malformed argument"},
	{EXIT_CONFIG, "config", "invalid or incomplete configuration (file, environment or option), S3 credentials the server refused, a wrong encryption passphrase, or a shared library pgbkp loads on first use (libpq, libcurl, libxml2, libmicrohttpd) missing"},
	{EXIT_NOT_FOUND, "not-found", "repository, cluster or backup set not found"},
	{EXIT_REFUSED, "refused", "refused: target directory in use by a running server or not empty, a port in use, the server is a standby (or the primary, for restore --standby), or several members claim to be the primary"},
	{EXIT_CORRUPT, "corrupt", "checksum mismatch or malformed content in the repository"},
	{EXIT_DATABASE, "database", "could not connect to PostgreSQL or a query failed, or no primary was found in the cluster"},
	{EXIT_LOCKED, "locked", "another pgbkp process holds the cluster's lock"},
	{EXIT_TARGET, "target", "recovery target outside the recoverable window, no backup reaches it, or it may lie on several timelines (choose with --target-timeline)"},
	{EXIT_IO, "io", "file system or storage error"},
	{EXIT_ARCHIVE_MISMATCH, "archive-mismatch", "WAL file differs from the archived copy or belongs to another database system"},
	{EXIT_TIMEOUT, "timeout", "WAL needed by a backup or check did not reach the repository in time, or a drill's server did not finish recovery in time"},
	{EXIT_INTERNAL, "internal", "internal error (a bug; please report it)"},
	{EXIT_CHECK_FAILED, "check-failed", "drill: the backup restored and recovered, but a check failed (see the report)"},
	{EXIT_INTERRUPTED, "interrupted", "drill: stopped by SIGINT or SIGTERM; the server it started was stopped and its directories removed"},
	{EXIT_STALE, "stale", "check with --max-backup-age, --max-archive-age, --min-backups or --archive-backlog-alert: the newest backup or archived WAL is older than allowed, there are fewer backups, or more WAL waits to be archived than allowed"},
	{EXIT_BAD_PAGES, "bad-pages", "backup: the backup completed and is kept (it is the best copy there is), but data pages failed their checksums when read; they are listed"},
	{EXIT_ARCHIVE_PENDING, "archive-pending", "archive-push with archive_async: the file is not in every repository yet and the reason was already logged less than a minute ago (PostgreSQL keeps the file and asks again)"},
	{EXIT_RECOVERY_ABORT, "recovery-abort", "archive-get failed for a reason other than a missing file while not in standby mode; PostgreSQL stops recovery instead of ending it early"},
	{0, 0, 0}
};
