/*
 * The effective configuration of one pgbkp run: every option merged from the
 * command line, the environment (PGBKP_*) and the YAML file (a pgbkp file or
 * a Pigsty inventory), in that order of precedence, from the one declarative
 * option table in options.c.  Built once in main, then read-only.
 */
#ifndef PGBKP_CONFIG_H
#define PGBKP_CONFIG_H

#include <stdbool.h>
#include "common/error.h"
#include "config/repodef.h"

#define CONFIG_MAX_TABLESPACE_MAP 64
#define CONFIG_MAX_LIST 16
#define CONFIG_MAX_REPOS 8
#define CONFIG_MAX_MEMBERS 16
#define CONFIG_MAX_JOBS 32

/* One entry of the pgbkp: section's schedule list. */
typedef struct ScheduleJob
{
	char		name[64];		/* name:, else command[-type] */
	char		cron[128];
	char		command[16];	/* backup | verify | expire | check | drill */
	char		type[8];		/* backup type, or "" */
	char		run_on[16];		/* primary | replica | any; "": drill any, others primary */
	int			jitter;			/* seconds, -1 = --schedule-jitter */
	char	   *where;			/* FILE:LINE */
} ScheduleJob;

/* One entry of the pgbkp: section's drill_checks list (see drill/usercheck.h). */
typedef struct DrillCheckDef
{
	char		name[96];
	char		database[128];
	char		expect[300];
	char	   *sql;
	char	   *where;			/* FILE:LINE */
} DrillCheckDef;

#define CONFIG_MAX_DRILL_CHECKS 32

/* A member of the cluster in the inventory: hosts: {ADDR: {pg_seq, ...}}. */
typedef struct ClusterMember
{
	char		name[96];		/* <pg_cluster>-<pg_seq> */
	char		addr[64];		/* the inventory's host key */
	int			seq;
	char		role[16];		/* pg_role: only the initial role, never trusted */
	int			pg_port;		/* host var, else the cluster's pg_port */
	int			patroni_port;
	bool		patroni_ssl;	/* the REST API is HTTPS */
	char	   *patroni_ca_file;	/* NULL: the system's CA store */
	char	   *pg_data;		/* host var or NULL */
	char	   *pg_host;		/* host var or NULL */
	char	   *where;			/* FILE:LINE */
} ClusterMember;

/* A repeatable option's values, in the order given. */
typedef struct StringList
{
	int			count;
	char	   *values[CONFIG_MAX_LIST];
} StringList;

typedef struct TablespaceMap
{
	char	   *key;			/* tablespace OID or name, as given */
	char	   *path;			/* new location */
} TablespaceMap;

#define CONFIG_OPTION_MAX 96		/* bound on the option table's rows */

