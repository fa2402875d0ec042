/* One WAL file in and out of the archive: push, get, verify (see walarchive.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/workers.h"
#include "io/fdio.h"
#include "pg/control.h"
#include "repo/objio.h"
#include "repo/walarchive.h"

#define WAL_GET_MAX_NAME 64

int
wal_object_path(const Repo *repo, const char *name, char *out, PgbError *err)
{
	TimeLineID	tli;
	SegNo		segno;
	WalFileKind kind = wal_file_classify(name, repo->info.wal_segment_size, &tli, &segno);
	int			rc;

	if (kind == WAL_KIND_INVALID)
		return pgb_error(err, EXIT_USAGE, "\"%s\" is not a WAL file name", name);
	if (kind == WAL_KIND_HISTORY)
		rc = repo_path(repo, out, "wal/%s", name);
	else
		rc = repo_path(repo, out, "wal/%.16s/%s", name, name);
	if (rc != 0)
		return pgb_error(err, EXIT_IO, "path too long for WAL file \"%s\"", name);
	return 0;
}

bool
wal_exists(Repo *repo, const char *name, PgbError *err, int *rc)
{
	char		path[PGB_PATH_MAX];
	StorageInfo info;

	*rc = 0;
	if (wal_object_path(repo, name, path, err) != 0 ||
		storage_info(repo->storage, path, &info, err) != 0)
	{
		*rc = -1;
		return false;
	}
	return info.exists;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Check a segment's long page header against the repository's cluster. */
static int
check_segment_header(const Repo *repo, const uint8_t *buf, size_t len, const char *what, PgbError *err)
{
	WalLongHeader hdr;

	if (wal_long_header_parse(buf, len, &hdr, err) != 0)
		return pgb_error_context(err, "%s", what);
	if (hdr.system_identifier != repo->info.system_identifier)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "%s belongs to database system %" PRIu64 ", but cluster \"%s\" in the repository is system %" PRIu64,
				  what, hdr.system_identifier, repo->cluster, repo->info.system_identifier);
		return pgb_hint(err, "check that archive_command names the right --cluster and --repo-path");
	}
	if (hdr.segment_size != repo->info.wal_segment_size)
		return pgb_error(err, EXIT_ARCHIVE_MISMATCH, "%s has segment size %u, the repository expects %" PRIu64,
						 what, hdr.segment_size, repo->info.wal_segment_size);
	return 0;
}

/* SHA-256 and size of a local file, to compare with an archived copy: file -> sha256. */
static int
hash_file(int fd, const char *path, ObjectSummary *sum, PgbError *err)
{
	Stage	   *hash = sha256_stage_new(NULL, err);
	uint8_t    *buf = malloc(256 * 1024);
	int			rc = -1;

	if (hash != NULL && buf == NULL)
		pgb_error(err, EXIT_INTERNAL, "out of memory");
	else if (hash != NULL &&
			 fd_pump(fd, path, 0, UINT64_MAX, buf, 256 * 1024, hash, &sum->size, err) == 0 &&
			 stage_finish(hash, err) == 0)
	{
		sha256_stage_result(hash, sum->sha256, NULL);
		rc = 0;
	}
	stage_free(hash);
	free(buf);
	return rc;
}

static int
compare_with_archived(Repo *repo, const char *obj, int fd, const char *src_path, const char *name,
					  ObjectSummary *local, PgbError *err)
{
	ObjectSummary archived;

	if (objio_get_trailer(repo->storage, obj, &archived, err) != 0)
		return -1;
	if (hash_file(fd, src_path, local, err) != 0)
		return -1;
	if (archived.size != local->size || memcmp(archived.sha256, local->sha256, SHA256_LEN) != 0)
	{
		pgb_error(err, EXIT_ARCHIVE_MISMATCH,
				  "WAL file \"%s\" is already archived with different content", name);
		return pgb_hint(err, "the repository may be shared by two clusters, or this server's WAL diverged; "
						"check --cluster and --repo-path, and never delete archived WAL to make this go away");
	}
	return 0;
}

int
wal_push(Repo *repo, const char *src_path, int level, int threads, WalPushResult *result, PgbError *err)
{
	ObjectSummary sum;

	return wal_push_summary(repo, src_path, level, threads, result, &sum, err);
}

int
wal_file_summary(const char *path, ObjectSummary *sum, PgbError *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	int			rc;

	if (fd < 0)
		return pgb_error_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno,
							   "could not open WAL file \"%s\"", path);
	rc = hash_file(fd, path, sum, err);
	close(fd);
	return rc;
}

