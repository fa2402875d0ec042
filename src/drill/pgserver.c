/* A throwaway PostgreSQL server for drills (see pgserver.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/subproc.h"
#include "drill/pgserver.h"

#define STOP_FAST_SECONDS 60
#define STOP_IMMEDIATE_SECONDS 10
#define MAX_SETTINGS 40

static int
write_file(const char *dir, const char *name, const char *text, PgbError *err)
{
	char		path[PGB_PATH_MAX];

	if (fio_path_join(path, sizeof(path), dir, name, err) != 0)
		return -1;
	return fio_write_atomic(path, text, strlen(text), 0600, err);
}

/* The copy's configuration: its own files, and an empty postgresql.conf when it has none. */
static int
prepare_files(PgServer *s, PgbError *err)
{
	char		conf[PGB_PATH_MAX];
	char		hba[256];
	struct stat st;

	snprintf(hba, sizeof(hba),
			 "# written by pgbkp drill: the socket directory is private to its owner\n"
			 "local all all trust\n%s",
			 s->tcp ? "host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n" : "");
	if (write_file(s->rundir, "pg_hba.conf", hba, err) != 0 ||
		write_file(s->rundir, "pg_ident.conf", "", err) != 0)
		return -1;
	if (fio_path_join(conf, sizeof(conf), s->datadir, "postgresql.conf", err) != 0)
		return -1;
	if (stat(conf, &st) != 0 && errno == ENOENT)
		return write_file(s->datadir, "postgresql.conf",
						  "# written by pgbkp drill: the restored cluster kept its configuration elsewhere\n", err);
	return 0;
}

