/* Repository namespace and cluster.info (see repo.h; format in repo/FORMAT.md). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common/fileio.h"
#include "repo/objio.h"
#include "repo/repo.h"
#include "storage/posix.h"

#define CLUSTER_INFO "cluster.info"
#define INFO_MAX (64 * 1024)

int
repo_cluster_name_check(const char *name, PgbError *err)
{
	size_t		len = name ? strlen(name) : 0;

	if (len == 0)
		return pgb_error(err, EXIT_CONFIG, "no cluster name given"),
			pgb_hint(err, "use --cluster NAME, PGBKP_CLUSTER, or pg_cluster in the configuration file");
	if (len > REPO_CLUSTER_NAME_MAX || name[0] == '.' ||
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return pgb_error(err, EXIT_CONFIG,
						 "invalid cluster name \"%s\": expected 1 to %d letters, digits, '_', '.' or '-', not starting with '.'",
						 name, REPO_CLUSTER_NAME_MAX);
	return 0;
}

int
repo_path(const Repo *repo, char *out, const char *fmt,...)
{
	char		rel[PGB_PATH_MAX];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(rel))
		return -1;
	n = snprintf(out, PGB_PATH_MAX, "%s/%s", repo->cluster, rel);
	return n < 0 || n >= PGB_PATH_MAX ? -1 : 0;
}

static Repo *
repo_new(const char *repo_path_arg, const char *cluster, PgbError *err)
{
	Repo	   *repo;

	if (repo_cluster_name_check(cluster, err) != 0)
		return NULL;
	if (repo_path_arg == NULL || repo_path_arg[0] == '\0')
	{
		pgb_error(err, EXIT_CONFIG, "no repository given");
		pgb_hint(err, "use --repo-path DIR, PGBKP_REPO_PATH, or repo_path / pg_fs_backup in the configuration file");
		return NULL;
	}
	repo = calloc(1, sizeof(Repo));
	if (repo == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	strcpy(repo->cluster, cluster);
	repo->storage = storage_posix_new(repo_path_arg, err);
	if (repo->storage == NULL)
	{
		free(repo);
		return NULL;
	}
	return repo;
}

static char *
info_to_json(const RepoClusterInfo *info)
{
	json_object *o = json_object_new_object();
	char		buf[32];
	char	   *text;

	json_object_object_add(o, "format", json_object_new_int(info->format));
	snprintf(buf, sizeof(buf), "%" PRIu64, info->system_identifier);
	json_object_object_add(o, "system_identifier", json_object_new_string(buf));
	json_object_object_add(o, "pg_version", json_object_new_int(info->pg_version));
	json_object_object_add(o, "wal_segment_size", json_object_new_int64((int64_t) info->wal_segment_size));
	json_object_object_add(o, "block_size", json_object_new_int((int) info->block_size));
	json_object_object_add(o, "created", json_object_new_int64(info->created));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return text;
}

static int
json_get_int64(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

static int
info_from_json(const char *text, RepoClusterInfo *info, PgbError *err)
{
	json_object *o = json_tokener_parse(text);
	json_object *v;
	int64_t		format,
				version,
				segsize,
				blcksz,
				created;
	char	   *end;
	int			rc = 0;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
		json_get_int64(o, "format", &format) != 0 ||
		json_get_int64(o, "pg_version", &version) != 0 ||
		json_get_int64(o, "wal_segment_size", &segsize) != 0 ||
		json_get_int64(o, "block_size", &blcksz) != 0 ||
		json_get_int64(o, "created", &created) != 0 ||
		!json_object_object_get_ex(o, "system_identifier", &v) ||
		!json_object_is_type(v, json_type_string))
		rc = pgb_error(err, EXIT_CORRUPT, "malformed cluster.info");
	else if (format != REPO_FORMAT_VERSION)
		rc = pgb_error(err, EXIT_CORRUPT, "repository format %lld is not supported (this pgbkp reads format %d)",
					   (long long) format, REPO_FORMAT_VERSION);
	else
	{
		info->format = (int) format;
		info->pg_version = (int) version;
		info->wal_segment_size = (uint64_t) segsize;
		info->block_size = (uint32_t) blcksz;
		info->created = created;
		info->system_identifier = strtoull(json_object_get_string(v), &end, 10);
		if (*end != '\0')
			rc = pgb_error(err, EXIT_CORRUPT, "malformed system_identifier in cluster.info");
	}
	json_object_put(o);
	return rc;
}

static int
load_info(Repo *repo, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text;

	repo_path(repo, path, CLUSTER_INFO);
	if (objio_get_mem(repo->storage, path, OBJECT_KIND_INFO, INFO_MAX, &text, NULL, err) != 0)
	{
		if (err->code == EXIT_NOT_FOUND)
		{
			pgb_error(err, EXIT_NOT_FOUND, "cluster \"%s\" is not initialized in repository \"%s\"",
					  repo->cluster, storage_description(repo->storage));
			pgb_hint(err, "run \"pgbkp init\" with the same --cluster and --repo-path");
		}
		return -1;
	}
	if (info_from_json(text, &repo->info, err) != 0)
	{
		free(text);
		return pgb_error_context(err, "\"%s/%s\"", storage_description(repo->storage), path);
	}
	free(text);
	return 0;
}

Repo *
repo_open(const char *repo_path_arg, const char *cluster, PgbError *err)
{
	Repo	   *repo = repo_new(repo_path_arg, cluster, err);

	if (repo == NULL)
		return NULL;
	if (load_info(repo, err) != 0)
	{
		repo_free(repo);
		return NULL;
	}
	return repo;
}

Repo *
repo_init(const char *repo_path_arg, const char *cluster, const RepoClusterInfo *info,
		  bool *created, PgbError *err)
{
	Repo	   *repo = repo_new(repo_path_arg, cluster, err);
	char		path[PGB_PATH_MAX];
	char	   *text;
	bool		existed = false;

	if (repo == NULL)
		return NULL;
	*created = false;
	repo_path(repo, path, CLUSTER_INFO);
	text = info_to_json(info);
	if (text == NULL ||
		objio_put_mem(repo->storage, path, OBJECT_KIND_INFO, 3, text, strlen(text),
					  true, &existed, NULL, err) != 0)
	{
		if (text == NULL)
			pgb_error(err, EXIT_INTERNAL, "out of memory");
		free(text);
		repo_free(repo);
		return NULL;
	}
	free(text);
	if (!existed)
	{
		*created = true;
		repo->info = *info;
		return repo;
	}
	if (load_info(repo, err) != 0)
	{
		repo_free(repo);
		return NULL;
	}
	if (repo->info.system_identifier != info->system_identifier)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "cluster \"%s\" in repository \"%s\" belongs to database system %" PRIu64 ", but the server is system %" PRIu64,
				  cluster, storage_description(repo->storage), repo->info.system_identifier, info->system_identifier);
		pgb_hint(err, "use another --cluster name, or another repository, for a different database system");
		repo_free(repo);
		return NULL;
	}
	return repo;
}

void
repo_free(Repo *repo)
{
	if (repo == NULL)
		return;
	storage_free(repo->storage);
	free(repo);
}
