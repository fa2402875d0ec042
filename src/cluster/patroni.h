/*
 * Patroni's REST API, one member at a time: a member's state (GET
 * /patroni), the cluster's view (GET /cluster), and pausing or resuming
 * the cluster's automatic management (PATCH /config).  Requests that change
 * something send the REST API's basic-auth credentials (patroni_username /
 * patroni_password, Pigsty's inventory keys); they are given to libcurl
 * only, never put in a URL, a log line or an error.
 */
#ifndef PGBKP_PATRONI_H
#define PGBKP_PATRONI_H

#include "lib/libcurl.h"
#include <stdbool.h>

#include "config/config.h"

typedef struct PatroniMember
{
	char		state[32];		/* running, stopped, starting, ... ("" unknown) */
	char		role[32];		/* primary (Patroni's "master" too), replica, uninitialized */
	bool		pause;			/* the cluster is in maintenance mode */
	int			timeline;		/* 0 unknown */
	char		xlog[64];		/* the position Patroni reports, as text */
	unsigned long long replayed;	/* replica: replayed WAL position (bytes), 0 unknown */
	bool		nofailover;		/* tags */
	bool		noloadbalance;
} PatroniMember;

/* Set up easy for GET on path of member m (URL, TLS, timeouts, no proxy). */
void		patroni_setup(const Config *cfg, const ClusterMember *m, const char *path, CURL *easy);

/*
 * One request: method ("GET", "PATCH"), body (JSON or NULL).  *status is
 * the HTTP status, *resp the body (malloc'd; may be NULL).  -1 with
 * EXIT_DATABASE when the member did not answer.
 */
int			patroni_request(const Config *cfg, const ClusterMember *m, const char *method, const char *path,
							const char *body, long *status, char **resp, PgbError *err);

/* GET /patroni of m. */
int			patroni_member_state(const Config *cfg, const ClusterMember *m, PatroniMember *out, PgbError *err);

/*
 * PATCH /config {"pause": pause} through member m.  401/403 is EXIT_CONFIG
 * naming the credentials' keys.
 */
int			patroni_set_pause(const Config *cfg, const ClusterMember *m, bool pause, PgbError *err);

/*
 * POST /reinitialize {"force": true} to member m: Patroni stops PostgreSQL
 * there, removes its data directory and clones the leader with its
 * create_replica_methods.  Needs the REST API's credentials.
 */
int			patroni_reinitialize(const Config *cfg, const ClusterMember *m, PgbError *err);

/* Whether a member's role is the leader's ("master", "primary"). */
bool		patroni_role_is_primary(const char *role);

#endif
