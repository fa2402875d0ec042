/*
 * What pgbkp reads of a Pigsty inventory (see inventory_int.h): the
 * variables it takes as options (pg_cluster, pg_port, pg_data, pg_dbsu,
 * patroni_*, pgbackrest_log_dir, pg_replication_username), the repositories
 * (pgbackrest_method and pgbackrest_repo, with Pigsty's role defaults where
 * the inventory defines none, and ${pg_cluster} substituted as Pigsty's
 * template does), the cluster group's hosts as members, and the pg-backup
 * lines of pg_crontab as scheduled backups.
 */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "config/inventory_int.h"



#define CRONTAB_MAX_JOBS 16
#define PIGSTY_LOG_DIR "/pg/log/pgbackrest"
/* Pigsty's defaults for its Patroni REST API's basic auth (public, documented) */
#define PIGSTY_PATRONI_USER "postgres"
#define PIGSTY_PATRONI_PASS "Patroni.API"


/* Fill vars from one level's vars mapping, keeping what it does not set. */
static void
pigsty_collect(Inventory *inv, yaml_node_t *vars, PigstyVars *pv)
{
	yaml_node_t *n;

	if (vars == NULL)
		return;
	if ((n = inv_map_get(inv, vars, "pg_cluster")) != NULL)
		pv->cluster = n;
	if ((n = inv_map_get(inv, vars, "pg_port")) != NULL)
		pv->port = n;
	if ((n = inv_map_get(inv, vars, "pg_data")) != NULL)
		pv->data = n;
	if ((n = inv_map_get(inv, vars, "pg_dbsu")) != NULL)
		pv->dbsu = n;
	if ((n = inv_map_get(inv, vars, "pg_fs_backup")) != NULL)
	{
		pv->fs_backup = n;
		pv->fs_backup_key = "pg_fs_backup";
	}
	else if ((n = inv_map_get(inv, vars, "pg_fs_bkup")) != NULL)
	{
		pv->fs_backup = n;
		pv->fs_backup_key = "pg_fs_bkup";
	}
	if ((n = inv_map_get(inv, vars, "pgbackrest_method")) != NULL)
		pv->method = n;
	if ((n = inv_map_get(inv, vars, "pgbackrest_repo")) != NULL)
		pv->repo = n;
	if ((n = inv_map_get(inv, vars, "patroni_port")) != NULL)
		pv->patroni_port = n;
	if ((n = inv_map_get(inv, vars, "patroni_enabled")) != NULL)
		pv->patroni_enabled = n;
	if ((n = inv_map_get(inv, vars, "patroni_ssl_enabled")) != NULL)
		pv->patroni_ssl = n;
	if ((n = inv_map_get(inv, vars, "pgbackrest_log_dir")) != NULL)
		pv->log_dir = n;
	if ((n = inv_map_get(inv, vars, "pg_replication_username")) != NULL)
		pv->repl_user = n;
	if ((n = inv_map_get(inv, vars, "patroni_username")) != NULL)
		pv->patroni_user = n;
	if ((n = inv_map_get(inv, vars, "patroni_password")) != NULL)
		pv->patroni_pass = n;
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
	const char *text = inv_scalar(node);

	if (inv_is_null(node))
		return 0;
	inv_where(inv, node, where, sizeof(where));
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
	if (pv->repo && inv_map_get_map(inv, pv->repo, name, key, &entry, err) < 0)
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
		inv_where(inv, name_node, where, sizeof(where));
		pgb_error(err, EXIT_CONFIG, "%s: repository \"%s\" is not defined", where, name);
		return pgb_hint(err, "add it under pgbackrest_repo, or remove it from the list of repositories");
	}
	inv_where(inv, entry ? entry : name_node, where, sizeof(where));
	if (inv->repo(inv->arg, name, NULL, where, where, err) < 0)
		return -1;
	type = inv_map_get(inv, entry, "type");
	type_text = inv_scalar(type);
	if (inv_map_get(inv, entry, "path") == NULL && (type_text == NULL || strcmp(type_text, "posix") == 0))
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
	if (inv_unique_keys(inv, entry, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = entry->data.mapping.pairs.start;
		 p < entry->data.mapping.pairs.top; p++)
	{
		const char *k = inv_scalar(yaml_document_get_node(&inv->doc, p->key));

		if (k && emit_repo_key(inv, name, k, yaml_document_get_node(&inv->doc, p->value), err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A repository defined inline in pgbkp.repositories: a mapping with its
 * name and its keys, {name: pgbr, type: pgbackrest, stanza: pg-meta}.
 */
static int
emit_inline_repository(Inventory *inv, yaml_node_t *entry, PgbError *err)
{
	char		where[1024];
	yaml_node_t *name_node = inv_map_get(inv, entry, "name");
	const char *name = inv_scalar(name_node);

	inv_where(inv, entry, where, sizeof(where));
	if (inv_unique_keys(inv, entry, err) < 0)
		return -1;
	if (name == NULL || name[0] == '\0')
		return pgb_error(err, EXIT_CONFIG, "%s: a repository defined in the list of repositories needs a name", where),
			pgb_hint(err, "write it as {name: NAME, type: posix|s3|pgbackrest, ...}");
	if (inv->repo(inv->arg, name, NULL, where, where, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = entry->data.mapping.pairs.start;
		 p < entry->data.mapping.pairs.top; p++)
	{
		const char *k = inv_scalar(yaml_document_get_node(&inv->doc, p->key));

		if (k && strcmp(k, "name") != 0 &&
			emit_repo_key(inv, name, k, yaml_document_get_node(&inv->doc, p->value), err) < 0)
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
int
pigsty_repos(Inventory *inv, yaml_node_t *names, PgbError *err)
{
	const PigstyVars *pv = &inv->pv;
	yaml_node_t *local = NULL;

	if (inv_is_null(names))
		names = pv->method;
	if (inv_is_null(names) && inv->pigsty)
		return emit_repository(inv, pv, "local", pv->repo ? pv->repo : pv->cluster, err);	/* pgbackrest_method's default */
	if (inv_is_null(names) && pv->repo && (local = inv_map_get(inv, pv->repo, "local")) != NULL)
		return emit_repository(inv, pv, "local", local, err);
	if (inv_is_null(names))
		return inv_emit(inv, "repo-path", pv->fs_backup, pv->fs_backup_key, err);
	if (names->type == YAML_SCALAR_NODE)
		return emit_repository(inv, pv, inv_scalar(names), names, err);
	if (names->type == YAML_MAPPING_NODE)
		return emit_inline_repository(inv, names, err);
	if (names->type != YAML_SEQUENCE_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: the list of repositories must be a name or a list of names",
						 inv->path, NODE_LINE(names));
	for (yaml_node_item_t *i = names->data.sequence.items.start; i < names->data.sequence.items.top; i++)
	{
		yaml_node_t *n = yaml_document_get_node(&inv->doc, *i);
		const char *name = inv_scalar(n);

		if (n && n->type == YAML_MAPPING_NODE)
		{
			if (emit_inline_repository(inv, n, err) < 0)
				return -1;
			continue;
		}
		if (name == NULL)
			return pgb_error(err, EXIT_CONFIG, "%s:%d: a repository must be a name or a mapping {name: NAME, type: ..., ...}",
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
int
pigsty_members(Inventory *inv, yaml_node_t *hosts, PgbError *err)
{
	char		where[1024];

	if (inv_is_null(hosts))
		return 0;
	if (hosts->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"hosts\" must be a mapping", inv->path, NODE_LINE(hosts));
	if (inv_unique_keys(inv, hosts, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = hosts->data.mapping.pairs.start; p < hosts->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		yaml_node_t *hvars = yaml_document_get_node(&inv->doc, p->value);
		const char *addr = inv_scalar(knode);

		inv_where(inv, knode, where, sizeof(where));
		if (addr == NULL)
			return pgb_error(err, EXIT_CONFIG, "%s: a host must be an address", where);
		if (inv->member(inv->arg, addr, NULL, where, where, err) < 0)
			return -1;
		if (inv_is_null(hvars))
			continue;
		if (hvars->type != YAML_MAPPING_NODE)
			return pgb_error(err, EXIT_CONFIG, "%s: the variables of host %s must be a mapping", where, addr);
		for (const char *const *k = member_keys; *k; k++)
		{
			yaml_node_t *v = inv_map_get(inv, hvars, *k);
			const char *text = inv_scalar(v);

			if (inv_is_null(v))
				continue;
			inv_where(inv, v, where, sizeof(where));
			if (text == NULL)
				return pgb_error(err, EXIT_CONFIG, "%s: \"%s\" of host %s must be a single value", where, *k, addr);
			if (inv->member(inv->arg, addr, *k, text, where, err) < 0)
				return -1;
		}
	}
	return 0;
}

int
pigsty_vars(Inventory *inv, yaml_node_t *root, yaml_node_t *gvars, yaml_node_t *cvars, PgbError *err)
{
	PigstyVars *pv = &inv->pv;

	memset(pv, 0, sizeof(*pv));
	pigsty_collect(inv, root, pv);	/* a plain pgbkp file may use the same keys at the top */
	pigsty_collect(inv, gvars, pv);
	pigsty_collect(inv, cvars, pv);
	inv->pigsty = cvars != NULL && inv_map_get(inv, cvars, "pg_cluster") != NULL;
	inv->cluster = inv_scalar(pv->cluster);
	if (inv_emit(inv, "cluster", pv->cluster, "pg_cluster", err) < 0 ||
		inv_emit(inv, "pg-port", pv->port, "pg_port", err) < 0 ||
		inv_emit(inv, "pg-data", pv->data, "pg_data", err) < 0 ||
		inv_emit(inv, "pg-user", pv->dbsu, "pg_dbsu", err) < 0 ||
		inv_emit(inv, "patroni-port", pv->patroni_port, "patroni_port", err) < 0 ||
		inv_emit(inv, "patroni", pv->patroni_enabled, "patroni_enabled", err) < 0 ||
		inv_emit(inv, "patroni-ssl", pv->patroni_ssl, "patroni_ssl_enabled", err) < 0 ||
		(pv->log_dir ? inv_emit(inv, "log-path", pv->log_dir, "pgbackrest_log_dir", err) :
		 inv->pigsty ? inv_emit_default(inv, "log-path", PIGSTY_LOG_DIR, "pgbackrest_log_dir", err) : 0) < 0 ||
		inv_emit(inv, "replication-user", pv->repl_user, "pg_replication_username", err) < 0 ||
		(pv->patroni_user ? inv_emit(inv, "patroni-username", pv->patroni_user, "patroni_username", err) :
		 inv->pigsty ? inv_emit_default(inv, "patroni-username", PIGSTY_PATRONI_USER, "patroni_username", err) : 0) < 0 ||
		(pv->patroni_pass ? inv_emit(inv, "patroni-password", pv->patroni_pass, "patroni_password", err) :
		 inv->pigsty ? inv_emit_default(inv, "patroni-password", PIGSTY_PATRONI_PASS, "patroni_password", err) : 0) < 0)
		return -1;
	return 0;
}


/*
 * Pigsty's pg_crontab: its lines that run Pigsty's pg-backup script
 * ("00 01 * * * /pg/bin/pg-backup full"; no argument is incr) become backup
 * jobs of the schedule; other lines are not pgbkp's and are left alone.
 */
int
pigsty_crontab_jobs(Inventory *inv, yaml_node_t *list, PgbError *err)
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
		const char *line = inv_scalar(entry);
		char		copy[1024];
		char	   *f[8];
		int			nf = 0;
		int			ncron;
		const char *cmd;
		const char *type = "incr";
		char		cron[256] = "";
		char		index[16];
		char	   *save = NULL;

		inv_where(inv, entry, where, sizeof(where));
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
