/*
 * libpq queries (see db.h).  After every query: check the status, then the
 * shape of the result, then clear it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/libpq.h"

#include "pg/db.h"

struct DbConn
{
	PGconn	   *conn;
};

DbConn *
db_connect(const DbParams *p, PgbError *err)
{
	char		port[16];
	char		timeout[16];
	const char *keys[10];
	const char *values[10];
	int			n = 0;
	DbConn	   *c;

	snprintf(port, sizeof(port), "%d", p->port);
	snprintf(timeout, sizeof(timeout), "%d", p->connect_timeout > 0 ? p->connect_timeout : 10);
	if (p->host)
	{
		keys[n] = "host";
		values[n++] = p->host;
	}
	keys[n] = "port";
	values[n++] = p->ports ? p->ports : port;
	keys[n] = "user";
	values[n++] = p->user;
	keys[n] = "dbname";
	values[n++] = p->dbname;
	keys[n] = "application_name";
	values[n++] = "pgbkp";
	keys[n] = "connect_timeout";
	values[n++] = timeout;
	if (p->target_session_attrs)
	{
		keys[n] = "target_session_attrs";
		values[n++] = p->target_session_attrs;
	}
	keys[n] = NULL;
	values[n] = NULL;

	if (libpq_require(err) != 0)
		return NULL;
	c = calloc(1, sizeof(DbConn));
	if (c == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	c->conn = PQconnectdbParams(keys, values, 0);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		char		msg[900];
		size_t		len;

		/* libpq reports each host of a list on its own line: keep them all, on one line */
		snprintf(msg, sizeof(msg), "%s", c->conn ? PQerrorMessage(c->conn) : "out of memory");
		for (char *q = msg; *q; q++)
			if (*q == '\n')
				*q = q[1] ? ';' : '\0';
		len = strlen(msg);
		while (len > 0 && (msg[len - 1] == ';' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		pgb_error(err, EXIT_DATABASE, "could not connect to PostgreSQL at %s port %s as user \"%s\": %s",
				  p->host ? p->host : "the local socket", p->ports ? p->ports : port, p->user, msg);
		pgb_hint(err, "check --pg-host, --pg-port and --pg-user, and that the server is running");
		PQfinish(c->conn);
		free(c);
		return NULL;
	}
	return c;
}

const char *
db_host(DbConn *c)
{
	return PQhost(c->conn);
}

int
db_port(DbConn *c)
{
	return atoi(PQport(c->conn));
}

void
db_close(DbConn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->conn);
	free(c);
}

int
db_query_table(DbConn *c, const char *sql, DbTable *out, PgbError *err)
{
	PGresult   *res = PQexec(c->conn, sql);
	ExecStatusType st = PQresultStatus(res);

	memset(out, 0, sizeof(*out));
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
		msg[strcspn(msg, "\n")] = '\0';
		pgb_error(err, EXIT_DATABASE, "%s", msg);
		PQclear(res);
		return -1;
	}
	if (st == PGRES_TUPLES_OK)
	{
		out->rows = PQntuples(res);
		out->cols = PQnfields(res);
		out->cells = calloc((size_t) out->rows * out->cols + 1, sizeof(char *));
		for (int r = 0; out->cells && r < out->rows; r++)
			for (int f = 0; f < out->cols; f++)
				if (!PQgetisnull(res, r, f) &&
					(out->cells[r * out->cols + f] = strdup(PQgetvalue(res, r, f))) == NULL)
					goto oom;
		if (out->cells == NULL)
			goto oom;
	}
	PQclear(res);
	return 0;
oom:
	PQclear(res);
	db_table_free(out);
	return pgb_error(err, EXIT_INTERNAL, "out of memory reading a query result");
}

