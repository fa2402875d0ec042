/*
 * Temporary files of the local-directory driver (see posix_temps.h).
 *
 * A temporary file is stale when the process its name ends with is gone
 * (kill(pid, 0) fails with ESRCH).  This process's own files are never
 * stale.  On a repository directory shared between hosts (NFS), a PID is
 * only meaningful on the host that wrote the file: a sweep can then remove
 * a live writer's file on another host, whose commit then fails and is
 * retried (archive-push by PostgreSQL, a backup by its next run); nothing
 * committed is ever touched, since committed names never begin with ".".
 * Sweeps run after each commit (the object's own directory, as cheap as the
 * directory read it costs) and, recursively over the whole repository, at
 * the start of every backup under the backup lock.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "storage/posix_temps.h"

#define TEMP_MARK ".tmp."

int
posix_temp_name(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int			n = snprintf(out, len, "%.*s.%s" TEMP_MARK "%d", (int) (base - path), path, base, (int) getpid());

	return (n < 0 || (size_t) n >= len) ? -1 : 0;
}

/* Is name ".X.tmp.PID" with PID neither ours nor alive? */
static bool
is_stale_temp(const char *name)
{
	const char *mark;
	char	   *end;
	long		pid;

	if (name[0] != '.' || (mark = strstr(name + 1, TEMP_MARK)) == NULL)
		return false;
	/* the last ".tmp." wins: NAME itself may contain one */
	for (const char *m = mark; m != NULL; m = strstr(m + 1, TEMP_MARK))
		mark = m;
	if (mark == name + 1)
		return false;
	errno = 0;
	pid = strtol(mark + strlen(TEMP_MARK), &end, 10);
	if (errno != 0 || *end != '\0' || end == mark + strlen(TEMP_MARK) || pid <= 0 || pid == (long) getpid())
		return false;
	return kill((pid_t) pid, 0) != 0 && errno == ESRCH;
}

int
posix_temps_sweep(const char *dir, bool recursive)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			removed = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		char		path[PGB_PATH_MAX];
		bool		candidate = is_stale_temp(e->d_name);
		bool		want_dir = recursive && e->d_name[0] != '.';
		struct stat st;

		/* names decide first: a directory of 10,000 objects costs no stat */
		if (!candidate && !(want_dir && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int) sizeof(path) ||
			lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && want_dir)
			removed += posix_temps_sweep(path, true);
		else if (S_ISREG(st.st_mode) && candidate && unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
