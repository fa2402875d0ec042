/*
 * Which member of the cluster is the primary right now.  The inventory's
 * pg_role is only the initial role; the answer comes from the cluster at run
 * time:
 *
 *  - with Patroni (the default, as in Pigsty): GET /primary on every
 *    member's REST API at once (200 on the leader, 503 elsewhere), each with
 *    the member timeout;
 *  - without (--no-patroni / patroni_enabled: false): one libpq connection
 *    with every member in a multi-host conninfo and
 *    target_session_attrs=read-write; the host it reaches is the primary.
 *
 * An unreachable member is skipped with a note; no primary is EXIT_DATABASE
 * listing what each member answered; two members claiming to be primary
 * (Patroni split brain) is EXIT_REFUSED.
 */
#ifndef PGBKP_PRIMARY_H
#define PGBKP_PRIMARY_H

#include "config/config.h"

typedef enum MemberAnswer
{
	MEMBER_UNKNOWN = 0,
	MEMBER_PRIMARY,
	MEMBER_NOT_PRIMARY,			/* answered, not the leader (a replica, or stopped) */
	MEMBER_UNREACHABLE
} MemberAnswer;

typedef struct MemberProbe
{
	MemberAnswer answer;
	char		note[200];		/* "HTTP 503", "connection refused", ... */
} MemberProbe;

/*
 * Ask the cluster; *primary is the index into cfg->members.  probes (may be
 * NULL) has cfg->nmembers entries and receives each member's answer.
 */
int			cluster_find_primary(const Config *cfg, MemberProbe *probes, int *primary, PgbError *err);

#endif
