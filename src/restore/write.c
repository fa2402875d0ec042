/* Writing a backup into a data directory (see write.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/chain.h"
#include "backup/frameruns.h"
#include "common/fileio.h"
#include "common/progress.h"
#include "common/workers.h"
#include "io/fdio.h"
#include "io/sha256.h"
#include "restore/write.h"

#define VERIFY_PIECE (1024 * 1024)
/* Per worker: the buffer a delta is rebuilt in, and a read buffer. */
typedef struct WriteWorker
{
	uint8_t    *chunk;			/* MANIFEST_CHUNK_SIZE, allocated when first needed */
	uint8_t    *piece;			/* VERIFY_PIECE, for --delta comparisons */
} WriteWorker;

typedef struct WriteRun
{
	const RestoreWrite *rw;
	FrameRef   *refs;			/* the chunks: runs of stored frames first */
	FrameRun   *tasks;
	WriteWorker *workers;
	Progress   *progress;
	pthread_mutex_t lock;		/* progress */
} WriteRun;

static int
make_dir(const char *path, uint32_t mode, PgbError *err)
{
	if (mkdir(path, mode & 07777) != 0 && errno != EEXIST)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create directory \"%s\"", path);
	if (chmod(path, mode & 07777) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode of \"%s\"", path);
	return 0;
}

int
restore_create_layout(const RestoreWrite *rw, PgbError *err)
{
	const Manifest *m = rw->m;
	char		path[PGB_PATH_MAX];

	if (fio_mkdir_p(rw->target, 0700, err) != 0 || make_dir(rw->target, 0700, err) != 0)
		return -1;
	if (fio_path_join(path, sizeof(path), rw->target, "pg_tblspc", err) != 0 ||
		make_dir(path, 0700, err) != 0)
		return -1;
	for (int i = 0; i < m->nlinks; i++)
	{
		const char *dest = rw->ts_dest[i];
		struct stat st;

		if (fio_mkdir_p(dest, 0700, err) != 0 || make_dir(dest, 0700, err) != 0 ||
			fio_path_join(path, sizeof(path), rw->target, m->links[i].path, err) != 0)
			return -1;
		if (lstat(path, &st) == 0 && (unlink(path) != 0 && rmdir(path) != 0))
			return pgb_error_errno(err, EXIT_IO, errno, "could not replace \"%s\"", path);
		if (symlink(dest, path) != 0)
			return pgb_error_errno(err, EXIT_IO, errno, "could not create link \"%s\"", path);
	}
	/* directories were recorded parents first */
	for (int i = 0; i < m->ndirs; i++)
	{
		if (fio_path_join(path, sizeof(path), rw->target, m->dirs[i].path, err) != 0 ||
			make_dir(path, m->dirs[i].mode, err) != 0)
			return -1;
	}
	return 0;
}

static uint64_t
chunk_offset(const Manifest *m, int c)
{
	return (uint64_t) c * m->chunk_size;
}

/* --delta: does the target already hold exactly this chunk?  (file -> sha256) */
static bool
chunk_matches(int fd, const char *path, uint64_t offset, const ManifestChunk *ch, uint8_t *piece)
{
	PgbError	ignored;
	Stage	   *hash = sha256_stage_new(NULL, &ignored);
	uint8_t		digest[SHA256_LEN];
	uint64_t	got = 0;
	bool		same;

	if (hash == NULL)
		return false;
	same = fd_pump(fd, path, offset, ch->size, piece, VERIFY_PIECE, hash, &got, &ignored) == 0 &&
		got == ch->size && stage_finish(hash, &ignored) == 0;
	sha256_stage_result(hash, digest, NULL);
	stage_free(hash);
	return same && memcmp(digest, ch->sha256, SHA256_LEN) == 0;
}

/*
 * Chunk ref into the file open as fd: the next frame of the run read br
 * (frame -> zstd^-1 -> sha256 -> pwrite), or, without br, through its chain.
 */
static int
write_chunk(const RestoreWrite *rw, WriteWorker *w, const FrameRef *ref, BundleRange *br, int fd,
			const char *path, PgbError *err)
{
	const ManifestFile *mf = &rw->m->files[ref->file];
	int			c = ref->chunk;
	Stage	   *out = fd_stage_new(fd, path, chunk_offset(rw->m, c), err);
	int			rc;

	if (out == NULL)
		return -1;
	rc = br ? frameref_read(br, ref, out, err) :
		chain_read_chunk(rw->repo, rw->cat, rw->m, mf, c, &w->chunk, out, err);
	stage_free(out);

	/*
	 * Start writing the chunk to disk now, so that the final syncfs finds
	 * little left to wait for (disk writes overlap decompression).
	 */
	if (rc == 0 && mf->chunks[c].size > 0)
		(void) sync_file_range(fd, (off_t) chunk_offset(rw->m, c), (off_t) mf->chunks[c].size,
							   SYNC_FILE_RANGE_WRITE);
	return rc;
}

