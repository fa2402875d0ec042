/*
 * Unit tests for src/config: the option table, precedence of command line,
 * environment and file, value checking with the source named in the error,
 * command scoping and argument counts, YAML errors with line numbers, Pigsty
 * inventories, recovery target rules and the tablespace map.
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "config/config.h"
#include "config/help.h"
#include "config/options.h"
#include "config/schedjob.h"

#define MAX_TMP 16

static Config cfg;
static PgbError err;
static char tmp_paths[MAX_TMP][64];
static int	ntmp;

static void
setup(void)
{
	for (int i = 0; i < option_count; i++)
		if (option_table[i].env_name)
			unsetenv(option_table[i].env_name);
	memset(&cfg, 0, sizeof(cfg));
	pgb_error_clear(&err);
	ntmp = 0;
	/* keep a real default file on this machine out of the tests */
	if (access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		setenv("PGBKP_CONFIG", "/dev/null", 1);
}

static void
teardown(void)
{
	config_free(&cfg);
	for (int i = 0; i < ntmp; i++)
		unlink(tmp_paths[i]);
}

/* Write content to a fresh file under /tmp; removed in teardown. */
static const char *
yaml_file(const char *content)
{
	char	   *path;
	int			fd;
	size_t		len = strlen(content);

	ck_assert_int_lt(ntmp, MAX_TMP);
	path = tmp_paths[ntmp++];
	snprintf(path, 64, "/tmp/check_config_XXXXXX.yml");
	fd = mkstemps(path, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t) len);
	close(fd);
	return path;
}

/*
 * config_load on "pgbkp" followed by the NULL-terminated arguments.  A
 * configuration that loaded must be freed before the next load: config_load
 * starts from an empty Config and would leak the previous one.
 */
static int
load(const char *first,...)
{
	char	   *argv[32];
	int			argc = 0;
	va_list		ap;

	ck_assert_msg(cfg.args == NULL, "load() over a loaded configuration: call config_free() first");
	argv[argc++] = "pgbkp";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
	{
		ck_assert_int_lt(argc, 31);
		argv[argc++] = (char *) a;
	}
	va_end(ap);
	argv[argc] = NULL;
	return config_load(&cfg, argc, argv, &err);
}

static void
assert_error(int code, const char *msg)
{
	ck_assert_int_eq(err.code, code);
	ck_assert_str_eq(err.msg, msg);
}

/* ---- the table itself ---- */

START_TEST(test_table_names)
{
	for (int i = 0; i < option_count; i++)
	{
		const OptionDef *opt = &option_table[i];
		char		env[64] = "PGBKP_";
		char		key[64] = "";

		for (const char *c = opt->name; *c; c++)
		{
			size_t		n = strlen(env);

			env[n] = *c == '-' ? '_' : (char) toupper((unsigned char) *c);
			env[n + 1] = '\0';
			n = strlen(key);
			key[n] = *c == '-' ? '_' : *c;
			key[n + 1] = '\0';
		}
		if (opt->env_name)
			ck_assert_str_eq(opt->env_name, env);
		if (opt->yaml_key)
			ck_assert_str_eq(opt->yaml_key, key);
		ck_assert(opt->short_name == 0 || opt->short_name == 'c' || opt->short_name == 'h' || opt->short_name == 'j');
		ck_assert_ptr_eq(option_find(opt->name), opt);
	}
	for (int i = 0; option_find("log-level")->values[i]; i++)
		ck_assert_int_eq(log_level_parse(option_find("log-level")->values[i]), i);
	ck_assert_int_eq(command_find("archive-get"), CMD_ARCHIVE_GET);
	ck_assert_int_eq(command_find("nope"), -1);
}
END_TEST

/* ---- the repository key table ---- */

/* The command table: every row complete, and the flags the command layer acts on. */
START_TEST(test_command_table)
{
	unsigned	each = 0,
				primary = 0,
				per_segment = 0;

	for (int c = 0; c < CMD_COUNT; c++)
	{
		const CommandDef *d = &command_table[c];

		ck_assert_ptr_nonnull(d->name);
		ck_assert_ptr_nonnull(d->summary);
		ck_assert_int_eq(command_find(d->name), c);
		ck_assert_int_eq(d->nargs == 0, d->args == NULL);
		if (d->flags & CMDF_EACH_REPO)
			each |= CMD_BIT(c);
		if (d->flags & CMDF_PRIMARY)
			primary |= CMD_BIT(c);
		if (d->flags & CMDF_PER_SEGMENT)
			per_segment |= CMD_BIT(c);
	}
	ck_assert_uint_eq(each, CMD_BIT(CMD_INIT) | CMD_BIT(CMD_BACKUP) | CMD_BIT(CMD_ARCHIVE_PUSH) |
					  CMD_BIT(CMD_VERIFY) | CMD_BIT(CMD_CHECK) | CMD_BIT(CMD_EXPIRE) | CMD_BIT(CMD_WAL_INDEX));
	ck_assert_uint_eq(primary, CMD_BIT(CMD_BACKUP));
	ck_assert_uint_eq(per_segment, CMD_BIT(CMD_ARCHIVE_PUSH) | CMD_BIT(CMD_ARCHIVE_GET));
	ck_assert_int_eq(load("archive-get", "000000010000000000000001", "/tmp/x", NULL), 0);
	ck_assert_int_eq(cfg.command_id, CMD_ARCHIVE_GET);
}
END_TEST

/* A value the row takes, and one it refuses (NULL: it refuses none). */
static void
repo_key_values(const RepoDefKey *k, const char **good, const char **bad)
{
	static char min[16];

	*bad = "bogus";
	switch (k->type)
	{
		case RK_STRING:
		case RK_IGNORED:
			*good = "some text";
			*bad = NULL;
			break;
		case RK_INT:
			snprintf(min, sizeof(min), "%d", k->min);
			*good = min;
			break;
		case RK_BOOL:
			*good = "false";
			break;
		case RK_CHOICE:
			*good = k->values[0];
			break;
		case RK_SIZE_MIB:
			*good = "2MiB";
			break;
		case RK_SET:
			*good = strcmp(k->key, "type") == 0 ? "s3" : strcmp(k->key, "s3_uri_style") == 0 ? "host" :
				strcmp(k->key, "cipher_type") == 0 ? "aes-256-cbc" : "y";
			if (strcmp(k->key, "block") == 0 || strcmp(k->key, "bundle") == 0)
				*bad = NULL;	/* "n" is a warning, not an error */
			break;
	}
}

START_TEST(test_repodef_every_key)
{
	int			nsecret = 0;

	for (const RepoDefKey *k = repodef_keys; k->key; k++)
	{
		RepoDef		def;
		const char *good;
		const char *bad;
		const char *field;

		ck_assert_ptr_eq(repodef_key_find(k->key), k);
		ck_assert_msg(k->help || k > repodef_keys, "%s: the first row needs help", k->key);
		repo_key_values(k, &good, &bad);
		repodef_init(&def, "r", "here");
		pgb_error_clear(&err);
		ck_assert_msg(repodef_set(&def, k->key, good, "f.yml:3", &err) == 0, "%s: %s", k->key, err.msg);
		ck_assert_msg(def.nwarnings == 0, "%s: warned %s", k->key, def.nwarnings ? def.warnings[0] : "");
		field = (const char *) &def + k->offset;
		switch (k->type)
		{
			case RK_STRING:
			case RK_CHOICE:
				ck_assert_str_eq(*(char *const *) field, good);
				if (k->where_offset)
					ck_assert_str_eq(*(char *const *) ((const char *) &def + k->where_offset), "f.yml:3");
				break;
			case RK_INT:
				ck_assert_int_eq(*(const int *) field, k->min);
				break;
			case RK_BOOL:
				ck_assert(!*(const bool *) field);
				break;
			case RK_SIZE_MIB:
				ck_assert_int_eq(*(const int *) field, 2);
				break;
			case RK_SET:
			case RK_IGNORED:
				break;
		}
		if (strcmp(k->key, "type") == 0)
			ck_assert_int_eq(def.type, REPO_TYPE_S3);
		if (strcmp(k->key, "cipher_type") == 0)
			ck_assert(def.encrypted);
		if (bad)
		{
			pgb_error_clear(&err);
			ck_assert_msg(repodef_set(&def, k->key, bad, "f.yml:4", &err) == -1, "%s took %s", k->key, bad);
			ck_assert_int_eq(err.code, EXIT_CONFIG);
			ck_assert_msg(strstr(err.msg, "f.yml:4: invalid value \"bogus\" for pgbackrest_repo.r.") != NULL, "%s", err.msg);
		}
		if (k->flags & RKF_SECRET)
		{
			nsecret++;
			ck_assert(strcmp(k->key, "s3_key_secret") == 0 || strcmp(k->key, "cipher_pass") == 0);
			ck_assert_msg(k->where_offset != 0, "%s: where it was set is not kept", k->key);
		}
		repodef_free(&def);
	}
	ck_assert_int_eq(nsecret, 2);
}
END_TEST

