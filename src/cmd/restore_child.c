/* A restore in a child process (see restore_child.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/restore_child.h"

char *
restore_child_read_fd(int fd)
{
	size_t		cap = 4096,
				len = 0;
	char	   *buf = malloc(cap);

	while (buf)
	{
		ssize_t		n;

		if (len + 1 >= cap)
		{
			char	   *bigger = realloc(buf, cap *= 2);

			if (bigger == NULL)
			{
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int
restore_child_run(const Config *rc, char **plan, volatile pid_t *running, volatile sig_atomic_t *stop,
				  PgbError *err)
{
	int			outp[2] = {-1, -1},
				errp[2];
	pid_t		pid;
	int			status;
	PgbError	child = {0};
	ssize_t		got = 0;

	if (pipe(errp) != 0 || (plan && pipe(outp) != 0))
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not create a pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not start the restore");
	if (pid == 0)
	{
		PgbError	e = {0};
		int			ok;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(errp[0]);
		if (plan)
		{
			close(outp[0]);
			dup2(outp[1], STDOUT_FILENO);
		}
		else
			dup2(STDERR_FILENO, STDOUT_FILENO);
		ok = cmd_restore(rc, &e) == 0;
		fflush(NULL);
		if (!ok && write(errp[1], &e, sizeof(e)) != (ssize_t) sizeof(e))
			_exit(EXIT_INTERNAL);
		_exit(ok ? 0 : (e.code ? e.code : EXIT_INTERNAL));
	}
	*running = pid;
	close(errp[1]);
	if (plan)
	{
		close(outp[1]);
		*plan = restore_child_read_fd(outp[0]);
		close(outp[0]);
	}
	while ((got = read(errp[0], &child, sizeof(child))) < 0 && errno == EINTR)
		;
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*running = 0;
	if (stop && *stop)
		return pgb_error(err, EXIT_INTERRUPTED, "interrupted during the restore");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (got == (ssize_t) sizeof(child) && child.code != 0)
	{
		*err = child;
		return -1;
	}
	return pgb_error(err, WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_INTERNAL,
					 "the restore failed (%s %d)", WIFEXITED(status) ? "exit" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int
restore_child_plan_summary(const char *plan, char *backup, size_t blen, long long *files, long long *bytes,
						   PgbError *err)
{
	json_object *o = plan ? json_tokener_parse(plan) : NULL;
	json_object *v;

	if (o == NULL)
		return pgb_error(err, EXIT_INTERNAL, "the restore's plan could not be read");
	snprintf(backup, blen, "%s", json_object_object_get_ex(o, "backup", &v) ? json_object_get_string(v) : "?");
	*files = json_object_object_get_ex(o, "files", &v) ? json_object_get_int64(v) : 0;
	*bytes = json_object_object_get_ex(o, "bytes", &v) ? json_object_get_int64(v) : 0;
	json_object_put(o);
	return 0;
}
