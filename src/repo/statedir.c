/* pgbkp's state directory as a cluster namespace (see statedir.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/statedir.h"
#include "storage/posix.h"

Repo *
statedir_open(const char *path, const char *cluster, PgbError *err)
{
	Repo	   *repo;

	if (path == NULL || path[0] != '/')
	{
		pgb_error(err, EXIT_CONFIG, "the state directory must be an absolute path, not \"%s\"", path ? path : "");
		pgb_hint(err, "set state_path (--state-path)");
		return NULL;
	}
	if (repo_cluster_name_check(cluster, err) != 0)
		return NULL;
	if ((repo = calloc(1, sizeof(Repo))) == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	snprintf(repo->cluster, sizeof(repo->cluster), "%s", cluster);
	snprintf(repo->name, sizeof(repo->name), "state");
	if ((repo->storage = storage_posix_new(path, err)) == NULL)
	{
		free(repo);
		pgb_error_context(err, "state directory");
		return NULL;
	}
	return repo;
}
