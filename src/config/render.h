/*
 * Rendering one member's self-contained configuration file (see render.c).
 */
#ifndef PGBKP_RENDER_H
#define PGBKP_RENDER_H

#include <stdio.h>

#include "config/config.h"

/*
 * Write the configuration of cfg's own member (cfg->self, from --instance)
 * to out.  EXIT_CONFIG when the member is not known; EXIT_IO when out
 * cannot be written.
 */
int			config_render_member(const Config *cfg, FILE *out, PgbError *err);

/*
 * Write the pgbackrest.conf Pigsty's template renders for cfg's cluster
 * from the same inventory (render_pgbr.c).  EXIT_CONFIG without a
 * pgbackrest_repo repository; EXIT_IO when out cannot be written.
 */
int			config_render_pgbackrest(const Config *cfg, FILE *out, PgbError *err);

#endif
