/*
 * faultinject.c -- an LD_PRELOAD library for pgbkp's fault trials.
 *
 * It wraps the system calls through which pgbkp makes data durable and,
 * when told to, makes exactly one of them fail: the Nth call of one kind
 * returns -1 with the chosen errno, as a full disk or a failing device
 * would.  Every other call goes through to the C library unchanged.
 *
 * The kinds, and the functions each one covers:
 *   write   write, pwrite, pwrite64
 *   fsync   fsync, fdatasync
 *   rename  rename, renameat, link, linkat
 *   unlink  unlink, unlinkat
 *   open    open, open64, openat, openat64 (only opens that may write:
 *           O_WRONLY, O_RDWR or O_CREAT)
 *
 * Environment:
 *   PGBKP_FAULT_CALL   the kind to fail (one of the above)
 *   PGBKP_FAULT_N      which call of that kind fails (1 = the first)
 *   PGBKP_FAULT_ERRNO  ENOSPC (default), EIO or EDQUOT
 *   PGBKP_FAULT_PATH   only calls on a path containing this string count
 *                      (for fd calls, the path /proc/self/fd names)
 *   PGBKP_FAULT_COUNT  a file to which, at exit, one line "KIND COUNT" per
 *                      kind is appended: how many matching calls were seen
 *                      (counting mode: run once with it, then fail each N)
 *   PGBKP_FAULT_LOG    a file to which a line "KIND N PATH" is appended
 *                      when the fault fires
 *
 * A process that calls exec keeps the library (the environment carries
 * LD_PRELOAD); each process counts its own calls.  Written for the trials
 * only; it is not installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum kind { K_WRITE, K_FSYNC, K_RENAME, K_UNLINK, K_OPEN, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"write", "fsync", "rename", "unlink", "open"
};

static long counts[K_COUNT];
static int	target_kind = -1;
static long target_n;
static int	target_errno = ENOSPC;
static const char *path_filter;
static const char *count_file;
static const char *log_file;
static int	in_hook;			/* our own writes must not count */

static ssize_t (*real_write) (int, const void *, size_t);

