/*
 * Which member a backup reads its data files from when backup_standby is
 * prefer or require: the streaming replica that has replayed the most WAL
 * (Patroni's state "running", role replica, not tagged nofailover or
 * noloadbalance), asked of every member's Patroni at run time.  With
 * prefer and no such replica, the primary.
 */
#ifndef PGBKP_STANDBY_H
#define PGBKP_STANDBY_H

#include "config/config.h"

/*
 * *chosen: index into cfg->members of the member that backs up, *primary:
 * the primary's (-1 when there is none).  With require and no healthy
 * replica: EXIT_DATABASE naming each member's state.  why gets a line on
 * the choice.
 */
int			standby_choose(const Config *cfg, int *chosen, int *primary, char *why, size_t len, PgbError *err);

#endif
