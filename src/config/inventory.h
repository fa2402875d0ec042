/*
 * Settings from a YAML file: a `pgbkp:` section whose keys are the options'
 * YAML keys, a Pigsty inventory (all.vars and all.children.<cluster>.vars),
 * or both in one file.  This module only reads YAML and decides which value
 * wins inside the file; it hands each setting, with its file and line, to a
 * caller-supplied function that parses and stores it.
 */
#ifndef PGBKP_INVENTORY_H
#define PGBKP_INVENTORY_H

#include "common/error.h"
#include "config/options.h"

/*
 * Receives one setting; value is the YAML scalar's text, src names the file,
 * line and key.  Settings arrive in increasing order of precedence, so a
 * later one for the same option replaces an earlier one.  Returns 0, or -1
 * with err set to stop the load.
 */
typedef int (*InventorySetFn) (void *arg, const OptionDef *opt, const char *value,
							   const OptionSource *src, PgbError *err);

/*
 * Receives the configured repositories in order: first with key NULL (a new
 * repository called name; value is where it is defined, "FILE:LINE"), then
 * each of its keys with the key's text (value) and where.  Returns 0, or -1
 * with err set to stop the load.
 */
typedef int (*InventoryRepoFn) (void *arg, const char *name, const char *key,
								const char *value, const char *where, PgbError *err);

/*
 * Read path and report its settings through set, the members of the
 * cluster's group (hosts: {ADDR: {pg_seq, pg_role, pg_port, pg_data, pg_host,
 * patroni_port}}) through member, in the same way as repositories (name is
 * the address), the schedule (pgbkp.schedule: a list of {cron, command,
 * type, name, jitter}) through job, and its repositories
 * (pgbkp.repositories, else pgbackrest_method, each from its
 * pgbackrest_repo entry) through repo.  cluster selects the
 * inventory group (by group name or pg_cluster); NULL means the `cluster`
 * key of a pgbkp: section, else the only group that has pg_cluster.
 * Within the file: pgbkp: sections > cluster vars > all.vars.
 * A key pgbkp reads that appears twice in one mapping is an error.
 * Errors are EXIT_CONFIG and name the file (and line, where there is one).
 */
typedef struct InventoryCallbacks
{
	InventorySetFn set;			/* options */
	InventoryRepoFn repo;		/* repositories */
	InventoryRepoFn member;		/* cluster members (name: the address) */
	InventoryRepoFn job;		/* schedule entries (name: "1", "2", ...) */
	InventoryRepoFn check;		/* drill_checks entries (name: "1", "2", ...) */
} InventoryCallbacks;

int			inventory_load(const char *path, const char *cluster,
						   const InventoryCallbacks *cb, void *arg, PgbError *err);

#endif
