/*
 * The recovery settings a restore leaves in the data directory: a rewritten
 * postgresql.auto.conf (stale recovery settings removed, ours appended) and
 * recovery.signal.  The text transformation is pure, for unit tests.
 */
#ifndef PGBKP_RECOVERY_CONF_H
#define PGBKP_RECOVERY_CONF_H

#include <stdbool.h>
#include "common/error.h"

typedef struct RecoverySettings
{
	const char *restore_command;
	const char *target_param;	/* "recovery_target_time", ..., "recovery_target"; NULL: none */
	const char *target_value;	/* e.g. "2026-11-25 21:38:58.000000+00", "immediate" */
	const char *target_action;	/* pause | promote | shutdown (only with a target) */
	bool		archive_off;	/* add archive_mode = off */
	const char *comment;		/* one line, without '#' */
	bool		standby;		/* standby.signal instead of recovery.signal */
	int			nextra;			/* more settings (replacing earlier lines that set them) */
	const char *extra_names[12];
	const char *extra_values[12];
} RecoverySettings;

/*
 * old: the current postgresql.auto.conf (may be NULL).  Returns the new text
 * (malloc'd) with every line that sets restore_command, recovery_target*,
 * or (when archive_off) archive_mode removed and the settings appended.
 */
char	   *recovery_conf_render(const char *old, const RecoverySettings *s, PgbError *err);

/* Quote a value for postgresql.conf: single quotes and backslashes are doubled.  malloc'd. */
char	   *recovery_conf_quote(const char *value);

/* Shell-quote one word if it needs it: /a/b stays, a b becomes 'a b'.  malloc'd. */
char	   *shell_quote(const char *word);

/*
 * Apply to pgdata: rewrite postgresql.auto.conf atomically, create
 * recovery.signal (or, for a standby, standby.signal; the other one is
 * removed).
 */
int			recovery_conf_write(const char *pgdata, const RecoverySettings *s, PgbError *err);

#endif
