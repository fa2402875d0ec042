/*
 * Every query pgbkp sends to PostgreSQL lives here; commands never build
 * SQL.  A DbConn is one libpq session: a backup's start and stop must run on
 * the same one.
 */
#ifndef PGBKP_DB_H
#define PGBKP_DB_H

#include <stdbool.h>
#include <stdint.h>
#include "common/timefmt.h"
#include "pg/lsn.h"

typedef struct DbConn DbConn;

typedef struct DbParams
{
	const char *host;			/* NULL: libpq default (local socket); may be a list "a,b" */
	int			port;
	const char *ports;			/* "p1,p2" for a host list; NULL: port */
	const char *user;
	const char *dbname;
	int			connect_timeout;	/* seconds per host; 0: 10 */
	const char *target_session_attrs;	/* e.g. "read-write"; NULL: any */
} DbParams;

/* What status shows of one member (see db_member_status). */
typedef struct DbMemberStatus
{
	bool		in_recovery;
	TimeLineID	timeline;
	Lsn			lsn;			/* primary: current WAL LSN; standby: last replayed */
	double		replay_delay;	/* standby: seconds since the last replayed transaction, -1 unknown */
	bool		streaming;		/* standby: a WAL receiver is streaming */
	int64_t		archived_count;
	char		last_archived_wal[64];
	TimestampUs last_archived_time; /* 0: never */
	int64_t		failed_count;
	char		last_failed_wal[64];
	TimestampUs last_failed_time;
	char		archive_mode[16];
} DbMemberStatus;

typedef struct DbServerInfo
{
	int			version_num;	/* 150018 */
	uint64_t	system_identifier;
	uint64_t	wal_segment_size;
	uint32_t	block_size;
	bool		data_checksums;
	bool		in_recovery;
	char		data_directory[4096];
	char		archive_mode[16];
	char		archive_command[1024];
} DbServerInfo;

/* A whole query result as text: rows x cols, NULL values as NULL pointers. */
typedef struct DbTable
{
	int			rows;
	int			cols;
	char	  **cells;			/* rows * cols, row-major */
} DbTable;

/* EXIT_DATABASE with libpq's message (never the password) on failure. */
DbConn	   *db_connect(const DbParams *params, PgbError *err);
void		db_close(DbConn *conn);

/*
 * Run one SQL text (no parameters) and copy its result, if any, into out
 * (zero rows and columns for a command).  EXIT_DATABASE with the server's
 * first message line on failure.  db_table_free releases out.
 */
int			db_query_table(DbConn *conn, const char *sql, DbTable *out, PgbError *err);
void		db_table_free(DbTable *t);

static inline const char *
db_table_cell(const DbTable *t, int row, int col)
{
	return t->cells[row * t->cols + col];
}

/* The host and port the session is connected to (from a host list: the one chosen). */
const char *db_host(DbConn *conn);
int			db_port(DbConn *conn);

/* Role, timeline, position and archiver state of the connected server. */
int			db_member_status(DbConn *conn, DbMemberStatus *out, PgbError *err);

int			db_server_info(DbConn *conn, DbServerInfo *out, PgbError *err);

/* Non-exclusive backup start (pg_backup_start on 15+, pg_start_backup before). */
int			db_backup_start(DbConn *conn, int version_num, const char *label, bool fast,
							Lsn *start_lsn, TimeLineID *tli, TimestampUs *start_time, PgbError *err);

/* Ends the backup begun on this session; caller frees *labelfile and *spcmapfile. */
int			db_backup_stop(DbConn *conn, int version_num, Lsn *stop_lsn, char **labelfile,
						   char **spcmapfile, TimestampUs *stop_time, PgbError *err);

/*
 * Write a restore point and switch WAL so the current segment is archived;
 * *walname is the segment that must reach the archive.
 */
int			db_switch_wal(DbConn *conn, char *walname, PgbError *err);

/* pgbkp stream as the primary sees it (see db_stream_status). */
typedef struct DbStreamStatus
{
	bool		slot_exists;
	bool		slot_active;
	bool		connected;		/* a walsender serves application_name pgbkp_stream */
	char		state[32];		/* its state: streaming, catchup, ... ("" when not connected) */
	char		sync_state[16];	/* async, sync, quorum, potential */
	bool		has_flushed;
	Lsn			flushed;		/* the flush position it reported (else the slot's restart LSN) */
	int64_t		lag_bytes;		/* the server's WAL position minus flushed; -1 unknown */
	double		lag_seconds;	/* the server's flush_lag; 0 when caught up, -1 unknown */
	bool		in_recovery;	/* the server is a standby (lag_bytes is then -1) */
} DbStreamStatus;

/* The stream's slot (slot) and connection, on the primary. */
int			db_stream_status(DbConn *conn, const char *slot, DbStreamStatus *out, PgbError *err);

/* Whether replication slot slot exists and a receiver (pgbkp stream) uses it now. */
int			db_slot_active(DbConn *conn, const char *slot, bool *active, PgbError *err);

#endif
