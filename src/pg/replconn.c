/* The physical replication protocol over libpq (see replconn.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "lib/libpq.h"

#include "pg/replconn.h"

/* Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
#define PG_EPOCH_OFFSET 946684800LL

struct ReplConn
{
	PGconn	   *conn;
	char	   *copybuf;		/* the last message PQgetCopyData returned */
};

static uint64_t
get_u64(const char *p)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | (uint8_t) p[i];
	return v;
}

static void
put_u64(char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (char) (v & 0xff);
}

/* The server's first message line, for errors. */
static int
conn_error(ReplConn *c, const char *what, PgbError *err)
{
	char		msg[600];
	char	   *nl;

	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->conn));
	if ((nl = strchr(msg, '\n')) != NULL)
		*nl = '\0';
	return pgb_error(err, EXIT_DATABASE, "%s failed: %s", what, msg[0] ? msg : "connection lost");
}

ReplConn *
repl_connect(const char *host, int port, const char *user, int timeout, PgbError *err)
{
	char		portbuf[16],
				tbuf[16];
	const char *keys[8],
			   *values[8];
	int			n = 0;
	ReplConn   *c;

	if (libpq_require(err) != 0)
		return NULL;
	c = calloc(1, sizeof(ReplConn));
	if (c == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(tbuf, sizeof(tbuf), "%d", timeout > 0 ? timeout : 10);
	if (host)
	{
		keys[n] = "host";
		values[n++] = host;
	}
	keys[n] = "port";
	values[n++] = portbuf;
	keys[n] = "user";
	values[n++] = user;
	keys[n] = "replication";
	values[n++] = "true";
	keys[n] = "application_name";
	values[n++] = "pgbkp_stream";
	keys[n] = "connect_timeout";
	values[n++] = tbuf;
	keys[n] = NULL;
	values[n] = NULL;
	c->conn = PQconnectdbParams(keys, values, 0);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		char		msg[600];
		char	   *nl;

		snprintf(msg, sizeof(msg), "%s", c->conn ? PQerrorMessage(c->conn) : "out of memory");
		if ((nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		pgb_error(err, EXIT_DATABASE, "could not open a replication connection to %s port %d as user \"%s\": %s",
				  host ? host : "the local socket", port, user, msg);
		pgb_hint(err, "the user needs the REPLICATION attribute and pg_hba.conf a \"replication\" line for it");
		repl_close(c);
		return NULL;
	}
	return c;
}

void
repl_close(ReplConn *c)
{
	if (c == NULL)
		return;
	if (c->copybuf)
		PQfreemem(c->copybuf);
	PQfinish(c->conn);
	free(c);
}

/* Run a walsender command that returns rows; *res is the result (caller clears). */
static int
run_rows(ReplConn *c, const char *cmd, int min_cols, PGresult **res, PgbError *err)
{
	*res = PQexec(c->conn, cmd);
	if (PQresultStatus(*res) != PGRES_TUPLES_OK)
	{
		PQclear(*res);
		*res = NULL;
		return conn_error(c, cmd, err);
	}
	if (PQnfields(*res) < min_cols)
	{
		pgb_error(err, EXIT_DATABASE, "%s: got %d columns, expected %d", cmd, PQnfields(*res), min_cols);
		PQclear(*res);
		*res = NULL;
		return -1;
	}
	return 0;
}

int
repl_identify(ReplConn *c, ReplIdentity *out, PgbError *err)
{
	PGresult   *res;
	int			rc = 0;
	PgbError	lerr;

	if (run_rows(c, "IDENTIFY_SYSTEM", 3, &res, err) != 0)
		return -1;
	if (PQntuples(res) != 1)
		rc = pgb_error(err, EXIT_DATABASE, "IDENTIFY_SYSTEM: got %d rows, expected 1", PQntuples(res));
	else
	{
		out->system_identifier = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		out->timeline = (TimeLineID) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
		if (lsn_parse(PQgetvalue(res, 0, 2), &out->xlogpos, &lerr) != 0 || out->timeline == 0)
			rc = pgb_error(err, EXIT_DATABASE, "IDENTIFY_SYSTEM: unexpected answer \"%s\", \"%s\"",
						   PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return rc;
}

int
repl_slot_ensure(ReplConn *c, const char *name, bool *created, Lsn *restart_lsn, PgbError *err)
{
	char		cmd[160];
	PGresult   *res;
	const char *state;
	PgbError	lerr;

	*created = false;
	*restart_lsn = 0;
	snprintf(cmd, sizeof(cmd), "CREATE_REPLICATION_SLOT %s PHYSICAL RESERVE_WAL", name);
	res = PQexec(c->conn, cmd);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		*created = true;
		if (PQntuples(res) == 1 && PQnfields(res) >= 2 && !PQgetisnull(res, 0, 1))
			(void) lsn_parse(PQgetvalue(res, 0, 1), restart_lsn, &lerr);
		PQclear(res);
		return 0;
	}
	PQclear(res);
	if (state == NULL || strcmp(state, "42710") != 0)	/* duplicate_object: it exists */
		return conn_error(c, cmd, err);
	/* PostgreSQL 15 tells an existing slot's position; older servers do not */
	snprintf(cmd, sizeof(cmd), "READ_REPLICATION_SLOT %s", name);
	res = PQexec(c->conn, cmd);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2 &&
		!PQgetisnull(res, 0, 1))
		(void) lsn_parse(PQgetvalue(res, 0, 1), restart_lsn, &lerr);
	PQclear(res);
	return 0;
}

int
repl_timeline_history(ReplConn *c, TimeLineID tli, char **content, size_t *len, PgbError *err)
{
	char		cmd[64];
	PGresult   *res;

	*content = NULL;
	*len = 0;
	snprintf(cmd, sizeof(cmd), "TIMELINE_HISTORY %u", tli);
	if (run_rows(c, cmd, 2, &res, err) != 0)
		return -1;
	if (PQntuples(res) != 1)
	{
		pgb_error(err, EXIT_DATABASE, "%s: got %d rows, expected 1", cmd, PQntuples(res));
		PQclear(res);
		return -1;
	}
	*len = (size_t) PQgetlength(res, 0, 1);
	*content = malloc(*len + 1);
	if (*content == NULL)
	{
		PQclear(res);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	memcpy(*content, PQgetvalue(res, 0, 1), *len);
	(*content)[*len] = '\0';
	PQclear(res);
	return 0;
}

int
repl_start(ReplConn *c, const char *slot, TimeLineID tli, Lsn start, PgbError *err)
{
	char		cmd[200];
	char		pos[32];
	PGresult   *res;

	lsn_format(start, pos, sizeof(pos));
	snprintf(cmd, sizeof(cmd), "START_REPLICATION SLOT %s PHYSICAL %s TIMELINE %u", slot, pos, tli);
	res = PQexec(c->conn, cmd);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		PQclear(res);
		return conn_error(c, cmd, err);
	}
	PQclear(res);
	return 0;
}

int
repl_receive(ReplConn *c, int wait_ms, ReplMsg *msg, PgbError *err)
{
	int			n;

	memset(msg, 0, sizeof(*msg));
	if (c->copybuf)
	{
		PQfreemem(c->copybuf);
		c->copybuf = NULL;
	}
	n = PQgetCopyData(c->conn, &c->copybuf, 1);
	if (n == 0)
	{
		struct pollfd pfd = {.fd = PQsocket(c->conn),.events = POLLIN};

		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
			return pgb_error_errno(err, EXIT_IO, errno, "could not wait for the replication connection");
		if (PQconsumeInput(c->conn) == 0)
			return conn_error(c, "receiving WAL", err);
		n = PQgetCopyData(c->conn, &c->copybuf, 1);
		if (n == 0)
			return 0;
	}
	if (n == -1)
	{
		msg->kind = REPL_MSG_END;
		return 0;
	}
	if (n < 0)
		return conn_error(c, "receiving WAL", err);
	if (c->copybuf[0] == 'w' && n >= 25)
	{
		msg->kind = REPL_MSG_DATA;
		msg->start = get_u64(c->copybuf + 1);
		msg->data = (const uint8_t *) c->copybuf + 25;
		msg->len = (size_t) n - 25;
		return 0;
	}
	if (c->copybuf[0] == 'k' && n >= 18)
	{
		msg->kind = REPL_MSG_KEEPALIVE;
		msg->reply_requested = c->copybuf[17] != 0;
		return 0;
	}
	return pgb_error(err, EXIT_DATABASE, "unexpected replication message '%c' of %d bytes", c->copybuf[0], n);
}

int
repl_send_status(ReplConn *c, Lsn written, Lsn flushed, PgbError *err)
{
	char		buf[34];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	buf[0] = 'r';
	put_u64(buf + 1, written);
	put_u64(buf + 9, flushed);
	put_u64(buf + 17, flushed);
	put_u64(buf + 25, (uint64_t) ((tv.tv_sec - PG_EPOCH_OFFSET) * 1000000LL + tv.tv_usec));
	buf[33] = 0;
	if (PQputCopyData(c->conn, buf, sizeof(buf)) <= 0 || PQflush(c->conn) != 0)
		return conn_error(c, "sending a standby status update", err);
	return 0;
}

int
repl_finish(ReplConn *c, TimeLineID *next_tli, Lsn *next_start, PgbError *err)
{
	PGresult   *res;
	int			rc = 0;

	*next_tli = 0;
	*next_start = 0;
	if (PQputCopyEnd(c->conn, NULL) <= 0 || PQflush(c->conn) != 0)
		return conn_error(c, "ending the replication stream", err);
	while ((res = PQgetResult(c->conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);
		PgbError	lerr;

		if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2)
		{
			*next_tli = (TimeLineID) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
			if (lsn_parse(PQgetvalue(res, 0, 1), next_start, &lerr) != 0)
				rc = pgb_error(err, EXIT_DATABASE, "the server named the next timeline's start as \"%s\"",
							   PQgetvalue(res, 0, 1));
		}
		else if (st == PGRES_FATAL_ERROR && rc == 0)
			rc = conn_error(c, "ending the replication stream", err);
		PQclear(res);
	}
	return rc;
}
