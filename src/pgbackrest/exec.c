/*
 * Running an installed pgBackRest (see exec.h): the command line, the child
 * with stdout and stderr on two pipes read together, and pgBackRest's error
 * line mapped onto pgbkp's exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "pgbackrest/exec.h"

#define PGBR_STDOUT_MAX (256u << 20)	/* info of a repository with many thousands of backups */
#define PGBR_STDERR_MAX (256u << 10)
#define PGBR_FIXED_ARGS 8		/* --config, --stanza, --repo, the two log levels */

/* pgBackRest's error codes (its build/error.yaml) and pgbkp's exit codes for them. */
static const struct
{
	int			first;
	int			last;
	int			exit_code;
}			code_map[] = {
	{25, 25, EXIT_INTERNAL},	/* assert */
	{26, 26, EXIT_CORRUPT},		/* checksum */
	{27, 27, EXIT_CONFIG},		/* config */
	{28, 29, EXIT_CORRUPT},		/* file-invalid, format */
	{30, 37, EXIT_CONFIG},		/* command and option errors */
	{38, 38, EXIT_REFUSED},		/* postmaster-running */
	{40, 40, EXIT_REFUSED},		/* path-not-empty */
	{44, 45, EXIT_ARCHIVE_MISMATCH},	/* archive-mismatch, archive-duplicate */
	{50, 50, EXIT_LOCKED},		/* lock-acquire */
	{51, 51, EXIT_ARCHIVE_MISMATCH},	/* backup-mismatch */
	{55, 55, EXIT_NOT_FOUND},	/* file-missing */
	{56, 59, EXIT_DATABASE},	/* db-connect, db-query, db-mismatch, db-timeout */
	{73, 73, EXIT_NOT_FOUND},	/* path-missing */
	{75, 75, EXIT_NOT_FOUND},	/* backup-set-invalid */
	{80, 81, EXIT_DATABASE},	/* db-missing, db-invalid */
	{82, 82, EXIT_TIMEOUT},		/* archive-timeout */
	{84, 84, EXIT_CONFIG},		/* option-multiple-value */
	{87, 87, EXIT_CONFIG},		/* archive-disabled */
	{90, 90, EXIT_CONFIG},		/* option-command */
	{92, 93, EXIT_REFUSED},		/* path-exists, file-exists */
};

const char *
pgbr_stanza(const RepoDef *def, const char *cluster)
{
	return def->pgbr_stanza ? def->pgbr_stanza : cluster ? cluster : "";
}

bool
pgbr_arg(PgbrRun *run, const char *arg)
{
	for (int i = 0; i < PGBR_ARGS_MAX - 1; i++)
		if (run->args[i] == NULL)
		{
			run->args[i] = arg;
			run->args[i + 1] = NULL;
			return true;
		}
	return false;
}

/* The whole argv (the texts live in fixed, which the caller keeps). */
static void
build_argv(const RepoDef *def, const char *cluster, bool repo, const PgbrRun *run,
		   char fixed[PGBR_FIXED_ARGS][PGB_PATH_MAX + 32], const char **argv)
{
	int			n = 0,
				f = 0;

	argv[n++] = def->pgbr_bin ? def->pgbr_bin : REPODEF_PGBR_BIN;
	snprintf(fixed[f], sizeof(fixed[f]), "--config=%s", def->pgbr_config ? def->pgbr_config : REPODEF_PGBR_CONFIG);
	argv[n++] = fixed[f++];
	if (!run->no_stanza)
	{
		snprintf(fixed[f], sizeof(fixed[f]), "--stanza=%s", pgbr_stanza(def, cluster));
		argv[n++] = fixed[f++];
	}
	if (repo)
	{
		snprintf(fixed[f], sizeof(fixed[f]), "--repo=%d", def->pgbr_repo > 0 ? def->pgbr_repo : 1);
		argv[n++] = fixed[f++];
	}
	snprintf(fixed[f], sizeof(fixed[f]), "--log-level-console=%s", run->console_level ? run->console_level : "off");
	argv[n++] = fixed[f++];
	snprintf(fixed[f], sizeof(fixed[f]), "--log-level-stderr=%s", run->stderr_level ? run->stderr_level : "warn");
	argv[n++] = fixed[f++];
	for (int i = 0; i < PGBR_ARGS_MAX && run->args[i]; i++)
		argv[n++] = run->args[i];
	argv[n++] = run->command;
	for (int i = 0; i < 2 && run->params[i]; i++)
		argv[n++] = run->params[i];
	argv[n] = NULL;
}

