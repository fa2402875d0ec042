/*
 * The YAML reader for pgbkp's configuration file (see inventory.h).  The file
 * is loaded whole with libyaml's document API; then the Pigsty variables are
 * looked up (cluster vars over all.vars), the cluster's group is chosen, and
 * the settings are reported lowest precedence first: the Pigsty variables,
 * then the pgbkp: sections in all.vars, in the cluster's vars, and at the top
 * level.  Keys of an inventory that pgbkp does not use are ignored; inside a
 * pgbkp: section every key must be an option.
 *
 * YAML mapping keys are unique, but libyaml loads a repeated key without a
 * word, and which of the values a reader then sees is an accident of its
 * code.  So a key pgbkp reads may appear once only: every key of the
 * mappings read whole (pgbkp: sections, repository entries, schedule
 * entries, hosts, groups) and each key looked up elsewhere.  Repeated keys
 * that pgbkp never reads stay another tool's business.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config/inventory.h"
#include "config/schedjob.h"

typedef struct Inventory
{
	const char *path;
	const char *cluster;		/* pg_cluster, for ${pg_cluster} in repository values */
	bool		pigsty;			/* the cluster is a group of a Pigsty inventory: its role defaults apply */
	yaml_document_t doc;
	InventorySetFn set;
	InventoryRepoFn repo;
	InventoryRepoFn member;
	InventoryRepoFn job;
	void	   *arg;
	PgbError	dup;			/* the first repeated key map_get met; fails the load */
} Inventory;

/* The Pigsty variables pgbkp reads; later levels replace earlier ones. */
typedef struct PigstyVars
{
	yaml_node_t *cluster;		/* pg_cluster */
	yaml_node_t *port;			/* pg_port */
	yaml_node_t *data;			/* pg_data */
	yaml_node_t *dbsu;			/* pg_dbsu */
	yaml_node_t *fs_backup;		/* pg_fs_backup, or its old name pg_fs_bkup */
	const char *fs_backup_key;
	yaml_node_t *method;		/* pgbackrest_method */
	yaml_node_t *repo;			/* pgbackrest_repo */
	yaml_node_t *patroni_port;	/* patroni_port */
	yaml_node_t *patroni_enabled;	/* patroni_enabled */
	yaml_node_t *patroni_ssl;	/* patroni_ssl_enabled */
	yaml_node_t *log_dir;		/* pgbackrest_log_dir */
	yaml_node_t *repl_user;		/* pg_replication_username */
} PigstyVars;

#define NODE_LINE(n) ((int) (n)->start_mark.line + 1)
#define CRONTAB_MAX_JOBS 16
#define PIGSTY_DEFAULTS "Pigsty v4.5.0 role default"
#define PIGSTY_LOG_DIR "/pg/log/pgbackrest"

static bool
is_null(const yaml_node_t *node)
{
	const char *v;

	if (node == NULL)
		return true;
	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *) node->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0;
}

/* The scalar's text, or NULL if node is absent, null or not a scalar. */
static const char *
scalar_text(const yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE || is_null(node))
		return NULL;
	return (const char *) node->data.scalar.value;
}

/* The error for key node again repeating key node first; returns -1. */
static int
duplicate_error(const Inventory *inv, const yaml_node_t *first, const yaml_node_t *again,
				const char *key, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "%s:%d: duplicate key \"%s\" (first on line %d)",
			  inv->path, NODE_LINE(again), key, NODE_LINE(first));
	return pgb_hint(err, "remove one of them: a key may appear only once in a mapping");
}

/* Refuse a mapping in which a key appears twice (it is read whole). */
static int
unique_keys(Inventory *inv, yaml_node_t *map, PgbError *err)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		 p < map->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *k = scalar_text(knode);

		if (k == NULL)
			continue;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
		{
			yaml_node_t *earlier = yaml_document_get_node(&inv->doc, q->key);
			const char *e = scalar_text(earlier);

			if (e && strcmp(e, k) == 0)
				return duplicate_error(inv, earlier, knode, k, err);
		}
	}
	return 0;
}

/*
 * The value of key in a mapping, else NULL.  A key found twice is recorded
 * in inv->dup (the first one only), and inventory_load then fails with it
 * whatever else happened after: a value read from such a mapping is not
 * the one the file means.
 */
