/*
 * Hints for pgBackRest's options.  Operators who know pgBackRest type its
 * options out of habit (--stanza, --type=time --target=..., --repo=1,
 * --pg1-path, --process-max); an unknown option that pgBackRest would have
 * understood gets the pgbkp spelling of the same thing as its hint, instead
 * of "unrecognized" or "ambiguous" alone.
 */
#include <stdio.h>
#include <string.h>

#include "config/pgbr_hint.h"

typedef struct PgbrOption
{
	const char *name;			/* pgBackRest's option, without "--" and without a repoN-/pgN- prefix */
	const char *pgbkp;			/* what to type instead */
} PgbrOption;

static const PgbrOption plain_options[] = {
	{"stanza", "--cluster NAME (pgBackRest's stanza is pgbkp's cluster)"},
	{"process-max", "--jobs N"},
	{"log-level-console", "--log-level LEVEL"},
	{"log-level-stderr", "--log-level LEVEL"},
	{"log-level-file", "--log-level LEVEL (pgbkp logs to stderr)"},
	{"compress-type", "--compress-level N (pgbkp always compresses with zstd)"},
	{"archive-push-queue-max", "nothing: pgbkp never reports WAL as archived before it is stored"},
	{"backup-standby", "nothing yet: pgbkp backs up from the primary"},
	{NULL, NULL}
};

/* repoN-KEY and pgN-KEY */
static const PgbrOption repo_keys[] = {
	{"path", "--repo-path DIR, or the path key of a repository in the configuration"},
	{"retention-full", "--retention-full N"},
	{"retention-full-type", "--retention-full-type count|time"},
	{"cipher-pass", "cipher_pass_file in the repository's configuration (never on the command line)"},
	{NULL, "the repository's key in the configuration (pgbackrest_repo.NAME or pgbkp.repositories)"}
};

static const PgbrOption pg_keys[] = {
	{"path", "--pg-data DIR"},
	{"port", "--pg-port PORT"},
	{"host", "--pg-host HOST"},
	{"socket-path", "--pg-host DIR (a socket directory is a host to libpq)"},
	{"user", "--pg-user USER"},
	{"database", "--pg-database DBNAME"},
	{NULL, "the --pg-* options"}
};

/* pgBackRest's restore --type values */
static const PgbrOption restore_types[] = {
	{"time", "--time"},
	{"lsn", "--lsn"},
	{"xid", "--xid"},
	{"name", "--name"},
	{"immediate", "--immediate"},
	{"standby", "--standby"},
	{"default", "no target option (replay to the end of the archive)"},
	{NULL, NULL}
};

static const char *
lookup(const PgbrOption *table, const char *name, size_t len)
{
	const PgbrOption *o;

	for (o = table; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o->pgbkp;
	return o->pgbkp;
}

/* "repo1-path" -> prefix "repo", key "path": the key, or NULL when name is not PREFIXN-KEY. */
static const char *
numbered_key(const char *name, size_t len, const char *prefix)
{
	size_t		p = strlen(prefix);
	size_t		i = p;

	if (len <= p || strncmp(name, prefix, p) != 0)
		return NULL;
	while (i < len && name[i] >= '0' && name[i] <= '9')
		i++;
	if (i == p || i >= len || name[i] != '-')
		return NULL;
	return name + i + 1;
}

/* The value of "--type=V" or "--type V" in argv, or NULL. */
static const char *
type_value(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		if (strncmp(argv[i], "--type=", 7) == 0)
			return argv[i] + 7;
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

bool
pgbr_option_hint(const char *arg, int argc, char **argv, char *buf, size_t len)
{
	const char *name;
	size_t		n;
	const char *key;
	const char *hint;

	if (strncmp(arg, "--", 2) != 0)
		return false;
	name = arg + 2;
	n = strcspn(name, "=");
	if (n == 6 && strncmp(name, "target", 6) == 0)
	{
		const char *type = type_value(argc, argv);
		const char *opt = type ? lookup(restore_types, type, strlen(type)) : NULL;

		if (opt && strncmp(opt, "--", 2) == 0)
			snprintf(buf, len, "pgbkp's equivalent of pgBackRest's --type=%s --target=VALUE: %s VALUE", type, opt);
		else
			snprintf(buf, len, "pgbkp gives a recovery target with the option of its kind: --time, --lsn, --xid or --name");
		return true;
	}
	if ((key = numbered_key(name, n, "repo")) != NULL)
	{
		hint = lookup(repo_keys, key, n - (size_t) (key - name));
		snprintf(buf, len, "pgbkp's equivalent of pgBackRest's --%.*s: %s", (int) n, name, hint);
		return true;
	}
	if ((key = numbered_key(name, n, "pg")) != NULL)
	{
		hint = lookup(pg_keys, key, n - (size_t) (key - name));
		snprintf(buf, len, "pgbkp's equivalent of pgBackRest's --%.*s: %s", (int) n, name, hint);
		return true;
	}
	if ((hint = lookup(plain_options, name, n)) != NULL)
	{
		snprintf(buf, len, "pgbkp's equivalent of pgBackRest's --%.*s: %s", (int) n, name, hint);
		return true;
	}
	return false;
}

bool
pgbr_restore_type_hint(const char *value, char *buf, size_t len)
{
	const char *opt = lookup(restore_types, value, strlen(value));

	if (opt == NULL)
		return false;
	snprintf(buf, len, "pgbkp's equivalent of pgBackRest's restore --type=%s: %s", value, opt);
	return true;
}

bool
pgbr_repo_number_hint(const char *name, char *buf, size_t len)
{
	if (name[0] == '\0' || strspn(name, "0123456789") != strlen(name))
		return false;
	snprintf(buf, len, "pgBackRest numbers its repositories (--repo=%s); pgbkp names them", name);
	return true;
}
