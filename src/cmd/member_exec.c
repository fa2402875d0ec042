/* One pitr step on a member's host, here or over ssh (see member_exec.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/member_exec.h"
#include "cmd/restore_child.h"
#include "cmd/selfcmd.h"
#include "common/log.h"
#include "restore/recovery_conf.h"

#define MAX_WORDS 64

/* Whether sa is the address of one of this machine's interfaces. */
static bool
address_is_ours(const struct sockaddr *sa, const struct ifaddrs *ifs)
{
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next)
	{
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
			((const struct sockaddr_in *) sa)->sin_addr.s_addr ==
			((const struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 &&
			memcmp(&((const struct sockaddr_in6 *) sa)->sin6_addr,
				   &((const struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, sizeof(struct in6_addr)) == 0)
			return true;
	}
	return false;
}

bool
member_is_local(const ClusterMember *m)
{
	struct addrinfo hints = {0},
			   *res = NULL;
	struct ifaddrs *ifs = NULL;
	bool		local = false;

	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(m->addr, NULL, &hints, &res) != 0)
		return false;
	if (getifaddrs(&ifs) == 0)
	{
		for (struct addrinfo *a = res; a && !local; a = a->ai_next)
			local = address_is_ours(a->ai_addr, ifs);
		freeifaddrs(ifs);
	}
	freeaddrinfo(res);
	return local;
}

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

/* The words of the pgbkp command line the step runs. */
static int
step_words(const Config *cfg, const ClusterMember *m, const char *const *args, const char **w, int *n,
		   char *self, size_t selflen, PgbError *err)
{
	if (cmd_self_path(self, selflen, err) != 0)
		return -1;
	w[(*n)++] = self;
	if (cfg->config_file)
	{
		w[(*n)++] = "--config";
		w[(*n)++] = cfg->config_file;
	}
	w[(*n)++] = "--cluster";
	w[(*n)++] = cfg->cluster;
	w[(*n)++] = "--instance";
	w[(*n)++] = m->name;
	w[(*n)++] = "--log-level";
	w[(*n)++] = log_level_names[cfg->log_level >= 0 && cfg->log_level <= 3 ? cfg->log_level : 2];
	w[(*n)++] = "--no-progress";
	w[(*n)++] = "pitr-member";
	for (int i = 0; args[i]; i++)
	{
		if (*n >= MAX_WORDS - 1)
			return pgb_error(err, EXIT_INTERNAL, "too many words for a pitr step");
		w[(*n)++] = args[i];
	}
	w[*n] = NULL;
	return 0;
}

/* ssh_command's words, then the host, then the step as one quoted line. */
static int
ssh_words(const Config *cfg, const ClusterMember *m, const char *const *step, char *buf, size_t buflen,
		  const char **w, int *n, char **line, PgbError *err)
{
	size_t		len = 0;
	char	   *tok,
			   *save = NULL;

	snprintf(buf, buflen, "%s", cfg->ssh_command ? cfg->ssh_command : "ssh");
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (*n < MAX_WORDS - 3)
			w[(*n)++] = tok;
	if (*n == 0)
		return pgb_error(err, EXIT_CONFIG, "ssh_command is empty");
	w[(*n)++] = m->addr;
	*line = NULL;
	for (int i = 0; step[i]; i++)
	{
		char	   *q = shell_quote(step[i]);
		char	   *more;

		if (q == NULL || (more = realloc(*line, len + strlen(q) + 2)) == NULL)
		{
			free(q);
			free(*line);
			return pgb_error(err, EXIT_INTERNAL, "out of memory");
		}
		*line = more;
		len += (size_t) sprintf(*line + len, "%s%s", i ? " " : "", q);
		free(q);
	}
	w[(*n)++] = *line;
	w[*n] = NULL;
	return 0;
}

/* Split the step's output into result lines and the rest. */
static void
parse_output(char *out, MemberResult *res)
{
	size_t		tlen = 0;
	char	   *save = NULL;

	res->text = calloc(1, strlen(out) + 1);
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
	{
		char	   *eq;

		if (l[0] == '@' && (eq = strchr(l, '=')) != NULL && res->nkeys < MEMBER_RESULT_MAX)
		{
			*eq = '\0';
			res->keys[res->nkeys] = strdup(l + 1);
			res->values[res->nkeys++] = strdup(eq + 1);
			continue;
		}
		if (strncmp(l, "pgbkp: error: ", 14) == 0)
			snprintf(res->error, sizeof(res->error), "%s", l + 14);
		else if (strncmp(l, "pgbkp: hint: ", 13) == 0)
			snprintf(res->hint, sizeof(res->hint), "%s", l + 13);
		if (res->text)
			tlen += (size_t) sprintf(res->text + tlen, "%s\n", l);
	}
}

int
member_exec(const Config *cfg, const ClusterMember *m, const char *const *args, MemberResult *res,
			volatile pid_t *running, PgbError *err)
{
	const char *step[MAX_WORDS];
	const char *w[2 * MAX_WORDS];
	char		self[4096];
	char		sshbuf[1024];
	char	   *line = NULL;
	char	   *out;
	int			ns = 0,
				nw = 0,
				p[2],
				status;
	pid_t		pid;

	memset(res, 0, sizeof(*res));
	if (step_words(cfg, m, args, step, &ns, self, sizeof(self), err) != 0)
		return -1;
	if (member_is_local(m))
		memcpy(w, step, sizeof(step[0]) * (size_t) (ns + 1));
	else if (ssh_words(cfg, m, step, sshbuf, sizeof(sshbuf), w, &nw, &line, err) != 0)
		return -1;
	log_debug("pitr: %s: %s%s", m->name, args[0], line ? " (over ssh)" : "");
	if (pipe(p) != 0)
	{
		free(line);
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not create a pipe");
	}
	fflush(NULL);
	if ((pid = fork()) < 0)
	{
		free(line);
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not start a pitr step");
	}
	if (pid == 0)
	{
		signal(SIGINT, SIG_IGN);	/* a step is stopped by pitr, not by the terminal's ^C */
		close(p[0]);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		execvp(w[0], (char *const *) w);
		fprintf(stderr, "pgbkp: error: could not run %s: %s\n", w[0], strerror(errno));
		_exit(EXIT_CONFIG);
	}
	*running = pid;
	close(p[1]);
	out = restore_child_read_fd(p[0]);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*running = 0;
	free(line);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (out)
		parse_output(out, res);
	free(out);
	return 0;
}

const char *
member_result(const MemberResult *res, const char *key)
{
	for (int i = 0; i < res->nkeys; i++)
		if (strcmp(res->keys[i], key) == 0)
			return res->values[i];
	return NULL;
}

int
member_result_error(const MemberResult *res, const ClusterMember *m, const char *step, PgbError *err)
{
	int			code = res->status > 0 && res->status < 126 ? res->status : EXIT_INTERNAL;

	if (res->status == 255)
		code = EXIT_DATABASE;	/* ssh could not reach the host */
	pgb_error(err, code, "%s on %s (%s): %s", step, m->name, m->addr,
			  res->error[0] ? res->error : "failed (see the lines above)");
	if (res->hint[0])
		pgb_hint(err, "%s", res->hint);
	return -1;
}

void
member_result_free(MemberResult *res)
{
	for (int i = 0; i < res->nkeys; i++)
	{
		free(res->keys[i]);
		free(res->values[i]);
	}
	free(res->text);
	memset(res, 0, sizeof(*res));
}