static yaml_node_t *
map_get(Inventory *inv, yaml_node_t *map, const char *key)
{
	yaml_node_t *found = NULL;
	yaml_node_t *found_key = NULL;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		 p < map->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *k = scalar_text(knode);

		if (k == NULL || strcmp(k, key) != 0)
			continue;
		if (found_key != NULL)
		{
			if (!pgb_error_is_set(&inv->dup))
				(void) duplicate_error(inv, found_key, knode, key, &inv->dup);
			break;
		}
		found_key = knode;
		found = yaml_document_get_node(&inv->doc, p->value);
	}
	return found;
}

/* Like map_get, but the value must be a mapping (or absent/null). */
static int
map_get_map(Inventory *inv, yaml_node_t *map, const char *key, const char *where,
			yaml_node_t **out, PgbError *err)
{
	yaml_node_t *node = map_get(inv, map, key);

	*out = NULL;
	if (is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"%s\" must be a mapping",
						 inv->path, NODE_LINE(node), where);
	*out = node;
	return 0;
}

/* Hand one scalar to the caller as the value of option name. */
static int
emit(Inventory *inv, const char *name, yaml_node_t *node, const char *key,
	 PgbError *err)
{
	const OptionDef *opt = option_find(name);
	OptionSource src = {SRC_FILE, inv->path, 0, key};
	const char *text;

	if (is_null(node))
		return 0;
	src.line = NODE_LINE(node);
	if (node->type != YAML_SCALAR_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"%s\" must be a single value",
						 inv->path, src.line, key);
	text = (const char *) node->data.scalar.value;
	if (strlen(text) != node->data.scalar.length)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: value of \"%s\" contains a NUL byte",
						 inv->path, src.line, key);
	if (opt == NULL)
		return pgb_error(err, EXIT_INTERNAL, "no option named \"%s\"", name);
	return inv->set(inv->arg, opt, text, &src, err);
}

/* Hand a Pigsty role default to the caller as the value of option name. */
static int
emit_default(Inventory *inv, const char *name, const char *value, const char *key, PgbError *err)
{
	OptionSource src = {SRC_FILE, PIGSTY_DEFAULTS, 0, key};
	const OptionDef *opt = option_find(name);

	if (opt == NULL)
		return pgb_error(err, EXIT_INTERNAL, "no option named \"%s\"", name);
	return inv->set(inv->arg, opt, value, &src, err);
}

/* Fill vars from one level's vars mapping, keeping what it does not set. */
static void
pigsty_collect(Inventory *inv, yaml_node_t *vars, PigstyVars *pv)
{
	yaml_node_t *n;

	if (vars == NULL)
		return;
	if ((n = map_get(inv, vars, "pg_cluster")) != NULL)
		pv->cluster = n;
	if ((n = map_get(inv, vars, "pg_port")) != NULL)
		pv->port = n;
	if ((n = map_get(inv, vars, "pg_data")) != NULL)
		pv->data = n;
	if ((n = map_get(inv, vars, "pg_dbsu")) != NULL)
		pv->dbsu = n;
	if ((n = map_get(inv, vars, "pg_fs_backup")) != NULL)
	{
		pv->fs_backup = n;
		pv->fs_backup_key = "pg_fs_backup";
	}
	else if ((n = map_get(inv, vars, "pg_fs_bkup")) != NULL)
	{
		pv->fs_backup = n;
		pv->fs_backup_key = "pg_fs_bkup";
	}
	if ((n = map_get(inv, vars, "pgbackrest_method")) != NULL)
		pv->method = n;
	if ((n = map_get(inv, vars, "pgbackrest_repo")) != NULL)
		pv->repo = n;
	if ((n = map_get(inv, vars, "patroni_port")) != NULL)
		pv->patroni_port = n;
	if ((n = map_get(inv, vars, "patroni_enabled")) != NULL)
		pv->patroni_enabled = n;
	if ((n = map_get(inv, vars, "patroni_ssl_enabled")) != NULL)
		pv->patroni_ssl = n;
	if ((n = map_get(inv, vars, "pgbackrest_log_dir")) != NULL)
		pv->log_dir = n;
	if ((n = map_get(inv, vars, "pg_replication_username")) != NULL)
		pv->repl_user = n;
}

/* "FILE:LINE" of node. */
static void
where_of(Inventory *inv, yaml_node_t *node, char *out, size_t len)
{
	snprintf(out, len, "%s:%d", inv->path, NODE_LINE(node));
}