START_TEST(test_repodef_unknown_keys)
{
	RepoDef		def;

	repodef_init(&def, "r", "here");
	/* a storage or cipher key pgbkp does not know is refused: a typo would fall back to a default */
	ck_assert_int_eq(repodef_set(&def, "s3_verify_ssl", "n", "f.yml:5", &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_str_eq(err.msg, "f.yml:5: pgbackrest_repo.r.s3_verify_ssl is not supported by pgbkp");
	pgb_error_clear(&err);
	ck_assert_int_eq(repodef_set(&def, "cipher_mode", "x", "f.yml:6", &err), -1);
	pgb_error_clear(&err);
	/* pgBackRest's other keys are kept as one warning each */
	ck_assert_int_eq(repodef_set(&def, "frobnicate", "1", "f.yml:7", &err), 0);
	ck_assert_int_eq(repodef_set(&def, "frobnicate", "1", "f.yml:7", &err), 0);
	ck_assert_int_eq(def.nwarnings, 1);
	ck_assert_str_eq(def.warnings[0], "f.yml:7: pgbackrest_repo.r.frobnicate: ignored: pgbkp has no such repository setting");
	ck_assert_int_eq(repodef_set(&def, "block", "n", "f.yml:8", &err), 0);
	ck_assert_int_eq(def.nwarnings, 2);
	ck_assert_ptr_null(repodef_key_find("frobnicate"));
	repodef_free(&def);
}
END_TEST

/* ---- the schedule entry's keys ---- */

START_TEST(test_schedjob_keys)
{
	ScheduleJob j;
	char		longname[100];

	ck_assert_int_eq(schedjob_init(&j, "f.yml:9", &err), 0);
	ck_assert_int_eq(j.jitter, -1);
	ck_assert_int_eq(schedjob_set(&j, "cron", "0 1 * * *", "f.yml:10", &err), 0);
	ck_assert_int_eq(schedjob_set(&j, "command", "backup", "f.yml:11", &err), 0);
	ck_assert_int_eq(schedjob_set(&j, "type", "full", "f.yml:12", &err), 0);
	ck_assert_int_eq(schedjob_set(&j, "name", "nightly", "f.yml:13", &err), 0);
	ck_assert_int_eq(schedjob_set(&j, "jitter", "86400", "f.yml:14", &err), 0);
	ck_assert_str_eq(j.cron, "0 1 * * *");
	ck_assert_str_eq(j.command, "backup");
	ck_assert_str_eq(j.type, "full");
	ck_assert_str_eq(j.name, "nightly");
	ck_assert_int_eq(j.jitter, 86400);
	ck_assert_str_eq(j.where, "f.yml:9");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(schedjob_set(&j, "name", longname, "f.yml:15", &err), -1);
	ck_assert_str_eq(err.msg, "f.yml:15: value of \"name\" is too long");
	ck_assert_str_eq(j.name, "nightly");
	pgb_error_clear(&err);
	ck_assert_int_eq(schedjob_set(&j, "jitter", "86401", "f.yml:16", &err), -1);
	ck_assert_str_eq(err.msg, "f.yml:16: invalid jitter \"86401\": expected seconds from 0 to 86400");
	pgb_error_clear(&err);
	ck_assert_int_eq(schedjob_set(&j, "when", "now", "f.yml:17", &err), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_str_eq(err.msg, "f.yml:17: unknown key \"when\" in a schedule entry (keys: cron, command, type, name, run_on, jitter)");
	pgb_error_clear(&err);
	ck_assert_int_eq(schedjob_check_key(NULL, "f.yml:18", &err), -1);
	ck_assert_str_eq(err.msg, "f.yml:18: unknown key \"(not a scalar)\" in a schedule entry (keys: cron, command, type, name, run_on, jitter)");
	free(j.where);
}
END_TEST

START_TEST(test_defaults)
{
	ck_assert_int_eq(load("backup", NULL), 0);
	ck_assert_str_eq(cfg.command, "backup");
	ck_assert_int_eq(cfg.nargs, 0);
	ck_assert_ptr_null(cfg.config_file);
	ck_assert_ptr_null(cfg.cluster);
	ck_assert_ptr_null(cfg.repo_path);
	ck_assert_ptr_null(cfg.pg_host);
	ck_assert_int_eq(cfg.pg_port, 5432);
	ck_assert_str_eq(cfg.pg_user, "postgres");
	ck_assert_str_eq(cfg.pg_database, "postgres");
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.compress_level, 3);
	ck_assert_int_eq(cfg.archive_timeout, 60);
	ck_assert_int_eq(cfg.bundle_size, 64);
	ck_assert(cfg.start_fast);
	ck_assert(cfg.progress);
	ck_assert_str_eq(cfg.type, "full");
	ck_assert_str_eq(cfg.target_action, "pause");
	ck_assert_ptr_null(cfg.archive_mode);
	ck_assert_str_eq(cfg.output, "text");
	ck_assert(!cfg.delta && !cfg.force && !cfg.target_immediate);
	config_free(&cfg);
	config_free(&cfg);			/* idempotent */
	ck_assert_ptr_null(cfg.pg_user);
}
END_TEST

/* ---- precedence ---- */

START_TEST(test_precedence)
{
	const char *path = yaml_file("pgbkp:\n"
								 "  pg_port: 1111\n"
								 "  repo_path: /file\n"
								 "  pg_user: fileuser\n");

	setenv("PGBKP_CONFIG", path, 1);
	setenv("PGBKP_PG_PORT", "2222", 1);
	setenv("PGBKP_REPO_PATH", "/env", 1);
	ck_assert_int_eq(load("check", "--pg-port", "3333", NULL), 0);
	ck_assert_str_eq(cfg.config_file, path);
	ck_assert_int_eq(cfg.pg_port, 3333);
	ck_assert_str_eq(cfg.repo_path, "/env");
	ck_assert_str_eq(cfg.pg_user, "fileuser");
	ck_assert_str_eq(cfg.pg_database, "postgres");
}
END_TEST

START_TEST(test_config_file_choice)
{
	const char *a = yaml_file("pgbkp: {cluster: from-a}\n");
	const char *b = yaml_file("pgbkp: {cluster: from-b}\n");

	setenv("PGBKP_CONFIG", a, 1);
	ck_assert_int_eq(load("info", NULL), 0);
	ck_assert_str_eq(cfg.cluster, "from-a");
	config_free(&cfg);
	ck_assert_int_eq(load("info", "-c", b, NULL), 0);
	ck_assert_str_eq(cfg.cluster, "from-b");
	ck_assert_str_eq(cfg.config_file, b);
	config_free(&cfg);
	ck_assert_int_eq(load("--config=/nonexistent/pgbkp.yml", "info", NULL), -1);
	assert_error(EXIT_CONFIG, "could not open configuration file "
				 "\"/nonexistent/pgbkp.yml\": No such file or directory");
	setenv("PGBKP_CONFIG", "/nonexistent/env.yml", 1);
	ck_assert_int_eq(load("info", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert(strstr(err.msg, "\"/nonexistent/env.yml\"") != NULL);
}
END_TEST

/* ---- booleans ---- */

START_TEST(test_bool_forms)
{
	const char *path = yaml_file("pgbkp:\n  start_fast: no\n  progress: On\n");

	ck_assert_int_eq(load("backup", "--no-start-fast", "--no-progress", NULL), 0);
	ck_assert(!cfg.start_fast && !cfg.progress);
	config_free(&cfg);
	ck_assert_int_eq(load("--no-start-fast", "backup", "--start-fast", NULL), 0);
	ck_assert(cfg.start_fast);
	config_free(&cfg);

	setenv("PGBKP_PROGRESS", "off", 1);
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert(!cfg.start_fast);	/* file */
	ck_assert(!cfg.progress);	/* environment beats file */
	config_free(&cfg);

	setenv("PGBKP_PROGRESS", "YES", 1);
	ck_assert_int_eq(load("backup", NULL), 0);
	ck_assert(cfg.progress);
	config_free(&cfg);

	setenv("PGBKP_PROGRESS", "maybe", 1);
	ck_assert_int_eq(load("backup", NULL), -1);
	assert_error(EXIT_CONFIG, "invalid value for PGBKP_PROGRESS: \"maybe\" "
				 "(expected true, false, yes, no, on or off)");
	unsetenv("PGBKP_PROGRESS");

	ck_assert_int_eq(load("backup", "--progress=yes", NULL), -1);
	assert_error(EXIT_USAGE, "option --progress does not take a value");
}
END_TEST

/* ---- integer ranges, each source named ---- */

START_TEST(test_int_errors)
{
	const char *path;
	char		expected[256];

	ck_assert_int_eq(load("backup", "--pg-port", "abc", NULL), -1);
	assert_error(EXIT_USAGE, "invalid value for --pg-port: \"abc\" "
				 "(expected an integer from 1 to 65535)");
	ck_assert_int_eq(load("backup", "--pg-port=65536", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(load("backup", "--pg-port=99999999999999999999", NULL), -1);
	ck_assert_int_eq(load("backup", "--pg-port= 5", NULL), -1);
	ck_assert_int_eq(load("backup", "--pg-port=5x", NULL), -1);
	ck_assert_int_eq(load("backup", "--pg-port=", NULL), -1);
	ck_assert_int_eq(load("backup", "--compress-level=20", NULL), -1);
	assert_error(EXIT_USAGE, "invalid value for --compress-level: \"20\" "
				 "(expected an integer from 1 to 19)");
	ck_assert_int_eq(load("backup", "--compress-level=19", "--bundle-size=1024",
						  "--archive-timeout=86400", NULL), 0);
	ck_assert_int_eq(cfg.compress_level, 19);
	ck_assert_int_eq(cfg.bundle_size, 1024);
	ck_assert_int_eq(cfg.archive_timeout, 86400);
	config_free(&cfg);

	setenv("PGBKP_PG_PORT", "0", 1);
	ck_assert_int_eq(load("backup", NULL), -1);
	assert_error(EXIT_CONFIG, "invalid value for PGBKP_PG_PORT: \"0\" "
				 "(expected an integer from 1 to 65535)");
	/* the command line wins, so the bad variable is never parsed */
	ck_assert_int_eq(load("backup", "--pg-port=7", NULL), 0);
	ck_assert_int_eq(cfg.pg_port, 7);
	config_free(&cfg);
	unsetenv("PGBKP_PG_PORT");

	path = yaml_file("# comment\npgbkp:\n  cluster: x\n  pg_port: '70000'\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:4: invalid value for \"pg_port\": "
			 "\"70000\" (expected an integer from 1 to 65535)", path);
	assert_error(EXIT_CONFIG, expected);
}
END_TEST

START_TEST(test_enums)
{
	ck_assert_int_eq(load("backup", "--type=weekly", NULL), -1);
	assert_error(EXIT_USAGE, "invalid value for --type: \"weekly\" (expected one of: full, diff, incr, auto)");
	ck_assert_int_eq(load("backup", "--type=diff", NULL), 0);
	ck_assert_str_eq(cfg.type, "diff");
	config_free(&cfg);
	ck_assert_int_eq(load("info", "--output", "json", "--log-level=debug", NULL), 0);
	ck_assert_str_eq(cfg.output, "json");
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	config_free(&cfg);
	ck_assert_int_eq(load("info", "--log-level=loud", NULL), -1);
	assert_error(EXIT_USAGE, "invalid value for --log-level: \"loud\" "
				 "(expected one of: error, warn, info, debug)");
	ck_assert_int_eq(load("restore", "--archive-mode=off", NULL), 0);
	ck_assert_str_eq(cfg.archive_mode, "off");
}
END_TEST

/* ---- the command line ---- */

START_TEST(test_unknown_option)
{
	ck_assert_int_eq(load("backup", "--frobnicate", NULL), -1);
	assert_error(EXIT_USAGE, "unrecognized option \"--frobnicate\"");
	ck_assert_str_eq(err.hint, "see pgbkp --help");
	ck_assert_int_eq(load("-x", "backup", NULL), -1);
	assert_error(EXIT_USAGE, "unrecognized option \"-x\"");
	ck_assert_int_eq(load("backup", "--pg", NULL), -1);
	assert_error(EXIT_USAGE, "option \"--pg\" is ambiguous");
	ck_assert_int_eq(load("backup", "--repo-path", NULL), -1);
	assert_error(EXIT_USAGE, "option --repo-path requires a value");
	ck_assert_int_eq(load("frob", NULL), -1);
	assert_error(EXIT_USAGE, "unknown command \"frob\"");
	ck_assert_int_eq(load("--pg-port=1", NULL), -1);
	assert_error(EXIT_USAGE, "no command given");
}
END_TEST

START_TEST(test_wrong_command)
{
	ck_assert_int_eq(load("backup", "--time", "2024-01-01 00:00:00", NULL), -1);
	assert_error(EXIT_USAGE, "option --time is not valid for command \"backup\"");
	ck_assert_str_eq(err.hint, "--time applies to: restore, clone, drill, pitr, pitr-member");
	ck_assert_int_eq(load("--output=json", "backup", NULL), -1);
	assert_error(EXIT_USAGE, "option --output is not valid for command \"backup\"");
	ck_assert_int_eq(load("info", "--type=full", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
}
END_TEST

START_TEST(test_scoped_settings_elsewhere_ignored)
{
	const char *path = yaml_file("pgbkp:\n  type: full\n  archive_mode: off\n");

	setenv("PGBKP_TYPE", "bogus", 1);	/* not parsed for info */
	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_ptr_null(cfg.archive_mode);
	config_free(&cfg);
	ck_assert_int_eq(load("restore", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.archive_mode, "off");
	config_free(&cfg);
	ck_assert_int_eq(load("backup", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
}
END_TEST

START_TEST(test_positional_counts)
{
	ck_assert_int_eq(load("archive-push", NULL), -1);
	assert_error(EXIT_USAGE, "command \"archive-push\" takes 1 argument, got 0 "
				 "(usage: pgbkp archive-push WAL_PATH)");
	ck_assert_int_eq(load("archive-push", "a", "b", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(load("archive-get", "000000010000000000000001", NULL), -1);
	assert_error(EXIT_USAGE, "command \"archive-get\" takes 2 arguments, got 1 "
				 "(usage: pgbkp archive-get WAL_NAME DEST_PATH)");
	ck_assert_int_eq(load("backup", "extra", NULL), -1);
	assert_error(EXIT_USAGE, "command \"backup\" takes 0 arguments, got 1 "
				 "(usage: pgbkp backup)");

	ck_assert_int_eq(load("archive-push", "pg_wal/000000010000000000000001", NULL), 0);
	ck_assert_int_eq(cfg.nargs, 1);
	ck_assert_str_eq(cfg.args[0], "pg_wal/000000010000000000000001");
	config_free(&cfg);
	ck_assert_int_eq(load("archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY", NULL), 0);
	ck_assert_int_eq(cfg.nargs, 2);
	ck_assert_str_eq(cfg.args[0], "00000002.history");
	ck_assert_str_eq(cfg.args[1], "pg_wal/RECOVERYHISTORY");
	config_free(&cfg);
	/* after "--" an argument may begin with '-' */
	ck_assert_int_eq(load("archive-push", "--", "-odd", NULL), 0);
	ck_assert_str_eq(cfg.args[0], "-odd");
}
END_TEST

START_TEST(test_options_around_command)
{
	ck_assert_int_eq(load("--pg-port", "6000", "--lsn=0/3000000", "restore",
						  "--cluster", "pg-test", "--delta", "--target-dir", "/new",
						  "--repo-path=/r", NULL), 0);
	ck_assert_str_eq(cfg.command, "restore");
	ck_assert_int_eq(cfg.pg_port, 6000);
	ck_assert_str_eq(cfg.cluster, "pg-test");
	ck_assert_str_eq(cfg.target_lsn, "0/3000000");
	ck_assert_str_eq(cfg.target_dir, "/new");
	ck_assert_str_eq(cfg.repo_path, "/r");
	ck_assert(cfg.delta);
	config_free(&cfg);
	ck_assert_int_eq(load("archive-get", "--pg-port=5", "A", "--cluster=c", "B", NULL), 0);
	ck_assert_int_eq(cfg.nargs, 2);
	ck_assert_str_eq(cfg.args[1], "B");
	ck_assert_str_eq(cfg.cluster, "c");
}
END_TEST

START_TEST(test_help_version)
{
	const char *bad = yaml_file("pgbkp: [\n");

	ck_assert_int_eq(load("--help", NULL), 0);
	ck_assert(cfg.help);
	ck_assert_ptr_null(cfg.command);
	config_free(&cfg);
	/* help needs no valid file or settings, and names the command */
	ck_assert_int_eq(load("-c", bad, "restore", "-h", NULL), 0);
	ck_assert(cfg.help);
	ck_assert_str_eq(cfg.command, "restore");
	config_free(&cfg);
	ck_assert_int_eq(load("--version", NULL), 0);
	ck_assert(cfg.version);
	config_free(&cfg);
	ck_assert_int_eq(load("--help-troff", NULL), 0);
	ck_assert(cfg.help_troff);
}
END_TEST

/* ---- recovery targets and the tablespace map ---- */

START_TEST(test_targets)
{
	ck_assert_int_eq(load("restore", "--time", "2024-05-01 10:00:00", "--lsn", "0/1", NULL), -1);
	assert_error(EXIT_USAGE, "only one recovery target may be given, got --time and --lsn");
	ck_assert_int_eq(load("restore", "--immediate", "--name=rp1", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(load("restore", "--target-action=promote", NULL), -1);
	assert_error(EXIT_USAGE, "--target-action requires a recovery target "
				 "(--time, --lsn, --xid, --name or --immediate)");
	ck_assert_int_eq(load("restore", "--immediate", "--target-action=shutdown", NULL), 0);
	ck_assert(cfg.target_immediate);
	ck_assert_str_eq(cfg.target_action, "shutdown");
	config_free(&cfg);
	ck_assert_int_eq(load("restore", "--xid=1234", NULL), 0);
	ck_assert_str_eq(cfg.target_xid, "1234");
	ck_assert_str_eq(cfg.target_action, "pause");
}
END_TEST

START_TEST(test_tablespace_map)
{
	char		args[CONFIG_MAX_TABLESPACE_MAP + 1][32];
	char	   *argv[2 * (CONFIG_MAX_TABLESPACE_MAP + 1) + 3];
	int			argc = 0;

	ck_assert_int_eq(load("restore", "--tablespace-map", "16385=/ts/a",
						  "--tablespace-map=ts_b=/ts/b=x", NULL), 0);
	ck_assert_int_eq(cfg.ntablespace_map, 2);
	ck_assert_str_eq(cfg.tablespace_map[0].key, "16385");
	ck_assert_str_eq(cfg.tablespace_map[0].path, "/ts/a");
	ck_assert_str_eq(cfg.tablespace_map[1].key, "ts_b");
	ck_assert_str_eq(cfg.tablespace_map[1].path, "/ts/b=x");
	config_free(&cfg);
	ck_assert_int_eq(cfg.ntablespace_map, 0);

	ck_assert_int_eq(load("restore", "--tablespace-map=16385", NULL), -1);
	assert_error(EXIT_USAGE, "invalid value for --tablespace-map: \"16385\" "
				 "(expected OID=DIR with both sides non-empty)");
	ck_assert_int_eq(load("restore", "--tablespace-map==/x", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(load("restore", "--tablespace-map=1=", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);
	ck_assert_int_eq(load("restore", "--tablespace-map=1=/a", "--tablespace-map=1=/b", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_USAGE);

	argv[argc++] = "pgbkp";
	argv[argc++] = "restore";
	for (int i = 0; i <= CONFIG_MAX_TABLESPACE_MAP; i++)
	{
		snprintf(args[i], sizeof(args[i]), "%d=/ts/%d", 16384 + i, i);
		argv[argc++] = "--tablespace-map";
		argv[argc++] = args[i];
	}
	argv[argc] = NULL;
	ck_assert_int_eq(config_load(&cfg, argc, argv, &err), -1);
	assert_error(EXIT_USAGE, "too many --tablespace-map options (at most 64)");
	ck_assert_int_eq(config_load(&cfg, argc - 2, argv, &err), 0);
	ck_assert_int_eq(cfg.ntablespace_map, CONFIG_MAX_TABLESPACE_MAP);
}
END_TEST

/* ---- YAML files ---- */

START_TEST(test_yaml_errors)
{
	const char *path;
	char		expected[512];

	path = yaml_file("# pgbkp settings\n"
					 "pgbkp:\n"
					 "  repo_path: /r\n"
					 "  compress_levle: 5\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected),
			 "%s:4: unknown key \"compress_levle\" in section \"pgbkp\"", path);
	assert_error(EXIT_CONFIG, expected);

	path = yaml_file("pgbkp:\n  time: '2024-01-01'\n");
	ck_assert_int_eq(load("restore", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:2: unknown key \"time\" in section \"pgbkp\"", path);
	assert_error(EXIT_CONFIG, expected);
	ck_assert_str_eq(err.hint, "--time can only be given on the command line");

	path = yaml_file("pgbkp:\n  repo_path: /r\n  pg_data:\n    nested: 1\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:4: \"pg_data\" must be a single value", path);
	assert_error(EXIT_CONFIG, expected);

	path = yaml_file("pgbkp:\n  repo_path: /r\n pg_port: 1\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:3:2: did not find expected key", path);
	assert_error(EXIT_CONFIG, expected);

	path = yaml_file("pgbkp: {repo_path: [/r}\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	snprintf(expected, sizeof(expected), "%s:1:", path);
	ck_assert_msg(strncmp(err.msg, expected, strlen(expected)) == 0, "got: %s", err.msg);

	path = yaml_file("- just\n- a list\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:1: expected a mapping at the top level", path);
	assert_error(EXIT_CONFIG, expected);

	path = yaml_file("pgbkp: 5\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:1: section \"pgbkp\" must be a mapping", path);
	assert_error(EXIT_CONFIG, expected);
}
END_TEST

/* "info -c path [--cluster cluster]" fails: key repeated at line, first at line first. */
static void
assert_duplicate(const char *path, const char *key, int line, int first, const char *cluster)
{
	char		expected[512];

	if (cluster)
		ck_assert_int_eq(load("info", "-c", path, "--cluster", cluster, NULL), -1);
	else
		ck_assert_int_eq(load("info", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected), "%s:%d: duplicate key \"%s\" (first on line %d)",
			 path, line, key, first);
	assert_error(EXIT_CONFIG, expected);
	ck_assert_str_eq(err.hint, "remove one of them: a key may appear only once in a mapping");
}

START_TEST(test_yaml_duplicate_keys)
{
	const char *path;

	/* in a pgbkp: section: the last value used to win silently */
	path = yaml_file("pgbkp:\n  cluster: a\n  repo_path: /r\n  cluster: b\n");
	assert_duplicate(path, "cluster", 4, 2, NULL);
	assert_duplicate(path, "cluster", 4, 2, "c");	/* not looked up: the section is read whole */
	path = yaml_file("pgbkp: {repo_path: /r, compress_level: 3, compress_level: 9}\n");
	assert_duplicate(path, "compress_level", 1, 1, NULL);
	path = yaml_file("all:\n  vars:\n    pgbkp:\n      repo_path: /r\n      repo_path: /s\n");
	assert_duplicate(path, "repo_path", 5, 4, NULL);
	path = yaml_file("pgbkp:\n  repo_path: /r\npgbkp:\n  repo_path: /s\n");
	assert_duplicate(path, "pgbkp", 3, 1, NULL);

	/* inventory variables pgbkp reads, at every level */
	path = yaml_file("all:\n  vars:\n    pg_port: 5432\n    pg_fs_backup: /b\n    pg_port: 5433\n");
	assert_duplicate(path, "pg_port", 5, 3, NULL);
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-one:\n"
					 "      hosts: {10.0.0.1: {pg_seq: 1}}\n"
					 "      vars: {pg_cluster: pg-one, pg_data: /a, pg_data: /b}\n"
					 "  vars: {pg_fs_backup: /b}\n");
	assert_duplicate(path, "pg_data", 5, 5, NULL);
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-one:\n"
					 "      hosts:\n"
					 "        10.0.0.1: {pg_seq: 1}\n"
					 "        10.0.0.1: {pg_seq: 2}\n"
					 "      vars: {pg_cluster: pg-one}\n"
					 "  vars: {pg_fs_backup: /b}\n");
	assert_duplicate(path, "10.0.0.1", 6, 5, NULL);
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-one:\n"
					 "      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary, pg_seq: 2}}\n"
					 "      vars: {pg_cluster: pg-one}\n"
					 "  vars: {pg_fs_backup: /b}\n");
	assert_duplicate(path, "pg_seq", 4, 4, NULL);
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-one: {vars: {pg_cluster: pg-one}}\n"
					 "    pg-one: {vars: {pg_cluster: pg-two}}\n");
	assert_duplicate(path, "pg-one", 4, 3, NULL);
	path = yaml_file("pgbackrest_method: local\n"
					 "pgbackrest_repo:\n"
					 "  local:\n"
					 "    path: /a\n"
					 "    retention_full: 2\n"
					 "    path: /b\n");
	assert_duplicate(path, "path", 6, 4, NULL);
	path = yaml_file("pgbackrest_method: local\n"
					 "pgbackrest_repo:\n"
					 "  local: {path: /a}\n"
					 "  local: {path: /b}\n");
	assert_duplicate(path, "local", 4, 3, NULL);
	path = yaml_file("pgbkp:\n"
					 "  repo_path: /r\n"
					 "  schedule:\n"
					 "    - {cron: '0 1 * * *', command: backup, cron: '0 2 * * *'}\n");
	assert_duplicate(path, "cron", 4, 4, NULL);

	/* a key pgbkp does not read is another tool's business */
	path = yaml_file("all:\n  vars:\n    node_tune: oltp\n    pg_fs_backup: /b\n    node_tune: olap\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].path, "/b");
}
END_TEST

START_TEST(test_yaml_empty_and_null)
{
	const char *path = yaml_file("# nothing here\n");

	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.config_file, path);
	config_free(&cfg);
	path = yaml_file("pgbkp:\n  pg_host: ~\n  pg_user:\n  cluster: c1\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_ptr_null(cfg.pg_host);
	ck_assert_str_eq(cfg.pg_user, "postgres");
	ck_assert_str_eq(cfg.cluster, "c1");
}
END_TEST

/* ---- Pigsty inventories ---- */

static const char *const inventory =
"all:\n"
"  children:\n"
"    infra:\n"
"      hosts: {10.10.10.10: {infra_seq: 1}}\n"
"    pg-meta:\n"
"      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}\n"
"      vars:\n"
"        pg_cluster: pg-meta\n"
"        pg_port: 5433\n"
"        pg_data: /data/meta\n"
"    grp-test:\n"
"      hosts:\n"
"        10.10.10.11: {pg_seq: 1, pg_role: primary}\n"
"        10.10.10.12: {pg_seq: 2, pg_role: replica}\n"
"      vars:\n"
"        pg_cluster: pg-test\n"
"        pg_dbsu: testsu\n"
"        pg_fs_bkup: /data/test-backups\n"
"        pgbackrest_method: minio\n"
"        pgbkp:\n"
"          compress_level: 9\n"
"          pg_port: 6543\n"
"  vars:\n"
"    version: v2.5.0\n"
"    pg_port: 5432\n"
"    pg_data: /pg/data\n"
"    pg_dbsu: postgres\n"
"    pg_fs_backup: /data/backups\n"
"    pgbackrest_method: local\n"
"    pgbackrest_repo:\n"
"      local: {path: /pg/backup, retention_full: 2}\n"
"      minio: {type: s3, s3_endpoint: sss.pigsty, path: /pgbackrest, s3_bucket: pgsql,\n"
"              s3_key: pgbackrest, s3_key_secret: S3User.Backup, bundle: y}\n"
"    pgbkp:\n"
"      bundle_size: 32\n";

START_TEST(test_inventory_clusters)
{
	const char *path = yaml_file(inventory);
	char		expected[512];

	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	snprintf(expected, sizeof(expected),
			 "%s: the inventory has several clusters: \"pg-meta\", \"pg-test\"", path);
	assert_error(EXIT_CONFIG, expected);
	ck_assert_str_eq(err.hint, "use --cluster to choose one");

	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "pg-nope", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);

	/* pg-meta: cluster vars over all.vars; repo from pgbackrest_repo.local */
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "pg-meta", NULL), 0);
	ck_assert_str_eq(cfg.cluster, "pg-meta");
	ck_assert_int_eq(cfg.pg_port, 5433);
	ck_assert_str_eq(cfg.pg_data, "/data/meta");
	ck_assert_str_eq(cfg.pg_user, "postgres");
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "local");
	ck_assert_int_eq(cfg.repos[0].type, REPO_TYPE_POSIX);
	ck_assert_str_eq(cfg.repos[0].path, "/pg/backup");
	ck_assert_int_eq(cfg.repos[0].retention_full, 2);
	ck_assert_int_eq(cfg.bundle_size, 32);
	ck_assert_int_eq(cfg.compress_level, 3);
	config_free(&cfg);

	/*
	 * pg-test chosen by pg_cluster (its group is grp-test) from the
	 * environment: its repository is minio, an S3 bucket (pg_fs_bkup is
	 * not used); its pgbkp: section beats its vars
	 */
	setenv("PGBKP_CLUSTER", "pg-test", 1);
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.cluster, "pg-test");
	ck_assert_int_eq(cfg.pg_port, 6543);
	ck_assert_str_eq(cfg.pg_data, "/pg/data");
	ck_assert_str_eq(cfg.pg_user, "testsu");
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "minio");
	ck_assert_int_eq(cfg.repos[0].type, REPO_TYPE_S3);
	ck_assert_str_eq(cfg.repos[0].path, "/pgbackrest");
	ck_assert_str_eq(cfg.repos[0].s3_region, "us-east-1");
	ck_assert(cfg.repos[0].storage_verify_tls);
	ck_assert_int_eq(cfg.compress_level, 9);
	ck_assert_int_eq(cfg.bundle_size, 32);
	config_free(&cfg);

	/* by group name; the command line still wins */
	ck_assert_int_eq(load("backup", "-c", path, "--cluster=grp-test", "--pg-port=7000", NULL), 0);
	ck_assert_str_eq(cfg.cluster, "grp-test");
	ck_assert_int_eq(cfg.pg_port, 7000);
	ck_assert_str_eq(cfg.pg_user, "testsu");
}
END_TEST

START_TEST(test_inventory_single_cluster)
{
	const char *path = yaml_file("all:\n"
								 "  children:\n"
								 "    pg-one:\n"
								 "      hosts: {10.0.0.1: {pg_seq: 1}}\n"
								 "      vars: {pg_cluster: pg-one}\n"
								 "  vars:\n"
								 "    pg_fs_bkup: /old/name\n"
								 "    pg_port: 5440\n"
								 "pgbkp:\n"
								 "  pg_port: 5441\n");

	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.cluster, "pg-one");
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "local");
	/* Pigsty's role default: /pg/backup, which Pigsty links into pg_fs_backup */
	ck_assert_str_eq(cfg.repos[0].path, "/pg/backup");
	ck_assert_int_eq(cfg.pg_port, 5441);	/* top-level pgbkp: beats all.vars */
}
END_TEST

/* Pigsty's pg_crontab lines that run pg-backup become the schedule; the zone is the node's. */
START_TEST(test_inventory_pg_crontab)
{
	const char *path = yaml_file("all:\n"
								 "  children:\n"
								 "    pg-test:\n"
								 "      hosts: {10.10.10.11: {pg_seq: 1}}\n"
								 "      vars:\n"
								 "        pg_cluster: pg-test\n"
								 "        pg_crontab:\n"
								 "          - '00 01 * * 1 /pg/bin/pg-backup full'\n"
								 "          - '00 01 * * 2,3,4,5,6,7 /pg/bin/pg-backup'\n"
								 "          - '@weekly /pg/bin/pg-backup full'\n"
								 "          - '30 2 * * * /pg/bin/pg-vacuum'\n");

	setenv("TZ", "Europe/Berlin", 1);
	ck_assert_int_eq(load("cron", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nsched, 3);
	ck_assert_str_eq(cfg.sched[0].cron, "00 01 * * 1");
	ck_assert_str_eq(cfg.sched[0].command, "backup");
	ck_assert_str_eq(cfg.sched[0].type, "full");
	ck_assert_str_eq(cfg.sched[0].name, "backup-full");
	ck_assert_str_eq(cfg.sched[1].type, "incr");
	ck_assert_str_eq(cfg.sched[1].name, "backup-incr");
	ck_assert_str_eq(cfg.sched[2].cron, "@weekly");
	ck_assert_str_eq(cfg.sched[2].name, "backup-full-2");
	ck_assert_str_eq(cfg.schedule_timezone, "Europe/Berlin");
	config_free(&cfg);
	unsetenv("TZ");

	/* a pgbkp: schedule wins over pg_crontab */
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-test:\n"
					 "      hosts: {10.10.10.11: {pg_seq: 1}}\n"
					 "      vars:\n"
					 "        pg_cluster: pg-test\n"
					 "        pg_crontab: ['00 01 * * * /pg/bin/pg-backup full']\n"
					 "        pgbkp: {schedule: [{cron: '0 3 * * *', command: check}]}\n");
	ck_assert_int_eq(load("cron", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nsched, 1);
	ck_assert_str_eq(cfg.sched[0].command, "check");
	config_free(&cfg);

	/* an argument pg-backup does not take */
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-test:\n"
					 "      hosts: {10.10.10.11: {pg_seq: 1}}\n"
					 "      vars:\n"
					 "        pg_cluster: pg-test\n"
					 "        pg_crontab: ['00 01 * * * /pg/bin/pg-backup weekly']\n");
	ck_assert_int_eq(load("cron", "-c", path, NULL), -1);
	ck_assert_msg(strstr(err.msg, ":7: pg_crontab runs pg-backup with \"weekly\"") != NULL, "%s", err.msg);
}
END_TEST

/* A Pigsty inventory with no pgbackrest_* keys gets the repositories Pigsty's roles would give it. */
START_TEST(test_inventory_role_defaults)
{
	const char *path = yaml_file("all:\n"
								 "  children:\n"
								 "    pg-meta:\n"
								 "      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}\n"
								 "      vars: {pg_cluster: pg-meta}\n");

	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "local");
	ck_assert_int_eq(cfg.repos[0].type, REPO_TYPE_POSIX);
	ck_assert_str_eq(cfg.repos[0].path, "/pg/backup");
	ck_assert_int_eq(cfg.repos[0].retention_full, 2);
	ck_assert_str_eq(cfg.repos[0].retention_full_type, "count");
	ck_assert(strstr(cfg.repos[0].where, "Pigsty v4.5.0 role default") != NULL);
	ck_assert_int_eq(cfg.repos[0].nwarnings, 0);
	config_free(&cfg);

	/* pgbackrest_method: minio, still no pgbackrest_repo: the role's minio entry */
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-meta:\n"
					 "      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}\n"
					 "      vars: {pg_cluster: pg-meta}\n"
					 "  vars: {pgbackrest_method: minio}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "minio");
	ck_assert_int_eq(cfg.repos[0].type, REPO_TYPE_S3);
	ck_assert_str_eq(cfg.repos[0].s3_endpoint, "sss.pigsty");
	ck_assert_str_eq(cfg.repos[0].s3_bucket, "pgsql");
	ck_assert_str_eq(cfg.repos[0].s3_key, "pgbackrest");
	ck_assert_str_eq(cfg.repos[0].s3_key_secret, "S3User.Backup");
	ck_assert_str_eq(cfg.repos[0].path, "/pgbackrest");
	ck_assert_int_eq(cfg.repos[0].storage_port, 9000);
	ck_assert_str_eq(cfg.repos[0].storage_ca_file, "/etc/pki/ca.crt");
	ck_assert(cfg.repos[0].encrypted);
	ck_assert_str_eq(cfg.repos[0].cipher_pass, "pgBackRest");
	ck_assert_int_eq(cfg.repos[0].retention_full, 14);
	ck_assert_str_eq(cfg.repos[0].retention_full_type, "time");
	ck_assert_int_eq(cfg.repos[0].bundle_size, 128);
	ck_assert_int_eq(cfg.repos[0].nwarnings, 0);
	config_free(&cfg);

	/* an inventory's pgbackrest_repo replaces the role's whole map, as Ansible does */
	path = yaml_file("all:\n"
					 "  children:\n"
					 "    pg-meta:\n"
					 "      hosts: {10.10.10.10: {pg_seq: 1}}\n"
					 "      vars: {pg_cluster: pg-meta, pgbackrest_method: minio}\n"
					 "  vars:\n"
					 "    pgbackrest_repo:\n"
					 "      local: {path: /pg/backup}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, "repository \"minio\" is not defined") != NULL, "%s", err.msg);
}
END_TEST

/* ${pg_cluster} in any repository value; every key mapped, accepted or warned about. */
START_TEST(test_inventory_repo_keys)
{
	const char *path = yaml_file("all:\n"
								 "  children:\n"
								 "    pg-test:\n"
								 "      hosts: {10.10.10.11: {pg_seq: 1}}\n"
								 "      vars: {pg_cluster: pg-test}\n"
								 "  vars:\n"
								 "    pgbackrest_method: minio\n"
								 "    pgbackrest_repo:\n"
								 "      minio:\n"
								 "        type: s3\n"
								 "        s3_endpoint: sss.pigsty\n"
								 "        s3_bucket: pgsql\n"
								 "        s3_key: pgbackrest\n"
								 "        s3_key_secret: Min10.bAckup\n"
								 "        path: /pgbackrest/${pg_cluster}\n"
								 "        cipher_type: aes-256-cbc\n"
								 "        cipher_pass: 'pgBR.${pg_cluster}'\n"
								 "        block: y\n"
								 "        bundle: y\n"
								 "        bundle_limit: 20MiB\n"
								 "        bundle_size: 64MiB\n"
								 "        retention_diff: 3\n"
								 "        repo_frobnicate: on\n");
	bool		diff = false,
				frob = false;

	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].path, "/pgbackrest/pg-test");
	ck_assert_str_eq(cfg.repos[0].cipher_pass, "pgBR.pg-test");
	ck_assert_int_eq(cfg.repos[0].bundle_size, 64);
	ck_assert_int_eq(cfg.repos[0].retention_diff, 3);	/* mapped, as pgBackRest's */
	ck_assert_int_eq(cfg.repos[0].nwarnings, 1);
	for (int i = 0; i < cfg.repos[0].nwarnings; i++)
	{
		diff |= strstr(cfg.repos[0].warnings[i], "retention_diff") != NULL;
		frob |= strstr(cfg.repos[0].warnings[i], ":23: pgbackrest_repo.minio.repo_frobnicate: ignored") != NULL;
	}
	ck_assert_msg(!diff && frob, "%s", cfg.repos[0].warnings[0]);
	ck_assert_str_eq(cfg.repos[0].cipher_pass_where + strlen(path), ":17");
	config_free(&cfg);

	/* --bundle-size on the command line beats the repository's */
	ck_assert_int_eq(load("backup", "-c", path, "--bundle-size", "16", NULL), 0);
	ck_assert_int_eq(cfg.repos[0].bundle_size, 16);
	config_free(&cfg);

	/* sizes as pgBackRest writes them */
	path = yaml_file("pgbkp: {cluster: c, repositories: [r]}\n"
					 "pgbackrest_repo:\n"
					 "  r: {path: /r, bundle_size: 2GiB}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), -1);
	ck_assert_msg(strstr(err.msg, "expected a size from 1MiB to 1GiB") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_inventory_repo_path)
{
	const char *path;

	/* pgbackrest_repo.<method>.path over pg_fs_backup, method defaults to local */
	path = yaml_file("all:\n  vars:\n"
					 "    pg_fs_backup: /data/backups\n"
					 "    pgbackrest_repo:\n"
					 "      local: {type: posix, path: /pg/backup}\n");
	ck_assert_int_eq(load("init", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].path, "/pg/backup");
	config_free(&cfg);

	/* pg_fs_backup beats its old name pg_fs_bkup */
	path = yaml_file("all:\n  vars:\n"
					 "    pg_fs_bkup: /old\n"
					 "    pg_fs_backup: /new\n");
	ck_assert_int_eq(load("init", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].path, "/new");
	config_free(&cfg);

	/* an invalid pg_port names the inventory key and its line */
	path = yaml_file("all:\n  vars:\n    pg_port: five\n");
	ck_assert_int_eq(load("init", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert(strstr(err.msg, ":3: invalid value for \"pg_port\": \"five\"") != NULL);
}
END_TEST

START_TEST(test_inventory_retention)
{
	const char *path;

	/* from the pgbackrest_repo entry pgbackrest_method chooses */
	path = yaml_file("all:\n  vars:\n"
					 "    pgbackrest_method: local\n"
					 "    pgbackrest_repo:\n"
					 "      local: {path: /pg/backup, retention_full_type: time, retention_full: 14}\n"
					 "      minio: {type: s3, retention_full_type: count, retention_full: 5}\n");
	ck_assert_int_eq(load("expire", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].retention_full_type, "time");
	ck_assert_int_eq(cfg.repos[0].retention_full, 14);
	config_free(&cfg);
	/* backup takes them too; the command line wins */
	ck_assert_int_eq(load("backup", "-c", path, "--retention-full=3", NULL), 0);
	ck_assert_str_eq(cfg.repos[0].retention_full_type, "time");
	ck_assert_int_eq(cfg.repos[0].retention_full, 3);
	config_free(&cfg);
	/* commands without retention ignore them */
	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	config_free(&cfg);

	/* each repository of a list has its own; unset means the default */
	path = yaml_file("all:\n  vars:\n"
					 "    pg_fs_backup: /data/backups\n"
					 "    pgbackrest_method: [local, minio]\n"
					 "    pgbackrest_repo:\n"
					 "      minio: {type: s3, s3_endpoint: s3.example, s3_bucket: b, s3_key: k,\n"
					 "              s3_key_secret: sec, retention_full_type: time, retention_full: 14}\n");
	ck_assert_int_eq(load("expire", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 2);
	ck_assert_str_eq(cfg.repos[0].name, "local");
	ck_assert_str_eq(cfg.repos[0].path, "/data/backups");
	ck_assert_str_eq(cfg.repos[0].retention_full_type, "count");
	ck_assert_int_eq(cfg.repos[0].retention_full, 2);
	ck_assert_str_eq(cfg.repos[1].name, "minio");
	ck_assert_str_eq(cfg.repos[1].retention_full_type, "time");
	ck_assert_int_eq(cfg.repos[1].retention_full, 14);
	config_free(&cfg);

	/* a pgbkp: section beats the inventory variables */
	path = yaml_file("all:\n  vars:\n"
					 "    pg_fs_backup: /data/backups\n"
					 "    pgbackrest_repo:\n"
					 "      local: {retention_full: 7}\n"
					 "    pgbkp:\n"
					 "      retention_full: 4\n");
	ck_assert_int_eq(load("expire", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.repos[0].retention_full, 4);
	config_free(&cfg);

	/* an invalid value names the inventory key and its line */
	path = yaml_file("all:\n  vars:\n"
					 "    pgbackrest_repo:\n"
					 "      local:\n"
					 "        path: /pg/backup\n"
					 "        retention_full_type: diff\n");
	ck_assert_int_eq(load("expire", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, ":6: invalid value \"diff\" for pgbackrest_repo.local.retention_full_type") != NULL,
				  "%s", err.msg);
}
END_TEST

/* pgbkp.repositories entries that define a repository inline; type pgbackrest and its defaults */
START_TEST(test_inventory_inline_repositories)
{
	const char *path;

	path = yaml_file("pgbkp:\n"
					 "  cluster: pg-meta\n"
					 "  repositories:\n"
					 "    - {name: pgbr, type: pgbackrest, config: /etc/pb.conf, repo: 2}\n"
					 "    - disk\n"
					 "    - {name: local2, path: /backups2}\n"
					 "pgbackrest_repo:\n"
					 "  disk: {path: /backups}\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 3);
	ck_assert_str_eq(cfg.repos[0].name, "pgbr");
	ck_assert_int_eq(cfg.repos[0].type, REPO_TYPE_PGBACKREST);
	ck_assert_str_eq(cfg.repos[0].pgbr_config, "/etc/pb.conf");
	ck_assert_int_eq(cfg.repos[0].pgbr_repo, 2);
	ck_assert_str_eq(cfg.repos[0].pgbr_bin, "pgbackrest");
	ck_assert_ptr_null(cfg.repos[0].pgbr_stanza);	/* the cluster name */
	ck_assert_str_eq(cfg.repos[1].name, "disk");
	ck_assert_str_eq(cfg.repos[1].path, "/backups");
	ck_assert_str_eq(cfg.repos[2].name, "local2");
	ck_assert_int_eq(cfg.repos[2].type, REPO_TYPE_POSIX);
	ck_assert_str_eq(cfg.repos[2].path, "/backups2");
	config_free(&cfg);
	/* WAL commands leave pgBackRest's repository to pgBackRest */
	ck_assert_int_eq(load("archive-get", "-c", path, "000000010000000000000001", "/tmp/x", NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 2);
	ck_assert_str_eq(cfg.repos[0].name, "disk");
	ck_assert_str_eq(cfg.repos[1].name, "local2");
	config_free(&cfg);

	/* defaults */
	path = yaml_file("pgbkp: {cluster: c, repositories: [{name: p, type: pgbackrest}]}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].pgbr_config, "/etc/pgbackrest/pgbackrest.conf");
	ck_assert_int_eq(cfg.repos[0].pgbr_repo, 1);
	config_free(&cfg);
	ck_assert_int_eq(load("archive-push", "-c", path, "/tmp/000000010000000000000001", NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, "pgBackRest archives and fetches its WAL") != NULL, "%s", err.msg);

	/* a mapping needs a name; pgBackRest's secrets are not pgbkp's */
	path = yaml_file("pgbkp: {cluster: c, repositories: [{type: pgbackrest}]}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, "needs a name") != NULL, "%s", err.msg);
	path = yaml_file("pgbkp: {cluster: c, repositories: [{name: p, type: pgbackrest, cipher_pass: x}]}\n");
	ck_assert_int_eq(load("info", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, "its secrets are pgBackRest's") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_inventory_repositories)
{
	const char *path;
	char	   *secret_file = strdup(yaml_file("from-a-file\nsecond line ignored\n"));

	/* pgbkp.repositories over pgbackrest_method; a pgbkp file may define pgbackrest_repo at the top */
	path = yaml_file("pgbkp:\n"
					 "  cluster: c1\n"
					 "  repositories: [s3a, disk]\n"
					 "pgbackrest_method: disk\n"
					 "pgbackrest_repo:\n"
					 "  disk: {path: /backups}\n"
					 "  s3a:\n"
					 "    type: s3\n"
					 "    s3_endpoint: http://127.0.0.1\n"
					 "    storage_port: 9000\n"
					 "    s3_bucket: bkt\n"
					 "    s3_key: 'test:tester'\n"
					 "    s3_uri_style: host\n"
					 "    storage_verify_tls: n\n"
					 "    cipher_type: aes-256-cbc\n"
					 "    cipher_pass: a-long-passphrase-here\n");
	setenv("PGBKP_REPO_S3A_S3_KEY_SECRET", "from-env", 1);
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 2);
	ck_assert_str_eq(cfg.repos[0].name, "s3a");
	ck_assert_str_eq(cfg.repos[0].s3_key_secret, "from-env");
	ck_assert_int_eq(cfg.repos[0].storage_port, 9000);
	ck_assert(cfg.repos[0].s3_host_style);
	ck_assert(!cfg.repos[0].storage_verify_tls);
	ck_assert(cfg.repos[0].encrypted);
	ck_assert_str_eq(cfg.repos[1].name, "disk");
	ck_assert(!cfg.repos[1].encrypted);
	config_free(&cfg);

	/* --repo keeps one; an unknown name lists the configured ones */
	ck_assert_int_eq(load("backup", "-c", path, "--repo", "disk", NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "disk");
	config_free(&cfg);
	ck_assert_int_eq(load("backup", "-c", path, "--repo", "nope", NULL), -1);
	assert_error(EXIT_CONFIG, "no repository named \"nope\"");
	ck_assert_str_eq(err.hint, "the configured repositories are: s3a, disk");

	/* --repo-path replaces the list */
	ck_assert_int_eq(load("backup", "-c", path, "--repo-path", "/elsewhere", NULL), 0);
	ck_assert_int_eq(cfg.nrepos, 1);
	ck_assert_str_eq(cfg.repos[0].name, "default");
	ck_assert_str_eq(cfg.repos[0].path, "/elsewhere");
	config_free(&cfg);

	/* a missing secret, and the general variable */
	unsetenv("PGBKP_REPO_S3A_S3_KEY_SECRET");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	ck_assert_int_eq(err.code, EXIT_CONFIG);
	ck_assert_msg(strstr(err.msg, "repository \"s3a\"") && strstr(err.msg, "has no s3_key_secret"), "%s", err.msg);
	setenv("PGBKP_S3_KEY_SECRET", "general", 1);
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_str_eq(cfg.repos[0].s3_key_secret, "general");
	config_free(&cfg);
	unsetenv("PGBKP_S3_KEY_SECRET");

	/* secrets from files; the file's first line */
	{
		char		text[1024];

		snprintf(text, sizeof(text),
				 "pgbackrest_method: s\n"
				 "pgbackrest_repo:\n"
				 "  s: {type: s3, s3_endpoint: e, s3_bucket: b, s3_key: k, s3_key_secret_file: %s,\n"
				 "      cipher_type: aes-256-gcm, cipher_pass_file: %s}\n", secret_file, secret_file);
		path = yaml_file(text);
		ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), 0);
		ck_assert_str_eq(cfg.repos[0].s3_key_secret, "from-a-file");
		ck_assert_str_eq(cfg.repos[0].cipher_pass, "from-a-file");
		config_free(&cfg);
	}

	/* cipher_type without a passphrase; a bad cipher; a typo in an s3_ key; an undefined name */
	path = yaml_file("pgbackrest_method: d\npgbackrest_repo:\n  d: {path: /d, cipher_type: aes-256-cbc}\n");
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), -1);
	ck_assert_msg(strstr(err.msg, "has no cipher_pass") != NULL, "%s", err.msg);
	path = yaml_file("pgbackrest_method: d\npgbackrest_repo:\n  d: {path: /d, cipher_type: des}\n");
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), -1);
	ck_assert_msg(strstr(err.msg, ":3: invalid value \"des\" for pgbackrest_repo.d.cipher_type") != NULL, "%s", err.msg);
	path = yaml_file("pgbackrest_method: d\npgbackrest_repo:\n  d: {path: /d, s3_buckett: x}\n");
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), -1);
	ck_assert_msg(strstr(err.msg, "pgbackrest_repo.d.s3_buckett is not supported") != NULL, "%s", err.msg);
	path = yaml_file("pgbackrest_method: [d, e]\npgbackrest_repo:\n  d: {path: /d}\n");
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), -1);
	ck_assert_msg(strstr(err.msg, ":1: repository \"e\" is not defined") != NULL, "%s", err.msg);
	path = yaml_file("pgbackrest_method: [d, d]\npgbackrest_repo:\n  d: {path: /d}\n");
	ck_assert_int_eq(load("backup", "-c", path, "--cluster", "c", NULL), -1);
	ck_assert_msg(strstr(err.msg, "repository \"d\" is listed twice") != NULL, "%s", err.msg);
	free(secret_file);
}
END_TEST


START_TEST(test_inventory_members)
{
	const char *path = yaml_file("all:\n"
								 "  children:\n"
								 "    pg-test:\n"
								 "      hosts:\n"
								 "        10.9.0.11: {pg_seq: 1, pg_role: primary}\n"
								 "        10.9.0.12: {pg_seq: 2, pg_role: replica, pg_port: 5433, pg_data: /d2, pg_host: /s2, patroni_port: 8009}\n"
								 "      vars: {pg_cluster: pg-test, pg_port: 5440, patroni_port: 8010, pg_replication_username: rep}\n"
								 "  vars: {pg_port: 5432, pg_fs_backup: /b, patroni_enabled: false}\n"
								 "pgbkp:\n"
								 "  schedule:\n"
								 "    - {cron: \"0 1 * * *\", command: backup, type: full}\n"
								 "    - {cron: \"30 4 * * *\", command: verify, name: nightly-verify, jitter: 60}\n");

	/* members named <pg_cluster>-<pg_seq>; host vars over cluster vars over all.vars */
	ck_assert_int_eq(load("backup", "-c", path, "--instance", "pg-test-2", NULL), 0);
	ck_assert_int_eq(cfg.nmembers, 2);
	ck_assert_str_eq(cfg.members[0].name, "pg-test-1");
	ck_assert_str_eq(cfg.members[0].addr, "10.9.0.11");
	ck_assert_int_eq(cfg.members[0].pg_port, 5440);
	ck_assert_int_eq(cfg.members[0].patroni_port, 8010);
	ck_assert_str_eq(cfg.members[1].name, "pg-test-2");
	ck_assert_int_eq(cfg.members[1].pg_port, 5433);
	ck_assert_int_eq(cfg.members[1].patroni_port, 8009);
	ck_assert_int_eq(cfg.self, 1);
	/* this member's host variables apply */
	ck_assert_int_eq(cfg.pg_port, 5433);
	ck_assert_str_eq(cfg.pg_data, "/d2");
	ck_assert_str_eq(cfg.pg_host, "/s2");
	ck_assert(!cfg.patroni);
	ck_assert_int_eq(cfg.nsched, 2);
	ck_assert_str_eq(cfg.sched[0].cron, "0 1 * * *");
	ck_assert_str_eq(cfg.sched[1].name, "nightly-verify");
	ck_assert_int_eq(cfg.sched[1].jitter, 60);
	config_free(&cfg);

	ck_assert_int_eq(load("restore", "-c", path, "--instance", "pg-test-2", NULL), 0);
	ck_assert_str_eq(cfg.replication_user, "rep");
	config_free(&cfg);

	/* the command line beats the host variables; --host by address */
	ck_assert_int_eq(load("backup", "-c", path, "--host", "10.9.0.12", "--pg-port", "6000", NULL), 0);
	ck_assert_int_eq(cfg.self, 1);
	ck_assert_int_eq(cfg.pg_port, 6000);
	ck_assert_int_eq(cfg.members[0].pg_port, 5440);	/* the other members keep the inventory's port */
	config_free(&cfg);

	/* an unknown member names the members */
	ck_assert_int_eq(load("backup", "-c", path, "--instance", "pg-test-9", NULL), -1);
	assert_error(EXIT_CONFIG, "cluster \"pg-test\" has no member named \"pg-test-9\"");
	ck_assert_str_eq(err.hint, "its members are: pg-test-1 (10.9.0.11), pg-test-2 (10.9.0.12)");

	/* no --instance and no local address: unknown, not an error */
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.self, -1);
	ck_assert(strstr(cfg.self_note, "use --instance") != NULL);
	config_free(&cfg);

	/* without --instance, the member whose address is this machine's */
	path = yaml_file("all:\n  children:\n    c:\n      hosts:\n"
					 "        192.0.2.1: {pg_seq: 1}\n        127.0.0.1: {pg_seq: 2}\n"
					 "      vars: {pg_cluster: c, pg_fs_backup: /b}\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), 0);
	ck_assert_int_eq(cfg.self, 1);
	ck_assert_str_eq(cfg.members[cfg.self].name, "c-2");
	config_free(&cfg);

	/* pg_seq missing or repeated; an unknown key in a schedule entry */
	path = yaml_file("all:\n  children:\n    c:\n      hosts: {10.0.0.1: {pg_role: primary}}\n      vars: {pg_cluster: c, pg_fs_backup: /b}\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	ck_assert_msg(strstr(err.msg, "host 10.0.0.1 has no pg_seq") != NULL, "%s", err.msg);
	path = yaml_file("all:\n  children:\n    c:\n      hosts: {10.0.0.1: {pg_seq: 1}, 10.0.0.2: {pg_seq: 1}}\n      vars: {pg_cluster: c, pg_fs_backup: /b}\n");
	ck_assert_int_eq(load("backup", "-c", path, NULL), -1);
	ck_assert_msg(strstr(err.msg, "the same pg_seq 1") != NULL, "%s", err.msg);
	path = yaml_file("pgbkp:\n  cluster: c\n  repo_path: /r\n  schedule:\n    - {cron: \"* * * * *\", comand: backup}\n");
	ck_assert_int_eq(load("schedule", "-c", path, NULL), -1);
	ck_assert_msg(strstr(err.msg, "unknown key \"comand\" in a schedule entry") != NULL, "%s", err.msg);
}
END_TEST

/* ---- help and man page output ---- */

static char *
capture(void (*fn) (void), size_t *len)
{
	FILE	   *tmp = tmpfile();
	int			saved = dup(STDOUT_FILENO);
	char	   *buf;
	long		size;

	ck_assert_ptr_nonnull(tmp);
	fflush(stdout);
	dup2(fileno(tmp), STDOUT_FILENO);
	fn();
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	size = ftell(tmp);
	ck_assert_int_gt(size, 0);
	buf = calloc(1, size + 1);
	rewind(tmp);
	ck_assert_int_eq(fread(buf, 1, size, tmp), (size_t) size);
	fclose(tmp);
	*len = (size_t) size;
	return buf;
}

static void
print_restore_help(void)
{
	config_print_help("restore");
}

static void
print_options_help(void)
{
	config_print_help("options");
}

START_TEST(test_help_output)
{
	size_t		len1,
				len2;
	char	   *t1 = capture(config_print_troff, &len1);
	char	   *t2 = capture(config_print_troff, &len2);
	char	   *help = capture(print_restore_help, &len1);
	char	   *global = capture(print_options_help, &len2);

	ck_assert_int_eq(len1 > 0, 1);
	ck_assert_str_eq(t1, t2);
	ck_assert(strstr(t1, ".SH OPTIONS\n") != NULL);
	ck_assert(strstr(t1, ".SS \"Options for restore\"\n") != NULL);
	ck_assert(strstr(t1, ".SH ENVIRONMENT\n.TP\n.B PGBKP_CONFIG\n") != NULL);
	ck_assert(strstr(t1, ".SH \"EXIT STATUS\"\n") != NULL);
	ck_assert(strstr(t1, "\\-\\-repo\\-path") != NULL);
	ck_assert(strstr(t1, "help\\-troff") == NULL);
	ck_assert(strstr(help, "pgbkp [GLOBAL OPTIONS] restore [OPTIONS]") != NULL);
	ck_assert(strstr(help, "--tablespace-map=OID=DIR") != NULL);
	/* the command's help points to the global options instead of repeating them */
	ck_assert(strstr(help, "PGBKP_PG_PORT") == NULL);
	ck_assert(strstr(help, "\"pgbkp help options\"") != NULL);
	ck_assert(strstr(global, "PGBKP_PG_PORT") != NULL);
	ck_assert(strstr(global, "126  recovery-abort") != NULL);
	ck_assert(strstr(global, "--tablespace-map") == NULL);
	free(global);
	free(t1);
	free(t2);
	free(help);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	   *s = suite_create("config");
	TCase	   *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table_names);
	tcase_add_test(tc, test_command_table);
	tcase_add_test(tc, test_repodef_every_key);
	tcase_add_test(tc, test_repodef_unknown_keys);
	tcase_add_test(tc, test_schedjob_keys);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_config_file_choice);
	tcase_add_test(tc, test_bool_forms);
	tcase_add_test(tc, test_int_errors);
	tcase_add_test(tc, test_enums);
	tcase_add_test(tc, test_unknown_option);
	tcase_add_test(tc, test_wrong_command);
	tcase_add_test(tc, test_scoped_settings_elsewhere_ignored);
	tcase_add_test(tc, test_positional_counts);
	tcase_add_test(tc, test_options_around_command);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_targets);
	tcase_add_test(tc, test_tablespace_map);
	tcase_add_test(tc, test_yaml_errors);
	tcase_add_test(tc, test_yaml_duplicate_keys);
	tcase_add_test(tc, test_yaml_empty_and_null);
	tcase_add_test(tc, test_inventory_clusters);
	tcase_add_test(tc, test_inventory_single_cluster);
	tcase_add_test(tc, test_inventory_role_defaults);
	tcase_add_test(tc, test_inventory_pg_crontab);
	tcase_add_test(tc, test_inventory_repo_keys);
	tcase_add_test(tc, test_inventory_repo_path);
	tcase_add_test(tc, test_inventory_repositories);
	tcase_add_test(tc, test_inventory_inline_repositories);
	tcase_add_test(tc, test_inventory_members);
	tcase_add_test(tc, test_inventory_retention);
	tcase_add_test(tc, test_help_output);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner    *sr = srunner_create(config_suite());
	int			failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
