/*
 * Running an installed pgBackRest: one command of the pgbackrest program
 * against the stanza and repository a pgbkp repository definition of type
 * pgbackrest names (its config file, stanza and repo index), with what it
 * printed on stdout and stderr kept apart, and its error -- pgBackRest ends
 * a failure with "ERROR: [NNN]: message" and exits NNN -- turned into one
 * pgbkp error line that carries pgBackRest's code.
 *
 * pgbkp never puts a secret on pgBackRest's command line: pgBackRest reads
 * its secrets from its own configuration file or PGBACKREST_* variables,
 * which the child inherits.  The console log is turned off (unless the
 * caller reads it, as verify does) and warnings go to stderr, so stdout
 * holds only the command's output (JSON for info).
 */
#ifndef PGBKP_PGBR_EXEC_H
#define PGBKP_PGBR_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "config/repodef.h"

#define PGBR_ARGS_MAX 24

/* One run: the command, its own options, and afterwards what it said. */
typedef struct PgbrRun
{
	const char *command;		/* "info", "backup", "restore", "verify", "archive-get" */
	const char *args[PGBR_ARGS_MAX];	/* "--type=full" ..., NULL-terminated */
	const char *params[3];		/* after the command (archive-get's file names), NULL-terminated */
	bool		relay_stderr;	/* log each stderr line as it arrives (progress) */
	const char *stderr_level;	/* pgBackRest's stderr log level; NULL: warn */
	void		(*on_line) (void *arg, const char *line, int len);	/* relays instead of logging */
	void	   *on_line_arg;
	const char *console_level;	/* pgBackRest's console log (stdout) at this level; NULL: off */
	bool		no_stanza;		/* a command without a stanza (repo-ls) */
	int			status;			/* exit status; 128 + N when killed by signal N */
	char	   *out;			/* stdout, NUL-terminated (malloc'd) */
	size_t		out_len;
	char	   *err;			/* stderr, NUL-terminated (malloc'd; the first PGBR_STDERR_MAX bytes) */
	int			code;			/* pgBackRest's error code from its last "ERROR: [NNN]" line, or 0 */
	char		message[512];	/* that line's message, or the last stderr line */
	char		hint[256];		/* the HINT: line under that error, or "" */
} PgbrRun;

/* pgBackRest's stanza for a definition: its stanza key, else the cluster name. */
const char *pgbr_stanza(const RepoDef *def, const char *cluster);

/* Append one option (borrowed) to run->args; false when the list is full. */
bool		pgbr_arg(PgbrRun *run, const char *arg);

/*
 * Run pgbackrest COMMAND with --config, --stanza and (when repo) --repo from
 * def, then run->args.  Returns 0 when it ran (whatever its exit status), -1
 * with err when it could not be started or its output could not be read.
 */
int			pgbr_exec(const RepoDef *def, const char *cluster, bool repo, PgbrRun *run, PgbError *err);

/*
 * Run and require exit 0: otherwise err is "pgBackRest COMMAND failed
 * [NNN]: message" with the pgbkp exit code that matches pgBackRest's error.
 */
int			pgbr_exec_ok(const RepoDef *def, const char *cluster, bool repo, PgbrRun *run, PgbError *err);

/* A finished run that did not exit 0 as that error (as pgbr_exec_ok); returns -1. */
int			pgbr_run_error(const RepoDef *def, const PgbrRun *run, PgbError *err);

/* The command line as it runs (no secrets are on it), for plans and logs. */
void		pgbr_command_line(const RepoDef *def, const char *cluster, bool repo, const PgbrRun *run,
							  char *out, size_t len);

void		pgbr_run_free(PgbrRun *run);

#endif
