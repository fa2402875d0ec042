/*
 * The members of the cluster (the inventory group's hosts) and which one
 * this pgbkp runs for.  A member is named <pg_cluster>-<pg_seq>, as Pigsty
 * names instances; pg_role is kept only for display (the primary is always
 * asked at run time, see cluster/primary.h).
 */
#ifndef PGBKP_MEMBERS_H
#define PGBKP_MEMBERS_H

#include "config/config.h"

/* A new member at addr, or one more key of the last one (InventoryRepoFn shape). */
int			members_add(Config *cfg, const char *addr, const char *key, const char *value,
						const char *where, PgbError *err);

/*
 * Names and defaults (pg_port: default_port, the file's value, never the
 * command line's, which means this machine's server; patroni_port from the
 * options), then this
 * machine's member: --instance, else --host, else the member whose address
 * is one of this machine's (none or several: self = -1, with self_note).
 * An unknown --instance or --host is EXIT_CONFIG naming the members.
 * take_port/take_data/take_host: whether the member's host variables may
 * set pg_port, pg_data and pg_host (not when given on the command line or
 * in the environment).
 */
int			members_resolve(Config *cfg, int default_port, bool take_port, bool take_data, bool take_host,
							PgbError *err);

void		members_free(Config *cfg);

#endif