/*
 * Pigsty's role defaults for the repositories (roles/pgsql/defaults/main.yml
 * of Pigsty v4.5.0): what its pgBackRest uses when the inventory defines no
 * pgbackrest_repo.  Written here as data, not copied text.
 */
static const struct
{
	const char *repo;
	const char *key;
	const char *value;
}			pigsty_repo_defaults[] = {
	{"local", "path", "/pg/backup"},
	{"local", "retention_full_type", "count"},
	{"local", "retention_full", "2"},
	{"minio", "type", "s3"},
	{"minio", "s3_endpoint", "sss.pigsty"},
	{"minio", "s3_region", "us-east-1"},
	{"minio", "s3_bucket", "pgsql"},
	{"minio", "s3_key", "pgbackrest"},
	{"minio", "s3_key_secret", "S3User.Backup"},
	{"minio", "s3_uri_style", "path"},
	{"minio", "path", "/pgbackrest"},
	{"minio", "storage_port", "9000"},
	{"minio", "storage_ca_file", "/etc/pki/ca.crt"},
	{"minio", "block", "y"},
	{"minio", "bundle", "y"},
	{"minio", "bundle_limit", "20MiB"},
	{"minio", "bundle_size", "128MiB"},
	{"minio", "cipher_type", "aes-256-cbc"},
	{"minio", "cipher_pass", "pgBackRest"},
	{"minio", "retention_full_type", "time"},
	{"minio", "retention_full", "14"},
	{NULL, NULL, NULL}
};

/* pgBackRest's repository path when an entry names none (repo1-path's default). */
#define PGBACKREST_DEFAULT_PATH "/var/lib/pgbackrest"

/*
 * value with every ${pg_cluster} replaced by the cluster's name, as Pigsty's
 * template does for every repository value.  false when it does not fit.
 */
static bool
substitute_cluster(const char *value, const char *cluster, char *out, size_t len)
{
	static const char var[] = "${pg_cluster}";
	size_t		n = 0;

	for (const char *p = value; *p;)
	{
		const char *piece = p;
		size_t		plen = 1;

		if (cluster && strncmp(p, var, sizeof(var) - 1) == 0)
		{
			piece = cluster;
			plen = strlen(cluster);
			p += sizeof(var) - 1;
		}
		else
			p++;
		if (n + plen >= len)
			return false;
		memcpy(out + n, piece, plen);
		n += plen;
	}
	out[n] = '\0';
	return true;
}

/* Hand one key of a repository entry to the caller, ${pg_cluster} substituted. */
static int
emit_repo_value(Inventory *inv, const char *name, const char *key, const char *text, const char *where,
				PgbError *err)
{
	char		value[4096];

	if (!substitute_cluster(text, inv->cluster, value, sizeof(value)))
		return pgb_error(err, EXIT_CONFIG, "%s: value of \"pgbackrest_repo.%s.%s\" is too long", where, name, key);
	return inv->repo(inv->arg, name, key, value, where, err);
}

static int
emit_repo_key(Inventory *inv, const char *name, const char *key, yaml_node_t *node, PgbError *err)
{
	char		where[1024];
	const char *text = scalar_text(node);

	if (is_null(node))
		return 0;
	where_of(inv, node, where, sizeof(where));
	if (text == NULL)
		return pgb_error(err, EXIT_CONFIG, "%s: \"pgbackrest_repo.%s.%s\" must be a single value",
						 where, name, key);
	if (strlen(text) != node->data.scalar.length)
		return pgb_error(err, EXIT_CONFIG, "%s: value of \"pgbackrest_repo.%s.%s\" contains a NUL byte",
						 where, name, key);
	return emit_repo_value(inv, name, key, text, where, err);
}

