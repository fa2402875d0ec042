/* File descriptor stage and pump (see fdio.h). */
#include <errno.h>
#include <unistd.h>

#include "io/fdio.h"

typedef struct FdStage
{
	Stage		base;
	int			fd;
	const char *path;
	uint64_t	at;
} FdStage;

static int
fd_write(Stage *s, const void *buf, size_t len, PgbError *err)
{
	FdStage    *f = (FdStage *) s;
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = pwrite(f->fd, p, len, (off_t) f->at);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return pgb_error_errno(err, EXIT_IO, errno, "could not write \"%s\"", f->path);
		}
		p += n;
		len -= (size_t) n;
		f->at += (uint64_t) n;
	}
	return 0;
}

static const StageOps fd_ops = {fd_write, NULL, NULL};

Stage *
fd_stage_new(int fd, const char *path, uint64_t offset, PgbError *err)
{
	FdStage    *f = stage_new(sizeof(FdStage), &fd_ops, NULL, err);

	if (f == NULL)
		return NULL;
	f->fd = fd;
	f->path = path;
	f->at = offset;
	return &f->base;
}

typedef struct FdSource
{
	int			fd;
	const char *path;
} FdSource;

static ssize_t
fd_read(void *arg, void *buf, size_t len, uint64_t at, PgbError *err)
{
	const FdSource *src = arg;

	for (;;)
	{
		ssize_t		n = pread(src->fd, buf, len, (off_t) at);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return pgb_error_errno(err, EXIT_IO, errno, "could not read \"%s\"", src->path);
	}
}

int
fd_pump(int fd, const char *path, uint64_t offset, uint64_t limit,
		uint8_t *buf, size_t bufsize, Stage *head, uint64_t *got, PgbError *err)
{
	FdSource	src = {fd, path};

	return stage_pump(fd_read, &src, offset, limit, buf, bufsize, head, got, err);
}
