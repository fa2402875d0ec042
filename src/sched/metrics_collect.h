/*
 * Filling a MetricsSnapshot (metrics.h) from pgbkp's own data: the
 * repositories (their catalogues of backups, WAL archives and backup
 * locks) and the server's pg_stat_archiver.  These read and never log: a
 * repository that cannot be read is reported through its status and error
 * text, for the command to log and for the endpoint to serve.  The job
 * families are the scheduler's to fill, the member's role the command's.
 */
#ifndef PGBKP_METRICS_COLLECT_H
#define PGBKP_METRICS_COLLECT_H

#include "config/config.h"
#include "pg/db.h"
#include "sched/metrics.h"

/*
 * Replace s's repositories with cfg's, in configured order (at most
 * METRICS_MAX_REPOS), read now: for each its status, backups, WAL segment
 * count and backup lock.  The first repository also gives the pgbkp_*
 * values without a repository label (backups_count, backups[],
 * repo_size_bytes, the recoverable window), which are zeroed first.
 */
void		metrics_collect_repositories(const Config *cfg, MetricsSnapshot *s);

/*
 * One backup of the first repository, oldest first: counted in the
 * repository's size and, being the newest of its type so far, in
 * s->backups[] (for the collectors).
 */
void		metrics_note_backup(MetricsSnapshot *s, const char *type, TimestampUs start, TimestampUs stop,
								uint64_t size, uint64_t stored);

/*
 * Fill r for cfg's repository index, which is pgBackRest's
 * (metrics_collect_pgbr.c); with index 0 also the values without a
 * repository label.  r's name, key and locked are set by the caller.
 */
void		metrics_collect_pgbr(const Config *cfg, int index, MetricsRepo *r, MetricsSnapshot *s);

/*
 * pgbkp stream as the server of conn sees it (db_stream_status), when that
 * server is the primary and the stream is in use there (its slot exists, a
 * stream is connected, or cfg's schedule runs it); else s->stream_known is
 * false.  conn may be NULL.
 */
void		metrics_collect_stream(const Config *cfg, DbConn *conn, MetricsSnapshot *s);

/* The archiver's counters and the time of the newest archived WAL, from pg_stat_archiver. */
int			metrics_collect_archiver(DbConn *conn, MetricsSnapshot *s, PgbError *err);

#endif
