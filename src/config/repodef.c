/* Repository definitions: keys, values, secrets and checks (see repodef.h). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/options.h"
#include "config/repodef.h"

#define SECRET_FILE_MAX 4096

const RepoDefKey repodef_keys[] = {
	{"type", "posix (default) or s3"},
	{"path", "posix: the repository directory; s3: the key prefix inside the bucket"},
	{"s3_endpoint", "S3 host name; https unless written as http://HOST"},
	{"s3_region", "region the requests are signed for (default us-east-1)"},
	{"s3_bucket", "bucket name"},
	{"s3_key", "access key id"},
	{"s3_key_secret", "secret access key (or s3_key_secret_file, or PGBKP_REPO_<NAME>_S3_KEY_SECRET / PGBKP_S3_KEY_SECRET)"},
	{"s3_key_secret_file", "file holding the secret access key"},
	{"s3_uri_style", "path (default: /bucket/key) or host (bucket.host/key)"},
	{"s3_part_size", "multipart upload part size in MiB, 5 to 1024 (default 16)"},
	{"storage_port", "S3 port (default 443, or 80 for http)"},
	{"storage_ca_file", "CA certificates to verify the S3 server with (default: the system's)"},
	{"storage_verify_tls", "verify the S3 server's certificate (default true)"},
	{"cipher_type", "none (default) or aes-256-*: encrypt everything with AES-256-GCM"},
	{"cipher_pass", "encryption passphrase (or cipher_pass_file, or PGBKP_REPO_<NAME>_CIPHER_PASS / PGBKP_CIPHER_PASS)"},
	{"cipher_pass_file", "file holding the encryption passphrase"},
	{"retention_full", "this repository's --retention-full"},
	{"retention_full_type", "this repository's --retention-full-type"},
	{"bundle_size", "this repository's --bundle-size, as pgBackRest writes it (128MiB)"},
	{"retention_diff", "keep only the newest N diff backups (and the incr backups built on them)"},
	{"retention_archive", "keep continuous WAL from the Nth newest backup of retention_archive_type on"},
	{"retention_archive_type", "full (default), diff or incr: which backups retention_archive counts"},
	{"block, bundle, bundle_limit", "accepted: pgbkp always bundles and stores block maps"},
	{NULL, NULL}
};

void
repodef_init(RepoDef *def, const char *name, const char *where)
{
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "%s", name);
	def->where = strdup(where);
	def->storage_verify_tls = true;
}

static int
set_string(char **field, const char *value, PgbError *err)
{
	char	   *copy = strdup(value);

	if (copy == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int
bad_value(const RepoDef *def, const char *key, const char *value, const char *where,
		  const char *expected, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "%s: invalid value \"%s\" for pgbackrest_repo.%s.%s: expected %s",
			  where, value, def->name, key, expected);
	return -1;
}

/* A secret (or the file holding it) and where it was set, for pgbkp config. */
static int
set_secret(char **field, char **where_field, const char *value, const char *where, PgbError *err)
{
	return set_string(where_field, where, err) != 0 ? -1 : set_string(field, value, err);
}

