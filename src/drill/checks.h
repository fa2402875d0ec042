/*
 * The drill's checks of a restored, recovered and running copy, each
 * filling one report step: data page checksums (pg_checksums on the
 * stopped copy), amcheck (pg_amcheck over every database, installing the
 * extension in the copy only), every table's heap read with count(*), and
 * the operator's SQL checks.  A check's failure is a finding in its step,
 * not an error; an error is returned only when the copy could not be
 * brought back up after the checksum pass.
 */
#ifndef PGBKP_DRILL_CHECKS_H
#define PGBKP_DRILL_CHECKS_H

#include <signal.h>
#include <stdbool.h>

#include "drill/pgserver.h"
#include "drill/report.h"
#include "drill/usercheck.h"

typedef struct DrillEnv
{
	PgServer   *server;
	const char *dbname;			/* the database the drill connects to first */
	bool		thorough;		/* amcheck --heapallindexed --parent-check */
	int			timeout;		/* seconds, per check */
	volatile pid_t *tool_pid;	/* the tool running now, for signal handlers */
	volatile sig_atomic_t *stop;
} DrillEnv;

/* Whether the copy has data checksums on. */
int			drill_data_checksums(const DrillEnv *env, bool *on, PgbError *err);

/* Stop the copy, run pg_checksums --check, start it again. */
int			drill_check_checksums(const DrillEnv *env, DrillStep *step, PgbError *err);

void		drill_check_amcheck(const DrillEnv *env, DrillStep *step);
void		drill_check_tables(const DrillEnv *env, DrillStep *step);
void		drill_check_user(const DrillEnv *env, const UserCheck *check, DrillStep *step);

#endif
