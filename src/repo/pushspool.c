/* The asynchronous archive-push's spool (see pushspool.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/fileio.h"
#include "io/sha256.h"
#include "repo/pushspool.h"
#include "repo/walspool.h"

#define RECORD_SUFFIX ".ok"
#define FAILURE_SUFFIX ".failed"
#define LOGGED_NAME "logged"

int
pushspool_dir(const char *spool_path, const char *cluster, uint64_t sysid, bool make, char *out, size_t len,
			  PgbError *err)
{
	return walspool_dir_of(spool_path, cluster, sysid, "archive-push", make, out, len, err);
}

/* dir/name+suffix into out; false when it does not fit. */
static bool
entry_path(char *out, const char *dir, const char *name, const char *suffix)
{
	return snprintf(out, PGB_PATH_MAX, "%s/%s%s", dir, name, suffix) < PGB_PATH_MAX;
}

static int
path_error(PgbError *err, const char *dir)
{
	return pgb_error(err, EXIT_CONFIG, "spool directory \"%s\" is too long", dir);
}

int
pushspool_file_id(const char *path, PushFileId *id, PgbError *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return pgb_error_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno, "could not stat \"%s\"", path);
	id->dev = (uint64_t) st.st_dev;
	id->ino = (uint64_t) st.st_ino;
	id->mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	id->ctime_ns = (int64_t) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	return 0;
}

/* The record's text: one line "NAME SIZE SHA256 DEV INO MTIME_NS CTIME_NS". */
int
pushspool_record_write(const char *dir, const char *name, const ObjectSummary *sum, const PushFileId *id,
					   PgbError *err)
{
	char		path[PGB_PATH_MAX],
				text[512],
				hex[SHA256_HEX_LEN + 1];
	PushFileId	none = {0};
	int			n;

	if (id == NULL)
		id = &none;
	sha256_to_hex(sum->sha256, hex);
	n = snprintf(text, sizeof(text), "%s %" PRIu64 " %s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 "\n",
				 name, sum->size, hex, id->dev, id->ino, id->mtime_ns, id->ctime_ns);
	if (!entry_path(path, dir, name, RECORD_SUFFIX) || n < 0 || (size_t) n >= sizeof(text))
		return path_error(err, dir);
	return fio_write_atomic(path, text, (size_t) n, 0600, err);
}

bool
pushspool_record_read(const char *dir, const char *name, PushRecord *out)
{
	char		path[PGB_PATH_MAX],
				rname[128],
				hex[SHA256_HEX_LEN + 2];
	char	   *text = NULL;
	size_t		len;
	PgbError	e = {0};
	bool		ok;

	memset(out, 0, sizeof(*out));
	if (!entry_path(path, dir, name, RECORD_SUFFIX) || fio_read_small(path, 4096, &text, &len, &e) != 0)
		return false;
	ok = sscanf(text, "%127s %" SCNu64 " %65s %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64,
				rname, &out->sum.size, hex, &out->id.dev, &out->id.ino, &out->id.mtime_ns, &out->id.ctime_ns) == 7 &&
		strcmp(rname, name) == 0 && strlen(hex) == SHA256_HEX_LEN && sha256_from_hex(hex, out->sum.sha256);
	free(text);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

bool
pushspool_record_same_file(const PushRecord *r, const PushFileId *id)
{
	return r->id.ino != 0 && r->id.dev == id->dev && r->id.ino == id->ino && r->id.mtime_ns == id->mtime_ns &&
		r->id.ctime_ns == id->ctime_ns;
}

bool
pushspool_record_same_content(const PushRecord *r, const ObjectSummary *sum)
{
	return r->sum.size == sum->size && memcmp(r->sum.sha256, sum->sha256, SHA256_LEN) == 0;
}

bool
pushspool_record_exists(const char *dir, const char *name)
{
	PushRecord	r;

	return pushspool_record_read(dir, name, &r);
}

void
pushspool_record_remove(const char *dir, const char *name)
{
	char		path[PGB_PATH_MAX];

	if (entry_path(path, dir, name, RECORD_SUFFIX))
		unlink(path);
}

int
pushspool_failure_write(const char *dir, const char *name, const PgbError *why, PgbError *err)
{
	char		path[PGB_PATH_MAX],
				text[PGB_ERRMSG_MAX + PGB_HINT_MAX + 32];
	int			n = snprintf(text, sizeof(text), "%d\n%s\n%s\n", why->code, why->msg, why->hint);

	if (!entry_path(path, dir, name, FAILURE_SUFFIX))
		return path_error(err, dir);
	return fio_write_atomic(path, text, n < (int) sizeof(text) ? (size_t) n : sizeof(text) - 1, 0600, err);
}

bool
pushspool_failure_read(const char *dir, const char *name, PgbError *why)
{
	char		path[PGB_PATH_MAX];
	char	   *text = NULL,
			   *msg,
			   *hint,
			   *end;
	size_t		len;
	PgbError	e = {0};

	if (!entry_path(path, dir, name, FAILURE_SUFFIX) ||
		fio_read_small(path, PGB_ERRMSG_MAX + PGB_HINT_MAX + 32, &text, &len, &e) != 0)
		return false;
	memset(why, 0, sizeof(*why));
	why->code = (int) strtol(text, &msg, 10);
	if (why->code <= 0)
		why->code = EXIT_IO;
	msg += *msg == '\n';
	if ((hint = strchr(msg, '\n')) != NULL)
		*hint++ = '\0';
	snprintf(why->msg, sizeof(why->msg), "%s", msg);
	if (hint != NULL)
	{
		if ((end = strchr(hint, '\n')) != NULL)
			*end = '\0';
		snprintf(why->hint, sizeof(why->hint), "%s", hint);
	}
	free(text);
	return true;
}

void
pushspool_failure_remove(const char *dir, const char *name)
{
	char		path[PGB_PATH_MAX];

	if (entry_path(path, dir, name, FAILURE_SUFFIX))
		unlink(path);
}

/* Whether entry is a record or a note of a name sorting before name. */
static bool
stale_entry(const char *entry, const char *name)
{
	size_t		len = strlen(entry);
	size_t		rs = strlen(RECORD_SUFFIX),
				fs = strlen(FAILURE_SUFFIX);
	size_t		base;

	if (len > rs && strcmp(entry + len - rs, RECORD_SUFFIX) == 0)
		base = len - rs;
	else if (len > fs && strcmp(entry + len - fs, FAILURE_SUFFIX) == 0)
		base = len - fs;
	else
		return false;
	return strncmp(entry, name, base) < 0 || (strncmp(entry, name, base) == 0 && strlen(name) > base);
}

void
pushspool_prune_before(const char *dir, const char *name)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && stale_entry(e->d_name, name))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

