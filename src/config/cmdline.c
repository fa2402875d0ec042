/*
 * The first pass over argv (see cmdline.h): getopt_long's tables built from
 * the option table, and messages for what getopt refuses -- an unknown or
 * ambiguous option, a missing or unwanted value, pgBackRest's spelling of an
 * option pgbkp names differently.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cmdline.h"
#include "config/options.h"
#include "config/pgbr_hint.h"

#define VAL_OPTION 1000			/* getopt value of option i: VAL_OPTION + i */
#define VAL_NEGATED 2000		/* of --no-<option i>: VAL_NEGATED + i */

int
cmdline_usage_hint(PgbError *err)
{
	return pgb_hint(err, "see pgbkp --help");
}

/* getopt_long's tables, generated from option_table. */
static void
build_getopt_tables(struct option *longopts, char (*negnames)[64], char *shortopts)
{
	int			n = 0;
	char	   *s = shortopts;

	*s++ = '-';					/* non-options in order, as value 1 */
	*s++ = ':';					/* a missing value returns ':' */
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		int			has_arg = (opt->type == OPT_BOOL || opt->type == OPT_FLAG) ?
			no_argument : required_argument;

		longopts[n++] = (struct option) {opt->name, has_arg, NULL, VAL_OPTION + i};
		if (opt->type == OPT_BOOL)
		{
			snprintf(negnames[i], 64, "no-%s", opt->name);
			longopts[n++] = (struct option) {negnames[i], no_argument, NULL, VAL_NEGATED + i};
		}
		if (opt->short_name)
		{
			*s++ = (char) opt->short_name;
			if (has_arg == required_argument)
				*s++ = ':';
		}
	}
	*s = '\0';
	longopts[n] = (struct option) {NULL, 0, NULL, 0};
}

static int
short_option_index(int c)
{
	for (int i = 0; i < option_count; i++)
		if (option_table[i].short_name == c)
			return i;
	return -1;
}

/* How many long options (with the --no- forms) begin with the given text. */
static int
long_option_matches(const char *text)
{
	size_t		len = strcspn(text, "=");
	int			n = 0;

	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (strncmp(opt->name, text, len) == 0)
			n++;
		if (opt->type == OPT_BOOL && strncmp("no-", text, len < 3 ? len : 3) == 0 &&
			(len <= 3 || strncmp(opt->name, text + 3, len - 3) == 0))
			n++;
	}
	return n;
}

static int
getopt_error(int c, int argc, char **argv, PgbError *err)
{
	const char *arg = (optind > 0 && optind <= argc) ? argv[optind - 1] : "?";

	if (optopt >= VAL_OPTION && optopt < VAL_OPTION + option_count)
	{
		const OptionDef *opt = &option_table[optopt - VAL_OPTION];

		pgb_error(err, EXIT_USAGE, c == ':' ? "option --%s requires a value" :
				  "option --%s does not take a value", opt->name);
	}
	else if (optopt >= VAL_NEGATED && optopt < VAL_NEGATED + option_count)
		pgb_error(err, EXIT_USAGE, "option --no-%s does not take a value",
				  option_table[optopt - VAL_NEGATED].name);
	else if (c == ':')
		pgb_error(err, EXIT_USAGE, "option -%c requires a value", optopt);
	else if (optopt != 0)
		pgb_error(err, EXIT_USAGE, "unrecognized option \"-%c\"", optopt);
	else
	{
		char		hint[PGB_HINT_MAX];

		if (pgbr_option_hint(arg, argc, argv, hint, sizeof(hint)))
		{
			pgb_error(err, EXIT_USAGE, "unrecognized option \"%.*s\"", (int) strcspn(arg, "="), arg);
			return pgb_hint(err, "%s", hint);
		}
		if (arg[0] == '-' && arg[1] == '-' && long_option_matches(arg + 2) > 1)
			pgb_error(err, EXIT_USAGE, "option \"%.*s\" is ambiguous",
					  (int) strcspn(arg, "="), arg);
		else
			pgb_error(err, EXIT_USAGE, "unrecognized option \"%.*s\"",
					  (int) strcspn(arg, "="), arg);
	}
	return cmdline_usage_hint(err);
}

/* The first positional argument is the command word; the rest are its args. */
static int
add_positional(Config *cfg, const char **cmdword, const char *arg, PgbError *err)
{
	if (*cmdword == NULL)
		*cmdword = arg;
	else if ((cfg->args[cfg->nargs++] = strdup(arg)) == NULL)
	{
		cfg->nargs--;
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	return 0;
}

int
cmdline_scan(Config *cfg, int argc, char **argv, const char **cmdword,
			 CmdlineOpt *opts, int *nopts, PgbError *err)
{
	struct option longopts[2 * CONFIG_OPTION_MAX + 1];
	char		negnames[CONFIG_OPTION_MAX][64];
	char		shortopts[2 * CONFIG_OPTION_MAX + 3];
	int			c;

	build_getopt_tables(longopts, negnames, shortopts);
	optind = 0;					/* glibc: full re-initialization */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
	{
		int			i;

		if (c == 1)
		{
			if (add_positional(cfg, cmdword, optarg, err) < 0)
				return -1;
		}
		else if (c == '?' || c == ':')
			return getopt_error(c, argc, argv, err);
		else if (c >= VAL_NEGATED)
			opts[(*nopts)++] = (CmdlineOpt) {c - VAL_NEGATED, "false"};
		else if ((i = c >= VAL_OPTION ? c - VAL_OPTION : short_option_index(c)) >= 0)
		{
			if (option_table[i].flags & OPTF_SECRET)
				return pgb_error(err, EXIT_USAGE,
								 "--%s is not taken on the command line, where every user of the machine can read it",
								 option_table[i].name),
					pgb_hint(err, "set %s in the configuration file or %s in the environment",
							 option_table[i].yaml_key, option_table[i].env_name);
			opts[(*nopts)++] = (CmdlineOpt) {i, optarg ? optarg : "true"};
		}
		else
			return pgb_error(err, EXIT_INTERNAL, "getopt returned unexpected value %d", c);
	}
	/* after "--" everything is positional */
	for (int i = optind; i < argc; i++)
		if (add_positional(cfg, cmdword, argv[i], err) < 0)
			return -1;
	return 0;
}