/* Where file mf is written: its path, pg_control's under its pending name. */
static int
target_path(const RestoreWrite *rw, const ManifestFile *mf, char *path, size_t len, PgbError *err)
{
	return fio_path_join(path, len, rw->target,
						 strcmp(mf->path, RESTORE_CONTROL) == 0 ? RESTORE_CONTROL_PENDING : mf->path, err);
}

static void
count_written(WriteRun *run, uint64_t bytes)
{
	pthread_mutex_lock(&run->lock);
	progress_add(run->progress, bytes);
	pthread_mutex_unlock(&run->lock);
}

/* One chunk into its file (see write_chunk), or kept, with --delta, when it matches. */
static int
restore_chunk(WriteRun *run, int worker, const FrameRef *ref, BundleRange *br, PgbError *err)
{
	const RestoreWrite *rw = run->rw;
	const ManifestFile *mf = &rw->m->files[ref->file];
	WriteWorker *w = &run->workers[worker];
	int			c = ref->chunk;
	char		path[PGB_PATH_MAX];
	int			fd;
	int			rc = 0;

	if (target_path(rw, mf, path, sizeof(path), err) != 0)
		return -1;
	fd = open(path, (rw->delta ? O_RDWR : O_WRONLY) | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", path);
	if (rw->delta && w->piece == NULL && (w->piece = malloc(VERIFY_PIECE)) == NULL)
		rc = pgb_error(err, EXIT_INTERNAL, "out of memory");
	else if (!(rw->delta && chunk_matches(fd, path, chunk_offset(rw->m, c), &mf->chunks[c], w->piece)))
		rc = write_chunk(rw, w, ref, br, fd, path, err);
	else if (rw->kept_bytes)
	{
		pthread_mutex_lock(&run->lock);
		*rw->kept_bytes += mf->chunks[c].size;
		pthread_mutex_unlock(&run->lock);
	}
	if (close(fd) != 0 && rc == 0)
		rc = pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", path);
	if (rc == 0)
		count_written(run, mf->chunks[c].size);
	return rc;
}

static int
restore_task(void *shared, int worker, size_t task, PgbError *err)
{
	WriteRun   *run = shared;
	const FrameRun *t = &run->tasks[task];
	BundleRange *br;
	int			rc = 0;

	if (run->refs[t->first].sch == NULL)
		return restore_chunk(run, worker, &run->refs[t->first], NULL, err);
	if ((br = framerun_open(run->rw->repo, run->refs, t, err)) == NULL)
		return -1;
	for (int i = 0; i < t->count && rc == 0; i++)
		rc = restore_chunk(run, worker, &run->refs[t->first + (size_t) i], br, err);
	bundle_range_close(br);
	return rc;
}

/* Create (or, for --delta, keep) each file at its final size before the chunks land. */
static int
prepare_file(const RestoreWrite *rw, const ManifestFile *mf, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	struct stat st;
	int			fd;

	if (target_path(rw, mf, path, sizeof(path), err) != 0)
		return -1;
	if (rw->delta && lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && fio_remove_tree(path, err) != 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (rw->delta ? 0 : O_TRUNC), 0600);
	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not create \"%s\"", path);
	if (ftruncate(fd, (off_t) mf->size) != 0)
	{
		close(fd);
		return pgb_error_errno(err, EXIT_IO, errno, "could not size \"%s\"", path);
	}
	if (close(fd) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not close \"%s\"", path);
	return 0;
}

static int
finish_file(const RestoreWrite *rw, const ManifestFile *mf, PgbError *err)
{
	char		path[PGB_PATH_MAX];
	struct timespec times[2] = {{mf->mtime, 0}, {mf->mtime, 0}};

	if (target_path(rw, mf, path, sizeof(path), err) != 0)
		return -1;
	if (chmod(path, mf->mode & 07777) != 0 || utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not set the mode or time of \"%s\"", path);
	return 0;
}

/* The tasks: runs of adjacent stored frames, single chunks, pg_control's (the only one) last. */
static int
plan_tasks(const RestoreWrite *rw, int control, WriteRun *run, size_t *ntasks, PgbError *err)
{
	const Manifest *m = rw->m;
	size_t		n = 0,
				k = 0,
				t = 0;

	for (int i = 0; i < m->nfiles; i++)
		n += (size_t) m->files[i].nchunks;
	run->refs = calloc(n + 1, sizeof(FrameRef));
	run->tasks = calloc(n + 1, sizeof(FrameRun));
	run->workers = calloc((size_t) rw->nworkers, sizeof(WriteWorker));
	if (run->refs == NULL || run->tasks == NULL || run->workers == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < m->nfiles; i++)
		for (int c = 0; c < m->files[i].nchunks && i != control; c++)
		{
			run->refs[k] = (FrameRef) {m, i, c, k, NULL, NULL};
			/* with --delta each chunk is compared with the target first */
			if (!rw->delta && frameref_resolve(rw->cat, &run->refs[k], err) != 0)
				return -1;
			k++;
		}
	t = frameruns_plan(run->refs, k, run->tasks);
	/* pg_control last: until it exists, the directory cannot be started by mistake */
	run->refs[k] = (FrameRef) {m, control, 0, k, NULL, NULL};
	run->tasks[t] = (FrameRun) {k, 1};
	*ntasks = t;
	return 0;
}

