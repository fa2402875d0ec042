/*
 * The commands over a repository of type pgbackrest, which an installed
 * pgBackRest keeps (src/pgbackrest/ runs it): backup, info, status,
 * restore, verify, expire and check branch here when the repository they
 * work on is one.
 * pgbkp decides (the primary gate, the backup type, the backup set and the
 * recoverable window) and reports in its own format; pgBackRest reads and
 * writes its repository.
 */
#ifndef PGBKP_CMD_PGBR_H
#define PGBKP_CMD_PGBR_H

#include <json-c/json.h>

#include "config/config.h"
#include "repo/freshness.h"
#include "restore/plan.h"

/* True when repository i is pgBackRest's. */
bool		pgbr_is_repo(const Config *cfg, int i);

/* "pgBackRest stanza S, repo N (CONFIG)", for messages and the info header. */
void		pgbr_describe(const Config *cfg, int i, char *buf, size_t len);

int			cmd_pgbr_backup(const Config *cfg, PgbError *err);

/* info of repository i: appended to array (JSON) or printed as text. */
int			cmd_pgbr_info_one(const Config *cfg, int i, json_object *array, PgbError *err);

/* status's part for repository i: appended to array (JSON) or printed as text. */
int			cmd_pgbr_status_one(const Config *cfg, int i, bool json, json_object *array, PgbError *err);

/* What restore chose in a pgBackRest repository. */
typedef struct PgbrChoice
{
	int			repo_index;
	char		label[64];
	char		type[8];
	TimestampUs stop_time;
	uint64_t	bytes;			/* the database's size in the backup */
	TimeLineID	timeline;		/* the timeline of the newest archived WAL (0: unknown) */
	bool		has_commit;
	TimestampUs last_commit;
} PgbrChoice;

/*
 * Choose the backup set in repository i for target and check the window
 * (EXIT_TARGET outside it, EXIT_NOT_FOUND without a backup).  Nothing is
 * written.
 */
int			pgbr_restore_plan(const Config *cfg, int i, const RestoreTarget *target, PgbrChoice *out,
							  PgbError *err);

/* Restore the choice into dir with pgBackRest (or print the plan with --dry-run). */
int			cmd_pgbr_restore(const Config *cfg, const RestoreTarget *target, const PgbrChoice *choice,
							 const char *dir, bool archive_off, PgbError *err);

int			cmd_pgbr_verify(const Config *cfg, PgbError *err);

/* check through pgBackRest (pgbr_check.c) */
int			cmd_pgbr_check(const Config *cfg, PgbError *err);

/*
 * The current repository's freshness for check's monitoring options, from
 * pgBackRest's info; with archive_time, when the newest segment was stored.
 */
int			pgbr_freshness(const Config *cfg, bool archive_time, Freshness *f, PgbError *err);

/* expire through pgBackRest, with pgbkp's retention settings mapped (pgbr_expire.c) */
int			cmd_pgbr_expire(const Config *cfg, PgbError *err);

#endif
