/*
 * The primary gate, for commands that run on every node of a cluster but
 * work only on the primary (backup, and any command with --if-primary).
 */
#ifndef PGBKP_PRIMARY_GATE_H
#define PGBKP_PRIMARY_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/*
 * When the configuration lists the cluster's members and this machine's
 * member is known, ask the cluster which member is the primary now; on any
 * other member print "skipped: ... is a replica; the primary is ..." and set
 * *skip.  When this member is not known (or with --if-primary and no
 * members), the server at --pg-host decides: in recovery means skip.
 * Without members and without --if-primary nothing is asked.
 */
int			cmd_primary_gate(const Config *cfg, bool *skip, PgbError *err);

/* The other way round (--if-replica): on the primary print "skipped: ..." and set *skip. */
int			cmd_replica_gate(const Config *cfg, bool *skip, PgbError *err);

/*
 * Whether this machine's member is the primary now: 1 yes, 0 no, with a
 * line for messages in note ("pg-test-2 is a replica; the primary is
 * pg-test-1 (ADDR)"); -1 with err when it cannot be told.  The cluster is
 * asked when this member is known, else the server at --pg-host.
 */
int			cmd_member_role(const Config *cfg, char *note, size_t len, PgbError *err);

/* 1 when the server at --pg-host is in recovery, 0 when not, -1 with err when it cannot be asked. */
int			cmd_local_in_recovery(const Config *cfg, PgbError *err);

#endif
