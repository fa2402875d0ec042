/*
 * pgbkp stream: receive WAL over the replication protocol from the
 * cluster's current primary and write it into every configured repository,
 * in the foreground until SIGTERM or SIGINT.
 *
 * What is stored where is repo/streamsink.h's: each whole segment is
 * archived exactly as archive-push archives it (an identical copy already
 * there is fine, so archive_command may run too), the segment being filled
 * kept as its in-progress object (repo/walstream.h), replaced every
 * stream_flush_seconds when more has arrived.  The flush position reported
 * to the server -- and so the replication slot -- only moves past WAL that
 * is durable in every repository.
 *
 * Every session starts at a segment boundary: after the newest segment
 * every repository holds, or, after a session that received WAL, at the
 * segment that was being filled.  A server on a newer timeline is followed through its
 * history: its history files are archived and streaming goes on from the
 * switch point.  Any failure (server gone, repository unreachable) ends the
 * session; the primary is looked up again and a new session starts after a
 * growing pause, each kind of failure logged once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/primary.h"
#include "cmd/cmd.h"
#include "cmd/open.h"
#include "common/fileio.h"
#include "common/log.h"
#include "config/repodef.h"
#include "pg/replconn.h"
#include "repo/streamsink.h"
#include "repo/walarchive.h"

#define STATUS_INTERVAL 10		/* seconds between unrequested status updates */
#define BACKOFF_MAX 30			/* seconds */

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

typedef struct Stream
{
	const Config *cfg;
	Repo	   *repos[CONFIG_MAX_REPOS];
	int			nrepos;
	StreamSink	sink;			/* what arrived, and what is durable where */
	Lsn			reported;		/* the flush position last reported to the server */
	int			flush_seconds;
	time_t		last_flush;
	time_t		last_status;
	bool		received;		/* this session received WAL */
	bool		synchronous;	/* flush and report whenever the server has nothing more to send */
} Stream;

/* Replace the in-progress object everywhere when more arrived since the last time. */
static int
flush_partial(Stream *st, PgbError *err)
{
	st->last_flush = time(NULL);
	return streamsink_flush(&st->sink, err);
}

/* Archive the server's history file of timeline tli (nothing for timeline 1). */
static int
store_history(Stream *st, ReplConn *conn, TimeLineID tli, char **text, size_t *len, PgbError *err)
{
	char		name[32];

	*text = NULL;
	*len = 0;
	if (tli <= 1)
		return 0;
	snprintf(name, sizeof(name), "%08X.history", tli);
	if (repl_timeline_history(conn, tli, text, len, err) != 0)
		return -1;
	return streamsink_store_file(&st->sink, name, *text, *len, err);
}

static int
send_status(Stream *st, ReplConn *conn, PgbError *err)
{
	st->last_status = time(NULL);
	st->reported = st->sink.durable;
	return repl_send_status(conn, streamsink_next(&st->sink), st->sink.durable, err);
}

/* Synchronous mode, and WAL received but not yet durable or not yet reported so. */
static bool
sync_pending(const Stream *st)
{
	return st->synchronous && (st->sink.filled > st->sink.flushed || st->sink.durable > st->reported);
}

/* Take one WAL message, archiving each segment it completes (and saying so to the server). */
static int
take_data(Stream *st, ReplConn *conn, const ReplMsg *m, PgbError *err)
{
	int			completed;

	st->received = true;
	if (streamsink_take(&st->sink, m->start, m->data, m->len, &completed, err) != 0)
		return -1;
	return completed > 0 ? send_status(st, conn, err) : 0;
}

/* Stream timelines from one server until stopped (0) or a failure (-1). */
static int
stream_from(Stream *st, ReplConn *conn, PgbError *err)
{
	const char *slot = st->cfg->stream_slot;

	for (;;)
	{
		char		pos[32];

		lsn_format(st->sink.seg_start, pos, sizeof(pos));
		log_info("streaming WAL from %s on timeline %u", pos, st->sink.tli);
		if (repl_start(conn, slot, st->sink.tli, st->sink.seg_start, err) != 0)
			return -1;
		for (;;)
		{
			ReplMsg		m;
			time_t		now = time(NULL);
			TimeLineID	next_tli;
			Lsn			next_start;
			char	   *text;
			size_t		len;
			int			rc;

			if (stop_requested)
				return flush_partial(st, err) != 0 ? -1 : send_status(st, conn, err);
			/* synchronous: once nothing more is waiting, what arrived is made durable and reported */
			if (repl_receive(conn, sync_pending(st) ? 0 : 500, &m, err) != 0)
				return -1;
			if (m.kind == REPL_MSG_NONE && sync_pending(st) &&
				(flush_partial(st, err) != 0 || send_status(st, conn, err) != 0))
				return -1;
			if (m.kind == REPL_MSG_DATA && take_data(st, conn, &m, err) != 0)
				return -1;
			if (m.kind == REPL_MSG_KEEPALIVE && m.reply_requested && send_status(st, conn, err) != 0)
				return -1;
			if (m.kind == REPL_MSG_END)
			{
				/* the timeline ended: keep what it has, then its successor */
				if (flush_partial(st, err) != 0 || repl_finish(conn, &next_tli, &next_start, err) != 0)
					return -1;
				if (next_tli == 0)
					return pgb_error(err, EXIT_DATABASE, "the server ended streaming on timeline %u", st->sink.tli);
				rc = store_history(st, conn, next_tli, &text, &len, err);
				free(text);
				if (rc != 0)
					return -1;
				log_info("timeline %u follows timeline %u", next_tli, st->sink.tli);
				streamsink_restart(&st->sink, next_tli, next_start);
				break;
			}
			if (now - st->last_flush >= st->flush_seconds && flush_partial(st, err) != 0)
				return -1;
			if ((st->sink.durable > 0 && now - st->last_status >= STATUS_INTERVAL) && send_status(st, conn, err) != 0)
				return -1;
		}
	}
}

