/*
 * pgbkp: backup and point-in-time recovery for PostgreSQL clusters.
 *
 * main parses the configuration, finds the command, runs it, and turns its
 * error (if any) into one message and the documented exit code.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "config/config.h"

int
main(int argc, char **argv)
{
	Config		cfg;
	PgbError	err = {0};
	int			rc;

	/* a closed pipe from "pgbkp info | head" is not worth dying of a signal */
	signal(SIGPIPE, SIG_IGN);
	if (config_load(&cfg, argc, argv, &err) != 0)
	{
		log_pgb_error(&err);
		return err.code;
	}
	log_set_level((LogLevel) cfg.log_level);
	if (cfg.help_troff)
	{
		config_print_troff();
		config_free(&cfg);
		return EXIT_OK;
	}
	if (cfg.version)
	{
		printf("pgbkp %s\n", PACKAGE_VERSION);
		config_free(&cfg);
		return EXIT_OK;
	}
	if (cfg.help || cfg.command == NULL)
	{
		rc = cfg.help ? EXIT_OK : EXIT_USAGE;
		config_print_help(cfg.help_topic ? cfg.help_topic : cfg.command);
		config_free(&cfg);
		return rc;
	}
	/*
	 * What the configuration asked for that pgbkp does not do as asked, once
	 * a run (not for archive-push/-get: PostgreSQL would log it every segment)
	 */
	for (int i = 0; i < cfg.nrepos; i++)
		for (int j = 0; j < cfg.repos[i].nwarnings; j++)
		{
			if (strncmp(cfg.command, "archive-", 8) == 0)
				log_debug("%s", cfg.repos[i].warnings[j]);
			else
				log_warn("%s", cfg.repos[i].warnings[j]);
		}
	rc = EXIT_INTERNAL;
	for (const CommandEntry *c = command_handlers; c->name; c++)
	{
		if (strcmp(c->name, cfg.command) != 0)
			continue;
		if (cmd_run(c, &cfg, &err) == 0)
			rc = EXIT_OK;
		else
		{
			/* archive-get: a missing file is routine, PostgreSQL probes for it */
			if (err.code == EXIT_WAL_MISSING)
				log_debug("%s", err.msg);
			else
				log_pgb_error(&err);
			rc = err.code ? err.code : EXIT_INTERNAL;
		}
		break;
	}
	config_free(&cfg);
	return rc;
}
