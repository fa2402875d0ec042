/*
 * Building the Config (see config.h) from the option table: defaults, then
 * the YAML file, then PGBKP_* variables, then the command line.  The command
 * line is parsed first -- it names the command, the file and perhaps the
 * cluster the file is read for -- and every value remembers the rank of the
 * source that set it, so a lower source read later never replaces it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timefmt.h"
#include "config/cmdline.h"
#include "config/config.h"
#include "config/pgbr_hint.h"
#include "config/inventory.h"
#include "config/members.h"
#include "config/options.h"
#include "config/schedjob.h"


typedef struct Loader
{
	Config	   *cfg;
	int			cmd;			/* CommandId, or -1 */
	OptionSourceKind rank[CONFIG_OPTION_MAX];	/* source of each option's value */
	bool		repo_path_fallback; /* repo-path came from pg_fs_backup */
	int			file_pg_port;	/* pg_port as the file sets it (the members' default), 0: unset */
	char		repo_path_where[1024];	/* where repo-path was set in the file */
} Loader;


/* Remember where option i's value came from (for pgbkp config). */
static int
note_source(Config *cfg, int i, const OptionSource *src, PgbError *err)
{
	char		text[1200];
	const OptionDef *opt = &option_table[i];

	switch (src->kind)
	{
		case SRC_DEFAULT:
			snprintf(text, sizeof(text), "default");
			break;
		case SRC_CMDLINE:
			snprintf(text, sizeof(text), "command line (--%s)", opt->name);
			break;
		case SRC_ENV:
			snprintf(text, sizeof(text), "environment (%s)", opt->env_name ? opt->env_name : "?");
			break;
		case SRC_FILE:
			if (src->line > 0)
				snprintf(text, sizeof(text), "%s:%d (%s)", src->file ? src->file : "?", src->line,
						 src->key ? src->key : opt->yaml_key ? opt->yaml_key : opt->name);
			else				/* not from a line: Pigsty's role defaults */
				snprintf(text, sizeof(text), "%s (%s)", src->file ? src->file : "?",
						 src->key ? src->key : opt->yaml_key ? opt->yaml_key : opt->name);
			break;
	}
	free(cfg->source[i]);
	if ((cfg->source[i] = strdup(text)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	return 0;
}

/* Store text unless a higher-ranked source already set the option. */
static int
apply(Loader *ld, const OptionDef *opt, const char *text,
	  const OptionSource *src, PgbError *err)
{
	int			i = (int) (opt - option_table);

	if (src->kind < ld->rank[i])
		return 0;
	if (option_store(ld->cfg, opt, text, src, err) < 0)
		return -1;
	ld->rank[i] = src->kind;
	return note_source(ld->cfg, i, src, err);
}

/* InventorySetFn: file settings of options this command does not use are ignored. */
static int
apply_file_setting(void *arg, const OptionDef *opt, const char *value,
				   const OptionSource *src, PgbError *err)
{
	Loader	   *ld = arg;

	int			i = (int) (opt - option_table);

	if (!option_applies(opt, ld->cmd))
		return 0;
	/* the members' default port even where another source sets --pg-port; 0: not a port */
	if (strcmp(opt->name, "pg-port") == 0 && !config_parse_int(value, 1, 65535, &ld->file_pg_port))
		ld->file_pg_port = 0;
	if (apply(ld, opt, value, src, err) < 0)
		return -1;
	if (strcmp(opt->name, "repo-path") == 0 && ld->rank[i] == SRC_FILE)
	{
		ld->repo_path_fallback = src->key && strncmp(src->key, "pg_fs_", 6) == 0;
		snprintf(ld->repo_path_where, sizeof(ld->repo_path_where), "%s:%d", src->file, src->line);
	}
	return 0;
}

/* InventoryRepoFn: collect the schedule's jobs (checked by the scheduler). */
static int
apply_file_job(void *arg, const char *index, const char *key, const char *value,
			   const char *where, PgbError *err)
{
	Config	   *cfg = ((Loader *) arg)->cfg;

	if (key != NULL)
		return schedjob_set(&cfg->sched[cfg->nsched - 1], key, value, where, err);
	if (cfg->nsched == CONFIG_MAX_JOBS)
		return pgb_error(err, EXIT_CONFIG, "%s: more than %d scheduled jobs", where, CONFIG_MAX_JOBS);
	return schedjob_init(&cfg->sched[cfg->nsched++], where, err);
}

/* InventoryRepoFn: collect the drill_checks entries (checked by drill). */
static int
apply_file_check(void *arg, const char *index, const char *key, const char *value,
				 const char *where, PgbError *err)
{
	Config	   *cfg = ((Loader *) arg)->cfg;
	DrillCheckDef *d;
	char	   *field = NULL;
	size_t		size = 0;

	(void) index;
	if (key == NULL)
	{
		if (cfg->ndrill_checks == CONFIG_MAX_DRILL_CHECKS)
			return pgb_error(err, EXIT_CONFIG, "%s: more than %d drill checks", where, CONFIG_MAX_DRILL_CHECKS);
		d = &cfg->drill_checks[cfg->ndrill_checks++];
		memset(d, 0, sizeof(*d));
		return config_set_string(&d->where, where, err);
	}
	d = &cfg->drill_checks[cfg->ndrill_checks - 1];
	if (strcmp(key, "sql") == 0)
		return config_set_string(&d->sql, value, err);
	if (strcmp(key, "name") == 0)
		field = d->name, size = sizeof(d->name);
	else if (strcmp(key, "database") == 0)
		field = d->database, size = sizeof(d->database);
	else
		field = d->expect, size = sizeof(d->expect);
	if (strlen(value) >= size)
		return pgb_error(err, EXIT_CONFIG, "%s: value of \"%s\" is too long", where, key);
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* InventoryRepoFn: collect the cluster's members. */
static int
apply_file_member(void *arg, const char *addr, const char *key, const char *value,
				  const char *where, PgbError *err)
{
	return members_add(((Loader *) arg)->cfg, addr, key, value, where, err);
}

/* InventoryRepoFn: collect the configured repositories. */
static int
apply_file_repo(void *arg, const char *name, const char *key, const char *value,
				const char *where, PgbError *err)
{
	Loader	   *ld = arg;
	Config	   *cfg = ld->cfg;

	if (key == NULL)
	{
		for (int i = 0; i < cfg->nrepos; i++)
			if (strcmp(cfg->repos[i].name, name) == 0)
				return pgb_error(err, EXIT_CONFIG, "%s: repository \"%s\" is listed twice", where, name);
		if (cfg->nrepos == CONFIG_MAX_REPOS)
			return pgb_error(err, EXIT_CONFIG, "%s: more than %d repositories", where, CONFIG_MAX_REPOS);
		if (strlen(name) >= REPODEF_NAME_MAX)
			return pgb_error(err, EXIT_CONFIG, "%s: repository name \"%s\" is too long", where, name);
		repodef_init(&cfg->repos[cfg->nrepos++], name, value);
		return 0;
	}
	return repodef_set(&cfg->repos[cfg->nrepos - 1], key, value, where, err);
}

/* Check the command and store the command-line options for it. */
static int
apply_cmdline(Loader *ld, const CmdlineOpt *opts, int nopts, PgbError *err)
{
	const CommandDef *cmd = &command_table[ld->cmd];
	OptionSource src = {SRC_CMDLINE, NULL, 0, NULL};
	char		valid[128];

	for (int i = 0; i < nopts; i++)
	{
		const OptionDef *opt = &option_table[opts[i].index];

		if (!option_applies(opt, ld->cmd))
		{
			char		hint[PGB_HINT_MAX];

			if (ld->cmd == CMD_RESTORE && strcmp(opt->name, "type") == 0 &&
				pgbr_restore_type_hint(opts[i].value, hint, sizeof(hint)))
			{
				pgb_error(err, EXIT_USAGE, "option --type is not valid for command \"restore\"");
				return pgb_hint(err, "%s", hint);
			}
			option_commands(opt, valid, sizeof(valid));
			pgb_error(err, EXIT_USAGE, "option --%s is not valid for command \"%s\"",
					  opt->name, cmd->name);
			return pgb_hint(err, "--%s applies to: %s", opt->name, valid);
		}
		if (apply(ld, opt, opts[i].value, &src, err) < 0)
			return -1;
	}
	if (ld->cfg->nargs != cmd->nargs)
	{
		pgb_error(err, EXIT_USAGE,
				  "command \"%s\" takes %d argument%s, got %d (usage: pgbkp %s%s%s)",
				  cmd->name, cmd->nargs, cmd->nargs == 1 ? "" : "s", ld->cfg->nargs,
				  cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "");
		return pgb_hint(err, "see pgbkp %s --help", cmd->name);
	}
	return 0;
}

static int
apply_environment(Loader *ld, PgbError *err)
{
	OptionSource src = {SRC_ENV, NULL, 0, NULL};

	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		const char *value;

		if (opt->env_name == NULL || !option_applies(opt, ld->cmd))
			continue;
		value = getenv(opt->env_name);
		if (value && value[0] != '\0' && apply(ld, opt, value, &src, err) < 0)
			return -1;
	}
	return 0;
}

/* The file named by --config or PGBKP_CONFIG, else the default if it exists. */
static int
apply_file(Loader *ld, PgbError *err)
{
	Config	   *cfg = ld->cfg;

	if (cfg->config_file == NULL)
	{
		if (access(CONFIG_DEFAULT_FILE, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		if ((cfg->config_file = strdup(CONFIG_DEFAULT_FILE)) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	{
		static const InventoryCallbacks cb = {apply_file_setting, apply_file_repo, apply_file_member, apply_file_job,
		apply_file_check};

		return inventory_load(cfg->config_file, cfg->cluster, &cb, ld, err);
	}
}

/* At most one recovery target; --target-action only with one. */
static int
check_targets(const Loader *ld, PgbError *err)
{
	const OptionDef *first = NULL;
	const OptionDef *action = option_find("target-action");

	if (ld->cmd != CMD_RESTORE)
		return 0;				/* clone's --name is the copy's name, not a target */
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];

		if (!(opt->flags & OPTF_TARGET) || ld->rank[i] == SRC_DEFAULT)
			continue;
		if (first)
			return pgb_error(err, EXIT_USAGE,
							 "only one recovery target may be given, got --%s and --%s",
							 first->name, opt->name);
		first = opt;
	}
	if (first == NULL && action && ld->rank[action - option_table] != SRC_DEFAULT)
		return pgb_error(err, EXIT_USAGE,
						 "--target-action requires a recovery target "
						 "(--time, --lsn, --xid, --name or --immediate)");
	return 0;
}

static void
free_repos(Config *cfg)
{
	for (int i = 0; i < cfg->nrepos; i++)
		repodef_free(&cfg->repos[i]);
	cfg->nrepos = 0;
}

/*
 * WAL commands leave pgBackRest's repositories to pgBackRest, whose own
 * archive-push and archive-get serve them: with a list of both kinds, pgbkp
 * archives into its own repositories only.  A list of pgBackRest
 * repositories alone is a configuration error.
 */
static int
drop_pgbackrest_repos(Config *cfg, PgbError *err)
{
	int			kept = 0;
	char		first[REPODEF_NAME_MAX] = "";

	for (int i = 0; i < cfg->nrepos; i++)
	{
		if (cfg->repos[i].type != REPO_TYPE_PGBACKREST)
		{
			cfg->repos[kept++] = cfg->repos[i];
			continue;
		}
		if (!first[0])
			memcpy(first, cfg->repos[i].name, sizeof(first));
		repodef_free(&cfg->repos[i]);
	}
	cfg->nrepos = kept;
	if (kept == 0 && first[0])
	{
		pgb_error(err, EXIT_CONFIG, "repository \"%s\" is pgBackRest's: pgBackRest archives and fetches its WAL", first);
		return pgb_hint(err, "archive_command = 'pgbackrest --stanza=NAME archive-push %%p'; list a repository of "
						"pgbkp's own for pgbkp archive-push");
	}
	return 0;
}

/*
 * The repositories of this run (see repodef.h): --repo-path wins over the
 * configured list unless it is only pg_fs_backup; --repo keeps one.
 */
/*
 * engine: pgbackrest -- the one repository is the one the cluster's
 * pgBackRest uses, as Pigsty sets it up: stanza = the cluster, its config
 * file at pgBackRest's (and Pigsty's) path, repo1.  An explicit
 * --repo-path (pgbkp's own repository) contradicts it.
 */
static int
engine_repository(Loader *ld, PgbError *err)
{
	Config	   *cfg = ld->cfg;
	RepoDef    *def = &cfg->repos[0];
	char		where[64];

	if (ld->rank[option_find("repo-path") - option_table] > SRC_FILE)
	{
		pgb_error(err, EXIT_CONFIG, "engine pgbackrest (--engine, engine:) works on pgBackRest's repository, but --repo-path "
				  "(or PGBKP_REPO_PATH) names a repository of pgbkp's own");
		return pgb_hint(err, "leave out one of them");
	}
	free_repos(cfg);
	free(cfg->repo_path);
	cfg->repo_path = NULL;
	snprintf(where, sizeof(where), "engine: pgbackrest");
	repodef_init(def, "pgbackrest", where);
	cfg->nrepos = 1;
	if (repodef_set(def, "type", "pgbackrest", where, err) != 0 ||
		repodef_set(def, "config", REPODEF_PGBR_CONFIG, where, err) != 0 ||
		(cfg->cluster && repodef_set(def, "stanza", cfg->cluster, where, err) != 0) ||
		repodef_set(def, "repo", "1", where, err) != 0)
		return -1;
	return 0;
}

static int
resolve_repos(Loader *ld, PgbError *err)
{
	Config	   *cfg = ld->cfg;
	const OptionDef *rp = option_find("repo-path");
	OptionSourceKind rank = ld->rank[rp - option_table];
	int			keep = -1;

	if (cfg->engine && strcmp(cfg->engine, "pgbackrest") == 0 && engine_repository(ld, err) != 0)
		return -1;

	if (cfg->repo_path && (cfg->nrepos == 0 || rank > SRC_FILE || !ld->repo_path_fallback))
	{
		const char *where = rank == SRC_CMDLINE ? "--repo-path" :
			rank == SRC_ENV ? "PGBKP_REPO_PATH" : ld->repo_path_where;

		free_repos(cfg);
		repodef_init(&cfg->repos[0], ld->repo_path_fallback ? "local" : "default", where);
		cfg->nrepos = 1;
		if ((cfg->repos[0].path = strdup(cfg->repo_path)) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	for (int i = 0; i < cfg->nrepos; i++)
	{
		RepoDef    *def = &cfg->repos[i];

		def->position = i + 1;
		/*
		 * retention: an explicit option, else the repository's own, else the
		 * default -- except in pgBackRest's repository, where pgBackRest's
		 * own configuration is the default (pgbr_expire.c)
		 */
		bool		own_default = def->type != REPO_TYPE_PGBACKREST;

		if ((ld->rank[option_find("retention-full") - option_table] > SRC_DEFAULT ||
			 (def->retention_full == 0 && own_default)) && cfg->retention_full > 0)
			def->retention_full = cfg->retention_full;
		if ((ld->rank[option_find("retention-full-type") - option_table] > SRC_DEFAULT ||
			 (def->retention_full_type == NULL && own_default)) && cfg->retention_full_type &&
			(free(def->retention_full_type), def->retention_full_type = strdup(cfg->retention_full_type)) == NULL)
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		/* bundle size: an explicit option, else the repository's own (bundle_size), else the default */
		if (ld->rank[option_find("bundle-size") - option_table] > SRC_DEFAULT || def->bundle_size == 0)
			def->bundle_size = cfg->bundle_size;
		if (cfg->repo && strcmp(cfg->repo, cfg->repos[i].name) == 0)
			keep = i;
		if ((cfg->repo == NULL || keep == i) && repodef_finish(&cfg->repos[i], err) < 0)
			return -1;
	}
	if (cfg->repo && keep < 0)
	{
		char		names[256] = "";
		size_t		len = 0;

		for (int i = 0; i < cfg->nrepos && len < sizeof(names); i++)
			len += snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", cfg->repos[i].name);
		char		pgbr[160];

		pgb_error(err, EXIT_CONFIG, "no repository named \"%s\"", cfg->repo);
		if (pgbr_repo_number_hint(cfg->repo, pgbr, sizeof(pgbr)))
			return pgb_hint(err, "%s: %s", pgbr, cfg->nrepos ? names : "none is configured");
		return pgb_hint(err, cfg->nrepos ? "the configured repositories are: %s" : "no repository is configured%s", names);
	}
	if (keep > 0)
	{
		RepoDef		chosen = cfg->repos[keep];

		cfg->repos[keep] = cfg->repos[0];
		cfg->repos[0] = chosen;
	}
	if (keep >= 0)
	{
		for (int i = 1; i < cfg->nrepos; i++)
			repodef_free(&cfg->repos[i]);
		cfg->nrepos = 1;
	}
	return ld->cmd == CMD_ARCHIVE_PUSH || ld->cmd == CMD_ARCHIVE_GET || ld->cmd == CMD_SPOOL_CLEAN ?
		drop_pgbackrest_repos(cfg, err) : 0;
}

/* The schedule's time zone, unless given: the node's own, as cron's is. */
static int
default_timezone(Config *cfg, PgbError *err)
{
	char		zone[256];
	int			i = (int) (option_find("schedule-timezone") - option_table);

	if (cfg->schedule_timezone)
		return 0;
	time_local_zone_name(zone, sizeof(zone));
	free(cfg->source[i]);
	cfg->source[i] = strdup("the node's local time zone");
	if ((cfg->schedule_timezone = strdup(zone)) == NULL || cfg->source[i] == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	return 0;
}

static int
load(Loader *ld, int argc, char **argv, CmdlineOpt *opts, PgbError *err)
{
	Config	   *cfg = ld->cfg;
	OptionSource dflt = {SRC_DEFAULT, NULL, 0, NULL};
	const char *cmdword = NULL;
	int			nopts = 0;

	for (int i = 0; i < option_count; i++)
		if (option_table[i].default_value &&
			(option_store(cfg, &option_table[i], option_table[i].default_value, &dflt, err) < 0 ||
			 note_source(cfg, i, &dflt, err) < 0))
			return -1;

	if (cmdline_scan(cfg, argc, argv, &cmdword, opts, &nopts, err) < 0)
		return -1;
	if (cmdword && strcmp(cmdword, "help") == 0)
	{
		/* pgbkp help [COMMAND|options] */
		cfg->help = true;
		if (cfg->nargs > 1)
			return pgb_error(err, EXIT_USAGE, "help takes one topic, got %d", cfg->nargs),
				pgb_hint(err, "pgbkp help COMMAND, or pgbkp help options");
		if (cfg->nargs == 1 && strcmp(cfg->args[0], "options") != 0 && command_find(cfg->args[0]) < 0)
			return pgb_error(err, EXIT_USAGE, "no help topic \"%s\"", cfg->args[0]),
				pgb_hint(err, "a command name, or options");
		cfg->help_topic = cfg->nargs == 1 ? cfg->args[0] : NULL;
		return 0;
	}
	if (cmdword)
	{
		if ((ld->cmd = command_find(cmdword)) < 0)
		{
			pgb_error(err, EXIT_USAGE, "unknown command \"%s\"", cmdword);
			return cmdline_usage_hint(err);
		}
		cfg->command = command_table[ld->cmd].name;
		cfg->command_id = ld->cmd;
	}
	/* the global flags --help, --version, --help-troff: nothing else is checked */
	for (int i = 0; i < nopts; i++)
		if (option_table[opts[i].index].type == OPT_FLAG &&
			option_table[opts[i].index].commands == 0)
			*(bool *) ((char *) cfg + option_table[opts[i].index].offset) = true;
	if (cfg->help || cfg->version || cfg->help_troff)
		return 0;
	if (cmdword == NULL)
	{
		pgb_error(err, EXIT_USAGE, "no command given");
		return cmdline_usage_hint(err);
	}

	if (apply_cmdline(ld, opts, nopts, err) < 0 ||
		apply_environment(ld, err) < 0 ||
		apply_file(ld, err) < 0 ||
		resolve_repos(ld, err) < 0 ||
		members_resolve(cfg, ld->file_pg_port > 0 ? ld->file_pg_port : 5432,
						ld->rank[option_find("pg-port") - option_table] <= SRC_FILE,
						ld->rank[option_find("pg-data") - option_table] <= SRC_FILE,
						ld->rank[option_find("pg-host") - option_table] <= SRC_FILE, err) < 0 ||
		check_targets(ld, err) < 0 ||
		default_timezone(cfg, err) < 0)
		return -1;
	return 0;
}

int
config_load(Config *cfg, int argc, char **argv, PgbError *err)
{
	Loader		ld;
	CmdlineOpt *opts;
	int			rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	cfg->argc = argc;
	cfg->argv = argv;
	cfg->command_id = -1;
	ld.cfg = cfg;
	ld.cmd = -1;
	if (option_count > CONFIG_OPTION_MAX)
		return pgb_error(err, EXIT_INTERNAL, "too many options in the option table");

	opts = calloc(argc > 0 ? argc : 1, sizeof(CmdlineOpt));
	cfg->args = calloc(argc > 0 ? argc : 1, sizeof(char *));
	if (opts == NULL || cfg->args == NULL)
	{
		free(opts);
		config_free(cfg);
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	}
	rc = load(&ld, argc, argv, opts, err);
	free(opts);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

void
config_free(Config *cfg)
{
	option_free_values(cfg);
	for (int i = 0; i < CONFIG_OPTION_MAX; i++)
		free(cfg->source[i]);
	free_repos(cfg);
	members_free(cfg);
	for (int i = 0; i < cfg->nsched; i++)
		free(cfg->sched[i].where);
	cfg->nsched = 0;
	for (int i = 0; i < cfg->ndrill_checks; i++)
	{
		free(cfg->drill_checks[i].where);
		free(cfg->drill_checks[i].sql);
	}
	cfg->ndrill_checks = 0;
	for (int i = 0; i < cfg->nargs; i++)
		free(cfg->args[i]);
	free(cfg->args);
	memset(cfg, 0, sizeof(*cfg));
}
