/* Helpers shared by commands (see cmd_common.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "cluster/primary.h"
#include "repo/catalog.h"
#include "repo/history.h"
#include "repo/keyring.h"
#include "repo/walarchive.h"
#include "restore/recovery_conf.h"

const CommandEntry command_handlers[] = {
	{"init", cmd_init, CMD_REPOS_EACH, false},
	{"backup", cmd_backup, CMD_REPOS_EACH, true},
	{"archive-push", cmd_archive_push, CMD_REPOS_EACH, false},
	{"archive-get", cmd_archive_get, CMD_REPOS_SELF, false},
	{"restore", cmd_restore, CMD_REPOS_SELF, false},
	{"info", cmd_info, CMD_REPOS_SELF, false},
	{"verify", cmd_verify, CMD_REPOS_EACH, false},
	{"check", cmd_check, CMD_REPOS_EACH, false},
	{"expire", cmd_expire, CMD_REPOS_EACH, false},
	{"status", cmd_status, CMD_REPOS_SELF, false},
	{"schedule", cmd_schedule, CMD_REPOS_SELF, false},
	{"metrics", cmd_metrics, CMD_REPOS_SELF, false},
	{"cron", cmd_cron, CMD_REPOS_SELF, false},
	{"clone", cmd_clone, CMD_REPOS_SELF, false},
	{"config", cmd_config, CMD_REPOS_SELF, false},
	{"drill", cmd_drill, CMD_REPOS_SELF, false},
	{"wal-index", cmd_wal_index, CMD_REPOS_EACH, false},
	{NULL, NULL, CMD_REPOS_SELF, false}
};

/*
 * With several repositories, each failure is logged as it happens (naming
 * the repository) and the others still run: a WAL segment or a backup should
 * reach every repository that works.  The command then fails with the first
 * failure's exit code.
 */
int
cmd_run(const CommandEntry *c, Config *cfg, PgbError *err)
{
	int			failed = 0;
	int			code = 0;
	char		names[256] = "";
	size_t		len = 0;
	bool		skip;

	if ((c->primary_only || cfg->if_primary) && (cmd_primary_gate(cfg, &skip, err) != 0 || skip))
		return skip ? 0 : -1;
	if (c->repos == CMD_REPOS_SELF || cfg->nrepos <= 1)
	{
		cfg->repo_current = 0;
		return c->handler(cfg, err);
	}
	for (int i = 0; i < cfg->nrepos; i++)
	{
		cfg->repo_current = i;
		pgb_error_clear(err);
		if (c->handler(cfg, err) == 0)
			continue;
		pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
		log_pgb_error(err);
		if (failed++ == 0)
			code = err->code;
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", cfg->repos[i].name);
	}
	pgb_error_clear(err);
	if (failed == 0)
		return 0;
	pgb_error(err, code, "%s failed in %d of %d repositories (%s)", c->name, failed, cfg->nrepos, names);
	return -1;
}

void
cmd_warn_passphrase(const Config *cfg, int index)
{
	static bool warned[CONFIG_MAX_REPOS];
	const RepoDef *def = &cfg->repos[index];

	if (index < cfg->nrepos && def->encrypted && !warned[index] && keyring_passphrase_is_weak(def->cipher_pass))
	{
		warned[index] = true;
		log_warn("the encryption passphrase of repository \"%s\" is a well-known default or too short: "
				 "anyone who knows it can read the backups; set a long random cipher_pass", def->name);
	}
}

Repo *
cmd_open_repo_at(const Config *cfg, int index, PgbError *err)
{
	const RepoDef *def = index < cfg->nrepos ? &cfg->repos[index] : NULL;
	Repo	   *repo = repo_open(def, cfg->cluster, err);

	if (repo != NULL && repo->encrypted)
		cmd_warn_passphrase(cfg, index);
	return repo;
}

Repo *
cmd_open_repo(const Config *cfg, PgbError *err)
{
	return cmd_open_repo_at(cfg, cfg->repo_current, err);
}

/* Whether the server pgbkp connects to (--pg-host) is in recovery; -1 with err when it cannot be asked. */
int
cmd_local_in_recovery(const Config *cfg, PgbError *err)
{
	DbConn	   *conn = cmd_connect(cfg, err);
	DbServerInfo si;
	int			rc;

	if (conn == NULL)
		return -1;
	rc = db_server_info(conn, &si, err) == 0 ? si.in_recovery : -1;
	db_close(conn);
	return rc;
}

