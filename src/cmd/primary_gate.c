/*
 * The primary gate (see primary_gate.h): whether this machine's member of
 * the cluster is the primary now, asked of the cluster when the member is
 * known and of the server at --pg-host otherwise; commands that only work
 * on the primary say "skipped" on the others.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/primary.h"
#include "cluster/standby.h"
#include "config/options.h"
#include "cmd/open.h"
#include "cmd/primary_gate.h"
#include "common/log.h"

/* Whether the server pgbkp connects to (--pg-host) is in recovery; -1 with err when it cannot be asked. */
int
cmd_local_in_recovery(const Config *cfg, PgbError *err)
{
	DbConn	   *conn = cmd_connect(cfg, err);
	DbServerInfo si;
	int			rc;

	if (conn == NULL)
		return -1;
	rc = db_server_info(conn, &si, err) == 0 ? si.in_recovery : -1;
	db_close(conn);
	return rc;
}

int
cmd_member_role(const Config *cfg, char *note, size_t len, PgbError *err)
{
	int			primary;
	int			r;

	note[0] = '\0';
	if (cfg->nmembers > 0 && cfg->self >= 0)
	{
		const ClusterMember *self = &cfg->members[cfg->self];

		if (cluster_find_primary(cfg, NULL, &primary, err) != 0)
			return -1;
		if (primary == cfg->self)
		{
			snprintf(note, len, "%s (%s) is the primary of cluster \"%s\"", self->name, self->addr, cfg->cluster);
			return 1;
		}
		snprintf(note, len, "%s is a replica; the primary is %s (%s)", self->name,
				 cfg->members[primary].name, cfg->members[primary].addr);
		return 0;
	}
	/* this machine's member is unknown: the local server's own role decides */
	if ((r = cmd_local_in_recovery(cfg, err)) < 0)
		return -1;
	if (r == 1)
		snprintf(note, len, "the server at %s port %d is a replica", cfg->pg_host ? cfg->pg_host : "the local socket",
				 cfg->pg_port);
	return !r;
}

/* backup with backup_standby prefer|require: the chosen member runs, the others skip. */
static int
standby_gate(const Config *cfg, bool *skip, PgbError *err)
{
	char		why[PGB_ERRMSG_MAX];
	int			chosen,
				primary;

	if (cfg->self < 0)
		return pgb_error(err, EXIT_CONFIG, "cannot tell which member of cluster \"%s\" this is (%s)", cfg->cluster,
						 cfg->self_note),
			pgb_hint(err, "name it with --instance");
	if (standby_choose(cfg, &chosen, &primary, why, sizeof(why), err) != 0)
	{
		/* with require and no replica, only the primary reports the failure */
		if (primary >= 0 && primary != cfg->self)
		{
			*skip = true;
			printf("skipped: %s is not the primary, which reports: %s\n", cfg->members[cfg->self].name, err->msg);
			fflush(stdout);
			pgb_error_clear(err);
			return 0;
		}
		return -1;
	}
	if (chosen == cfg->self)
	{
		log_info("%s", why);
		return 0;
	}
	*skip = true;
	printf("skipped: %s\n", why);
	fflush(stdout);
	return 0;
}

int
cmd_primary_gate(const Config *cfg, bool *skip, PgbError *err)
{
	char		note[512];

	*skip = false;
	if (cfg->command_id == CMD_BACKUP && cfg->nmembers > 0 && cfg->backup_standby &&
		strcmp(cfg->backup_standby, "off") != 0)
		return standby_gate(cfg, skip, err);
	if (cfg->nmembers == 0 && !cfg->if_primary)
		return 0;
	if (cfg->nmembers > 0 && cfg->self < 0)
		log_info("cannot tell which member of cluster \"%s\" this is (%s); asking the server at --pg-host",
				 cfg->cluster, cfg->self_note);
	switch (cmd_member_role(cfg, note, sizeof(note), err))
	{
		case 1:
			if (note[0])
				log_info("%s", note);
			return 0;
		case 0:
			*skip = true;
			printf("skipped: %s\n", note);
			fflush(stdout);
			return 0;
		default:
			return -1;
	}
}

int
cmd_replica_gate(const Config *cfg, bool *skip, PgbError *err)
{
	char		note[512];

	*skip = false;
	switch (cmd_member_role(cfg, note, sizeof(note), err))
	{
		case 1:
			*skip = true;
			printf("skipped: this member is the primary; the job runs on a replica (run_on: replica)\n");
			fflush(stdout);
			return 0;
		case 0:
			if (note[0])
				log_info("%s", note);
			return 0;
		default:
			return -1;
	}
}
