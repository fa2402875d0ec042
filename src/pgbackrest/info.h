/*
 * What pgBackRest says a stanza holds: `pgbackrest info --output=json`
 * (documented by pgBackRest; newer releases only add fields) read into
 * pgbkp's terms -- the stanza's status, its database systems, its backups
 * with their type, prior backup, times, LSNs and WAL range, and the archive's
 * first and last segment per database system.  Only the repository the
 * definition names (--repo) is asked for.
 */
#ifndef PGBKP_PGBR_INFO_H
#define PGBKP_PGBR_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/timefmt.h"
#include "config/repodef.h"
#include "pg/lsn.h"

#define PGBR_LABEL_MAX 64
#define PGBR_WAL_NAME 25
#define PGBR_DB_MAX 16

typedef struct PgbrBackup
{
	char		label[PGBR_LABEL_MAX];	/* 20250101-010000F, ...F_...I */
	char		type[8];		/* full, diff, incr */
	char		prior[PGBR_LABEL_MAX];	/* "" for a full backup */
	TimestampUs start_time;
	TimestampUs stop_time;
	Lsn			start_lsn;
	Lsn			stop_lsn;
	char		wal_start[PGBR_WAL_NAME];
	char		wal_stop[PGBR_WAL_NAME];
	uint64_t	size;			/* database bytes */
	uint64_t	delta;			/* database bytes this backup copied */
	uint64_t	repo_size;		/* stored bytes of the set */
	uint64_t	repo_delta;		/* stored bytes of this backup */
	bool		error;			/* pgBackRest found page checksum errors */
	int			db_id;
	char		version[16];	/* pgBackRest's version that took it */
} PgbrBackup;

typedef struct PgbrDb
{
	int			id;
	uint64_t	system_id;
	int			pg_major;		/* 15 */
} PgbrDb;

typedef struct PgbrArchive
{
	int			db_id;
	char		min[PGBR_WAL_NAME];	/* "" when the archive is empty */
	char		max[PGBR_WAL_NAME];
} PgbrArchive;

typedef struct PgbrInfo
{
	char		stanza[128];
	int			status_code;	/* pgBackRest's: 0 ok, 1 missing stanza path, 2 no valid backups, ... */
	char		status_message[256];
	bool		backup_lock;	/* a backup or expire holds the stanza's lock */
	char		cipher[32];
	int			ndb;
	PgbrDb		db[PGBR_DB_MAX];
	int			narchive;
	PgbrArchive archive[PGBR_DB_MAX];
	int			nbackups;
	PgbrBackup *backups;		/* oldest first, as pgBackRest lists them */
} PgbrInfo;

/* Parse info's JSON for stanza (EXIT_CORRUPT when it is not what pgBackRest writes). */
int			pgbr_info_parse(const char *json, const char *stanza, PgbrInfo *out, PgbError *err);

/* Run `pgbackrest info --output=json` for the definition and parse it. */
int			pgbr_info_load(const RepoDef *def, const char *cluster, PgbrInfo *out, PgbError *err);

/* The backup with this label, or NULL. */
const PgbrBackup *pgbr_info_find(const PgbrInfo *info, const char *label);

/* The database system of a backup or archive entry, or NULL. */
const PgbrDb *pgbr_info_db(const PgbrInfo *info, int db_id);

void		pgbr_info_free(PgbrInfo *info);

#endif