void
db_table_free(DbTable *t)
{
	for (int i = 0; t->cells && i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Run a query expected to return exactly rows x cols. */
static PGresult *
db_query(DbConn *c, const char *sql, int nparams, const char *const *params,
		 int rows, int cols, PgbError *err)
{
	PGresult   *res = PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
		msg[strcspn(msg, "\n")] = '\0';
		pgb_error(err, EXIT_DATABASE, "query failed: %s", msg);
		PQclear(res);
		return NULL;
	}
	if (PQntuples(res) != rows || PQnfields(res) != cols)
	{
		pgb_error(err, EXIT_DATABASE, "unexpected query result: got %d rows and %d columns, expected %d and %d",
				  PQntuples(res), PQnfields(res), rows, cols);
		PQclear(res);
		return NULL;
	}
	return res;
}

static int
parse_u64_field(PGresult *res, int col, uint64_t *out, PgbError *err)
{
	char	   *end;
	const char *v = PQgetvalue(res, 0, col);

	*out = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0')
		return pgb_error(err, EXIT_DATABASE, "unexpected value \"%s\" in column %d", v, col + 1);
	return 0;
}

int
db_server_info(DbConn *c, DbServerInfo *out, PgbError *err)
{
	static const char sql[] =
		"SELECT current_setting('server_version_num'),"
		" (SELECT system_identifier FROM pg_control_system()),"
		" (SELECT setting::bigint * CASE unit WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192"
		"   WHEN 'MB' THEN 1048576 ELSE 1 END FROM pg_settings WHERE name = 'wal_segment_size'),"
		" current_setting('block_size'),"
		" current_setting('data_checksums'),"
		" pg_is_in_recovery(),"
		" current_setting('data_directory'),"
		" current_setting('archive_mode'),"
		" current_setting('archive_command')";
	PGresult   *res = db_query(c, sql, 0, NULL, 1, 9, err);
	uint64_t	v;

	if (res == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (parse_u64_field(res, 0, &v, err) != 0)
		goto fail;
	out->version_num = (int) v;
	if (parse_u64_field(res, 1, &out->system_identifier, err) != 0 ||
		parse_u64_field(res, 2, &out->wal_segment_size, err) != 0 ||
		parse_u64_field(res, 3, &v, err) != 0)
		goto fail;
	out->block_size = (uint32_t) v;
	out->data_checksums = strcmp(PQgetvalue(res, 0, 4), "on") == 0;
	out->in_recovery = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	snprintf(out->data_directory, sizeof(out->data_directory), "%s", PQgetvalue(res, 0, 6));
	snprintf(out->archive_mode, sizeof(out->archive_mode), "%s", PQgetvalue(res, 0, 7));
	snprintf(out->archive_command, sizeof(out->archive_command), "%s", PQgetvalue(res, 0, 8));
	PQclear(res);
	return 0;
fail:
	PQclear(res);
	return -1;
}

static int
parse_time_field(PGresult *res, int col, TimestampUs *out, PgbError *err)
{
	char	   *end;
	const char *v = PQgetvalue(res, 0, col);

	*out = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0')
		return pgb_error(err, EXIT_DATABASE, "unexpected time value \"%s\"", v);
	return 0;
}

#define EPOCH_US "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

int
db_backup_start(DbConn *c, int version_num, const char *label, bool fast,
				Lsn *start_lsn, TimeLineID *tli, TimestampUs *start_time, PgbError *err)
{
	const char *sql = version_num >= 150000 ?
		"SELECT lsn::text, CASE WHEN pg_is_in_recovery()"
		" THEN lpad(to_hex((SELECT timeline_id FROM pg_control_checkpoint())), 8, '0')"
		" ELSE pg_walfile_name(lsn) END, " EPOCH_US
		" FROM pg_backup_start($1, $2::boolean) AS lsn" :
		"SELECT lsn::text, pg_walfile_name(lsn), " EPOCH_US
		" FROM pg_start_backup($1, $2::boolean, false) AS lsn";
	const char *params[2] = {label, fast ? "true" : "false"};
	PGresult   *res = db_query(c, sql, 2, params, 1, 3, err);
	const char *walname;
	char	   *end;

	if (res == NULL)
		return pgb_error_context(err, "could not start the backup");
	walname = PQgetvalue(res, 0, 1);
	if (lsn_parse(PQgetvalue(res, 0, 0), start_lsn, err) != 0 ||
		parse_time_field(res, 2, start_time, err) != 0)
	{
		PQclear(res);
		return -1;
	}
	*tli = (TimeLineID) strtoul(strndupa(walname, 8), &end, 16);
	PQclear(res);
	return 0;
}

int
db_backup_stop(DbConn *c, int version_num, Lsn *stop_lsn, char **labelfile,
			   char **spcmapfile, TimestampUs *stop_time, PgbError *err)
{
	const char *sql = version_num >= 150000 ?
		"SELECT lsn::text, labelfile, spcmapfile, " EPOCH_US " FROM pg_backup_stop(false)" :
		"SELECT lsn::text, labelfile, spcmapfile, " EPOCH_US " FROM pg_stop_backup(false, false)";
	PGresult   *res = db_query(c, sql, 0, NULL, 1, 4, err);

	if (res == NULL)
		return pgb_error_context(err, "could not stop the backup");
	if (lsn_parse(PQgetvalue(res, 0, 0), stop_lsn, err) != 0 ||
		parse_time_field(res, 3, stop_time, err) != 0)
	{
		PQclear(res);
		return -1;
	}
	*labelfile = strdup(PQgetvalue(res, 0, 1));
	*spcmapfile = strdup(PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2));
	PQclear(res);
	if (*labelfile == NULL || *spcmapfile == NULL)
	{
		free(*labelfile);
		free(*spcmapfile);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	return 0;
}

int
db_switch_wal(DbConn *c, char *walname, PgbError *err)
{
	/*
	 * The restore point guarantees there is WAL to switch away from, so the
	 * segment named is one that PostgreSQL will now hand to archive_command.
	 */
	static const char sql[] =
		"SELECT pg_walfile_name(pg_switch_wal() - 1)"
		" FROM (SELECT pg_create_restore_point('pgbkp check')) AS rp";
	PGresult   *res = db_query(c, sql, 0, NULL, 1, 1, err);

	if (res == NULL)
		return pgb_error_context(err, "could not switch WAL");
	snprintf(walname, WAL_NAME_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
db_member_status(DbConn *c, DbMemberStatus *out, PgbError *err)
{
	static const char sql[] =
		"SELECT pg_is_in_recovery(),"
		" CASE WHEN pg_is_in_recovery()"
		"   THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver),"
		"                 (SELECT timeline_id FROM pg_control_checkpoint()))"
		"   ELSE (SELECT timeline_id FROM pg_control_checkpoint()) END,"
		" CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,"
		" coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), -1),"
		" EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),"
		" archived_count, coalesce(last_archived_wal, ''),"
		" coalesce((extract(epoch FROM last_archived_time) * 1000000)::bigint, 0),"
		" failed_count, coalesce(last_failed_wal, ''),"
		" coalesce((extract(epoch FROM last_failed_time) * 1000000)::bigint, 0),"
		" current_setting('archive_mode')"
		" FROM pg_stat_archiver";
	PGresult   *res = db_query(c, sql, 0, NULL, 1, 12, err);

	if (res == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	out->timeline = (TimeLineID) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (PQgetisnull(res, 0, 2) || lsn_parse(PQgetvalue(res, 0, 2), &out->lsn, err) != 0)
	{
		out->lsn = 0;
		pgb_error_clear(err);
	}
	out->replay_delay = out->in_recovery ? strtod(PQgetvalue(res, 0, 3), NULL) : 0;
	out->streaming = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	out->archived_count = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	snprintf(out->last_archived_wal, sizeof(out->last_archived_wal), "%s", PQgetvalue(res, 0, 6));
	out->last_archived_time = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	out->failed_count = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
	snprintf(out->last_failed_wal, sizeof(out->last_failed_wal), "%s", PQgetvalue(res, 0, 9));
	out->last_failed_time = strtoll(PQgetvalue(res, 0, 10), NULL, 10);
	snprintf(out->archive_mode, sizeof(out->archive_mode), "%s", PQgetvalue(res, 0, 11));
	PQclear(res);
	return 0;
}

int
db_slot_active(DbConn *c, const char *slot, bool *active, PgbError *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active)";
	const char *params[1] = {slot};
	PGresult   *res = db_query(c, sql, 1, params, 1, 1, err);

	if (res == NULL)
		return -1;
	*active = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

int
db_stream_status(DbConn *c, const char *slot, DbStreamStatus *out, PgbError *err)
{
	static const char sql[] =
		"SELECT s.slot_name IS NOT NULL, coalesce(s.active, false), r.pid IS NOT NULL, "
		"coalesce(r.state, ''), coalesce(r.sync_state, ''), coalesce(r.flush_lsn, s.restart_lsn), "
		"CASE WHEN pg_is_in_recovery() THEN -1 ELSE "
		"coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(r.flush_lsn, s.restart_lsn))::bigint, -1) END, "
		"coalesce(extract(epoch FROM r.flush_lag), -1), pg_is_in_recovery() "
		"FROM (SELECT 1) AS one "
		"LEFT JOIN pg_replication_slots s ON s.slot_name = $1 "
		"LEFT JOIN pg_stat_replication r ON r.application_name = 'pgbkp_stream' "
		"ORDER BY r.flush_lsn DESC NULLS LAST LIMIT 1";
	const char *params[1] = {slot};
	PGresult   *res = db_query(c, sql, 1, params, 1, 9, err);

	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return -1;
	out->slot_exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	out->slot_active = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	out->connected = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	snprintf(out->state, sizeof(out->state), "%s", PQgetvalue(res, 0, 3));
	snprintf(out->sync_state, sizeof(out->sync_state), "%s", PQgetvalue(res, 0, 4));
	out->has_flushed = !PQgetisnull(res, 0, 5) && lsn_parse(PQgetvalue(res, 0, 5), &out->flushed, err) == 0;
	pgb_error_clear(err);
	out->lag_bytes = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	out->lag_seconds = strtod(PQgetvalue(res, 0, 7), NULL);
	out->in_recovery = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
	/* PostgreSQL resets the lag times once a standby has caught up and stays idle */
	if (out->lag_seconds < 0 && out->connected && out->lag_bytes == 0)
		out->lag_seconds = 0;
	PQclear(res);
	return 0;
}