int
restore_write_files(const RestoreWrite *rw, PgbError *err)
{
	const Manifest *m = rw->m;
	int			control = manifest_find_file(m, "global/pg_control");
	WriteRun	run = {.rw = rw};
	size_t		ntasks = 0;
	int			rc = -1;

	if (control < 0)
		return pgb_error(err, EXIT_CORRUPT, "backup %s has no global/pg_control", m->label);
	for (int i = 0; i < m->nfiles; i++)
		if (prepare_file(rw, &m->files[i], err) != 0)
			return -1;
	if (plan_tasks(rw, control, &run, &ntasks, err) != 0)
		goto done;
	run.progress = progress_new("restore", m->size, rw->progress);
	pthread_mutex_init(&run.lock, NULL);
	if (workers_run(rw->nworkers, ntasks, restore_task, &run, err) == 0 &&
		restore_task(&run, 0, ntasks, err) == 0)
		rc = 0;
	pthread_mutex_destroy(&run.lock);
	progress_done(run.progress);
	for (int i = 0; i < m->nfiles && rc == 0; i++)
		if (finish_file(rw, &m->files[i], err) != 0)
			rc = -1;
done:
	for (int i = 0; run.workers && i < rw->nworkers; i++)
	{
		free(run.workers[i].chunk);
		free(run.workers[i].piece);
	}
	free(run.workers);
	free(run.refs);
	free(run.tasks);
	return rc;
}

/*
 * PostgreSQL recreates pg_tblspc links from tablespace_map when it starts
 * from a backup, so the file must name where the tablespaces were restored,
 * not where they were: otherwise a copy would write into the source
 * cluster's tablespaces.
 */
int
restore_write_tablespace_map(const RestoreWrite *rw, PgbError *err)
{
	const Manifest *m = rw->m;
	char		path[PGB_PATH_MAX];
	char	   *text;
	size_t		len = 0;
	size_t		cap = 1;
	int			rc;

	if (m->nlinks == 0)
		return 0;
	for (int i = 0; i < m->nlinks; i++)
	{
		if (strpbrk(rw->ts_dest[i], "\\\n\r") != NULL)
			return pgb_error(err, EXIT_USAGE, "tablespace location \"%s\" contains a backslash or line break",
							 rw->ts_dest[i]);
		cap += strlen(m->links[i].path) + strlen(rw->ts_dest[i]) + 2;
	}
	text = malloc(cap);
	if (text == NULL)
		return pgb_error(err, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < m->nlinks; i++)
		len += (size_t) snprintf(text + len, cap - len, "%s %s\n", m->links[i].path + strlen("pg_tblspc/"),
								 rw->ts_dest[i]);
	rc = fio_path_join(path, sizeof(path), rw->target, "tablespace_map", err) == 0 ?
		fio_write_atomic(path, text, len, 0600, err) : -1;
	free(text);
	return rc;
}

static int
sync_fs(const char *dir, PgbError *err)
{
	int			fd = open(dir, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not open \"%s\"", dir);
	if (syncfs(fd) != 0)
	{
		close(fd);
		return pgb_error_errno(err, EXIT_IO, errno, "could not sync the file system of \"%s\"", dir);
	}
	close(fd);
	return 0;
}

int
restore_sync(const RestoreWrite *rw, PgbError *err)
{
	if (sync_fs(rw->target, err) != 0)
		return -1;
	/* tablespaces may live on other file systems */
	for (int i = 0; i < rw->m->nlinks; i++)
		if (sync_fs(rw->ts_dest[i], err) != 0)
			return -1;
	return 0;
}

int
restore_release_control(const RestoreWrite *rw, PgbError *err)
{
	char		from[PGB_PATH_MAX],
				to[PGB_PATH_MAX];

	if (fio_path_join(from, sizeof(from), rw->target, RESTORE_CONTROL_PENDING, err) != 0 ||
		fio_path_join(to, sizeof(to), rw->target, RESTORE_CONTROL, err) != 0)
		return -1;
	if (rename(from, to) != 0)
		return pgb_error_errno(err, EXIT_IO, errno, "could not rename \"%s\" to \"%s\"", from, to);
	return fio_fsync_parent(to, err);
}
