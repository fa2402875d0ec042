/* pgbkp status: the stream (see status_stream.h). */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/job_report.h"
#include "cmd/status_stream.h"
#include "common/log.h"
#include "pg/db.h"
#include "repo/walstream.h"

static void
stream_text(const Config *cfg, const DbStreamStatus *s)
{
	char		lsn[32] = "";

	if (!s->slot_exists && !s->connected)
	{
		printf("stream: no slot \"%s\" and no pgbkp stream connected\n", cfg->stream_slot);
		return;
	}
	if (s->has_flushed)
		lsn_format(s->flushed, lsn, sizeof(lsn));
	printf("stream: slot \"%s\" %s; %s", cfg->stream_slot,
		   !s->slot_exists ? "missing" : s->slot_active ? "active" : "inactive",
		   s->connected ? s->state : "not connected");
	if (s->connected && s->sync_state[0])
		printf(" (%s)", s->sync_state);
	if (s->has_flushed)
		printf(", durable up to %s", lsn);
	if (s->lag_bytes >= 0)
		printf(", %" PRId64 " bytes behind", s->lag_bytes);
	if (s->lag_seconds >= 0)
		printf(", %.1f s", s->lag_seconds);
	printf("\n");
}

void
status_stream(const Config *cfg, int primary, bool json, json_object *root)
{
	DbParams	p = {.host = cfg->pg_host, .port = cfg->pg_port, .user = cfg->pg_user,
	.dbname = cfg->pg_database, .connect_timeout = cfg->member_timeout};
	DbStreamStatus s;
	PgbError	err = {0};
	DbConn	   *conn;

	if (cfg->nmembers > 0 && primary < 0)
	{
		if (json)
			json_object_object_add(root, "stream", NULL);
		return;
	}
	if (primary >= 0)
	{
		p.host = cfg->members[primary].addr;
		p.port = cfg->members[primary].pg_port;
	}
	conn = db_connect(&p, &err);
	if (conn == NULL || db_stream_status(conn, cfg->stream_slot, &s, &err) != 0)
	{
		/* without members, a server may simply not be there (status of a repository alone) */
		if (cfg->nmembers > 0)
			log_warn("the stream's state could not be asked of the primary: %s", err.msg);
		else
			log_debug("the stream's state could not be asked of the server: %s", err.msg);
		db_close(conn);
		if (json)
			json_object_object_add(root, "stream", NULL);
		return;
	}
	db_close(conn);
	if (s.in_recovery)
	{
		/* a standby: only the primary knows the stream */
		log_debug("the server asked about the stream is a standby");
		if (json)
			json_object_object_add(root, "stream", NULL);
		return;
	}
	if (!json)
	{
		stream_text(cfg, &s);
		return;
	}
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "slot", json_object_new_string(cfg->stream_slot));
		json_object_object_add(o, "slot_exists", json_object_new_boolean(s.slot_exists));
		json_object_object_add(o, "slot_active", json_object_new_boolean(s.slot_active));
		json_object_object_add(o, "connected", json_object_new_boolean(s.connected));
		json_object_object_add(o, "state", s.connected ? json_object_new_string(s.state) : NULL);
		json_object_object_add(o, "sync_state", s.connected ? json_object_new_string(s.sync_state) : NULL);
		json_object_object_add(o, "flushed_lsn", s.has_flushed ? cmd_json_lsn(s.flushed) : NULL);
		json_object_object_add(o, "lag_bytes", s.lag_bytes >= 0 ? json_object_new_int64(s.lag_bytes) : NULL);
		json_object_object_add(o, "lag_seconds", s.lag_seconds >= 0 ? json_object_new_double(s.lag_seconds) : NULL);
		json_object_object_add(root, "stream", o);
	}
}

void
status_stored_wal(Repo *repo, const WalList *wal, bool json, json_object *o)
{
	TimeLineID	tli;
	Lsn			end;
	PgbError	err = {0};
	char		lsn[32];

	if (walstream_stored_end(repo, wal, &tli, &end, &err) != 0)
	{
		log_warn("repository \"%s\": how far its WAL reaches could not be read: %s", repo->name, err.msg);
		tli = 0, end = 0;
	}
	lsn_format(end, lsn, sizeof(lsn));
	if (json)
	{
		json_object_object_add(o, "wal_stored_until_lsn", end != 0 ? cmd_json_lsn(end) : NULL);
		json_object_object_add(o, "wal_stored_until_timeline", end != 0 ? json_object_new_int((int) tli) : NULL);
		json_object_object_add(o, "wal_in_progress", json_object_new_boolean(wal->has_stream));
	}
	else if (end != 0)
		printf("  WAL stored up to %s on timeline %u%s\n", lsn, tli,
			   wal->has_stream ? " (the newest segment in progress, from pgbkp stream)" : "");
}