/* Keep "WHERE: pgbackrest_repo.NAME.KEY: what" for the caller to warn about (once a key). */
static int
add_warning(RepoDef *def, const char *where, const char *key, const char *what, PgbError *err)
{
	char		line[512];

	snprintf(line, sizeof(line), "%s: pgbackrest_repo.%s.%s: %s", where, def->name, key, what);
	for (int i = 0; i < def->nwarnings; i++)
		if (strcmp(def->warnings[i], line) == 0)
			return 0;
	if (def->nwarnings == (int) (sizeof(def->warnings) / sizeof(def->warnings[0])))
		return 0;
	if ((def->warnings[def->nwarnings] = strdup(line)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	def->nwarnings++;
	return 0;
}

/*
 * A size as pgBackRest writes it ("128MiB", "1GiB", "20MB", "512KiB"; a bare
 * number is bytes) in whole MiB, at least 1.
 */
static int
set_size_mib(const RepoDef *def, int *field, const char *key, const char *value, const char *where,
			 PgbError *err)
{
	static const struct
	{
		const char *suffix;
		uint64_t	mult;
	}			units[] = {
		{"", 1}, {"b", 1}, {"kb", 1024}, {"kib", 1024}, {"mb", 1 << 20}, {"mib", 1 << 20},
		{"gb", 1 << 30}, {"gib", 1 << 30}, {"tb", (uint64_t) 1 << 40}, {"tib", (uint64_t) 1 << 40}
	};
	char	   *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno == 0 && end != value && value[0] >= '0' && value[0] <= '9')
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcasecmp(end, units[i].suffix) == 0 && v <= UINT64_MAX / units[i].mult)
			{
				uint64_t	mib = (v * units[i].mult + (1 << 20) - 1) >> 20;

				if (mib < 1 || mib > 1024)
					break;
				*field = (int) mib;
				return 0;
			}
	return bad_value(def, key, value, where, "a size from 1MiB to 1GiB such as 128MiB", err);
}

static int
set_int(const RepoDef *def, int *field, const char *key, const char *value, const char *where,
		int min, int max, PgbError *err)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
	{
		char		range[64];

		snprintf(range, sizeof(range), "an integer from %d to %d", min, max);
		return bad_value(def, key, value, where, range, err);
	}
	*field = (int) v;
	return 0;
}

