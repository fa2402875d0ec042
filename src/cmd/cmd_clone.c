/*
 * pgbkp clone --time TS --target-dir DIR --port PORT [--name NEW]: an
 * independent copy of the cluster as of TS, running.
 *
 * The copy is a restore (the backup and WAL the target needs, checked before
 * anything is written) into an empty directory, with its own port and
 * cluster_name; archiving is off, or with --name NEW on under the cluster
 * name NEW (its namespace is created from this cluster's identity, so the
 * copy's new timeline never mixes with the original's WAL).  pgbkp then
 * starts it, waits until recovery reaches the target and the copy is
 * promoted, and prints how to connect.  From a pgBackRest repository the
 * restore is pgBackRest's (cmd/pgbr.h: the same plan and window check
 * first), the copy's settings go with it, and its restore_command is
 * pgBackRest's archive-get; --name is refused there (the copy's WAL would
 * need a pgbkp repository).  A port in use and a non-empty
 * directory are refused before anything is written; when the copy does not
 * come up, it is stopped and its directory is left for inspection (the
 * message says to remove it before trying again).
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_common.h"
#include "cmd/pgbr.h"
#include "common/fileio.h"
#include "common/log.h"
#include "pg/bindir.h"
#include "pg/db.h"

#define CLONE_WAIT_SECONDS 3600

static bool
dir_is_empty(const char *path)
{
	DIR		   *d = opendir(path);
	struct dirent *e;
	bool		empty = true;

	if (d == NULL)
		return false;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static bool
port_in_use(int port)
{
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	bool		used;

	if (fd < 0)
		return false;
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	used = bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 && errno == EADDRINUSE;
	close(fd);
	return used;
}

/* Run pg_ctl with args; its output goes to the log file. */
static int
pg_ctl(const char *bindir, const char *const *args, PgbError *err)
{
	char		prog[PGB_PATH_MAX];
	const char *argv[16];
	int			n = 0;
	pid_t		pid;
	int			status;

	snprintf(prog, sizeof(prog), "%s/pg_ctl", bindir);
	argv[n++] = prog;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0)
	{
		execv(prog, (char *const *) argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not run %s", prog);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pgb_error(err, EXIT_DATABASE, "%s %s failed (exit %d)", prog, args[0] ? args[0] : "",
						 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/* The clone's own cluster namespace NEW in every repository, with this cluster's identity. */
static int
init_new_name(const Config *cfg, const char *name, PgbError *err)
{
	Repo	   *src;
	RepoClusterInfo info;

	if (pgbr_is_repo(cfg, cfg->repo_current))
		return pgb_error(err, EXIT_CONFIG, "clone --name archives the copy's WAL into pgbkp's repository, and "
						 "repository \"%s\" is pgBackRest's", cfg->repos[cfg->repo_current].name),
			pgb_hint(err, "clone without --name: the copy then does not archive");
	if ((src = cmd_open_repo(cfg, err)) == NULL)
		return -1;
	info = src->info;
	repo_free(src);
	if (repo_cluster_name_check(name, err) != 0)
		return -1;
	if (strcmp(name, cfg->cluster) == 0)
		return pgb_error(err, EXIT_USAGE, "--name must differ from the cluster being cloned (\"%s\")", cfg->cluster);
	for (int i = 0; i < cfg->nrepos; i++)
	{
		bool		created;
		Repo	   *dst;

		/* pgbkp archive-push leaves a pgBackRest repository to pgBackRest */
		if (pgbr_is_repo(cfg, i))
			continue;
		if ((dst = repo_init(&cfg->repos[i], name, &info, &created, err)) == NULL)
			return pgb_error_context(err, "repository \"%s\"", cfg->repos[i].name);
		log_info("%s cluster \"%s\" in repository \"%s\" for the copy's WAL", created ? "created" : "using",
				 name, dst->name);
		repo_free(dst);
	}
	return 0;
}

/* Wait until the copy accepts connections and is out of recovery. */
static int
wait_promoted(const char *sockdir, int port, const Config *cfg, PgbError *err)
{
	DbParams	p = {.host = sockdir, .port = port, .user = cfg->pg_user, .dbname = cfg->pg_database,
	.connect_timeout = 2};

	for (int i = 0; i < CLONE_WAIT_SECONDS * 2; i++)
	{
		PgbError	e = {0};
		DbConn	   *c = db_connect(&p, &e);
		DbServerInfo si;

		if (c != NULL && db_server_info(c, &si, &e) == 0 && !si.in_recovery)
		{
			db_close(c);
			return 0;
		}
		db_close(c);
		usleep(500 * 1000);
	}
	return pgb_error(err, EXIT_TIMEOUT, "the copy did not finish recovery within %d seconds", CLONE_WAIT_SECONDS);
}

int
cmd_clone(const Config *cfg, PgbError *err)
{
	Config		rc_cfg;
	char		port[16];
	char		name[128];
	char		archive_cmd[PGB_PATH_MAX * 2];
	char		bindir[PGB_PATH_MAX];
	char		logfile[PGB_PATH_MAX];
	char		opts[PGB_PATH_MAX + 64];
	struct stat st;
	const char *dir = cfg->target_dir;

	if (cfg->target_time == NULL || dir == NULL || cfg->clone_port == 0)
		return pgb_error(err, EXIT_USAGE, "clone needs --time, --target-dir and --port"),
			pgb_hint(err, "pgbkp clone --time '2026-11-25 15:00:00+00' --target-dir /pg/clone --port 5433 [--name NEW]");
	if (dir[0] != '/')
		return pgb_error(err, EXIT_USAGE, "target directory \"%s\" is not an absolute path", dir);
	if (stat(dir, &st) == 0 && !dir_is_empty(dir))
		return pgb_error(err, EXIT_REFUSED, "\"%s\" is not an empty directory", dir),
			pgb_hint(err, "the copy needs a new or empty directory");
	if (port_in_use(cfg->clone_port))
		return pgb_error(err, EXIT_REFUSED, "port %d is in use", cfg->clone_port),
			pgb_hint(err, "choose a free --port for the copy");
	if (cfg->target_name && init_new_name(cfg, cfg->target_name, err) != 0)
		return -1;

	/* the restore, with the copy's settings */
	rc_cfg = *cfg;
	rc_cfg.target_name = NULL;	/* clone's --name is the copy's name, not a restore point */
	rc_cfg.target_action = "promote";
	rc_cfg.archive_mode = cfg->target_name ? "preserve" : "off";
	rc_cfg.delta = rc_cfg.force = rc_cfg.standby = false;
	snprintf(port, sizeof(port), "%d", cfg->clone_port);
	snprintf(name, sizeof(name), "%s", cfg->target_name ? cfg->target_name : "");
	if (name[0] == '\0')
		snprintf(name, sizeof(name), "%s-clone", cfg->cluster);
	rc_cfg.restore_nextra = 0;
	rc_cfg.restore_extra_names[rc_cfg.restore_nextra] = "port";
	rc_cfg.restore_extra_values[rc_cfg.restore_nextra++] = port;
	rc_cfg.restore_extra_names[rc_cfg.restore_nextra] = "cluster_name";
	rc_cfg.restore_extra_values[rc_cfg.restore_nextra++] = name;
	rc_cfg.restore_extra_names[rc_cfg.restore_nextra] = "unix_socket_directories";
	rc_cfg.restore_extra_values[rc_cfg.restore_nextra++] = dir;
	if (cfg->target_name)
	{
		if (cmd_self_command(cfg, cfg->target_name, cfg->repo, "archive-push %p", archive_cmd,
							 sizeof(archive_cmd), err) != 0)
			return -1;
		rc_cfg.restore_extra_names[rc_cfg.restore_nextra] = "archive_command";
		rc_cfg.restore_extra_values[rc_cfg.restore_nextra++] = archive_cmd;
	}
	if (cmd_restore(&rc_cfg, err) != 0)
		return -1;

	/* start it, with the programs of the version it holds, and wait for the promotion */
	if (pg_bindir_of_data(dir, bindir, sizeof(bindir), err) != 0)
		return -1;
	snprintf(logfile, sizeof(logfile), "%s/clone.log", dir);
	snprintf(opts, sizeof(opts), "-p %d -c listen_addresses=localhost", cfg->clone_port);
	{
		const char *start[] = {"start", "-w", "-t", "3600", "-D", dir, "-l", logfile, "-o", opts, NULL};

		log_info("starting the copy on port %d (log: %s)", cfg->clone_port, logfile);
		if (pg_ctl(bindir, start, err) != 0 || wait_promoted(dir, cfg->clone_port, cfg, err) != 0)
		{
			const char *stop[] = {"stop", "-m", "immediate", "-D", dir, NULL};
			PgbError	ignore = {0};

			pg_ctl(bindir, stop, &ignore);
			return pgb_hint(err, "see %s; the copy was stopped, remove %s before trying again", logfile, dir);
		}
	}
	printf("clone of %s as of %s is running: data directory %s, port %d, cluster_name %s%s\n"
		   "connect: psql -h %s -p %d (or -h localhost)\nstop: pg_ctl -D %s stop\n",
		   cfg->cluster, cfg->target_time, dir, cfg->clone_port, name,
		   cfg->target_name ? "; its WAL is archived under that name" : "; archiving is off",
		   dir, cfg->clone_port, dir);
	return 0;
}
