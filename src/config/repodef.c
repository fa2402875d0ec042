/* Repository definitions: keys, values, secrets and checks (see repodef.h). */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/options.h"
#include "config/repodef.h"

#define SECRET_FILE_MAX 4096

#define F(field) offsetof(RepoDef, field)

static int	set_type(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err);
static int	set_uri_style(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err);
static int	set_cipher_type(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err);
static int	set_always_on(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err);

static const char *const full_types[] = {"count", "time", NULL};
static const char *const archive_types[] = {"full", "diff", "incr", NULL};

#define STR(k, field, h) {.key = k, .type = RK_STRING, .offset = F(field), .help = h}
#define INT(k, field, lo, hi, h) {.key = k, .type = RK_INT, .offset = F(field), .min = lo, .max = hi, .help = h}

const RepoDefKey repodef_keys[] = {
	{.key = "type", .type = RK_SET, .set = set_type,
		.expected = "posix, s3 or pgbackrest (pgbkp has no other repository types)",
	.help = "posix (default), s3, or pgbackrest (a repository an installed pgBackRest keeps)"},
	STR("path", path, "posix: the repository directory; s3: the key prefix inside the bucket"),
	STR("s3_endpoint", s3_endpoint, "S3 host name; https unless written as http://HOST"),
	STR("s3_region", s3_region, "region the requests are signed for (default us-east-1)"),
	STR("s3_bucket", s3_bucket, "bucket name"),
	STR("s3_key", s3_key, "access key id"),
	{.key = "s3_key_secret", .type = RK_STRING, .offset = F(s3_key_secret),
		.where_offset = F(s3_key_secret_where), .flags = RKF_SECRET,
	.help = "secret access key (or s3_key_secret_file, or PGBKP_REPO_<NAME>_S3_KEY_SECRET / PGBKP_S3_KEY_SECRET)"},
	{.key = "s3_key_secret_file", .type = RK_STRING, .offset = F(s3_key_secret_file),
		.where_offset = F(s3_key_secret_where),
	.help = "file holding the secret access key"},
	{.key = "s3_uri_style", .type = RK_SET, .set = set_uri_style, .expected = "path or host",
	.help = "path (default: /bucket/key) or host (bucket.host/key)"},
	INT("s3_part_size", s3_part_size, 5, 1024, "multipart upload part size in MiB, 5 to 1024 (default 16)"),
	INT("storage_port", storage_port, 1, 65535, "S3 port (default 443, or 80 for http)"),
	INT("io_timeout", io_timeout, 1, 3600,
		"S3: seconds a request may make no progress before it is abandoned and retried (default 60)"),
	STR("storage_ca_file", storage_ca_file, "CA certificates to verify the S3 server with (default: the system's)"),
	{.key = "storage_verify_tls", .type = RK_BOOL, .offset = F(storage_verify_tls), .expected = "true or false",
	.help = "verify the S3 server's certificate (default true)"},
	{.key = "cipher_type", .type = RK_SET, .offset = F(cipher_type), .set = set_cipher_type,
		.expected = "none or aes-256-* (any aes-256 type turns AES-256-GCM on)",
	.help = "none (default) or aes-256-*: encrypt everything with AES-256-GCM"},
	{.key = "cipher_pass", .type = RK_STRING, .offset = F(cipher_pass),
		.where_offset = F(cipher_pass_where), .flags = RKF_SECRET,
	.help = "encryption passphrase (or cipher_pass_file, or PGBKP_REPO_<NAME>_CIPHER_PASS / PGBKP_CIPHER_PASS)"},
	{.key = "cipher_pass_file", .type = RK_STRING, .offset = F(cipher_pass_file),
		.where_offset = F(cipher_pass_where),
	.help = "file holding the encryption passphrase"},
	INT("retention_full", retention_full, 1, 9999, "this repository's --retention-full"),
	{.key = "retention_full_type", .type = RK_CHOICE, .offset = F(retention_full_type),
		.values = full_types, .expected = "count or time",
	.help = "this repository's --retention-full-type"},
	{.key = "bundle_size", .type = RK_SIZE_MIB, .offset = F(bundle_size), .min = 1, .max = 1024,
		.expected = "a size from 1MiB to 1GiB such as 128MiB",
	.help = "this repository's --bundle-size, as pgBackRest writes it (128MiB)"},
	INT("retention_diff", retention_diff, 1, 9999,
		"keep only the newest N diff backups (and the incr backups built on them)"),
	INT("retention_archive", retention_archive, 1, 9999,
		"keep continuous WAL from the Nth newest backup of retention_archive_type on"),
	{.key = "retention_archive_type", .type = RK_CHOICE, .offset = F(retention_archive_type),
		.values = archive_types, .expected = "full, diff or incr",
	.help = "full (default), diff or incr: which backups retention_archive counts"},
	STR("config", pgbr_config, "pgbackrest: pgBackRest's configuration file (default " REPODEF_PGBR_CONFIG ")"),
	STR("stanza", pgbr_stanza, "pgbackrest: the stanza (default: the cluster name)"),
	INT("repo", pgbr_repo, 1, 256, "pgbackrest: pgBackRest's repository number, its --repo (default 1)"),
	STR("pgbackrest_bin", pgbr_bin, "pgbackrest: the pgbackrest program (default: pgbackrest on PATH)"),
	/* pgBackRest's switches for what pgbkp always does, under one line of help */
	{.key = "block", .type = RK_SET, .set = set_always_on, .shown_as = "block, bundle, bundle_limit",
	.help = "accepted: pgbkp always bundles and stores block maps"},
	{.key = "bundle", .type = RK_SET, .set = set_always_on},
	/* pgbkp bundles files of every size (large ones in chunks) */
	{.key = "bundle_limit", .type = RK_IGNORED},
	{.key = NULL}
};

