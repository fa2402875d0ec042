/*
 * pgbkp config --render-pgbackrest: the pgbackrest.conf that Pigsty's
 * pgsql role renders for this cluster (/etc/pgbackrest/pgbackrest.conf),
 * from the same inventory, so that a site can compare it with the file it
 * has or make it again.  Written from Pigsty's documented layout (v4.5):
 *
 *   [CLUSTER]            pg1-path and pg1-port of the cluster
 *   [global]             asynchronous archiving with a 4GiB queue, the
 *                        cluster's annotation, automatic expiry, fast
 *                        start, zst compression, the spool and the log
 *                        directory, then repo1-KEY=VALUE for every key of
 *                        the pgbackrest_method's pgbackrest_repo entry in
 *                        its order (KEY with '_' as '-', ${pg_cluster}
 *                        already substituted by the inventory reader), and
 *                        delta restores
 *   [global:backup], [global:restore], [global:archive-get],
 *   [global:archive-push]  process-max from this host's processor count
 *                        (Pigsty takes the target node's: ceil(cpu/4)
 *                        within 2..4, restore min(cpu, 8))
 *
 * Pigsty's ivory mode lines (pg_mode: ivory) are not rendered.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/render.h"

#define PIGSTY_SPOOL "/pg/spool"
#define PIGSTY_LOG_DIR "/pg/log/pgbackrest"
#define PIGSTY_PG_DATA "/pg/data"

/*
 * The repository Pigsty writes as repo1: the first configured one with an
 * entry of its own (pgbackrest_method's pgbackrest_repo entry, or Pigsty's
 * role default for it), or NULL.
 */
static const RepoDef *
pigsty_repository(const Config *cfg)
{
	for (int i = 0; i < cfg->nrepos; i++)
		if (cfg->repos[i].type != REPO_TYPE_PGBACKREST && cfg->repos[i].entry_lines)
			return &cfg->repos[i];
	return NULL;
}

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int
config_render_pgbackrest(const Config *cfg, FILE *out, PgbError *err)
{
	const RepoDef *def = pigsty_repository(cfg);
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int			cpu = ncpu > 0 ? (int) ncpu : 1;
	int			small = clamp((cpu + 3) / 4, 2, 4);

	if (def == NULL)
	{
		pgb_error(err, EXIT_CONFIG, "no Pigsty repository to render: the configuration has no pgbackrest_repo entry "
				  "of pgbackrest_method");
		return pgb_hint(err, "point --config at the Pigsty inventory (pigsty.yml) and --cluster at the cluster");
	}
	fprintf(out, "[%s]\n", cfg->cluster);
	fprintf(out, "pg1-path=%s\n", cfg->pg_data ? cfg->pg_data : PIGSTY_PG_DATA);
	fprintf(out, "pg1-port=%d\n", cfg->pg_port > 0 ? cfg->pg_port : 5432);
	fprintf(out, "\n[global]\n");
	fprintf(out, "archive-async=y\narchive-push-queue-max=4GiB\n");
	fprintf(out, "annotation=pg_cluster=%s\nexpire-auto=y\nstart-fast=y\n", cfg->cluster);
	fprintf(out, "compress-type=zst\nspool-path=%s\n", PIGSTY_SPOOL);
	fprintf(out, "log-path=%s\nlog-level-file=info\nlog-level-console=info\n",
			cfg->log_path ? cfg->log_path : PIGSTY_LOG_DIR);
	for (const char *line = def->entry_lines; *line;)
	{
		size_t		len = strcspn(line, "\n");
		size_t		klen = strcspn(line, "=");

		fputs("repo1-", out);
		for (size_t i = 0; i < klen; i++)
			fputc(line[i] == '_' ? '-' : line[i], out);
		fprintf(out, "%.*s\n", (int) (len - klen), line + klen);
		line += len + (line[len] == '\n');
	}
	fprintf(out, "delta=y\n");
	fprintf(out, "\n[global:backup]\nprocess-max=%d\n", small);
	fprintf(out, "\n[global:restore]\nprocess-max=%d\n", cpu < 8 ? cpu : 8);
	fprintf(out, "\n[global:archive-get]\nprocess-max=%d\n", small);
	fprintf(out, "\n[global:archive-push]\nprocess-max=%d\n", small);
	if (fflush(out) != 0 || ferror(out))
		return pgb_error(err, EXIT_IO, "could not write the rendered pgbackrest.conf");
	return 0;
}
