/*
 * The YAML reader for pgbkp's configuration file (see inventory.h).  The file
 * is loaded whole with libyaml's document API; then the cluster's group is
 * chosen, and the settings are reported lowest precedence first: the Pigsty
 * variables (cluster vars over all.vars; read by pigsty.c), then the pgbkp:
 * sections in all.vars, in the cluster's vars, and at the top level.  Keys
 * of an inventory that pgbkp does not use are ignored; inside a pgbkp:
 * section every key must be an option.
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
#include "config/inventory_int.h"
#include "config/schedjob.h"

bool
inv_is_null(const yaml_node_t *node)
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
const char *
inv_scalar(const yaml_node_t *node)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE || inv_is_null(node))
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
int
inv_unique_keys(Inventory *inv, yaml_node_t *map, PgbError *err)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		 p < map->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *k = inv_scalar(knode);

		if (k == NULL)
			continue;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
		{
			yaml_node_t *earlier = yaml_document_get_node(&inv->doc, q->key);
			const char *e = inv_scalar(earlier);

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
yaml_node_t *
inv_map_get(Inventory *inv, yaml_node_t *map, const char *key)
{
	yaml_node_t *found = NULL;
	yaml_node_t *found_key = NULL;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		 p < map->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *k = inv_scalar(knode);

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
int
inv_map_get_map(Inventory *inv, yaml_node_t *map, const char *key, const char *where,
			yaml_node_t **out, PgbError *err)
{
	yaml_node_t *node = inv_map_get(inv, map, key);

	*out = NULL;
	if (inv_is_null(node))
		return 0;
	if (node->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"%s\" must be a mapping",
						 inv->path, NODE_LINE(node), where);
	*out = node;
	return 0;
}

/* Hand one scalar to the caller as the value of option name. */
int
inv_emit(Inventory *inv, const char *name, yaml_node_t *node, const char *key,
	 PgbError *err)
{
	const OptionDef *opt = option_find(name);
	OptionSource src = {SRC_FILE, inv->path, 0, key};
	const char *text;

	if (inv_is_null(node))
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
int
inv_emit_default(Inventory *inv, const char *name, const char *value, const char *key, PgbError *err)
{
	OptionSource src = {SRC_FILE, PIGSTY_DEFAULTS, 0, key};
	const OptionDef *opt = option_find(name);

	if (opt == NULL)
		return pgb_error(err, EXIT_INTERNAL, "no option named \"%s\"", name);
	return inv->set(inv->arg, opt, value, &src, err);
}


/* "FILE:LINE" of node. */
void
inv_where(Inventory *inv, yaml_node_t *node, char *out, size_t len)
{
	snprintf(out, len, "%s:%d", inv->path, NODE_LINE(node));
}


/* Report every key of a pgbkp: section; unknown keys are errors. */
static int
load_section(Inventory *inv, yaml_node_t *section, PgbError *err)
{
	if (inv_is_null(section))
		return 0;
	if (section->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: section \"pgbkp\" must be a mapping",
						 inv->path, NODE_LINE(section));
	if (inv_unique_keys(inv, section, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = section->data.mapping.pairs.start;
		 p < section->data.mapping.pairs.top; p++)
	{
		yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
		const char *key = inv_scalar(knode);
		const OptionDef *opt = key ? option_find_yaml(key) : NULL;

		if (key && (strcmp(key, "repositories") == 0 || strcmp(key, "schedule") == 0 ||
					strcmp(key, "drill_checks") == 0))
			continue;			/* read by pigsty_repos, schedule_jobs and drill_checks */
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
		if (inv_emit(inv, opt->name, yaml_document_get_node(&inv->doc, p->value),
				 key, err) < 0)
			return -1;
	}
	return 0;
}

/* key of the pgbkp: sections, the top level first, then the cluster's and all's vars; NULL if none has it. */
static yaml_node_t *
section_key(Inventory *inv, yaml_node_t *gvars, yaml_node_t *cvars, yaml_node_t *top, const char *key)
{
	yaml_node_t *n;

	if ((n = inv_map_get(inv, top, key)) != NULL ||
		(n = inv_map_get(inv, inv_map_get(inv, cvars, "pgbkp"), key)) != NULL ||
		(n = inv_map_get(inv, inv_map_get(inv, gvars, "pgbkp"), key)) != NULL)
		return n;
	return NULL;
}

typedef int (*EntryKeyCheck) (const char *key, const char *where, PgbError *err);

/*
 * A list of mappings of single values (schedule, drill_checks), list
 * called name: each entry goes to fn as index ("1", "2", ...) with a NULL
 * key, then key by key; check refuses a key the entry cannot have.
 */
static int
mapping_list(Inventory *inv, yaml_node_t *list, const char *name, const char *plural, const char *singular,
			 const char *example, EntryKeyCheck check, InventoryRepoFn fn, PgbError *err)
{
	char		where[1024];
	int			n = 0;

	if (list->type != YAML_SEQUENCE_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: \"%s\" must be a list of %s", inv->path, NODE_LINE(list),
						 name, plural);
	for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++)
	{
		yaml_node_t *entry = yaml_document_get_node(&inv->doc, *i);
		char		index[16];

		snprintf(index, sizeof(index), "%d", ++n);
		inv_where(inv, entry, where, sizeof(where));
		if (entry->type != YAML_MAPPING_NODE)
			return pgb_error(err, EXIT_CONFIG, "%s: %s must be a mapping such as %s", where, singular, example);
		if (inv_unique_keys(inv, entry, err) < 0 || fn(inv->arg, index, NULL, where, where, err) < 0)
			return -1;
		for (yaml_node_pair_t *p = entry->data.mapping.pairs.start; p < entry->data.mapping.pairs.top; p++)
		{
			yaml_node_t *knode = yaml_document_get_node(&inv->doc, p->key);
			const char *k = inv_scalar(knode);
			const char *text = inv_scalar(yaml_document_get_node(&inv->doc, p->value));

			inv_where(inv, knode, where, sizeof(where));
			if (check(k, where, err) < 0)
				return -1;
			if (text == NULL)
				return pgb_error(err, EXIT_CONFIG, "%s: \"%s\" must be a single value", where, k);
			if (fn(inv->arg, index, k, text, where, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The schedule list of the pgbkp: sections (top level first), else Pigsty's pg_crontab. */
static int
schedule_jobs(Inventory *inv, yaml_node_t *gvars, yaml_node_t *cvars, yaml_node_t *top, PgbError *err)
{
	yaml_node_t *list = section_key(inv, gvars, cvars, top, "schedule");

	if (list == NULL)
	{
		yaml_node_t *crontab = inv_map_get(inv, cvars, "pg_crontab");

		if (crontab == NULL)
			crontab = inv_map_get(inv, gvars, "pg_crontab");
		return inv_is_null(crontab) ? 0 : pigsty_crontab_jobs(inv, crontab, err);
	}
	if (inv_is_null(list))
		return 0;
	return mapping_list(inv, list, "schedule", "jobs", "a schedule entry",
						"{cron: \"0 1 * * *\", command: backup, type: full}", schedjob_check_key, inv->job, err);
}

static int
drill_check_key(const char *k, const char *where, PgbError *err)
{
	static const char *const keys[] = {"name", "sql", "expect", "database", NULL};

	for (int j = 0; k && keys[j]; j++)
		if (strcmp(k, keys[j]) == 0)
			return 0;
	return pgb_error(err, EXIT_CONFIG, "%s: unknown key \"%s\" in a drill check (keys: name, sql, expect, database)",
					 where, k ? k : "(not a scalar)");
}

/* The drill_checks list of the pgbkp: sections (top level first): {name, sql, expect, database}. */
static int
drill_checks(Inventory *inv, yaml_node_t *gvars, yaml_node_t *cvars, yaml_node_t *top, PgbError *err)
{
	yaml_node_t *list = section_key(inv, gvars, cvars, top, "drill_checks");

	if (inv_is_null(list) || inv->check == NULL)
		return 0;
	return mapping_list(inv, list, "drill_checks", "checks", "a drill check",
						"{name: orders today, sql: \"SELECT count(*) FROM orders\", expect: \"> 0\"}",
						drill_check_key, inv->check, err);
}

/* The cluster key of a pgbkp: section, if it has one. */
static const char *
section_cluster(Inventory *inv, yaml_node_t *section)
{
	return inv_scalar(inv_map_get(inv, section, "cluster"));
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
	if (inv_unique_keys(inv, children, err) < 0)
		return -1;
	for (yaml_node_pair_t *p = children->data.mapping.pairs.start;
		 p < children->data.mapping.pairs.top; p++)
	{
		const char *group = inv_scalar(yaml_document_get_node(&inv->doc, p->key));
		yaml_node_t *gnode = yaml_document_get_node(&inv->doc, p->value);
		yaml_node_t *gvars = inv_map_get(inv, gnode, "vars");
		const char *pg_cluster = inv_scalar(inv_map_get(inv, gvars, "pg_cluster"));

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

	if (root == NULL || inv_is_null(root))
		return 0;				/* empty file */
	if (root->type != YAML_MAPPING_NODE)
		return pgb_error(err, EXIT_CONFIG, "%s:%d: expected a mapping at the top level",
						 inv->path, NODE_LINE(root));
	top_section = inv_map_get(inv, root, "pgbkp");
	if (inv_map_get_map(inv, root, "all", "all", &all, err) < 0 ||
		inv_map_get_map(inv, all, "vars", "all.vars", &gvars, err) < 0 ||
		inv_map_get_map(inv, all, "children", "all.children", &children, err) < 0)
		return -1;

	if (cluster == NULL)
		cluster = section_cluster(inv, top_section);
	if (cluster == NULL)
		cluster = section_cluster(inv, inv_map_get(inv, gvars, "pgbkp"));
	if (select_cluster(inv, children, cluster, &cvars, &group, err) < 0)
		return -1;

	if (pigsty_vars(inv, root, gvars, cvars, err) < 0 ||
		pigsty_repos(inv, section_key(inv, gvars, cvars, top_section, "repositories"), err) < 0 ||
		pigsty_members(inv, inv_map_get(inv, group, "hosts"), err) < 0 ||
		schedule_jobs(inv, gvars, cvars, top_section, err) < 0 ||
		drill_checks(inv, gvars, cvars, top_section, err) < 0)
		return -1;

	if (load_section(inv, inv_map_get(inv, gvars, "pgbkp"), err) < 0 ||
		load_section(inv, inv_map_get(inv, cvars, "pgbkp"), err) < 0 ||
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
	.job = cb->job, .check = cb->check, .arg = arg};
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

