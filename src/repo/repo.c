/* Repository namespace and cluster.info (see repo.h; format in repo/FORMAT.md). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common/fileio.h"
#include "pg/lsn.h"
#include "repo/objio.h"
#include "repo/repo.h"
#include <openssl/crypto.h>

#include "repo/keycache.h"
#include "repo/keyring.h"
#include "storage/cipher.h"
#include "storage/posix.h"
#include "storage/s3/s3.h"

#define CLUSTER_INFO "cluster.info"
#define ENCRYPTION_INFO "encryption.info"
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

/* The storage a repository definition describes (no I/O yet). */
static Storage *
storage_for(const RepoDef *def, PgbError *err)
{
	S3Options	o = {0};

	if (def->type == REPO_TYPE_POSIX)
		return storage_posix_new(def->path, err);
	o.endpoint = def->s3_endpoint;
	o.port = def->storage_port;
	o.region = def->s3_region;
	o.bucket = def->s3_bucket;
	o.prefix = def->path;
	o.access_key = def->s3_key;
	o.secret_key = def->s3_key_secret;
	o.host_style = def->s3_host_style;
	o.ca_file = def->storage_ca_file;
	o.verify_tls = def->storage_verify_tls;
	o.part_size = (size_t) def->s3_part_size * 1024 * 1024;
	o.io_timeout = def->io_timeout;
	return storage_s3_new(&o, err);
}