int
pgserver_start(PgServer *s, PgbError *err)
{
	char		prog[PGB_PATH_MAX + 32];
	char		set[MAX_SETTINGS][PGB_PATH_MAX + 64];
	const char *argv[MAX_SETTINGS * 2 + 4];
	int			n = 0,
				a = 0;
	int			logfd;
	pid_t		pid;

	if (prepare_files(s, err) != 0)
		return -1;
	snprintf(prog, sizeof(prog), "%s/postgres", s->bindir);
	if (access(prog, X_OK) != 0)
		return pgb_error_errno(err, EXIT_CONFIG, errno, "cannot run %s", prog);
	if (fio_path_join(s->logfile, sizeof(s->logfile), s->rundir, "postgresql.log", err) != 0)
		return -1;
#define SET(...) snprintf(set[n++], sizeof(set[0]), __VA_ARGS__)
	SET("data_directory=%s", s->datadir);
	SET("hba_file=%s/pg_hba.conf", s->rundir);
	SET("ident_file=%s/pg_ident.conf", s->rundir);
	SET("external_pid_file=");
	SET("listen_addresses=%s", s->tcp ? "localhost" : "");
	SET("port=%d", s->port);
	SET("unix_socket_directories=%s", s->rundir);
	SET("unix_socket_permissions=0700");
	if (!s->archive)
	{
		SET("archive_mode=off");
		SET("archive_cleanup_command=");
	}
	SET("recovery_end_command=");
	SET("primary_conninfo=");
	SET("primary_slot_name=");
	SET("hot_standby=off");
	SET("max_wal_senders=0");
	SET("max_logical_replication_workers=0");
	SET("synchronous_standby_names=");
	SET("default_transaction_read_only=off");
	SET("logging_collector=off");
	SET("log_destination=stderr");
	SET("lc_messages=C");
	SET("ssl=off");
	SET("shared_buffers=128MB");
	SET("cluster_name=%s", s->name ? s->name : "pgbkp-drill");
#undef SET
	argv[a++] = prog;
	argv[a++] = "-D";
	argv[a++] = s->datadir;
	for (int i = 0; i < n; i++)
	{
		argv[a++] = "-c";
		argv[a++] = set[i];
	}
	argv[a] = NULL;

	logfd = open(s->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open %s", s->logfile);
	pid = subproc_spawn(argv, logfd, err);
	if (pid < 0)
	{
		close(logfd);
		return -1;
	}
	close(logfd);
	s->pid = pid;
	return 0;
}

void
pgserver_params(const PgServer *s, const char *dbname, DbParams *p)
{
	memset(p, 0, sizeof(*p));
	p->host = s->rundir;
	p->port = s->port;
	p->user = s->user;
	p->dbname = dbname;
	p->connect_timeout = 5;
}

/* Whether the postmaster has exited (reaps it). */
static bool
server_exited(PgServer *s, int *status)
{
	pid_t		pid = s->pid;

	if (pid <= 0)
		return true;
	if (waitpid(pid, status, WNOHANG) == pid)
	{
		s->pid = 0;
		killpg(pid, SIGKILL);	/* anything its group left behind */
		return true;
	}
	return false;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
pgserver_wait_up(PgServer *s, int timeout, volatile sig_atomic_t *stop, PgbError *err)
{
	double		deadline = now_seconds() + timeout;
	DbParams	p;

	pgserver_params(s, "postgres", &p);
	p.connect_timeout = 2;
	while (now_seconds() < deadline)
	{
		PgbError	e = {0};
		DbConn	   *c;
		DbServerInfo si;
		int			status = 0;

		if (stop && *stop)
			return pgb_error(err, EXIT_INTERRUPTED, "interrupted while the restored server was recovering");
		if (server_exited(s, &status))
		{
			const char *fatal[] = {"FATAL", "PANIC", NULL};
			char		why[768];

			pgserver_log_grep(s, fatal, why, sizeof(why));
			return pgb_error(err, EXIT_DATABASE, "the restored server stopped before it finished recovery: %s",
							 why[0] ? why : "no FATAL line in its log"),
				pgb_hint(err, "its log: %s", s->logfile);
		}
		if ((c = db_connect(&p, &e)) != NULL && db_server_info(c, &si, &e) == 0 && !si.in_recovery)
		{
			db_close(c);
			return 0;
		}
		db_close(c);
		usleep(200 * 1000);
	}
	return pgb_error(err, EXIT_TIMEOUT, "the restored server did not finish recovery within %d seconds", timeout),
		pgb_hint(err, "its log: %s; a larger --drill-timeout gives it longer", s->logfile);
}

static bool
wait_exit(PgServer *s, int seconds)
{
	int			status;

	for (int i = 0; i < seconds * 10; i++)
	{
		if (server_exited(s, &status))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

int
pgserver_stop(PgServer *s, PgbError *err)
{
	pid_t		pid = s->pid;

	if (pid <= 0)
		return 0;
	kill(pid, SIGINT);
	if (wait_exit(s, STOP_FAST_SECONDS))
		return 0;
	kill(pid, SIGQUIT);
	if (wait_exit(s, STOP_IMMEDIATE_SECONDS))
		return 0;
	killpg(pid, SIGKILL);
	if (wait_exit(s, STOP_IMMEDIATE_SECONDS))
		return 0;
	return pgb_error(err, EXIT_INTERNAL, "the restored server (pid %d) did not stop", (int) pid);
}

void
pgserver_signal_stop(PgServer *s)
{
	pid_t		pid = s->pid;

	if (pid > 0)
		kill(pid, SIGINT);
}

void
pgserver_log_grep(const PgServer *s, const char *const *needles, char *out, size_t len)
{
	static const char *const severities[] = {"LOG:  ", "FATAL:  ", "PANIC:  ", "ERROR:  ", "WARNING:  ", NULL};
	FILE	   *f = fopen(s->logfile, "r");
	char		line[1024];

	out[0] = '\0';
	if (f == NULL || len == 0)
	{
		if (f)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f))
	{
		bool		hit = false;
		size_t		have = strlen(out);
		size_t		need;

		for (int i = 0; needles[i] && !hit; i++)
			hit = strstr(line, needles[i]) != NULL;
		if (!hit)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* from the severity on: the prefix (time, pid) says nothing here */
		for (const char *const *sev = severities; *sev; sev++)
		{
			char	   *at = strstr(line, *sev);

			if (at)
			{
				memmove(line, at, strlen(at) + 1);
				break;
			}
		}
		need = strlen(line) + (have ? 2 : 0);
		while (have > 0 && have + need >= len)
		{
			/* drop the oldest line to keep the newest ones */
			char	   *next = strstr(out, "; ");

			if (next == NULL)
			{
				out[0] = '\0';
				have = 0;
				break;
			}
			memmove(out, next + 2, strlen(next + 2) + 1);
			have = strlen(out);
		}
		need = strlen(line) + (have ? 2 : 0);
		if (have + need < len)
			snprintf(out + have, len - have, "%s%s", have ? "; " : "", line);
	}
	fclose(f);
}
