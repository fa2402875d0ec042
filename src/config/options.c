/*
 * The command and option tables (see options.h), the look-ups in them and
 * the descriptions --help and the man page print.  Turning an option's text
 * into a typed value is optvalue.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/options.h"

#define EACH CMDF_EACH_REPO

const CommandDef command_table[CMD_COUNT] = {
	[CMD_INIT] = {"init", NULL, 0, EACH,
	"create the repository for a cluster"},
	[CMD_BACKUP] = {"backup", NULL, 0, EACH | CMDF_PRIMARY,
	"take a backup of the cluster"},
	[CMD_ARCHIVE_PUSH] = {"archive-push", "WAL_PATH", 1, EACH | CMDF_PER_SEGMENT,
	"store one WAL file in the repository (archive_command)"},
	[CMD_ARCHIVE_GET] = {"archive-get", "WAL_NAME DEST_PATH", 2, CMDF_PER_SEGMENT,
	"fetch one WAL file from the repository (restore_command)"},
	[CMD_RESTORE] = {"restore", NULL, 0, 0,
	"restore a backup, optionally to a point in time"},
	[CMD_INFO] = {"info", NULL, 0, 0,
	"list the backups and the archived WAL"},
	[CMD_VERIFY] = {"verify", NULL, 0, EACH,
	"check that the repository is complete and uncorrupted"},
	[CMD_CHECK] = {"check", NULL, 0, EACH,
	"check the configuration, the database and WAL archiving"},
	[CMD_EXPIRE] = {"expire", NULL, 0, EACH,
	"remove backups and WAL beyond the retention policy"},
	[CMD_STATUS] = {"status", NULL, 0, 0,
	"show the cluster's members, archiving, newest backup and jobs"},
	[CMD_SCHEDULE] = {"schedule", NULL, 0, 0,
	"run the configured jobs on schedule, in the foreground"},
	[CMD_METRICS] = {"metrics", NULL, 0, 0,
	"serve the Prometheus metrics endpoint alone, in the foreground"},
	[CMD_CRON] = {"cron", NULL, 0, 0,
	"print crontab lines equivalent to the schedule"},
	[CMD_CLONE] = {"clone", NULL, 0, 0,
	"start an independent copy of the cluster as of a moment"},
	[CMD_CONFIG] = {"config", NULL, 0, 0,
	"show every effective setting and where it comes from, or render one member's configuration"},
	[CMD_WAL_INDEX] = {"wal-index", "rebuild", 1, EACH,
	"make the WAL index again from every archived segment (restore makes what it needs itself)"},
	[CMD_DRILL] = {"drill", NULL, 0, 0,
	"restore a backup into a scratch directory, start it and prove it sound (restore drill)"},
	[CMD_PITR] = {"pitr", NULL, 0, 0,
	"bring the whole Patroni cluster back to a moment, in place (point-in-time recovery)"},
	[CMD_PITR_MEMBER] = {"pitr-member", "ACTION", 1, 0,
	"one step of pitr on this member's host (run by pitr, locally or over ssh_command)"},
	[CMD_SPOOL_CLEAN] = {"spool-clean", NULL, 0, 0,
	"remove the WAL archive-get fetched ahead (PostgreSQL runs it as recovery_end_command)"},
	[CMD_STREAM] = {"stream", NULL, 0, 0,
	"receive WAL from the current primary over replication into every repository, in the foreground"},
};

#undef EACH

/* Allowed values of the enum options; the first is not implicitly the default. */
static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const backup_types[] = {"full", "diff", "incr", "auto", NULL};
static const char *const retention_types[] = {"count", "time", NULL};
static const char *const target_actions[] = {"pause", "promote", "shutdown", NULL};
static const char *const archive_modes[] = {"preserve", "off", NULL};
static const char *const output_formats[] = {"text", "json", NULL};
static const char *const engines[] = {"pgbkp", "pgbackrest", NULL};
static const char *const standby_modes[] = {"off", "prefer", "require", NULL};

#define F(field) offsetof(Config, field)
#define RESTORE CMD_BIT(CMD_RESTORE)
#define CLONE CMD_BIT(CMD_CLONE)
#define DRILL CMD_BIT(CMD_DRILL)
#define PITR CMD_BIT(CMD_PITR)
#define PITRM CMD_BIT(CMD_PITR_MEMBER)