static Repo *
repo_new(const RepoDef *def, const char *cluster, PgbError *err)
{
	Repo	   *repo;

	if (repo_cluster_name_check(cluster, err) != 0)
		return NULL;
	if (def == NULL)
	{
		pgb_error(err, EXIT_CONFIG, "no repository given");
		pgb_hint(err, "use --repo-path DIR, PGBKP_REPO_PATH, or pgbackrest_repo / pg_fs_backup in the configuration file");
		return NULL;
	}
	if (def->type == REPO_TYPE_PGBACKREST)
	{
		/* pgBackRest's repository is read and written only by pgBackRest (src/pgbackrest/) */
		pgb_error(err, EXIT_CONFIG, "repository \"%s\" is pgBackRest's (type pgbackrest): "
				  "this command does not work on it yet", def->name);
		pgb_hint(err, "backup, info, status, restore, verify, expire and check run pgBackRest on it; "
				 "use --repo to choose another repository");
		return NULL;
	}
	repo = calloc(1, sizeof(Repo));
	if (repo == NULL)
	{
		pgb_error(err, EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	strcpy(repo->cluster, cluster);
	snprintf(repo->name, sizeof(repo->name), "%s", def->name);
	repo->storage = storage_for(def, err);
	if (repo->storage == NULL)
	{
		free(repo);
		return NULL;
	}
	return repo;
}

/*
 * Encryption (repo/FORMAT.md, "Encryption"): the cluster's key file,
 * kept in plain text, holds the data key wrapped under the passphrase.  When
 * it exists the passphrase must open it; then every other object goes through
 * the encrypting storage.  *found tells whether the key file exists.
 */
static int
open_encryption(Repo *repo, const RepoDef *def, bool *found, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	uint8_t    *text;
	size_t		len;
	uint8_t		key[32];
	Storage    *wrapped;

	*found = false;
	repo_path(repo, path, ENCRYPTION_INFO);
	if (storage_read_all(repo->storage, path, INFO_MAX, &text, &len, err) != 0)
	{
		if (err->code != EXIT_NOT_FOUND)
			return -1;
		pgb_error_clear(err);
		return 0;
	}
	*found = true;
	if (!def->encrypted)
	{
		free(text);
		pgb_error(err, EXIT_CONFIG, "cluster \"%s\" in repository \"%s\" is encrypted, but no cipher_type is set for it",
				  repo->cluster, repo->name);
		return pgb_hint(err, "set cipher_type and cipher_pass in pgbackrest_repo.%s", repo->name);
	}
	/* the deliberate KDF once per host and key file, not once per WAL segment (repo/keycache.h) */
	if (!keycache_get((const char *) text, def->cipher_pass, key))
	{
		if (keyring_open((const char *) text, def->cipher_pass, key, err) != 0)
		{
			free(text);
			return pgb_error_context(err, "repository \"%s\"", repo->name);
		}
		keycache_put((const char *) text, def->cipher_pass, key);
	}
	free(text);
	wrapped = storage_cipher_new(repo->storage, key, err);
	OPENSSL_cleanse(key, sizeof(key));
	if (wrapped == NULL)
		return -1;
	repo->storage = wrapped;
	repo->encrypted = true;
	return 0;
}

/* A new key file for an encrypted repository (or the one a concurrent init just wrote). */
static int
create_encryption(Repo *repo, const RepoDef *def, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	char	   *text = NULL;
	uint8_t		key[32];
	bool		existed = false;
	bool		found;
	StorageWrite *w;

	repo_path(repo, path, ENCRYPTION_INFO);
	if (keyring_create(def->cipher_pass, &text, key, err) != 0)
		return -1;
	OPENSSL_cleanse(key, sizeof(key));
	w = storage_open_write(repo->storage, path, err);
	if (w == NULL || storage_write(w, text, strlen(text), err) != 0 ||
		storage_commit(w, true, &existed, err) != 0)
	{
		if (w && !pgb_error_is_set(err))
			pgb_error(err, EXIT_IO, "could not write the key file");
		free(text);
		return -1;
	}
	free(text);
	return open_encryption(repo, def, &found, err);
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
	else if (segsize < 0 || !wal_segment_size_valid((uint64_t) segsize))
		rc = pgb_error(err, EXIT_CORRUPT, "malformed cluster.info: WAL segment size %lld", (long long) segsize);
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

/*
 * cipher_type is set but the namespace has no key file: refuse a namespace
 * that already holds plain data (it cannot be encrypted in place).
 */
static int
plain_namespace_check(Repo *repo, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	StorageInfo si;

	repo_path(repo, path, CLUSTER_INFO);
	if (storage_info(repo->storage, path, &si, err) != 0)
		return -1;
	if (!si.exists)
		return 0;
	pgb_error(err, EXIT_CONFIG, "cluster \"%s\" in repository \"%s\" is not encrypted, but cipher_type is set for it",
			  repo->cluster, repo->name);
	return pgb_hint(err, "a repository cannot be encrypted in place: use a new repository (or path) for encrypted backups, "
					"or remove cipher_type");
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
			pgb_error(err, EXIT_NOT_FOUND, "cluster \"%s\" is not initialized in repository \"%s\" (%s)",
					  repo->cluster, repo->name, storage_description(repo->storage));
			pgb_hint(err, "run \"pgbkp init\" with the same --cluster and repository settings");
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
repo_open(const RepoDef *def, const char *cluster, PgbError *err)
{
	Repo	   *repo = repo_new(def, cluster, err);
	bool		encrypted;

	if (repo == NULL)
		return NULL;
	if (open_encryption(repo, def, &encrypted, err) != 0 ||
		(!encrypted && def->encrypted && plain_namespace_check(repo, err) != 0) ||
		load_info(repo, err) != 0)
	{
		repo_free(repo);
		return NULL;
	}
	return repo;
}

Repo *
repo_init(const RepoDef *def, const char *cluster, const RepoClusterInfo *info,
		  bool *created, PgbError *err)
{
	Repo	   *repo = repo_new(def, cluster, err);
	char		path[PGB_PATH_MAX];
	char	   *text;
	bool		existed = false;
	bool		encrypted;

	if (repo == NULL)
		return NULL;
	*created = false;
	if (open_encryption(repo, def, &encrypted, err) != 0 ||
		(!encrypted && def->encrypted &&
		 (plain_namespace_check(repo, err) != 0 || create_encryption(repo, def, err) != 0)))
	{
		repo_free(repo);
		return NULL;
	}
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
				  cluster, repo->name, repo->info.system_identifier, info->system_identifier);
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

int
repo_backup_lock_probe(Repo *repo, char *holder, size_t len, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	if (repo_path(repo, path, REPO_BACKUP_LOCK) != 0)
		return pgb_error(err, EXIT_IO, "path too long for the lock of cluster \"%s\"", repo->cluster);
	return storage_lock_probe(repo->storage, path, holder, len, err);
}
