/*
 * pgbkp: backup and point-in-time recovery for PostgreSQL clusters.
 *
 * main parses the configuration, finds the command, runs it, and turns its
 * error (if any) into one message and the documented exit code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/dispatch.h"
#include "common/log.h"
#include "config/config.h"
#include "config/help.h"
#include "config/options.h"

/* Whether PostgreSQL runs the command for every WAL segment (archive-push, archive-get). */
static bool
per_segment(const Config *cfg)
{
	return cfg->command_id >= 0 && (command_table[cfg->command_id].flags & CMDF_PER_SEGMENT);
}

/*
 * The log file LOG_PATH/pgbkp-CLUSTER-COMMAND.log (pgBackRest's own are
 * CLUSTER-COMMAND.log in the same directory under Pigsty),
 * with a line for the command's start.  Best effort: a log file that cannot
 * be opened leaves logging on stderr (with a warning, except for the archive
 * commands PostgreSQL runs for every segment, and for Pigsty's default
 * directory where it does not exist).
 */
static void
open_log_file(const Config *cfg)
{
	char		path[4096];
	char		line[2048];
	size_t		n = 0;
	const OptionDef *opt = option_find("log-path");
	const char *src = cfg->source[opt - option_table];

	if (cfg->log_path == NULL || cfg->command == NULL)
		return;
	snprintf(path, sizeof(path), "%s/pgbkp-%s-%s.log", cfg->log_path, cfg->cluster ? cfg->cluster : "none", cfg->command);
	if (!log_open_file(path, (LogLevel) cfg->log_level_file))
	{
		if (per_segment(cfg) || (errno == ENOENT && src && strstr(src, "role default")))
			log_debug("could not open log file \"%s\": %s", path, strerror(errno));
		else
			log_warn("could not open log file \"%s\": %s; logging to stderr only", path, strerror(errno));
		return;
	}
	line[0] = '\0';
	for (int i = 1; i < cfg->argc && n < sizeof(line) - 1; i++)
		n += (size_t) snprintf(line + n, sizeof(line) - n, "%s%s", i > 1 ? " " : "", cfg->argv[i]);
	log_file_only(LOG_INFO, "%s command begin %s: %s", cfg->command, PACKAGE_VERSION, line);
}

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
	open_log_file(&cfg);

	/*
	 * What the configuration asked for that pgbkp does not do as asked, once
	 * a run (not for archive-push/-get: PostgreSQL would log it every segment)
	 */
	for (int i = 0; i < cfg.nrepos; i++)
		for (int j = 0; j < cfg.repos[i].nwarnings; j++)
		{
			if (per_segment(&cfg))
				log_debug("%s", cfg.repos[i].warnings[j]);
			else
				log_warn("%s", cfg.repos[i].warnings[j]);
		}
	if (cmd_run(&cfg, &err) == 0)
		rc = EXIT_OK;
	else
	{
		/*
		 * archive-get: a missing file is routine, PostgreSQL probes for it;
		 * archive-push: the reason for a pending file was logged recently
		 */
		if (err.code == EXIT_WAL_MISSING || err.code == EXIT_ARCHIVE_PENDING)
			log_debug("%s", err.msg);
		else
			log_pgb_error(&err);
		rc = err.code ? err.code : EXIT_INTERNAL;
	}
	if (rc == EXIT_OK)
		log_file_only(LOG_INFO, "%s command end: completed successfully", cfg.command);
	else
		log_file_only(rc == EXIT_WAL_MISSING ? LOG_INFO : LOG_ERROR, "%s command end: exit status %d", cfg.command, rc);
	log_close_file();
	config_free(&cfg);
	return rc;
}