/*
 * name, short, type, default, min, max, values, commands,
 * yaml key, environment variable, metavar, help, field, flags
 */
const OptionDef option_table[] = {
	/* global options */
	{"config", 'c', OPT_STRING, NULL, 0, 0, NULL, 0,
		NULL, "PGBKP_CONFIG", "FILE",
		"read settings from FILE (default: " CONFIG_DEFAULT_FILE ", if it exists)",
	F(config_file), 0},
	{"cluster", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"cluster", "PGBKP_CLUSTER", "NAME",
		"cluster name; the repository namespace",
	F(cluster), 0},
	{"repo-path", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"repo_path", "PGBKP_REPO_PATH", "DIR",
		"repository directory (instead of the configured repositories)",
	F(repo_path), 0},
	{"repo", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		NULL, "PGBKP_REPO", "NAME",
		"use only this one of the configured repositories",
	F(repo), 0},
	{"pg-data", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"pg_data", "PGBKP_PG_DATA", "DIR",
		"PostgreSQL data directory",
	F(pg_data), 0},
	{"pg-host", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"pg_host", "PGBKP_PG_HOST", "HOST",
		"PostgreSQL host or socket directory (default: the local socket)",
	F(pg_host), 0},
	{"pg-port", 0, OPT_INT, "5432", 1, 65535, NULL, 0,
		"pg_port", "PGBKP_PG_PORT", "PORT",
		"PostgreSQL port",
	F(pg_port), 0},
	{"pg-user", 0, OPT_STRING, "postgres", 0, 0, NULL, 0,
		"pg_user", "PGBKP_PG_USER", "USER",
		"PostgreSQL user name",
	F(pg_user), 0},
	{"engine", 0, OPT_ENUM, "pgbkp", 0, 0, engines, 0,
		"engine", "PGBKP_ENGINE", "ENGINE",
		"pgbackrest: work on the repository the cluster's pgBackRest uses (Pigsty's: stanza = the cluster, "
		"config " REPODEF_PGBR_CONFIG ") instead of the configured ones",
	F(engine), 0},
	{"pg-database", 0, OPT_STRING, "postgres", 0, 0, NULL, 0,
		"pg_database", "PGBKP_PG_DATABASE", "DBNAME",
		"database to connect to",
	F(pg_database), 0},
	{"log-level", 0, OPT_ENUM, "info", 0, 0, log_levels, 0,
		"log_level", "PGBKP_LOG_LEVEL", "LEVEL",
		"least severe messages written to stderr",
	F(log_level), OPTF_ENUM_INDEX},
	{"log-path", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"log_path", "PGBKP_LOG_PATH", "DIR",
		"also log to DIR/pgbkp-CLUSTER-COMMAND.log, in pgBackRest's line format (Pigsty's pgbackrest_log_dir)",
	F(log_path), 0},
	{"log-level-file", 0, OPT_ENUM, "info", 0, 0, log_levels, 0,
		"log_level_file", "PGBKP_LOG_LEVEL_FILE", "LEVEL",
		"least severe level written to the log file",
	F(log_level_file), OPTF_ENUM_INDEX},
	{"compress-level", 0, OPT_INT, "3", 1, 19, NULL, 0,
		"compress_level", "PGBKP_COMPRESS_LEVEL", "N",
		"zstd compression level",
	F(compress_level), 0},
	{"archive-timeout", 0, OPT_INT, "60", 1, 86400, NULL, 0,
		"archive_timeout", "PGBKP_ARCHIVE_TIMEOUT", "SECONDS",
		"how long to wait for WAL to reach the repository",
	F(archive_timeout), 0},
	{"instance", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"instance", "PGBKP_INSTANCE", "NAME",
		"the cluster member this pgbkp runs for, as <pg_cluster>-<pg_seq> (default: found by this machine's addresses)",
	F(instance), 0},
	{"host", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		NULL, "PGBKP_HOST", "ADDR",
		"the cluster member this pgbkp runs for, by its inventory address",
	F(host), 0},
	{"patroni", 0, OPT_BOOL, "true", 0, 0, NULL, 0,
		"patroni", "PGBKP_PATRONI", NULL,
		"ask Patroni's REST API which member is the primary (else libpq, read-write)",
	F(patroni), 0},
	{"patroni-port", 0, OPT_INT, "8008", 1, 65535, NULL, 0,
		"patroni_port", "PGBKP_PATRONI_PORT", "PORT",
		"port of Patroni's REST API on each member",
	F(patroni_port), 0},
	{"patroni-ssl", 0, OPT_BOOL, "false", 0, 0, NULL, 0,
		"patroni_ssl", "PGBKP_PATRONI_SSL", NULL,
		"Patroni's REST API is HTTPS (Pigsty's patroni_ssl_enabled), its certificate verified",
	F(patroni_ssl), 0},
	{"patroni-ca-file", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"patroni_ca_file", "PGBKP_PATRONI_CA_FILE", "FILE",
		"CA certificates to verify Patroni's REST API with (default: the system's, where Pigsty installs its CA)",
	F(patroni_ca_file), 0},
	{"patroni-username", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"patroni_username", "PGBKP_PATRONI_USERNAME", "USER",
		"user of the Patroni REST API's basic auth, for pitr's pause and resume (Pigsty's patroni_username)",
	F(patroni_username), 0},
	{"patroni-password", 0, OPT_STRING, NULL, 0, 0, NULL, 0,
		"patroni_password", "PGBKP_PATRONI_PASSWORD", "PASSWORD",
		"password of the Patroni REST API's basic auth (Pigsty's patroni_password); configuration or environment only",
	F(patroni_password), OPTF_SECRET},
	{"member-timeout", 0, OPT_INT, "3", 1, 60, NULL, 0,
		"member_timeout", "PGBKP_MEMBER_TIMEOUT", "SECONDS",
		"how long to wait for each cluster member when looking for the primary",
	F(member_timeout), 0},
	{"jobs", 'j', OPT_INT, "0", 0, 64, NULL, 0,
		"jobs", "PGBKP_JOBS", "N",
		"worker threads for backup, restore and verify (0: one per CPU)",
	F(jobs), 0},
	{"bundle-size", 0, OPT_INT, "64", 1, 1024, NULL, 0,
		"bundle_size", "PGBKP_BUNDLE_SIZE", "MIB",
		"target size of bundle objects, in MiB",
	F(bundle_size), 0},
	{"start-fast", 0, OPT_BOOL, "true", 0, 0, NULL, 0,
		"start_fast", "PGBKP_START_FAST", NULL,
		"request an immediate checkpoint when a backup starts",
	F(start_fast), 0},
	{"progress", 0, OPT_BOOL, "true", 0, 0, NULL, 0,
		"progress", "PGBKP_PROGRESS", NULL,
		"report progress (a line redrawn on a terminal, else a log line every 10 percent)",
	F(progress), 0},
	{"help", 'h', OPT_FLAG, NULL, 0, 0, NULL, 0,
		NULL, NULL, NULL,
		"show help (for COMMAND, if given), then exit",
	F(help), 0},
	{"version", 0, OPT_FLAG, NULL, 0, 0, NULL, 0,
		NULL, NULL, NULL,
		"show the version, then exit",
	F(version), 0},
	{"if-primary", 0, OPT_FLAG, NULL, 0, 0, NULL, 0,
		NULL, NULL, NULL,
		"on a cluster member that is not the primary now, print \"skipped\" and exit 0 (for cron lines run on every node)",
	F(if_primary), 0},
	{"if-replica", 0, OPT_FLAG, NULL, 0, 0, NULL, 0,
		NULL, NULL, NULL,
		"on the cluster's primary, print \"skipped\" and exit 0 (scheduled drills with run_on: replica)",
	F(if_replica), 0},
	{"help-troff", 0, OPT_FLAG, NULL, 0, 0, NULL, 0,
		NULL, NULL, NULL,
		"print the option reference as troff for the man page",
	F(help_troff), OPTF_HIDDEN},

	/* backup */
	{"type", 0, OPT_ENUM, "full", 0, 0, backup_types, CMD_BIT(CMD_BACKUP),
		"type", "PGBKP_TYPE", "TYPE",
		"full; diff (changes since the last full); incr (since the last backup); auto (full when due, else incr)",
	F(type), 0},
	{"backup-standby", 0, OPT_ENUM, "off", 0, 0, standby_modes, CMD_BIT(CMD_BACKUP),
		"backup_standby", "PGBKP_BACKUP_STANDBY", "MODE",
		"read the data files from a streaming replica: off; prefer (the primary when none is healthy); require",
	F(backup_standby), 0},
	{"full-interval", 0, OPT_INT, "7", 1, 3650, NULL, CMD_BIT(CMD_BACKUP),
		"full_interval", "PGBKP_FULL_INTERVAL", "DAYS",
		"with --type auto: take a full backup when the newest full is this many days old",
	F(full_interval), 0},
	{"expire", 0, OPT_BOOL, "true", 0, 0, NULL, CMD_BIT(CMD_BACKUP),
		"expire", "PGBKP_EXPIRE", NULL,
		"apply the retention policy after a successful backup",
	F(expire_after_backup), 0},
	{"retention-full", 0, OPT_INT, "2", 1, 9999, NULL, CMD_BIT(CMD_BACKUP) | CMD_BIT(CMD_EXPIRE),
		"retention_full", "PGBKP_RETENTION_FULL", "N",
		"full backups to keep (count), or days of full backups to keep (time); unset, a pgBackRest repository keeps pgBackRest's own",
	F(retention_full), 0},
	{"retention-full-type", 0, OPT_ENUM, "count", 0, 0, retention_types, CMD_BIT(CMD_BACKUP) | CMD_BIT(CMD_EXPIRE),
		"retention_full_type", "PGBKP_RETENTION_FULL_TYPE", "TYPE",
		"count: keep the newest N full backups; time: keep what recovery to any moment of the last N days needs",
	F(retention_full_type), 0},
	{"dry-run", 0, OPT_FLAG, NULL, 0, 0, NULL, CMD_BIT(CMD_EXPIRE) | RESTORE | PITR,
		NULL, NULL, NULL,
		"print what would be done (expire: removed; restore, pitr: the plan), change nothing",
	F(dry_run), 0},

	/* restore */
	{"target-dir", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | CLONE | DRILL,
		NULL, NULL, "DIR",
		"restore into DIR instead of --pg-data (clone: the new data directory; drill: instead of a scratch directory)",
	F(target_dir), 0},
	{"set", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, "LABEL",
		"restore this backup, or latest for the newest one (default: the newest one that reaches the target)",
	F(set), 0},
	{"time", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | CLONE | DRILL | PITR | PITRM,
		NULL, NULL, "TIMESTAMP",
		"recover up to this time: YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|Z]; local time without a zone",
	F(target_time), OPTF_TARGET},
	{"lsn", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, "LSN",
		"recover up to this WAL location",
	F(target_lsn), OPTF_TARGET},
	{"xid", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, "XID",
		"recover up to this transaction",
	F(target_xid), OPTF_TARGET},
	{"name", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | CLONE | DRILL | PITR | PITRM,
		NULL, NULL, "NAME",
		"restore: recover up to this named restore point; clone: the copy's cluster name (its WAL is archived under it)",
	F(target_name), OPTF_TARGET},
	{"immediate", 0, OPT_FLAG, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, NULL,
		"stop recovery as soon as the backup is consistent",
	F(target_immediate), OPTF_TARGET},
	{"target-exclusive", 0, OPT_FLAG, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, NULL,
		"stop just before the --time, --lsn or --xid target instead of just after it",
	F(target_exclusive), 0},
	{"target-timeline", 0, OPT_STRING, NULL, 0, 0, NULL, RESTORE | DRILL | PITR | PITRM,
		NULL, NULL, "TIMELINE",
		"the timeline recovery follows: latest, current (the backup's) or a number (default: the one that holds the target)",
	F(target_timeline), 0},
	{"target-action", 0, OPT_ENUM, "pause", 0, 0, target_actions, RESTORE,
		NULL, NULL, "ACTION",
		"what the server does when it reaches the recovery target",
	F(target_action), 0},
	{"archive-mode", 0, OPT_ENUM, NULL, 0, 0, archive_modes, RESTORE,
		"archive_mode", "PGBKP_ARCHIVE_MODE", "MODE",
		"archive_mode of the restored server (default: chosen by pgbkp)",
	F(archive_mode), 0},
	{"delta", 0, OPT_FLAG, NULL, 0, 0, NULL, RESTORE | PITR | PITRM,
		NULL, NULL, NULL,
		"restore over an existing data directory, rewriting changed files only",
	F(delta), 0},
	{"force", 0, OPT_FLAG, NULL, 0, 0, NULL, RESTORE,
		NULL, NULL, NULL,
		"restore into a non-empty directory, replacing its contents",
	F(force), 0},
	{"standby", 0, OPT_FLAG, NULL, 0, 0, NULL, RESTORE,
		NULL, NULL, NULL,
		"rebuild a replica: the newest backup, standby.signal and primary_conninfo to the current primary",
	F(standby), 0},
	{"replication-user", 0, OPT_STRING, "replicator", 0, 0, NULL, RESTORE,
		"replication_user", "PGBKP_REPLICATION_USER", "USER",
		"restore --standby: the user the replica streams as (Pigsty's pg_replication_username)",
	F(replication_user), 0},
	{"port", 0, OPT_INT, NULL, 1, 65535, NULL, CLONE | DRILL,
		NULL, NULL, "PORT",
		"clone: the port the copy listens on (required; must be free); drill: also listen on localhost:PORT (default: a private unix socket only)",
	F(clone_port), 0},
	{"tablespace-map", 0, OPT_LIST, NULL, 0, 0, NULL, RESTORE | DRILL,
		NULL, NULL, "OID=DIR",
		"restore the tablespace with this OID to DIR; may be repeated",
	F(tablespace_map), 0},

	/* verify */
	{"since", 0, OPT_STRING, NULL, 0, 0, NULL, CMD_BIT(CMD_VERIFY),
		NULL, NULL, "LABEL|TIME|last",
		"check only the backups that stopped and the WAL archived since this backup, time or the last clean verify (last)",
	F(verify_since), 0},

	/* check (monitoring) */
	{"max-backup-age", 0, OPT_STRING, NULL, 0, 0, NULL, CMD_BIT(CMD_CHECK),
		"max_backup_age", "PGBKP_MAX_BACKUP_AGE", "DURATION",
		"monitoring: stale (exit 16) when the newest backup stopped longer ago than DURATION (26h, 1d12h, 90m, seconds)",
	F(max_backup_age), 0},
	{"max-archive-age", 0, OPT_STRING, NULL, 0, 0, NULL, CMD_BIT(CMD_CHECK),
		"max_archive_age", "PGBKP_MAX_ARCHIVE_AGE", "DURATION",
		"monitoring: stale (exit 16) when the newest WAL segment was archived longer ago than DURATION",
	F(max_archive_age), 0},
	{"min-backups", 0, OPT_INT, "0", 0, 100000, NULL, CMD_BIT(CMD_CHECK),
		"min_backups", "PGBKP_MIN_BACKUPS", "N",
		"monitoring: stale (exit 16) with fewer than N backups in the repository",
	F(min_backups), 0},

	/* drill */
	{"check-sql", 0, OPT_MULTI, NULL, 0, 0, NULL, DRILL,
		NULL, NULL, "FILE",
		"run the SQL checks in FILE on the restored copy (-- name:, -- database:, -- expect: OP VALUE); may be repeated",
	F(check_sql), 0},
	{"junit", 0, OPT_STRING, NULL, 0, 0, NULL, DRILL,
		NULL, NULL, "FILE",
		"also write the drill's report as JUnit XML to FILE (one test case per check)",
	F(junit), 0},
	{"keep", 0, OPT_FLAG, NULL, 0, 0, NULL, DRILL,
		NULL, NULL, NULL,
		"keep the restored copy (stopped) and its server log instead of removing them",
	F(keep), 0},
	{"thorough", 0, OPT_FLAG, NULL, 0, 0, NULL, DRILL,
		NULL, NULL, NULL,
		"amcheck also checks that every heap tuple is indexed and the B-tree parent links (slower)",
	F(thorough), 0},
	{"drill-timeout", 0, OPT_INT, "3600", 1, 604800, NULL, DRILL,
		"drill_timeout", "PGBKP_DRILL_TIMEOUT", "SECONDS",
		"how long the drill's server may take to recover, and each check to run",
	F(drill_timeout), 0},

	/* archive-get */
	{"archive-get-prefetch", 0, OPT_INT, "8", 0, 256, NULL, CMD_BIT(CMD_ARCHIVE_GET),
		"archive_get_prefetch", "PGBKP_ARCHIVE_GET_PREFETCH", "N",
		"archive-get also fetches the next N segments at once, verified, into the spool (0: off)",
	F(archive_get_prefetch), 0},
	{"archive-get-queue-max", 0, OPT_INT, "512", 16, 1048576, NULL, CMD_BIT(CMD_ARCHIVE_GET),
		"archive_get_queue_max", "PGBKP_ARCHIVE_GET_QUEUE_MAX", "MIB",
		"at most this many MiB of segments fetched ahead",
	F(archive_get_queue_max), 0},
	{"spool-path", 0, OPT_STRING, NULL, 0, 0, NULL,
		CMD_BIT(CMD_ARCHIVE_GET) | CMD_BIT(CMD_SPOOL_CLEAN) | CMD_BIT(CMD_ARCHIVE_PUSH),
		"spool_path", "PGBKP_SPOOL_PATH", "DIR",
		"where archive-get keeps what it fetched ahead and the asynchronous archive-push its records "
		"(default: spool/ beside the data directory, Pigsty's /pg/spool)",
	F(spool_path), 0},

	/* archive-push */
	{"archive-async", 0, OPT_BOOL, "false", 0, 0, NULL, CMD_BIT(CMD_ARCHIVE_PUSH),
		"archive_async", "PGBKP_ARCHIVE_ASYNC", NULL,
		"a pusher process pushes the ready WAL files ahead, in parallel; archive-push still returns 0 only "
		"once its file is in every repository",
	F(archive_async), 0},
	{"wal-compress-threads", 0, OPT_INT, "0", 0, 16, NULL, CMD_BIT(CMD_ARCHIVE_PUSH) | CMD_BIT(CMD_STREAM),
		"wal_compress_threads", "PGBKP_WAL_COMPRESS_THREADS", "N",
		"threads that compress one WAL file as archive-push or stream stores it (0: one per CPU, at most 4; "
		"the asynchronous pusher compresses each file in one thread, archive_push_jobs files at once)",
	F(wal_compress_threads), 0},
	{"archive-push-jobs", 0, OPT_INT, "4", 1, 64, NULL, CMD_BIT(CMD_ARCHIVE_PUSH),
		"archive_push_jobs", "PGBKP_ARCHIVE_PUSH_JOBS", "N",
		"with archive_async: WAL files the pusher pushes at once",
	F(archive_push_jobs), 0},
	{"archive-async-idle", 0, OPT_INT, "30", 1, 86400, NULL, CMD_BIT(CMD_ARCHIVE_PUSH),
		"archive_async_idle", "PGBKP_ARCHIVE_ASYNC_IDLE", "SECONDS",
		"with archive_async: the pusher exits after this long without a WAL file stored",
	F(archive_async_idle), 0},
	{"archive-backlog-alert", 0, OPT_INT, "0", 0, 16777216, NULL,
		CMD_BIT(CMD_CHECK) | CMD_BIT(CMD_METRICS) | CMD_BIT(CMD_SCHEDULE),
		"archive_backlog_alert", "PGBKP_ARCHIVE_BACKLOG_ALERT", "MIB",
		"check fails (and a metric says so) when the WAL waiting to be archived in pg_data exceeds this "
		"many MiB (0: no alert)",
	F(archive_backlog_alert), 0},
	/* stream */
	{"stream-slot", 0, OPT_STRING, "pgbkp_stream", 0, 0, NULL, CMD_BIT(CMD_STREAM) | CMD_BIT(CMD_BACKUP),
		"stream_slot", "PGBKP_STREAM_SLOT", "NAME",
		"the physical replication slot stream uses (created when missing)",
	F(stream_slot), 0},
	{"stream", 0, OPT_BOOL, "false", 0, 0, NULL, CMD_BIT(CMD_SCHEDULE),
		"stream", "PGBKP_STREAM", NULL,
		"the scheduler also runs pgbkp stream as a child, restarted whenever it ends",
	F(stream), 0},
	{"stream-flush-seconds", 0, OPT_INT, "0", 0, 3600, NULL, CMD_BIT(CMD_STREAM),
		"stream_flush_seconds", "PGBKP_STREAM_FLUSH_SECONDS", "SECONDS",
		"how often stream replaces the in-progress segment's object (0: 1 s, 5 s with an S3 repository)",
	F(stream_flush_seconds), 0},
	{"synchronous", 0, OPT_BOOL, "false", 0, 0, NULL, CMD_BIT(CMD_STREAM),
		"synchronous", "PGBKP_SYNCHRONOUS", NULL,
		"stream makes received WAL durable in every repository and reports it as soon as the server has no "
		"more to send, so it can be a synchronous standby (application_name pgbkp_stream)",
	F(synchronous), 0},

	/* pitr */
	{"yes", 0, OPT_FLAG, NULL, 0, 0, NULL, PITR,
		NULL, NULL, NULL,
		"do it without asking for confirmation (pitr asks on a terminal and refuses elsewhere)",
	F(yes), 0},
	{"no-keep", 0, OPT_FLAG, NULL, 0, 0, NULL, PITR,
		NULL, NULL, NULL,
		"remove the primary's old data directory instead of keeping it aside (for when the disk cannot hold two copies)",
	F(no_keep), 0},
	{"undo", 0, OPT_FLAG, NULL, 0, 0, NULL, PITR,
		NULL, NULL, NULL,
		"put back the data directory the last pitr kept aside, and rebuild the replicas from it",
	F(undo), 0},
	{"pitr-timeout", 0, OPT_INT, "3600", 10, 604800, NULL, PITR | PITRM,
		"pitr_timeout", "PGBKP_PITR_TIMEOUT", "SECONDS",
		"how long pitr waits for each step: a server to stop, recovery to reach the target, the cluster to come back",
	F(pitr_timeout), 0},
	{"ssh-command", 0, OPT_STRING, "ssh -o BatchMode=yes -o ConnectTimeout=10", 0, 0, NULL, PITR,
		"ssh_command", "PGBKP_SSH_COMMAND", "COMMAND",
		"how pitr runs its steps on members whose address is not this machine's (words, no shell; then the host)",
	F(ssh_command), 0},
	{"stamp", 0, OPT_STRING, NULL, 0, 0, NULL, PITRM,
		NULL, NULL, "STAMP",
		"pitr-member: the suffix of the directory kept aside (DATA.pitr-STAMP)",
	F(stamp), 0},

	/* schedule */
	{"schedule-timezone", 0, OPT_STRING, NULL, 0, 0, NULL, CMD_BIT(CMD_SCHEDULE) | CMD_BIT(CMD_CRON),
		"schedule_timezone", "PGBKP_SCHEDULE_TIMEZONE", "ZONE",
		"time zone of the schedule's cron expressions (IANA name, e.g. Europe/Berlin; default: the node's, as cron's)",
	F(schedule_timezone), 0},
	{"schedule-jitter", 0, OPT_INT, "0", 0, 3600, NULL, CMD_BIT(CMD_SCHEDULE),
		"schedule_jitter", "PGBKP_SCHEDULE_JITTER", "SECONDS",
		"start each run up to this many seconds late, at random (a job's jitter: overrides it)",
	F(schedule_jitter), 0},
	{"schedule-grace", 0, OPT_INT, "60", 0, 10080, NULL, CMD_BIT(CMD_SCHEDULE),
		"schedule_grace", "PGBKP_SCHEDULE_GRACE", "MINUTES",
		"at start-up, run a job once if its last due run within this many minutes was missed",
	F(schedule_grace), 0},
	{"metrics-port", 0, OPT_INT, "9854", 0, 65535, NULL, CMD_BIT(CMD_SCHEDULE) | CMD_BIT(CMD_METRICS),
		"metrics_port", "PGBKP_METRICS_PORT", "PORT",
		"port of the Prometheus metrics endpoint (0: none)",
	F(metrics_port), 0},
	{"metrics-address", 0, OPT_STRING, NULL, 0, 0, NULL, CMD_BIT(CMD_SCHEDULE) | CMD_BIT(CMD_METRICS),
		"metrics_address", "PGBKP_METRICS_ADDRESS", "ADDR",
		"address the metrics endpoint listens on (default: all)",
	F(metrics_address), 0},
	{"metrics-interval", 0, OPT_INT, "60", 1, 86400, NULL, CMD_BIT(CMD_SCHEDULE) | CMD_BIT(CMD_METRICS),
		"metrics_interval", "PGBKP_METRICS_INTERVAL", "SECONDS",
		"how often the metrics endpoint reads the repositories and the server again",
	F(metrics_interval), 0},
	{"history-keep", 0, OPT_INT, "1000", 10, 1000000, NULL, CMD_BIT(CMD_SCHEDULE),
		"history_keep", "PGBKP_HISTORY_KEEP", "N",
		"job history records kept in the repository",
	F(history_keep), 0},
	{"state-path", 0, OPT_STRING, PGBKP_STATE_PATH_DEFAULT, 0, 0, NULL,
		CMD_BIT(CMD_SCHEDULE) | CMD_BIT(CMD_INFO) | CMD_BIT(CMD_STATUS),
		"state_path", "PGBKP_STATE_PATH", "DIR",
		"pgbkp's state directory: the job history of a pgBackRest repository, which pgbkp never writes, "
		"is kept under DIR/CLUSTER/history/",
	F(state_path), 0},

	/* info */
	{"output", 0, OPT_ENUM, "text", 0, 0, output_formats, CMD_BIT(CMD_INFO) | CMD_BIT(CMD_STATUS) | CMD_BIT(CMD_CONFIG) | RESTORE | DRILL | PITR,
		NULL, NULL, "FORMAT",
		"output format",
	F(output), 0},
	{"user-crontab", 0, OPT_FLAG, NULL, 0, 0, NULL, CMD_BIT(CMD_CRON),
		NULL, NULL, NULL,
		"lines for a user's crontab (crontab -e, Pigsty's pg_crontab): without the user column",
	F(user_crontab), 0},
	{"render", 0, OPT_FLAG, NULL, 0, 0, NULL, CMD_BIT(CMD_CONFIG),
		NULL, NULL, NULL,
		"print a self-contained configuration file for this member (--instance) with only its cluster's settings and secrets",
	F(render), 0},
	{"render-pgbackrest", 0, OPT_FLAG, NULL, 0, 0, NULL, CMD_BIT(CMD_CONFIG),
		NULL, NULL, NULL,
		"print the pgbackrest.conf Pigsty's template renders for the cluster from the inventory "
		"(/etc/pgbackrest/pgbackrest.conf)",
	F(render_pgbackrest), 0},
};