int
wal_push_summary(Repo *repo, const char *src_path, int level, int threads, WalPushResult *result, ObjectSummary *sum,
				 PgbError *err)
{
	const char *name = base_name(src_path);
	char		obj[PGB_PATH_MAX];
	char		what[PGB_PATH_MAX + 32];
	TimeLineID	tli;
	SegNo		segno;
	WalFileKind kind = wal_file_classify(name, repo->info.wal_segment_size, &tli, &segno);
	int			fd;
	bool		existed = false;
	int			rc;

	if (kind == WAL_KIND_INVALID)
		return pgb_error(err, EXIT_USAGE, "\"%s\" is not a WAL file name", name),
			pgb_hint(err, "use archive_command = 'pgbkp ... archive-push %%p'");
	if (wal_object_path(repo, name, obj, err) != 0)
		return -1;
	fd = open(src_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgb_error_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno,
							   "could not open WAL file \"%s\"", src_path);
	snprintf(what, sizeof(what), "WAL file \"%s\"", name);
	if (kind == WAL_KIND_SEGMENT || kind == WAL_KIND_PARTIAL)
	{
		uint8_t		head[64];
		ssize_t		n = fio_read_full(fd, head, sizeof(head), src_path, err);
		struct stat st;

		if (n < 0 || check_segment_header(repo, head, (size_t) n, what, err) != 0)
			goto fail;
		if (fstat(fd, &st) != 0)
		{
			pgb_error_errno(err, EXIT_IO, errno, "could not stat \"%s\"", src_path);
			goto fail;
		}
		if ((uint64_t) st.st_size != repo->info.wal_segment_size)
		{
			pgb_error(err, EXIT_ARCHIVE_MISMATCH, "%s has %lld bytes, expected %" PRIu64,
					  what, (long long) st.st_size, repo->info.wal_segment_size);
			goto fail;
		}
	}

	/* one existence check: after a crash PostgreSQL pushes the same file again */
	if (wal_exists(repo, name, err, &rc))
		existed = true;
	else if (rc != 0)
		goto fail;
	else if (objio_put_fd(repo->storage, obj, OBJECT_KIND_WAL, level,
						  workers_resolve_capped(threads, WAL_THREADS_MAX), fd, src_path,
						  true, &existed, sum, err) != 0)
		goto fail;

	if (existed)
	{
		char		dir[PGB_PATH_MAX];

		if (compare_with_archived(repo, obj, fd, src_path, name, sum, err) != 0)
			goto fail;
		/* pushed again after a crash: what the crashed attempt left goes */
		snprintf(dir, sizeof(dir), "%.*s", (int) (base_name(obj) - obj), obj);
		storage_clean_temps(repo->storage, dir, false);
		*result = WAL_PUSH_ALREADY_PRESENT;
	}
	else
		*result = WAL_PUSH_STORED;
	close(fd);
	return 0;

fail:
	close(fd);
	return -1;
}

/*
 * Decode archived WAL file name into dest (or, when dest is NULL, only
 * verify it): object^-1 -> head (for the segment header check) -> file.
 */
static int
wal_decode(Repo *repo, const char *name, int fd, const char *dest, ObjectSummary *sum, PgbError *err)
{
	char		obj[PGB_PATH_MAX];
	char		what[128];
	TimeLineID	tli;
	SegNo		segno;
	WalFileKind kind;
	Stage	   *file = NULL,
			   *head = NULL;
	const uint8_t *hbytes;
	size_t		hlen;
	int			rc = -1;

	if (wal_object_path(repo, name, obj, err) != 0)
		return -1;
	kind = wal_file_classify(name, repo->info.wal_segment_size, &tli, &segno);
	if ((fd >= 0 && (file = fd_stage_new(fd, dest, 0, err)) == NULL) ||
		(head = head_stage_new(file, err)) == NULL ||
		objio_get(repo->storage, obj, OBJECT_KIND_WAL, head, sum, err) != 0)
		goto done;
	snprintf(what, sizeof(what), "archived WAL file \"%s\"", name);
	hbytes = head_stage_bytes(head, &hlen);
	if (fd < 0 && (kind == WAL_KIND_SEGMENT || kind == WAL_KIND_PARTIAL) && sum->size != repo->info.wal_segment_size)
	{
		pgb_error(err, EXIT_CORRUPT, "%s has %" PRIu64 " bytes, expected %" PRIu64,
				  what, sum->size, repo->info.wal_segment_size);
		goto done;
	}
	if ((kind == WAL_KIND_SEGMENT || kind == WAL_KIND_PARTIAL) &&
		check_segment_header(repo, hbytes, hlen, what, err) != 0)
	{
		if (fd < 0)
			err->code = EXIT_CORRUPT;
		goto done;
	}
	rc = 0;
done:
	stage_free_chain(head ? head : file, NULL);
	return rc;
}

int
wal_get(Repo *repo, const char *name, const char *dest_path, PgbError *err)
{
	char		obj[PGB_PATH_MAX];
	char		tmp[PGB_PATH_MAX];
	ObjectSummary sum;
	int			fd;
	int			rc;

	if (wal_object_path(repo, name, obj, err) != 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.pgbkp-tmp", dest_path) >= (int) sizeof(tmp))
		return pgb_error(err, EXIT_IO, "path too long: \"%s\"", dest_path);
	{
		int			exists_rc;

		if (!wal_exists(repo, name, err, &exists_rc))
			return exists_rc != 0 ? -1 :
				pgb_error(err, EXIT_WAL_MISSING, "WAL file \"%s\" is not in the repository", name);
	}
	/*
	 * The content goes into an unnamed file (O_TMPFILE) that gets a name only
	 * once it is whole, so a killed archive-get leaves nothing behind; where
	 * the file system has no O_TMPFILE, into a named temporary file.
	 */
	{
		char		dir[PGB_PATH_MAX];
		const char *slash = strrchr(dest_path, '/');

		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else
			snprintf(dir, sizeof(dir), "%.*s", slash == dest_path ? 1 : (int) (slash - dest_path), dest_path);
		fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	}
	if (fd >= 0)
	{
		char		proc[64];

		rc = wal_decode(repo, name, fd, tmp, &sum, err);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		unlink(tmp);			/* a leftover of an earlier, killed run */
		if (rc == 0 && linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0)
			fd = -2 - close(fd);	/* no /proc: once more through a named temporary file */
		else if (close(fd) != 0 && rc == 0)
			rc = pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", tmp);
	}
	if (fd < 0)
	{
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not create \"%s\"", tmp);
		rc = wal_decode(repo, name, fd, tmp, &sum, err);
		if (close(fd) != 0 && rc == 0)
			rc = pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", tmp);
	}
	if (rc == 0 && rename(tmp, dest_path) != 0)
		rc = pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", tmp, dest_path);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
wal_verify(Repo *repo, const char *name, PgbError *err)
{
	ObjectSummary sum;

	return wal_decode(repo, name, -1, NULL, &sum, err);
}