typedef struct Config
{
	/* the command word ("backup", "restore", ...), NULL for --help/--version */
	const char *command;
	int			command_id;		/* its CommandId (config/options.h), -1 with no command */
	/* positional arguments after the command */
	int			nargs;
	char	  **args;

	bool		help;			/* --help given */
	const char *help_topic;		/* "pgbkp help TOPIC": a command or "options"; NULL: see command */
	bool		version;		/* --version given */
	bool		help_troff;		/* hidden --help-troff given */
	bool		if_primary;		/* --if-primary given */
	bool		if_replica;		/* --if-replica given */

	/* global options */
	char	   *config_file;	/* the YAML file actually read, or NULL */
	char	   *cluster;
	char	   *repo_path;		/* --repo-path: one posix repository named "default" */
	char	   *repo;			/* --repo NAME: only this repository */
	char	   *pg_data;
	char	   *pg_host;
	int			pg_port;		/* default 5432 */
	char	   *pg_user;		/* default "postgres" */
	char	   *pg_database;	/* default "postgres" */
	int			log_level;		/* LogLevel, default LOG_INFO */
	char	   *log_path;		/* directory of the log files, or NULL */
	int			log_level_file; /* LogLevel of the log file, default LOG_INFO */
	int			compress_level; /* zstd level 1..19, default 3 */
	int			archive_timeout;	/* seconds to wait for WAL, default 60 */
	int			bundle_size;	/* MiB; target size of bundle objects, default 64 */
	bool		start_fast;		/* immediate checkpoint at backup start, default true */
	bool		progress;		/* progress line on a terminal, default true */
	int			jobs;			/* worker threads; 0 = one per CPU */
	char	   *instance;		/* --instance NAME */
	char	   *host;			/* --host ADDR */
	bool		patroni;		/* find the primary through Patroni */
	int			patroni_port;
	bool		patroni_ssl;	/* the REST API is HTTPS */
	char	   *patroni_ca_file;	/* NULL: the system's CA store */
	int			member_timeout; /* seconds */
	char	   *patroni_username;	/* the REST API's basic auth, for pause/resume */
	char	   *patroni_password;	/* secret: configuration or environment only */
	char	   *ssh_command;	/* pitr: how members on other hosts are reached */

	/* command options */
	char	   *type;			/* backup --type: full (default) | diff | incr | auto */
	char	   *backup_standby; /* backup: off (default) | prefer | require */
	int			full_interval;	/* days, for --type auto */
	bool		expire_after_backup;	/* backup: run expire afterwards */
	int			retention_full;
	char	   *retention_full_type;	/* count | time */
	bool		dry_run;		/* expire --dry-run */
	char	   *target_dir;		/* restore */
	char	   *set;			/* restore --set LABEL */
	char	   *target_time;	/* restore --time */
	char	   *target_lsn;		/* restore --lsn */
	char	   *target_xid;		/* restore --xid */
	char	   *target_name;	/* restore --name */
	bool		target_immediate;	/* restore --immediate */
	bool		target_exclusive;	/* restore --target-exclusive */
	char	   *target_timeline;	/* restore --target-timeline: latest | current | N; NULL: chosen */
	char	   *target_action;	/* pause (default) | promote | shutdown */
	char	   *archive_mode;	/* preserve | off; NULL = choose */
	bool		delta;
	bool		force;
	bool		standby;		/* restore --standby */
	char	   *replication_user;	/* restore --standby: primary_conninfo's user */
	/* set by clone for the restore it runs: more settings for postgresql.auto.conf */
	int			restore_nextra;
	const char *restore_extra_names[4];
	const char *restore_extra_values[4];
	/* set by pitr-member recover: pitr's plan checked the window's end, which a pgBackRest
	 * repository cannot read again once the data directory is set aside */
	bool		window_end_checked;
	int			clone_port;		/* clone --port; drill --port */
	StringList	check_sql;		/* drill --check-sql FILE... */
	char	   *junit;			/* drill --junit FILE */
	bool		keep;			/* drill --keep */
	bool		thorough;		/* drill --thorough */
	int			drill_timeout;	/* drill --drill-timeout SECONDS */
	bool		yes;			/* pitr --yes: no confirmation */
	bool		no_keep;		/* pitr --no-keep */
	bool		undo;			/* pitr --undo */
	int			pitr_timeout;	/* pitr: seconds for each wait */
	char	   *stamp;			/* pitr-member --stamp */
	int			archive_get_prefetch;	/* segments fetched ahead by archive-get */
	int			archive_get_queue_max;	/* MiB the prefetch spool may hold */
	char	   *spool_path;		/* NULL: the data directory's parent's spool/ */
	bool		archive_async;	/* archive-push: a pusher pushes ahead */
	int			archive_push_jobs;	/* files the pusher pushes at once */
	int			wal_compress_threads;	/* threads compressing one WAL file; 0: one per CPU, at most 4 */
	int			archive_async_idle; /* seconds before an idle pusher exits */
	int			archive_backlog_alert;	/* MiB of ready WAL that fails check; 0 off */
	char	   *stream_slot;	/* stream: physical replication slot */
	bool		stream;			/* schedule: run pgbkp stream as a service */
	int			stream_flush_seconds;	/* stream: 0 = 1 (posix) or 5 (S3) */
	bool		synchronous;	/* stream: flush and report whenever the server is idle */
	int			ndrill_checks;	/* the pgbkp: section's drill_checks */
	DrillCheckDef drill_checks[CONFIG_MAX_DRILL_CHECKS];
	char	   *verify_since;	/* verify --since LABEL|TIME|last, or NULL */
	char	   *max_backup_age; /* check: a duration, or NULL */
	char	   *max_archive_age;
	int			min_backups;	/* check: 0 = not checked */
	char	   *output;			/* info: text (default) | json */
	bool		render;			/* config --render */
	bool		render_pgbackrest;	/* config --render-pgbackrest */
	bool		user_crontab;	/* cron --user-crontab */
	/* where each option's value came from ("default", "--name", "PGBKP_X", "FILE:LINE (key)"), by option index */
	char	   *source[CONFIG_OPTION_MAX];
	int			ntablespace_map;
	TablespaceMap tablespace_map[CONFIG_MAX_TABLESPACE_MAP];

	/* the repositories, in configured order (see repodef.h) */
	int			nrepos;
	RepoDef		repos[CONFIG_MAX_REPOS];
	int			repo_current;	/* the one commands work on (index into repos) */

	/* the cluster's members from the inventory, and which one this is (-1: none/unknown) */
	int			nsched;
	ScheduleJob sched[CONFIG_MAX_JOBS];
	char	   *schedule_timezone;
	int			schedule_jitter;	/* seconds of random delay, at most */
	int			schedule_grace; /* minutes: a missed run is made up within this */
	int			metrics_port;	/* 0: no endpoint */
	char	   *metrics_address;
	int			metrics_interval;	/* seconds between reads of the repositories */
	int			history_keep;
	char	   *engine;			/* pgbkp | pgbackrest: pgBackRest's repository instead of the configured ones */
	char	   *state_path;		/* pgbkp's state directory (a pgBackRest repository's job history) */
	int			argc;			/* the command line, for the scheduler's reload and children */
	char	  **argv;

	int			nmembers;
	ClusterMember members[CONFIG_MAX_MEMBERS];
	int			self;
	char		self_note[256];	/* why self is -1, for messages */
} Config;

/*
 * Parse argv (argv[0] is the program), the environment and the YAML file.
 * On error fills err (EXIT_USAGE for command-line errors, EXIT_CONFIG for
 * file/environment errors: the message names the file and line, or the
 * variable) and returns -1.  Options valid only for some commands are refused
 * for the others.  Unknown commands are usage errors.
 */
int			config_load(Config *cfg, int argc, char **argv, PgbError *err);

void		config_free(Config *cfg);

#endif
