/*
 * A physical replication connection (libpq with replication=true): the
 * walsender commands pgbkp stream needs -- IDENTIFY_SYSTEM, the replication
 * slot, TIMELINE_HISTORY, START_REPLICATION -- and the COPY BOTH exchange
 * that follows: WAL data and keepalives from the server, standby status
 * updates back.  Like db.c, every call checks the result's status and shape
 * and clears it; nothing here knows of repositories.
 */
#ifndef PGBKP_REPLCONN_H
#define PGBKP_REPLCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg/lsn.h"

typedef struct ReplConn ReplConn;

/* EXIT_DATABASE with libpq's message on failure; host NULL: the local socket. */
ReplConn   *repl_connect(const char *host, int port, const char *user, int timeout, PgbError *err);
void		repl_close(ReplConn *c);

typedef struct ReplIdentity
{
	uint64_t	system_identifier;
	TimeLineID	timeline;		/* the server's current timeline */
	Lsn			xlogpos;		/* its current flush position */
} ReplIdentity;

int			repl_identify(ReplConn *c, ReplIdentity *out, PgbError *err);

/*
 * Make sure physical slot name exists (CREATE_REPLICATION_SLOT ... PHYSICAL
 * RESERVE_WAL when it does not); *created says which.  *restart_lsn is the
 * slot's restart position (0 when unknown).
 */
int			repl_slot_ensure(ReplConn *c, const char *name, bool *created, Lsn *restart_lsn, PgbError *err);

/* The server's history file of timeline tli: *content (malloc'd, caller frees) of *len bytes. */
int			repl_timeline_history(ReplConn *c, TimeLineID tli, char **content, size_t *len, PgbError *err);

/* START_REPLICATION SLOT slot PHYSICAL start TIMELINE tli: the COPY BOTH exchange begins. */
int			repl_start(ReplConn *c, const char *slot, TimeLineID tli, Lsn start, PgbError *err);

typedef enum ReplMsgKind
{
	REPL_MSG_NONE = 0,			/* nothing within the wait */
	REPL_MSG_DATA,				/* WAL bytes from start */
	REPL_MSG_KEEPALIVE,
	REPL_MSG_END				/* the server ended streaming on this timeline */
} ReplMsgKind;

typedef struct ReplMsg
{
	ReplMsgKind kind;
	Lsn			start;			/* DATA: LSN of data[0] */
	const uint8_t *data;		/* DATA: valid until the next repl_receive */
	size_t		len;
	bool		reply_requested;	/* KEEPALIVE: the server wants a status update now */
} ReplMsg;

/* Wait at most wait_ms for one message. */
int			repl_receive(ReplConn *c, int wait_ms, ReplMsg *msg, PgbError *err);

/* Standby status update: written, flushed (durable) and applied positions. */
int			repl_send_status(ReplConn *c, Lsn written, Lsn flushed, PgbError *err);

/*
 * After REPL_MSG_END: end the COPY and read where the next timeline starts
 * (*next_tli 0 when the server did not say: it is shutting down).
 */
int			repl_finish(ReplConn *c, TimeLineID *next_tli, Lsn *next_start, PgbError *err);

#endif
