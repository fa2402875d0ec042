/* Running a program and capturing its output (see subproc.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/subproc.h"

static void
child_exec(const char *const *argv, int outfd)
{
	int			devnull = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	dup2(outfd, STDOUT_FILENO);
	dup2(outfd, STDERR_FILENO);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], (char *const *) argv);
	dprintf(STDERR_FILENO, "could not run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

pid_t
subproc_spawn(const char *const *argv, int outfd, PgbError *err)
{
	pid_t		pid = fork();

	if (pid < 0)
		return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not start %s", argv[0]);
	if (pid == 0)
		child_exec(argv, outfd);
	return pid;
}

int
subproc_run(const char *const *argv, char *out, size_t outlen, volatile pid_t *running, PgbError *err)
{
	int			pfd[2];
	size_t		used = 0;
	pid_t		pid;
	int			status;
	char		buf[4096];

	if (outlen > 0)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create a pipe for %s", argv[0]);
	pid = subproc_spawn(argv, pfd[1], err);
	if (pid < 0)
	{
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (running)
		*running = pid;
	close(pfd[1]);
	for (;;)
	{
		ssize_t		n = read(pfd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (outlen > 0 && used < outlen - 1)
		{
			size_t		take = (size_t) n < outlen - 1 - used ? (size_t) n : outlen - 1 - used;

			memcpy(out + used, buf, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			if (running)
				*running = 0;
			return pgb_error_errno(err, EXIT_INTERNAL, errno, "could not wait for %s", argv[0]);
		}
	}
	if (running)
		*running = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