const int	option_count = sizeof(option_table) / sizeof(option_table[0]);

const OptionDef *
option_find(const char *name)
{
	for (int i = 0; i < option_count; i++)
		if (strcmp(option_table[i].name, name) == 0)
			return &option_table[i];
	return NULL;
}

const OptionDef *
option_find_yaml(const char *key)
{
	for (int i = 0; i < option_count; i++)
		if (option_table[i].yaml_key && strcmp(option_table[i].yaml_key, key) == 0)
			return &option_table[i];
	return NULL;
}

int
command_find(const char *name)
{
	for (int i = 0; i < CMD_COUNT; i++)
		if (strcmp(command_table[i].name, name) == 0)
			return i;
	return -1;
}

bool
option_applies(const OptionDef *opt, int cmd)
{
	if (opt->commands == 0 || cmd == CMD_CONFIG)
		return true;			/* pgbkp config shows every setting */
	return cmd >= 0 && cmd < CMD_COUNT && (opt->commands & CMD_BIT(cmd)) != 0;
}

/* "backup, restore" */
void
option_commands(const OptionDef *opt, char *buf, size_t len)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (int c = 0; c < CMD_COUNT && n < len; c++)
		if (opt->commands & CMD_BIT(c))
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", command_table[c].name);
}

/* Descriptions for --help and the man page. */