int
repodef_set(RepoDef *def, const char *key, const char *value, const char *where, PgbError *err)
{
	int			b;

	if (strcmp(key, "type") == 0)
	{
		if (strcmp(value, "posix") == 0)
			def->type = REPO_TYPE_POSIX;
		else if (strcmp(value, "s3") == 0)
			def->type = REPO_TYPE_S3;
		else
			return bad_value(def, key, value, where, "posix or s3 (pgbkp has no other storage types)", err);
		return 0;
	}
	if (strcmp(key, "path") == 0)
		return set_string(&def->path, value, err);
	if (strcmp(key, "s3_endpoint") == 0)
		return set_string(&def->s3_endpoint, value, err);
	if (strcmp(key, "s3_region") == 0)
		return set_string(&def->s3_region, value, err);
	if (strcmp(key, "s3_bucket") == 0)
		return set_string(&def->s3_bucket, value, err);
	if (strcmp(key, "s3_key") == 0)
		return set_string(&def->s3_key, value, err);
	if (strcmp(key, "s3_key_secret") == 0)
		return set_secret(&def->s3_key_secret, &def->s3_key_secret_where, value, where, err);
	if (strcmp(key, "s3_key_secret_file") == 0)
		return set_secret(&def->s3_key_secret_file, &def->s3_key_secret_where, value, where, err);
	if (strcmp(key, "s3_uri_style") == 0)
	{
		if (strcmp(value, "path") != 0 && strcmp(value, "host") != 0)
			return bad_value(def, key, value, where, "path or host", err);
		def->s3_host_style = strcmp(value, "host") == 0;
		return 0;
	}
	if (strcmp(key, "s3_part_size") == 0)
		return set_int(def, &def->s3_part_size, key, value, where, 5, 1024, err);
	if (strcmp(key, "storage_port") == 0)
		return set_int(def, &def->storage_port, key, value, where, 1, 65535, err);
	if (strcmp(key, "storage_ca_file") == 0)
		return set_string(&def->storage_ca_file, value, err);
	if (strcmp(key, "storage_verify_tls") == 0)
	{
		/* pgBackRest writes y and n */
		if (strcmp(value, "y") == 0 || strcmp(value, "n") == 0)
			b = value[0] == 'y';
		else if ((b = option_parse_bool(value)) < 0)
			return bad_value(def, key, value, where, "true or false", err);
		def->storage_verify_tls = b;
		return 0;
	}
	if (strcmp(key, "cipher_type") == 0)
	{
		if (strcmp(value, "none") == 0)
			def->encrypted = false;
		else if (strncasecmp(value, "aes-256-", 8) == 0 && value[8] != '\0')
			def->encrypted = true;
		else
			return bad_value(def, key, value, where, "none or aes-256-* (any aes-256 type turns AES-256-GCM on)", err);
		return set_string(&def->cipher_type, value, err);
	}
	if (strcmp(key, "cipher_pass") == 0)
		return set_secret(&def->cipher_pass, &def->cipher_pass_where, value, where, err);
	if (strcmp(key, "cipher_pass_file") == 0)
		return set_secret(&def->cipher_pass_file, &def->cipher_pass_where, value, where, err);
	if (strcmp(key, "retention_full") == 0)
		return set_int(def, &def->retention_full, key, value, where, 1, 9999, err);
	if (strcmp(key, "retention_full_type") == 0)
	{
		if (strcmp(value, "count") != 0 && strcmp(value, "time") != 0)
			return bad_value(def, key, value, where, "count or time", err);
		return set_string(&def->retention_full_type, value, err);
	}
	if (strcmp(key, "bundle_size") == 0)
		return set_size_mib(def, &def->bundle_size, key, value, where, err);
	if (strcmp(key, "block") == 0 || strcmp(key, "bundle") == 0)
	{
		if (strcmp(value, "y") == 0 || option_parse_bool(value) == 1)
			return 0;			/* what pgbkp always does */
		return add_warning(def, where, key, "pgbkp always bundles small files and stores block maps for incremental backups; "
						   "\"n\" is not honoured", err);
	}
	if (strcmp(key, "bundle_limit") == 0)
		return 0;				/* pgbkp bundles files of every size (large ones in chunks) */
	if (strncmp(key, "s3_", 3) == 0 || strncmp(key, "storage_", 8) == 0 || strncmp(key, "cipher_", 7) == 0)
	{
		pgb_error(err, EXIT_CONFIG, "%s: pgbackrest_repo.%s.%s is not supported by pgbkp", where, def->name, key);
		return pgb_hint(err, "see \"Repository keys\" in pgbkp help options");
	}
	if (strcmp(key, "retention_diff") == 0)
		return set_int(def, &def->retention_diff, key, value, where, 1, 9999, err);
	if (strcmp(key, "retention_archive") == 0)
		return set_int(def, &def->retention_archive, key, value, where, 1, 9999, err);
	if (strcmp(key, "retention_archive_type") == 0)
	{
		if (strcmp(value, "full") != 0 && strcmp(value, "diff") != 0 && strcmp(value, "incr") != 0)
			return bad_value(def, key, value, where, "full, diff or incr", err);
		return set_string(&def->retention_archive_type, value, err);
	}
	return add_warning(def, where, key, "ignored: pgbkp has no such repository setting", err);
}

/* Read a secret from a file: its first line, without the newline. */
static int
read_secret_file(const RepoDef *def, const char *key, const char *path, char **out, PgbError *err)
{
	FILE	   *fp = fopen(path, "r");
	char		buf[SECRET_FILE_MAX];
	size_t		n;

	if (fp == NULL)
		return pgb_error_errno(err, EXIT_CONFIG, errno, "repository \"%s\": could not open %s \"%s\"",
							   def->name, key, path);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		return pgb_error(err, EXIT_CONFIG, "repository \"%s\": %s \"%s\" is empty", def->name, key, path);
	free(*out);
	*out = strdup(buf);
	memset(buf, 0, sizeof(buf));
	return *out ? 0 : pgb_error(err, EXIT_INTERNAL, "out of memory");
}

