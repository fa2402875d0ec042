/*
 * The recovery target a restore aims at (--time, --lsn, --xid, --name,
 * --immediate or the end of the archived WAL) and the timeline it is
 * looked for on, and the parsing of the options that name them, checked as
 * strictly as PostgreSQL reads the recovery settings restore writes from
 * them, so the server never refuses or misreads one.
 */
#ifndef PGBKP_TARGET_H
#define PGBKP_TARGET_H

#include "common/error.h"
#include "common/timefmt.h"
#include "pg/lsn.h"

typedef enum TargetKind
{
	TARGET_LATEST = 0,			/* replay all archived WAL */
	TARGET_TIME,
	TARGET_LSN,
	TARGET_XID,
	TARGET_NAME,
	TARGET_IMMEDIATE
} TargetKind;

typedef enum TimelineRequest
{
	TIMELINE_AUTO = 0,			/* pgbkp decides the timeline that holds the target */
	TIMELINE_CURRENT,			/* the backup's own */
	TIMELINE_LATEST,			/* the newest that descends from the backup's */
	TIMELINE_NUMBER
} TimelineRequest;

typedef struct RestoreTarget
{
	TargetKind	kind;
	TimestampUs time;
	Lsn			lsn;
	const char *text;			/* xid or restore point name */
	TimelineRequest timeline_request;
	TimeLineID	timeline;		/* with TIMELINE_NUMBER */
} RestoreTarget;

/* Parse --target-timeline: latest, current or a timeline number. */
int			target_parse_timeline(const char *text, RestoreTarget *t, PgbError *err);

/* The longest restore point name PostgreSQL takes (MAXFNAMELEN - 1 bytes). */
#define TARGET_NAME_MAX 63

/*
 * The --xid target, checked as PostgreSQL checks recovery_target_xid and
 * more strictly, so that the server never refuses or misreads what restore
 * writes: decimal digits without a leading zero (PostgreSQL would read 010
 * as octal), at most 2^64 - 1 (PostgreSQL refuses more), and a normal
 * transaction ID: PostgreSQL compares the low 32 bits (an epoch above them
 * is ignored), and 0, 1 and 2 there belong to no transaction, so recovery
 * could never stop.  Sets t->kind and t->text (borrowed); EXIT_USAGE.
 */
int			target_parse_xid(const char *text, RestoreTarget *t, PgbError *err);

/*
 * The --name target (a restore point name), as PostgreSQL takes
 * recovery_target_name: not empty, at most TARGET_NAME_MAX bytes, and no
 * control characters (postgresql.auto.conf cannot hold a newline in a
 * value).  Sets t->kind and t->text (borrowed); EXIT_USAGE.
 */
int			target_parse_name(const char *text, RestoreTarget *t, PgbError *err);

#endif