int
cmd_member_role(const Config *cfg, char *note, size_t len, PgbError *err)
{
	int			primary;
	int			r;

	note[0] = '\0';
	if (cfg->nmembers > 0 && cfg->self >= 0)
	{
		const ClusterMember *self = &cfg->members[cfg->self];

		if (cluster_find_primary(cfg, NULL, &primary, err) != 0)
			return -1;
		if (primary == cfg->self)
		{
			snprintf(note, len, "%s (%s) is the primary of cluster \"%s\"", self->name, self->addr, cfg->cluster);
			return 1;
		}
		snprintf(note, len, "%s is a replica; the primary is %s (%s)", self->name,
				 cfg->members[primary].name, cfg->members[primary].addr);
		return 0;
	}
	/* this machine's member is unknown: the local server's own role decides */
	if ((r = cmd_local_in_recovery(cfg, err)) < 0)
		return -1;
	if (r == 1)
		snprintf(note, len, "the server at %s port %d is a replica", cfg->pg_host ? cfg->pg_host : "the local socket",
				 cfg->pg_port);
	return !r;
}

int
cmd_primary_gate(const Config *cfg, bool *skip, PgbError *err)
{
	char		note[512];

	*skip = false;
	if (cfg->nmembers == 0 && !cfg->if_primary)
		return 0;
	if (cfg->nmembers > 0 && cfg->self < 0)
		log_info("cannot tell which member of cluster \"%s\" this is (%s); asking the server at --pg-host",
				 cfg->cluster, cfg->self_note);
	switch (cmd_member_role(cfg, note, sizeof(note), err))
	{
		case 1:
			if (note[0])
				log_info("%s", note);
			return 0;
		case 0:
			*skip = true;
			printf("skipped: %s\n", note);
			fflush(stdout);
			return 0;
		default:
			return -1;
	}
}

DbConn *
cmd_connect(const Config *cfg, PgbError *err)
{
	DbParams	p = {.host = cfg->pg_host, .port = cfg->pg_port, .user = cfg->pg_user, .dbname = cfg->pg_database};

	return db_connect(&p, err);
}

DbConn *
cmd_connect_checked(const Config *cfg, const Repo *repo, DbServerInfo *info, PgbError *err)
{
	DbConn	   *conn = cmd_connect(cfg, err);

	if (conn == NULL)
		return NULL;
	if (db_server_info(conn, info, err) != 0)
	{
		db_close(conn);
		return NULL;
	}
	if (info->system_identifier != repo->info.system_identifier)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "the server is database system %" PRIu64 ", but cluster \"%s\" in the repository is system %" PRIu64,
				  info->system_identifier, repo->cluster, repo->info.system_identifier);
		pgb_hint(err, "check --pg-host/--pg-port and --cluster");
		db_close(conn);
		return NULL;
	}
	return conn;
}

int
cmd_require_archiving_primary(const DbServerInfo *si, const char *what, PgbError *err)
{
	if (si->in_recovery)
	{
		pgb_error(err, EXIT_REFUSED, "the server is a standby; %s runs against the primary", what);
		return pgb_hint(err, "point --pg-host and --pg-port at the primary");
	}
	if (strcmp(si->archive_mode, "off") == 0)
	{
		pgb_error(err, EXIT_CONFIG, "archive_mode is off, so WAL never reaches the repository");
		return pgb_hint(err, "set archive_mode = on and archive_command = 'pgbkp ... archive-push %%p', then restart PostgreSQL");
	}
	return 0;
}

int
cmd_wait_for_wal(Repo *repo, const char *const *names, int n, int timeout, PgbError *err)
{
	struct timespec start,
				now;
	int			next = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;)
	{
		int			rc;

		while (next < n && wal_exists(repo, names[next], err, &rc))
			next++;
		if (next < n && rc != 0)
			return -1;
		if (next == n)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout)
		{
			pgb_error(err, EXIT_TIMEOUT, "WAL file \"%s\" did not reach the repository within %d seconds",
					  names[next], timeout);
			return pgb_hint(err, "check that archive_command runs \"pgbkp archive-push %%p\" with the same --cluster and "
							"--repo-path, and look at pg_stat_archiver and the server log for failures");
		}
		usleep(100 * 1000);
	}
}