/* PGBKP_REPO_<NAME>_<SUFFIX>, then PGBKP_<SUFFIX>. */
static const char *
secret_env(const RepoDef *def, const char *suffix)
{
	char		name[128];
	size_t		len;
	const char *v;

	len = (size_t) snprintf(name, sizeof(name), "PGBKP_REPO_");
	for (const char *c = def->name; *c && len < sizeof(name) - 1; c++)
		name[len++] = isalnum((unsigned char) *c) ? (char) toupper((unsigned char) *c) : '_';
	snprintf(name + len, sizeof(name) - len, "_%s", suffix);
	if ((v = getenv(name)) != NULL && v[0] != '\0')
		return v;
	snprintf(name, sizeof(name), "PGBKP_%s", suffix);
	if ((v = getenv(name)) != NULL && v[0] != '\0')
		return v;
	return NULL;
}

static int
resolve_secret(const RepoDef *def, char **value, const char *file, const char *key,
			   const char *env_suffix, PgbError *err)
{
	const char *env;

	if (*value != NULL)
		return 0;
	if (file != NULL)
		return read_secret_file(def, key, file, value, err);
	if ((env = secret_env(def, env_suffix)) != NULL)
		return set_string(value, env, err);
	return 0;
}

static int
missing(const RepoDef *def, const char *key, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "repository \"%s\" (%s) has no %s", def->name, def->where, key);
	return -1;
}

int
repodef_finish(RepoDef *def, PgbError *err)
{
	if (resolve_secret(def, &def->s3_key_secret, def->s3_key_secret_file, "s3_key_secret_file",
					   "S3_KEY_SECRET", err) < 0 ||
		resolve_secret(def, &def->cipher_pass, def->cipher_pass_file, "cipher_pass_file",
					   "CIPHER_PASS", err) < 0)
		return -1;
	if (def->type == REPO_TYPE_POSIX)
	{
		if (def->path == NULL || def->path[0] == '\0')
			return missing(def, "path", err), pgb_hint(err, "set pgbackrest_repo.%s.path", def->name);
	}
	else
	{
		if (def->s3_endpoint == NULL)
			return missing(def, "s3_endpoint", err);
		if (def->s3_bucket == NULL)
			return missing(def, "s3_bucket", err);
		if (def->s3_key == NULL)
			return missing(def, "s3_key", err);
		if (def->s3_key_secret == NULL)
			return missing(def, "s3_key_secret", err),
				pgb_hint(err, "set s3_key_secret or s3_key_secret_file in pgbackrest_repo.%s, or PGBKP_S3_KEY_SECRET",
						 def->name);
		if (def->s3_region == NULL && set_string(&def->s3_region, "us-east-1", err) < 0)
			return -1;
		if (def->path == NULL && set_string(&def->path, "", err) < 0)
			return -1;
	}
	if (def->encrypted && (def->cipher_pass == NULL || def->cipher_pass[0] == '\0'))
		return missing(def, "cipher_pass", err),
			pgb_hint(err, "cipher_type is %s: set cipher_pass or cipher_pass_file in pgbackrest_repo.%s, or PGBKP_CIPHER_PASS",
					 def->cipher_type, def->name);
	return 0;
}

static void
free_secret(char **s)
{
	if (*s)
		memset(*s, 0, strlen(*s));
	free(*s);
	*s = NULL;
}

void
repodef_free(RepoDef *def)
{
	free(def->where);
	free(def->path);
	free(def->s3_endpoint);
	free(def->s3_region);
	free(def->s3_bucket);
	free(def->s3_key);
	free_secret(&def->s3_key_secret);
	free(def->s3_key_secret_file);
	free(def->storage_ca_file);
	free(def->cipher_type);
	free_secret(&def->cipher_pass);
	free(def->cipher_pass_file);
	free(def->retention_full_type);
	free(def->retention_archive_type);
	free(def->s3_key_secret_where);
	free(def->cipher_pass_where);
	for (int i = 0; i < def->nwarnings; i++)
		free(def->warnings[i]);
	memset(def, 0, sizeof(*def));
}