void
pgbr_command_line(const RepoDef *def, const char *cluster, bool repo, const PgbrRun *run, char *out, size_t len)
{
	char		fixed[PGBR_FIXED_ARGS][PGB_PATH_MAX + 32];
	const char *argv[PGBR_ARGS_MAX + PGBR_FIXED_ARGS + 4];
	size_t		used = 0;

	build_argv(def, cluster, repo, run, fixed, argv);
	out[0] = '\0';
	/* a word with a space or a shell character is shown in single quotes (none holds a quote) */
	for (int i = 0; argv[i] && used < len; i++)
	{
		bool		quote = argv[i][strcspn(argv[i], " \t\"$&;|<>()*?`\\")] != '\0';

		used += (size_t) snprintf(out + used, len - used, quote ? "%s'%s'" : "%s%s", i ? " " : "", argv[i]);
	}
}

/* Append n bytes to a growing buffer (at most max kept); false when out of memory. */
static bool
append(char **buf, size_t *used, size_t *cap, size_t max, const char *data, size_t n)
{
	if (*used + n > max)
		n = *used < max ? max - *used : 0;
	if (*used + n + 1 > *cap)
	{
		size_t		ncap = *cap ? *cap : 4096;
		char	   *nb;

		while (ncap < *used + n + 1)
			ncap *= 2;
		if ((nb = realloc(*buf, ncap)) == NULL)
			return false;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *used, data, n);
	*used += n;
	(*buf)[*used] = '\0';
	return true;
}

/* Log the complete stderr lines from *logged on (progress of a long command). */
static void
relay_lines(const PgbrRun *run, const char *buf, size_t used, size_t *logged, bool *in_error)
{
	for (;;)
	{
		const char *line = buf + *logged;
		const char *nl = memchr(line, '\n', used - *logged);
		int			len = nl ? (int) (nl - line) : 0;

		if (nl == NULL)
			return;
		/* the error (and its indented hint) becomes pgbkp's own error line */
		if (line[0] != ' ')
			*in_error = strncmp(line, "ERROR:", 6) == 0;
		if (len > 0 && !*in_error && run->on_line)
			run->on_line(run->on_line_arg, line, len);
		else if (len > 0 && !*in_error && strncmp(line, "WARN:", 5) == 0)
			log_warn("pgBackRest: %.*s", len, line);
		else if (len > 0 && !*in_error)
			log_info("pgBackRest: %.*s", len, line);
		*logged = (size_t) (nl - buf) + 1;
	}
}

/* The last "ERROR: [NNN]: message" of stderr, else its last non-empty line. */
static void
parse_error(PgbrRun *run)
{
	const char *text = run->err ? run->err : "";
	const char *last = NULL;
	const char *line = text;

	run->code = 0;
	run->message[0] = '\0';
	run->hint[0] = '\0';
	for (const char *p = text; *p; line = p)
	{
		const char *nl = strchr(p, '\n');
		size_t		len = nl ? (size_t) (nl - p) : strlen(p);
		int			code;
		int			off = 0;

		if (sscanf(line, "ERROR: [%d]: %n", &code, &off) == 1 && off > 0)
		{
			run->code = code;
			snprintf(run->message, sizeof(run->message), "%.*s", (int) (len - (size_t) off), line + off);
			run->hint[0] = '\0';
		}
		else if (run->code && line[0] == ' ' && strncmp(line + strspn(line, " "), "HINT: ", 6) == 0)
			snprintf(run->hint, sizeof(run->hint), "%.*s", (int) (len - strspn(line, " ") - 6),
					 line + strspn(line, " ") + 6);
		else if (len > 0 && line[0] != ' ')
			last = line;
		p = nl ? nl + 1 : p + len;
	}
	if (run->code == 0 && last)
		snprintf(run->message, sizeof(run->message), "%.*s", (int) strcspn(last, "\n"), last);
}

