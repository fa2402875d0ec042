/*
 * Command lines that run this pgbkp again (see selfcmd.h): the executable's
 * own path and every word shell-quoted, for PostgreSQL's archive_command and
 * restore_command and for the scheduler's jobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/selfcmd.h"
#include "common/fileio.h"
#include "restore/recovery_conf.h"

int
cmd_self_path(char *out, size_t len, PgbError *err)
{
	ssize_t		n = readlink("/proc/self/exe", out, len - 1);

	if (n < 0)
		return pgb_error(err, EXIT_IO, "could not determine the path of the pgbkp executable");
	out[n] = '\0';
	return 0;
}

int
cmd_self_command(const Config *cfg, const char *cluster, const char *repo, const char *tail,
				 char *out, size_t len, PgbError *err)
{
	char		self[PGB_PATH_MAX];
	char	   *q_self,
			   *q_cfg,
			   *q_cluster,
			   *q_repo_path,
			   *q_repo;
	/* --repo-path is passed on; configured repositories come from the file */
	bool		repo_path = cfg->repo_path && cfg->nrepos > 0 && strcmp(cfg->repos[0].name, "default") == 0;
	int			n = -1;

	if (cmd_self_path(self, sizeof(self), err) != 0)
		return -1;
	q_self = shell_quote(self);
	q_cfg = cfg->config_file ? shell_quote(cfg->config_file) : NULL;
	q_cluster = shell_quote(cluster);
	q_repo_path = repo_path ? shell_quote(cfg->repo_path) : NULL;
	q_repo = repo ? shell_quote(repo) : NULL;
	if (q_self && q_cluster && (q_cfg || !cfg->config_file) && (q_repo_path || !repo_path) && (q_repo || !repo))
		n = snprintf(out, len, "%s%s%s --cluster %s%s%s%s%s %s", q_self, q_cfg ? " --config " : "",
					 q_cfg ? q_cfg : "", q_cluster, q_repo_path ? " --repo-path " : "", q_repo_path ? q_repo_path : "",
					 q_repo ? " --repo " : "", q_repo ? q_repo : "", tail);
	free(q_self);
	free(q_cfg);
	free(q_cluster);
	free(q_repo_path);
	free(q_repo);
	if (n < 0)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if ((size_t) n >= len)
		return pgb_error(err, EXIT_CONFIG, "the pgbkp command line for PostgreSQL is too long");
	return 0;
}
