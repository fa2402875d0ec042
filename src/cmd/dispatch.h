/*
 * Running the command the configuration names: its handler, bound to its
 * row of the command table (config/options.h), run once or once per
 * repository, behind the primary gate when the row or --if-primary asks.
 */
#ifndef PGBKP_DISPATCH_H
#define PGBKP_DISPATCH_H

#include "config/config.h"

/*
 * Run cfg->command.  With CMDF_EACH_REPO and several repositories each
 * failure is logged as it happens (naming the repository) and the others
 * still run; the command then fails with the first failure's exit code.
 * On a replica behind the primary gate: "skipped", 0.
 */
int			cmd_run(Config *cfg, PgbError *err);

#endif