static void
child(const char *const *argv, int outfd, int errfd)
{
	int			devnull = open("/dev/null", O_RDONLY);

	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	dup2(outfd, STDOUT_FILENO);
	dup2(errfd, STDERR_FILENO);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execvp(argv[0], (char *const *) argv);
	dprintf(STDERR_FILENO, "ERROR: [102]: could not run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
pgbr_exec(const RepoDef *def, const char *cluster, bool repo, PgbrRun *run, PgbError *err)
{
	char		fixed[PGBR_FIXED_ARGS][PGB_PATH_MAX + 32];
	const char *argv[PGBR_ARGS_MAX + PGBR_FIXED_ARGS + 4];
	int			po[2],
				pe[2];
	size_t		ocap = 0,
				ecap = 0,
				logged = 0;
	struct pollfd fds[2];
	int			open_fds = 2;
	int			status;
	pid_t		pid;
	bool		oom = false;

	build_argv(def, cluster, repo, run, fixed, argv);
	run->out_len = 0;
	run->status = -1;
	if (pipe2(po, O_CLOEXEC) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create a pipe for pgBackRest");
	if (pipe2(pe, O_CLOEXEC) != 0)
	{
		close(po[0]);
		close(po[1]);
		return pgb_error_errno(err, EXIT_IO, errno, "could not create a pipe for pgBackRest");
	}
	log_debug("running %s %s", argv[0], run->command);
	if ((pid = fork()) < 0)
	{
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not start %s", argv[0]);
	}
	if (pid == 0)
		child(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	fds[0] = (struct pollfd) {.fd = po[0], .events = POLLIN};
	fds[1] = (struct pollfd) {.fd = pe[0], .events = POLLIN};
	{
		size_t		eused = 0;
		bool		in_error = false;

		while (open_fds > 0)
		{
			char		buf[65536];

			if (poll(fds, 2, -1) < 0)
			{
				if (errno == EINTR)
					continue;
				break;
			}
			for (int i = 0; i < 2; i++)
			{
				ssize_t		n;

				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				n = read(fds[i].fd, buf, sizeof(buf));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
				{
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
					continue;
				}
				if (i == 0)
					oom |= !append(&run->out, &run->out_len, &ocap, PGBR_STDOUT_MAX, buf, (size_t) n);
				else
				{
					oom |= !append(&run->err, &eused, &ecap, PGBR_STDERR_MAX, buf, (size_t) n);
					if (run->relay_stderr && run->err)
						relay_lines(run, run->err, eused, &logged, &in_error);
				}
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not wait for %s", argv[0]);
	run->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (oom)
		return pgb_error(err, EXIT_INTERNAL, "out of memory reading the output of %s", argv[0]);
	if ((run->out == NULL && !append(&run->out, &run->out_len, &ocap, 1, "", 0)) ||
		(run->err == NULL && !append(&run->err, &(size_t) {0}, &ecap, 1, "", 0)))
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	parse_error(run);
	return 0;
}

static int
exit_code_for(int pgbr_code)
{
	for (size_t i = 0; i < sizeof(code_map) / sizeof(code_map[0]); i++)
		if (pgbr_code >= code_map[i].first && pgbr_code <= code_map[i].last)
			return code_map[i].exit_code;
	return EXIT_IO;
}

int
pgbr_exec_ok(const RepoDef *def, const char *cluster, bool repo, PgbrRun *run, PgbError *err)
{
	if (pgbr_exec(def, cluster, repo, run, err) != 0)
		return -1;
	return run->status == 0 ? 0 : pgbr_run_error(def, run, err);
}

int
pgbr_run_error(const RepoDef *def, const PgbrRun *run, PgbError *err)
{
	if (run->code == 102 || run->status == 127)
	{
		pgb_error(err, EXIT_CONFIG, "pgBackRest %s failed: %s", run->command,
				  run->message[0] ? run->message : "could not run pgbackrest");
		return pgb_hint(err, "install pgBackRest, or set pgbackrest_bin of repository \"%s\"", def->name);
	}
	if (run->code > 0)
	{
		pgb_error(err, exit_code_for(run->code), "pgBackRest %s failed [%03d]: %s", run->command,
				  run->code, run->message);
		return run->hint[0] ? pgb_hint(err, "pgBackRest says: %s", run->hint) : -1;
	}
	return pgb_error(err, EXIT_IO, "pgBackRest %s failed with exit status %d%s%s", run->command, run->status,
					 run->message[0] ? ": " : "", run->message);
}

void
pgbr_run_free(PgbrRun *run)
{
	free(run->out);
	free(run->err);
	run->out = run->err = NULL;
}
