/*
 * Running one step of pitr on a member's host: `pgbkp pitr-member ACTION`
 * with the same configuration, here when the member's address is one of
 * this machine's interfaces' addresses, else through ssh_command (words split
 * on blanks, no shell; then the member's address and the remote command
 * line, every word shell-quoted).  The same code path either way: the
 * step always runs in its own pgbkp process, as its own user.
 *
 * The step's result lines are "@key=value" on its output; its other lines
 * (log, error) are returned apart, for the caller to log.
 */
#ifndef PGBKP_MEMBER_EXEC_H
#define PGBKP_MEMBER_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

#define MEMBER_RESULT_MAX 32

typedef struct MemberResult
{
	int			status;			/* the step's exit status */
	int			nkeys;
	char	   *keys[MEMBER_RESULT_MAX];
	char	   *values[MEMBER_RESULT_MAX];
	char	   *text;			/* everything else it printed */
	char		error[PGB_ERRMSG_MAX];	/* its last "error:" line, without the prefix */
	char		hint[PGB_HINT_MAX];
} MemberResult;

/* Whether member m's address is one of this machine's interfaces' (exactly: not any of 127/8). */
bool		member_is_local(const ClusterMember *m);

/*
 * Run pitr-member with args (NULL-terminated, after the command word) for
 * member m.  Returns 0 when it ran (res->status tells how it ended), -1
 * with err when it could not be started.  *running holds the child's pid.
 */
int			member_exec(const Config *cfg, const ClusterMember *m, const char *const *args, MemberResult *res,
						volatile pid_t *running, PgbError *err);

/* A result's value for key, or NULL. */
const char *member_result(const MemberResult *res, const char *key);

/* The step's failure as an error: its own message and code, named for m. */
int			member_result_error(const MemberResult *res, const ClusterMember *m, const char *step, PgbError *err);

void		member_result_free(MemberResult *res);

#endif
