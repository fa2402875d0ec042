/*
 * --help, "pgbkp help TOPIC" and the man page's generated sections (see
 * help.h).  Both forms walk the same tables in table order -- commands,
 * options, repository keys, exit codes -- so the output is deterministic and
 * cannot disagree with what the parser accepts.
 */
#include <stdio.h>
#include <string.h>

#include "common/exitcode.h"
#include "config/help.h"
#include "config/options.h"
#include "config/repodef.h"

/* Options of one command (cmd >= 0) or the global ones (cmd < 0). */
static bool
option_listed(const OptionDef *opt, int cmd)
{
	if (opt->flags & OPTF_HIDDEN)
		return false;
	return cmd < 0 ? opt->commands == 0 : (opt->commands & CMD_BIT(cmd)) != 0;
}

static void
help_options(int cmd)
{
	char		label[128];
	char		details[256];

	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (!option_listed(opt, cmd))
			continue;
		snprintf(label, sizeof(label), "  %c%c%c --%s%s%s%s",
				 opt->short_name ? '-' : ' ', opt->short_name ? opt->short_name : ' ',
				 opt->short_name ? ',' : ' ', opt->type == OPT_BOOL ? "[no-]" : "",
				 opt->name, opt->metavar ? "=" : "", opt->metavar ? opt->metavar : "");
		if (strlen(label) < 31)
			printf("%-32s%s\n", label, opt->help);
		else
			printf("%s\n%32s%s\n", label, "", opt->help);
		option_details(opt, details, sizeof(details));
		if (details[0])
			printf("%32s(%s)\n", "", details);
	}
}

/* Where settings come from, the repository keys and the exit codes. */
static void
help_reference(void)
{
	printf("\nSettings come from the command line, else the environment, else the\n"
		   "pgbkp: section or Pigsty inventory in the configuration file.\n");
	printf("\nRepositories: --repo-path DIR, else the names in pgbkp.repositories, else\n"
		   "pgbackrest_method (a name or a list), each defined by pgbackrest_repo.NAME\n"
		   "with these keys (Repository keys), else pg_fs_backup.  A list entry may\n"
		   "define one inline: {name: pgbr, type: pgbackrest, stanza: pg-meta, repo: 1}:\n");
	for (const RepoDefKey *k = repodef_keys; k->key; k++)
		if (k->help)
			printf("  %-22s%s\n", k->shown_as ? k->shown_as : k->key, k->help);
	printf("\nExit status:\n");
	for (const ExitCodeInfo *e = exit_code_table; e->name; e++)
		printf("  %3d  %-17s %s\n", e->code, e->name, e->description);
}

void
config_print_help(const char *topic)
{
	int			cmd = topic ? command_find(topic) : -1;
	char		synopsis[128];

	if (cmd >= 0)
	{
		command_synopsis(cmd, synopsis, sizeof(synopsis));
		printf("pgbkp %s: %s\n\nUsage:\n  pgbkp [GLOBAL OPTIONS] %s\n",
			   command_table[cmd].name, command_table[cmd].summary, synopsis);
		if (strstr(synopsis, "[OPTIONS]"))
		{
			printf("\nOptions for %s:\n", command_table[cmd].name);
			help_options(cmd);
		}
		printf("\nGlobal options (--config, --cluster, --repo-path, --pg-data, --log-level and\n"
			   "more), the repository keys and the exit status: \"pgbkp help options\".\n");
		return;
	}
	if (topic == NULL)
	{
		printf("pgbkp: backup and point-in-time recovery for PostgreSQL\n\n"
			   "Usage:\n  pgbkp [GLOBAL OPTIONS] COMMAND [ARGS]\n  pgbkp help [COMMAND|options]\n\nCommands:\n");
		for (int c = 0; c < CMD_COUNT; c++)
		{
			command_synopsis(c, synopsis, sizeof(synopsis));
			printf("  %-34s%s\n", synopsis, command_table[c].summary);
		}
	}
	printf("\nGlobal options (anywhere on the command line):\n");
	help_options(-1);
	help_reference();
	if (topic == NULL)
		printf("\nRun \"pgbkp help COMMAND\" (or \"pgbkp COMMAND --help\") for the options of a command.\n");
}