__attribute__((constructor))
static void
fi_init(void)
{
	const char *s;
	int			k;

	real_write = (ssize_t (*) (int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
	s = getenv("PGBKP_FAULT_CALL");
	for (k = 0; s && k < K_COUNT; k++)
		if (strcmp(s, kind_names[k]) == 0)
			target_kind = k;
	s = getenv("PGBKP_FAULT_N");
	target_n = s ? atol(s) : 0;
	s = getenv("PGBKP_FAULT_ERRNO");
	if (s && strcmp(s, "EIO") == 0)
		target_errno = EIO;
	else if (s && strcmp(s, "EDQUOT") == 0)
		target_errno = EDQUOT;
	path_filter = getenv("PGBKP_FAULT_PATH");
	if (path_filter && !*path_filter)
		path_filter = NULL;
	count_file = getenv("PGBKP_FAULT_COUNT");
	log_file = getenv("PGBKP_FAULT_LOG");
}

/* append one line to FILE with the real write, ignoring errors */
static void
append_line(const char *file, const char *line)
{
	int			fd;
	int			(*real_open) (const char *, int,...);

	real_open = (int (*) (const char *, int,...)) dlsym(RTLD_NEXT, "open");
	in_hook = 1;
	fd = real_open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd >= 0)
	{
		if (real_write(fd, line, strlen(line)) < 0)
			(void) 0;
		close(fd);
	}
	in_hook = 0;
}

__attribute__((destructor))
static void
fi_fini(void)
{
	char		line[4096];
	size_t		len = 0;
	int			k;

	if (!count_file)
		return;
	for (k = 0; k < K_COUNT; k++)
		len += (size_t) snprintf(line + len, sizeof(line) - len, "%s %ld\n",
								 kind_names[k], counts[k]);
	append_line(count_file, line);
}

/* the path an fd refers to, or "" */
static void
fd_path(int fd, char *buf, size_t size)
{
	char		link[64];
	ssize_t		n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * Count one call of KIND on PATH (NULL: look it up from FD) and say
 * whether it must fail; when it must, errno is set.
 */
static int
must_fail(enum kind k, const char *path, int fd)
{
	char		buf[4096];
	long		n;
	char		line[4200];

	if (in_hook)
		return 0;
	if (path_filter || (log_file && (int) k == target_kind))
	{
		if (!path)
		{
			fd_path(fd, buf, sizeof(buf));
			path = buf;
		}
		if (path_filter && !strstr(path, path_filter))
			return 0;
	}
	n = __atomic_add_fetch(&counts[k], 1, __ATOMIC_SEQ_CST);
	if ((int) k != target_kind || n != target_n)
		return 0;
	if (log_file)
	{
		snprintf(line, sizeof(line), "%s %ld %s\n", kind_names[k], n, path ? path : "");
		append_line(log_file, line);
	}
	errno = target_errno;
	return 1;
}

#define REAL(type, name, args) \
	static type (*real) args; \
	if (!real) real = (type (*) args) dlsym(RTLD_NEXT, name)

ssize_t
write(int fd, const void *buf, size_t count)
{
	if (must_fail(K_WRITE, NULL, fd))
		return -1;
	return real_write(fd, buf, count);
}

ssize_t
pwrite(int fd, const void *buf, size_t count, off_t off)
{
	REAL(ssize_t, "pwrite", (int, const void *, size_t, off_t));
	if (must_fail(K_WRITE, NULL, fd))
		return -1;
	return real(fd, buf, count, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t count, off_t off)
{
	REAL(ssize_t, "pwrite64", (int, const void *, size_t, off_t));
	if (must_fail(K_WRITE, NULL, fd))
		return -1;
	return real(fd, buf, count, off);
}

int
fsync(int fd)
{
	REAL(int, "fsync", (int));
	if (must_fail(K_FSYNC, NULL, fd))
		return -1;
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", (int));
	if (must_fail(K_FSYNC, NULL, fd))
		return -1;
	return real(fd);
}

int
rename(const char *from, const char *to)
{
	REAL(int, "rename", (const char *, const char *));
	if (must_fail(K_RENAME, to, -1))
		return -1;
	return real(from, to);
}

int
renameat(int fromdir, const char *from, int todir, const char *to)
{
	REAL(int, "renameat", (int, const char *, int, const char *));
	if (must_fail(K_RENAME, to, -1))
		return -1;
	return real(fromdir, from, todir, to);
}

int
link(const char *from, const char *to)
{
	REAL(int, "link", (const char *, const char *));
	if (must_fail(K_RENAME, to, -1))
		return -1;
	return real(from, to);
}

int
linkat(int fromdir, const char *from, int todir, const char *to, int flags)
{
	REAL(int, "linkat", (int, const char *, int, const char *, int));
	if (must_fail(K_RENAME, to, -1))
		return -1;
	return real(fromdir, from, todir, to, flags);
}

int
unlink(const char *path)
{
	REAL(int, "unlink", (const char *));
	if (must_fail(K_UNLINK, path, -1))
		return -1;
	return real(path);
}

int
unlinkat(int dir, const char *path, int flags)
{
	REAL(int, "unlinkat", (int, const char *, int));
	if (must_fail(K_UNLINK, path, -1))
		return -1;
	return real(dir, path, flags);
}

/* the mode argument of an open that creates */
#define OPEN_MODE(flags, mode) \
	do { \
		va_list ap; \
		mode = 0; \
		if ((flags) & (O_CREAT | O_TMPFILE)) { \
			va_start(ap, flags); \
			mode = (mode_t) va_arg(ap, int); \
			va_end(ap); \
		} \
	} while (0)

#define OPEN_WRITES(flags) (((flags) & (O_WRONLY | O_RDWR | O_CREAT)) != 0)

int
open(const char *path, int flags,...)
{
	mode_t		mode;

	REAL(int, "open", (const char *, int,...));
	OPEN_MODE(flags, mode);
	if (OPEN_WRITES(flags) && must_fail(K_OPEN, path, -1))
		return -1;
	return real(path, flags, mode);
}

int
open64(const char *path, int flags,...)
{
	mode_t		mode;

	REAL(int, "open64", (const char *, int,...));
	OPEN_MODE(flags, mode);
	if (OPEN_WRITES(flags) && must_fail(K_OPEN, path, -1))
		return -1;
	return real(path, flags, mode);
}

int
openat(int dir, const char *path, int flags,...)
{
	mode_t		mode;

	REAL(int, "openat", (int, const char *, int,...));
	OPEN_MODE(flags, mode);
	if (OPEN_WRITES(flags) && must_fail(K_OPEN, path, -1))
		return -1;
	return real(dir, path, flags, mode);
}

int
openat64(int dir, const char *path, int flags,...)
{
	mode_t		mode;

	REAL(int, "openat64", (int, const char *, int,...));
	OPEN_MODE(flags, mode);
	if (OPEN_WRITES(flags) && must_fail(K_OPEN, path, -1))
		return -1;
	return real(dir, path, flags, mode);
}