bool
pushspool_log_due(const char *dir, int64_t now, int interval)
{
	char		path[PGB_PATH_MAX];
	struct stat st;
	int			fd;

	if (!entry_path(path, dir, LOGGED_NAME, ""))
		return true;
	if (stat(path, &st) == 0 && (int64_t) st.st_mtime <= now && now - (int64_t) st.st_mtime < interval)
		return false;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0)
	{
		/* only the modification time matters: truncation sets it */
		futimens(fd, NULL);
		close(fd);
	}
	return true;
}

/* pusher-CRC.lock: one pusher per data directory (a restored copy beside it has its own). */
static int
open_lock(const char *dir, const char *data_dir, char *path, PgbError *err)
{
	char		name[32];
	int			fd;

	snprintf(name, sizeof(name), "pusher-%08x", (unsigned) crc32c(data_dir, strlen(data_dir)));
	if (!entry_path(path, dir, name, ".lock"))
		return path_error(err, dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", path);
	return fd;
}

/*
 * POSIX record locks: the pusher holds a write lock; F_GETLK asks about it
 * without taking anything, so asking never keeps a starting pusher out.
 */
int
pushspool_lock(const char *dir, const char *data_dir, int *fd, PgbError *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char		path[PGB_PATH_MAX],
				text[64];
	int			lfd = open_lock(dir, data_dir, path, err);
	int			n;

	*fd = -1;
	if (lfd < 0)
		return -1;
	if (fcntl(lfd, F_SETLK, &fl) != 0)
	{
		int			e = errno;

		close(lfd);
		if (e == EACCES || e == EAGAIN)
			return 0;
		return pgb_error_errno(err, EXIT_IO, e, "could not lock \"%s\"", path);
	}
	/* the holder's process id, for whoever looks */
	n = snprintf(text, sizeof(text), "%d\n", (int) getpid());
	if (ftruncate(lfd, 0) != 0 || pwrite(lfd, text, (size_t) n, 0) != n)
	{
		close(lfd);
		return pgb_error_errno(err, EXIT_IO, errno, "could not write \"%s\"", path);
	}
	*fd = lfd;
	return 0;
}

bool
pushspool_pusher_running(const char *dir, const char *data_dir)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	PgbError	e = {0};
	char		path[PGB_PATH_MAX];
	int			fd = open_lock(dir, data_dir, path, &e);
	bool		running;

	if (fd < 0)
		return false;
	running = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return running;
}
