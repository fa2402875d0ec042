/*
 * The command line before the command is known: the command word, its
 * positional arguments and the options in order of appearance.  The options
 * are stored later (config.c), once it is known which apply.
 */
#ifndef PGBKP_CMDLINE_H
#define PGBKP_CMDLINE_H

#include "common/error.h"
#include "config/config.h"

/* One option as it appeared on the command line. */
typedef struct CmdlineOpt
{
	int			index;			/* in option_table */
	const char *value;			/* its text; "true"/"false" for a flag or its --no- form */
} CmdlineOpt;

/*
 * Scan argv: the first positional argument into *cmdword, the others into
 * cfg->args, the options into opts[0..*nopts) (room for argc).  EXIT_USAGE
 * for what getopt refuses, with a hint.
 */
int			cmdline_scan(Config *cfg, int argc, char **argv, const char **cmdword,
						 CmdlineOpt *opts, int *nopts, PgbError *err);

/* The hint of a usage error: see pgbkp --help; returns -1. */
int			cmdline_usage_hint(PgbError *err);

#endif
