/*
 * Inside the YAML reader (inventory.c) and its Pigsty part (pigsty.c): the
 * loaded document with the caller's callbacks, the node helpers both use,
 * and what pigsty.c reads.  Not for other modules: they use inventory.h.
 */
#ifndef PGBKP_INVENTORY_INT_H
#define PGBKP_INVENTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config/inventory.h"

#define NODE_LINE(n) ((int) (n)->start_mark.line + 1)
#define PIGSTY_DEFAULTS "Pigsty v4.5.0 role default"

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
	yaml_node_t *patroni_user;	/* patroni_username */
	yaml_node_t *patroni_pass;	/* patroni_password */
} PigstyVars;

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
	InventoryRepoFn check;
	void	   *arg;
	PgbError	dup;			/* the first repeated key inv_map_get met; fails the load */
	PigstyVars	pv;				/* set by pigsty_vars */
} Inventory;

/* ---- node helpers (inventory.c) ---- */

/* Absent, or a plain null scalar ("", ~, null). */
bool		inv_is_null(const yaml_node_t *node);

/* The scalar's text, or NULL if node is absent, null or not a scalar. */
const char *inv_scalar(const yaml_node_t *node);

/* Refuse a mapping in which a key appears twice (it is read whole). */
int			inv_unique_keys(Inventory *inv, yaml_node_t *map, PgbError *err);

/*
 * The value of key in a mapping, else NULL.  A key found twice is recorded
 * in inv->dup, and the load fails with it.
 */
yaml_node_t *inv_map_get(Inventory *inv, yaml_node_t *map, const char *key);

/* Like inv_map_get, but the value must be a mapping (or absent/null); where names it. */
int			inv_map_get_map(Inventory *inv, yaml_node_t *map, const char *key, const char *where,
							yaml_node_t **out, PgbError *err);

/* "FILE:LINE" of node. */
void		inv_where(Inventory *inv, yaml_node_t *node, char *out, size_t len);

/* Hand one scalar to the caller as the value of option name (key: as the file spells it). */
int			inv_emit(Inventory *inv, const char *name, yaml_node_t *node, const char *key, PgbError *err);

/* Hand a Pigsty role default to the caller as the value of option name. */
int			inv_emit_default(Inventory *inv, const char *name, const char *value, const char *key,
							 PgbError *err);

/* ---- Pigsty (pigsty.c) ---- */

/*
 * Collect the Pigsty variables of the top level, all.vars and the cluster's
 * vars (later levels win) into inv->pv, and hand those that are options to
 * the caller; Pigsty's role default for the log directory when the cluster
 * is a Pigsty group.
 */
int			pigsty_vars(Inventory *inv, yaml_node_t *root, yaml_node_t *gvars, yaml_node_t *cvars,
						PgbError *err);

/*
 * The repositories: the names given (a pgbkp: section's list), else of
 * pgbackrest_method (one name or a list), else "local" when pgbackrest_repo
 * defines it.  Without any of these, pg_fs_backup is the repository
 * directory (as repo-path).  Needs pigsty_vars first.
 */
int			pigsty_repos(Inventory *inv, yaml_node_t *names, PgbError *err);

/* The members of the cluster's group (hosts: {ADDR: {pg_seq, ...}}), in file order. */
int			pigsty_members(Inventory *inv, yaml_node_t *hosts, PgbError *err);

/* The pg-backup lines of Pigsty's pg_crontab (list) as backup jobs. */
int			pigsty_crontab_jobs(Inventory *inv, yaml_node_t *list, PgbError *err);

#endif