/* Write text for troff: '-' as \-, '\' as \e. */
static void
troff_put(const char *text)
{
	for (const char *p = text; *p; p++)
	{
		if (*p == '-')
			fputs("\\-", stdout);
		else if (*p == '\\')
			fputs("\\e", stdout);
		else
			putchar(*p);
	}
}

/* A line of running text; \& keeps a leading '.' or '\'' from being a request. */
static void
troff_line(const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", stdout);
	troff_put(text);
	putchar('\n');
}

static void
troff_options(int cmd)
{
	char		details[256];

	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (!option_listed(opt, cmd))
			continue;
		fputs(".TP\n", stdout);
		if (opt->short_name)
			printf("\\fB\\-%c\\fR, ", opt->short_name);
		fputs(opt->type == OPT_BOOL ? "\\fB\\-\\-\\fR[\\fBno\\-\\fR]\\fB" : "\\fB\\-\\-", stdout);
		troff_put(opt->name);
		fputs("\\fR", stdout);
		if (opt->metavar)
		{
			fputs("=\\fI", stdout);
			troff_put(opt->metavar);
			fputs("\\fR", stdout);
		}
		putchar('\n');
		troff_line(opt->help);
		option_details(opt, details, sizeof(details));
		if (details[0])
		{
			fputs(".br\n(", stdout);
			troff_put(details);
			fputs(")\n", stdout);
		}
	}
}

void
config_print_troff(void)
{
	char		synopsis[128];

	fputs(".SH COMMANDS\n", stdout);
	for (int c = 0; c < CMD_COUNT; c++)
	{
		command_synopsis(c, synopsis, sizeof(synopsis));
		fputs(".TP\n\\fB", stdout);
		troff_put(command_table[c].name);
		fputs("\\fR", stdout);
		if (command_table[c].args)
		{
			fputs(" \\fI", stdout);
			troff_put(command_table[c].args);
			fputs("\\fR", stdout);
		}
		if (strstr(synopsis, "[OPTIONS]"))
			fputs(" [\\fIOPTIONS\\fR]", stdout);
		putchar('\n');
		troff_line(command_table[c].summary);
	}

	fputs(".SH OPTIONS\n.SS \"Global options\"\n", stdout);
	troff_options(-1);
	for (int c = 0; c < CMD_COUNT; c++)
	{
		command_synopsis(c, synopsis, sizeof(synopsis));
		if (strstr(synopsis, "[OPTIONS]") == NULL)
			continue;
		printf(".SS \"Options for %s\"\n", command_table[c].name);
		troff_options(c);
	}

	fputs(".SH \"REPOSITORY KEYS\"\n", stdout);
	troff_line("Keys of a pgbackrest_repo.NAME entry that pgbkp reads (see REPOSITORIES); "
			   "pgBackRest's other keys are ignored.");
	for (const RepoDefKey *k = repodef_keys; k->key; k++)
	{
		if (k->help == NULL)
			continue;
		fputs(".TP\n.B ", stdout);
		troff_put(k->shown_as ? k->shown_as : k->key);
		putchar('\n');
		troff_line(k->help);
	}

	fputs(".SH ENVIRONMENT\n", stdout);
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		char		valid[128];

		if (opt->env_name == NULL || (opt->flags & OPTF_HIDDEN))
			continue;
		printf(".TP\n.B %s\nSets \\fB\\-\\-", opt->env_name);
		troff_put(opt->name);
		fputs("\\fR", stdout);
		if (opt->commands)
		{
			option_commands(opt, valid, sizeof(valid));
			fputs(" (", stdout);
			troff_put(valid);
			fputs(")", stdout);
		}
		fputs(opt->type == OPT_BOOL ? "; true, false, yes, no, on or off.\n" : ".\n", stdout);
	}

	fputs(".SH \"EXIT STATUS\"\n", stdout);
	for (const ExitCodeInfo *e = exit_code_table; e->name; e++)
	{
		printf(".TP\n.B %d\n\\fB", e->code);
		troff_put(e->name);
		fputs("\\fR: ", stdout);
		troff_line(e->description);
	}
}