const char *
repodef_type_name(RepoType type)
{
	return type == REPO_TYPE_S3 ? "s3" : type == REPO_TYPE_PGBACKREST ? "pgbackrest" : "posix";
}

const RepoDefKey *
repodef_key_find(const char *key)
{
	for (const RepoDefKey *k = repodef_keys; k->key; k++)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

void
repodef_init(RepoDef *def, const char *name, const char *where)
{
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "%s", name);
	def->where = strdup(where);
	def->storage_verify_tls = true;
}

static int
bad_value(const RepoDef *def, const char *key, const char *value, const char *where,
		  const char *expected, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "%s: invalid value \"%s\" for pgbackrest_repo.%s.%s: expected %s",
			  where, value, def->name, key, expected);
	return -1;
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
 * number is bytes) in whole MiB, rounded up: false unless within [min, max].
 */
static bool
parse_size_mib(const char *value, int min, int max, int *out)
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
	if (errno != 0 || end == value || value[0] < '0' || value[0] > '9')
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].suffix) == 0 && v <= UINT64_MAX / units[i].mult)
		{
			uint64_t	mib = (v * units[i].mult + (1 << 20) - 1) >> 20;

			if (mib < (uint64_t) min || mib > (uint64_t) max)
				return false;
			*out = (int) mib;
			return true;
		}
	return false;
}

/* RK_SET: posix, s3 or pgbackrest. */
static int
set_type(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err)
{
	if (strcmp(value, "posix") == 0)
		def->type = REPO_TYPE_POSIX;
	else if (strcmp(value, "s3") == 0)
		def->type = REPO_TYPE_S3;
	else if (strcmp(value, "pgbackrest") == 0)
		def->type = REPO_TYPE_PGBACKREST;
	else
		return bad_value(def, k->key, value, where, k->expected, err);
	return 0;
}

/* RK_SET: path or host. */
static int
set_uri_style(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err)
{
	if (strcmp(value, "path") != 0 && strcmp(value, "host") != 0)
		return bad_value(def, k->key, value, where, k->expected, err);
	def->s3_host_style = strcmp(value, "host") == 0;
	return 0;
}

/* RK_SET: none, or any aes-256-* (all mean AES-256-GCM to pgbkp); the text is kept. */
static int
set_cipher_type(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err)
{
	if (strcmp(value, "none") == 0)
		def->encrypted = false;
	else if (strncasecmp(value, "aes-256-", 8) == 0 && value[8] != '\0')
		def->encrypted = true;
	else
		return bad_value(def, k->key, value, where, k->expected, err);
	return config_set_string(&def->cipher_type, value, err);
}

/* RK_SET: block and bundle are always on in pgbkp; "n" is kept as a warning. */
static int
set_always_on(RepoDef *def, const RepoDefKey *k, const char *value, const char *where, PgbError *err)
{
	if (strcmp(value, "y") == 0 || option_parse_bool(value) == 1)
		return 0;
	return add_warning(def, where, k->key, "pgbkp always bundles small files and stores block maps for incremental backups; "
					   "\"n\" is not honoured", err);
}

