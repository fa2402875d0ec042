/* Choosing the replica a backup reads from (see standby.h). */
#include <stdio.h>
#include <string.h>

#include "cluster/patroni.h"
#include "cluster/standby.h"

int
standby_choose(const Config *cfg, int *chosen, int *primary, char *why, size_t len, PgbError *err)
{
	PatroniMember st[CONFIG_MAX_MEMBERS];
	char		states[PGB_ERRMSG_MAX / 2] = "";
	size_t		ns = 0;
	int			best = -1;

	*chosen = *primary = -1;
	why[0] = '\0';
	if (!cfg->patroni)
		return pgb_error(err, EXIT_CONFIG, "backup_standby %s needs Patroni to choose the replica",
						 cfg->backup_standby),
			pgb_hint(err, "set backup_standby: off, or manage the cluster with Patroni");
	for (int i = 0; i < cfg->nmembers; i++)
	{
		PgbError	e = {0};
		const char *reason = NULL;

		if (patroni_member_state(cfg, &cfg->members[i], &st[i], &e) != 0)
			reason = "Patroni unreachable";
		else if (patroni_role_is_primary(st[i].role))
		{
			if (strcmp(st[i].state, "running") == 0)
				*primary = i;
			reason = "primary";
		}
		else if (strcmp(st[i].role, "replica") != 0)
			reason = st[i].role[0] ? st[i].role : "no role";
		else if (strcmp(st[i].state, "running") != 0 && strcmp(st[i].state, "streaming") != 0)
			reason = st[i].state[0] ? st[i].state : "not running";
		else if (st[i].nofailover || st[i].noloadbalance)
			reason = st[i].nofailover ? "tagged nofailover" : "tagged noloadbalance";
		else if (best < 0 || st[i].replayed > st[best].replayed)
			best = i;
		if (reason)
			ns += (size_t) snprintf(states + ns, ns < sizeof(states) ? sizeof(states) - ns : 0, "%s%s: %s",
									ns ? "; " : "", cfg->members[i].name, reason);
	}
	if (best >= 0)
	{
		*chosen = best;
		snprintf(why, len, "the backup reads from replica %s (%s), the healthy replica furthest along",
				 cfg->members[best].name, cfg->members[best].addr);
		return 0;
	}
	if (strcmp(cfg->backup_standby, "require") == 0 || *primary < 0)
		return pgb_error(err, EXIT_DATABASE, "no healthy streaming replica to back up from (%s)", states),
			pgb_hint(err, "backup_standby: prefer backs up from the primary then");
	*chosen = *primary;
	snprintf(why, len, "no healthy replica (%s): the backup reads from the primary", states);
	return 0;
}
