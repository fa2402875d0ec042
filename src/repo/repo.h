/*
 * A cluster's namespace in a repository: where everything lives (paths are
 * built only here and in walarchive.c) and the cluster's identity file,
 * cluster.info, which ties the namespace to one database system.
 */
#ifndef PGBKP_REPO_H
#define PGBKP_REPO_H

#include <stdint.h>
#include "common/timefmt.h"
#include "config/repodef.h"
#include "storage/storage.h"

#define REPO_FORMAT_VERSION 1
#define REPO_CLUSTER_NAME_MAX 63
/* The lock backup and expire hold while they add or remove backups. */
#define REPO_BACKUP_LOCK "lock/backup.lock"

typedef struct RepoClusterInfo
{
	int			format;
	uint64_t	system_identifier;
	int			pg_version;		/* server_version_num, e.g. 150018 */
	uint64_t	wal_segment_size;
	uint32_t	block_size;
	TimestampUs created;
} RepoClusterInfo;

typedef struct Repo
{
	Storage    *storage;
	char		name[REPODEF_NAME_MAX];	/* the repository's configured name */
	bool		encrypted;
	char		cluster[REPO_CLUSTER_NAME_MAX + 1];
	RepoClusterInfo info;		/* valid after repo_open / repo_init */
} Repo;

/* EXIT_CONFIG unless name is 1-63 of [A-Za-z0-9_.-] and does not start with '.'. */
int			repo_cluster_name_check(const char *name, PgbError *err);

/*
 * Open the cluster's namespace in the repository def describes and load
 * cluster.info.  EXIT_NOT_FOUND (hint: run pgbkp init) when it is missing.
 * An encrypted namespace is opened with the passphrase first (EXIT_CONFIG
 * when it is wrong, or when def's cipher setting does not match).
 */
Repo	   *repo_open(const RepoDef *def, const char *cluster, PgbError *err);

/*
 * Create cluster.info (and, when def asks for encryption, the key file
 * first) if absent; idempotent.  If present with another system
 * identifier: EXIT_ARCHIVE_MISMATCH.  *created tells which happened.
 */
Repo	   *repo_init(const RepoDef *def, const char *cluster, const RepoClusterInfo *info,
					  bool *created, PgbError *err);

void		repo_free(Repo *repo);

/* "<cluster>/<rel>" into out (PGB_PATH_MAX). */
int			repo_path(const Repo *repo, char *out, const char *fmt,...) PGB_PRINTF(3, 4);

/*
 * Whether backup or expire holds the cluster's backup lock now, without
 * taking it (storage_lock_probe): 1 with the holder's text, 0, -1 with err.
 */
int			repo_backup_lock_probe(Repo *repo, char *holder, size_t len, PgbError *err);

#endif