/* The server to stream from: the cluster's primary when members are known, else --pg-host. */
static ReplConn *
connect_primary(Stream *st, PgbError *err)
{
	const Config *cfg = st->cfg;
	const char *host = cfg->pg_host;
	int			port = cfg->pg_port;

	if (cfg->nmembers > 0)
	{
		int			primary;

		if (cluster_find_primary(cfg, NULL, &primary, err) != 0)
			return NULL;
		host = cfg->members[primary].addr;
		port = cfg->members[primary].pg_port;
	}
	return repl_connect(host, port, cfg->pg_user, cfg->member_timeout, err);
}

/* One session: connect, check, pick up where the repositories are, stream. */
static int
session(Stream *st, PgbError *err)
{
	ReplConn   *conn = connect_primary(st, err);
	ReplIdentity id;
	bool		created;
	Lsn			slot_lsn;
	char	   *history = NULL;
	size_t		hlen = 0;
	int			rc = -1;

	st->received = false;
	if (conn == NULL)
		return -1;
	if (repl_identify(conn, &id, err) != 0)
		goto done;
	if (id.system_identifier != st->repos[0]->info.system_identifier)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "the server is database system %" PRIu64 ", but cluster \"%s\" in the repository is system %" PRIu64,
				  id.system_identifier, st->repos[0]->cluster, st->repos[0]->info.system_identifier);
		pgb_hint(err, "check --pg-host/--pg-port, the cluster's members and --cluster");
		goto done;
	}
	if (repl_slot_ensure(conn, st->cfg->stream_slot, &created, &slot_lsn, err) != 0)
		goto done;
	if (created)
		log_info("created replication slot \"%s\"", st->cfg->stream_slot);
	if (st->sink.tli == 0 && streamsink_resume(&st->sink, id.timeline, slot_lsn ? slot_lsn : id.xlogpos, err) != 0)
		goto done;
	if (id.timeline > st->sink.tli &&
		(store_history(st, conn, id.timeline, &history, &hlen, err) != 0 ||
		 streamsink_follow_history(&st->sink, history, hlen, id.timeline, err) != 0))
		goto done;
	/* a session always starts at a segment boundary */
	streamsink_restart(&st->sink, st->sink.tli, st->sink.seg_start);
	rc = stream_from(st, conn, err);
done:
	free(history);
	repl_close(conn);
	return rc;
}

static int
flush_default(const Config *cfg)
{
	if (cfg->stream_flush_seconds > 0)
		return cfg->stream_flush_seconds;
	for (int i = 0; i < cfg->nrepos; i++)
		if (cfg->repos[i].type == REPO_TYPE_S3)
			return 5;
	return 1;
}

static int
open_all(Stream *st, PgbError *err)
{
	int			n = st->cfg->nrepos > 0 ? st->cfg->nrepos : 1;

	for (int i = 0; i < n; i++)
	{
		if ((st->repos[i] = cmd_open_repo_at(st->cfg, i, err)) == NULL)
			return -1;
		st->nrepos++;
		if (st->repos[i]->info.system_identifier != st->repos[0]->info.system_identifier)
			return pgb_error(err, EXIT_ARCHIVE_MISMATCH, "repositories \"%s\" and \"%s\" hold different systems",
							 st->repos[0]->name, st->repos[i]->name);
	}
	return 0;
}

/* Sleep up to seconds, returning early when asked to stop. */
static void
pause_for(int seconds)
{
	for (int i = 0; i < seconds * 10 && !stop_requested; i++)
		usleep(100000);
}

int
cmd_stream(const Config *cfg, PgbError *err)
{
	Stream		st = {.cfg = cfg};
	struct sigaction sa = {.sa_handler = on_stop};
	char		last[PGB_ERRMSG_MAX] = "";
	int			backoff = 1;
	int			rc = -1;

	if (strspn(cfg->stream_slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(cfg->stream_slot) ||
		strlen(cfg->stream_slot) > 63)
	{
		pgb_error(err, EXIT_USAGE, "invalid replication slot name \"%s\"", cfg->stream_slot);
		pgb_hint(err, "use 1 to 63 lower-case letters, digits and underscores");
		goto done;
	}
	if (open_all(&st, err) != 0)
		goto done;
	st.flush_seconds = flush_default(cfg);
	st.synchronous = cfg->synchronous;
	if (streamsink_init(&st.sink, st.repos, st.nrepos, cfg->compress_level, cfg->wal_compress_threads,
						getenv("TMPDIR"), err) != 0)
		goto done;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_requested)
	{
		pgb_error_clear(err);
		if (session(&st, err) == 0 && stop_requested)
			break;
		if (err->code == EXIT_ARCHIVE_MISMATCH || err->code == EXIT_CONFIG)
			goto done;			/* retrying cannot help */
		if (st.received)
			backoff = 1, last[0] = '\0';
		else
			st.sink.tli = 0;	/* nothing came: start again from what the repositories hold */
		if (stop_requested)
			break;
		if (strcmp(last, err->msg) != 0)
		{
			log_warn("streaming stopped: %s; retrying", err->msg);
			snprintf(last, sizeof(last), "%s", err->msg);
		}
		pause_for(backoff);
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	pgb_error_clear(err);
	if (st.sink.filled > st.sink.flushed && flush_partial(&st, err) != 0)
		log_warn("could not store the last streamed WAL: %s", err->msg);
	pgb_error_clear(err);
	log_info("streaming stopped");
	rc = 0;
done:
	streamsink_free(&st.sink);
	for (int i = 0; i < st.nrepos; i++)
		repo_free(st.repos[i]);
	return rc;
}