void
cmd_warn_corrupt(const Catalog *cat)
{
	for (int i = 0; i < cat->ncorrupt; i++)
		log_warn("backup %s is unusable: %s (run \"pgbkp verify\")", cat->corrupt[i], cat->corrupt_error[i]);
}

int
cmd_self_path(char *out, size_t len, PgbError *err)
{
	ssize_t		n = readlink("/proc/self/exe", out, len - 1);

	if (n < 0)
		return pgb_error(err, EXIT_IO, "could not determine the path of the pgbkp executable");
	out[n] = '\0';
	return 0;
}

int
cmd_self_command(const Config *cfg, const char *cluster, const char *repo, const char *tail,
				 char *out, size_t len, PgbError *err)
{
	char		self[PGB_PATH_MAX];
	char	   *q_self,
			   *q_cfg,
			   *q_cluster,
			   *q_repo_path,
			   *q_repo;
	/* --repo-path is passed on; configured repositories come from the file */
	bool		repo_path = cfg->repo_path && cfg->nrepos > 0 && strcmp(cfg->repos[0].name, "default") == 0;
	int			n = -1;

	if (cmd_self_path(self, sizeof(self), err) != 0)
		return -1;
	q_self = shell_quote(self);
	q_cfg = cfg->config_file ? shell_quote(cfg->config_file) : NULL;
	q_cluster = shell_quote(cluster);
	q_repo_path = repo_path ? shell_quote(cfg->repo_path) : NULL;
	q_repo = repo ? shell_quote(repo) : NULL;
	if (q_self && q_cluster && (q_cfg || !cfg->config_file) && (q_repo_path || !repo_path) && (q_repo || !repo))
		n = snprintf(out, len, "%s%s%s --cluster %s%s%s%s%s %s", q_self, q_cfg ? " --config " : "",
					 q_cfg ? q_cfg : "", q_cluster, q_repo_path ? " --repo-path " : "", q_repo_path ? q_repo_path : "",
					 q_repo ? " --repo " : "", q_repo ? q_repo : "", tail);
	free(q_self);
	free(q_cfg);
	free(q_cluster);
	free(q_repo_path);
	free(q_repo);
	if (n < 0)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	if ((size_t) n >= len)
		return pgb_error(err, EXIT_CONFIG, "the pgbkp command line for PostgreSQL is too long");
	return 0;
}

void
cmd_holder_text(char *out, size_t len, const char *what)
{
	char		host[256] = "unknown host";
	char		when[64];

	gethostname(host, sizeof(host) - 1);
	time_format_utc(time_now(), when, sizeof(when));
	snprintf(out, len, "%s on host %s, pid %d, since %s\n", what, host, (int) getpid(), when);
}

StorageLock *
cmd_lock_backups(Repo *repo, const char *what, PgbError *err)
{
	char		holder[512];
	char		path[PGB_PATH_MAX];

	cmd_holder_text(holder, sizeof(holder), what);
	if (repo_path(repo, path, REPO_BACKUP_LOCK) != 0)
	{
		pgb_error(err, EXIT_IO, "path too long for the lock of cluster \"%s\"", repo->cluster);
		return NULL;
	}
	return storage_lock(repo->storage, path, holder, err);
}

json_object *
cmd_job_json(const JobRecord *r)
{
	json_object *o = json_object_new_object();
	char		a[64];

	json_object_object_add(o, "job", json_object_new_string(r->job));
	json_object_object_add(o, "node", json_object_new_string(r->node));
	time_format_utc(r->start, a, sizeof(a));
	json_object_object_add(o, "start", json_object_new_string(a));
	time_format_utc(r->end, a, sizeof(a));
	json_object_object_add(o, "end", json_object_new_string(a));
	json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
	json_object_object_add(o, "exit_code", json_object_new_int(r->exit_code));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t) r->bytes));
	json_object_object_add(o, "label", json_object_new_string(r->label));
	json_object_object_add(o, "message", json_object_new_string(r->message));
	return o;
}

void
cmd_job_text(const JobRecord *r)
{
	char		a[64];

	time_format_utc(r->start, a, sizeof(a));
	printf("    %s  %s on %s: %s (%.1f s", a, r->job, r->node, r->outcome, (double) (r->end - r->start) / 1e6);
	if (r->bytes)
		printf(", %.1f MB", r->bytes / 1048576.0);
	if (r->label[0])
		printf(", %s", r->label);
	printf(")%s%s\n", r->message[0] ? ": " : "", r->message);
}