static void
append(char *buf, size_t len, const char *fmt,...) PGB_PRINTF(3, 4);

static void
append(char *buf, size_t len, const char *fmt,...)
{
	size_t		n = strlen(buf);
	va_list		ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* "1..65535; default 5432; env PGBKP_PG_PORT; yaml pg_port" */
void
option_details(const OptionDef *opt, char *buf, size_t len)
{
	buf[0] = '\0';
	if (opt->type == OPT_INT)
		append(buf, len, "%d..%d", opt->min, opt->max);
	if (opt->type == OPT_ENUM)
		for (int i = 0; opt->values[i]; i++)
			append(buf, len, "%s%s", i ? "|" : "", opt->values[i]);
	if (opt->default_value)
		append(buf, len, "%sdefault %s", buf[0] ? "; " : "", opt->default_value);
	if (opt->env_name)
		append(buf, len, "%senv %s", buf[0] ? "; " : "", opt->env_name);
	if (opt->yaml_key)
		append(buf, len, "%syaml %s", buf[0] ? "; " : "", opt->yaml_key);
}

/* "restore [OPTIONS]", "archive-get WAL_NAME DEST_PATH" */
void
command_synopsis(int cmd, char *buf, size_t len)
{
	const CommandDef *c = &command_table[cmd];
	bool		has_options = false;

	for (int i = 0; i < option_count; i++)
		if (option_table[i].commands & CMD_BIT(cmd))
			has_options = true;
	snprintf(buf, len, "%s%s%s%s", c->name, c->args ? " " : "",
			 c->args ? c->args : "", has_options ? " [OPTIONS]" : "");
}
