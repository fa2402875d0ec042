/*
 * Repository definitions: where a cluster's backups and WAL go.  A run has
 * one or more repositories, in configured order:
 *
 *  - --repo-path DIR (command line, PGBKP_REPO_PATH or repo_path in a pgbkp:
 *    section) is one posix repository named "default";
 *  - otherwise the names in pgbkp.repositories, else pgbackrest_method (one
 *    name or a list), each defined by its pgbackrest_repo.<name> entry of the
 *    Pigsty inventory, with the keys of repodef_keys[] (pgBackRest's own
 *    keys that pgbkp does not use are ignored); an entry of
 *    pgbkp.repositories may instead be a mapping that defines the repository
 *    inline: {name: NAME, type: ..., KEY: VALUE...};
 *  - a repository of type pgbackrest is not pgbkp's: an installed pgBackRest
 *    keeps it (keys config, stanza, repo, pgbackrest_bin), and pgbkp only
 *    runs that pgBackRest (src/pgbackrest/);
 *  - otherwise pg_fs_backup as a posix repository named "local".
 *
 * Secrets (s3_key_secret, cipher_pass) come from the entry, from a file
 * named by the entry's *_file key, or from the environment
 * (PGBKP_REPO_<NAME>_S3_KEY_SECRET, then PGBKP_S3_KEY_SECRET; likewise
 * CIPHER_PASS); never from the command line.
 */
#ifndef PGBKP_REPODEF_H
#define PGBKP_REPODEF_H

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

#define REPODEF_NAME_MAX 32
#define REPODEF_LINES_MAX 16384

typedef enum RepoType
{
	REPO_TYPE_POSIX = 0,
	REPO_TYPE_S3,
	REPO_TYPE_PGBACKREST		/* a repository an installed pgBackRest keeps (see pgbackrest/) */
} RepoType;

/* A pgbackrest repository's defaults. */
#define REPODEF_PGBR_CONFIG "/etc/pgbackrest/pgbackrest.conf"
#define REPODEF_PGBR_BIN "pgbackrest"

typedef struct RepoDef
{
	char		name[REPODEF_NAME_MAX];
	int			position;		/* 1-based place in configured order (kept when --repo picks one) */
	char	   *where;			/* "FILE:LINE pgbackrest_repo.NAME" or "--repo-path" */
	RepoType	type;
	char	   *path;			/* posix: directory; s3: prefix in the bucket */
	char	   *s3_endpoint;
	char	   *s3_region;
	char	   *s3_bucket;
	char	   *s3_key;
	char	   *s3_key_secret;
	char	   *s3_key_secret_file;
	bool		s3_host_style;	/* s3_uri_style: host */
	int			storage_port;	/* 0 = scheme default */
	char	   *storage_ca_file;
	bool		storage_verify_tls;
	int			s3_part_size;	/* MiB, 0 = default */
	int			io_timeout;		/* seconds without progress, 0 = default */
	bool		encrypted;		/* cipher_type aes-256-* */
	char	   *cipher_type;
	char	   *cipher_pass;
	char	   *cipher_pass_file;
	int			retention_full; /* 0 = unset */
	char	   *retention_full_type;	/* NULL = unset */
	int			bundle_size;	/* MiB, from pgBackRest's bundle_size; 0 = unset */
	int			retention_diff; /* newest diff backups kept; 0 = all */
	int			retention_archive;	/* backups with continuous WAL; 0 = every kept one */
	char	   *retention_archive_type;	/* full | diff | incr; NULL = full */
	char	   *s3_key_secret_where;	/* where the secret was set ("FILE:LINE"), for pgbkp config */
	char	   *cipher_pass_where;
	/* type pgbackrest: pgBackRest's config file, stanza (NULL: the cluster), repo index, binary */
	char	   *pgbr_config;
	char	   *pgbr_stanza;
	int			pgbr_repo;
	char	   *pgbr_bin;
	/*
	 * every key of the entry as written, "KEY=VALUE\n" in order (secrets
	 * included, wiped when freed): config --render-pgbackrest's repo1-* lines
	 */
	char	   *entry_lines;
	/* what the entry said that pgbkp does not do as asked: one line each, for warnings */
	int			nwarnings;
	char	   *warnings[8];
} RepoDef;

/*
 * The keys of a pgbackrest_repo.<name> entry that pgbkp reads: one typed row
 * each, the one list that repodef_set, repodef_free, --help and the man page
 * walk.
 */
typedef enum RepoKeyType
{
	RK_STRING,					/* char * field, copied */
	RK_INT,						/* int field in [min, max] */
	RK_BOOL,					/* bool field: y, n or a YAML boolean word */
	RK_CHOICE,					/* char * field, one of values[] */
	RK_SIZE_MIB,				/* int field in MiB, [min, max], written as pgBackRest does (128MiB) */
	RK_SET,						/* set() does it */
	RK_IGNORED					/* accepted and not used */
} RepoKeyType;

/* RepoDefKey.flags */
#define RKF_SECRET 0x01			/* never shown; wiped when freed */

typedef struct RepoDefKey RepoDefKey;
typedef int (*RepoKeySetFn) (RepoDef *def, const RepoDefKey *k, const char *value,
							 const char *where, PgbError *err);

struct RepoDefKey
{
	const char *key;
	RepoKeyType type;
	size_t		offset;			/* the field in RepoDef; RK_SET: the text it keeps, or 0 */
	size_t		where_offset;	/* RK_STRING: a field remembering where it was set, or 0 */
	int			min;			/* RK_INT, RK_SIZE_MIB */
	int			max;
	const char *const *values;	/* RK_CHOICE: NULL-terminated */
	const char *expected;		/* what a bad value is told it should be (RK_BOOL, RK_CHOICE, RK_SIZE_MIB, RK_SET) */
	RepoKeySetFn set;			/* RK_SET */
	unsigned	flags;			/* RKF_* */
	const char *help;			/* one line; NULL: listed with the row before */
	const char *shown_as;		/* the key(s) as help lists them, if not key */
};

/* NULL-terminated, in the order help lists them. */
extern const RepoDefKey repodef_keys[];

/* "posix", "s3" or "pgbackrest". */
const char *repodef_type_name(RepoType type);

/* The row of key, or NULL. */
const RepoDefKey *repodef_key_find(const char *key);

/* A fresh definition (TLS verification on). */
void		repodef_init(RepoDef *def, const char *name, const char *where);

/*
 * Set one key from its text; where names the source for messages
 * ("FILE:LINE").  pgBackRest's keys that pgbkp honours differently are
 * mapped (bundle_size) or accepted (block, bundle, bundle_limit: pgbkp
 * always bundles and stores block maps); any other key is kept as a warning
 * naming it and where it was (def->warnings), except that an unknown key
 * starting with s3_, storage_ or cipher_ is an error (a typo would otherwise
 * silently fall back to a default).  EXIT_CONFIG on a bad value.
 */
int			repodef_set(RepoDef *def, const char *key, const char *value,
						const char *where, PgbError *err);

/* Secrets from files and the environment, then completeness checks (EXIT_CONFIG). */
int			repodef_finish(RepoDef *def, PgbError *err);

void		repodef_free(RepoDef *def);

#endif
