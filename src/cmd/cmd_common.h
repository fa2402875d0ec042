/*
 * What several commands share, one header for the command files: opening
 * the repository and the database (open.h), the primary gate
 * (primary_gate.h), waiting for WAL (wal_wait.h), command lines that run
 * pgbkp again (selfcmd.h), the backup lock (lock.h) and job records
 * (job_report.h).  A file may include only the ones it uses instead.
 */
#ifndef PGBKP_CMD_COMMON_H
#define PGBKP_CMD_COMMON_H

#include "cmd/job_report.h"
#include "cmd/lock.h"
#include "cmd/open.h"
#include "cmd/primary_gate.h"
#include "cmd/selfcmd.h"
#include "cmd/wal_wait.h"

#endif