/* Append "key=value\n" to def->entry_lines (at most REPODEF_LINES_MAX bytes in all). */
static int
keep_line(RepoDef *def, const char *key, const char *value, PgbError *err)
{
	size_t		used = def->entry_lines ? strlen(def->entry_lines) : 0;
	size_t		add = strlen(key) + strlen(value) + 2;
	char	   *grown;

	if (used + add + 1 > REPODEF_LINES_MAX)
		return pgb_error(err, EXIT_CONFIG, "pgbackrest_repo.%s has too many or too long keys", def->name);
	if ((grown = realloc(def->entry_lines, used + add + 1)) == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	snprintf(grown + used, add + 1, "%s=%s\n", key, value);
	def->entry_lines = grown;
	return 0;
}

int
repodef_set(RepoDef *def, const char *key, const char *value, const char *where, PgbError *err)
{
	const RepoDefKey *k = repodef_key_find(key);
	char	   *field;
	char		range[64];
	int			b;

	if (keep_line(def, key, value, err) != 0)
		return -1;
	if (k == NULL)
	{
		if (strncmp(key, "s3_", 3) == 0 || strncmp(key, "storage_", 8) == 0 || strncmp(key, "cipher_", 7) == 0)
		{
			pgb_error(err, EXIT_CONFIG, "%s: pgbackrest_repo.%s.%s is not supported by pgbkp", where, def->name, key);
			return pgb_hint(err, "see \"Repository keys\" in pgbkp help options");
		}
		return add_warning(def, where, key, "ignored: pgbkp has no such repository setting", err);
	}
	field = (char *) def + k->offset;
	switch (k->type)
	{
		case RK_STRING:
			if (k->where_offset && config_set_string((char **) ((char *) def + k->where_offset), where, err) != 0)
				return -1;
			return config_set_string((char **) field, value, err);
		case RK_INT:
			if (config_parse_int(value, k->min, k->max, (int *) field))
				return 0;
			snprintf(range, sizeof(range), "an integer from %d to %d", k->min, k->max);
			return bad_value(def, key, value, where, range, err);
		case RK_BOOL:
			/* pgBackRest writes y and n */
			if (strcmp(value, "y") == 0 || strcmp(value, "n") == 0)
				b = value[0] == 'y';
			else if ((b = option_parse_bool(value)) < 0)
				return bad_value(def, key, value, where, k->expected, err);
			*(bool *) field = b;
			return 0;
		case RK_CHOICE:
			for (const char *const *v = k->values; *v; v++)
				if (strcmp(*v, value) == 0)
					return config_set_string((char **) field, value, err);
			return bad_value(def, key, value, where, k->expected, err);
		case RK_SIZE_MIB:
			if (parse_size_mib(value, k->min, k->max, (int *) field))
				return 0;
			return bad_value(def, key, value, where, k->expected, err);
		case RK_SET:
			return k->set(def, k, value, where, err);
		case RK_IGNORED:
			return 0;
	}
	return pgb_error(err, EXIT_INTERNAL, "repository key \"%s\" has an unknown type", key);
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
		return config_set_string(value, env, err);
	return 0;
}

static int
missing(const RepoDef *def, const char *key, PgbError *err)
{
	pgb_error(err, EXIT_CONFIG, "repository \"%s\" (%s) has no %s", def->name, def->where, key);
	return -1;
}

/*
 * A pgBackRest repository: its defaults.  Its secrets are pgBackRest's own
 * (its configuration file, PGBACKREST_* variables); pgbkp's are refused so
 * that no one believes pgbkp passes them on.
 */
static int
finish_pgbackrest(RepoDef *def, PgbError *err)
{
	if (def->s3_key_secret || def->cipher_pass || def->encrypted)
	{
		pgb_error(err, EXIT_CONFIG, "repository \"%s\" (%s) is of type pgbackrest: its secrets are pgBackRest's, "
				  "not pgbkp's", def->name, def->where);
		return pgb_hint(err, "remove s3_key_secret, cipher_type and cipher_pass from it; pgBackRest reads them "
						"from its configuration file or PGBACKREST_* variables");
	}
	if ((def->pgbr_config == NULL && config_set_string(&def->pgbr_config, REPODEF_PGBR_CONFIG, err) < 0) ||
		(def->pgbr_bin == NULL && config_set_string(&def->pgbr_bin, REPODEF_PGBR_BIN, err) < 0))
		return -1;
	if (def->pgbr_repo == 0)
		def->pgbr_repo = 1;
	return 0;
}

int
repodef_finish(RepoDef *def, PgbError *err)
{
	if (def->type == REPO_TYPE_PGBACKREST)
		return finish_pgbackrest(def, err);
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
		if (def->s3_region == NULL && config_set_string(&def->s3_region, "us-east-1", err) < 0)
			return -1;
		if (def->path == NULL && config_set_string(&def->path, "", err) < 0)
			return -1;
	}
	if (def->encrypted && (def->cipher_pass == NULL || def->cipher_pass[0] == '\0'))
		return missing(def, "cipher_pass", err),
			pgb_hint(err, "cipher_type is %s: set cipher_pass or cipher_pass_file in pgbackrest_repo.%s, or PGBKP_CIPHER_PASS",
					 def->cipher_type, def->name);
	return 0;
}

void
repodef_free(RepoDef *def)
{
	free(def->where);
	/* every text the keys set; secrets wiped first */
	for (const RepoDefKey *k = repodef_keys; k->key; k++)
	{
		char	  **text;

		if (k->type != RK_STRING && k->type != RK_CHOICE && (k->type != RK_SET || k->offset == 0))
			continue;
		text = (char **) ((char *) def + k->offset);
		if (*text && (k->flags & RKF_SECRET))
			memset(*text, 0, strlen(*text));
		free(*text);
		*text = NULL;
	}
	free(def->s3_key_secret_where);
	free(def->cipher_pass_where);
	if (def->entry_lines)
		memset(def->entry_lines, 0, strlen(def->entry_lines));
	free(def->entry_lines);
	for (int i = 0; i < def->nwarnings; i++)
		free(def->warnings[i]);
	memset(def, 0, sizeof(*def));
}
