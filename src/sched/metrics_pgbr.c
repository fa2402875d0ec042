/*
 * The pgbackrest_exporter families, so that pgbkp's endpoint can take the
 * exporter's place under Pigsty's dashboards and alerts: the exporter's
 * names (v0.23), label names, label order and value meanings, all gauges,
 * computed from pgbkp's repositories.  How pgbkp fills them:
 *
 *   stanza        the cluster name (--cluster)
 *   repo_key      the repository's place in configured order: "1", "2", ...
 *                 (the repository's name is in the pgbkp_repository_* families)
 *   cipher        "none", or "aes-256-gcm", the cipher pgbkp encrypts with
 *   backup_name   the backup label, e.g. 20250101-010000F
 *   backup_type   full, diff or incr
 *   block_incr    "y" for a diff or incr backup whose chunks carry block maps
 *                 (so changed blocks are stored as deltas), else "n"
 *   prior         the backup it builds on; "" for a full backup
 *   database_id   always "1" (a pgbkp cluster namespace holds one database system)
 *   backrest_ver  the version of pgbkp that took the backup
 *   pg_version    the PostgreSQL major version, e.g. "15"
 *   lsn_start/stop, wal_start/stop  as PostgreSQL prints LSNs and WAL file names
 *   start_time/stop_time  "YYYY-MM-DD HH:MM:SS" in this process's local time zone
 *
 *   pgbackrest_exporter_status{stanza}        1 when every repository could be read; 0 when one
 *                                             could not (I/O, access, passphrase, damaged cluster.info)
 *   pgbackrest_stanza_status{stanza}          the repositories' common status; 4 when they differ,
 *                                             5 when they hold different database systems
 *   pgbackrest_stanza_lock_status{stanza}     1 while backup or expire holds the backup lock of any
 *   pgbackrest_stanza_backup_lock_status{stanza}  repository, else 0 (the first is the exporter's
 *                                             name before v0.23, which Pigsty's PITR dashboard queries)
 *   pgbackrest_repo_status{cipher,repo_key,stanza}  0 ok, 1 cluster not initialised, 2 no backups,
 *                                             3 cluster.info unreadable, 99 could not be read
 *   pgbackrest_backup_info{backrest_ver,backup_name,backup_type,block_incr,database_id,lsn_start,
 *                          lsn_stop,pg_version,prior,repo_key,stanza,wal_start,wal_stop}  1
 *   per backup, labels backup_name, backup_type, block_incr, database_id, repo_key, stanza:
 *     pgbackrest_backup_duration_seconds (+ start_time, stop_time)  stop minus start
 *     pgbackrest_backup_size_bytes        database bytes the backup covers
 *     pgbackrest_backup_delta_bytes       database bytes in the chunks it stored whole or as a
 *                                         delta (chunks that are references to the prior are not
 *                                         counted); a full backup's is its size
 *     pgbackrest_backup_repo_size_bytes   stored bytes of the backup and every backup it builds
 *                                         on: what the repository must keep to restore it
 *     pgbackrest_backup_repo_delta_bytes  stored bytes of the backup's own bundles
 *     pgbackrest_backup_error_status      1 when the backup cannot be restored from its repository
 *                                         as it stands (a backup it builds on or WAL from its start
 *                                         to its end is missing), else 0; pgbkp does not verify
 *                                         page checksums while it backs up
 *   per type (full; diff: newest full or diff; incr: newest of any), labels backup_type,
 *   block_incr, stanza, over every repository, only once a full backup exists:
 *     pgbackrest_backup_since_last_completion_seconds   now minus the backup's stop time
 *     pgbackrest_backup_last_{duration_seconds,size_bytes,delta_bytes,repo_size_bytes,
 *                             repo_delta_bytes,error_status}  as above, of that backup
 *   pgbackrest_wal_archive_status{database_id,pg_version,repo_key,stanza,wal_max,wal_min}
 *                                             1 when the repository holds archived WAL, else 0;
 *                                             wal_min and wal_max are "", as the exporter leaves
 *                                             them without --backrest.verbose-wal (a label that
 *                                             changes with every WAL file would make a new series
 *                                             each time)
 *
 * Not served: the backup-in-progress byte counts, the restore lock, block
 * map sizes, annotations, references, database counts, the exporter's and
 * pgBackRest's version gauges.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sched/metrics.h"

/* A NUL-terminated copy of a fixed-size field. */
#define FIELD(dst, src) \
	do { \
		memcpy((dst), (src), sizeof(src)); \
		(dst)[sizeof(src)] = '\0'; \
	} while (0)

typedef struct Ctx
{
	PromText   *w;
	const MetricsSnapshot *s;
	char		stanza[sizeof(((MetricsSnapshot *) 0)->cluster) + 1];
} Ctx;