/* A repository from Pigsty's role defaults; false when there is no such default. */
static int
emit_default_repository(Inventory *inv, const char *name, bool *found, PgbError *err)
{
	*found = false;
	for (int i = 0; pigsty_repo_defaults[i].repo; i++)
	{
		if (strcmp(pigsty_repo_defaults[i].repo, name) != 0)
			continue;
		if (!*found && inv->repo(inv->arg, name, NULL, PIGSTY_DEFAULTS, PIGSTY_DEFAULTS, err) < 0)
			return -1;
		*found = true;
		if (emit_repo_value(inv, name, pigsty_repo_defaults[i].key, pigsty_repo_defaults[i].value,
							PIGSTY_DEFAULTS, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * One repository of the list: its pgbackrest_repo entry.  "local" may be
 * missing there; it is then the directory pg_fs_backup names, and so is a
 * posix entry without a path.
 */
static int
emit_repository(Inventory *inv, const PigstyVars *pv, const char *name, yaml_node_t *name_node,
				PgbError *err)
{
	char		where[1024];
	char		key[256];
	yaml_node_t *entry = NULL;
	yaml_node_t *type;
	const char *type_text;

	snprintf(key, sizeof(key), "pgbackrest_repo.%s", name);
	if (pv->repo && map_get_map(inv, pv->repo, name, key, &entry, err) < 0)
		return -1;
	if (inv->pigsty && pv->repo == NULL)
	{
		/* no pgbackrest_repo anywhere: Pigsty's role defaults, as its pgBackRest gets them */
		bool		found;

		if (emit_default_repository(inv, name, &found, err) < 0)
			return -1;
		if (found)
			return 0;
	}
	if (entry == NULL && (inv->pigsty || strcmp(name, "local") != 0))
	{
		where_of(inv, name_node, where, sizeof(where));
		pgb_error(err, EXIT_CONFIG, "%s: repository \"%s\" is not defined", where, name);
		return pgb_hint(err, "add it under pgbackrest_repo, or remove it from the list of repositories");
	}
	where_of(inv, entry ? entry : name_node, where, sizeof(where));
	if (inv->repo(inv->arg, name, NULL, where, where, err) < 0)
		return -1;
	type = map_get(inv, entry, "type");
	type_text = scalar_text(type);
	if (map_get(inv, entry, "path") == NULL && (type_text == NULL || strcmp(type_text, "posix") == 0))
	{
		/*
		 * No path: pgBackRest's own default in a Pigsty inventory (where
		 * pg_fs_backup is only what /pg/backup links into); pg_fs_backup in a
		 * plain pgbkp file.
		 */
		if (inv->pigsty ? emit_repo_value(inv, name, "path", PGBACKREST_DEFAULT_PATH, where, err) < 0 :
			emit_repo_key(inv, name, "path", pv->fs_backup, err) < 0)
			return -1;
	}
	if (entry == NULL)
		return 0;
	if (unique_keys(inv, entry, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = entry->data.mapping.pairs.start;
		 p < entry->data.mapping.pairs.top; p++)
	{
		const char *k = scalar_text(yaml_document_get_node(&inv->doc, p->key));

		if (k && emit_repo_key(inv, name, k, yaml_document_get_node(&inv->doc, p->value), err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The repositories: the names of pgbkp.repositories, else of
 * pgbackrest_method (one name or a list), else "local" when pgbackrest_repo
 * defines it.  Without any of these, pg_fs_backup is the repository
 * directory (as repo-path, so a pgbkp: section's repo_path overrides it).
 */
static int
pigsty_repos(Inventory *inv, const PigstyVars *pv, yaml_node_t *names, PgbError *err)
{
	yaml_node_t *local = NULL;

	if (is_null(names))
		names = pv->method;
	if (is_null(names) && inv->pigsty)
		return emit_repository(inv, pv, "local", pv->repo ? pv->repo : pv->cluster, err);	/* pgbackrest_method's default */
	if (is_null(names) && pv->repo && (local = map_get(inv, pv->repo, "local")) != NULL)
		return emit_repository(inv, pv, "local", local, err);
	if (is_null(names))
		return emit(inv, "repo-path", pv->fs_backup, pv->fs_backup_key, err);
	if (names->type == YAML_SCALAR_NODE)
		return emit_repository(inv, pv, scalar_text(names), names, err);
	if (names->type != YAML_SEQUENCE_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: the list of repositories must be a name or a list of names",
						 inv->path, NODE_LINE(names));
	for (yaml_node_item_t *i = names->data.sequence.items.start; i < names->data.sequence.items.top; i++)
	{
		yaml_node_t *n = yaml_document_get_node(&inv->doc, *i);
		const char *name = scalar_text(n);

		if (name == NULL)
			return pgb_error(err, EXIT_CONFIG, "%s:%d: a repository name must be a single value",
							 inv->path, NODE_LINE(n));
		if (emit_repository(inv, pv, name, n, err) < 0)
			return -1;
	}
	return 0;
}

/* The host variables pgbkp reads for a member of the cluster. */
static const char *const member_keys[] = {
	"pg_seq", "pg_role", "pg_port", "pg_data", "pg_host", "patroni_port", NULL
};

/*
 * The members of the cluster's group: hosts: {ADDR: {pg_seq, ...}}, in file
 * order, each with the host variables above (the caller falls back to the
 * cluster's and all.vars' values for those a host does not set).
 */
static int
cluster_members(Inventory *inv, yaml_node_t *hosts, PgbError *err)
{
	char		where[1024];

	if (is_null(hosts))
		return 0;
	if (hosts->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"hosts\" must be a mapping", inv->path, NODE_LINE(hosts));
	if (unique_keys(inv, hosts, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = hosts->data.mapping.pairs.start; p < hosts->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		yaml_node_t *hvars = yaml_document_get_node(&inv->doc, p->value);
		const char *addr = scalar_text(knode);

		where_of(inv, knode, where, sizeof(where));
		if (addr == NULL)
			return pgb_error(err, EXIT_CONFIG, "%s: a host must be an address", where);
		if (inv->member(inv->arg, addr, NULL, where, where, err) < 0)
			return -1;
		if (is_null(hvars))
			continue;
		if (hvars->type != YAML_MAPPING_NODE)
			return pgb_error(err, EXIT_CONFIG, "%s: the variables of host %s must be a mapping", where, addr);
		for (const char *const *k = member_keys; *k; k++)
		{
			yaml_node_t *v = map_get(inv, hvars, *k);
			const char *text = scalar_text(v);

			if (is_null(v))
				continue;
			where_of(inv, v, where, sizeof(where));
			if (text == NULL)
				return pgb_error(err, EXIT_CONFIG, "%s: \"%s\" of host %s must be a single value", where, *k, addr);
			if (inv->member(inv->arg, addr, *k, text, where, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Report every key of a pgbkp: section; unknown keys are errors. */
static int
load_section(Inventory *inv, yaml_node_t *section, PgbError *err)
{
	if (is_null(section))
		return 0;
	if (section->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: section \"pgbkp\" must be a mapping",
						 inv->path, NODE_LINE(section));
	if (unique_keys(inv, section, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = section->data.mapping.pairs.start;
		 p < section->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *key = scalar_text(knode);
		const OptionDef *opt = key ? option_find_yaml(key) : NULL;

		if (key && (strcmp(key, "repositories") == 0 || strcmp(key, "schedule") == 0))
			continue;			/* read by pigsty_repos and schedule_jobs */
		if (opt == NULL)
		{
			char		name[128];

			pgb_error(err, EXIT_CONFIG, "%s:%d: unknown key \"%s\" in section \"pgbkp\"",
					  inv->path, NODE_LINE(knode), key ? key : "(not a scalar)");
			if (key && strlen(key) < sizeof(name))
			{
				memcpy(name, key, strlen(key) + 1);
				for (char *c = name; *c; c++)
					if (*c == '_')
						*c = '-';
				if ((opt = option_find(name)) != NULL && !(opt->flags & OPTF_HIDDEN))
					pgb_hint(err, "--%s can only be given on the command line", opt->name);
			}
			return -1;
		}
		if (emit(inv, opt->name, yaml_document_get_node(&inv->doc, p->value),
				 key, err) < 0)
			return -1;
	}
	return 0;
}

/* The repositories key of the pgbkp: sections (top level first), or NULL. */
static yaml_node_t *
section_repositories(Inventory *inv, yaml_node_t *gvars, yaml_node_t *cvars, yaml_node_t *top)
{
	yaml_node_t *n;

	if ((n = map_get(inv, top, "repositories")) != NULL ||
		(n = map_get(inv, map_get(inv, cvars, "pgbkp"), "repositories")) != NULL ||
		(n = map_get(inv, map_get(inv, gvars, "pgbkp"), "repositories")) != NULL)
		return n;
	return NULL;
}

/*
 * Pigsty's pg_crontab: its lines that run Pigsty's pg-backup script
 * ("00 01 * * * /pg/bin/pg-backup full"; no argument is incr) become backup
 * jobs of the schedule; other lines are not pgbkp's and are left alone.
 */
static int
crontab_jobs(Inventory *inv, yaml_node_t *list, PgbError *err)
{
	char		where[1024];
	char		names[CRONTAB_MAX_JOBS][64];
	int			n = 0;

	if (list->type != YAML_SEQUENCE_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"pg_crontab\" must be a list of crontab lines", inv->path,
						 NODE_LINE(list));
	for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++)
	{
		yaml_node_t *entry = yaml_document_get_node(&inv->doc, *i);
		const char *line = scalar_text(entry);
		char		copy[1024];
		char	   *f[8];
		int			nf = 0;
		int			ncron;
		const char *cmd;
		const char *type = "incr";
		char		cron[256] = "";
		char		index[16];
		char	   *save = NULL;

		where_of(inv, entry, where, sizeof(where));
		if (line == NULL || strlen(line) >= sizeof(copy))
			continue;
		snprintf(copy, sizeof(copy), "%s", line);
		for (char *w = strtok_r(copy, " \t", &save); w && nf < 8; w = strtok_r(NULL, " \t", &save))
			f[nf++] = w;
		ncron = nf > 0 && f[0][0] == '@' ? 1 : 5;
		if (nf <= ncron)
			continue;
		cmd = strrchr(f[ncron], '/') ? strrchr(f[ncron], '/') + 1 : f[ncron];
		if (strcmp(cmd, "pg-backup") != 0)
			continue;
		if (nf > ncron + 1)
		{
			type = f[ncron + 1];
			if (strcmp(type, "full") != 0 && strcmp(type, "diff") != 0 && strcmp(type, "incr") != 0)
				return pgb_error(err, EXIT_CONFIG, "%s: pg_crontab runs pg-backup with \"%s\": expected full, diff or incr",
								 where, type);
		}
		for (int k = 0; k < ncron; k++)
			snprintf(cron + strlen(cron), sizeof(cron) - strlen(cron), "%s%s", k ? " " : "", f[k]);
		if (n == CRONTAB_MAX_JOBS)
			return pgb_error(err, EXIT_CONFIG, "%s: more than %d pg-backup lines in pg_crontab", where, CRONTAB_MAX_JOBS);
		/* backup-full, backup-incr; backup-full-2 for a second full line */
		snprintf(names[n], sizeof(names[n]), "backup-%s", type);
		for (int k = 0, dup = 1; k < n; k++)
			if (strncmp(names[k], names[n], strlen(names[n])) == 0 &&
				(names[k][strlen(names[n])] == '\0' || names[k][strlen(names[n])] == '-'))
				snprintf(names[n], sizeof(names[n]), "backup-%s-%d", type, ++dup);
		snprintf(index, sizeof(index), "%d", n + 1);
		if (inv->job(inv->arg, index, NULL, where, where, err) < 0 ||
			inv->job(inv->arg, index, "cron", cron, where, err) < 0 ||
			inv->job(inv->arg, index, "command", "backup", where, err) < 0 ||
			inv->job(inv->arg, index, "type", type, where, err) < 0 ||
			inv->job(inv->arg, index, "name", names[n], where, err) < 0)
			return -1;
		n++;
	}
	return 0;
}

/* The schedule list of the pgbkp: sections (top level first), else Pigsty's pg_crontab. */
static int
schedule_jobs(Inventory *inv, yaml_node_t *gvars, yaml_node_t *cvars, yaml_node_t *top, PgbError *err)
{
	yaml_node_t *list = map_get(inv, top, "schedule");
	char		where[1024];
	int			n = 0;

	if (list == NULL)
		list = map_get(inv, map_get(inv, cvars, "pgbkp"), "schedule");
	if (list == NULL)
		list = map_get(inv, map_get(inv, gvars, "pgbkp"), "schedule");
	if (list == NULL)
	{
		yaml_node_t *crontab = map_get(inv, cvars, "pg_crontab");

		if (crontab == NULL)
			crontab = map_get(inv, gvars, "pg_crontab");
		return is_null(crontab) ? 0 : crontab_jobs(inv, crontab, err);
	}
	if (is_null(list))
		return 0;
	if (list->type != YAML_SEQUENCE_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"schedule\" must be a list of jobs", inv->path, NODE_LINE(list));
	for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++)
	{
		yaml_node_t *entry = yaml_document_get_node(&inv->doc, *i);
		char		index[16];

		snprintf(index, sizeof(index), "%d", ++n);
		where_of(inv, entry, where, sizeof(where));
		if (entry->type != YAML_MAPPING_NODE)
			return pgb_error(err, EXIT_CONFIG, "%s: a schedule entry must be a mapping such as "
							 "{cron: \"0 1 * * *\", command: backup, type: full}", where);
		if (unique_keys(inv, entry, err) < 0 ||
			inv->job(inv->arg, index, NULL, where, where, err) < 0)
			return -1;
		for (yaml_node_pair_t *p = entry->data.mapping.pairs.start; p < entry->data.mapping.pairs.top; p++)
		{
			yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
			yaml_node_t *v = yaml_document_get_node(&inv->doc, p->value);
			const char *k = scalar_text(knode);
			const char *text = scalar_text(v);

			where_of(inv, knode, where, sizeof(where));
			if (schedjob_check_key(k, where, err) < 0)
				return -1;
			if (text == NULL)
				return pgb_error(err, EXIT_CONFIG, "%s: \"%s\" must be a single value", where, k);
			if (inv->job(inv->arg, index, k, text, where, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The cluster key of a pgbkp: section, if it has one. */
static const char *
section_cluster(Inventory *inv, yaml_node_t *section)
{
	return scalar_text(map_get(inv, section, "cluster"));
}

/*
 * Pick the inventory group of cluster (by group name or pg_cluster), or the
 * only group with pg_cluster when cluster is NULL.  *vars is NULL when the
 * inventory has no such groups.
 */
static int
select_cluster(Inventory *inv, yaml_node_t *children, const char *cluster,
			   yaml_node_t **vars, yaml_node_t **group_out, PgbError *err)
{
	yaml_node_t *only_group = NULL;

	char		names[512] = "";
	size_t		len = 0;
	int			ncandidates = 0;
	yaml_node_t *only = NULL;

	*vars = NULL;
	*group_out = NULL;
	if (children == NULL)
		return 0;
	if (unique_keys(inv, children, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = children->data.mapping.pairs.start;
		 p < children->data.mapping.pairs.top; p++)
	{
		const char *group = scalar_text(yaml_document_get_node(&inv->doc, p->key));
		yaml_node_t *gnode = yaml_document_get_node(&inv->doc, p->value);
		yaml_node_t *gvars = map_get(inv, gnode, "vars");
		const char *pg_cluster = scalar_text(map_get(inv, gvars, "pg_cluster"));

		if (gvars && gvars->type != YAML_MAPPING_NODE)
			gvars = NULL;
		if (cluster && ((group && strcmp(group, cluster) == 0) ||
						(pg_cluster && strcmp(pg_cluster, cluster) == 0)))
		{
			*vars = gvars;
			*group_out = gnode;
			return 0;
		}
		if (pg_cluster == NULL)
			continue;
		ncandidates++;
		only = gvars;
		only_group = gnode;
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s\"%s\"",
							len ? ", " : "", pg_cluster);
	}
	if (cluster == NULL && ncandidates == 1)
	{
		*vars = only;
		*group_out = only_group;
		return 0;
	}
	if (ncandidates == 0)
		return 0;
	if (cluster)
		pgb_error(err, EXIT_CONFIG, "%s: cluster \"%s\" is not in the inventory (clusters: %s)",
				  inv->path, cluster, names);
	else
		pgb_error(err, EXIT_CONFIG, "%s: the inventory has several clusters: %s",
				  inv->path, names);
	return pgb_hint(err, "use --cluster to choose one");
}

static int
load_document(Inventory *inv, const char *cluster, PgbError *err)
{
	yaml_node_t *root = yaml_document_get_root_node(&inv->doc);
	yaml_node_t *all = NULL;
	yaml_node_t *gvars = NULL;
	yaml_node_t *children = NULL;
	yaml_node_t *cvars = NULL;
	yaml_node_t *group = NULL;
	yaml_node_t *top_section;
	PigstyVars	pv;

	if (root == NULL || is_null(root))
		return 0;				/* empty file */
	if (root->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: expected a mapping at the top level",
						 inv->path, NODE_LINE(root));
	top_section = map_get(inv, root, "pgbkp");
	if (map_get_map(inv, root, "all", "all", &all, err) < 0 ||
		map_get_map(inv, all, "vars", "all.vars", &gvars, err) < 0 ||
		map_get_map(inv, all, "children", "all.children", &children, err) < 0)
		return -1;

	if (cluster == NULL)
		cluster = section_cluster(inv, top_section);
	if (cluster == NULL)
		cluster = section_cluster(inv, map_get(inv, gvars, "pgbkp"));
	if (select_cluster(inv, children, cluster, &cvars, &group, err) < 0)
		return -1;

	memset(&pv, 0, sizeof(pv));
	pigsty_collect(inv, root, &pv);	/* a plain pgbkp file may use the same keys at the top */
	pigsty_collect(inv, gvars, &pv);
	pigsty_collect(inv, cvars, &pv);
	inv->pigsty = cvars != NULL && map_get(inv, cvars, "pg_cluster") != NULL;
	inv->cluster = scalar_text(pv.cluster);
	if (emit(inv, "cluster", pv.cluster, "pg_cluster", err) < 0 ||
		emit(inv, "pg-port", pv.port, "pg_port", err) < 0 ||
		emit(inv, "pg-data", pv.data, "pg_data", err) < 0 ||
		emit(inv, "pg-user", pv.dbsu, "pg_dbsu", err) < 0 ||
		emit(inv, "patroni-port", pv.patroni_port, "patroni_port", err) < 0 ||
		emit(inv, "patroni", pv.patroni_enabled, "patroni_enabled", err) < 0 ||
		emit(inv, "patroni-ssl", pv.patroni_ssl, "patroni_ssl_enabled", err) < 0 ||
		(pv.log_dir ? emit(inv, "log-path", pv.log_dir, "pgbackrest_log_dir", err) :
		 inv->pigsty ? emit_default(inv, "log-path", PIGSTY_LOG_DIR, "pgbackrest_log_dir", err) : 0) < 0 ||
		emit(inv, "replication-user", pv.repl_user, "pg_replication_username", err) < 0 ||
		pigsty_repos(inv, &pv, section_repositories(inv, gvars, cvars, top_section), err) < 0 ||
		cluster_members(inv, map_get(inv, group, "hosts"), err) < 0 ||
		schedule_jobs(inv, gvars, cvars, top_section, err) < 0)
		return -1;

	if (load_section(inv, map_get(inv, gvars, "pgbkp"), err) < 0 ||
		load_section(inv, map_get(inv, cvars, "pgbkp"), err) < 0 ||
		load_section(inv, top_section, err) < 0)
		return -1;
	return 0;
}

static int
parser_error(const char *path, const yaml_parser_t *parser, PgbError *err)
{
	const char *problem = parser->problem ? parser->problem : "unknown error";

	switch (parser->error)
	{
		case YAML_MEMORY_ERROR:
			return pgb_error(err, EXIT_INTERNAL, "%s: out of memory", path);
		case YAML_READER_ERROR:
			return pgb_error(err, EXIT_CONFIG, "%s: %s at byte %zu",
							 path, problem, parser->problem_offset);
		default:
			pgb_error(err, EXIT_CONFIG, "%s:%zu:%zu: %s", path,
					  parser->problem_mark.line + 1, parser->problem_mark.column + 1,
					  problem);
			if (parser->context)
				pgb_hint(err, "%s at line %zu", parser->context,
						 parser->context_mark.line + 1);
			return -1;
	}
}

int
inventory_load(const char *path, const char *cluster,
			   const InventoryCallbacks *cb, void *arg, PgbError *err)
{
	Inventory	inv = {.path = path, .set = cb->set, .repo = cb->repo, .member = cb->member,
	.job = cb->job, .arg = arg};
	yaml_parser_t parser;
	struct stat st;
	FILE	   *fp;
	int			rc;

	fp = fopen(path, "rb");
	if (fp == NULL)
		return pgb_error_errno(err, EXIT_CONFIG, errno,
							   "could not open configuration file \"%s\"", path);
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode))
	{
		fclose(fp);
		return pgb_error(err, EXIT_CONFIG,
						 "configuration file \"%s\" is a directory", path);
	}
	if (!yaml_parser_initialize(&parser))
	{
		fclose(fp);
		return pgb_error(err, EXIT_INTERNAL, "could not initialize the YAML parser");
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &inv.doc))
	{
		rc = parser_error(path, &parser, err);
		yaml_parser_delete(&parser);
		fclose(fp);
		return rc;
	}
	rc = load_document(&inv, cluster, err);
	if (pgb_error_is_set(&inv.dup))
	{
		*err = inv.dup;
		rc = -1;
	}
	yaml_document_delete(&inv.doc);
	yaml_parser_delete(&parser);
	if (ferror(fp) && rc == 0)
		rc = pgb_error(err, EXIT_CONFIG, "could not read configuration file \"%s\"", path);
	fclose(fp);
	return rc;
}