static bool
has_backups(const MetricsRepo *r)
{
	return r->status == METRICS_REPO_OK && r->nbackups > 0 && r->backups != NULL;
}

static bool
readable(const MetricsRepo *r)
{
	return r->status == METRICS_REPO_OK || r->status == METRICS_REPO_NO_BACKUPS;
}

static int
nrepos(const MetricsSnapshot *s)
{
	return s->nrepos < 0 ? 0 : s->nrepos > METRICS_MAX_REPOS ? METRICS_MAX_REPOS : s->nrepos;
}

/* "15" for 150018, "9.6" for 90624. */
static void
major_version(int num, char *buf, size_t len)
{
	if (num <= 0)
		snprintf(buf, len, "%s", "");
	else if (num >= 100000)
		snprintf(buf, len, "%d", num / 10000);
	else
		snprintf(buf, len, "%d.%d", num / 10000, num / 100 % 100);
}

/* "2025-01-01 01:00:00" in local time, as the exporter prints times. */
static void
local_time(double t, char *buf, size_t len)
{
	time_t		secs = (time_t) t;
	struct tm	tm;

	if (localtime_r(&secs, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%s", "");
}

static void
stanza_labels(const Ctx *c, PromLabels *l)
{
	prom_labels_init(l);
	prom_label(l, "stanza", c->stanza);
}

/*
 * The stanza's status: the repositories' common one; 5 when two readable
 * repositories hold different database systems, 4 when the statuses
 * differ; 99 without repositories.
 */
static int
stanza_status(const MetricsSnapshot *s)
{
	int			n = nrepos(s);

	if (n == 0)
		return METRICS_REPO_OTHER;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (readable(&s->repos[i]) && readable(&s->repos[j]) &&
				s->repos[i].system_identifier != 0 && s->repos[j].system_identifier != 0 &&
				s->repos[i].system_identifier != s->repos[j].system_identifier)
				return METRICS_REPO_DB_MISMATCH;
	for (int i = 1; i < n; i++)
		if (s->repos[i].status != s->repos[0].status)
			return METRICS_REPO_MIXED;
	return s->repos[0].status;
}

static void
stanza_families(const Ctx *c)
{
	const MetricsSnapshot *s = c->s;
	PromLabels	l;
	int			ok = 1;
	int			locked = 0;

	for (int i = 0; i < nrepos(s); i++)
	{
		if (s->repos[i].status == METRICS_REPO_BAD_DATA || s->repos[i].status == METRICS_REPO_OTHER)
			ok = 0;
		if (s->repos[i].locked == 1)
			locked = 1;
	}
	stanza_labels(c, &l);
	prom_family(c->w, "pgbackrest_exporter_status", "gauge",
				"1 when every repository of the cluster could be read, else 0.");
	prom_sample(c->w, "pgbackrest_exporter_status", &l, ok);
	prom_family(c->w, "pgbackrest_stanza_status", "gauge",
				"Cluster status: 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, "
				"4 different across repos, 5 database mismatch across repos, 99 other.");
	prom_sample(c->w, "pgbackrest_stanza_status", &l, stanza_status(s));
	prom_family(c->w, "pgbackrest_stanza_lock_status", "gauge",
				"1 while backup or expire holds the backup lock of a repository, else 0 (name before exporter v0.23).");
	prom_sample(c->w, "pgbackrest_stanza_lock_status", &l, locked);
	prom_family(c->w, "pgbackrest_stanza_backup_lock_status", "gauge",
				"1 while backup or expire holds the backup lock of a repository, else 0.");
	prom_sample(c->w, "pgbackrest_stanza_backup_lock_status", &l, locked);
}

static void
repo_status_family(const Ctx *c)
{
	const MetricsSnapshot *s = c->s;

	prom_family(c->w, "pgbackrest_repo_status", "gauge",
				"Repository status: 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, 99 other.");
	for (int i = 0; i < nrepos(s); i++)
	{
		PromLabels	l;
		char		key[16];

		snprintf(key, sizeof(key), "%d", s->repos[i].key);
		prom_labels_init(&l);
		prom_label(&l, "cipher", s->repos[i].encrypted ? "aes-256-gcm" : "none");
		prom_label(&l, "repo_key", key);
		prom_label(&l, "stanza", c->stanza);
		prom_sample(c->w, "pgbackrest_repo_status", &l, s->repos[i].status);
	}
}

typedef enum BackupValue
{
	BV_INFO,
	BV_DURATION,
	BV_SIZE,
	BV_DELTA,
	BV_REPO_SIZE,
	BV_REPO_DELTA,
	BV_ERROR
} BackupValue;

static void
backup_sample(const Ctx *c, const char *name, const PromLabels *l, const MetricsRepoBackup *b, BackupValue v)
{
	switch (v)
	{
		case BV_INFO:
			prom_sample(c->w, name, l, 1);
			break;
		case BV_DURATION:
			prom_sample(c->w, name, l, b->duration);
			break;
		case BV_SIZE:
			prom_sample_u64(c->w, name, l, b->size);
			break;
		case BV_DELTA:
			prom_sample_u64(c->w, name, l, b->delta);
			break;
		case BV_REPO_SIZE:
			prom_sample_u64(c->w, name, l, b->repo_size);
			break;
		case BV_REPO_DELTA:
			prom_sample_u64(c->w, name, l, b->repo_delta);
			break;
		case BV_ERROR:
			prom_sample(c->w, name, l, b->error ? 1 : 0);
			break;
	}
}

/* One per-backup family: every backup of every repository, in configured then label order. */
static void
backup_family(const Ctx *c, const char *name, const char *help, BackupValue v)
{
	const MetricsSnapshot *s = c->s;

	prom_family(c->w, name, "gauge", help);
	for (int i = 0; i < nrepos(s); i++)
	{
		const MetricsRepo *r = &s->repos[i];
		char		key[16];

		if (!has_backups(r))
			continue;
		snprintf(key, sizeof(key), "%d", r->key);
		for (int k = 0; k < r->nbackups; k++)
		{
			const MetricsRepoBackup *b = &r->backups[k];
			char		label[sizeof(b->label) + 1],
						type[sizeof(b->type) + 1];
			PromLabels	l;

			FIELD(label, b->label);
			FIELD(type, b->type);
			prom_labels_init(&l);
			if (v == BV_INFO)
			{
				char		ver[sizeof(b->version) + 1],
							prior[sizeof(b->prior) + 1],
							lsn_start[sizeof(b->lsn_start) + 1],
							lsn_stop[sizeof(b->lsn_stop) + 1],
							wal_start[sizeof(b->wal_start) + 1],
							wal_stop[sizeof(b->wal_stop) + 1],
							pg[16];

				FIELD(ver, b->version);
				FIELD(prior, b->prior);
				FIELD(lsn_start, b->lsn_start);
				FIELD(lsn_stop, b->lsn_stop);
				FIELD(wal_start, b->wal_start);
				FIELD(wal_stop, b->wal_stop);
				major_version(b->pg_version, pg, sizeof(pg));
				prom_label(&l, "backrest_ver", ver);
				prom_label(&l, "backup_name", label);
				prom_label(&l, "backup_type", type);
				prom_label(&l, "block_incr", b->block_incr ? "y" : "n");
				prom_label(&l, "database_id", "1");
				prom_label(&l, "lsn_start", lsn_start);
				prom_label(&l, "lsn_stop", lsn_stop);
				prom_label(&l, "pg_version", pg);
				prom_label(&l, "prior", prior);
				prom_label(&l, "repo_key", key);
				prom_label(&l, "stanza", c->stanza);
				prom_label(&l, "wal_start", wal_start);
				prom_label(&l, "wal_stop", wal_stop);
			}
			else
			{
				prom_label(&l, "backup_name", label);
				prom_label(&l, "backup_type", type);
				prom_label(&l, "block_incr", b->block_incr ? "y" : "n");
				prom_label(&l, "database_id", "1");
				prom_label(&l, "repo_key", key);
				prom_label(&l, "stanza", c->stanza);
				if (v == BV_DURATION)
				{
					char		start[32],
								stop[32];

					local_time(b->start_time, start, sizeof(start));
					local_time(b->stop_time, stop, sizeof(stop));
					prom_label(&l, "start_time", start);
					prom_label(&l, "stop_time", stop);
				}
			}
			backup_sample(c, name, &l, b, v);
		}
	}
}

static int
type_rank(const char *type)
{
	if (strcmp(type, "full") == 0)
		return 0;
	if (strcmp(type, "diff") == 0)
		return 1;
	if (strcmp(type, "incr") == 0)
		return 2;
	return -1;
}

/*
 * The backup each "last" series describes, over every repository: [0] the
 * newest full, [1] the newest full or diff, [2] the newest of any type.
 */
static void
newest_backups(const MetricsSnapshot *s, const MetricsRepoBackup *last[3])
{
	last[0] = last[1] = last[2] = NULL;
	for (int i = 0; i < nrepos(s); i++)
	{
		const MetricsRepo *r = &s->repos[i];

		if (!has_backups(r))
			continue;
		for (int k = 0; k < r->nbackups; k++)
		{
			const MetricsRepoBackup *b = &r->backups[k];
			char		type[sizeof(b->type) + 1];
			int			rank;

			FIELD(type, b->type);
			if ((rank = type_rank(type)) < 0)
				continue;
			for (int t = rank; t < 3; t++)
				if (last[t] == NULL || b->stop_time >= last[t]->stop_time)
					last[t] = b;
		}
	}
}

typedef enum LastValue
{
	LV_SINCE,
	LV_BACKUP					/* a value of the backup: the BackupValue given */
} LastValue;

static void
last_family(const Ctx *c, const MetricsRepoBackup *const last[3], double now, const char *name,
			const char *help, LastValue lv, BackupValue bv)
{
	static const char *const types[3] = {"full", "diff", "incr"};

	prom_family(c->w, name, "gauge", help);
	if (last[0] == NULL)
		return;					/* only once a full backup exists */
	for (int t = 0; t < 3; t++)
	{
		PromLabels	l;

		prom_labels_init(&l);
		prom_label(&l, "backup_type", types[t]);
		prom_label(&l, "block_incr", last[t]->block_incr ? "y" : "n");
		prom_label(&l, "stanza", c->stanza);
		if (lv == LV_SINCE)
			prom_sample(c->w, name, &l, now > last[t]->stop_time ? now - last[t]->stop_time : 0);
		else
			backup_sample(c, name, &l, last[t], bv);
	}
}

static void
wal_family(const Ctx *c)
{
	const MetricsSnapshot *s = c->s;

	prom_family(c->w, "pgbackrest_wal_archive_status", "gauge",
				"1 when the repository holds archived WAL of the cluster, else 0.");
	for (int i = 0; i < nrepos(s); i++)
	{
		const MetricsRepo *r = &s->repos[i];
		PromLabels	l;
		char		key[16],
					pg[16];

		if (!readable(r))
			continue;
		snprintf(key, sizeof(key), "%d", r->key);
		major_version(r->pg_version, pg, sizeof(pg));
		prom_labels_init(&l);
		prom_label(&l, "database_id", "1");
		prom_label(&l, "pg_version", pg);
		prom_label(&l, "repo_key", key);
		prom_label(&l, "stanza", c->stanza);
		prom_label(&l, "wal_max", "");
		prom_label(&l, "wal_min", "");
		prom_sample(c->w, "pgbackrest_wal_archive_status", &l, r->nsegments > 0 ? 1 : 0);
	}
}

void
metrics_render_pgbackrest(const MetricsSnapshot *s, double now, PromText *w)
{
	Ctx			c = {.w = w, .s = s};
	const MetricsRepoBackup *last[3];

	FIELD(c.stanza, s->cluster);
	stanza_families(&c);
	repo_status_family(&c);

	backup_family(&c, "pgbackrest_backup_info", "Backup information (always 1).", BV_INFO);
	backup_family(&c, "pgbackrest_backup_duration_seconds", "Backup duration in seconds.", BV_DURATION);
	backup_family(&c, "pgbackrest_backup_size_bytes", "Database size the backup covers, in bytes.", BV_SIZE);
	backup_family(&c, "pgbackrest_backup_delta_bytes",
				  "Database bytes the backup stored rather than referred to its prior, in bytes.", BV_DELTA);
	backup_family(&c, "pgbackrest_backup_repo_size_bytes",
				  "Repository bytes the backup and the backups it builds on occupy.", BV_REPO_SIZE);
	backup_family(&c, "pgbackrest_backup_repo_delta_bytes", "Repository bytes of the backup itself.", BV_REPO_DELTA);
	backup_family(&c, "pgbackrest_backup_error_status",
				  "1 when the backup cannot be restored from its repository as it stands, else 0.", BV_ERROR);

	newest_backups(s, last);
	last_family(&c, last, now, "pgbackrest_backup_since_last_completion_seconds",
				"Seconds since the last backup of the type (diff: full or diff; incr: any) completed.",
				LV_SINCE, BV_INFO);
	last_family(&c, last, now, "pgbackrest_backup_last_duration_seconds",
				"Duration of the last backup of the type, in seconds.", LV_BACKUP, BV_DURATION);
	last_family(&c, last, now, "pgbackrest_backup_last_size_bytes",
				"Database size the last backup of the type covers, in bytes.", LV_BACKUP, BV_SIZE);
	last_family(&c, last, now, "pgbackrest_backup_last_delta_bytes",
				"Database bytes the last backup of the type stored rather than referred to its prior.",
				LV_BACKUP, BV_DELTA);
	last_family(&c, last, now, "pgbackrest_backup_last_repo_size_bytes",
				"Repository bytes the last backup of the type and the backups it builds on occupy.",
				LV_BACKUP, BV_REPO_SIZE);
	last_family(&c, last, now, "pgbackrest_backup_last_repo_delta_bytes",
				"Repository bytes of the last backup of the type itself.", LV_BACKUP, BV_REPO_DELTA);
	last_family(&c, last, now, "pgbackrest_backup_last_error_status",
				"1 when the last backup of the type cannot be restored from its repository, else 0.",
				LV_BACKUP, BV_ERROR);

	wal_family(&c);
}
